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

/// Whether `index` is `t` or `n - 1 - t` at iteration `t` of `loop`, which
/// runs from 0 to `n` by 1: either way, the iterations visit each of `n`
/// rows once.
static bool isRowOfIteration(OpFoldResult index, scf::ForOp loop) {
  Value step = loop.getInductionVar();
  if (isEqualConstantIntOrValue(index, step))
    return true;
  auto value = dyn_cast<Value>(index);
  auto reversed = value ? value.getDefiningOp<arith::SubIOp>() : nullptr;
  if (!reversed || reversed.getRhs() != step)
    return false;
  Value last = reversed.getLhs(), upper = loop.getUpperBound();
  std::optional<int64_t> constantLast = getConstantIntValue(last);
  std::optional<int64_t> constantUpper = getConstantIntValue(upper);
  if (constantLast && constantUpper)
    return *constantLast == *constantUpper - 1;
  if (auto sub = last.getDefiningOp<arith::SubIOp>())
    return sub.getLhs() == upper && isConstantIntValue(sub.getRhs(), 1);
  if (auto add = last.getDefiningOp<arith::AddIOp>())
    return add.getLhs() == upper && isConstantIntValue(add.getRhs(), -1);
  return false;
}

/// A loop-carried tensor whose initial value, a `linalg.fill` of a new
/// tensor, the loop overwrites entirely: iteration `t` of `0 .. n` inserts
/// row `t` or row `n - 1 - t` of an `n`-row tensor (an element of a
/// vector), and nothing else reads the carried value.
/// The loop starts from the new tensor itself, unfilled. Reverse mode's
/// stack of a loop's states has this form; filling it would write every
/// element once more.
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
  /// Whether every iteration of `loop` writes a row of `carried`, whose
  /// sizes are `sizes`, and only that row, the rows of the iterations being
  /// all of them (isRowOfIteration): a `tensor.insert_slice` of a row, or
  /// a `tensor.insert` of an element of a vector.
  static bool isOverwritten(scf::ForOp loop, BlockArgument carried,
                            ArrayRef<OpFoldResult> sizes) {
    if (sizes.empty() ||
        !isEqualConstantIntOrValue(loop.getUpperBound(), sizes[0]) ||
        !carried.hasOneUse())
      return false;
    Operation *write = *carried.user_begin();
    if (write->getBlock() != loop.getBody() || !write->hasOneUse() ||
        *write->user_begin() != loop.getBody()->getTerminator() ||
        write->use_begin()->getOperandNumber() != carried.getArgNumber() - 1)
      return false;
    if (auto element = dyn_cast<tensor::InsertOp>(write))
      return element.getDest() == carried && sizes.size() == 1 &&
             isRowOfIteration(element.getIndices()[0], loop);
    auto insert = dyn_cast<tensor::InsertSliceOp>(write);
    if (!insert || insert.getDest() != carried)
      return false;
    SmallVector<OpFoldResult> offsets = insert.getMixedOffsets();
    SmallVector<OpFoldResult> rowSizes = insert.getMixedSizes();
    if (!isRowOfIteration(offsets[0], loop) ||
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
