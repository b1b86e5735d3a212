//===- LowerLzPrint.cpp - lz.print to runtime calls -----------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "RuntimeCalls.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

#include "Lz/LzOps.h"

#include "mlir/IR/SymbolTable.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_LOWERLZPRINT
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

namespace {

/// `f64`, `i1`, ...: the suffix of a print function for `type`.
std::string getTypeSuffix(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

struct LowerLzPrintPass
    : public conversion::impl::LowerLzPrintBase<LowerLzPrintPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    OpBuilder builder(&getContext());
    // The declaration of a runtime function, made on first use.
    auto getFunction = [&](StringRef name, Type argType,
                           bool cInterface) -> func::FuncOp {
      if (auto func = symbols.lookup<func::FuncOp>(name))
        return func;
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToEnd(module.getBody());
      auto func = func::FuncOp::create(builder, module.getLoc(), name,
                                       builder.getFunctionType(argType, {}));
      func.setPrivate();
      if (cInterface)
        func->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
      symbols.insert(func);
      return func;
    };
    bool ok = true;
    module.walk([&](lz::PrintOp op) {
      Value input = op.getInput();
      builder.setInsertionPoint(op);
      if (auto tensor = dyn_cast<RankedTensorType>(input.getType())) {
        // The printed copy is a buffer of its own: a cast to an unranked
        // tensor must bufferize in place, which the input may not allow.
        Value copy = bufferization::AllocTensorOp::create(
            builder, op.getLoc(), tensor, ValueRange(), /*copy=*/input);
        auto unranked = UnrankedTensorType::get(tensor.getElementType());
        Value cast =
            tensor::CastOp::create(builder, op.getLoc(), unranked, copy);
        func::FuncOp callee = getFunction(
            "leibniz_print_tensor_" + getTypeSuffix(tensor.getElementType()),
            unranked, true);
        func::CallOp::create(builder, op.getLoc(), callee, cast);
      } else if (input.getType().isIntOrFloat()) {
        func::FuncOp callee =
            getFunction("leibniz_print_" + getTypeSuffix(input.getType()),
                        input.getType(), false);
        func::CallOp::create(builder, op.getLoc(), callee, input);
      } else {
        op.emitError("not supported yet: print of ")
            << input.getType() << " in compiled code";
        ok = false;
        return;
      }
      op.getResult().replaceAllUsesWith(input);
      op.erase();
    });
    // Tolerances: a call of the runtime when the value is above its limit.
    conversion::detail::CheckBuilder checks(module);
    bool strict = module->hasAttr("lz.strict_tolerances");
    module.walk([&](lz::CheckToleranceOp op) {
      builder.setInsertionPoint(op);
      checks.checkTolerance(builder, op.getLoc(), op.getValue(), op.getLimit(),
                            op.getWhat(), strict);
      op.erase();
    });
    module.walk([&](lz::TraceLossOp op) {
      builder.setInsertionPoint(op);
      checks.traceLoss(builder, op.getLoc(), op.getStep(), op.getLoss(),
                       op.getWhat());
      op.erase();
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
