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
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
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

/// Whether `op` computes a value and nothing else, and cannot fail at run
/// time (so that it may run where it did not: reads can be out of bounds,
/// integer divisions can divide by zero).
bool isSafeToMove(Operation *op) {
  return op->getNumRegions() == 0 && op->getNumResults() > 0 && isPure(op) &&
         !isa<lz::GetOp>(op);
}

/// The scopes and loops of lz.
bool isScopeOp(Operation *op) {
  return isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
             lz::LoopOp>(op);
}

/// An operation in the body of a scope or loop that uses nothing defined
/// inside it moves before it (let-floating, loop-invariant code motion).
LogicalResult hoistInvariant(Operation *op, PatternRewriter &rewriter) {
  Operation *scope = op->getParentOp();
  if (!scope || !isScopeOp(scope) || !isSafeToMove(op))
    return failure();
  for (Value operand : op->getOperands())
    if (scope->isAncestor(operand.getParentRegion()->getParentOp()))
      return failure();
  rewriter.moveOpBefore(op, scope);
  return success();
}

/// An operation equal to one that dominates it (same name, operands,
/// attributes and types) is replaced by it: the first such operation in
/// program order.
LogicalResult commonSubexpression(Operation *op, PatternRewriter &rewriter) {
  // Nothing moves: the equal operation already ran before `op`, so reads
  // and divisions qualify too; only effects and regions do not.
  if (op->getNumOperands() == 0 || op->getNumResults() == 0 ||
      op->getNumRegions() != 0 || !isMemoryEffectFree(op))
    return failure();
  Operation *best = nullptr;
  for (Operation *other : op->getOperand(0).getUsers()) {
    if (other == op || other->getNumRegions() != 0 ||
        !OperationEquivalence::isEquivalentTo(
            other, op, OperationEquivalence::IgnoreLocations))
      continue;
    // `other` must come before `op` in a block that encloses it.
    Operation *ancestor = other->getBlock()->findAncestorOpInBlock(*op);
    if (!ancestor || ancestor == other || !other->isBeforeInBlock(ancestor))
      continue;
    // Of two that dominate `op`, the one in the outer block comes first.
    auto comesFirst = [](Operation *a, Operation *b) {
      if (a->getBlock() == b->getBlock())
        return a->isBeforeInBlock(b);
      return a->getBlock()->findAncestorOpInBlock(*b) != nullptr;
    };
    if (!best || comesFirst(other, best))
      best = other;
  }
  if (!best)
    return failure();
  rewriter.replaceOp(op, best->getResults());
  return success();
}

/// `scf.if` on a constant condition is the branch it takes.
LogicalResult constantIf(Operation *op, PatternRewriter &rewriter) {
  auto ifOp = dyn_cast<scf::IfOp>(op);
  if (!ifOp)
    return failure();
  IntegerAttr condition;
  if (!matchPattern(ifOp.getCondition(), m_Constant(&condition)))
    return failure();
  Region &taken = condition.getValue().isZero() ? ifOp.getElseRegion()
                                                : ifOp.getThenRegion();
  if (taken.empty()) {
    if (ifOp.getNumResults() != 0)
      return failure();
    rewriter.eraseOp(ifOp);
    return success();
  }
  Block &block = taken.front();
  auto yield = cast<scf::YieldOp>(block.getTerminator());
  SmallVector<Value> results(yield.getOperands());
  rewriter.inlineBlockBefore(&block, ifOp);
  rewriter.eraseOp(yield);
  rewriter.replaceOp(ifOp, results);
  return success();
}

/// sum k < n. (if k == j then a(k) else 0), with j not depending on k:
/// only the point j contributes, so the sum is
/// if 0 <= j < n then a(j) else the sum of zeros. Exactly, in IEEE
/// arithmetic: with +0.0 as the zero, a(j) is summed with zeros when
/// n > 1 (a(j) + 0.0, which turns -0.0 into +0.0); with -0.0, the sum is
/// a(j), and the sum of zeros is -0.0 unless the sum is empty (+0.0). The
/// other operations of the body must not be able to fail (they no longer
/// run at every point).
LogicalResult sumOneHot(Operation *op, PatternRewriter &rewriter) {
  auto sum = dyn_cast<lz::SumOp>(op);
  if (!sum || sum.getRanges().size() != 1)
    return failure();
  Block &body = sum.getBody().front();
  Value k = body.getArgument(0);
  auto ifOp = sum.getYield().getOperand(0).getDefiningOp<scf::IfOp>();
  if (!ifOp || ifOp->getBlock() != &body || ifOp.getNumResults() != 1 ||
      ifOp.getElseRegion().empty())
    return failure();
  Type type = sum.getResult().getType();
  // The zero.
  Value zero =
      cast<scf::YieldOp>(ifOp.elseBlock()->getTerminator()).getOperand(0);
  Attribute zeroAttr;
  if (!matchPattern(zero, m_Constant(&zeroAttr)))
    return failure();
  bool negativeZero = false;
  if (auto f = dyn_cast<FloatAttr>(zeroAttr)) {
    if (!f.getValue().isZero())
      return failure();
    negativeZero = f.getValue().isNegative();
  } else if (auto i = dyn_cast<IntegerAttr>(zeroAttr)) {
    if (!i.getValue().isZero())
      return failure();
  } else {
    return failure();
  }
  // The condition k == j, k possibly cast to a 64-bit integer.
  auto cmp = ifOp.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq)
    return failure();
  auto isIndex = [&](Value v) {
    if (v == k)
      return true;
    auto cast = v.getDefiningOp<arith::IndexCastOp>();
    return cast && cast.getIn() == k && cast.getType().isInteger(64);
  };
  auto isOutside = [&](Value v) {
    return !sum->isAncestor(v.getParentRegion()->getParentOp());
  };
  Value j;
  if (isIndex(cmp.getLhs()) && isOutside(cmp.getRhs()))
    j = cmp.getRhs();
  else if (isIndex(cmp.getRhs()) && isOutside(cmp.getLhs()))
    j = cmp.getLhs();
  else
    return failure();
  for (Operation &inner : body.without_terminator())
    if (&inner != ifOp && !isSafeToMove(&inner))
      return failure();

  Location loc = sum.getLoc();
  rewriter.setInsertionPoint(sum);
  Value n = sum.getRanges()[0];
  Type jType = j.getType();
  Value nInJ =
      jType.isIndex()
          ? n
          : arith::IndexCastOp::create(rewriter, loc, jType, n).getResult();
  Value jZero = arith::ConstantOp::create(rewriter, loc, jType,
                                          rewriter.getZeroAttr(jType));
  // One operation per statement: the order of the IR does not depend on
  // the order in which the compiler evaluates arguments.
  Value notNegative =
      arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sge, j, jZero);
  Value belowSize =
      arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, j, nInJ);
  Value inRange = arith::AndIOp::create(rewriter, loc, notNegative, belowSize);
  bool isFloat = isa<FloatType>(type);
  auto newIf = scf::IfOp::create(rewriter, loc, TypeRange{type}, inRange,
                                 /*withElseRegion=*/true);
  // The point j.
  rewriter.setInsertionPointToStart(newIf.thenBlock());
  Value jIndex = jType.isIndex()
                     ? j
                     : arith::IndexCastOp::create(rewriter, loc,
                                                  rewriter.getIndexType(), j)
                           .getResult();
  IRMapping mapping;
  mapping.map(k, jIndex);
  for (Operation &inner : body.without_terminator())
    if (&inner != ifOp)
      rewriter.clone(inner, mapping);
  for (Operation &inner : ifOp.thenBlock()->without_terminator())
    rewriter.clone(inner, mapping);
  Value value = mapping.lookupOrDefault(
      cast<scf::YieldOp>(ifOp.thenBlock()->getTerminator()).getOperand(0));
  if (isFloat && !negativeZero) {
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value plusZero = arith::ConstantOp::create(
        rewriter, loc, type, rewriter.getFloatAttr(type, 0.0));
    Value withZeros = arith::AddFOp::create(rewriter, loc, value, plusZero);
    Value single =
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, n, one);
    value = arith::SelectOp::create(rewriter, loc, single, value, withZeros);
  }
  scf::YieldOp::create(rewriter, loc, value);
  // No point: the sum of zeros.
  rewriter.setInsertionPointToStart(newIf.elseBlock());
  Value zeros;
  if (isFloat && negativeZero) {
    Value zeroIndex = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value empty = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::sle, n, zeroIndex);
    Value plusZero = arith::ConstantOp::create(
        rewriter, loc, type, rewriter.getFloatAttr(type, 0.0));
    Value minusZero = arith::ConstantOp::create(
        rewriter, loc, type, rewriter.getFloatAttr(type, -0.0));
    zeros = arith::SelectOp::create(rewriter, loc, empty, plusZero, minusZero);
  } else {
    zeros = arith::ConstantOp::create(rewriter, loc, type,
                                      rewriter.getZeroAttr(type));
  }
  scf::YieldOp::create(rewriter, loc, zeros);
  rewriter.replaceOp(sum, newIf.getResults());
  return success();
}

/// A traversal that yields several results is split into one traversal
/// per result, each with a copy of the body (loop fission; dce then
/// removes what each copy does not need). `lz.loop`s are not split: their
/// state values depend on each other.
LogicalResult forFission(Operation *op, PatternRewriter &rewriter) {
  auto forOp = dyn_cast<lz::ForOp>(op);
  if (!forOp || forOp.getNumResults() < 2)
    return failure();
  SmallVector<Value> results;
  Block &body = forOp.getBody().front();
  for (auto [i, result] : llvm::enumerate(forOp.getResults())) {
    auto single = lz::ForOp::create(
        rewriter, forOp.getLoc(), TypeRange{result.getType()},
        forOp.getRanges(), [&](OpBuilder &b, Location loc, ValueRange indices) {
          IRMapping mapping;
          mapping.map(body.getArguments(), indices);
          for (Operation &inner : body.without_terminator())
            b.clone(inner, mapping);
          lz::YieldOp::create(b, loc,
                              ValueRange{mapping.lookupOrDefault(
                                  forOp.getYield().getOperand(i))});
        });
    results.push_back(single.getResult(0));
  }
  rewriter.replaceOp(forOp, results);
  return success();
}

/// Whether state value `index` of `loop` feeds nothing but itself: not the
/// other state values, not the condition, and no operation with effects.
bool isDeadState(lz::LoopOp loop, unsigned index) {
  if (!loop.getResult(index).use_empty())
    return false;
  auto depends = [&](Region &region, Value arg, ValueRange others) {
    DenseSet<Value> dependent = {arg};
    bool effects = false;
    region.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (!llvm::any_of(op->getOperands(),
                        [&](Value v) { return dependent.contains(v); }))
        return;
      if (!op->hasTrait<OpTrait::IsTerminator>() && !isMemoryEffectFree(op))
        effects = true;
      // The operation and those enclosing it, up to the region, depend.
      for (Operation *ancestor = op; ancestor != region.getParentOp();
           ancestor = ancestor->getParentOp())
        dependent.insert(ancestor->result_begin(), ancestor->result_end());
    });
    return effects ||
           llvm::any_of(others, [&](Value v) { return dependent.contains(v); });
  };
  SmallVector<Value> others;
  for (auto [i, value] : llvm::enumerate(loop.getYield().getOperands()))
    if (i != index)
      others.push_back(value);
  if (depends(loop.getBody(), loop.getBodyStateArgs()[index], others))
    return false;
  if (loop.isCounted() || loop.getCond().empty())
    return true;
  Block &cond = loop.getCond().front();
  return !depends(loop.getCond(), cond.getArgument(index),
                  cond.getTerminator()->getOperands());
}

/// A state value of an `lz.loop` that nothing uses (its result is unused,
/// and neither the other state values nor the condition depend on it) is
/// removed: the loop no longer computes it.
LogicalResult loopDeadState(Operation *op, PatternRewriter &rewriter) {
  auto loop = dyn_cast<lz::LoopOp>(op);
  if (!loop)
    return failure();
  unsigned numState = loop.getInits().size();
  unsigned index = 0;
  while (index < numState && !isDeadState(loop, index))
    ++index;
  if (index == numState)
    return failure();

  SmallVector<Value> inits(loop.getInits());
  Value init = inits[index];
  inits.erase(inits.begin() + index);
  SmallVector<Type> types(loop.getResultTypes());
  types.erase(types.begin() + index);
  auto newLoop = lz::LoopOp::create(rewriter, loop.getLoc(), types,
                                    loop.getCount(), inits);
  // The regions move over; the state's argument is replaced by its initial
  // value in the operations that only computed it (dce removes them).
  auto dropState = [&](Region &region, unsigned argument) {
    Block &block = region.front();
    rewriter.replaceAllUsesWith(block.getArgument(argument), init);
    block.eraseArgument(argument);
  };
  rewriter.inlineRegionBefore(loop.getBody(), newLoop.getBody(),
                              newLoop.getBody().end());
  lz::YieldOp yield = newLoop.getYield();
  rewriter.modifyOpInPlace(yield, [&] { yield->eraseOperand(index); });
  dropState(newLoop.getBody(), index + (newLoop.isCounted() ? 1 : 0));
  if (!loop.getCond().empty()) {
    rewriter.inlineRegionBefore(loop.getCond(), newLoop.getCond(),
                                newLoop.getCond().end());
    dropState(newLoop.getCond(), index);
  }
  unsigned next = 0;
  for (auto [i, result] : llvm::enumerate(loop.getResults()))
    if (i != index)
      rewriter.replaceAllUsesWith(result, newLoop.getResult(next++));
  rewriter.eraseOp(loop);
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
  add("hoist-invariant",
      "moves an operation that uses nothing of a scope's or loop's body "
      "before it (let-floating; not reads and divisions, which can fail)",
      hoistInvariant);
  add("cse", "replaces an operation by an equal one that dominates it",
      commonSubexpression);
  add("sum-onehot",
      "sum k < n. (if k == j then a else 0) -> if 0 <= j < n then a[k := j] "
      "else 0, exactly (signed zeros)",
      sumOneHot);
  add("for-fission",
      "for i. (a, b) -> (for i. a, for i. b): one traversal per result",
      forFission);
  add("loop-dead-state",
      "removes a state value of a loop that neither the result nor the other "
      "state values nor the condition use",
      loopDeadState);
  add("if-constant", "if true then a else b -> a (and the else branch)",
      constantIf);
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
