//===- LzCanonicalize.cpp - lz canonicalization patterns ------------------===//
//
// Part of Leibniz.
//
// Only the obvious, always-profitable simplifications live here: scopes over
// empty or unit ranges and unused scope results. The optimizations that need
// a schedule (fusion, one-hot collapse, let-floating, ...) are named rewrite
// rules driven by strategies, not canonicalizations.
//
//===----------------------------------------------------------------------===//

#include "Lz/LzOps.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace leibniz::lz;

namespace {

/// True if some range of the scope is the constant zero.
static bool hasEmptyRange(ValueRange ranges) {
  return llvm::any_of(ranges, [](Value range) {
    std::optional<int64_t> size = getConstantIntValue(range);
    return size && *size == 0;
  });
}

/// A reduction over an empty iteration space is its identity.
template <typename ReductionOp>
struct FoldEmptyReduction : OpRewritePattern<ReductionOp> {
  using OpRewritePattern<ReductionOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ReductionOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasEmptyRange(op.getRanges()))
      return failure();
    TypedAttr identity = op.getIdentityAttr();
    if (!identity)
      return rewriter.notifyMatchFailure(op, "dynamic tensor result");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, identity);
    return success();
  }
};

/// Drops the index variables whose range is the constant one, substituting
/// zero; a reduction left with no index variable is its body.
template <typename ReductionOp>
struct DropUnitRanges : OpRewritePattern<ReductionOp> {
  using OpRewritePattern<ReductionOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ReductionOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> keptRanges;
    SmallVector<unsigned> unitPositions;
    for (auto [pos, range] : llvm::enumerate(op.getRanges())) {
      std::optional<int64_t> size = getConstantIntValue(range);
      if (size && *size == 1)
        unitPositions.push_back(pos);
      else
        keptRanges.push_back(range);
    }
    if (unitPositions.empty())
      return failure();

    Location loc = op.getLoc();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Block &body = op.getBody().front();
    SmallVector<Value> replacements(body.getNumArguments());
    for (unsigned pos : unitPositions)
      replacements[pos] = zero;

    if (keptRanges.empty()) {
      auto yield = cast<YieldOp>(body.getTerminator());
      Value result = yield.getValues()[0];
      rewriter.inlineBlockBefore(&body, op, replacements);
      rewriter.replaceOp(op, result);
      rewriter.eraseOp(yield);
      return success();
    }

    auto newOp = ReductionOp::create(rewriter, loc, op.getResult().getType(),
                                     keptRanges, /*bodyBuilder=*/nullptr);
    Block &newBody = newOp.getBody().front();
    unsigned next = 0;
    for (auto [pos, replacement] : llvm::enumerate(replacements))
      if (!replacement)
        replacement = newBody.getArgument(next++);
    rewriter.mergeBlocks(&body, &newBody, replacements);
    rewriter.replaceOp(op, newOp.getResult());
    return success();
  }
};

/// A traversal with an empty range and a static result shape is an empty
/// constant tensor.
struct FoldEmptyFor : OpRewritePattern<ForOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ForOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasEmptyRange(op.getRanges()))
      return failure();
    SmallVector<Value> replacements;
    for (Type type : op.getResultTypes()) {
      auto tensorType = cast<RankedTensorType>(type);
      if (!tensorType.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic result shape");
      replacements.push_back(arith::ConstantOp::create(
          rewriter, op.getLoc(), tensorType,
          DenseElementsAttr::get(tensorType, ArrayRef<Attribute>{})));
    }
    rewriter.replaceOp(op, replacements);
    return success();
  }
};

/// Removes results of a multi-result traversal that nobody uses.
struct DropUnusedForResults : OpRewritePattern<ForOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ForOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Type> keptTypes;
    SmallVector<Value> keptYields;
    YieldOp yield = op.getYield();
    for (auto [result, yielded] :
         llvm::zip(op.getResults(), yield.getValues())) {
      if (result.use_empty())
        continue;
      keptTypes.push_back(result.getType());
      keptYields.push_back(yielded);
    }
    if (keptTypes.size() == op.getNumResults() || keptTypes.empty())
      return failure();

    auto newOp = ForOp::create(rewriter, op.getLoc(), keptTypes, op.getRanges(),
                               /*bodyBuilder=*/nullptr);
    Block &newBody = newOp.getBody().front();
    rewriter.mergeBlocks(&op.getBody().front(), &newBody,
                         newBody.getArguments());
    rewriter.setInsertionPoint(yield);
    rewriter.replaceOpWithNewOp<YieldOp>(yield, keptYields);

    SmallVector<Value> replacements;
    unsigned next = 0;
    for (Value result : op.getResults())
      replacements.push_back(result.use_empty() ? Value()
                                                : newOp.getResult(next++));
    rewriter.replaceOp(op, replacements);
    return success();
  }
};

} // namespace

void ForOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                        MLIRContext *context) {
  results.add<FoldEmptyFor, DropUnusedForResults>(context);
}

#define LZ_REDUCTION_CANONICALIZATION(OP)                                      \
  void OP::getCanonicalizationPatterns(RewritePatternSet &results,             \
                                       MLIRContext *context) {                 \
    results.add<FoldEmptyReduction<OP>, DropUnitRanges<OP>>(context);          \
  }

LZ_REDUCTION_CANONICALIZATION(SumOp)
LZ_REDUCTION_CANONICALIZATION(ProdOp)
LZ_REDUCTION_CANONICALIZATION(MaxOp)
LZ_REDUCTION_CANONICALIZATION(MinOp)
#undef LZ_REDUCTION_CANONICALIZATION
