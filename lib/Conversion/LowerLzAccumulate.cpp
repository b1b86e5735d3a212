//===- LowerLzAccumulate.cpp - lower-lz: scatter-adds ---------------------===//
//
// Part of Leibniz.
//
// `lz.accumulate`, the functional scatter-add: loop nests adding into a
// tensor of zeros, a triangular accumulation's inner loop bounded by the
// outer index, a stencil's contiguous variable innermost; and, at -O3, the
// values that call vector math functions computed in a traversal first.
//
//===----------------------------------------------------------------------===//

#include "LowerLzInternal.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

using namespace mlir;
using namespace leibniz;

namespace leibniz::lowerlz {

/// Whether `op` computes a value from its operands alone and cannot fail,
/// so that it may run where the scope did not evaluate it: arithmetic,
/// not reads, which may be out of bounds there.
static bool isTotal(Operation *op) {
  return op->getNumRegions() == 0 &&
         isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
         isMemoryEffectFree(op) && isSpeculatable(op);
}

/// Puts `loop` under a conditional on its running an iteration, which
/// yields its results, or its initial values where it runs none.
static void guardNonEmpty(RewriterBase &rewriter, scf::ForOp loop) {
  OpBuilder::InsertionGuard guard(rewriter);
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Value nonEmpty =
      arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt,
                            loop.getLowerBound(), loop.getUpperBound());
  auto ifOp = scf::IfOp::create(rewriter, loc, loop.getResultTypes(), nonEmpty,
                                /*withElseRegion=*/true);
  rewriter.replaceAllUsesWith(loop.getResults(), ifOp.getResults());
  rewriter.setInsertionPointToStart(ifOp.thenBlock());
  scf::YieldOp::create(rewriter, loc, loop.getResults());
  rewriter.moveOpBefore(loop, ifOp.thenYield());
  rewriter.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(rewriter, loc, loop.getInitArgs());
}

/// Moves the operations of the bodies of `loops`, a loop nest from the
/// outermost, that do not depend on a loop's index out of that loop, up to
/// the body of the outermost. The scope evaluated them at every point; out
/// of the loop, they are evaluated once for all the points that share the
/// outer indices, which exist when every range of the nest is positive
/// (the caller's guard, see getGuardedBound). A loop whose bounds read an
/// outer index (`mayBeEmpty`, a triangular mask's) can run no iteration
/// where its outer loops run: arithmetic still leaves it (isTotal), but
/// the rest, reads valid only inside the triangle, moves under a
/// conditional on the loop's running (guardNonEmpty), and no further. With
/// `guardInnermost`, the innermost loop goes under its conditional where
/// it may be empty even if nothing moves: promoteElement reads the
/// element it adds into before it, at a target that may be valid only
/// inside the triangle.
static void hoistNestInvariants(RewriterBase &rewriter,
                                ArrayRef<scf::ForOp> loops,
                                ArrayRef<bool> mayBeEmpty,
                                bool guardInnermost) {
  for (unsigned i = loops.size() - 1; i > 0; --i) {
    scf::ForOp loop = loops[i];
    bool empty = mayBeEmpty[i];
    Region *region = &loop.getRegion();
    auto isDefinedOutside = [&](Value value, Region *) {
      return !region->isAncestor(value.getParentRegion());
    };
    auto isMovable = [](Operation *op, Region *) {
      return isMemoryEffectFree(op) && isSpeculatable(op);
    };
    auto moveOut = [&](Operation *op, Region *) { op->moveBefore(loop); };
    if (empty) {
      moveLoopInvariantCode(
          {region}, isDefinedOutside,
          [](Operation *op, Region *) { return isTotal(op); }, moveOut);
      auto isInvariant = [&](Operation &op) {
        return isMovable(&op, region) &&
               llvm::all_of(op.getOperands(), [&](Value operand) {
                 return isDefinedOutside(operand, region);
               });
      };
      bool guard = guardInnermost && i == loops.size() - 1;
      if (!guard &&
          llvm::none_of(loop.getBody()->without_terminator(), isInvariant))
        continue;
      guardNonEmpty(rewriter, loop);
    }
    moveLoopInvariantCode({region}, isDefinedOutside, isMovable, moveOut);
  }
}

/// `upper`, the outermost upper bound of a nest over `ranges`, or `lower`
/// where one of the other ranges is empty: then the scope has no points,
/// and the nest runs no iteration, so that what hoistNestInvariants moves
/// to an outer loop is only evaluated where the scope evaluates it.
static Value getGuardedBound(OpBuilder &builder, Location loc,
                             ValueRange ranges, Value lower, Value upper) {
  Value zero = indexConstant(builder, loc, 0);
  Value positive;
  for (Value range : ranges.drop_front()) {
    if (std::optional<int64_t> size = getConstantIntValue(range);
        size && *size > 0)
      continue;
    Value p = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::sgt,
                                    range, zero);
    positive = positive ? arith::AndIOp::create(builder, loc, positive, p) : p;
  }
  if (!positive)
    return upper;
  return arith::SelectOp::create(builder, loc, positive, upper, lower);
}

/// A triangular mask of an accumulation: its value is `index p < index q`
/// (or `<=`) for two of its index variables, q before p. Its loop over p
/// then stops at q (q + 1), and the mask holds at every point it visits.
struct TriangularMask {
  unsigned inner, outer;
  bool inclusive;
  arith::CmpIOp condition;
};

static std::optional<TriangularMask> getTriangularMask(lz::AccumulateOp op) {
  if (!op.getMasked())
    return std::nullopt;
  Block &body = op.getBody().front();
  Value mask = body.getTerminator()->getOperand(0);
  // A conditional whose branches yield true and false is its condition.
  if (auto ifOp = mask.getDefiningOp<scf::IfOp>();
      ifOp && ifOp->getBlock() == &body && ifOp.elseBlock()) {
    unsigned r = cast<OpResult>(mask).getResultNumber();
    Value yes = ifOp.thenYield().getOperand(r);
    Value no = ifOp.elseYield().getOperand(r);
    if (matchPattern(yes, m_One()) && matchPattern(no, m_Zero()))
      mask = ifOp.getCondition();
  }
  auto cmp = mask.getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp->getBlock() != &body)
    return std::nullopt;
  auto lhs = dyn_cast<BlockArgument>(cmp.getLhs());
  auto rhs = dyn_cast<BlockArgument>(cmp.getRhs());
  if (!lhs || !rhs || lhs.getOwner() != &body || rhs.getOwner() != &body)
    return std::nullopt;
  using P = arith::CmpIPredicate;
  P predicate = cmp.getPredicate();
  // As `lhs < rhs` or `lhs <= rhs`.
  switch (predicate) {
  case P::ugt:
  case P::sgt:
    std::swap(lhs, rhs);
    predicate = P::ult;
    break;
  case P::uge:
  case P::sge:
    std::swap(lhs, rhs);
    predicate = P::ule;
    break;
  default:
    break;
  }
  if (predicate != P::ult && predicate != P::slt && predicate != P::ule &&
      predicate != P::sle)
    return std::nullopt;
  if (rhs.getArgNumber() >= lhs.getArgNumber())
    return std::nullopt;
  return TriangularMask{lhs.getArgNumber(), rhs.getArgNumber(),
                        predicate == P::ule || predicate == P::sle, cmp};
}

/// The target indices of `op` at the points where its mask holds: where
/// one is a result of a conditional on the mask (whose result the mask is,
/// or whose condition), its then branch's value.
static SmallVector<Value> getMaskedTargets(lz::AccumulateOp op) {
  SmallVector<Value> targets(op.getTargetIndices());
  if (!op.getMasked())
    return targets;
  Block &body = op.getBody().front();
  Value mask = body.getTerminator()->getOperand(0);
  for (Value &target : targets) {
    auto ifOp = target.getDefiningOp<scf::IfOp>();
    if (!ifOp || ifOp->getBlock() != &body || !ifOp.elseBlock())
      continue;
    bool onMask = mask == ifOp.getCondition();
    if (auto result = dyn_cast<OpResult>(mask);
        result && result.getOwner() == ifOp) {
      unsigned r = result.getResultNumber();
      onMask = matchPattern(ifOp.thenYield().getOperand(r), m_One()) &&
               matchPattern(ifOp.elseYield().getOperand(r), m_Zero());
    }
    if (onMask)
      target =
          ifOp.thenYield().getOperand(cast<OpResult>(target).getResultNumber());
  }
  return targets;
}

/// The variables of `body` that `index` is (one) or adds (two), through
/// casts between index and 64-bit integers; none for any other index.
static SmallVector<unsigned, 2> getIndexVariables(Value index, Block &body) {
  // Through casts from index to 64 bits or more, and back: no value wraps.
  auto isWide = [](Type type) {
    return type.isIndex() || type.getIntOrFloatBitWidth() >= 64;
  };
  auto strip = [&](Value v) {
    while (auto cast = v.getDefiningOp<arith::IndexCastOp>()) {
      if (!isWide(cast.getIn().getType()) || !isWide(cast.getType()))
        break;
      v = cast.getIn();
    }
    return v;
  };
  auto variable = [&](Value v) -> std::optional<unsigned> {
    auto arg = dyn_cast<BlockArgument>(strip(v));
    if (arg && arg.getOwner() == &body)
      return arg.getArgNumber();
    return std::nullopt;
  };
  if (std::optional<unsigned> v = variable(index))
    return {*v};
  auto add = strip(index).getDefiningOp<arith::AddIOp>();
  if (!add || !isWide(add.getType()))
    return {};
  std::optional<unsigned> a = variable(add.getLhs());
  std::optional<unsigned> b = variable(add.getRhs());
  if (!a || !b || *a == *b)
    return {};
  return {*a, *b};
}

/// With the loops of `op`'s nest run in `order`, which of them to run
/// backwards so that each element adds its values in the scope's order;
/// none where no choice does. An element fixes the variables that are its
/// indices, and of two variables that an index adds, one given the other:
/// the one of them that runs first orders the element's points (the other
/// one runs backwards as it runs forwards); the other variables are free.
/// The points of an element come in the same order where the free
/// variables and the pairs come in the same order, each pair in the same
/// direction (a convolution's gradient, `(c, y + r, x + s)` over o, y, x,
/// c, r, s, run over o, y, r, s, c, x: `s` backwards).
static std::optional<SmallVector<bool>>
getBackwardLoops(lz::AccumulateOp op, ArrayRef<unsigned> order) {
  Block &body = op.getBody().front();
  unsigned size = op.getRanges().size();
  // Per variable: free (-1), fixed (-2), or the pair it is in.
  constexpr int kFree = -1, kFixed = -2;
  SmallVector<int> roles(size, kFree);
  SmallVector<unsigned> firsts;
  for (Value index : getMaskedTargets(op)) {
    SmallVector<unsigned, 2> variables = getIndexVariables(index, body);
    if (variables.empty() ||
        llvm::any_of(variables, [&](unsigned v) { return roles[v] != kFree; }))
      return std::nullopt;
    if (variables.size() == 1) {
      roles[variables[0]] = kFixed;
      continue;
    }
    roles[variables[0]] = roles[variables[1]] = firsts.size();
    firsts.push_back(std::min(variables[0], variables[1]));
  }
  // What orders the points, in `loops`: a free variable or a pair (`id`
  // the one or the other), forwards or not, and the variable that runs it.
  struct Step {
    bool pair;
    unsigned id;
    bool forwards;
    unsigned variable;
  };
  auto getSteps = [&](ArrayRef<unsigned> loops) {
    SmallVector<Step> steps;
    SmallVector<bool> seen(firsts.size());
    for (unsigned v : loops) {
      int role = roles[v];
      if (role == kFree) {
        steps.push_back({false, v, true, v});
      } else if (role >= 0 && !seen[role]) {
        seen[role] = true;
        steps.push_back(
            {true, static_cast<unsigned>(role), v == firsts[role], v});
      }
    }
    return steps;
  };
  SmallVector<Step> original =
      getSteps(llvm::to_vector(llvm::seq<unsigned>(0, size)));
  SmallVector<Step> reordered = getSteps(order);
  SmallVector<bool> backwards(size, false);
  for (auto [was, now] : llvm::zip_equal(original, reordered)) {
    if (was.pair != now.pair || was.id != now.id)
      return std::nullopt;
    backwards[now.variable] = was.forwards != now.forwards;
  }
  return backwards;
}

bool readsInLastIndexOnly(Block &body, llvm::function_ref<bool(Value)> depends,
                          bool &some, bool elementsOnly) {
  WalkResult reads = body.walk([&](Operation *read) {
    ValueRange indices;
    if (auto get = dyn_cast<lz::GetOp>(read)) {
      if (elementsOnly && isa<ShapedType>(get.getType()))
        return WalkResult::interrupt();
      indices = get.getIndices();
    } else if (auto extract = dyn_cast<tensor::ExtractOp>(read)) {
      indices = extract.getIndices();
    }
    if (indices.empty())
      return WalkResult::advance();
    if (llvm::any_of(indices.drop_back(), depends))
      return WalkResult::interrupt();
    some |= depends(indices.back());
    return WalkResult::advance();
  });
  return !reads.wasInterrupted();
}

/// The variable of `op`'s nest to run innermost instead of its last one, a
/// constant range too short to vectorize (a 3x3 stencil's): the last
/// variable that indexes the last dimension of the result alone or plus
/// another variable and no other dimension, has no short constant range,
/// and that every read indexes in its last dimension only, so that the
/// innermost loop adds a vector of values read at consecutive addresses
/// into consecutive elements (a convolution's gradient with respect to its
/// input: `accumulate o, y, x, c, r, s. ((c, y + r, x + s), k[o, c, r, s] *
/// g[o, y, x])` runs `x` innermost).
static std::optional<unsigned> getVectorVariable(lz::AccumulateOp op) {
  ValueRange ranges = op.getRanges();
  if (op.getMasked() || ranges.size() < 2 || !isShortConstant(ranges.back()) ||
      !op.getTargetValue().getType().isIntOrFloat())
    return std::nullopt;
  Block &body = op.getBody().front();
  for (Operation &inner : body.without_terminator())
    if (!isMemoryEffectFree(&inner))
      return std::nullopt;
  ValueRange target = op.getTargetIndices();
  if (target.empty())
    return std::nullopt;
  SmallVector<unsigned, 2> candidates = getIndexVariables(target.back(), body);
  llvm::sort(candidates);
  for (unsigned candidate : llvm::reverse(candidates)) {
    if (isShortConstant(ranges[candidate]))
      continue;
    llvm::DenseSet<Value> dependents =
        lz::getDependents(body, body.getArgument(candidate));
    auto depends = [&](Value v) { return dependents.contains(v); };
    if (llvm::any_of(target.drop_back(), depends))
      continue;
    bool some = false;
    if (readsInLastIndexOnly(body, depends, some))
      return candidate;
  }
  return std::nullopt;
}

/// Rewrites `loop`, whose one state is a tensor of which its body reads and
/// then writes one element at indices defined outside it (an accumulation
/// into one element per run of the loop), to carry that element instead:
/// read before the loop, written after it. The same additions in the same
/// order, without a load and a store each that LLVM cannot move out of the
/// loop (it cannot tell the tensor from the others the body reads).
static void promoteElement(RewriterBase &rewriter, scf::ForOp loop) {
  if (loop.getNumRegionIterArgs() != 1)
    return;
  Value state = loop.getRegionIterArgs()[0];
  tensor::ExtractOp read;
  tensor::InsertOp write;
  for (Operation *user : state.getUsers()) {
    if (user->getBlock() != loop.getBody())
      return;
    if (auto extract = dyn_cast<tensor::ExtractOp>(user); extract && !read)
      read = extract;
    else if (auto insert = dyn_cast<tensor::InsertOp>(user);
             insert && !write && insert.getDest() == state)
      write = insert;
    else
      return;
  }
  if (!read || !write ||
      !write->isBeforeInBlock(loop.getBody()->getTerminator()) ||
      !read->isBeforeInBlock(write) || !write->hasOneUse() ||
      !isa<scf::YieldOp>(*write->getUsers().begin()) ||
      read.getIndices() != write.getIndices() ||
      llvm::any_of(read.getIndices(), [&](Value index) {
        return !loop.isDefinedOutsideOfLoop(index);
      }))
    return;
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Value first = tensor::ExtractOp::create(rewriter, loc, loop.getInitArgs()[0],
                                          read.getIndices());
  auto promoted = scf::ForOp::create(
      rewriter, loc, loop.getLowerBound(), loop.getUpperBound(), loop.getStep(),
      ValueRange{first},
      [&](OpBuilder &b, Location, Value iv, ValueRange element) {
        IRMapping mapping;
        mapping.map(loop.getInductionVar(), iv);
        mapping.map(read.getResult(), element[0]);
        for (Operation &op : loop.getBody()->without_terminator())
          if (&op != read.getOperation() && &op != write.getOperation())
            b.clone(op, mapping);
        scf::YieldOp::create(b, loc,
                             mapping.lookupOrDefault(write.getScalar()));
      });
  Value result =
      tensor::InsertOp::create(rewriter, loc, promoted.getResult(0),
                               loop.getInitArgs()[0], read.getIndices());
  rewriter.replaceOp(loop, result);
}

/// promoteElement on each of `loops`.
static void promoteElements(RewriterBase &rewriter,
                            ArrayRef<scf::ForOp> loops) {
  OpBuilder::InsertionGuard guard(rewriter);
  for (scf::ForOp loop : loops)
    promoteElement(rewriter, loop);
}

/// Whether `op`'s target and reads depend on its variable `v` in their last
/// index only, and some does: a loop over `v` innermost then adds values
/// read at consecutive addresses, into consecutive elements or into one.
static bool isContiguousIn(lz::AccumulateOp op, unsigned v) {
  Block &body = op.getBody().front();
  for (Operation &inner : body.without_terminator())
    if (!isMemoryEffectFree(&inner))
      return false;
  llvm::DenseSet<Value> dependents =
      lz::getDependents(body, body.getArgument(v));
  auto depends = [&](Value index) {
    return index == body.getArgument(v) || dependents.contains(index);
  };
  SmallVector<Value> targets = getMaskedTargets(op);
  ArrayRef<Value> target = targets;
  if (target.empty() || llvm::any_of(target.drop_back(), depends))
    return false;
  bool some = depends(target.back());
  return readsInLastIndexOnly(body, depends, some) && some;
}

/// The operations of `op`'s body that `value` is computed by, in program
/// order, into `slice`, and the variables it depends on into `variables`;
/// false where one of them is not total (isTotal: may run anywhere).
static bool getTotalSlice(lz::AccumulateOp op, Value value,
                          SmallVectorImpl<Operation *> &slice,
                          llvm::SmallDenseSet<unsigned, 4> &variables) {
  Block &body = op.getBody().front();
  llvm::SmallPtrSet<Operation *, 16> found;
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() == &body)
        variables.insert(arg.getArgNumber());
      else if (op->isAncestor(arg.getOwner()->getParentOp()))
        return false;
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (!op->isProperAncestor(def) || !found.insert(def).second)
      continue;
    if (!isTotal(def))
      return false;
    llvm::append_range(worklist, def->getOperands());
  }
  body.walk<WalkOrder::PreOrder>([&](Operation *inner) {
    if (found.contains(inner))
      slice.push_back(inner);
  });
  return true;
}

/// Of a triangular accumulation over `q`, then `p` (its last two
/// variables, `p < q`), the target's one index that depends on them, where
/// it depends on no other variable and is computed by `slice` (total):
/// the GMM's packed factor's, which the lowering cannot show to be
/// one-to-one. Null where the target is not of that form.
static Value getTriangleIndex(lz::AccumulateOp op,
                              const TriangularMask &triangle,
                              SmallVectorImpl<Operation *> &slice) {
  unsigned size = op.getRanges().size();
  if (triangle.outer + 2 != size || triangle.inner + 1 != size)
    return {};
  Value index;
  for (Value target : getMaskedTargets(op)) {
    SmallVector<Operation *> targetSlice;
    llvm::SmallDenseSet<unsigned, 4> variables;
    if (!getTotalSlice(op, target, targetSlice, variables))
      return {};
    if (!variables.contains(triangle.outer) &&
        !variables.contains(triangle.inner))
      continue;
    if (index || llvm::any_of(variables, [&](unsigned v) {
          return v != triangle.outer && v != triangle.inner;
        }))
      return {};
    index = target;
    slice.assign(targetSlice);
  }
  return index;
}

/// A condition, computed at run time, under which the accumulation of
/// getTriangleIndex adds each element's values in the same order with p's
/// loop outside q's: its `index` (computed by `slice`) increases strictly
/// over the triangle in that order, p, then q from p + 1. The points that
/// share the other variables then add into different elements, so that
/// the order of the other variables alone orders an element's values, in
/// both nests.
static Value buildIncreasingCheck(RewriterBase &rewriter, lz::AccumulateOp op,
                                  const TriangularMask &triangle, Value index,
                                  ArrayRef<Operation *> slice) {
  Location loc = op.getLoc();
  Block &body = op.getBody().front();
  Value c1 = indexConstant(rewriter, loc, 1);
  Value previous = indexConstant(rewriter, loc, INT64_MIN);
  Value yes = arith::ConstantIntOp::create(rewriter, loc, 1, 1);
  ValueRange ranges = op.getRanges();
  auto outerLoop = scf::ForOp::create(
      rewriter, loc, indexConstant(rewriter, loc, 0), ranges[triangle.inner],
      c1, ValueRange{previous, yes},
      [&](OpBuilder &ob, Location, Value p, ValueRange outerState) {
        Value from = p;
        if (!triangle.inclusive)
          from = arith::AddIOp::create(ob, loc, p, c1);
        auto innerLoop = scf::ForOp::create(
            ob, loc, from, ranges[triangle.outer], c1, outerState,
            [&](OpBuilder &ib, Location, Value q, ValueRange state) {
              IRMapping mapping;
              mapping.map(body.getArgument(triangle.inner), p);
              mapping.map(body.getArgument(triangle.outer), q);
              for (Operation *inner : slice)
                ib.clone(*inner, mapping);
              Value next = mapping.lookupOrDefault(index);
              Value increases = arith::CmpIOp::create(
                  ib, loc, arith::CmpIPredicate::sgt, next, state[0]);
              scf::YieldOp::create(
                  ib, loc,
                  ValueRange{next, arith::AndIOp::create(ib, loc, state[1],
                                                         increases)});
            });
        scf::YieldOp::create(ob, loc, innerLoop.getResults());
      });
  return outerLoop.getResult(1);
}

/// The fewest points of the range of a triangular mask's `q` (see
/// lowerAccumulate) for which its loop runs innermost: shorter, the inner
/// loops are too short to pay for their setup (the GMM's gradient with d =
/// 2 took 1.2 times its time at -O3 with `q` innermost).
constexpr int64_t kMinInnerTriangle = 8;

/// The loop nest of `op` in `order` (some loops `backwards`) adding its
/// values into `init`, at the rewriter's insertion point; with `clone`, the
/// body is cloned, not moved. Returns the result. An innermost loop that
/// adds into one element goes to `carried`, for promoteElement once `op`,
/// whose terminator may use what the loop computes, is gone. With
/// `rowSum` (getAccumulateRowSum along the innermost loop's variable, run
/// forwards), the body of the loop around the innermost computes the
/// sums of the innermost loop's points as a row first (RowBuilder), which
/// the innermost loop reads.
static Value buildAccumulateNest(RewriterBase &rewriter, lz::AccumulateOp op,
                                 Value init, ArrayRef<unsigned> order,
                                 ArrayRef<bool> backwards, bool clone,
                                 bool reassociate,
                                 SmallVectorImpl<scf::ForOp> &carried,
                                 lz::SumOp rowSum = {}) {
  Location loc = op.getLoc();
  Type elementType = cast<RankedTensorType>(init.getType()).getElementType();
  Value c0 = indexConstant(rewriter, loc, 0);
  Value c1 = indexConstant(rewriter, loc, 1);
  Block &body = op.getBody().front();
  bool masked = op.getMasked();
  SmallVector<Value> ranges(op.getRanges());
  std::optional<TriangularMask> triangle = getTriangularMask(op);
  // Whether the mask's `q` runs inside its `p`, bounded below by it.
  bool outerInside = triangle && order.back() == triangle->outer;
  SmallVector<Value> loopRanges;
  for (unsigned position : order)
    loopRanges.push_back(ranges[position]);
  std::optional<RowBuilder> rowBuilder;
  // The row of the innermost loop's points, in one buffer for all of them,
  // allocated before the nest and carried by its loops (which bufferize
  // in place), but the innermost, which reads it.
  Value row, rowBuffer;
  if (rowSum) {
    rowBuilder.emplace(rewriter, loc, body, rowSum, order.back());
    rowBuffer =
        createEmpty(rewriter, loc,
                    RankedTensorType::get({ShapedType::kDynamic},
                                          cast<FloatType>(rowSum.getType())),
                    ranges[order.back()]);
  }

  // The nest, one loop at a time: a triangular bound reads an outer index.
  SmallVector<scf::ForOp> loops;
  // Whether a loop's bounds read an outer index (hoistNestInvariants).
  SmallVector<bool> mayBeEmpty;
  SmallVector<Value> indices(ranges.size());
  Value acc = init;
  for (auto [p, position] : llvm::enumerate(order)) {
    Value lower = c0;
    Value upper = ranges[position];
    if (p == 0)
      upper = getGuardedBound(rewriter, loc, loopRanges, c0, upper);
    if (triangle && !outerInside && triangle->inner == position) {
      Value bound = indices[triangle->outer];
      if (triangle->inclusive)
        bound = arith::AddIOp::create(rewriter, loc, bound, c1);
      upper = arith::MinUIOp::create(rewriter, loc, upper, bound);
    }
    if (outerInside && triangle->outer == position) {
      lower = indices[triangle->inner];
      if (!triangle->inclusive)
        lower = arith::AddIOp::create(rewriter, loc, lower, c1);
    }
    bool innermost = p + 1 == order.size();
    if (rowSum && innermost) {
      SmallVector<Value> points;
      for (auto [i, index] : llvm::enumerate(indices))
        if (i != position)
          points.push_back(index);
      row = rowBuilder->build(rewriter, loc, points, upper,
                              ShapedType::kDynamic, rowBuffer);
    }
    SmallVector<Value> inits{acc};
    if (rowSum && !innermost)
      inits.push_back(rowBuffer);
    auto loop = scf::ForOp::create(rewriter, loc, lower, upper, c1, inits);
    mayBeEmpty.push_back(p != 0 && (lower != c0 || upper != ranges[position]));
    if (!loops.empty()) {
      SmallVector<Value> results{loop.getResult(0)};
      if (rowSum)
        results.push_back(innermost ? row : loop.getResult(1));
      scf::YieldOp::create(rewriter, loc, results);
    }
    loops.push_back(loop);
    acc = loop.getRegionIterArgs()[0];
    if (rowSum && !innermost)
      rowBuffer = loop.getRegionIterArgs()[1];
    rewriter.setInsertionPointToStart(loop.getBody());
    indices[position] = loop.getInductionVar();
    if (backwards[position])
      indices[position] = arith::SubIOp::create(
          rewriter, loc,
          arith::SubIOp::create(rewriter, loc, ranges[position], c1),
          loop.getInductionVar());
  }

  IRMapping mapping;
  SmallVector<Value> yielded;
  if (rowSum) {
    // The row's element in place of the sum; the rest of the body (the
    // target's integers) as it is.
    mapping.map(body.getArguments(), indices);
    mapping.map(
        rowSum.getResult(),
        tensor::ExtractOp::create(rewriter, loc, row, indices[order.back()]));
    for (Operation &inner : body.without_terminator())
      if (&inner != rowSum.getOperation())
        rewriter.clone(inner, mapping);
    for (Value value : body.getTerminator()->getOperands())
      yielded.push_back(mapping.lookupOrDefault(value));
  } else if (clone) {
    mapping.map(body.getArguments(), indices);
    for (Operation &inner : body.without_terminator())
      rewriter.clone(inner, mapping);
    for (Value value : body.getTerminator()->getOperands())
      yielded.push_back(mapping.lookupOrDefault(value));
  } else {
    yielded = moveBody(rewriter, body, indices);
  }
  if (triangle) {
    // Every point of the nest satisfies the mask.
    Value yes = arith::ConstantIntOp::create(rewriter, loc, 1, 1);
    Value condition = mapping.lookupOrDefault(triangle->condition.getResult());
    rewriter.replaceAllUsesWith(condition, yes);
    llvm::replace(yielded, condition, yes);
    rewriter.eraseOp(condition.getDefiningOp());
    // And a conditional on it takes its then branch.
    for (unsigned i = 0; i < yielded.size(); ++i) {
      auto ifOp = yielded[i].getDefiningOp<scf::IfOp>();
      if (!ifOp || ifOp.getCondition() != yes)
        continue;
      auto thenYield = ifOp.thenYield();
      SmallVector<Value> results(thenYield.getOperands());
      rewriter.eraseOp(thenYield);
      rewriter.inlineBlockBefore(ifOp.thenBlock(), ifOp);
      for (Value &v : yielded)
        if (v.getDefiningOp() == ifOp)
          v = results[cast<OpResult>(v).getResultNumber()];
      rewriter.replaceOp(ifOp, results);
    }
  }
  Value mask = masked ? yielded.front() : Value();
  Value value = yielded.back();
  ValueRange target = ArrayRef(yielded).drop_front(masked).drop_back();
  auto valueType = dyn_cast<RankedTensorType>(value.getType());
  auto update = [&](OpBuilder &ub, Location updateLoc, Value acc) {
    SmallVector<Value> innerSizes;
    if (valueType)
      innerSizes = getSizes(ub, updateLoc, value);
    SmallVector<Value> innerLower(innerSizes.size(), c0);
    SmallVector<Value> innerSteps(innerSizes.size(), c1);
    scf::LoopNest inner = scf::buildLoopNest(
        ub, updateLoc, innerLower, innerSizes, innerSteps, ValueRange{acc},
        [&](OpBuilder &ib, Location innerLoc, ValueRange at,
            ValueRange innerAccs) -> scf::ValueVector {
          SmallVector<Value> position(target);
          llvm::append_range(position, at);
          Value x = valueType
                        ? tensor::ExtractOp::create(ib, innerLoc, value, at)
                              .getResult()
                        : value;
          Value old =
              tensor::ExtractOp::create(ib, innerLoc, innerAccs[0], position);
          // Reassociated, an element's additions may vectorize
          // (promoteElement).
          Value sum =
              isa<FloatType>(elementType)
                  ? arith::AddFOp::create(ib, innerLoc, old, x,
                                          reassociate
                                              ? arith::FastMathFlags::reassoc
                                              : arith::FastMathFlags::none)
                        .getResult()
                  : arith::AddIOp::create(ib, innerLoc, old, x).getResult();
          return {tensor::InsertOp::create(ib, innerLoc, sum, innerAccs[0],
                                           position)};
        });
    return inner.results.empty() ? acc : inner.results.front();
  };
  Value next;
  if (!mask || matchPattern(mask, m_One())) {
    next = update(rewriter, loc, acc);
  } else {
    // Masked: the points whose mask is false add nothing.
    auto ifOp = scf::IfOp::create(
        rewriter, loc, mask,
        [&](OpBuilder &tb, Location thenLoc) {
          scf::YieldOp::create(tb, thenLoc, update(tb, thenLoc, acc));
        },
        [&](OpBuilder &eb, Location elseLoc) {
          scf::YieldOp::create(eb, elseLoc, acc);
        });
    next = ifOp.getResult(0);
  }
  if (loops.empty())
    return next;
  scf::YieldOp::create(rewriter, loc, next);
  bool carries = loops.size() > 1 && !valueType;
  hoistNestInvariants(rewriter, loops, mayBeEmpty, carries);
  if (carries)
    carried.push_back(loops.back());
  rewriter.setInsertionPointAfter(loops.front());
  return loops.front().getResult(0);
}

/// The order of the loops of `op`'s nest with `inner` (getVectorVariable)
/// innermost and the short constant ranges moved out of the next loop, so
/// that consecutive runs of the innermost loop update different elements,
/// into `order`, and which of them run backwards into `backwards`, so that
/// each element adds its values in the same order (getBackwardLoops).
/// Where no directions do, only with `reassociate` or for integers, which
/// add exactly in any order; otherwise the scope's order.
static void getVectorOrder(lz::AccumulateOp op, unsigned inner,
                           bool reassociate, SmallVectorImpl<unsigned> &order,
                           SmallVectorImpl<bool> &backwards) {
  SmallVector<Value> ranges(op.getRanges());
  order.assign(llvm::to_vector(llvm::seq<unsigned>(0, ranges.size())));
  backwards.assign(ranges.size(), false);
  SmallVector<unsigned> longer, shorter, reordered;
  for (unsigned p : order)
    if (p != inner)
      (isShortConstant(ranges[p]) ? shorter : longer).push_back(p);
  if (!longer.empty()) {
    reordered.append(longer.begin(), longer.end() - 1);
    reordered.append(shorter);
    reordered.push_back(longer.back());
  } else {
    reordered.append(shorter);
  }
  reordered.push_back(inner);
  if (std::optional<SmallVector<bool>> directions =
          getBackwardLoops(op, reordered)) {
    order.assign(reordered);
    backwards.assign(*directions);
  } else if (reassociate || isa<IntegerType>(op.getTargetValue().getType())) {
    order.assign(reordered);
  }
}

lz::SumOp getAccumulateRowSum(lz::AccumulateOp op, bool reassociate,
                              unsigned *row) {
  std::optional<unsigned> inner = getVectorVariable(op);
  if (!inner)
    return {};
  SmallVector<unsigned> order;
  SmallVector<bool> backwards;
  getVectorOrder(op, *inner, reassociate, order, backwards);
  if (order.back() != *inner || backwards[*inner])
    return {};
  if (row)
    *row = *inner;
  return getAccumulateRowSumAlong(op, *inner);
}

void packRowSumReads(RewriterBase &rewriter, lz::AccumulateOp op, lz::SumOp sum,
                     unsigned row) {
  Block &sumBody = sum.getBody().front();
  llvm::DenseSet<Value> alongRow =
      lz::getDependents(op.getBody().front(), op.getBody().getArgument(row));
  SmallVector<lz::GetOp> reads;
  for (Operation &inner : sumBody.without_terminator()) {
    auto get = dyn_cast<lz::GetOp>(inner);
    if (!get || isa<ShapedType>(get.getType()) ||
        op->isAncestor(get.getTensor().getParentRegion()->getParentOp()))
      continue;
    reads.push_back(get);
  }
  // What the sum's variables compute in its body.
  llvm::DenseSet<Value> summed;
  for (BlockArgument k : sumBody.getArguments()) {
    summed.insert(k);
    summed.insert_range(lz::getDependents(sumBody, k));
  }
  struct Copy {
    Value tensor;
    unsigned dim;
    Value copy;
  };
  SmallVector<Copy> copies;
  for (lz::GetOp get : reads) {
    ValueRange indices = get.getIndices();
    unsigned rank = indices.size();
    if (rank < 3)
      continue;
    // The one index that the sum's variables compute, a variable itself,
    // before the last two.
    std::optional<unsigned> dim;
    bool valid = true;
    for (auto [position, index] : llvm::enumerate(indices)) {
      if (!summed.contains(index))
        continue;
      auto arg = dyn_cast<BlockArgument>(index);
      valid &= !dim && arg && arg.getOwner() == &sumBody;
      dim = position;
    }
    Value last = indices.back();
    if (!valid || !dim || *dim + 2 >= rank ||
        (last != op.getBody().getArgument(row) && !alongRow.contains(last)) ||
        !isReusedAcross(op.getBody().front(), op.getRanges(), get.getTensor()))
      continue;
    SmallVector<unsigned> permutation;
    for (unsigned position = 0; position < rank; ++position)
      if (position != *dim)
        permutation.push_back(position);
    permutation.insert(permutation.end() - 1, *dim);
    Value tensor = get.getTensor();
    Location loc = get.getLoc();
    auto *known = llvm::find_if(
        copies, [&](const Copy &c) { return c.tensor == tensor; });
    if (known != copies.end() && known->dim != *dim)
      continue;
    Value copy = known != copies.end() ? known->copy : Value();
    if (!copy) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(op);
      copy = buildPermutedCopy(rewriter, loc, tensor, permutation);
      copies.push_back({tensor, *dim, copy});
    }
    SmallVector<Value> permuted;
    for (unsigned position : permutation)
      permuted.push_back(indices[position]);
    rewriter.setInsertionPoint(get);
    rewriter.replaceOpWithNewOp<lz::GetOp>(get, copy, permuted);
  }
}

/// `lz.accumulate`: a tensor of zeros, then a loop nest over the points in
/// the scope's order that adds each point's value (element by element for a
/// sub-tensor) at its indices; when masked, under an `scf.if` on the mask.
/// A triangular mask bounds its inner loop instead, or the loop of its
/// other variable, run innermost where its reads and target are
/// contiguous in it (isContiguousIn) and its range has kMinInnerTriangle
/// points (a condition at run time). The loops may run in another order
/// (getVectorVariable), some backwards (getBackwardLoops) so that each
/// element adds its values in the same order, or, with `reassociate`, in
/// another order.
void lowerAccumulate(RewriterBase &rewriter, lz::AccumulateOp op,
                     bool reassociate) {
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getType());
  Type elementType = type.getElementType();
  Value empty = tensor::EmptyOp::create(rewriter, loc, type, op.getSizes());
  Value zero = arith::ConstantOp::create(rewriter, loc,
                                         rewriter.getZeroAttr(elementType));
  Value init = linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
  SmallVector<Value> ranges(op.getRanges());
  std::optional<TriangularMask> triangle = getTriangularMask(op);

  // The loops' order: the scope's, or with one variable moved innermost
  // and the short constant ranges moved out of the next loop, so that
  // consecutive runs of the innermost loop update different elements.
  // Without reassociation, only where each element's values then add in
  // the same order, some loops running backwards.
  auto scopeOrder = llvm::to_vector(llvm::seq<unsigned>(0, ranges.size()));
  SmallVector<unsigned> order = scopeOrder;
  SmallVector<bool> forwards(ranges.size(), false);
  // The innermost loops that add into one element: they carry it.
  SmallVector<scf::ForOp> carried;
  SmallVector<bool> backwards = forwards;
  if (std::optional<unsigned> inner = getVectorVariable(op)) {
    getVectorOrder(op, *inner, reassociate, order, backwards);
  } else if (triangle && isContiguousIn(op, triangle->outer)) {
    // The mask's `q` innermost, from `p` (+ 1) on: over the packed lower
    // triangle of a GMM's factor, `(c, q * (2 d - q - 1) / 2 + p - q - 1)`
    // is consecutive in p. Only forwards: the loop starts at `q`. Where q's
    // range is short, the scope's order.
    SmallVector<unsigned> reordered;
    for (unsigned p : order)
      if (p != triangle->outer)
        reordered.push_back(p);
    reordered.push_back(triangle->outer);
    std::optional<SmallVector<bool>> directions =
        getBackwardLoops(op, reordered);
    bool ordered =
        (directions && llvm::none_of(*directions, [](bool b) { return b; })) ||
        reassociate || isa<IntegerType>(elementType);
    // Otherwise, where the points of the triangle add into different
    // elements: a condition at run time.
    SmallVector<Operation *> slice;
    Value packed = ordered ? Value() : getTriangleIndex(op, *triangle, slice);
    if (ordered || packed) {
      Value condition = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::sge, ranges[triangle->outer],
          indexConstant(rewriter, loc, kMinInnerTriangle));
      if (packed) {
        auto check = scf::IfOp::create(
            rewriter, loc, TypeRange{rewriter.getI1Type()}, condition,
            /*withElseRegion=*/true);
        rewriter.setInsertionPointToStart(&check.getThenRegion().front());
        scf::YieldOp::create(
            rewriter, loc,
            buildIncreasingCheck(rewriter, op, *triangle, packed, slice));
        rewriter.setInsertionPointToStart(&check.getElseRegion().front());
        scf::YieldOp::create(rewriter, loc, condition);
        rewriter.setInsertionPointAfter(check);
        condition = check.getResult(0);
      }
      auto ifOp = scf::IfOp::create(rewriter, loc, TypeRange{type}, condition,
                                    /*withElseRegion=*/true);
      rewriter.setInsertionPointToStart(&ifOp.getThenRegion().front());
      scf::YieldOp::create(rewriter, loc,
                           buildAccumulateNest(rewriter, op, init, reordered,
                                               forwards, /*clone=*/true,
                                               reassociate, carried));
      rewriter.setInsertionPointToStart(&ifOp.getElseRegion().front());
      scf::YieldOp::create(rewriter, loc,
                           buildAccumulateNest(rewriter, op, init, scopeOrder,
                                               forwards, /*clone=*/false,
                                               reassociate, carried));
      rewriter.setInsertionPointAfter(ifOp);
      rewriter.replaceOp(op, ifOp.getResult(0));
      promoteElements(rewriter, carried);
      return;
    }
  }
  // A sum of terms per point along the innermost variable: computed row
  // by row, in vector registers.
  lz::SumOp rowSum = getAccumulateRowSum(op, reassociate);
  rewriter.replaceOp(
      op, buildAccumulateNest(rewriter, op, init, order, backwards,
                              /*clone=*/false, reassociate, carried, rowSum));
  promoteElements(rewriter, carried);
}

/// Whether `op` calls a math function that LLVM's loop vectorizer replaces
/// by a vector version from the vector math library of `-O3` (glibc's
/// libmvec): those of LLVM's table of it, and with `extended` those that
/// the driver adds to it (glibc 2.35's). A loop that calls it runs several
/// points per call once vectorized.
static bool isVectorMathFunction(Operation *op, bool extended) {
  if (isa<math::SinOp, math::CosOp, math::TanOp, math::ExpOp, math::LogOp,
          math::PowFOp>(op))
    return true;
  return extended &&
         isa<math::TanhOp, math::SinhOp, math::CoshOp, math::AsinOp,
             math::AcosOp, math::AtanOp, math::Atan2Op, math::AsinhOp,
             math::AcoshOp, math::AtanhOp, math::Exp2Op, math::ExpM1Op,
             math::Log2Op, math::Log10Op, math::Log1pOp, math::ErfOp,
             math::ErfcOp, math::CbrtOp>(op);
}

/// With vector math: moves the value of `op`, a scatter-add over one range
/// whose value calls such a function, into a traversal of its own before
/// it, whose result the scatter-add then reads at its point. The
/// scatter-add's loop adds into elements that its points choose, so LLVM
/// does not vectorize it, nor the math functions in it; the traversal's
/// loop it does. The values (up to the vector functions' rounding) and
/// their order of addition do not change. The traversal holds a value per
/// point: not over several ranges, whose points may be many more than the
/// elements of the result and of the inputs (a traversal of i, j for
/// `A[idx[i], j]`). Not for a scatter-add in a scope or in a function
/// called there (`inScopes`: a traversal per point of the scope), nor for
/// one whose body has effects.
void splitAccumulateValues(RewriterBase &rewriter, lz::AccumulateOp op,
                           const llvm::SmallPtrSetImpl<Operation *> &inScopes,
                           bool extended) {
  Block &body = op.getBody().front();
  Value value = body.getTerminator()->getOperands().back();
  if (op.getRanges().size() != 1 || isShortConstant(op.getRanges().front()) ||
      !isOutsideScopes(op) ||
      inScopes.contains(op->getParentOfType<func::FuncOp>()) ||
      !value.getType().isIntOrFloat())
    return;
  bool pure = true, vectorMath = false;
  body.walk([&](Operation *nested) {
    pure &=
        nested->hasTrait<OpTrait::IsTerminator>() || isMemoryEffectFree(nested);
  });
  Operation *def = value.getDefiningOp();
  if (!pure || !def || def->getBlock() != &body)
    return;
  // The operations of the body that the value uses.
  llvm::SmallPtrSet<Operation *, 16> slice;
  SmallVector<Operation *> worklist{def};
  while (!worklist.empty()) {
    Operation *sliceOp = worklist.pop_back_val();
    if (!slice.insert(sliceOp).second)
      continue;
    sliceOp->walk([&](Operation *nested) {
      vectorMath |= isVectorMathFunction(nested, extended);
      for (Value operand : nested->getOperands())
        if (Operation *operandDef = operand.getDefiningOp())
          if (operandDef->getBlock() == &body)
            worklist.push_back(operandDef);
    });
  }
  if (!vectorMath)
    return;

  Location loc = value.getLoc();
  rewriter.setInsertionPoint(op);
  ValueRange ranges = op.getRanges();
  SmallVector<int64_t> shape;
  for (Value range : ranges) {
    std::optional<int64_t> size = getConstantIntValue(range);
    shape.push_back(size ? *size : ShapedType::kDynamic);
  }
  auto type = RankedTensorType::get(shape, value.getType());
  auto values =
      lz::ForOp::create(rewriter, loc, TypeRange{type}, ranges,
                        [&](OpBuilder &b, Location, ValueRange indices) {
                          IRMapping mapping;
                          mapping.map(body.getArguments(), indices);
                          for (Operation &nested : body.without_terminator())
                            if (slice.contains(&nested))
                              b.clone(nested, mapping);
                          lz::YieldOp::create(b, loc, mapping.lookup(value));
                        });
  // A copy, so that canonicalization does not fold the reads back into
  // the traversal's body (one more pass over the values, little next to
  // the math functions).
  Value copy = bufferization::AllocTensorOp::create(
      rewriter, loc, type, ValueRange{}, values.getResult(0));
  rewriter.setInsertionPoint(body.getTerminator());
  Value read = lz::GetOp::create(rewriter, loc, copy, body.getArguments());
  rewriter.modifyOpInPlace(body.getTerminator(), [&] {
    body.getTerminator()->setOperand(body.getTerminator()->getNumOperands() - 1,
                                     read);
  });
  // What only the value used.
  SmallVector<Operation *> dead;
  for (Operation &nested : body.without_terminator())
    if (slice.contains(&nested))
      dead.push_back(&nested);
  for (Operation *nested : llvm::reverse(dead))
    if (nested->use_empty())
      rewriter.eraseOp(nested);
}

} // namespace leibniz::lowerlz
