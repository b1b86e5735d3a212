//===- LzRules.cpp - The rewrite rules over lz ----------------------------===//
//
// Part of Leibniz.
//
// Each rule rewrites one operation, or fails without changing anything.
// Arithmetic rules are exact in IEEE arithmetic: `x + -0.0` is `x` for
// every `x`, `x + 0.0` is not (it turns -0.0 into +0.0).
//
//===----------------------------------------------------------------------===//

#include "leibniz/Rewrite/Rule.h"

#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::rewrite;

namespace {

/// A rule given by a function.
class FunctionRule : public Rule {
public:
  using Function = LogicalResult (*)(Operation *, PatternRewriter &);
  FunctionRule(StringRef name, StringRef description, Function function,
               bool predicate = false)
      : Rule(name, description, predicate), function(function) {}
  LogicalResult apply(Operation *op, PatternRewriter &rewriter) const override {
    return function(op, rewriter);
  }

private:
  Function function;
};

/// `lz.proj (lz.tuple a0, a1, ...)[i]` is `ai`.
LogicalResult tupleProj(Operation *op, PatternRewriter &rewriter) {
  auto proj = dyn_cast<lz::ProjOp>(op);
  if (!proj)
    return failure();
  auto tuple = proj.getTuple().getDefiningOp<lz::TupleOp>();
  if (!tuple)
    return failure();
  rewriter.replaceOp(proj, tuple.getElements()[proj.getIndex()]);
  return success();
}

/// `(lz.for %i < n, ... { e })[j, ...]`, reading one element: `e` with the
/// index variables bound to the indices.
LogicalResult fuseForGet(Operation *op, PatternRewriter &rewriter) {
  auto get = dyn_cast<lz::GetOp>(op);
  if (!get)
    return failure();
  auto forOp = get.getTensor().getDefiningOp<lz::ForOp>();
  if (!forOp || forOp.getNumResults() != 1 ||
      get.getIndices().size() != forOp.getRanges().size() ||
      get.getType() != forOp.getYield().getOperand(0).getType())
    return failure();
  IRMapping mapping;
  mapping.map(forOp.getIndices(), get.getIndices());
  rewriter.setInsertionPoint(get);
  Block &body = forOp.getBody().front();
  for (Operation &inner : body.without_terminator())
    rewriter.clone(inner, mapping);
  rewriter.replaceOp(get,
                     mapping.lookupOrDefault(forOp.getYield().getOperand(0)));
  return success();
}

/// `tensor.dim (lz.for %i < n, ...), d` is the range of dimension `d`.
LogicalResult forSize(Operation *op, PatternRewriter &rewriter) {
  auto dim = dyn_cast<tensor::DimOp>(op);
  if (!dim)
    return failure();
  auto forOp = dim.getSource().getDefiningOp<lz::ForOp>();
  std::optional<int64_t> index = dim.getConstantIndex();
  if (!forOp || !index || *index < 0 ||
      *index >= static_cast<int64_t>(forOp.getRanges().size()))
    return failure();
  rewriter.replaceOp(dim, forOp.getRanges()[*index]);
  return success();
}

/// An operation without uses and without effects is removed.
LogicalResult deadCode(Operation *op, PatternRewriter &rewriter) {
  if (op->hasTrait<OpTrait::IsTerminator>() || !isOpTriviallyDead(op))
    return failure();
  rewriter.eraseOp(op);
  return success();
}

/// `x + -0.0`, `-0.0 + x`, `x - 0.0` and integer `x + 0`, `x - 0` are `x`.
LogicalResult addZero(Operation *op, PatternRewriter &rewriter) {
  auto isNegZero = [](Value v) {
    FloatAttr attr;
    return matchPattern(v, m_Constant(&attr)) && attr.getValue().isZero() &&
           attr.getValue().isNegative();
  };
  auto isPosZero = [](Value v) {
    FloatAttr attr;
    return matchPattern(v, m_Constant(&attr)) && attr.getValue().isZero() &&
           !attr.getValue().isNegative();
  };
  Value kept;
  if (auto add = dyn_cast<arith::AddFOp>(op)) {
    if (isNegZero(add.getRhs()))
      kept = add.getLhs();
    else if (isNegZero(add.getLhs()))
      kept = add.getRhs();
  } else if (auto sub = dyn_cast<arith::SubFOp>(op)) {
    if (isPosZero(sub.getRhs()))
      kept = sub.getLhs();
  } else if (auto add = dyn_cast<arith::AddIOp>(op)) {
    if (matchPattern(add.getRhs(), m_Zero()))
      kept = add.getLhs();
    else if (matchPattern(add.getLhs(), m_Zero()))
      kept = add.getRhs();
  } else if (auto sub = dyn_cast<arith::SubIOp>(op)) {
    if (matchPattern(sub.getRhs(), m_Zero()))
      kept = sub.getLhs();
  }
  if (!kept)
    return failure();
  rewriter.replaceOp(op, kept);
  return success();
}

/// `x * 1` and `1 * x` are `x` (floats and integers); `x / 1.0` is `x`.
LogicalResult mulOne(Operation *op, PatternRewriter &rewriter) {
  auto isOne = [](Value v) {
    FloatAttr attr;
    return matchPattern(v, m_One()) || (matchPattern(v, m_Constant(&attr)) &&
                                        attr.getValue().isExactlyValue(1.0));
  };
  Value kept;
  if (isa<arith::MulFOp, arith::MulIOp>(op)) {
    if (isOne(op->getOperand(1)))
      kept = op->getOperand(0);
    else if (isOne(op->getOperand(0)))
      kept = op->getOperand(1);
  } else if (isa<arith::DivFOp>(op) && isOne(op->getOperand(1))) {
    kept = op->getOperand(0);
  }
  if (!kept)
    return failure();
  rewriter.replaceOp(op, kept);
  return success();
}

/// Integer `x * 0` and `0 * x` are 0 (exact for integers only).
LogicalResult mulZeroInt(Operation *op, PatternRewriter &rewriter) {
  auto mul = dyn_cast<arith::MulIOp>(op);
  if (!mul)
    return failure();
  Value zero;
  if (matchPattern(mul.getRhs(), m_Zero()))
    zero = mul.getRhs();
  else if (matchPattern(mul.getLhs(), m_Zero()))
    zero = mul.getLhs();
  if (!zero)
    return failure();
  rewriter.replaceOp(op, zero);
  return success();
}

template <typename OpTy> LogicalResult isOp(Operation *op, PatternRewriter &) {
  return success(isa<OpTy>(op));
}

LogicalResult isScope(Operation *op, PatternRewriter &) {
  return success(
      isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp, lz::LoopOp>(
          op));
}

LogicalResult isUnused(Operation *op, PatternRewriter &) {
  return success(op->use_empty());
}

} // namespace

void leibniz::rewrite::addLzRules(RuleSet &rules) {
  auto add = [&](StringRef name, StringRef description,
                 FunctionRule::Function function, bool predicate = false) {
    rules.add(
        std::make_unique<FunctionRule>(name, description, function, predicate));
  };
  add("fuse-for-get",
      "(for i. e)[j] -> e[i := j]: a read of one element of a traversal "
      "computes that element",
      fuseForGet);
  add("for-size", "size(for i < n. e, 0) -> n: the size of a traversal",
      forSize);
  add("tuple-proj", "(a, b).0 -> a: a projection of a tuple", tupleProj);
  add("dce",
      "removes an operation whose results are unused and that has "
      "no effects",
      deadCode);
  add("add-zero", "x + -0.0 -> x, x - 0.0 -> x, and integer x + 0 -> x",
      addZero);
  add("mul-one", "x * 1 -> x, x / 1.0 -> x", mulOne);
  add("mul-zero-int", "integer x * 0 -> 0", mulZeroInt);
  // Predicates.
  add("is-for", "the point is a traversal (lz.for)", isOp<lz::ForOp>, true);
  add("is-sum", "the point is a sum (lz.sum)", isOp<lz::SumOp>, true);
  add("is-get", "the point is a read (lz.get)", isOp<lz::GetOp>, true);
  add("is-func", "the point is a function", isOp<func::FuncOp>, true);
  add("is-scope",
      "the point is a scope or a loop (for, sum, prod, max, min, loop)",
      isScope, true);
  add("is-unused", "no result of the point is used", isUnused, true);
}
