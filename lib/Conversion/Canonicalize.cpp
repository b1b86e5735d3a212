//===- Canonicalize.cpp - Canonicalization without duplication ------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_CANONICALIZE
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

/// Whether an element of `generate` may cost more than a few instructions:
/// its body has an operation with regions (a loop, a conditional) or a math
/// function.
static bool isCostlyGenerator(tensor::GenerateOp generate) {
  WalkResult result = generate.getBody().walk([](Operation *op) {
    if (op->getNumRegions() > 0 || isa<math::MathDialect>(op->getDialect()))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Whether `op` may run more than once for each time `ancestor`'s block
/// runs: an operation other than a conditional encloses it below
/// `ancestor`'s block.
static bool mayRepeatWithin(Operation *op, Operation *ancestor) {
  Block *block = ancestor->getBlock();
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (op->getBlock() == block)
      return false;
    if (!isa<scf::IfOp>(parent))
      return true;
    op = parent;
  }
  return true;
}

namespace {

/// The upstream pattern that folds every read of a `tensor.generate`.
constexpr StringLiteral kDuplicatingPattern =
    "(anonymous namespace)::ExtractFromTensorGenerate";

/// `tensor.extract` of a `tensor.generate` that has no other use: the
/// generator's body at the read's indices. Not where the read repeats (in
/// a loop or another generator's body) and the element is costly: the one
/// read would compute it once per repetition.
struct ExtractFromSingleUseGenerate
    : public OpRewritePattern<tensor::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractOp extract,
                                PatternRewriter &rewriter) const override {
    auto generate = extract.getTensor().getDefiningOp<tensor::GenerateOp>();
    if (!generate || !generate->hasOneUse() || !isMemoryEffectFree(generate))
      return failure();
    if (isCostlyGenerator(generate) && mayRepeatWithin(extract, generate))
      return failure();
    Block &body = generate.getBody().front();
    IRMapping mapping;
    mapping.map(body.getArguments(), extract.getIndices());
    for (Operation &op : body.without_terminator())
      rewriter.clone(op, mapping);
    Value yielded = body.getTerminator()->getOperand(0);
    rewriter.replaceOp(extract, mapping.lookupOrDefault(yielded));
    return success();
  }
};

/// Whether `index` is `t` or `n - 1 - t` for `t` in `0 .. n`: either
/// way, the values of `t` visit each of `n` rows once.
static bool isRowOf(OpFoldResult index, Value t, OpFoldResult n) {
  if (isEqualConstantIntOrValue(index, t))
    return true;
  auto value = dyn_cast<Value>(index);
  auto reversed = value ? value.getDefiningOp<arith::SubIOp>() : nullptr;
  if (!reversed || reversed.getRhs() != t)
    return false;
  Value last = reversed.getLhs();
  std::optional<int64_t> constantLast = getConstantIntValue(last);
  std::optional<int64_t> constantN = getConstantIntValue(n);
  if (constantLast && constantN)
    return *constantLast == *constantN - 1;
  auto nValue = dyn_cast<Value>(n);
  if (!nValue)
    return false;
  if (auto sub = last.getDefiningOp<arith::SubIOp>())
    return sub.getLhs() == nValue && isConstantIntValue(sub.getRhs(), 1);
  if (auto add = last.getDefiningOp<arith::AddIOp>())
    return add.getLhs() == nValue && isConstantIntValue(add.getRhs(), -1);
  return false;
}

/// `value` through the `tensor.cast`s that compute it, each used once.
static Value getCastSource(Value value) {
  while (auto cast = value.getDefiningOp<tensor::CastOp>()) {
    if (!value.hasOneUse())
      break;
    value = cast.getSource();
  }
  return value;
}

/// The period `k` of `condition` if it is `t % k == 0` (either way round)
/// for a constant `k > 0`.
static std::optional<int64_t> getPeriodOf(Value condition, Value t) {
  auto cmp = condition.getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq)
    return std::nullopt;
  Value lhs = cmp.getLhs(), rhs = cmp.getRhs();
  if (isConstantIntValue(lhs, 0))
    std::swap(lhs, rhs);
  auto rem = lhs.getDefiningOp<arith::RemSIOp>();
  std::optional<int64_t> k =
      rem ? getConstantIntValue(rem.getRhs()) : std::nullopt;
  if (!rem || rem.getLhs() != t || !isConstantIntValue(rhs, 0) || !k || *k <= 0)
    return std::nullopt;
  return k;
}

/// Whether `n` is `ceil(upper / k)`: the multiples of `k` in `0 .. upper`.
static bool isMultiplesCount(OpFoldResult n, Value upper, int64_t k) {
  std::optional<int64_t> constantN = getConstantIntValue(n);
  std::optional<int64_t> constantUpper = getConstantIntValue(upper);
  if (constantN && constantUpper)
    return *constantUpper >= 0 &&
           *constantN == llvm::divideCeilSigned(*constantUpper, k);
  auto value = dyn_cast<Value>(n);
  auto ceilDiv = value ? value.getDefiningOp<arith::CeilDivSIOp>() : nullptr;
  return ceilDiv && ceilDiv.getLhs() == upper &&
         isConstantIntValue(ceilDiv.getRhs(), k);
}

/// A loop-carried tensor whose initial value, a `linalg.fill` of a new
/// tensor, the loop overwrites entirely: iteration `t` of `0 .. n` inserts
/// row `t` or row `n - 1 - t` of an `n`-row tensor (an element of a
/// vector), or, where `t % k == 0`, row `t / k` or `m - 1 - t / k` of an
/// `m = ceil(n / k)`-row one, and nothing else reads the carried value.
/// The loop starts from the new tensor itself, unfilled. Reverse mode's
/// stack of a loop's states has this form, and its stack of every k-th
/// state with checkpoints; filling them would write every element once
/// more.
struct DropOverwrittenLoopInit : public OpRewritePattern<scf::ForOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(scf::ForOp loop,
                                PatternRewriter &rewriter) const override {
    if (!isConstantIntValue(loop.getLowerBound(), 0) ||
        !isConstantIntValue(loop.getStep(), 1))
      return failure();
    bool changed = false;
    for (OpOperand &init : loop.getInitArgsMutable()) {
      auto fill = init.get().getDefiningOp<linalg::FillOp>();
      if (!fill || fill->getNumResults() != 1)
        continue;
      auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
      if (!empty || !isOverwritten(loop, loop.getTiedLoopRegionIterArg(&init),
                                   empty.getMixedSizes()))
        continue;
      // A tensor of its own: the fill may have other uses (cse merges
      // equal ones later).
      rewriter.setInsertionPoint(loop);
      Value fresh = tensor::EmptyOp::create(
          rewriter, empty.getLoc(), empty.getType(), empty.getDynamicSizes());
      rewriter.modifyOpInPlace(loop, [&] { init.set(fresh); });
      changed = true;
    }
    return success(changed);
  }

private:
  /// Whether `loop` writes every row of `carried`, whose sizes are `sizes`,
  /// and only those: each iteration writes one (isWriteOfRow), or each
  /// `k`-th, under `if t % k == 0`, with the carried value unchanged
  /// otherwise.
  static bool isOverwritten(scf::ForOp loop, BlockArgument carried,
                            ArrayRef<OpFoldResult> sizes) {
    Value upper = loop.getUpperBound();
    Value t = loop.getInductionVar();
    if (sizes.empty())
      return false;
    Value yielded = getCastSource(loop.getBody()->getTerminator()->getOperand(
        carried.getArgNumber() - 1));
    Operation *write = yielded.getDefiningOp();
    if (!write || write->getBlock() != loop.getBody() || !yielded.hasOneUse())
      return false;
    if (carried.hasOneUse() && *carried.user_begin() == write)
      return isEqualConstantIntOrValue(upper, sizes[0]) &&
             isWriteOfRow(write, carried, t, sizes);
    // The conditional push of every k-th step (canonicalization casts the
    // branches' values where it makes the stack's sizes static).
    auto ifOp = dyn_cast<scf::IfOp>(write);
    if (!ifOp || ifOp.getNumResults() != 1 || !ifOp.elseBlock())
      return false;
    std::optional<int64_t> k = getPeriodOf(ifOp.getCondition(), t);
    Value pushed = getCastSource(ifOp.thenYield().getOperand(0));
    Operation *push = pushed.getDefiningOp();
    Value kept = ifOp.elseYield().getOperand(0);
    if (!k || !isMultiplesCount(sizes[0], upper, *k) || !push ||
        push->getBlock() != ifOp.thenBlock() || !pushed.hasOneUse() ||
        getCastSource(kept) != carried)
      return false;
    // The carried value: the push's destination (not its source) and the
    // else branch's (or the first of the casts that it yields).
    Operation *keep = ifOp.elseYield();
    for (Value value = kept; value != carried;) {
      keep = value.getDefiningOp();
      value = keep->getOperand(0);
    }
    auto isPushDest = [&](OpOperand &use) {
      if (auto element = dyn_cast<tensor::InsertOp>(push))
        return &use == &element.getDestMutable();
      if (auto insert = dyn_cast<tensor::InsertSliceOp>(push))
        return &use == &insert.getDestMutable();
      return false;
    };
    for (OpOperand &use : carried.getUses())
      if (!isPushDest(use) && use.getOwner() != keep)
        return false;
    // The row's index is `t / k`, or `m - 1 - t / k`: find the quotient.
    std::optional<OpFoldResult> row = getRowIndex(push);
    auto quotient = row ? dyn_cast<Value>(*row) : Value();
    if (quotient)
      if (auto sub = quotient.getDefiningOp<arith::SubIOp>())
        quotient = sub.getRhs();
    auto div = quotient ? quotient.getDefiningOp<arith::DivSIOp>() : nullptr;
    if (!div || div.getLhs() != t || !isConstantIntValue(div.getRhs(), *k))
      return false;
    return isWriteOfRow(push, carried, div, sizes);
  }

  /// The index of the row that `write` writes, a `tensor.insert` or
  /// `tensor.insert_slice`.
  static std::optional<OpFoldResult> getRowIndex(Operation *write) {
    if (auto element = dyn_cast<tensor::InsertOp>(write))
      return OpFoldResult(element.getIndices()[0]);
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(write))
      return insert.getMixedOffsets()[0];
    return std::nullopt;
  }

  /// Whether `write` writes row `row` (isRowOf) of `carried`, whose sizes
  /// are `sizes`, and only that row: a `tensor.insert_slice` of a row, or
  /// a `tensor.insert` of an element of a vector.
  static bool isWriteOfRow(Operation *write, Value carried, Value row,
                           ArrayRef<OpFoldResult> sizes) {
    if (auto element = dyn_cast<tensor::InsertOp>(write))
      return element.getDest() == carried && sizes.size() == 1 &&
             isRowOf(element.getIndices()[0], row, sizes[0]);
    auto insert = dyn_cast<tensor::InsertSliceOp>(write);
    if (!insert || insert.getDest() != carried)
      return false;
    SmallVector<OpFoldResult> offsets = insert.getMixedOffsets();
    SmallVector<OpFoldResult> rowSizes = insert.getMixedSizes();
    if (!isRowOf(offsets[0], row, sizes[0]) ||
        !isConstantIntValue(rowSizes[0], 1) ||
        !llvm::all_of(insert.getMixedStrides(),
                      [](OpFoldResult s) { return isConstantIntValue(s, 1); }))
      return false;
    for (size_t d = 1; d < sizes.size(); ++d)
      if (!isConstantIntValue(offsets[d], 0) ||
          !isEqualConstantIntOrValue(rowSizes[d], sizes[d]))
        return false;
    return true;
  }
};

struct CanonicalizePass
    : public conversion::impl::CanonicalizeBase<CanonicalizePass> {
  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet owning(context);
    for (Dialect *dialect : context->getLoadedDialects())
      dialect->getCanonicalizationPatterns(owning);
    for (RegisteredOperationName op : context->getRegisteredOperations())
      op.getCanonicalizationPatterns(owning, context);
    owning.add<DropOverwrittenLoopInit, ExtractFromSingleUseGenerate>(context);
    patterns =
        FrozenRewritePatternSet(std::move(owning), {kDuplicatingPattern.str()});
    return success();
  }

  void runOnOperation() override {
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    (void)applyPatternsGreedily(getOperation(), patterns, config);
  }

  FrozenRewritePatternSet patterns;
};

} // namespace
