//===- InsertRuntimeChecks.cpp - Run-time checks of compiled code ---------===//
//
// Part of Leibniz.
//
// Guards reads and integer divisions with checks that call the runtime
// (leibniz/Runtime/Runtime.h) when they fail. The messages are private
// constant globals holding "file:line:col" or the whole message.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "Lz/LzOps.h"
#include "RuntimeCalls.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_CHECKRANGES
#define GEN_PASS_DEF_INSERTRUNTIMECHECKS
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;
using leibniz::conversion::detail::CheckBuilder;

namespace {

/// The size of dimension `dim` of `tensor`.
Value getDimSize(OpBuilder &b, Location loc, Value tensor, int64_t dim) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(dim))
    return arith::ConstantIndexOp::create(b, loc, type.getDimSize(dim));
  return tensor::DimOp::create(b, loc, tensor, dim);
}

/// The exclusive upper bound of `index` when it is known to lie in
/// [0, bound): the induction variable of an `scf.for` from a non-negative
/// constant, an index of a `tensor.generate`, or a `linalg.index` of a
/// `linalg.generic` whose first output is indexed by its loops in order
/// (a traversal with several results).
Value getIndexBound(OpBuilder &b, Value index) {
  if (auto loopIndex = index.getDefiningOp<linalg::IndexOp>()) {
    auto generic = dyn_cast<linalg::GenericOp>(loopIndex->getParentOp());
    if (!generic || generic.getNumDpsInits() == 0 ||
        !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
             .isIdentity())
      return {};
    Value output = generic.getDpsInitOperand(0)->get();
    auto type = cast<RankedTensorType>(output.getType());
    unsigned dim = loopIndex.getDim();
    if (!type.isDynamicDim(dim))
      return arith::ConstantIndexOp::create(b, generic.getLoc(),
                                            type.getDimSize(dim));
    if (auto alloc = output.getDefiningOp<bufferization::AllocTensorOp>())
      return alloc.getDynamicSizes()[type.getDynamicDimIndex(dim)];
    return {};
  }
  auto arg = dyn_cast<BlockArgument>(index);
  if (!arg)
    return {};
  Operation *owner = arg.getOwner()->getParentOp();
  if (auto loop = dyn_cast<scf::ForOp>(owner)) {
    std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> step = getConstantIntValue(loop.getStep());
    if (index != loop.getInductionVar() || !lower || *lower < 0 || !step ||
        *step <= 0)
      return {};
    return loop.getUpperBound();
  }
  if (auto generate = dyn_cast<tensor::GenerateOp>(owner)) {
    RankedTensorType type = generate.getType();
    unsigned dim = arg.getArgNumber();
    if (!type.isDynamicDim(dim))
      return arith::ConstantIndexOp::create(b, generate.getLoc(),
                                            type.getDimSize(dim));
    return generate.getDynamicExtents()[type.getDynamicDimIndex(dim)];
  }
  return {};
}

/// Whether `index` is known to lie in [0, size of `dim` of `tensor`).
bool isKnownInBounds(OpBuilder &b, Value index, Value tensor, int64_t dim) {
  auto type = cast<RankedTensorType>(tensor.getType());
  std::optional<int64_t> constant = getConstantIntValue(index);
  if (constant && !type.isDynamicDim(dim))
    return *constant >= 0 && *constant < type.getDimSize(dim);
  Value bound = getIndexBound(b, index);
  if (!bound)
    return false;
  if (!type.isDynamicDim(dim)) {
    std::optional<int64_t> constantBound = getConstantIntValue(bound);
    return constantBound && *constantBound <= type.getDimSize(dim);
  }
  // The same dimension of the same tensor, as the range inference makes it.
  auto dimOp = bound.getDefiningOp<tensor::DimOp>();
  return dimOp && dimOp.getSource() == tensor &&
         dimOp.getConstantIndex() == dim;
}

void checkExtract(CheckBuilder &checks, tensor::ExtractOp op) {
  OpBuilder b(op);
  for (auto [dim, index] : llvm::enumerate(op.getIndices()))
    if (!isKnownInBounds(b, index, op.getTensor(), dim))
      checks.checkIndex(b, op.getLoc(), index,
                        getDimSize(b, op.getLoc(), op.getTensor(), dim), dim);
}

/// A slice of unit strides: each dynamic offset lies in
/// [0, size(dim) - sliceSize], checked as offset < size(dim) - sliceSize + 1.
void checkExtractSlice(CheckBuilder &checks, tensor::ExtractSliceOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  for (auto [dim, offset] : llvm::enumerate(op.getMixedOffsets())) {
    auto value = dyn_cast<Value>(offset);
    if (!value)
      continue;
    Value sliceSize =
        getValueOrCreateConstantIndexOp(b, loc, op.getMixedSizes()[dim]);
    Value limit = arith::SubIOp::create(
        b, loc, getDimSize(b, loc, op.getSource(), dim), sliceSize);
    limit = arith::AddIOp::create(b, loc, limit,
                                  arith::ConstantIndexOp::create(b, loc, 1));
    checks.checkIndex(b, loc, value, limit, dim);
  }
}

/// The dynamic sizes of a new tensor are not negative, and the tensor
/// fits in the machine's memory (checked where its size is dynamic or
/// above a gigabyte), so that an allocation never fails.
void checkSizes(CheckBuilder &checks, Operation *op, ValueRange sizes) {
  OpBuilder b(op);
  for (Value size : sizes) {
    std::optional<int64_t> constant = getConstantIntValue(size);
    if (!constant || *constant < 0)
      checks.checkSize(b, op->getLoc(), size);
  }
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type)
    return;
  double elements = 1;
  for (int64_t extent : type.getShape())
    if (extent != ShapedType::kDynamic)
      elements *= extent;
  if (!sizes.empty() || elements * 8 > double(1 << 30))
    checks.checkAllocation(b, op->getLoc(), type, sizes);
}

/// Integer division and remainder: the divisor is not zero, and a signed
/// quotient does not overflow (min / -1).
void checkDivision(CheckBuilder &checks, Operation *op, bool isSigned,
                   bool isRemainder) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  std::optional<int64_t> divisor = getConstantIntValue(rhs);
  if (divisor && *divisor != 0 && *divisor != -1)
    return;
  OpBuilder b(op);
  Location loc = op->getLoc();
  Type type = rhs.getType();
  auto constant = [&](int64_t value) -> Value {
    if (type.isIndex())
      return arith::ConstantIndexOp::create(b, loc, value);
    return arith::ConstantIntOp::create(b, loc, type, value);
  };
  Value nonZero =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, rhs, constant(0));
  checks.check(b, loc, nonZero,
               isRemainder ? "integer remainder by zero"
                           : "integer division by zero");
  if (!isSigned || isRemainder || type.isIndex())
    return;
  unsigned width = type.getIntOrFloatBitWidth();
  Value min = arith::ConstantIntOp::create(
      b, loc, type, APInt::getSignedMinValue(width).getSExtValue());
  Value isMin =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lhs, min);
  Value isMinusOne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                           rhs, constant(-1));
  Value overflows = arith::AndIOp::create(b, loc, isMin, isMinusOne);
  Value ok = arith::XOrIOp::create(b, loc, overflows,
                                   arith::ConstantIntOp::create(b, loc, 1, 1));
  checks.check(b, loc, ok, "signed integer division overflows");
}

/// A float converted to an integer: its truncated value fits in the
/// integer (NaN does not), as the interpreter requires.
void checkFloatToInt(CheckBuilder &checks, Operation *op, bool isSigned) {
  auto from = dyn_cast<FloatType>(op->getOperand(0).getType());
  auto to = dyn_cast<IntegerType>(op->getResult(0).getType());
  if (!from || !to)
    return;
  OpBuilder b(op);
  Location loc = op->getLoc();
  unsigned width = to.getWidth();
  // Powers of two, exact in every float type wide enough to hold them.
  auto power = [&](int exponent, bool negative) -> Value {
    APFloat value = APFloat::getOne(from.getFloatSemantics(), negative);
    value = scalbn(value, exponent, APFloat::rmNearestTiesToEven);
    return arith::ConstantOp::create(b, loc, FloatAttr::get(from, value));
  };
  Value truncated = math::TruncOp::create(b, loc, op->getOperand(0));
  Value low =
      isSigned ? power(width - 1, /*negative=*/true)
               : arith::ConstantOp::create(b, loc, FloatAttr::get(from, 0.0));
  Value high = power(isSigned ? width - 1 : width, /*negative=*/false);
  Value ok = arith::AndIOp::create(
      b, loc,
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, truncated, low),
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, truncated,
                            high));
  checks.checkConversion(b, loc, ok, op->getOperand(0), width, isSigned);
}

struct InsertRuntimeChecksPass
    : public conversion::impl::InsertRuntimeChecksBase<
          InsertRuntimeChecksPass> {
  void runOnOperation() override {
    CheckBuilder checks(getOperation());
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<tensor::ExtractOp, tensor::ExtractSliceOp, tensor::GenerateOp,
              tensor::EmptyOp, bufferization::AllocTensorOp, arith::DivSIOp,
              arith::DivUIOp, arith::RemSIOp, arith::RemUIOp,
              arith::FloorDivSIOp, arith::CeilDivSIOp, arith::CeilDivUIOp,
              arith::FPToSIOp, arith::FPToUIOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto extract = dyn_cast<tensor::ExtractOp>(op))
        checkExtract(checks, extract);
      else if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
        checkExtractSlice(checks, slice);
      else if (auto generate = dyn_cast<tensor::GenerateOp>(op))
        checkSizes(checks, op, generate.getDynamicExtents());
      else if (auto empty = dyn_cast<tensor::EmptyOp>(op))
        checkSizes(checks, op, empty.getDynamicSizes());
      else if (auto alloc = dyn_cast<bufferization::AllocTensorOp>(op))
        checkSizes(checks, op, alloc.getDynamicSizes());
      else if (isa<arith::FPToSIOp, arith::FPToUIOp>(op))
        checkFloatToInt(checks, op, isa<arith::FPToSIOp>(op));
      else
        checkDivision(checks, op,
                      isa<arith::DivSIOp, arith::RemSIOp, arith::FloorDivSIOp,
                          arith::CeilDivSIOp>(op),
                      isa<arith::RemSIOp, arith::RemUIOp>(op));
    }
  }
};

} // namespace

namespace {

/// Whether `range` cannot be negative: a constant that is not, a tensor's
/// size, a scope's index, or the larger of a value and such a constant.
bool isKnownNonNegative(Value range) {
  if (std::optional<int64_t> constant = getConstantIntValue(range))
    return *constant >= 0;
  if (isa<BlockArgument>(range))
    return isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
               lz::AccumulateOp>(range.getParentRegion()->getParentOp());
  Operation *def = range.getDefiningOp();
  if (isa<tensor::DimOp>(def))
    return true;
  if (auto max = dyn_cast<arith::MaxSIOp>(def))
    return isKnownNonNegative(max.getLhs()) || isKnownNonNegative(max.getRhs());
  return false;
}

struct CheckRangesPass
    : public leibniz::conversion::impl::CheckRangesBase<CheckRangesPass> {
  void runOnOperation() override {
    CheckBuilder checks(getOperation());
    SmallVector<Operation *> scopes;
    getOperation().walk([&](Operation *op) {
      if (isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
              lz::AccumulateOp>(op))
        scopes.push_back(op);
    });
    for (Operation *scope : scopes) {
      OperandRange ranges =
          TypeSwitch<Operation *, OperandRange>(scope)
              .Case<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
                    lz::AccumulateOp>([](auto op) { return op.getRanges(); });
      OpBuilder b(scope);
      for (Value range : ranges)
        if (!isKnownNonNegative(range))
          checks.checkSize(b, scope->getLoc(), range, "range");
    }
  }
};

} // namespace