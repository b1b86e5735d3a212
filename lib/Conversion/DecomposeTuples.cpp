//===- DecomposeTuples.cpp - Tuples into their elements
//--------------------===//
//
// Part of Leibniz.
//
// A 1:N dialect conversion: the type converter maps a tuple type to the
// types of its leaves, and the patterns of `func`, `scf` and the two tuple
// ops of `lz` follow it.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "Lz/LzOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Transforms/DialectConversion.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_DECOMPOSETUPLES
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

void leibniz::conversion::flattenTupleType(Type type,
                                           SmallVectorImpl<Type> &leaves) {
  lz::getTupleLeafTypes(type, leaves);
}

namespace {

/// The number of leaves of a type.
unsigned countLeaves(Type type) {
  SmallVector<Type> leaves;
  lz::getTupleLeafTypes(type, leaves);
  return leaves.size();
}

class TupleTypeConverter : public TypeConverter {
public:
  TupleTypeConverter() {
    addConversion([](Type type) { return type; });
    addConversion([](TupleType type, SmallVectorImpl<Type> &leaves) {
      conversion::flattenTupleType(type, leaves);
      return success();
    });
    addSourceMaterialization(
        [](OpBuilder &b, Type type, ValueRange inputs, Location loc) -> Value {
          if (!isa<TupleType>(type))
            return Value();
          return lz::buildTupleFromLeaves(b, loc, type, inputs);
        });
    addTargetMaterialization([](OpBuilder &b, TypeRange types,
                                ValueRange inputs, Location loc,
                                Type) -> SmallVector<Value> {
      if (inputs.size() != 1 || !isa<TupleType>(inputs[0].getType()))
        return {};
      SmallVector<Value> leaves;
      lz::buildTupleLeaves(b, loc, inputs[0], leaves);
      return leaves;
    });
  }
};

/// `lz.tuple`: its elements' leaves.
struct TupleOpLowering : public OpConversionPattern<lz::TupleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(lz::TupleOp op, OneToNOpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> leaves;
    for (ValueRange element : adaptor.getElements())
      llvm::append_range(leaves, element);
    rewriter.replaceOpWithMultiple(op, {leaves});
    return success();
  }
};

/// `lz.proj`: the leaves of the projected element.
struct ProjOpLowering : public OpConversionPattern<lz::ProjOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(lz::ProjOp op, OneToNOpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<TupleType>(op.getTuple().getType());
    unsigned begin = 0;
    for (unsigned i = 0; i < op.getIndex(); ++i)
      begin += countLeaves(type.getType(i));
    unsigned count = countLeaves(type.getType(op.getIndex()));
    ValueRange leaves = adaptor.getTuple();
    rewriter.replaceOpWithMultiple(op,
                                   {ValueRange(leaves.slice(begin, count))});
    return success();
  }
};

struct DecomposeTuplesPass
    : public conversion::impl::DecomposeTuplesBase<DecomposeTuplesPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    TupleTypeConverter converter;
    RewritePatternSet patterns(context);
    ConversionTarget target(*context);
    target.addIllegalOp<lz::TupleOp, lz::ProjOp>();
    target.markUnknownOpDynamicallyLegal([&](Operation *op) {
      if (auto func = dyn_cast<func::FuncOp>(op))
        return converter.isSignatureLegal(func.getFunctionType());
      return converter.isLegal(op);
    });
    patterns.add<TupleOpLowering, ProjOpLowering>(converter, context);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    scf::populateSCFStructuralTypeConversions(converter, patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
