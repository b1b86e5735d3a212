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

#include "AD/ADOps.h"
#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/BitVector.h"

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

/// The number of index variables of the scopes around `op`, counting a
/// loop's step as one: how many nested iteration spaces evaluate it.
unsigned getIterationDepth(Operation *op) {
  unsigned depth = 0;
  for (Operation *parent = op->getParentOp();
       parent && !isa<FunctionOpInterface>(parent);
       parent = parent->getParentOp()) {
    if (isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
            lz::AccumulateOp>(parent))
      depth += parent->getRegion(0).front().getNumArguments();
    else if (isa<lz::LoopOp>(parent))
      ++depth;
  }
  return depth;
}

/// The range of `value` where it is the index variable of a scope (not a
/// loop's step): null otherwise.
Value getIndexRange(Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg)
    return {};
  Operation *scope = arg.getOwner()->getParentOp();
  ValueRange ranges;
  if (auto forOp = dyn_cast<lz::ForOp>(scope))
    ranges = forOp.getRanges();
  else if (auto accumulate = dyn_cast<lz::AccumulateOp>(scope))
    ranges = accumulate.getRanges();
  else if (lz::isReductionOp(scope))
    ranges = scope->getOperands();
  else
    return {};
  if (arg.getOwner() != &scope->getRegion(0).front() ||
      arg.getArgNumber() >= ranges.size())
    return {};
  return ranges[arg.getArgNumber()];
}

/// Whether `value`, computed in the bodies of the scopes that own
/// `variables` (a traversal's index variables, or those of a traversal and
/// of a sum in its body), equals `other` where the variables take the
/// values of `indices` (set as they are met): the same operations without
/// regions or effects, directly in those bodies, on the same values
/// defined outside them, and index variables of scopes over the same
/// ranges.
bool matchesElement(ArrayRef<BlockArgument> variables, Value value, Value other,
                    SmallVectorImpl<Value> &indices,
                    DenseSet<std::pair<Value, Value>> &matched,
                    unsigned depth = 0) {
  // The nesting of the operations compared, at most.
  constexpr unsigned kMaxDepth = 16;
  if (depth > kMaxDepth || value.getType() != other.getType())
    return false;
  // Shared operands are compared once: the indices they bound stay bound.
  if (matched.contains({value, other}))
    return true;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    const BlockArgument *it = llvm::find(variables, arg);
    if (it == variables.end())
      return value == other;
    Value &index = indices[it - variables.begin()];
    if (index)
      return index == other;
    if (getIndexRange(other) != getIndexRange(arg))
      return false;
    index = other;
    return true;
  }
  Operation *def = value.getDefiningOp();
  if (variables.empty())
    return value == other;
  Operation *outermost = variables.front().getOwner()->getParentOp();
  if (!outermost->isAncestor(def))
    return value == other;
  Operation *otherDef = other.getDefiningOp();
  if (!otherDef ||
      llvm::none_of(
          variables,
          [&](BlockArgument v) { return v.getOwner() == def->getBlock(); }) ||
      def->getNumRegions() != 0 || !isMemoryEffectFree(def) ||
      otherDef->getName() != def->getName() ||
      otherDef->getAttrDictionary() != def->getAttrDictionary() ||
      otherDef->getNumOperands() != def->getNumOperands() ||
      otherDef->getResultTypes() != def->getResultTypes() ||
      cast<OpResult>(value).getResultNumber() !=
          cast<OpResult>(other).getResultNumber())
    return false;
  for (auto [operand, otherOperand] :
       llvm::zip_equal(def->getOperands(), otherDef->getOperands()))
    if (!matchesElement(variables, operand, otherOperand, indices, matched,
                        depth + 1))
      return false;
  matched.insert({value, other});
  return true;
}

/// A float expression in a scope's body that equals an element of an
/// earlier traversal over the same ranges reads that element: the inverse
/// of fuse-for-get, where the traversal is computed anyway (so that a
/// normalize with both would not end). Integers stay computed: an index
/// read from a tensor would hide an affine access or a one-hot test from
/// the rules and the lowering. Not a traversal directly in a loop's step,
/// which would then feed the step's other traversals (that could not
/// update the loop's states in place).
LogicalResult reuseForElement(Operation *op, PatternRewriter &rewriter) {
  if (op->getNumResults() != 1 || op->getNumRegions() != 0 ||
      !isa<FloatType>(op->getResult(0).getType()) || isa<lz::GetOp>(op) ||
      op->hasTrait<OpTrait::ConstantLike>() || getIterationDepth(op) == 0)
    return failure();
  Value result = op->getResult(0);
  for (Operation *anchor = op; anchor->getBlock();
       anchor = anchor->getParentOp()) {
    Block *block = anchor->getBlock();
    Operation *parent = block->getParentOp();
    if (!isa<lz::LoopOp>(parent)) {
      for (Operation &candidate : *block) {
        if (&candidate == anchor)
          break;
        auto forOp = dyn_cast<lz::ForOp>(candidate);
        if (!forOp || forOp.getNumResults() != 1)
          continue;
        Value element = forOp.getYield().getOperand(0);
        SmallVector<Value> indices(forOp.getRanges().size());
        DenseSet<std::pair<Value, Value>> matched;
        if (element.getDefiningOp() == nullptr ||
            element.getDefiningOp()->getName() != op->getName() ||
            !matchesElement(llvm::to_vector(forOp.getBody().getArguments()),
                            element, result, indices, matched) ||
            llvm::is_contained(indices, Value()))
          continue;
        rewriter.replaceOpWithNewOp<lz::GetOp>(op, forOp.getResult(0), indices);
        return success();
      }
    }
    if (isa<FunctionOpInterface>(parent))
      break;
  }
  return failure();
}

/// `sum k. e(k)`, outside every scope or in the body of a traversal over
/// `i` outside every scope, whose body computes `e` with a math function
/// or a division, where a later scope computes `e` at its own variables
/// (the same operations on the same values, as reuse-for-element matches
/// them): `t = for i, k. e(i, k)` before, and the sum adds `t[i, k]`;
/// reuse-for-element then reads the later `e` from `t`, so that `e` is
/// computed once. Softmax's gradient sums `exp(z[k] - m)` for the
/// log-sum-exp and computes it again per element; the GMM's, per point and
/// component. Exactly: the same values, added in the same order.
LogicalResult tabulateSharedSum(Operation *op, PatternRewriter &rewriter) {
  auto sum = dyn_cast<lz::SumOp>(op);
  if (!sum || !isa<FloatType>(sum.getResult().getType()))
    return failure();
  Operation *parent = sum->getParentOp();
  auto outer = dyn_cast<lz::ForOp>(parent);
  Operation *anchor = outer ? outer.getOperation() : sum.getOperation();
  if (!isa<FunctionOpInterface>(anchor->getParentOp()))
    return failure();
  if (outer && llvm::any_of(sum.getRanges(), [&](Value range) {
        return outer->isAncestor(range.getParentRegion()->getParentOp());
      }))
    return failure();
  // The operations that compute the summand, in the sum's body and in the
  // traversal's, without regions or effects, one of them costly.
  Value value = sum.getYield().getOperand(0);
  llvm::SmallPtrSet<Operation *, 16> slice;
  bool costly = false;
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Operation *def = worklist.pop_back_val().getDefiningOp();
    if (!def || (def->getParentOp() != sum && def->getParentOp() != outer) ||
        !slice.insert(def).second)
      continue;
    if (def->getNumRegions() != 0 || !isMemoryEffectFree(def))
      return failure();
    costly |=
        isa<math::MathDialect>(def->getDialect()) || isa<arith::DivFOp>(def);
    llvm::append_range(worklist, def->getOperands());
  }
  if (!costly)
    return failure();
  SmallVector<BlockArgument> variables;
  SmallVector<Value> ranges;
  if (outer) {
    llvm::append_range(variables, outer.getBody().getArguments());
    llvm::append_range(ranges, outer.getRanges());
  }
  llvm::append_range(variables, sum.getBody().getArguments());
  llvm::append_range(ranges, sum.getRanges());

  // A later scope that computes the summand at its own variables.
  bool found = false;
  for (Operation *later = anchor->getNextNode(); later && !found;
       later = later->getNextNode()) {
    later->walk([&](Operation *candidate) {
      if (candidate->getName() != value.getDefiningOp()->getName() ||
          candidate->getNumResults() != 1 || getIterationDepth(candidate) == 0)
        return WalkResult::advance();
      SmallVector<Value> indices(variables.size());
      DenseSet<std::pair<Value, Value>> matched;
      if (matchesElement(variables, value, candidate->getResult(0), indices,
                         matched) &&
          !llvm::is_contained(indices, Value())) {
        found = true;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
  }
  if (!found)
    return failure();

  Location loc = sum.getLoc();
  rewriter.setInsertionPoint(anchor);
  auto type = RankedTensorType::get(
      SmallVector<int64_t>(variables.size(), ShapedType::kDynamic),
      value.getType());
  auto table = lz::ForOp::create(
      rewriter, loc, TypeRange{type}, ranges,
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        IRMapping mapping;
        mapping.map(variables, indices);
        for (Block *block : {outer ? &outer.getBody().front() : nullptr,
                             &sum.getBody().front()}) {
          if (!block)
            continue;
          for (Operation &inner : block->without_terminator())
            if (slice.contains(&inner))
              b.clone(inner, mapping);
        }
        lz::YieldOp::create(b, loc, mapping.lookupOrDefault(value));
      });
  rewriter.setInsertionPoint(sum.getYield());
  SmallVector<Value> at(variables.begin(), variables.end());
  Value element = lz::GetOp::create(rewriter, loc, table.getResult(0), at);
  rewriter.modifyOpInPlace(sum.getYield(),
                           [&] { sum.getYield()->setOperand(0, element); });
  return success();
}

/// fuse-for-get where computing one element costs a bounded amount: the
/// body holds no scope, loop or call, so reading an element where it is
/// needed never repeats a reduction. A body with a costly operation (a
/// math function, a division) is only read where it is its traversal's
/// one use and the read is not nested in more index variables than the
/// traversal's elements: elsewhere, the traversal computes each element
/// once and the reads share it. Unless `repeat`, neither is a body of more
/// than two arithmetic operations that does not choose a one-hot value.
LogicalResult fuseBoundedForGet(Operation *op, PatternRewriter &rewriter,
                                bool repeat) {
  auto get = dyn_cast<lz::GetOp>(op);
  if (!get)
    return failure();
  auto forOp = get.getTensor().getDefiningOp<lz::ForOp>();
  if (!forOp)
    return failure();
  bool costly = false;
  bool selects = false;
  unsigned arithmetic = 0;
  WalkResult walk = forOp.getBody().walk([&](Operation *inner) {
    if (isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
            lz::AccumulateOp, lz::LoopOp, func::CallOp>(inner))
      return WalkResult::interrupt();
    if (isa<math::MathDialect>(inner->getDialect()) ||
        isa<arith::DivFOp, arith::RemFOp>(inner))
      costly = true;
    // A one-hot value, as the seeds and conditionals of derivatives are:
    // a choice on an integer comparison.
    if (isa<scf::IfOp, arith::SelectOp>(inner) &&
        inner->getOperand(0).getDefiningOp<arith::CmpIOp>())
      selects = true;
    if (isa<arith::ArithDialect>(inner->getDialect()) &&
        !inner->hasTrait<OpTrait::ConstantLike>() &&
        !isa<arith::IndexCastOp>(inner))
      ++arithmetic;
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  bool deeper = getIterationDepth(get) >
                getIterationDepth(forOp) + forOp.getRanges().size();
  if (costly && (!forOp->hasOneUse() || deeper))
    return failure();
  // Arithmetic read in more index variables than the traversal's elements
  // is computed again for each of the others: only worth it for a one-hot
  // value (which the ring rules collapse where it is read) or for at most
  // two operations, which cost about what reading the element back does
  // (and keep a scope's nest one traversal that for-flatten can merge).
  if (!repeat && deeper && !selects && arithmetic > 2)
    return failure();
  return fuseForGet(op, rewriter);
}

LogicalResult fuseCheapForGet(Operation *op, PatternRewriter &rewriter) {
  return fuseBoundedForGet(op, rewriter, /*repeat=*/true);
}

/// fuse-cheap-for-get that does not repeat arithmetic for the points of a
/// deeper nest: reverse mode's row cotangents are computed once per row.
/// Forward mode keeps fuse-cheap-for-get, whose tangents collapse further
/// where they are read.
LogicalResult fuseLocalForGet(Operation *op, PatternRewriter &rewriter) {
  return fuseBoundedForGet(op, rewriter, /*repeat=*/false);
}

/// `tensor.dim (lz.for %i < n, ...), d` is the range of dimension `d`.
LogicalResult forSize(Operation *op, PatternRewriter &rewriter) {
  auto dim = dyn_cast<tensor::DimOp>(op);
  if (!dim)
    return failure();
  std::optional<int64_t> index = dim.getConstantIndex();
  if (!index || *index < 0)
    return failure();
  // A sub-tensor read from `t` at k indices has the sizes of `t` after k.
  Value source = dim.getSource();
  int64_t at = *index;
  bool read = false;
  while (auto get = source.getDefiningOp<lz::GetOp>()) {
    at += get.getIndices().size();
    source = get.getTensor();
    read = true;
  }
  auto forOp = source.getDefiningOp<lz::ForOp>();
  if (forOp && at < static_cast<int64_t>(forOp.getRanges().size())) {
    rewriter.replaceOp(dim, forOp.getRanges()[at]);
    return success();
  }
  // The dynamic sizes of a fill and of an accumulation are its operands.
  auto type = dyn_cast<RankedTensorType>(source.getType());
  if (!type || at >= type.getRank())
    return failure();
  auto dynamicSize = [&](ValueRange sizes) -> Value {
    if (!type.isDynamicDim(at))
      return {};
    unsigned position = type.getDynamicDimIndex(at);
    return position < sizes.size() ? sizes[position] : Value();
  };
  Value size;
  if (auto fill = source.getDefiningOp<lz::FillOp>())
    size = dynamicSize(fill.getSizes());
  else if (auto accumulate = source.getDefiningOp<lz::AccumulateOp>())
    size = dynamicSize(accumulate.getSizes());
  if (size) {
    rewriter.replaceOp(dim, size);
    return success();
  }
  // A product's rows are its left operand's, its columns its right
  // operand's (and its batch both operands').
  Operation *product = source.getDefiningOp();
  if (isa_and_nonnull<lz::MatmulOp, lz::BatchMatmulOp>(product)) {
    bool columns = at == type.getRank() - 1;
    rewriter.replaceOpWithNewOp<tensor::DimOp>(
        dim, product->getOperand(columns ? 1 : 0), at);
    return success();
  }
  // A loop's state keeps its sizes: those of its initial value.
  if (auto result = dyn_cast<OpResult>(source)) {
    if (auto loop = dyn_cast<lz::LoopOp>(result.getOwner())) {
      rewriter.replaceOpWithNewOp<tensor::DimOp>(
          dim, loop.getInits()[result.getResultNumber()], at);
      return success();
    }
  } else if (auto arg = dyn_cast<BlockArgument>(source)) {
    auto loop = dyn_cast<lz::LoopOp>(arg.getOwner()->getParentOp());
    unsigned first = loop && loop.isCounted() ? 1 : 0;
    if (loop && arg.getArgNumber() >= first) {
      rewriter.replaceOpWithNewOp<tensor::DimOp>(
          dim, loop.getInits()[arg.getArgNumber() - first], at);
      return success();
    }
  }
  if (!read)
    return failure();
  rewriter.replaceOpWithNewOp<tensor::DimOp>(dim, source, at);
  return success();
}

/// `tensor.dim %x, d` of an argument of a function whose types make that
/// size equal to an earlier argument's (the `lz.equal_sizes` groups of
/// [argument, dimension] pairs, which every call checks) reads the
/// earlier one: equal sizes become one value, which rules that compare
/// sizes (`accumulate-to-for`) can see.
LogicalResult dimEqual(Operation *op, PatternRewriter &rewriter) {
  auto dim = dyn_cast<tensor::DimOp>(op);
  if (!dim)
    return failure();
  std::optional<int64_t> index = dim.getConstantIndex();
  auto arg = dyn_cast<BlockArgument>(dim.getSource());
  if (!index || !arg)
    return failure();
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  if (!func || arg.getOwner() != &func.getBody().front())
    return failure();
  std::optional<std::pair<unsigned, unsigned>> leader =
      lz::getEqualSizeLeader(arg, *index);
  if (!leader ||
      *leader == std::pair<unsigned, unsigned>(arg.getArgNumber(), *index))
    return failure();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(&func.getBody().front());
  rewriter.replaceOpWithNewOp<tensor::DimOp>(
      dim, func.getArgument(leader->first),
      arith::ConstantIndexOp::create(rewriter, dim.getLoc(), leader->second));
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

/// The other operand of a product one of whose operands satisfies
/// `isScale`, or the dividend of a quotient whose divisor does; null
/// otherwise.
Value getScaledOperand(Operation *op, llvm::function_ref<bool(Value)> isScale) {
  if (isa<arith::MulFOp, arith::MulIOp>(op)) {
    if (isScale(op->getOperand(1)))
      return op->getOperand(0);
    if (isScale(op->getOperand(0)))
      return op->getOperand(1);
  } else if (isa<arith::DivFOp>(op) && isScale(op->getOperand(1))) {
    return op->getOperand(0);
  }
  return Value();
}

/// `x * 1` and `1 * x` are `x` (floats and integers); `x / 1.0` is `x`;
/// `x * -1.0`, `-1.0 * x` and `x / -1.0` are `-x`.
LogicalResult mulOne(Operation *op, PatternRewriter &rewriter) {
  auto isOne = [](Value v) {
    FloatAttr attr;
    return matchPattern(v, m_One()) || (matchPattern(v, m_Constant(&attr)) &&
                                        attr.getValue().isExactlyValue(1.0));
  };
  if (Value kept = getScaledOperand(op, isOne)) {
    rewriter.replaceOp(op, kept);
    return success();
  }
  // x * -1.0 and x / -1.0 are -x, exactly.
  auto isMinusOne = [](Value v) {
    FloatAttr attr;
    return matchPattern(v, m_Constant(&attr)) &&
           attr.getValue().isExactlyValue(-1.0);
  };
  Value negated = getScaledOperand(op, isMinusOne);
  if (!negated)
    return failure();
  rewriter.replaceOpWithNewOp<arith::NegFOp>(op, negated);
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

/// The operand of `v`'s negation, or null.
Value getNegated(Value v) {
  auto neg = v.getDefiningOp<arith::NegFOp>();
  return neg ? neg.getOperand() : Value();
}

/// `x + -y` and `-y + x` are `x - y`, `x - -y` is `x + y`, `-(-x)` is `x`
/// and the negation of a constant is a constant, exactly (IEEE negation
/// only flips the sign).
LogicalResult addNeg(Operation *op, PatternRewriter &rewriter) {
  if (auto add = dyn_cast<arith::AddFOp>(op)) {
    Value lhs = add.getLhs(), rhs = add.getRhs();
    if (Value y = getNegated(rhs)) {
      rewriter.replaceOpWithNewOp<arith::SubFOp>(op, lhs, y,
                                                 add.getFastmathAttr());
      return success();
    }
    if (Value y = getNegated(lhs)) {
      rewriter.replaceOpWithNewOp<arith::SubFOp>(op, rhs, y,
                                                 add.getFastmathAttr());
      return success();
    }
    return failure();
  }
  if (auto sub = dyn_cast<arith::SubFOp>(op)) {
    Value y = getNegated(sub.getRhs());
    if (!y)
      return failure();
    rewriter.replaceOpWithNewOp<arith::AddFOp>(op, sub.getLhs(), y,
                                               sub.getFastmathAttr());
    return success();
  }
  if (auto neg = dyn_cast<arith::NegFOp>(op)) {
    if (Value x = getNegated(neg.getOperand())) {
      rewriter.replaceOp(op, x);
      return success();
    }
    FloatAttr constant;
    if (!matchPattern(neg.getOperand(), m_Constant(&constant)))
      return failure();
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, FloatAttr::get(constant.getType(), -constant.getValue()));
    return success();
  }
  return failure();
}

/// Whether a negation of `v` can move into each of its uses: an
/// addition, the subtrahend of a subtraction or a negation, which absorb it
/// (then `absorbed` is set), or a product or quotient, which passes it on
/// to its own uses.
bool isNegationAccepted(Value v, bool &absorbed) {
  absorbed = true;
  if (v.use_empty())
    return false;
  for (OpOperand &use : v.getUses()) {
    Operation *user = use.getOwner();
    if (isa<arith::AddFOp, arith::NegFOp>(user) ||
        (isa<arith::SubFOp>(user) && use.getOperandNumber() == 1))
      continue;
    if (!isa<arith::MulFOp, arith::DivFOp>(user))
      return false;
    absorbed = false;
  }
  return true;
}

/// `a * -b` and `-a * b` are `-(a * b)`, and so for quotients, exactly
/// (rounding to nearest is symmetric). The rule applies where the uses of
/// the product absorb the negation (add-neg), or where the product is the
/// negation's only use, in its block, and its uses absorb the negation or
/// pass it on: so it never adds an operation, nor moves one into a loop.
/// `-a * -b` is `a * b`, and so for quotients.
LogicalResult mulNeg(Operation *op, PatternRewriter &rewriter) {
  if (!isa<arith::MulFOp, arith::DivFOp>(op))
    return failure();
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  Value a = getNegated(lhs), b = getNegated(rhs);
  if (!a && !b)
    return failure();
  bool both = a && b;
  bool absorbed;
  if (!both && !isNegationAccepted(op->getResult(0), absorbed))
    return failure();
  if (!both && !absorbed) {
    Value negation = a ? lhs : rhs;
    if (!negation.hasOneUse() ||
        negation.getDefiningOp()->getBlock() != op->getBlock())
      return failure();
  }
  Value newLhs = a ? a : lhs, newRhs = b ? b : rhs;
  Location loc = op->getLoc();
  rewriter.setInsertionPoint(op);
  Value product;
  if (auto mul = dyn_cast<arith::MulFOp>(op))
    product = arith::MulFOp::create(rewriter, loc, newLhs, newRhs,
                                    mul.getFastmathAttr());
  else
    product = arith::DivFOp::create(rewriter, loc, newLhs, newRhs,
                                    cast<arith::DivFOp>(op).getFastmathAttr());
  if (both) {
    rewriter.replaceOp(op, product);
    return success();
  }
  rewriter.replaceOpWithNewOp<arith::NegFOp>(op, product);
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
             lz::AccumulateOp, lz::LoopOp>(op);
}

/// Whether `op` uses a value defined inside `scope`, in its operands or in
/// its regions.
bool usesValuesOf(Operation *op, Operation *scope) {
  auto inside = [&](Value v) {
    return scope->isAncestor(v.getParentRegion()->getParentOp());
  };
  if (llvm::any_of(op->getOperands(), inside))
    return true;
  if (op->getNumRegions() == 0)
    return false;
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(op->getRegions(), used);
  return llvm::any_of(used, inside);
}

/// An operation in the body of a scope or loop that uses nothing defined
/// inside it moves before it (let-floating, loop-invariant code motion):
/// operations without regions that cannot fail; out of a traversal over
/// the directions of a derivative (`ad.directions`), every operation
/// without effects, scopes and loops included, since what does not depend
/// on the direction is the evaluation of the function that the derivative
/// presupposes.
LogicalResult hoistInvariant(Operation *op, PatternRewriter &rewriter) {
  Operation *scope = op->getParentOp();
  if (!scope || !isScopeOp(scope) || op->hasTrait<OpTrait::IsTerminator>() ||
      op->getNumResults() == 0)
    return failure();
  bool directions = scope->hasAttr(ad::kDirectionsAttr);
  if (!isSafeToMove(op) && !(directions && isMemoryEffectFree(op)))
    return failure();
  if (usesValuesOf(op, scope))
    return failure();
  rewriter.moveOpBefore(op, scope);
  return success();
}

/// Whether `a` and `b` are the same value or equal constants.
bool sameValue(Value a, Value b) {
  if (a == b)
    return true;
  Attribute x, y;
  return a.getType() == b.getType() && matchPattern(a, m_Constant(&x)) &&
         matchPattern(b, m_Constant(&y)) && x == y;
}

/// An operation equal to one that dominates it (same name, operands,
/// attributes and types) is replaced by it: the first such operation in
/// program order.
LogicalResult commonSubexpression(Operation *op, PatternRewriter &rewriter) {
  // A constant: the first equal one before it in its block or in an
  // enclosing block (up to the function).
  if (op->getNumOperands() == 0 && op->hasTrait<OpTrait::ConstantLike>()) {
    Operation *best = nullptr;
    for (Operation *anchor = op; anchor && anchor->getBlock();
         anchor = anchor->getParentOp()) {
      for (Operation &other : *anchor->getBlock()) {
        if (&other == anchor)
          break;
        if (other.getName() == op->getName() &&
            other.getAttrDictionary() == op->getAttrDictionary() &&
            other.getResultTypes() == op->getResultTypes()) {
          best = &other;
          break;
        }
      }
      if (anchor->getParentOp() &&
          anchor->getParentOp()->hasTrait<OpTrait::IsIsolatedFromAbove>())
        break;
    }
    if (!best)
      return failure();
    rewriter.replaceOp(op, best->getResults());
    return success();
  }
  // Nothing moves: the equal operation already ran before `op`, so reads,
  // divisions and scopes qualify too; only effects do not.
  if (op->getNumOperands() == 0 || op->getNumResults() == 0 ||
      !isMemoryEffectFree(op))
    return failure();
  Operation *best = nullptr;
  for (Operation *other : op->getOperand(0).getUsers()) {
    // Values of the regions (arguments, results) found equivalent.
    llvm::DenseMap<Value, Value> equivalent;
    if (other == op || !OperationEquivalence::isEquivalentTo(
                           other, op,
                           [&](Value a, Value b) {
                             return success(sameValue(a, b) ||
                                            equivalent.lookup(a) == b);
                           },
                           [&](Value a, Value b) { equivalent[a] = b; },
                           OperationEquivalence::IgnoreLocations))
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

/// Whether `v` is a float constant zero of either sign.
bool isFloatZero(Value v) {
  FloatAttr attr;
  return matchPattern(v, m_Constant(&attr)) && attr.getValue().isZero();
}

/// `x * 0.0` and `0.0 * x` are 0.0 in real arithmetic (not in IEEE: with
/// an infinite or NaN `x` the product is NaN, with a negative `x` it is
/// -0.0).
LogicalResult mulZeroReal(Operation *op, PatternRewriter &rewriter) {
  auto mul = dyn_cast<arith::MulFOp>(op);
  if (!mul)
    return failure();
  Value zero = isFloatZero(mul.getRhs())   ? mul.getRhs()
               : isFloatZero(mul.getLhs()) ? mul.getLhs()
                                           : Value();
  if (!zero)
    return failure();
  rewriter.replaceOp(op, zero);
  return success();
}

/// `x + 0.0`, `0.0 + x` and `x - 0.0` are `x`, `0.0 - x` is `-x`, `-0.0` is
/// `0.0` and `0.0 / x` is `0.0`, in real arithmetic (IEEE differs in the
/// sign of zero, and `0.0 / x` where `x` is 0 or NaN).
LogicalResult addZeroReal(Operation *op, PatternRewriter &rewriter) {
  auto isZero = isFloatZero;
  if (auto add = dyn_cast<arith::AddFOp>(op)) {
    if (isZero(add.getRhs()) || isZero(add.getLhs())) {
      rewriter.replaceOp(op,
                         isZero(add.getRhs()) ? add.getLhs() : add.getRhs());
      return success();
    }
    return failure();
  }
  if (auto sub = dyn_cast<arith::SubFOp>(op)) {
    if (isZero(sub.getRhs())) {
      rewriter.replaceOp(op, sub.getLhs());
      return success();
    }
    if (isZero(sub.getLhs())) {
      rewriter.replaceOpWithNewOp<arith::NegFOp>(op, sub.getRhs());
      return success();
    }
    return failure();
  }
  if (auto neg = dyn_cast<arith::NegFOp>(op)) {
    if (!isZero(neg.getOperand()))
      return failure();
    rewriter.replaceOp(op, neg.getOperand());
    return success();
  }
  if (auto div = dyn_cast<arith::DivFOp>(op)) {
    if (!isZero(div.getLhs()))
      return failure();
    rewriter.replaceOp(op, div.getLhs());
    return success();
  }
  return failure();
}

/// An operation without regions whose operand is a conditional with one
/// result, used only here and defined in the same block, moves into both
/// branches: `f(if c then a else b) -> if c then f(a) else f(b)`. The
/// branches then compute what the operation computed (one-hot values meet
/// the ring rules there).
LogicalResult pushIntoIf(Operation *op, PatternRewriter &rewriter) {
  if (op->getNumRegions() != 0 || op->getNumResults() != 1 ||
      !isSafeToMove(op) || isa<scf::YieldOp, lz::YieldOp>(op))
    return failure();
  scf::IfOp ifOp;
  unsigned position = 0;
  for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
    auto candidate = operand.getDefiningOp<scf::IfOp>();
    if (candidate && candidate->getBlock() == op->getBlock() &&
        candidate.getNumResults() == 1 && !candidate.getElseRegion().empty() &&
        candidate->hasOneUse() &&
        llvm::count(op->getOperands(), operand) == 1) {
      ifOp = candidate;
      position = i;
      break;
    }
  }
  if (!ifOp)
    return failure();
  Type type = op->getResult(0).getType();
  rewriter.setInsertionPoint(op);
  auto newIf = scf::IfOp::create(rewriter, ifOp.getLoc(), TypeRange{type},
                                 ifOp.getCondition(),
                                 /*withElseRegion=*/true);
  for (auto [from, to] :
       {std::pair(ifOp.thenBlock(), &newIf.getThenRegion()),
        std::pair(ifOp.elseBlock(), &newIf.getElseRegion())}) {
    Block *block = &to->front();
    // The builder may have added a terminator.
    if (!block->empty())
      rewriter.eraseOp(&block->back());
    auto yield = cast<scf::YieldOp>(from->getTerminator());
    Value value = yield.getOperand(0);
    rewriter.inlineBlockBefore(from, block, block->end());
    rewriter.setInsertionPoint(yield);
    IRMapping mapping;
    mapping.map(op->getOperand(position), value);
    Operation *copy = rewriter.clone(*op, mapping);
    rewriter.modifyOpInPlace(yield,
                             [&] { yield->setOperand(0, copy->getResult(0)); });
  }
  rewriter.replaceOp(op, newIf.getResults());
  rewriter.eraseOp(ifOp);
  return success();
}

/// A conditional inside a branch of a conditional on the same condition
/// takes that branch's side.
LogicalResult ifSameCondition(Operation *op, PatternRewriter &rewriter) {
  auto ifOp = dyn_cast<scf::IfOp>(op);
  if (!ifOp)
    return failure();
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    auto outer = dyn_cast<scf::IfOp>(parent);
    if (!outer || !sameValue(outer.getCondition(), ifOp.getCondition()))
      continue;
    bool inThen = outer.getThenRegion().isAncestor(op->getParentRegion());
    Region &taken = inThen ? ifOp.getThenRegion() : ifOp.getElseRegion();
    if (taken.empty())
      return failure();
    Block &block = taken.front();
    auto yield = cast<scf::YieldOp>(block.getTerminator());
    SmallVector<Value> results(yield.getOperands());
    rewriter.inlineBlockBefore(&block, ifOp);
    rewriter.eraseOp(yield);
    rewriter.replaceOp(ifOp, results);
    return success();
  }
  return failure();
}

/// A conditional whose branches yield the same values, computing nothing
/// else, is those values; so is `select c, a, a`.
LogicalResult ifEqualBranches(Operation *op, PatternRewriter &rewriter) {
  if (auto select = dyn_cast<arith::SelectOp>(op)) {
    if (!sameValue(select.getTrueValue(), select.getFalseValue()))
      return failure();
    rewriter.replaceOp(op, select.getTrueValue());
    return success();
  }
  auto ifOp = dyn_cast<scf::IfOp>(op);
  if (!ifOp || ifOp.getNumResults() == 0 || ifOp.getElseRegion().empty())
    return failure();
  auto onlyYield = [](Block *block) {
    return &block->front() == &block->back();
  };
  // Constants in the branches count as the same value.
  auto thenYield = cast<scf::YieldOp>(ifOp.thenBlock()->getTerminator());
  auto elseYield = cast<scf::YieldOp>(ifOp.elseBlock()->getTerminator());
  auto isLocalConstant = [](Operation *def) {
    return def && def->hasTrait<OpTrait::ConstantLike>();
  };
  auto allowed = [&](Block *block) {
    return llvm::all_of(block->without_terminator(), [&](Operation &inner) {
      return isLocalConstant(&inner);
    });
  };
  if (!(onlyYield(ifOp.thenBlock()) || allowed(ifOp.thenBlock())) ||
      !(onlyYield(ifOp.elseBlock()) || allowed(ifOp.elseBlock())))
    return failure();
  SmallVector<Value> results;
  for (auto [a, b] :
       llvm::zip(thenYield.getOperands(), elseYield.getOperands())) {
    if (!sameValue(a, b))
      return failure();
    results.push_back(a);
  }
  // Constants defined in a branch move out with it.
  Block &block = *ifOp.thenBlock();
  rewriter.inlineBlockBefore(&block, ifOp);
  rewriter.eraseOp(thenYield);
  rewriter.replaceOp(ifOp, results);
  return success();
}

/// An operation that cannot fail, all of whose uses are in one branch of a
/// conditional in the same block, moves into that branch: it then runs only
/// where it is needed.
LogicalResult sinkIntoIf(Operation *op, PatternRewriter &rewriter) {
  if (op->getNumRegions() != 0 || op->use_empty() || !isMemoryEffectFree(op) ||
      op->hasTrait<OpTrait::ConstantLike>() ||
      op->hasTrait<OpTrait::IsTerminator>())
    return failure();
  Region *target = nullptr;
  for (Operation *user : op->getUsers()) {
    Operation *ancestor = op->getBlock()->findAncestorOpInBlock(*user);
    auto ifOp = dyn_cast_or_null<scf::IfOp>(ancestor);
    if (!ifOp || ancestor == user)
      return failure();
    Region *region = ifOp.getThenRegion().isAncestor(user->getParentRegion())
                         ? &ifOp.getThenRegion()
                         : &ifOp.getElseRegion();
    if (target && target != region)
      return failure();
    target = region;
  }
  rewriter.moveOpBefore(op, &target->front(), target->front().begin());
  return success();
}

/// Whether `func` calls itself, directly or through other functions.
bool isRecursive(func::FuncOp func) {
  SmallVector<func::FuncOp> worklist = {func};
  llvm::SmallPtrSet<Operation *, 8> seen;
  while (!worklist.empty()) {
    func::FuncOp current = worklist.pop_back_val();
    bool found = false;
    current.walk([&](func::CallOp call) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      if (!callee)
        return;
      if (callee == func)
        found = true;
      else if (seen.insert(callee).second)
        worklist.push_back(callee);
    });
    if (found)
      return true;
  }
  return false;
}

/// A call of a private function (a derivative or a lambda) with one block
/// that does not call itself is replaced by the function's body.
LogicalResult inlineCall(Operation *op, PatternRewriter &rewriter) {
  auto call = dyn_cast<func::CallOp>(op);
  if (!call)
    return failure();
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      op, call.getCalleeAttr());
  if (!callee || !callee.isPrivate() || callee.isExternal() ||
      !callee.getBody().hasOneBlock() || callee->isAncestor(op) ||
      isRecursive(callee))
    return failure();
  Block &body = callee.getBody().front();
  IRMapping mapping;
  mapping.map(body.getArguments(), call.getOperands());
  for (Operation &inner : body.without_terminator())
    rewriter.clone(inner, mapping);
  SmallVector<Value> results;
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(mapping.lookupOrDefault(v));
  rewriter.replaceOp(op, results);
  return success();
}

/// A matrix product with an operand computed by a traversal becomes its
/// scopes, `for i, j. sum k. A[i, k] * B[k, j]` (the meaning of lz.matmul),
/// so that fusion can read the traversal's elements.
LogicalResult matmulToScopes(Operation *op, PatternRewriter &rewriter) {
  auto matmul = dyn_cast<lz::MatmulOp>(op);
  if (!matmul || !(matmul.getLhs().getDefiningOp<lz::ForOp>() ||
                   matmul.getRhs().getDefiningOp<lz::ForOp>()))
    return failure();
  Value lhs = matmul.getLhs(), rhs = matmul.getRhs();
  auto resultType = cast<RankedTensorType>(matmul.getType());
  Type element = resultType.getElementType();
  Location loc = op->getLoc();
  Value rows = tensor::DimOp::create(rewriter, loc, lhs, 0);
  Value columns = tensor::DimOp::create(rewriter, loc, rhs, 1);
  Value inner = tensor::DimOp::create(rewriter, loc, lhs, 1);
  auto forOp = lz::ForOp::create(
      rewriter, loc, TypeRange{resultType}, ValueRange{rows, columns},
      [&](OpBuilder &b, Location loc, ValueRange ij) {
        Value sum = lz::SumOp::create(
            b, loc, element, ValueRange{inner},
            [&](OpBuilder &b, Location loc, ValueRange k) {
              Value a = lz::GetOp::create(b, loc, lhs, ValueRange{ij[0], k[0]});
              Value c = lz::GetOp::create(b, loc, rhs, ValueRange{k[0], ij[1]});
              Value product =
                  isa<FloatType>(element)
                      ? arith::MulFOp::create(b, loc, a, c).getResult()
                      : arith::MulIOp::create(b, loc, a, c).getResult();
              lz::YieldOp::create(b, loc, ValueRange{product});
            });
        lz::YieldOp::create(b, loc, ValueRange{sum});
      });
  rewriter.replaceOp(op, forOp.getResults());
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

/// The one-hot condition `k == j` of a conditional in a one-range sum,
/// `j` not depending on `k`: returns `j`, or null.
Value getOneHotPoint(lz::SumOp sum, scf::IfOp ifOp) {
  Value k = sum.getBody().front().getArgument(0);
  auto cmp = ifOp.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq)
    return Value();
  auto isIndex = [&](Value v) {
    if (v == k)
      return true;
    auto cast = v.getDefiningOp<arith::IndexCastOp>();
    return cast && cast.getIn() == k && cast.getType().isInteger(64);
  };
  auto isOutside = [&](Value v) {
    return !sum->isAncestor(v.getParentRegion()->getParentOp());
  };
  if (isIndex(cmp.getLhs()) && isOutside(cmp.getRhs()))
    return cmp.getRhs();
  if (isIndex(cmp.getRhs()) && isOutside(cmp.getLhs()))
    return cmp.getLhs();
  return Value();
}

/// `0 <= j < n`, for `j` an index or an integer and `n` an index.
Value buildInRange(PatternRewriter &rewriter, Location loc, Value j, Value n) {
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
  return arith::AndIOp::create(rewriter, loc, notNegative, belowSize);
}

/// `j` as an index.
Value castToIndex(PatternRewriter &rewriter, Location loc, Value j) {
  if (j.getType().isIndex())
    return j;
  return arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), j);
}

/// Creates `if 0 <= j < n` with a result of `type` before `sum`, and in its
/// then branch the operations of the sum's body but `ifOp`, at the point
/// j; returns the conditional, with the builder in its then branch and
/// `mapping` from the body to the copies.
scf::IfOp buildAtPoint(PatternRewriter &rewriter, lz::SumOp sum, scf::IfOp ifOp,
                       Value j, Type type, IRMapping &mapping) {
  Location loc = sum.getLoc();
  Block &body = sum.getBody().front();
  Value inRange = buildInRange(rewriter, loc, j, sum.getRanges()[0]);
  auto point = scf::IfOp::create(rewriter, loc, TypeRange{type}, inRange,
                                 /*withElseRegion=*/true);
  rewriter.setInsertionPointToStart(point.thenBlock());
  mapping.map(body.getArgument(0), castToIndex(rewriter, loc, j));
  for (Operation &inner : body.without_terminator())
    if (&inner != ifOp)
      rewriter.clone(inner, mapping);
  return point;
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
  auto ifOp = sum.getYield().getOperand(0).getDefiningOp<scf::IfOp>();
  if (!ifOp || ifOp->getBlock() != &body || ifOp.getNumResults() != 1 ||
      ifOp.getElseRegion().empty())
    return failure();
  // The conditional's value is the sum's summand and nothing else.
  if (!ifOp->hasOneUse())
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
  Value j = getOneHotPoint(sum, ifOp);
  if (!j)
    return failure();
  for (Operation &inner : body.without_terminator())
    if (&inner != ifOp && !isSafeToMove(&inner))
      return failure();

  Location loc = sum.getLoc();
  rewriter.setInsertionPoint(sum);
  Value n = sum.getRanges()[0];
  bool isFloat = isa<FloatType>(type);
  // The point j.
  IRMapping mapping;
  scf::IfOp newIf = buildAtPoint(rewriter, sum, ifOp, j, type, mapping);
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

/// Whether `op` computes a value for every input, in real arithmetic: no
/// reads, divisions or functions with a restricted domain.
bool isTotal(Operation &op) {
  return isa<arith::ConstantOp, arith::AddFOp, arith::SubFOp, arith::MulFOp,
             arith::NegFOp, arith::SelectOp, arith::CmpFOp, arith::CmpIOp,
             arith::ExtFOp, arith::TruncFOp, arith::AddIOp, arith::SubIOp,
             arith::MulIOp, arith::AndIOp, arith::OrIOp, arith::XOrIOp,
             arith::IndexCastOp, arith::SIToFPOp, arith::MaximumFOp,
             arith::MinimumFOp>(op);
}

/// sum k < n. (if k == j then a(k) else b(k)), j not depending on k, is
/// (sum k < n. b(k)) + (if 0 <= j < n then a(j) - b(j) else 0), in real
/// arithmetic (the float sum is reassociated). The body runs at j only
/// where the original sum ran it; the else branch, also computed at j,
/// must be total (`isTotal`).
LogicalResult sumOneHotSplit(Operation *op, PatternRewriter &rewriter) {
  auto sum = dyn_cast<lz::SumOp>(op);
  if (!sum || sum.getRanges().size() != 1 ||
      !isa<FloatType>(sum.getResult().getType()))
    return failure();
  Block &body = sum.getBody().front();
  auto ifOp = sum.getYield().getOperand(0).getDefiningOp<scf::IfOp>();
  if (!ifOp || ifOp->getBlock() != &body || ifOp.getNumResults() != 1 ||
      ifOp.getElseRegion().empty() || !ifOp->hasOneUse() ||
      !isMemoryEffectFree(sum))
    return failure();
  Value j = getOneHotPoint(sum, ifOp);
  if (!j)
    return failure();
  // b(j) is computed where the original computed a(j): b must be defined
  // everywhere.
  if (!llvm::all_of(ifOp.elseBlock()->without_terminator(), isTotal))
    return failure();
  Type type = sum.getResult().getType();
  Location loc = sum.getLoc();
  Value n = sum.getRanges()[0];
  rewriter.setInsertionPoint(sum);
  // The sum of the else branch.
  auto rest = lz::SumOp::create(
      rewriter, loc, type, ValueRange{n},
      [&](OpBuilder &b, Location loc, ValueRange k) {
        IRMapping mapping;
        mapping.map(body.getArgument(0), k[0]);
        for (Operation &inner : body.without_terminator())
          if (&inner != ifOp)
            b.clone(inner, mapping);
        for (Operation &inner : ifOp.elseBlock()->without_terminator())
          b.clone(inner, mapping);
        Value value = mapping.lookupOrDefault(
            cast<scf::YieldOp>(ifOp.elseBlock()->getTerminator())
                .getOperand(0));
        lz::YieldOp::create(b, loc, ValueRange{value});
      });
  // The correction at the point j.
  IRMapping mapping;
  scf::IfOp point = buildAtPoint(rewriter, sum, ifOp, j, type, mapping);
  IRMapping thenMapping = mapping;
  for (Operation &inner : ifOp.thenBlock()->without_terminator())
    rewriter.clone(inner, thenMapping);
  for (Operation &inner : ifOp.elseBlock()->without_terminator())
    rewriter.clone(inner, mapping);
  Value a = thenMapping.lookupOrDefault(
      cast<scf::YieldOp>(ifOp.thenBlock()->getTerminator()).getOperand(0));
  Value b = mapping.lookupOrDefault(
      cast<scf::YieldOp>(ifOp.elseBlock()->getTerminator()).getOperand(0));
  Value difference = arith::SubFOp::create(rewriter, loc, a, b);
  scf::YieldOp::create(rewriter, loc, difference);
  rewriter.setInsertionPointToStart(point.elseBlock());
  Value zero = arith::ConstantOp::create(rewriter, loc, type,
                                         rewriter.getZeroAttr(type));
  scf::YieldOp::create(rewriter, loc, zero);
  rewriter.setInsertionPointAfter(point);
  rewriter.replaceOpWithNewOp<arith::AddFOp>(sum, rest.getResult(),
                                             point.getResult(0));
  return success();
}

/// A sum whose body yields the constant +0.0 (or an integer 0) is that
/// constant, exactly: +0.0 + +0.0 is +0.0, and an empty sum is +0.0.
LogicalResult sumZero(Operation *op, PatternRewriter &rewriter) {
  auto sum = dyn_cast<lz::SumOp>(op);
  if (!sum || !isMemoryEffectFree(sum))
    return failure();
  Attribute value;
  if (!matchPattern(sum.getYield().getOperand(0), m_Constant(&value)))
    return failure();
  auto f = dyn_cast<FloatAttr>(value);
  auto i = dyn_cast<IntegerAttr>(value);
  if (!(f && f.getValue().isPosZero()) && !(i && i.getValue().isZero()))
    return failure();
  rewriter.replaceOpWithNewOp<arith::ConstantOp>(sum, cast<TypedAttr>(value));
  return success();
}

/// sum k. (x * f(k)), x not depending on k, is x * (sum k. f(k)); so for
/// f(k) * x and for a negation, in real arithmetic (rounding and the sign
/// of an empty sum differ).
LogicalResult sumFactor(Operation *op, PatternRewriter &rewriter) {
  auto sum = dyn_cast<lz::SumOp>(op);
  if (!sum || !isa<FloatType>(sum.getResult().getType()) ||
      !isMemoryEffectFree(sum))
    return failure();
  Value yielded = sum.getYield().getOperand(0);
  Operation *def = yielded.getDefiningOp();
  if (!def || def->getBlock() != &sum.getBody().front() || !yielded.hasOneUse())
    return failure();
  auto isOutside = [&](Value v) {
    return !sum->isAncestor(v.getParentRegion()->getParentOp());
  };
  Value factor, rest;
  if (auto mul = dyn_cast<arith::MulFOp>(def)) {
    if (isOutside(mul.getLhs()))
      factor = mul.getLhs(), rest = mul.getRhs();
    else if (isOutside(mul.getRhs()))
      factor = mul.getRhs(), rest = mul.getLhs();
  } else if (auto neg = dyn_cast<arith::NegFOp>(def)) {
    rest = neg.getOperand();
  }
  if (!rest || (factor == nullptr && !isa<arith::NegFOp>(def)))
    return failure();
  Location loc = sum.getLoc();
  rewriter.modifyOpInPlace(sum.getYield(),
                           [&] { sum.getYield()->setOperand(0, rest); });
  rewriter.eraseOp(def);
  rewriter.setInsertionPointAfter(sum);
  Value result =
      factor
          ? arith::MulFOp::create(rewriter, loc, factor, sum.getResult())
                .getResult()
          : arith::NegFOp::create(rewriter, loc, sum.getResult()).getResult();
  rewriter.replaceAllUsesExcept(sum.getResult(), result,
                                result.getDefiningOp());
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
  for (unsigned i = 0, e = forOp.getNumResults(); i < e; ++i) {
    auto single = lz::ForOp::create(
        rewriter, forOp.getLoc(), TypeRange{forOp.getResult(i).getType()},
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

/// For every value of `region`, the arguments of its entry block (by
/// position) that it depends on; an operation depends on what the
/// operations nested in it use. Also whether an operation with effects
/// depends on each argument.
struct Dependences {
  DenseMap<Value, llvm::BitVector> of;
  llvm::BitVector effects;

  explicit Dependences(Region &region) {
    Block &entry = region.front();
    unsigned size = entry.getNumArguments();
    effects.resize(size);
    unsigned numValues = size;
    region.walk([&](Operation *op) { numValues += op->getNumResults(); });
    of.reserve(numValues);
    for (auto [i, arg] : llvm::enumerate(entry.getArguments())) {
      llvm::BitVector bits(size);
      bits.set(i);
      of[arg] = bits;
    }
    region.walk<WalkOrder::PreOrder>([&](Operation *op) {
      llvm::BitVector bits(size);
      for (Value operand : op->getOperands()) {
        auto it = of.find(operand);
        if (it != of.end())
          bits |= it->second;
      }
      if (bits.none())
        return;
      if (!op->hasTrait<OpTrait::IsTerminator>() && !isMemoryEffectFree(op))
        effects |= bits;
      // The operation and those enclosing it, up to the region, depend.
      for (Operation *ancestor = op; ancestor != region.getParentOp();
           ancestor = ancestor->getParentOp())
        for (Value result : ancestor->getResults()) {
          auto [it, inserted] = of.try_emplace(result, bits);
          if (!inserted)
            it->second |= bits;
        }
    });
  }

  /// Whether `value` depends on argument `index`.
  bool dependsOn(Value value, unsigned index) const {
    auto it = of.find(value);
    return it != of.end() && it->second.test(index);
  }
};

/// The state values of `loop` that feed nothing but themselves: their
/// results are unused, and neither the other state values, nor the
/// condition, nor an operation with effects depend on them.
llvm::BitVector findDeadStates(lz::LoopOp loop) {
  unsigned numState = loop.getInits().size();
  llvm::BitVector dead(numState);
  for (unsigned i = 0; i < numState; ++i)
    dead[i] = loop.getResult(i).use_empty();
  if (dead.none())
    return dead;
  unsigned offset = loop.isCounted() ? 1 : 0;
  Dependences body(loop.getBody());
  ValueRange yields = loop.getYield().getOperands();
  for (unsigned i : dead.set_bits()) {
    if (body.effects.test(offset + i)) {
      dead.reset(i);
      continue;
    }
    for (auto [j, value] : llvm::enumerate(yields))
      if (j != i && body.dependsOn(value, offset + i)) {
        dead.reset(i);
        break;
      }
  }
  if (loop.isCounted() || loop.getCond().empty() || dead.none())
    return dead;
  Dependences cond(loop.getCond());
  for (unsigned i : dead.set_bits())
    if (cond.effects.test(i) ||
        llvm::any_of(loop.getCond().front().getTerminator()->getOperands(),
                     [&](Value v) { return cond.dependsOn(v, i); }))
      dead.reset(i);
  return dead;
}

/// The state values of an `lz.loop` that nothing uses (their results are
/// unused, and neither the other state values nor the condition depend on
/// them) are removed: the loop no longer computes them.
LogicalResult loopDeadState(Operation *op, PatternRewriter &rewriter) {
  auto loop = dyn_cast<lz::LoopOp>(op);
  if (!loop)
    return failure();
  llvm::BitVector dead = findDeadStates(loop);
  if (dead.none())
    return failure();

  SmallVector<Value> inits, deadInits;
  SmallVector<Type> types;
  for (auto [i, init] : llvm::enumerate(loop.getInits())) {
    if (dead.test(i)) {
      deadInits.push_back(init);
      continue;
    }
    inits.push_back(init);
    types.push_back(loop.getResult(i).getType());
  }
  auto newLoop = lz::LoopOp::create(rewriter, loop.getLoc(), types,
                                    loop.getCount(), inits);
  // The regions move over; a dead state's argument is replaced by its
  // initial value in the operations that only computed it (dce removes
  // them).
  SmallVector<unsigned> deadIndices(dead.set_bits_begin(), dead.set_bits_end());
  auto dropStates = [&](Region &region, unsigned offset) {
    Block &block = region.front();
    for (auto [index, init] :
         llvm::reverse(llvm::zip(deadIndices, deadInits))) {
      rewriter.replaceAllUsesWith(block.getArgument(offset + index), init);
      block.eraseArgument(offset + index);
    }
  };
  rewriter.inlineRegionBefore(loop.getBody(), newLoop.getBody(),
                              newLoop.getBody().end());
  // A new yield, so that the producers of the values it no longer yields
  // are tried again (they may have become dead, or their one use).
  lz::YieldOp yield = newLoop.getYield();
  SmallVector<Value> yielded;
  for (auto [i, value] : llvm::enumerate(yield.getOperands()))
    if (!dead.test(i))
      yielded.push_back(value);
  rewriter.setInsertionPoint(yield);
  rewriter.replaceOpWithNewOp<lz::YieldOp>(yield, yielded);
  dropStates(newLoop.getBody(), newLoop.isCounted() ? 1 : 0);
  if (!loop.getCond().empty()) {
    rewriter.inlineRegionBefore(loop.getCond(), newLoop.getCond(),
                                newLoop.getCond().end());
    dropStates(newLoop.getCond(), 0);
  }
  unsigned next = 0;
  for (auto [i, result] : llvm::enumerate(loop.getResults()))
    if (!dead.test(i))
      rewriter.replaceAllUsesWith(result, newLoop.getResult(next++));
  rewriter.eraseOp(loop);
  return success();
}

/// Whether `range` is provably not negative: a size, or a constant >= 0, or
/// the maximum of something and one of these.
bool isNonNegativeRange(Value range) {
  if (range.getDefiningOp<tensor::DimOp>())
    return true;
  if (std::optional<int64_t> constant = getConstantIntValue(range))
    return *constant >= 0;
  if (auto max = range.getDefiningOp<arith::MaxSIOp>())
    return isNonNegativeRange(max.getLhs()) || isNonNegativeRange(max.getRhs());
  return false;
}

/// Whether `body`, a loop's step, runs a traversal over `ranges`, directly
/// or in its loops and conditionals (a checkpointed reverse sweep
/// recomputes and reverses its segments in inner loops).
bool traversesRanges(Block &body, ValueRange ranges) {
  for (Operation &op : body) {
    auto forOp = dyn_cast<lz::ForOp>(op);
    if (forOp && forOp.getRanges().size() == ranges.size() &&
        llvm::all_of(llvm::zip(forOp.getRanges(), ranges), [](auto pair) {
          return sameValue(std::get<0>(pair), std::get<1>(pair));
        }))
      return true;
    if (!isa<lz::LoopOp, scf::IfOp>(op))
      continue;
    for (Region &region : op.getRegions())
      for (Block &block : region)
        if (traversesRanges(block, ranges))
          return true;
  }
  return false;
}

/// A float state of a counted loop that only sums: each step adds
/// `sum k < n. e(k)` to it, `n` known before the loop, and nothing else
/// reads it. It becomes a tensor state of `n` partial sums, to which each
/// step adds `for k < n. e(k)`, summed once after the loop: what was a
/// chain of dependent additions at every step becomes elementwise work,
/// which vectorizes, and which `nested-for-fusion` merges with the step's
/// traversal over the same ranges. So that the state's traffic rides on
/// that traversal, the step must have one, directly or in an inner loop or
/// conditional (a checkpointed sweep's segment, where the new traversal
/// adds one pass over the partial sums per segment). The ranges must be
/// provably not negative: the partial sums exist even when the loop runs no
/// step. Reverse mode yields this form for the cotangent of a scalar a loop
/// reads: the learning rate of a descent. Real arithmetic: the additions
/// are reassociated.
LogicalResult loopSumState(Operation *op, PatternRewriter &rewriter) {
  auto loop = dyn_cast<lz::LoopOp>(op);
  if (!loop || !loop.isCounted())
    return failure();
  Block &body = loop.getBody().front();
  lz::YieldOp yield = loop.getYield();
  for (unsigned i = 0, e = loop.getNumResults(); i < e; ++i) {
    BlockArgument state = loop.getBodyStateArgs()[i];
    auto type = dyn_cast<FloatType>(state.getType());
    if (!type || !state.hasOneUse() || loop.getResult(i).use_empty())
      continue;
    auto add = dyn_cast<arith::AddFOp>(*state.user_begin());
    if (!add || add->getBlock() != &body || !add->hasOneUse() ||
        *add->user_begin() != yield ||
        add->use_begin()->getOperandNumber() != i)
      continue;
    Value other = add.getLhs() == state ? add.getRhs() : add.getLhs();
    auto sum = other.getDefiningOp<lz::SumOp>();
    if (!sum || sum->getBlock() != &body || !sum->hasOneUse() ||
        sum.getType() != type || sum.getRanges().empty() ||
        llvm::any_of(sum.getRanges(),
                     [&](Value range) {
                       return loop.getBody().isAncestor(
                                  range.getParentRegion()) ||
                              !isNonNegativeRange(range);
                     }) ||
        !traversesRanges(body, sum.getRanges()))
      continue;

    // The partial sums start from -0.0, the exact identity of IEEE
    // addition, so that each is the sum of its terms.
    Location loc = sum.getLoc();
    SmallVector<Value> ranges(sum.getRanges());
    arith::FastMathFlagsAttr fastmath = add.getFastmathAttr();
    auto tensorType = RankedTensorType::get(
        SmallVector<int64_t>(ranges.size(), ShapedType::kDynamic), type);
    rewriter.setInsertionPoint(loop);
    Value identity = arith::ConstantOp::create(
        rewriter, loc, rewriter.getFloatAttr(type, -0.0));
    Value partials =
        lz::FillOp::create(rewriter, loc, tensorType, identity, ranges);
    Value init = loop.getInits()[i];
    rewriter.modifyOpInPlace(loop, [&] {
      loop.getInitsMutable()[i].set(partials);
      loop.getResult(i).setType(tensorType);
      state.setType(tensorType);
    });

    // Each step adds its terms to the partial sums.
    rewriter.setInsertionPoint(sum);
    auto forOp = lz::ForOp::create(
        rewriter, loc, TypeRange{tensorType}, ranges,
        [&](OpBuilder &b, Location loc, ValueRange indices) {
          IRMapping mapping;
          Block &sumBody = sum.getBody().front();
          mapping.map(sumBody.getArguments(), indices);
          for (Operation &inner : sumBody.without_terminator())
            b.clone(inner, mapping);
          Value term =
              mapping.lookupOrDefault(sumBody.getTerminator()->getOperand(0));
          Value partial = lz::GetOp::create(b, loc, state, indices);
          Value next = arith::AddFOp::create(b, loc, partial, term, fastmath);
          lz::YieldOp::create(b, loc, ValueRange{next});
        });
    rewriter.modifyOpInPlace(yield,
                             [&] { yield->setOperand(i, forOp.getResult(0)); });
    rewriter.eraseOp(add);
    rewriter.eraseOp(sum);

    // After the loop: the initial value plus the partial sums' sum.
    rewriter.setInsertionPointAfter(loop);
    Value result = loop.getResult(i);
    Operation *read = nullptr;
    auto total =
        lz::SumOp::create(rewriter, loc, type, ranges,
                          [&](OpBuilder &b, Location loc, ValueRange indices) {
                            auto partial =
                                lz::GetOp::create(b, loc, result, indices);
                            read = partial;
                            lz::YieldOp::create(b, loc, ValueRange{partial});
                          });
    Value sumOfAll =
        arith::AddFOp::create(rewriter, loc, init, total, fastmath);
    rewriter.replaceAllUsesExcept(result, sumOfAll, read);
    return success();
  }
  return failure();
}

/// Whether `range` is provably the size of dimension `dim` of `tensor`:
/// `tensor.dim` of it, or a constant equal to a static size.
bool isSizeOf(Value range, Value tensor, int64_t dim) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(dim)) {
    std::optional<int64_t> size = getConstantIntValue(range);
    return size && *size == type.getDimSize(dim);
  }
  auto dimOp = range.getDefiningOp<tensor::DimOp>();
  std::optional<int64_t> index =
      dimOp ? dimOp.getConstantIndex() : std::nullopt;
  return dimOp && dimOp.getSource() == tensor && index && *index == dim;
}

/// `for i < size(t, 0), ... . t[i, ...]` is `t`.
LogicalResult forIdentity(Operation *op, PatternRewriter &rewriter) {
  auto forOp = dyn_cast<lz::ForOp>(op);
  if (!forOp || forOp.getNumResults() != 1)
    return failure();
  Block &body = forOp.getBody().front();
  auto get = dyn_cast<lz::GetOp>(&body.front());
  if (!get || body.getOperations().size() != 2 ||
      forOp.getYield().getOperand(0) != get.getResult() ||
      get.getIndices() != ValueRange(body.getArguments()))
    return failure();
  Value tensor = get.getTensor();
  if (forOp.getBody().isAncestor(tensor.getParentRegion()))
    return failure();
  for (auto [d, range] : llvm::enumerate(forOp.getRanges()))
    if (!isSizeOf(range, tensor, d))
      return failure();
  Value result = tensor;
  if (result.getType() != forOp.getResult(0).getType())
    result = tensor::CastOp::create(rewriter, op->getLoc(),
                                    forOp.getResult(0).getType(), result);
  rewriter.replaceOp(op, result);
  return success();
}

/// How many of the element reads of `body` step through memory by more
/// than one element when `variable` advances: the reads that it indexes in
/// a dimension other than the last.
unsigned countStridedReads(Block &body, Value variable) {
  llvm::DenseSet<Value> dependents = lz::getDependents(body, variable);
  unsigned count = 0;
  body.walk([&](lz::GetOp get) {
    ValueRange indices = get.getIndices();
    if (llvm::any_of(indices.drop_back(),
                     [&](Value v) { return dependents.contains(v); }))
      ++count;
  });
  return count;
}

/// `accumulate i < n, k < m. (i, e)` into a tensor of size n is
/// `for i. sum k. e`: the yielded indices are distinct scope variables whose
/// ranges are the sizes of their dimensions, so that every element receives
/// exactly the points of the other variables.
///
/// The rewrite keeps the order of the loops, or chooses the better one: the
/// traversal's innermost loop is over the last summed variable, the
/// accumulation's over its last variable. Where a summed variable comes
/// before a yielded one, the traversal runs the loops in another order, and
/// the rewrite applies only if that order reads memory with no more strides
/// (counting the accumulation's writes): `accumulate k < m, i < n. (i,
/// A[k, i] * r[k])`, the transpose of `for k. sum i. A[k, i] * x[i]`, stays
/// an accumulation, whose loop nest reads `A` by rows and computes what
/// depends on `k` alone once per row, where `for i. sum k. A[k, i] * r[k]`
/// reads `A` by columns.
LogicalResult accumulateToFor(Operation *op, PatternRewriter &rewriter) {
  auto accumulate = dyn_cast<lz::AccumulateOp>(op);
  if (!accumulate || accumulate.getMasked())
    return failure();
  auto type = cast<RankedTensorType>(accumulate.getType());
  Block &body = accumulate.getBody().front();
  SmallVector<unsigned> targets;
  for (Value index : accumulate.getTargetIndices()) {
    auto arg = dyn_cast<BlockArgument>(index);
    if (!arg || arg.getOwner() != &body ||
        llvm::is_contained(targets, arg.getArgNumber()))
      return failure();
    targets.push_back(arg.getArgNumber());
  }
  if (targets.empty())
    return failure();
  ValueRange ranges = accumulate.getRanges();
  unsigned lastTarget = *llvm::max_element(targets);
  if (targets.size() != ranges.size() && lastTarget >= targets.size()) {
    // The loops change order: compare the strided accesses of the two
    // innermost loops.
    unsigned lastSummed = ranges.size() - 1;
    while (llvm::is_contained(targets, lastSummed))
      --lastSummed;
    unsigned lastRange = ranges.size() - 1;
    unsigned accumulateStrides =
        countStridedReads(body, body.getArgument(lastRange)) +
        (llvm::is_contained(targets, lastRange) && targets.back() != lastRange);
    if (countStridedReads(body, body.getArgument(lastSummed)) >
        accumulateStrides)
      return failure();
  }
  unsigned nextSize = 0;
  for (auto [d, target] : llvm::enumerate(targets)) {
    Value range = ranges[target];
    if (type.isDynamicDim(d)) {
      if (!sameValue(range, accumulate.getSizes()[nextSize++]))
        return failure();
    } else {
      std::optional<int64_t> size = getConstantIntValue(range);
      if (!size || *size != type.getDimSize(d))
        return failure();
    }
  }
  SmallVector<Value> forRanges, sumRanges;
  SmallVector<unsigned> others;
  for (unsigned target : targets)
    forRanges.push_back(ranges[target]);
  for (unsigned i = 0; i < ranges.size(); ++i)
    if (!llvm::is_contained(targets, i)) {
      others.push_back(i);
      sumRanges.push_back(ranges[i]);
    }
  Location loc = op->getLoc();
  Value value = accumulate.getTargetValue();
  auto cloneBody = [&](OpBuilder &b, IRMapping &mapping) {
    for (Operation &inner : body.without_terminator())
      b.clone(inner, mapping);
    return mapping.lookupOrDefault(value);
  };
  auto forOp = lz::ForOp::create(
      rewriter, loc, TypeRange{type}, forRanges,
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        IRMapping mapping;
        for (auto [target, index] : llvm::zip(targets, indices))
          mapping.map(body.getArgument(target), index);
        if (others.empty()) {
          lz::YieldOp::create(b, loc, cloneBody(b, mapping));
          return;
        }
        auto sum = lz::SumOp::create(
            b, loc, value.getType(), sumRanges,
            [&](OpBuilder &sb, Location loc, ValueRange sumIndices) {
              for (auto [other, index] : llvm::zip(others, sumIndices))
                mapping.map(body.getArgument(other), index);
              lz::YieldOp::create(sb, loc, cloneBody(sb, mapping));
            });
        lz::YieldOp::create(b, loc, sum.getResult());
      });
  rewriter.replaceOp(op, forOp.getResult(0));
  return success();
}

/// Whether computing `value` in `block` involves a scope, a loop, a
/// conditional or a call: its backward slice within the block.
bool isCostly(Value value, Block &block, llvm::DenseMap<Value, bool> &memo) {
  auto it = memo.find(value);
  if (it != memo.end())
    return it->second;
  Operation *def = value.getDefiningOp();
  bool costly = false;
  if (def && def->getBlock() == &block) {
    costly = def->getNumRegions() != 0 || isa<func::CallOp>(def);
    for (Value operand : def->getOperands())
      costly = costly || isCostly(operand, block, memo);
  }
  memo[value] = costly;
  return costly;
}

/// Whether the shape of `value`, a tensor, is known to be given by values
/// that `outside` accepts: a static shape, a traversal or fill over such
/// sizes, an accumulation into such sizes, a reduction whose body yields
/// such a tensor, a cast of one.
bool hasShapeFrom(Value value, function_ref<bool(Value)> outside) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return false;
  if (type.hasStaticShape())
    return true;
  Operation *def = value.getDefiningOp();
  if (!def)
    return false;
  if (auto forOp = dyn_cast<lz::ForOp>(def)) {
    if (!llvm::all_of(forOp.getRanges(), outside))
      return false;
    if (type.getRank() == static_cast<int64_t>(forOp.getRanges().size()))
      return true;
    // The body yields tensors: their shape too.
    unsigned index = cast<OpResult>(value).getResultNumber();
    return hasShapeFrom(forOp.getYield().getOperand(index), outside);
  }
  if (auto fill = dyn_cast<lz::FillOp>(def))
    return llvm::all_of(fill.getSizes(), outside);
  if (auto accumulate = dyn_cast<lz::AccumulateOp>(def))
    return llvm::all_of(accumulate.getSizes(), outside);
  if (lz::isReductionOp(def))
    return hasShapeFrom(
        def->getRegion(0).front().getTerminator()->getOperand(0), outside);
  if (auto cast = dyn_cast<tensor::CastOp>(def))
    return hasShapeFrom(cast.getSource(), outside);
  return false;
}

/// `sum i. (accumulate j. (idx, e))` is `accumulate i, j. (idx, e)`: one
/// accumulation over the product of the spaces, instead of a tensor per
/// point, when the accumulation's sizes do not depend on `i` and its ranges
/// do not either, or are variables of the sum (`sum i. accumulate j < i`, a
/// triangular space: then `j` ranges over the range of `i` and the points
/// with `j >= i` are masked out, without running the body).
/// What the accumulation uses of the sum's body is recomputed at every
/// point of the product where it is cheap, and otherwise computed once per
/// point of `i` by a traversal before it (`for i. v`) and read; the rest
/// of the sum's body is not computed there.
LogicalResult sumAccumulate(Operation *op, PatternRewriter &rewriter) {
  auto sum = dyn_cast<lz::SumOp>(op);
  if (!sum)
    return failure();
  Block &body = sum.getBody().front();
  Value yielded = sum.getYield().getOperand(0);
  auto accumulate = yielded.getDefiningOp<lz::AccumulateOp>();
  if (!accumulate || accumulate->getBlock() != &body || !yielded.hasOneUse())
    return failure();
  auto outside = [&](Value v) {
    return !sum.getBody().isAncestor(v.getParentRegion());
  };
  if (!llvm::all_of(accumulate.getSizes(), outside))
    return failure();
  // A range that is a variable of the sum (a triangular space) becomes that
  // variable's range, and the points beyond it are masked out.
  unsigned numOuter = sum.getRanges().size();
  SmallVector<Value> innerRanges;
  SmallVector<std::pair<unsigned, unsigned>> bounds;
  for (auto [j, range] : llvm::enumerate(accumulate.getRanges())) {
    if (outside(range)) {
      innerRanges.push_back(range);
      continue;
    }
    auto arg = dyn_cast<BlockArgument>(range);
    if (!arg || arg.getOwner() != &body)
      return failure();
    innerRanges.push_back(sum.getRanges()[arg.getArgNumber()]);
    bounds.push_back({static_cast<unsigned>(j), arg.getArgNumber()});
  }
  Type valueType = accumulate.getTargetValue().getType();
  if (!bounds.empty() && !isa<FloatType, IntegerType>(valueType))
    return failure();
  for (Operation &inner : body.without_terminator())
    if (&inner != accumulate && !isMemoryEffectFree(&inner))
      return failure();
  // The values of the sum's body that the accumulation uses, and those of
  // them to compute once per point of `i`.
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(accumulate.getBody(), used);
  llvm::DenseMap<Value, bool> memo;
  SmallVector<Value> stored;
  for (Value value : used) {
    if (outside(value) || isa<BlockArgument>(value) ||
        !isCostly(value, body, memo))
      continue;
    // Scalars, and tensors whose shape does not depend on the point.
    if (!isa<FloatType, IntegerType, IndexType>(value.getType()) &&
        !hasShapeFrom(value, outside))
      return failure();
    stored.push_back(value);
  }
  // The operations of the sum's body that the merged body computes again:
  // what the accumulation uses, transitively, short of the stored values.
  // (The rest, a stored value's operation included, is not computed there.)
  llvm::SmallPtrSet<Operation *, 16> recomputed;
  SmallVector<Value> worklist(used.begin(), used.end());
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != &body || llvm::is_contained(stored, value) ||
        !recomputed.insert(def).second)
      continue;
    def->walk([&](Operation *nested) {
      llvm::append_range(worklist, nested->getOperands());
    });
  }
  Location loc = op->getLoc();
  SmallVector<Value> tables;
  if (!stored.empty()) {
    SmallVector<Type> types;
    for (Value value : stored) {
      SmallVector<int64_t> shape(numOuter, ShapedType::kDynamic);
      Type element = value.getType();
      if (auto tensor = dyn_cast<RankedTensorType>(element)) {
        llvm::append_range(shape, tensor.getShape());
        element = tensor.getElementType();
      }
      types.push_back(RankedTensorType::get(shape, element));
    }
    auto table =
        lz::ForOp::create(rewriter, loc, types, sum.getRanges(),
                          [&](OpBuilder &b, Location loc, ValueRange indices) {
                            IRMapping mapping;
                            mapping.map(body.getArguments(), indices);
                            for (Operation &outer : body.without_terminator())
                              if (&outer != accumulate)
                                b.clone(outer, mapping);
                            SmallVector<Value> yields;
                            for (Value value : stored)
                              yields.push_back(mapping.lookupOrDefault(value));
                            lz::YieldOp::create(b, loc, yields);
                          });
    llvm::append_range(tables, table.getResults());
  }
  SmallVector<Value> ranges(sum.getRanges());
  llvm::append_range(ranges, innerRanges);
  Block &inner = accumulate.getBody().front();
  bool masked = accumulate.getMasked() || !bounds.empty();
  auto merged = lz::AccumulateOp::create(
      rewriter, loc, accumulate.getType(), ranges, accumulate.getSizes(),
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        IRMapping mapping;
        ValueRange outerIndices = indices.take_front(numOuter);
        mapping.map(body.getArguments(), outerIndices);
        for (auto [value, table] : llvm::zip(stored, tables))
          mapping.map(value, lz::GetOp::create(b, loc, table, outerIndices));
        for (Operation &outer : body.without_terminator())
          if (recomputed.contains(&outer))
            b.clone(outer, mapping);
        mapping.map(inner.getArguments(), indices.drop_front(numOuter));
        // The inner body's yields, with a mask when the result is masked.
        auto cloneInner = [&](OpBuilder &ib) {
          for (Operation &op : inner.without_terminator())
            ib.clone(op, mapping);
          SmallVector<Value> yields;
          if (masked && !accumulate.getMasked())
            yields.push_back(arith::ConstantIntOp::create(ib, loc, 1, 1));
          for (Value v : accumulate.getYield().getValues())
            yields.push_back(mapping.lookupOrDefault(v));
          return yields;
        };
        if (bounds.empty()) {
          lz::YieldOp::create(b, loc, cloneInner(b));
          return;
        }
        // Only the points of the triangular space run the body.
        Value inside;
        for (auto [j, k] : bounds) {
          Value below =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                    indices[numOuter + j], indices[k]);
          inside =
              inside ? arith::AndIOp::create(b, loc, inside, below) : below;
        }
        auto ifOp = scf::IfOp::create(
            b, loc, inside,
            [&](OpBuilder &tb, Location loc) {
              scf::YieldOp::create(tb, loc, cloneInner(tb));
            },
            [&](OpBuilder &eb, Location loc) {
              SmallVector<Value> none = {
                  arith::ConstantIntOp::create(eb, loc, 0, 1)};
              Value zeroIndex = arith::ConstantIndexOp::create(eb, loc, 0);
              for (unsigned d = 0; d < accumulate.getTargetIndices().size();
                   ++d)
                none.push_back(zeroIndex);
              none.push_back(arith::ConstantOp::create(
                  eb, loc, valueType, eb.getZeroAttr(valueType)));
              scf::YieldOp::create(eb, loc, none);
            });
        lz::YieldOp::create(b, loc, ifOp.getResults());
      });
  merged.setMasked(masked);
  rewriter.replaceOp(op, merged.getResult());
  return success();
}

/// Whether the body of `accumulate` has only operations without effects.
bool hasPureBody(lz::AccumulateOp accumulate) {
  bool pure = true;
  accumulate.getBody().walk([&](Operation *inner) {
    pure &=
        inner->hasTrait<OpTrait::IsTerminator>() || isMemoryEffectFree(inner);
  });
  return pure;
}

/// Whether the value that `accumulate` adds is linear in `value`, a float
/// of its body used once at each step up to it (products and quotients by
/// what is not in `dependents`, negations, a conditional whose other branch
/// yields zero), and nothing else that the body yields (the target, the
/// mask) is in `dependents`: the values that depend on the variable that
/// `value` reads at.
bool isAddedLinearly(lz::AccumulateOp accumulate, Value value,
                     const llvm::DenseSet<Value> &dependents) {
  Value result = accumulate.getTargetValue();
  while (value != result && value.hasOneUse()) {
    OpOperand &use = *value.use_begin();
    Operation *user = use.getOwner();
    Value next;
    if (isa<arith::MulFOp>(user) ||
        (isa<arith::DivFOp>(user) && use.getOperandNumber() == 0)) {
      if (!dependents.contains(user->getOperand(1 - use.getOperandNumber())))
        next = user->getResult(0);
    } else if (isa<arith::NegFOp>(user)) {
      next = user->getResult(0);
    } else if (auto yield = dyn_cast<scf::YieldOp>(user)) {
      // A branch of a conditional whose other branch yields zero.
      auto ifOp = dyn_cast<scf::IfOp>(yield->getParentOp());
      if (ifOp && ifOp.elseBlock()) {
        unsigned n = use.getOperandNumber();
        scf::YieldOp other = yield->getBlock() == ifOp.thenBlock()
                                 ? ifOp.elseYield()
                                 : ifOp.thenYield();
        if (matchPattern(other.getOperand(n), m_AnyZeroFloat()))
          next = ifOp.getResult(n);
      }
    }
    if (!next)
      return false;
    value = next;
  }
  if (value != result)
    return false;
  // getDependents counts every result of a conditional that computes the
  // chain: such a result depends on the variable only through its
  // condition or its yields.
  auto isIndependent = [&](Value v) {
    if (!dependents.contains(v))
      return true;
    auto ifOp = v.getDefiningOp<scf::IfOp>();
    if (!ifOp)
      return false;
    unsigned n = cast<OpResult>(v).getResultNumber();
    return !dependents.contains(ifOp.thenYield().getOperand(n)) &&
           !dependents.contains(ifOp.elseYield().getOperand(n)) &&
           !dependents.contains(ifOp.getCondition());
  };
  return llvm::all_of(accumulate.getYield().getOperands().drop_back(),
                      isIndependent);
}

/// Replaces `accumulate` by the same accumulation without `variable`,
/// which its body no longer uses.
void dropVariable(lz::AccumulateOp accumulate, BlockArgument variable,
                  PatternRewriter &rewriter) {
  Block &body = accumulate.getBody().front();
  unsigned position = variable.getArgNumber();
  rewriter.setInsertionPoint(accumulate);
  SmallVector<Value> ranges;
  for (auto [i, r] : llvm::enumerate(accumulate.getRanges()))
    if (i != position)
      ranges.push_back(r);
  auto reduced = lz::AccumulateOp::create(
      rewriter, accumulate.getLoc(), accumulate.getType(), ranges,
      accumulate.getSizes(),
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        IRMapping mapping;
        for (BlockArgument arg : body.getArguments())
          if (arg != variable)
            mapping.map(
                arg,
                indices[arg.getArgNumber() - (arg.getArgNumber() > position)]);
        for (Operation &inner : body.without_terminator())
          b.clone(inner, mapping);
        SmallVector<Value> values;
        for (Value v : accumulate.getYield().getOperands())
          values.push_back(mapping.lookupOrDefault(v));
        lz::YieldOp::create(b, loc, values);
      });
  reduced.setMasked(accumulate.getMasked());
  rewriter.replaceOp(accumulate, reduced.getResult());
}

/// `accumulate k, j. (idx, c * t[..., k, ...])`, where `k` is in neither
/// the target nor the mask and only in one read, outside every conditional
/// of the body, whose other indices are distinct variables `j'` of the
/// accumulation or values from outside it, and where the value is linear
/// in that read (products and quotients by what does not depend on `k`,
/// negations, a conditional whose other branch yields zero): `accumulate
/// j. (idx, c * s[j'])` with `s = for j'. sum k. t[..., k, ...]` before it
/// (summing no point where the other variables have none, so that it reads
/// what the accumulation read). Only where some variable of `j` is not
/// among `j'`: the sum over `k` is then computed once for all its points,
/// where the accumulation multiplied and added at each. The GMM's
/// gradient with respect to its means adds, per point, its factor's
/// column times the point's cotangent; the factor does not depend on the
/// point, so the cotangents are summed over the points first.
LogicalResult accumulateSumRead(Operation *op, PatternRewriter &rewriter) {
  auto accumulate = dyn_cast<lz::AccumulateOp>(op);
  if (!accumulate || !isa<FloatType>(accumulate.getTargetValue().getType()) ||
      accumulate.getRanges().size() < 2)
    return failure();
  if (!hasPureBody(accumulate))
    return failure();
  Block &body = accumulate.getBody().front();
  auto isOutside = [&](Value v) {
    return !accumulate->isAncestor(v.getParentRegion()->getParentOp());
  };
  for (BlockArgument variable : body.getArguments()) {
    // The read: the only use of `k`, once.
    if (!variable.hasOneUse())
      continue;
    // In the body's block, so that the accumulation read it at every point
    // (not only under a condition): the sums read nothing else.
    auto read = dyn_cast<lz::GetOp>(*variable.getUsers().begin());
    if (!read || read->getBlock() != &body || !isa<FloatType>(read.getType()) ||
        !isOutside(read.getTensor()))
      continue;
    SmallVector<Value> kept;
    bool valid = true;
    for (Value index : read.getIndices()) {
      if (index == variable)
        continue;
      auto arg = dyn_cast<BlockArgument>(index);
      if (arg && arg.getOwner() == &body && !llvm::is_contained(kept, arg))
        kept.push_back(arg);
      else if (!isOutside(index))
        valid = false;
    }
    if (!valid || kept.size() + 1 >= body.getNumArguments())
      continue;
    llvm::DenseSet<Value> dependents = lz::getDependents(body, variable);
    if (!isAddedLinearly(accumulate, read.getResult(), dependents))
      continue;

    // The sums over `k`, before the accumulation.
    Location loc = accumulate.getLoc();
    Type element = read.getType();
    unsigned position = variable.getArgNumber();
    Value range = accumulate.getRanges()[position];
    rewriter.setInsertionPoint(accumulate);
    // Where the other variables have no points, the accumulation reads
    // nothing, and neither do the sums.
    Value positive;
    for (BlockArgument arg : body.getArguments()) {
      Value other = accumulate.getRanges()[arg.getArgNumber()];
      std::optional<int64_t> size = getConstantIntValue(other);
      if (arg == variable || llvm::is_contained(kept, arg) ||
          (size && *size > 0))
        continue;
      Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value p = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt,
                                      other, zero);
      positive =
          positive ? arith::AndIOp::create(rewriter, loc, positive, p) : p;
    }
    if (positive)
      range = arith::SelectOp::create(
          rewriter, loc, positive, range,
          arith::ConstantIndexOp::create(rewriter, loc, 0));
    auto buildSum = [&](OpBuilder &b, Location loc, ValueRange at) {
      return lz::SumOp::create(
                 b, loc, element, ValueRange{range},
                 [&](OpBuilder &sb, Location loc, ValueRange k) {
                   SmallVector<Value> indices;
                   for (Value index : read.getIndices()) {
                     if (index == variable) {
                       indices.push_back(k[0]);
                       continue;
                     }
                     auto it = llvm::find(kept, index);
                     indices.push_back(
                         it == kept.end() ? index : at[it - kept.begin()]);
                   }
                   lz::YieldOp::create(
                       sb, loc,
                       ValueRange{lz::GetOp::create(sb, loc, read.getTensor(),
                                                    indices)});
                 })
          .getResult();
    };
    Value sums;
    if (kept.empty()) {
      sums = buildSum(rewriter, loc, {});
    } else {
      SmallVector<Value> keptRanges;
      for (Value arg : kept)
        keptRanges.push_back(
            accumulate.getRanges()[cast<BlockArgument>(arg).getArgNumber()]);
      auto type = RankedTensorType::get(
          SmallVector<int64_t>(kept.size(), ShapedType::kDynamic), element);
      sums = lz::ForOp::create(rewriter, loc, TypeRange{type}, keptRanges,
                               [&](OpBuilder &b, Location loc, ValueRange at) {
                                 lz::YieldOp::create(
                                     b, loc, ValueRange{buildSum(b, loc, at)});
                               })
                 .getResult(0);
    }
    // The accumulation without `k`, reading the sums where it read `t`.
    rewriter.setInsertionPoint(read);
    Value sum = kept.empty()
                    ? sums
                    : lz::GetOp::create(rewriter, loc, sums, kept).getResult();
    rewriter.replaceOp(read, sum);
    dropVariable(accumulate, variable, rewriter);
    return success();
  }
  return failure();
}

/// The variables (block arguments of `body`) that `index` is, or adds (two
/// of them), through casts between index and 64-bit integers; none for any
/// other index.
SmallVector<BlockArgument, 2> getAddedVariables(Value index, Block &body) {
  auto strip = [](Value v) {
    while (auto cast = v.getDefiningOp<arith::IndexCastOp>())
      v = cast.getIn();
    return v;
  };
  auto asVariable = [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(strip(v));
    return arg && arg.getOwner() == &body ? arg : BlockArgument();
  };
  if (BlockArgument arg = asVariable(index))
    return {arg};
  auto add = strip(index).getDefiningOp<arith::AddIOp>();
  if (!add)
    return {};
  BlockArgument lhs = asVariable(add.getLhs()), rhs = asVariable(add.getRhs());
  if (!lhs || !rhs || lhs == rhs)
    return {};
  return {lhs, rhs};
}

/// `accumulate k..., j... . ((idx..., x + v), e)`, a stencil's scatter-add
/// (a convolution's gradient with respect to its input), where the
/// variables `k` are in no index of the target, and `x` (one of the
/// variables that the last index adds, not a short constant range) is in
/// no other index, and every read of `e` that depends on `x` reads it in
/// its last index only (some do): `accumulate j... . ((idx..., x + v), sum
/// k... . e)`. Each point of `j` adds one value, a sum of the terms of the
/// points of `k`, where each point of `k, j` loaded and stored its element
/// of the result: lower-lz then computes the sums of consecutive `x` in
/// vector registers, as a row, and adds the row into the result (a
/// convolution's gradient adds the terms of its output channels first).
/// The body must be free of effects and regions.
LogicalResult accumulateInnerSum(Operation *op, PatternRewriter &rewriter) {
  auto accumulate = dyn_cast<lz::AccumulateOp>(op);
  if (!accumulate || accumulate.getMasked() ||
      !isa<FloatType>(accumulate.getTargetValue().getType()) ||
      accumulate.getRanges().size() < 3 || !hasPureBody(accumulate))
    return failure();
  Block &body = accumulate.getBody().front();
  for (Operation &inner : body.without_terminator())
    if (inner.getNumRegions() != 0)
      return failure();
  ValueRange target = accumulate.getTargetIndices();
  if (target.empty())
    return failure();
  SmallVector<llvm::DenseSet<Value>> dependents;
  for (BlockArgument arg : body.getArguments())
    dependents.push_back(lz::getDependents(body, arg));
  auto dependsOn = [&](Value v, BlockArgument arg) {
    return v == arg || dependents[arg.getArgNumber()].contains(v);
  };
  // The variables in no index of the target, which the value uses.
  SmallVector<BlockArgument> summed, kept;
  for (BlockArgument arg : body.getArguments()) {
    bool inTarget = llvm::any_of(
        target, [&](Value index) { return dependsOn(index, arg); });
    if (!inTarget && !arg.use_empty())
      summed.push_back(arg);
    else
      kept.push_back(arg);
  }
  if (summed.empty() || kept.size() < 2)
    return failure();
  // The row's variable `x`.
  SmallVector<BlockArgument, 2> added = getAddedVariables(target.back(), body);
  if (added.size() != 2)
    return failure();
  auto isRowVariable = [&](BlockArgument x) {
    std::optional<int64_t> size =
        getConstantIntValue(accumulate.getRanges()[x.getArgNumber()]);
    if ((size && *size < 16) ||
        llvm::any_of(target.drop_back(),
                     [&](Value index) { return dependsOn(index, x); }))
      return false;
    bool some = false, onlyLast = true;
    body.walk([&](lz::GetOp read) {
      if (isa<ShapedType>(read.getType())) {
        onlyLast = false;
        return;
      }
      ValueRange indices = read.getIndices();
      if (indices.empty())
        return;
      onlyLast &= llvm::none_of(indices.drop_back(), [&](Value index) {
        return dependsOn(index, x);
      });
      some |= dependsOn(indices.back(), x) &&
              llvm::any_of(summed, [&](BlockArgument k) {
                return dependsOn(read.getResult(), k);
              });
    });
    return onlyLast && some;
  };
  if (llvm::none_of(added, isRowVariable))
    return failure();

  // The value's operations that depend on a summed variable move into the
  // sum, the others stay.
  auto isSummed = [&](Operation &inner) {
    return llvm::any_of(inner.getResults(), [&](Value result) {
      return llvm::any_of(
          summed, [&](BlockArgument k) { return dependsOn(result, k); });
    });
  };
  // What stays outside the sum is the target's integers: the value's
  // operations all move (lower-lz computes such sums row by row).
  for (Operation &inner : body.without_terminator())
    if (!isSummed(inner) && llvm::any_of(inner.getResultTypes(), [](Type type) {
          return !type.isIntOrIndex();
        }))
      return failure();
  Value value = accumulate.getTargetValue();
  SmallVector<Value> keptRanges, summedRanges;
  for (BlockArgument arg : kept)
    keptRanges.push_back(accumulate.getRanges()[arg.getArgNumber()]);
  for (BlockArgument arg : summed)
    summedRanges.push_back(accumulate.getRanges()[arg.getArgNumber()]);
  rewriter.setInsertionPoint(accumulate);
  auto reduced = lz::AccumulateOp::create(
      rewriter, accumulate.getLoc(), accumulate.getType(), keptRanges,
      accumulate.getSizes(),
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        IRMapping mapping;
        for (auto [arg, index] : llvm::zip_equal(kept, indices))
          mapping.map(arg, index);
        for (Operation &inner : body.without_terminator())
          if (!isSummed(inner))
            b.clone(inner, mapping);
        Value sum =
            lz::SumOp::create(
                b, loc, value.getType(), summedRanges,
                [&](OpBuilder &sb, Location, ValueRange ks) {
                  IRMapping inSum = mapping;
                  for (auto [arg, k] : llvm::zip_equal(summed, ks))
                    inSum.map(arg, k);
                  for (Operation &inner : body.without_terminator())
                    if (isSummed(inner))
                      sb.clone(inner, inSum);
                  lz::YieldOp::create(sb, loc, inSum.lookupOrDefault(value));
                })
                .getResult();
        SmallVector<Value> yielded;
        for (Value index : target)
          yielded.push_back(mapping.lookupOrDefault(index));
        yielded.push_back(sum);
        lz::YieldOp::create(b, loc, yielded);
      });
  rewriter.replaceOp(accumulate, reduced.getResult());
  return success();
}

/// `accumulate l, j. (idx, c * P[p..., l, j'])` where `P = for p. A @ B`
/// (or `P = A @ B`) is read only there, `l` is used only by that read and
/// is in neither the target nor the mask, and the value is linear in the
/// read (as for `accumulate-sum-read`): `accumulate j. (idx, c * R[p...,
/// j'])` with `R = for p, j'. sum m. (sum l. A[l, m]) * B[m, j']` before
/// it. The rows of each product are summed through the rows of its left
/// operand: m n + n o multiplications and additions per point of `p` where
/// the product and the accumulation took m n o and m o. The dense GMM's
/// gradient with respect to its means sums, per component, the rows of the
/// centered points' cotangent times the factor.
LogicalResult accumulateMatmulRows(Operation *op, PatternRewriter &rewriter) {
  auto accumulate = dyn_cast<lz::AccumulateOp>(op);
  if (!accumulate || !isa<FloatType>(accumulate.getTargetValue().getType()) ||
      accumulate.getRanges().size() < 2 || !hasPureBody(accumulate))
    return failure();
  Block &body = accumulate.getBody().front();
  for (BlockArgument variable : body.getArguments()) {
    if (!variable.hasOneUse())
      continue;
    auto read = dyn_cast<lz::GetOp>(*variable.getUsers().begin());
    if (!read || !isa<FloatType>(read.getType()) ||
        accumulate->isAncestor(
            read.getTensor().getParentRegion()->getParentOp()) ||
        !read.getTensor().hasOneUse())
      continue;
    // The product, in the body of the traversal that yields it.
    Value product = read.getTensor();
    auto forOp = product.getDefiningOp<lz::ForOp>();
    unsigned numOuter = 0;
    if (forOp) {
      if (forOp.getNumResults() != 1)
        continue;
      product = forOp.getYield().getOperand(0);
      numOuter = forOp.getRanges().size();
    }
    auto matmul = product.getDefiningOp<lz::MatmulOp>();
    if (!matmul || (forOp && matmul->getBlock() != &forOp.getBody().front()))
      continue;
    ValueRange indices = read.getIndices();
    if (indices.size() != numOuter + 2 || indices[numOuter] != variable)
      continue;
    llvm::DenseSet<Value> dependents = lz::getDependents(body, variable);
    if (!isAddedLinearly(accumulate, read.getResult(), dependents))
      continue;

    Location loc = accumulate.getLoc();
    Type element = read.getType();
    auto vectorType = RankedTensorType::get({ShapedType::kDynamic}, element);
    Value rowRange = accumulate.getRanges()[variable.getArgNumber()];
    // for j < o. sum m < n. (sum l. A[l, m]) * B[m, j], the sum over l
    // ending where the accumulation's does, and at A's last row (where the
    // other variables have no points, the accumulation reads no row).
    auto buildRow = [&](OpBuilder &b, Location loc, Value lhs,
                        Value rhs) -> Value {
      Value rows = tensor::DimOp::create(b, loc, lhs, 0);
      Value inner = tensor::DimOp::create(b, loc, lhs, 1);
      Value columns = tensor::DimOp::create(b, loc, rhs, 1);
      Value count = arith::MinSIOp::create(b, loc, rowRange, rows);
      Value sums = lz::ForOp::create(
                       b, loc, TypeRange{vectorType}, ValueRange{inner},
                       [&](OpBuilder &fb, Location loc, ValueRange m) {
                         Value sum = lz::SumOp::create(
                             fb, loc, element, ValueRange{count},
                             [&](OpBuilder &sb, Location loc, ValueRange l) {
                               lz::YieldOp::create(
                                   sb, loc,
                                   ValueRange{lz::GetOp::create(
                                       sb, loc, lhs, ValueRange{l[0], m[0]})});
                             });
                         lz::YieldOp::create(fb, loc, ValueRange{sum});
                       })
                       .getResult(0);
      return lz::ForOp::create(
                 b, loc, TypeRange{vectorType}, ValueRange{columns},
                 [&](OpBuilder &fb, Location loc, ValueRange j) {
                   Value sum = lz::SumOp::create(
                       fb, loc, element, ValueRange{inner},
                       [&](OpBuilder &sb, Location loc, ValueRange m) {
                         Value a = lz::GetOp::create(sb, loc, sums, m);
                         Value x = lz::GetOp::create(sb, loc, rhs,
                                                     ValueRange{m[0], j[0]});
                         lz::YieldOp::create(
                             sb, loc,
                             ValueRange{arith::MulFOp::create(sb, loc, a, x)});
                       });
                   lz::YieldOp::create(fb, loc, ValueRange{sum});
                 })
          .getResult(0);
    };
    rewriter.setInsertionPoint(accumulate);
    Value rowSums;
    if (!forOp) {
      rowSums = buildRow(rewriter, loc, matmul.getLhs(), matmul.getRhs());
    } else {
      auto type = RankedTensorType::get(
          SmallVector<int64_t>(numOuter + 1, ShapedType::kDynamic), element);
      rowSums = lz::ForOp::create(
                    rewriter, loc, TypeRange{type}, forOp.getRanges(),
                    [&](OpBuilder &b, Location loc, ValueRange at) {
                      IRMapping mapping;
                      mapping.map(forOp.getBody().front().getArguments(), at);
                      for (Operation &inner :
                           forOp.getBody().front().without_terminator())
                        b.clone(inner, mapping);
                      lz::YieldOp::create(
                          b, loc,
                          ValueRange{buildRow(
                              b, loc, mapping.lookupOrDefault(matmul.getLhs()),
                              mapping.lookupOrDefault(matmul.getRhs()))});
                    })
                    .getResult(0);
    }
    // The accumulation without `l`, reading the sums where it read `P`.
    SmallVector<Value> at(indices.take_front(numOuter));
    at.push_back(indices.back());
    rewriter.setInsertionPoint(read);
    rewriter.replaceOp(read, lz::GetOp::create(rewriter, loc, rowSums, at));
    dropVariable(accumulate, variable, rewriter);
    return success();
  }
  return failure();
}

/// The operations in `scope` that compute `value`, each after those it
/// uses (post-order), into `slice`. Fails where one has regions, has
/// effects other than a read, may not run at any point (an integer division
/// by what may be zero), or reads a tensor computed in `scope`, or where
/// the value uses a block argument in `scope` other than those of `blocks`.
bool getTabulableSlice(Operation *scope, ArrayRef<Block *> blocks, Value value,
                       llvm::SetVector<Operation *> &slice) {
  auto isInside = [&](Value v) {
    return scope->isAncestor(v.getParentRegion()->getParentOp());
  };
  std::function<bool(Value)> visit = [&](Value v) -> bool {
    if (!isInside(v))
      return true;
    if (auto arg = dyn_cast<BlockArgument>(v))
      return llvm::is_contained(blocks, arg.getOwner());
    Operation *def = v.getDefiningOp();
    if (slice.contains(def))
      return true;
    if (def->getNumRegions() != 0)
      return false;
    if (auto read = dyn_cast<lz::GetOp>(def)) {
      if (isInside(read.getTensor()))
        return false;
    } else if (!isPure(def) || !isSpeculatable(def)) {
      return false;
    }
    for (Value operand : def->getOperands())
      if (!visit(operand))
        return false;
    slice.insert(def);
    return true;
  };
  return visit(value);
}

/// The operations of `slice` that a read of it feeds (the reads included).
llvm::DenseSet<Operation *>
getAfterReads(const llvm::SetVector<Operation *> &slice) {
  llvm::DenseSet<Operation *> after;
  for (Operation *op : slice)
    if (isa<lz::GetOp>(op) || llvm::any_of(op->getOperands(), [&](Value v) {
          return after.contains(v.getDefiningOp());
        }))
      after.insert(op);
  return after;
}

/// Whether no read of `slice` takes an index from another read, so that a
/// table can check the indices before it reads.
bool hasIndicesBeforeReads(const llvm::SetVector<Operation *> &slice) {
  llvm::DenseSet<Operation *> after = getAfterReads(slice);
  return llvm::all_of(slice, [&](Operation *op) {
    auto read = dyn_cast<lz::GetOp>(op);
    return !read || llvm::none_of(read.getIndices(), [&](Value index) {
      return after.contains(index.getDefiningOp());
    });
  });
}

/// A bound of a table: its element is zero where `index < bound` does not
/// hold (both computed from the table's variables).
struct TableBound {
  Value index, bound;
};

/// `for v... < ranges. value`, `variables` being the block arguments that
/// `slice` (hasIndicesBeforeReads) computes `value` from, the reads run
/// only where their indices are within their tensors and the `bounds`
/// hold: zero elsewhere (where the tables of a matrix product are read at
/// points that their scope did not compute, whose products are not read).
Value buildTable(OpBuilder &builder, Location loc, ArrayRef<Value> variables,
                 ArrayRef<Value> ranges,
                 const llvm::SetVector<Operation *> &slice, Value value,
                 ArrayRef<TableBound> bounds = {}) {
  Type element = value.getType();
  llvm::DenseSet<Operation *> after = getAfterReads(slice);
  auto type = RankedTensorType::get(
      SmallVector<int64_t>(ranges.size(), ShapedType::kDynamic), element);
  return lz::ForOp::create(
             builder, loc, TypeRange{type}, ranges,
             [&](OpBuilder &b, Location loc, ValueRange at) {
               IRMapping mapping;
               mapping.map(variables, at);
               for (Operation *op : slice)
                 if (!after.contains(op))
                   b.clone(*op, mapping);
               Value inside;
               auto below = [&](Value index, Value bound) {
                 Value holds =
                     arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           mapping.lookupOrDefault(index),
                                           mapping.lookupOrDefault(bound));
                 inside = inside ? arith::AndIOp::create(b, loc, inside, holds)
                                 : holds;
               };
               for (Operation *op : slice)
                 if (auto read = dyn_cast<lz::GetOp>(op))
                   for (auto [d, index] : llvm::enumerate(read.getIndices()))
                     below(index,
                           tensor::DimOp::create(b, loc, read.getTensor(), d));
               for (const TableBound &bound : bounds)
                 below(bound.index, bound.bound);
               auto cloneRest = [&](OpBuilder &rb) {
                 for (Operation *op : slice)
                   if (after.contains(op))
                     rb.clone(*op, mapping);
                 return mapping.lookupOrDefault(value);
               };
               if (!inside) {
                 lz::YieldOp::create(b, loc, ValueRange{cloneRest(b)});
                 return;
               }
               auto ifOp = scf::IfOp::create(
                   b, loc, inside,
                   [&](OpBuilder &tb, Location loc) {
                     scf::YieldOp::create(tb, loc, ValueRange{cloneRest(tb)});
                   },
                   [&](OpBuilder &eb, Location loc) {
                     scf::YieldOp::create(
                         eb, loc,
                         ValueRange{arith::ConstantOp::create(
                             eb, loc, element, eb.getZeroAttr(element))});
                   });
               lz::YieldOp::create(b, loc, ifOp.getResults());
             })
      .getResult(0);
}

/// `for b. left[b] @ right[b]` over `batchRanges` (or `left @ right`).
Value buildProducts(OpBuilder &builder, Location loc, Value left, Value right,
                    ArrayRef<Value> batchRanges) {
  Type element = cast<RankedTensorType>(left.getType()).getElementType();
  auto matrixType = RankedTensorType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic}, element);
  if (batchRanges.empty())
    return lz::MatmulOp::create(builder, loc, matrixType, left, right);
  auto type = RankedTensorType::get(
      SmallVector<int64_t>(batchRanges.size() + 2, ShapedType::kDynamic),
      element);
  return lz::ForOp::create(
             builder, loc, TypeRange{type}, batchRanges,
             [&](OpBuilder &b, Location loc, ValueRange at) {
               Value a = lz::GetOp::create(b, loc, left, at);
               Value c = lz::GetOp::create(b, loc, right, at);
               lz::YieldOp::create(
                   b, loc,
                   ValueRange{lz::MatmulOp::create(b, loc, matrixType, a, c)});
             })
      .getResult(0);
}

/// The attribute of the copy that a product's rule keeps for small sizes:
/// the rules leave it.
constexpr llvm::StringLiteral kSmallProductAttr = "lz.small_product";

/// The fewest rows, columns and terms of the matrix products that
/// accumulate-outer-products and for-sum-products build, checked at run
/// time: below, the scope stays as it was (the products' tables and loops
/// cost more than a short scope's terms; the GMM's gradient at d = 2).
constexpr int64_t kMinProductSize = 8;

/// Moves `op` (one result, not marked kSmallProductAttr) into the first
/// branch of `scf.if (every size >= kMinProductSize)`, whose other branch
/// is a copy of it, marked; the rewriter's insertion point is then before
/// `op`.
void guardBySize(PatternRewriter &rewriter, Operation *op,
                 ArrayRef<Value> sizes) {
  Location loc = op->getLoc();
  rewriter.setInsertionPoint(op);
  Value large;
  Value least = arith::ConstantIndexOp::create(rewriter, loc, kMinProductSize);
  for (Value size : sizes) {
    Value holds = arith::CmpIOp::create(rewriter, loc,
                                        arith::CmpIPredicate::sge, size, least);
    large = large ? arith::AndIOp::create(rewriter, loc, large, holds) : holds;
  }
  auto ifOp = scf::IfOp::create(
      rewriter, loc, large,
      [&](OpBuilder &b, Location loc) {
        scf::YieldOp::create(b, loc, op->getResults());
      },
      [&](OpBuilder &b, Location loc) {
        Operation *copy = b.clone(*op);
        copy->setAttr(kSmallProductAttr, b.getUnitAttr());
        scf::YieldOp::create(b, loc, copy->getResults());
      });
  rewriter.replaceAllUsesExcept(op->getResult(0), ifOp.getResult(0),
                                ifOp.thenYield());
  rewriter.moveOpBefore(op, ifOp.thenYield());
  rewriter.setInsertionPoint(op);
}

/// The variables (positions in `block`) that `value` depends on, given
/// their dependents.
SmallVector<unsigned> getVariablesOf(Block &block,
                                     ArrayRef<llvm::DenseSet<Value>> dependents,
                                     Value value) {
  SmallVector<unsigned> variables;
  for (unsigned i = 0; i < block.getNumArguments(); ++i)
    if (value == block.getArgument(i) || dependents[i].contains(value))
      variables.push_back(i);
  return variables;
}

/// Splits the variables of `u` and `v` (sorted positions) but `k` into
/// those of both (`batch`) and the one of each alone (`q` of `u`, `r` of
/// `v`); fails unless each has exactly one of its own.
LogicalResult splitProductVariables(ArrayRef<unsigned> uVariables,
                                    ArrayRef<unsigned> vVariables,
                                    std::optional<unsigned> k,
                                    SmallVectorImpl<unsigned> &batch,
                                    unsigned &q, unsigned &r) {
  std::optional<unsigned> ownU, ownV;
  for (unsigned a : uVariables) {
    if (a == k)
      continue;
    if (llvm::is_contained(vVariables, a))
      batch.push_back(a);
    else if (ownU)
      return failure();
    else
      ownU = a;
  }
  for (unsigned a : vVariables) {
    if (a == k || llvm::is_contained(uVariables, a))
      continue;
    if (ownV)
      return failure();
    ownV = a;
  }
  if (!ownU || !ownV)
    return failure();
  q = *ownU;
  r = *ownV;
  return success();
}

/// `accumulate k, q, r, b... . (idx, c * (u(k, q, b) * v(k, r, b)))`,
/// where `k` is in neither the target nor the mask and the value is linear
/// in the product (as for `accumulate-sum-read`), `u` uses `k` and `q` of
/// the variables and `v` uses `k` and `r`, besides the variables `b` that
/// both use: `accumulate q, r, b... . (idx, c * P[b..., q, r])` with `P =
/// for b. U[b] @ V[b]` (or `U @ V`), `U = for b, q, k. u` and `V = for b,
/// k, r. v` before it, where `q`, `r` and `k` all have at least
/// kMinProductSize points (checked at run time; the accumulation stays as
/// it was otherwise). The sum over `k` of the outer products of `u` and
/// `v` is a matrix product, which runs over register tiles (or BLAS)
/// instead of adding each product to a target in memory. Where the
/// accumulation computes `u` under a condition (the mask of a triangle),
/// the table computes it where its reads are within bounds, and zero
/// elsewhere: the accumulation reads `P` only where it computed `u` at
/// every point of `k`, whose elements are those of its sum. The packed
/// GMM's gradient with respect to its factor sums, per component, the
/// outer products of each point's centered coordinates and cotangent over
/// the points.
LogicalResult accumulateOuterProducts(Operation *op,
                                      PatternRewriter &rewriter) {
  auto accumulate = dyn_cast<lz::AccumulateOp>(op);
  if (!accumulate || accumulate->hasAttr(kSmallProductAttr) ||
      !isa<FloatType>(accumulate.getTargetValue().getType()) ||
      accumulate.getRanges().size() < 3 || !hasPureBody(accumulate))
    return failure();
  Block &body = accumulate.getBody().front();
  unsigned numVariables = body.getNumArguments();
  SmallVector<llvm::DenseSet<Value>> dependents;
  for (BlockArgument arg : body.getArguments())
    dependents.push_back(lz::getDependents(body, arg));
  SmallVector<arith::MulFOp> products;
  body.walk([&](arith::MulFOp product) { products.push_back(product); });
  for (unsigned k = 0; k < numVariables; ++k) {
    for (arith::MulFOp product : products) {
      if (!isAddedLinearly(accumulate, product.getResult(), dependents[k]))
        continue;
      Value u = product.getLhs(), v = product.getRhs();
      SmallVector<unsigned> uVariables = getVariablesOf(body, dependents, u),
                            vVariables = getVariablesOf(body, dependents, v);
      SmallVector<unsigned> batch;
      unsigned q, r;
      if (!llvm::is_contained(uVariables, k) ||
          !llvm::is_contained(vVariables, k) ||
          failed(splitProductVariables(uVariables, vVariables, k, batch, q, r)))
        continue;
      llvm::SetVector<Operation *> uSlice, vSlice;
      if (!getTabulableSlice(accumulate, {&body}, u, uSlice) ||
          !getTabulableSlice(accumulate, {&body}, v, vSlice) ||
          !hasIndicesBeforeReads(uSlice) || !hasIndicesBeforeReads(vSlice))
        continue;
      // Only the slices use `k`, and what in them depends on it feeds only
      // them and the product: without the product, nothing uses `k`.
      llvm::SetVector<Operation *> slices(uSlice.begin(), uSlice.end());
      slices.insert(vSlice.begin(), vSlice.end());
      BlockArgument variable = body.getArgument(k);
      auto feedsOnlySlices = [&](Value value) {
        return llvm::all_of(value.getUsers(), [&](Operation *user) {
          return slices.contains(user) || user == product;
        });
      };
      if (!feedsOnlySlices(variable) ||
          !llvm::all_of(slices, [&](Operation *x) {
            return llvm::all_of(x->getResults(), [&](Value result) {
              return !dependents[k].contains(result) || feedsOnlySlices(result);
            });
          }))
        continue;

      auto variablesAt = [&](ArrayRef<unsigned> positions) {
        SmallVector<Value> values;
        for (unsigned a : positions)
          values.push_back(body.getArgument(a));
        return values;
      };
      auto rangesAt = [&](ArrayRef<unsigned> positions) {
        SmallVector<Value> values;
        for (unsigned a : positions)
          values.push_back(accumulate.getRanges()[a]);
        return values;
      };
      SmallVector<unsigned> uOrder(batch), vOrder(batch);
      uOrder.append({q, k});
      vOrder.append({k, r});
      guardBySize(rewriter, accumulate, rangesAt({q, r, k}));
      Location loc = accumulate.getLoc();
      Value left = buildTable(rewriter, loc, variablesAt(uOrder),
                              rangesAt(uOrder), uSlice, u);
      Value right = buildTable(rewriter, loc, variablesAt(vOrder),
                               rangesAt(vOrder), vSlice, v);
      Value sums = buildProducts(rewriter, loc, left, right, rangesAt(batch));
      // The accumulation reads the products where it multiplied.
      SmallVector<unsigned> at(batch);
      at.append({q, r});
      rewriter.setInsertionPoint(product);
      rewriter.replaceOp(
          product, lz::GetOp::create(rewriter, loc, sums, variablesAt(at)));
      for (Operation *x : llvm::reverse(slices))
        if (x->use_empty())
          rewriter.eraseOp(x);
      dropVariable(accumulate, variable, rewriter);
      return success();
    }
  }
  return failure();
}

/// `for v... . sum k < R. u(k, q, b) * v(k, r, b)`, where `u` uses `k` and
/// `q` of the traversal's variables, `v` uses `k` and `r`, both the
/// variables `b`, and the traversal has no other variables: `for v... .
/// P[b..., q, r]` (or `r, q`, in the traversal's order) with `P = for b.
/// U[b] @ V[b]`, `U = for b, q, k. u`, `V = for b, k, r. v` before it,
/// where `q`, `r` and `k` all have at least kMinProductSize points
/// (checked at run time; the traversal stays as it was otherwise). The
/// range `R` is known outside the traversal, or is triangular, `x + c` for
/// `x` one of `q` and `r`: the table over `x` is then zero where `k >= x +
/// c`, and the products' terms there are zeros. The sums become a matrix
/// product over register tiles (or BLAS). The packed GMM's gradient
/// multiplies, per component, every centered point by the factor's lower
/// triangle, read at packed indices: now by a dense copy of it, at once.
LogicalResult forSumProducts(Operation *op, PatternRewriter &rewriter) {
  auto forOp = dyn_cast<lz::ForOp>(op);
  if (!forOp || forOp->hasAttr(kSmallProductAttr) ||
      forOp.getNumResults() != 1 || forOp.getRanges().size() < 2)
    return failure();
  Block &body = forOp.getBody().front();
  auto sum = forOp.getYield().getOperand(0).getDefiningOp<lz::SumOp>();
  if (!sum || sum->getBlock() != &body || sum.getRanges().size() != 1 ||
      !isa<FloatType>(sum.getType()) ||
      !llvm::all_of(body.without_terminator(), [](Operation &inner) {
        return isMemoryEffectFree(&inner);
      }))
    return failure();
  Block &sumBody = sum.getBody().front();
  auto product = sum.getYield().getOperand(0).getDefiningOp<arith::MulFOp>();
  if (!product || product->getBlock() != &sumBody)
    return failure();
  Value u = product.getLhs(), v = product.getRhs();
  unsigned numVariables = body.getNumArguments();
  SmallVector<llvm::DenseSet<Value>> dependents;
  for (BlockArgument arg : body.getArguments())
    dependents.push_back(lz::getDependents(body, arg));
  BlockArgument k = sumBody.getArgument(0);
  llvm::DenseSet<Value> kDependents = lz::getDependents(sumBody, k);
  auto usesK = [&](Value value) {
    return value == k || kDependents.contains(value);
  };
  SmallVector<unsigned> uVariables = getVariablesOf(body, dependents, u),
                        vVariables = getVariablesOf(body, dependents, v);
  SmallVector<unsigned> batch;
  unsigned q, r;
  if (!usesK(u) || !usesK(v) ||
      failed(splitProductVariables(uVariables, vVariables, std::nullopt, batch,
                                   q, r)) ||
      batch.size() + 2 != numVariables)
    return failure();
  // The range: from outside, or `x + c` for `x` one of `q` and `r`.
  Value range = sum.getRanges().front();
  bool inside = forOp->isAncestor(range.getParentRegion()->getParentOp());
  std::optional<unsigned> triangular;
  if (inside) {
    SmallVector<unsigned> rangeVariables =
        getVariablesOf(body, dependents, range);
    if (rangeVariables.size() != 1 ||
        (rangeVariables[0] != q && rangeVariables[0] != r))
      return failure();
    triangular = rangeVariables[0];
  }
  llvm::SetVector<Operation *> uSlice, vSlice, rangeSlice;
  if (!getTabulableSlice(forOp, {&body, &sumBody}, u, uSlice) ||
      !getTabulableSlice(forOp, {&body, &sumBody}, v, vSlice) ||
      !hasIndicesBeforeReads(uSlice) || !hasIndicesBeforeReads(vSlice) ||
      (inside && (!getTabulableSlice(forOp, {&body}, range, rangeSlice) ||
                  llvm::any_of(rangeSlice, [](Operation *x) {
                    return isa<lz::GetOp>(x);
                  }))))
    return failure();

  Location loc = forOp.getLoc();
  // The terms' range: outside, or the largest `x + c`, `range(x) - 1 + c`.
  Value terms = range;
  if (inside) {
    rewriter.setInsertionPoint(forOp);
    IRMapping mapping;
    Value last =
        arith::SubIOp::create(rewriter, loc, forOp.getRanges()[*triangular],
                              arith::ConstantIndexOp::create(rewriter, loc, 1));
    mapping.map(body.getArgument(*triangular), last);
    for (Operation *x : rangeSlice)
      rewriter.clone(*x, mapping);
    terms = arith::MaxSIOp::create(
        rewriter, loc, mapping.lookupOrDefault(range),
        arith::ConstantIndexOp::create(rewriter, loc, 0));
  }
  auto rangeOf = [&](unsigned a) { return forOp.getRanges()[a]; };
  guardBySize(rewriter, forOp, {rangeOf(q), rangeOf(r), terms});
  // The left operand is the table over whichever of q and r comes first.
  bool swap = r < q;
  unsigned first = swap ? r : q, second = swap ? q : r;
  Value firstValue = swap ? v : u, secondValue = swap ? u : v;
  const llvm::SetVector<Operation *> &firstSlice = swap ? vSlice : uSlice;
  const llvm::SetVector<Operation *> &secondSlice = swap ? uSlice : vSlice;
  auto tableOf = [&](unsigned own, bool ownFirst, Value value,
                     const llvm::SetVector<Operation *> &slice) {
    SmallVector<Value> variables, ranges;
    for (unsigned a : batch) {
      variables.push_back(body.getArgument(a));
      ranges.push_back(rangeOf(a));
    }
    auto addOwn = [&] {
      variables.push_back(body.getArgument(own));
      ranges.push_back(rangeOf(own));
    };
    if (ownFirst)
      addOwn();
    variables.push_back(k);
    ranges.push_back(terms);
    if (!ownFirst)
      addOwn();
    llvm::SetVector<Operation *> all(slice);
    SmallVector<TableBound> bounds;
    if (triangular == own) {
      all.insert(rangeSlice.begin(), rangeSlice.end());
      bounds.push_back({k, range});
    }
    return buildTable(rewriter, loc, variables, ranges, all, value, bounds);
  };
  Value left = tableOf(first, /*ownFirst=*/true, firstValue, firstSlice);
  Value right = tableOf(second, /*ownFirst=*/false, secondValue, secondSlice);
  SmallVector<Value> batchRanges;
  for (unsigned a : batch)
    batchRanges.push_back(rangeOf(a));
  Value sums = buildProducts(rewriter, loc, left, right, batchRanges);
  auto read = lz::ForOp::create(
      rewriter, loc, forOp.getResultTypes(), forOp.getRanges(),
      [&](OpBuilder &b, Location loc, ValueRange at) {
        SmallVector<Value> indices;
        for (unsigned a : batch)
          indices.push_back(at[a]);
        indices.push_back(at[first]);
        indices.push_back(at[second]);
        lz::YieldOp::create(
            b, loc, ValueRange{lz::GetOp::create(b, loc, sums, indices)});
      });
  rewriter.replaceOp(forOp, read.getResults());
  return success();
}

/// `for i. { ...; for j < m. e }`, a traversal whose body yields an inner
/// traversal over ranges known outside it, is one traversal over `i, j`:
/// each element is computed in place, instead of in a tensor per point
/// that is then copied. The rest of the outer body, evaluated at every
/// inner point after the rewrite, must be operations without regions or
/// effects.
LogicalResult forFlatten(Operation *op, PatternRewriter &rewriter) {
  auto outer = dyn_cast<lz::ForOp>(op);
  if (!outer || outer.getNumResults() != 1)
    return failure();
  Block &body = outer.getBody().front();
  Value yielded = outer.getYield().getOperand(0);
  auto inner = yielded.getDefiningOp<lz::ForOp>();
  if (!inner || inner->getBlock() != &body || inner.getNumResults() != 1 ||
      !yielded.hasOneUse())
    return failure();
  for (Value range : inner.getRanges())
    if (outer.getBody().isAncestor(range.getParentRegion()))
      return failure();
  for (Operation &other : body.without_terminator())
    if (&other != inner.getOperation() &&
        (other.getNumRegions() != 0 || !isMemoryEffectFree(&other)))
      return failure();
  SmallVector<Value> ranges(outer.getRanges());
  llvm::append_range(ranges, inner.getRanges());
  unsigned numOuter = outer.getRanges().size();
  auto flat = lz::ForOp::create(
      rewriter, outer.getLoc(), outer.getResultTypes(), ranges,
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        IRMapping mapping;
        mapping.map(body.getArguments(), indices.take_front(numOuter));
        for (Operation &other : body.without_terminator())
          if (&other != inner.getOperation())
            b.clone(other, mapping);
        Block &innerBody = inner.getBody().front();
        mapping.map(innerBody.getArguments(), indices.drop_front(numOuter));
        for (Operation &nested : innerBody.without_terminator())
          b.clone(nested, mapping);
        lz::YieldOp::create(b, loc,
                            ValueRange{mapping.lookupOrDefault(
                                inner.getYield().getOperand(0))});
      });
  flat->setDiscardableAttrs(outer->getDiscardableAttrDictionary());
  rewriter.replaceOp(outer, flat.getResults());
  return success();
}

/// Two traversals over the same ranges in one block become one with the
/// results of both, when the later one uses nothing of the earlier one and
/// nothing defined between them (horizontal fusion): one pass over the
/// points, whose bodies `cse` can then share. `nested` selects the
/// traversals of a scope's body rather than those of a function's body:
/// fusing the outer ones first keeps equal scopes in the bodies being fused
/// equal, so that `cse` merges them before their own traversals fuse.
LogicalResult fuseTraversals(Operation *op, PatternRewriter &rewriter,
                             bool nested) {
  auto later = dyn_cast<lz::ForOp>(op);
  if (!later || isa<func::FuncOp>(later->getParentOp()) != !nested ||
      !isMemoryEffectFree(later))
    return failure();
  llvm::SetVector<Value> used(later->getOperands().begin(),
                              later->getOperands().end());
  getUsedValuesDefinedAbove(later.getBody(), used);
  for (Operation *prev = later->getPrevNode(); prev;
       prev = prev->getPrevNode()) {
    auto earlier = dyn_cast<lz::ForOp>(prev);
    bool usesPrev = llvm::any_of(prev->getResults(),
                                 [&](Value v) { return used.contains(v); });
    if (earlier && !usesPrev && isMemoryEffectFree(earlier) &&
        earlier.getRanges().size() == later.getRanges().size() &&
        llvm::all_of(llvm::zip(earlier.getRanges(), later.getRanges()),
                     [](auto pair) {
                       return sameValue(std::get<0>(pair), std::get<1>(pair));
                     }) &&
        earlier->getDiscardableAttrDictionary() ==
            later->getDiscardableAttrDictionary()) {
      rewriter.setInsertionPoint(earlier);
      SmallVector<Type> types(earlier.getResultTypes());
      llvm::append_range(types, later.getResultTypes());
      auto fused = lz::ForOp::create(
          rewriter, op->getLoc(), types, earlier.getRanges(),
          [&](OpBuilder &b, Location loc, ValueRange indices) {
            SmallVector<Value> yields;
            for (lz::ForOp part : {earlier, later}) {
              IRMapping mapping;
              mapping.map(part.getIndices(), indices);
              Block &body = part.getBody().front();
              for (Operation &inner : body.without_terminator())
                b.clone(inner, mapping);
              for (Value v : part.getYield().getValues())
                yields.push_back(mapping.lookupOrDefault(v));
            }
            lz::YieldOp::create(b, loc, yields);
          });
      fused->setDiscardableAttrs(earlier->getDiscardableAttrDictionary());
      unsigned numEarlier = earlier.getNumResults();
      rewriter.replaceOp(earlier, fused.getResults().take_front(numEarlier));
      rewriter.replaceOp(later, fused.getResults().drop_front(numEarlier));
      return success();
    }
    // The later traversal cannot move above what it uses.
    if (usesPrev)
      return failure();
    if (!isMemoryEffectFree(prev))
      return failure();
  }
  return failure();
}

LogicalResult forFusion(Operation *op, PatternRewriter &rewriter) {
  return fuseTraversals(op, rewriter, /*nested=*/false);
}

LogicalResult nestedForFusion(Operation *op, PatternRewriter &rewriter) {
  return fuseTraversals(op, rewriter, /*nested=*/true);
}

template <typename OpTy> LogicalResult isOp(Operation *op, PatternRewriter &) {
  return success(isa<OpTy>(op));
}

LogicalResult isScope(Operation *op, PatternRewriter &) {
  return success(isScopeOp(op));
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
  add("fuse-cheap-for-get",
      "fuse-for-get where the traversal's body has no scope, loop or call "
      "(an element costs a bounded amount)",
      fuseCheapForGet);
  add("fuse-local-for-get",
      "fuse-cheap-for-get where a body of more than two arithmetic "
      "operations is not fused into a read nested deeper than its elements, "
      "unless it chooses a one-hot value",
      fuseLocalForGet);
  add("reuse-for-element",
      "e[i := j] -> (for i. e)[j]: a float expression equal to an element "
      "of an earlier traversal over the same ranges reads it (not a "
      "traversal directly in a loop's step); the inverse of fuse-for-get",
      reuseForElement);
  add("for-size",
      "size(for i < n. e, 0) -> n: the size of a traversal; also of a "
      "sub-tensor, a fill, an accumulation, a matrix product and a loop's "
      "state",
      forSize);
  add("tuple-proj", "(a, b).0 -> a: a projection of a tuple", tupleProj);
  add("dim-equal",
      "size(y, 0) -> size(X, 0) for f[n, d](X: f64[n, d], y: f64[n]): a "
      "size that the function's types make equal to an earlier argument's",
      dimEqual);
  add("dce",
      "removes an operation whose results are unused and that has "
      "no effects",
      deadCode);
  add("add-zero", "x + -0.0 -> x, x - 0.0 -> x, and integer x + 0 -> x",
      addZero);
  add("mul-one", "x * 1 -> x, x / 1.0 -> x, x * -1.0 -> -x, x / -1.0 -> -x",
      mulOne);
  add("mul-zero-int", "integer x * 0 -> 0", mulZeroInt);
  add("add-neg",
      "x + -y -> x - y, -y + x -> x - y, x - -y -> x + y, -(-x) -> x, -(c) "
      "-> the constant -c: exact",
      addNeg);
  add("mul-neg",
      "a * -b -> -(a * b) (and a / -b) where the uses of the product absorb "
      "the negation (additions, subtrahends, negations), or pass it on "
      "(products) and the product is its only use; -a * -b -> a * b: exact",
      mulNeg);
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
      "removes the state values of a loop that neither the results nor the "
      "other state values nor the condition use",
      loopDeadState);
  add("loop-sum-state",
      "loop s = s0 { s + sum k < n. e } -> s0 + sum k. (loop p = -0.0 "
      "{ for k < n. p[k] + e })[k], where the step traverses k < n too, in "
      "real arithmetic (reassociates)",
      loopSumState);
  add("if-constant", "if true then a else b -> a (and the else branch)",
      constantIf);
  add("mul-zero-real",
      "x * 0.0 -> 0.0, in real arithmetic (not IEEE: x infinite or NaN, "
      "signed zeros)",
      mulZeroReal);
  add("add-zero-real",
      "x + 0.0 -> x, 0.0 - x -> -x, -0.0 -> 0.0, 0.0 / x -> 0.0, in real "
      "arithmetic (not IEEE: signed zeros, 0.0 / 0.0)",
      addZeroReal);
  add("push-into-if",
      "f(if c then a else b) -> if c then f(a) else f(b), for a "
      "conditional used once",
      pushIntoIf);
  add("if-same-condition",
      "if c then (if c then a else b) else e -> if c then a else e",
      ifSameCondition);
  add("if-equal-branches", "if c then a else a -> a; select(c, a, a) -> a",
      ifEqualBranches);
  add("sink-into-if",
      "moves an operation without effects into the one branch that uses it",
      sinkIntoIf);
  add("sum-onehot-split",
      "sum k. (if k == j then a(k) else b(k)) -> (sum k. b(k)) + (a(j) - "
      "b(j) if 0 <= j < n), in real arithmetic (reassociates)",
      sumOneHotSplit);
  add("sum-zero", "sum k. 0.0 -> 0.0 (+0.0, or an integer 0): exact", sumZero);
  add("sum-factor",
      "sum k. x * f(k) -> x * sum k. f(k) for x not depending on k, and "
      "sum k. -f(k) -> -(sum k. f(k)), in real arithmetic",
      sumFactor);
  add("inline-call",
      "replaces a call of a private function (a derivative, a lambda) by "
      "its body",
      inlineCall);
  add("matmul-to-scopes",
      "A @ B -> for i, j. sum k. A[i, k] * B[k, j] when A or B is a "
      "traversal",
      matmulToScopes);
  add("for-identity", "for i < size(t, 0). t[i] -> t: exact", forIdentity);
  add("for-fusion",
      "for i. a; ...; for i. b -> for i. (a, b): horizontal fusion of "
      "traversals over the same ranges, the later using nothing between",
      forFusion);
  add("for-flatten",
      "for i. for j < m. e -> for i, j < m. e: a traversal whose body "
      "yields a traversal over ranges known outside it",
      forFlatten);
  add("nested-for-fusion",
      "for-fusion of the traversals in a scope's body rather than a "
      "function's",
      nestedForFusion);
  add("accumulate-to-for",
      "accumulate i < n, k. (i, e) -> for i. sum k. e when n is the size: "
      "in real arithmetic (signed zeros, reassociation)",
      accumulateToFor);
  add("sum-accumulate",
      "sum i. (accumulate j. (idx, e)) -> accumulate i, j. (idx, e), in real "
      "arithmetic (reassociates)",
      sumAccumulate);
  add("tabulate-shared-sum",
      "sum k. e(k) -> sum k. t[k] with t = for k. e(k) before, where a later "
      "scope computes e too (reuse-for-element then reads t there), exactly",
      tabulateSharedSum);
  add("accumulate-sum-read",
      "accumulate k, j. (idx, c * t[k, j']) -> accumulate j. (idx, c * s[j']) "
      "with s = for j'. sum k. t[k, j'] where k is only in the read and j' "
      "leaves out a variable of j, in real arithmetic (reassociates)",
      accumulateSumRead);
  add("accumulate-inner-sum",
      "accumulate k, j. ((idx, x + v), e) -> accumulate j. ((idx, x + v), "
      "sum k. e) where k is in no index of the target and the reads contiguous "
      "in x (a stencil's scatter-add), in real arithmetic (reassociates)",
      accumulateInnerSum);
  add("accumulate-matmul-rows",
      "accumulate l, j. (idx, c * (A @ B)[l, j']) -> accumulate j. (idx, c * "
      "r[j']) with r = for j'. sum m. (sum l. A[l, m]) * B[m, j'] where l is "
      "only in the read, in real arithmetic (reassociates)",
      accumulateMatmulRows);
  add("accumulate-outer-products",
      "accumulate k, q, r. (idx, c * (u(k, q) * v(k, r))) -> accumulate q, "
      "r. (idx, c * (U @ V)[q, r]) with U = for q, k. u and V = for k, r. v, "
      "where k is in neither the target nor the mask, in real arithmetic "
      "(reassociates)",
      accumulateOuterProducts);
  add("for-sum-products",
      "for b, q, r. sum k. u(k, q, b) * v(k, r, b) -> for b, q, r. P[b, q, "
      "r] with P = for b. U[b] @ V[b], U = for b, q, k. u, V = for b, k, r. "
      "v (a triangular range zero in a table), in real arithmetic",
      forSumProducts);
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
