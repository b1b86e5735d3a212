//===- Canonicalize.cpp - Canonicalization without duplication ------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

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

namespace {

/// The upstream pattern that folds every read of a `tensor.generate`.
constexpr StringLiteral kDuplicatingPattern =
    "(anonymous namespace)::ExtractFromTensorGenerate";

/// `tensor.extract` of a `tensor.generate` that has no other use: the
/// generator's body at the read's indices.
struct ExtractFromSingleUseGenerate
    : public OpRewritePattern<tensor::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractOp extract,
                                PatternRewriter &rewriter) const override {
    auto generate = extract.getTensor().getDefiningOp<tensor::GenerateOp>();
    if (!generate || !generate->hasOneUse() || !isMemoryEffectFree(generate))
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

struct CanonicalizePass
    : public conversion::impl::CanonicalizeBase<CanonicalizePass> {
  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet owning(context);
    for (Dialect *dialect : context->getLoadedDialects())
      dialect->getCanonicalizationPatterns(owning);
    for (RegisteredOperationName op : context->getRegisteredOperations())
      op.getCanonicalizationPatterns(owning, context);
    owning.add<ExtractFromSingleUseGenerate>(context);
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
