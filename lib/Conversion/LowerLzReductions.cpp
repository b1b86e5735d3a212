//===- LowerLzReductions.cpp - lower-lz: reductions -----------------------===//
//
// Part of Leibniz.
//
// Scalar reductions as loop nests carrying their accumulator, split into
// partitions that run in parallel where reassociation is allowed; the
// reductions in the bodies of traversals split for a GPU's threads; and
// traversals of sums computed row by row, vectorized in their order of
// additions.
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

/// A rough estimate of the work of one point of a scope's body, in simple
/// operations; a nested scope or loop counts 16 runs of its body.
static int64_t estimateBodyCost(Region &region) {
  int64_t cost = 0;
  for (Operation &op : region.getOps()) {
    int64_t nested = 0;
    for (Region &inner : op.getRegions())
      nested = std::max(nested, estimateBodyCost(inner));
    cost += 1 + 16 * nested;
  }
  return std::min<int64_t>(cost, 1 << 20);
}

/// Whether `op` is outside every scope and loop of its function.
bool isOutermost(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (isa<func::FuncOp>(parent))
      return true;
    if (!isa<scf::IfOp>(parent))
      return false;
  }
  return true;
}

/// Whether `op` is in no scope (traversal or reduction), accumulation or
/// parallel loop: what runs it is sequential host code, maybe a loop.
bool isOutsideScopes(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (isa<func::FuncOp>(parent))
      return true;
    if (isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
            lz::AccumulateOp, scf::ParallelOp, scf::ForallOp, linalg::LinalgOp,
            tensor::GenerateOp>(parent))
      return false;
  }
  return true;
}

static Value buildRowReductionNest(RewriterBase &rewriter, Location loc,
                                   Operation *scope, lz::SumOp rowSum,
                                   ValueRange lowerBounds,
                                   ValueRange upperBounds, Value init,
                                   bool reassociate);

/// A loop nest over [lowerBounds, upperBounds) in the scope's order,
/// folding the body's values into `init`. With `copy`, the body is cloned
/// and the scope keeps it. With `rowSum` (getReductionRowSum), the sum in
/// the body is computed row by row.
static Value buildReductionNest(RewriterBase &rewriter, Location loc,
                                Operation *scope, ValueRange lowerBounds,
                                ValueRange upperBounds, Value init,
                                bool reassociate, bool copy, lz::SumOp rowSum) {
  if (rowSum)
    return buildRowReductionNest(rewriter, loc, scope, rowSum, lowerBounds,
                                 upperBounds, init, reassociate);
  Block &body = scope->getRegion(0).front();
  SmallVector<Value> steps(upperBounds.size(), indexConstant(rewriter, loc, 1));
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lowerBounds, upperBounds, steps, ValueRange{init},
      [&](OpBuilder &b, Location nestedLoc, ValueRange indices,
          ValueRange accs) -> scf::ValueVector {
        rewriter.setInsertionPoint(b.getInsertionBlock(),
                                   b.getInsertionPoint());
        SmallVector<Value> values = copy ? cloneBody(rewriter, body, indices)
                                         : moveBody(rewriter, body, indices);
        return {combine(rewriter, nestedLoc, scope, accs[0], values[0],
                        reassociate)};
      });
  return nest.results.empty() ? init : nest.results.front();
}

/// A reassociated reduction split along its first range into partitions,
/// as many as its estimated work calls for (at most the policy's
/// maxPartitions), whose partial results an `scf.forall` computes and a
/// loop combines in order.
/// The number of partitions depends on the sizes only, not on the number
/// of threads, so the result does not either. One partition is the plain
/// loop nest.
static Value buildSplitReduction(RewriterBase &rewriter, Location loc,
                                 Operation *scope, Value init,
                                 const SplitPolicy &policy, lz::SumOp rowSum) {
  ValueRange ranges = scope->getOperands();
  Type type = init.getType();
  Value zero = indexConstant(rewriter, loc, 0);
  Value one = indexConstant(rewriter, loc, 1);
  Value work =
      indexConstant(rewriter, loc, estimateBodyCost(scope->getRegion(0)));
  for (Value range : ranges)
    work = arith::MulIOp::create(
        rewriter, loc, work,
        arith::MaxSIOp::create(rewriter, loc, range, zero));
  Value parts = arith::DivSIOp::create(
      rewriter, loc, work, indexConstant(rewriter, loc, policy.partitionWork));
  parts = arith::MinSIOp::create(
      rewriter, loc, parts, indexConstant(rewriter, loc, policy.maxPartitions));
  parts = arith::MinSIOp::create(rewriter, loc, parts, ranges[0]);
  Value split = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt,
                                      parts, one);
  auto ifOp = scf::IfOp::create(rewriter, loc, TypeRange{type}, split,
                                /*withElseRegion=*/true);

  // The partitions: partition p covers [p * n / parts, (p + 1) * n / parts)
  // of the first range.
  rewriter.setInsertionPointToStart(&ifOp.getThenRegion().front());
  auto partialsType = RankedTensorType::get({ShapedType::kDynamic}, type);
  auto boundary = [&](Value index) {
    return arith::DivSIOp::create(
        rewriter, loc, arith::MulIOp::create(rewriter, loc, index, ranges[0]),
        parts);
  };
  // Partition p's partial result, at the rewriter's insertion point.
  auto buildPartial = [&](Value p) {
    SmallVector<Value> lowerBounds(ranges.size(), zero);
    SmallVector<Value> upperBounds(ranges);
    lowerBounds[0] = boundary(p);
    upperBounds[0] = boundary(arith::AddIOp::create(rewriter, loc, p, one));
    return buildReductionNest(rewriter, loc, scope, lowerBounds, upperBounds,
                              init, /*reassociate=*/true, /*copy=*/true,
                              rowSum);
  };
  Value partials;
  if (policy.inLoops) {
    // For a GPU: a tensor.generate, which becomes a parallel loop that
    // stores each partial result, one thread each.
    auto generate = tensor::GenerateOp::create(
        rewriter, loc, partialsType, ValueRange{parts},
        [&](OpBuilder &builder, Location, ValueRange indices) {
          OpBuilder::InsertionGuard guard(rewriter);
          rewriter.setInsertionPoint(builder.getInsertionBlock(),
                                     builder.getInsertionPoint());
          tensor::YieldOp::create(rewriter, loc, buildPartial(indices[0]));
        });
    // A copy, so that canonicalization does not fold the combining loop's
    // reads of the partial results back into the generator's body.
    partials = bufferization::AllocTensorOp::create(
        rewriter, loc, partialsType, ValueRange{}, generate.getResult());
  } else {
    // For the thread pool: an scf.forall of a few partitions.
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, partialsType, ValueRange{parts});
    auto loop = scf::ForallOp::create(
        rewriter, loc, {OpFoldResult(zero)}, {OpFoldResult(parts)},
        {OpFoldResult(one)}, ValueRange{empty}, std::nullopt);
    rewriter.setInsertionPoint(loop.getTerminator());
    Value partial = buildPartial(loop.getInductionVar(0));
    Value element = tensor::FromElementsOp::create(
        rewriter, loc, RankedTensorType::get({1}, type), ValueRange{partial});
    rewriter.setInsertionPointToStart(loop.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(
        rewriter, loc, element, loop.getRegionIterArgs()[0],
        ArrayRef<OpFoldResult>{loop.getInductionVar(0)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
    partials = loop.getResult(0);
    rewriter.setInsertionPointAfter(loop);
  }
  auto combineLoop = scf::ForOp::create(
      rewriter, loc, zero, parts, one, ValueRange{init},
      [&](OpBuilder &b, Location nestedLoc, Value index, ValueRange accs) {
        Value value = tensor::ExtractOp::create(b, nestedLoc, partials, index);
        scf::YieldOp::create(b, nestedLoc,
                             combine(b, nestedLoc, scope, accs[0], value,
                                     /*reassociate=*/true));
      });
  scf::YieldOp::create(rewriter, loc, combineLoop.getResult(0));

  // One partition: the plain nest, with the scope's body.
  rewriter.setInsertionPointToStart(&ifOp.getElseRegion().front());
  SmallVector<Value> origin(ranges.size(), zero);
  Value result =
      buildReductionNest(rewriter, loc, scope, origin, ranges, init,
                         /*reassociate=*/true, /*copy=*/false, rowSum);
  scf::YieldOp::create(rewriter, loc, result);
  rewriter.setInsertionPointAfter(ifOp);
  return ifOp.getResult(0);
}

/// A reduction to a scalar: a loop nest in the scope's order carrying the
/// accumulator from the identity. A float sum starts from -0.0, the identity
/// of IEEE addition (bit for bit, unlike +0.0), so that the fold equals the
/// interpreter's fold from the first point; an empty float sum is +0.0.
/// With `split`, the reduction is reassociated and split into partitions
/// that may run in parallel. With `rowSum` (getReductionRowSum), the sum in
/// its body is computed row by row.
void lowerScalarReduction(RewriterBase &rewriter, Operation *scope,
                          bool reassociate, const SplitPolicy *split,
                          lz::SumOp rowSum) {
  Location loc = scope->getLoc();
  ValueRange ranges = scope->getOperands();
  Type type = scope->getResult(0).getType();
  bool floatSum = isa<lz::SumOp>(scope) && isa<FloatType>(type);
  TypedAttr identity = lz::getReductionIdentity(scope, type);
  if (floatSum)
    identity = rewriter.getFloatAttr(type, -0.0);
  Value init = arith::ConstantOp::create(rewriter, loc, identity);
  Value result;
  if (split && !ranges.empty()) {
    result = buildSplitReduction(rewriter, loc, scope, init, *split, rowSum);
  } else {
    SmallVector<Value> lowerBounds(ranges.size(),
                                   indexConstant(rewriter, loc, 0));
    result = buildReductionNest(rewriter, loc, scope, lowerBounds, ranges, init,
                                reassociate, /*copy=*/false, rowSum);
  }
  rewriter.setInsertionPointAfter(scope);
  if (floatSum && !ranges.empty()) {
    Value empty = indexConstant(rewriter, loc, 0);
    Value isEmpty = arith::ConstantIntOp::create(rewriter, loc, 0, 1);
    for (Value range : ranges)
      isEmpty = arith::OrIOp::create(
          rewriter, loc, isEmpty,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sle, range,
                                empty));
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getFloatAttr(type, 0.0));
    result = arith::SelectOp::create(rewriter, loc, isEmpty, zero, result);
  }
  rewriter.replaceOp(scope, result);
}

/// The operations of `block` that `op`, its regions included, uses,
/// transitively, in block order; failure if one of them has regions or
/// memory effects, or makes a tensor other than by reading a sub-tensor
/// (a product): those are not worth computing again or cannot be.
static FailureOr<SmallVector<Operation *>> getUsedInBlock(Operation *op,
                                                          Block &block) {
  llvm::SmallPtrSet<Operation *, 8> slice;
  SmallVector<Value> worklist;
  auto addOperands = [&](Operation *user) {
    user->walk([&](Operation *nested) {
      llvm::append_range(worklist, nested->getOperands());
    });
  };
  addOperands(op);
  while (!worklist.empty()) {
    Operation *def = worklist.pop_back_val().getDefiningOp();
    if (!def || def->getBlock() != &block || !slice.insert(def).second)
      continue;
    if (def->getNumRegions() != 0 || !isMemoryEffectFree(def) ||
        (!isa<lz::GetOp>(def) &&
         llvm::any_of(def->getResultTypes(), llvm::IsaPred<ShapedType>)))
      return failure();
    addOperands(def);
  }
  SmallVector<Operation *> ordered(slice.begin(), slice.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ordered;
}

/// Whether a reduction in the body of `outer` may be split into partitions
/// of its own: a scalar result, and ranges that do not depend on `outer`'s
/// point (the same partitions at every point).
static bool isSplittableInTraversal(Operation *op, lz::ForOp outer) {
  if (!lz::isReductionOp(op) || op->getNumOperands() == 0 ||
      !op->getResult(0).getType().isIntOrFloat())
    return false;
  return llvm::none_of(op->getOperands(), [&](Value range) {
    return outer.getBody().isAncestor(range.getParentRegion());
  });
}

/// For a GPU: splits `scope`, a reduction in the body of the traversal
/// `outer` (whose points are threads), into strided partitions of its
/// first range, so that a long reduction over few points runs on many
/// threads. `slice` is what the body computes before `scope` that `scope`
/// uses. Before `outer`, a traversal over `outer`'s points and the
/// partitions computes the partial results: partition p covers the points
/// p, p + P, p + 2P, ... of the first range, so that neighbouring threads
/// read neighbouring elements. In `outer`'s body, the reduction becomes
/// the combination of its point's P partial results. P makes at most
/// `maxPartitions` threads in all, each with about `partitionWork`
/// operations, and is 1 (one partial result, the whole reduction) where
/// the points are enough.
static void splitReductionInTraversal(RewriterBase &rewriter, lz::ForOp outer,
                                      Operation *scope,
                                      ArrayRef<Operation *> slice,
                                      const SplitPolicy &policy) {
  Location loc = scope->getLoc();
  Block &body = outer.getBody().front();
  ValueRange points = outer.getRanges();
  ValueRange ranges = scope->getOperands();
  Type type = scope->getResult(0).getType();
  rewriter.setInsertionPoint(outer);
  Value zero = indexConstant(rewriter, loc, 0);
  Value one = indexConstant(rewriter, loc, 1);
  auto atLeast = [&](Value value, Value bound) -> Value {
    return arith::MaxSIOp::create(rewriter, loc, value, bound);
  };
  Value work =
      indexConstant(rewriter, loc, estimateBodyCost(scope->getRegion(0)));
  for (Value range : ranges)
    work = arith::MulIOp::create(rewriter, loc, work, atLeast(range, zero));
  Value count = one;
  for (Value range : points)
    count = arith::MulIOp::create(rewriter, loc, count, atLeast(range, zero));
  count = atLeast(count, one);
  // ceil(maxPartitions / count) partitions per point.
  Value perPoint = arith::DivSIOp::create(
      rewriter, loc,
      arith::AddIOp::create(
          rewriter, loc, indexConstant(rewriter, loc, policy.maxPartitions - 1),
          count),
      count);
  Value first = atLeast(ranges[0], zero);
  Value parts = arith::DivSIOp::create(
      rewriter, loc, work, indexConstant(rewriter, loc, policy.partitionWork));
  parts = arith::MinSIOp::create(rewriter, loc, parts, perPoint);
  parts = atLeast(arith::MinSIOp::create(rewriter, loc, parts, first), one);

  auto outerType = cast<RankedTensorType>(outer.getResult(0).getType());
  SmallVector<int64_t> shape(outerType.getShape().take_front(points.size()));
  shape.push_back(ShapedType::kDynamic);
  SmallVector<Value> partialRanges(points);
  partialRanges.push_back(parts);
  auto partials = lz::ForOp::create(
      rewriter, loc, TypeRange{RankedTensorType::get(shape, type)},
      partialRanges, [&](OpBuilder &b, Location nested, ValueRange indices) {
        IRMapping mapping;
        for (auto [argument, index] : llvm::zip(body.getArguments(), indices))
          mapping.map(argument, index);
        for (Operation *op : slice)
          b.clone(*op, mapping);
        Value p = indices.back();
        // ceil((first - p) / parts) points, from p with the step parts.
        Value size = arith::DivSIOp::create(
            b, nested,
            arith::AddIOp::create(b, nested,
                                  arith::SubIOp::create(b, nested, first, p),
                                  arith::SubIOp::create(b, nested, parts, one)),
            parts);
        Operation *partial = b.clone(*scope, mapping);
        partial->setOperand(0, size);
        Block &inner = partial->getRegion(0).front();
        BlockArgument strided = inner.getArgument(0);
        OpBuilder ib = OpBuilder::atBlockBegin(&inner);
        auto step = arith::MulIOp::create(ib, nested, strided, parts);
        Value point = arith::AddIOp::create(ib, nested, p, step);
        strided.replaceUsesWithIf(
            point, [&](OpOperand &use) { return use.getOwner() != step; });
        lz::YieldOp::create(b, nested, partial->getResult(0));
      });
  // A copy, so that canonicalization does not fold the combination's reads
  // back into the partials' body: every point would then compute all its
  // partitions itself.
  Value partialResults = bufferization::AllocTensorOp::create(
      rewriter, loc, cast<RankedTensorType>(partials.getResult(0).getType()),
      ValueRange{}, partials.getResult(0));

  // The point's partial results, combined in order by a reduction of the
  // same kind.
  rewriter.setInsertionPoint(scope);
  OperationState state(loc, scope->getName());
  state.addOperands(parts);
  state.addTypes(type);
  state.addAttributes(scope->getAttrs());
  Region *region = state.addRegion();
  Block *block = new Block;
  region->push_back(block);
  Value q = block->addArgument(rewriter.getIndexType(), loc);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(block);
    SmallVector<Value> at(body.getArguments());
    at.push_back(q);
    Value partial = lz::GetOp::create(rewriter, loc, partialResults, at);
    lz::YieldOp::create(rewriter, loc, partial);
  }
  rewriter.replaceOp(scope, rewriter.create(state)->getResults());
}

/// Splits the reductions in the bodies of the traversals that become
/// kernels (outside every scope) where that may give their threads work,
/// see splitReductionInTraversal. A reduction that uses the result of
/// another scope (a softmax's sum uses its maximum) is not split: every
/// partition would compute that scope again.
void splitReductionsInTraversals(RewriterBase &rewriter, Operation *root,
                                 const SplitPolicy &policy) {
  SmallVector<lz::ForOp> traversals;
  root->walk([&](lz::ForOp outer) {
    if (isOutsideScopes(outer) && outer.getNumResults() != 0)
      traversals.push_back(outer);
  });
  for (lz::ForOp outer : traversals) {
    SmallVector<Operation *> scopes;
    for (Operation &op : outer.getBody().front())
      if (isSplittableInTraversal(&op, outer))
        scopes.push_back(&op);
    for (Operation *scope : scopes) {
      // Reductions too small for two partitions stay: those of constant
      // ranges with little work, or an empty range.
      int64_t work = estimateBodyCost(scope->getRegion(0));
      bool known = true, empty = false;
      for (Value range : scope->getOperands()) {
        std::optional<int64_t> size = getConstantIntValue(range);
        known &= size.has_value();
        empty |= size && *size <= 0;
        if (size)
          work = std::min<int64_t>(work * std::max<int64_t>(*size, 0),
                                   int64_t(1) << 40);
      }
      if (empty || (known && work < 2 * policy.partitionWork))
        continue;
      FailureOr<SmallVector<Operation *>> slice =
          getUsedInBlock(scope, outer.getBody().front());
      if (failed(slice))
        continue;
      splitReductionInTraversal(rewriter, outer, scope, *slice, policy);
    }
  }
}

/// Whether `range` is a constant below 16: too short a loop for vectorizing
/// it to pay (a 3x3 stencil's loops are).
bool isShortConstant(Value range) {
  std::optional<int64_t> size = getConstantIntValue(range);
  return size && *size < 16;
}

/// The elements of a row that lowerRowSums computes together: 2 KiB of
/// f64, which stay in the L1 cache while every term adds into them.
constexpr int64_t kRowStrip = 256;

/// The fewest rows (a constant number) that lowerRowSums computes row by
/// row: its rows run in parallel, but not the elements of a row.
constexpr int64_t kMinRows = 4;

/// The bytes of the consecutive elements whose sums lowerRowSums carries
/// through the sum's loops, where the sum's body is cheap: with these in
/// registers, a term costs its reads and arithmetic, not a load and a store
/// of its element. Strips of the first width run first, then strips of the
/// next ones on what remains, then one strip of the last width over the
/// rest of the row, its lanes past the row's end computing its last
/// element again (a row of 29 f64 runs as strips of 16 and 8, then one of
/// 8 whose last 3 lanes compute element 28 again).
constexpr int64_t kRegisterStripBytes[] = {256, 128, 64};

/// The most elements of a strip in registers (f16's strips are no wider
/// than f32's).
constexpr int64_t kMaxStripLanes = 64;

/// The fewest elements of a row whose sums are triangular (`sum k < x`)
/// that lowerRowSums computes as a row; narrower rows keep their sums. A
/// row costs an allocation and a loop per `k`, whose runs over the
/// elements from `k + 1` on are short: the GMM's gradient with d = 20
/// took 1.04 times its time with each sum computed alone, with d = 32 0.9
/// and with d = 64 0.8 times; the function with d = 20 1.2, d = 32 0.93
/// and d = 64 0.58 times.
constexpr int64_t kMinTriangularRow = 32;

/// The most operations (estimateBodyCost) of a term that lowerRowSums
/// repeats for each element of a strip in registers.
constexpr int64_t kMaxRegisterStripCost = 32;

/// The constant `c >= 0` of a sum's range that is `x + c` (`x` alone: 0),
/// for `x` the variable of a row, through casts between index and 64-bit
/// integers: a triangular sum, `sum k < x + c`.
static std::optional<int64_t> getTriangularOffset(Value range,
                                                  BlockArgument x) {
  auto strip = [](Value v) {
    while (auto cast = v.getDefiningOp<arith::IndexCastOp>()) {
      Type in = cast.getIn().getType();
      if (!in.isIndex() && in.getIntOrFloatBitWidth() < 64)
        break;
      v = cast.getIn();
    }
    return v;
  };
  range = strip(range);
  if (range == x)
    return 0;
  auto add = range.getDefiningOp<arith::AddIOp>();
  if (!add || (strip(add.getLhs()) != x && strip(add.getRhs()) != x))
    return std::nullopt;
  Value other = strip(add.getLhs()) == x ? add.getRhs() : add.getLhs();
  std::optional<int64_t> offset = getConstantIntValue(other);
  if (!offset || *offset < 0)
    return std::nullopt;
  return offset;
}

/// Whether `sum`, an op of `body` (the body of `scope`, whose last
/// variable is a row's `x`), can be computed row by row: a float sum over
/// ranges known outside the scope (or constants), its first range maybe
/// `x + c` instead (getTriangularOffset), with no effects, where what the
/// body computes before the sum and the sum uses is integers (which every
/// term computes again) and the rest has no effects, and where the sum's
/// reads index `x` in their last dimension only, and some read does (so
/// that the terms of consecutive elements are read at consecutive
/// addresses).
static bool isRowSum(Operation *scope, Block &body, lz::SumOp sum,
                     BlockArgument row) {
  Region &region = scope->getRegion(0);
  if (!sum || sum->getBlock() != &body || !isMemoryEffectFree(sum) ||
      !isa<FloatType>(sum.getType()))
    return false;
  for (auto [position, range] : llvm::enumerate(sum.getRanges()))
    if (region.isAncestor(range.getParentRegion()) &&
        !matchPattern(range, m_Constant()) &&
        (position != 0 || !getTriangularOffset(range, row)))
      return false;
  FailureOr<SmallVector<Operation *>> used = getUsedInBlock(sum, body);
  if (failed(used) || llvm::any_of(*used, [](Operation *op) {
        return !isa<arith::ArithDialect>(op->getDialect()) ||
               llvm::any_of(op->getResultTypes(),
                            [](Type type) { return !type.isIntOrIndex(); });
      }))
    return false;
  for (Operation &op : body.without_terminator()) {
    if (&op == sum.getOperation())
      break;
    if (op.getNumRegions() != 0 || !isMemoryEffectFree(&op))
      return false;
  }
  llvm::DenseSet<Value> dependents = lz::getDependents(body, row);
  auto depends = [&](Value v) { return dependents.contains(v); };
  bool contiguous = false;
  return readsInLastIndexOnly(sum.getBody().front(), depends, contiguous,
                              /*elementsOnly=*/true) &&
         contiguous;
}

/// The sum that `forOp` yields, if it is a traversal over two ranges or
/// more yielding a float tensor of their rank, and the sum is in its body.
static lz::SumOp getTraversedSum(lz::ForOp forOp) {
  if (forOp.getNumResults() != 1 || forOp.getRanges().size() < 2)
    return {};
  auto type = cast<RankedTensorType>(forOp.getResult(0).getType());
  if (type.getRank() != static_cast<int64_t>(forOp.getRanges().size()) ||
      !isa<FloatType>(type.getElementType()))
    return {};
  auto sum = forOp.getYield().getOperand(0).getDefiningOp<lz::SumOp>();
  if (!sum || sum->getBlock() != &forOp.getBody().front())
    return {};
  return sum;
}

/// The sum of `forOp` if it is `for i, x < n. sum k. e` to compute row by
/// row (lowerRowSums): a traversal over at least two ranges, the last one
/// not a short constant and the others not fewer than kMinRows points when
/// constant, that yields a sum that isRowSum accepts.
lz::SumOp getRowSum(lz::ForOp forOp) {
  ValueRange ranges = forOp.getRanges();
  lz::SumOp sum = getTraversedSum(forOp);
  if (!sum || isShortConstant(ranges.back()) ||
      !isRowSum(forOp, forOp.getBody().front(), sum,
                forOp.getBody().front().getArguments().back()))
    return {};
  // Only the rows run in parallel: not where they are known to be few.
  std::optional<int64_t> rows = 1;
  for (Value range : ranges.drop_back()) {
    std::optional<int64_t> size = getConstantIntValue(range);
    rows = rows && size ? std::optional<int64_t>(*rows * *size) : std::nullopt;
  }
  if (rows && *rows < kMinRows)
    return {};
  return sum;
}

/// A read in `op`'s body of a tensor defined outside it whose dimension
/// `dim` is the variable `v`, where no other index depends on `v`.
namespace {
struct TransposedRead {
  Value tensor;
  unsigned dim;
};
} // namespace

/// The tensors that `for ..., v, ... . sum k. e` (`forOp`) reads with `v`
/// as one of their indices but not the last, each in the same dimension in
/// every read, where every read depends on `v` in that index alone, is
/// scalar, and reads a tensor defined outside the traversal; failure if
/// some read is not so, or if none reads `v` (as a last index or not).
static FailureOr<SmallVector<TransposedRead>>
getTransposedReads(lz::ForOp forOp, BlockArgument v) {
  Block &body = forOp.getBody().front();
  llvm::DenseSet<Value> dependents = lz::getDependents(body, v);
  SmallVector<TransposedRead> reads;
  bool readsV = false;
  WalkResult walk = body.walk([&](Operation *op) {
    if (isa<tensor::ExtractOp>(op))
      return WalkResult::interrupt();
    auto get = dyn_cast<lz::GetOp>(op);
    if (!get)
      return WalkResult::advance();
    if (isa<ShapedType>(get.getType()))
      return WalkResult::interrupt();
    std::optional<unsigned> dim;
    for (auto [index, value] : llvm::enumerate(get.getIndices())) {
      if (!dependents.contains(value) && value != v)
        continue;
      if (value != v || dim)
        return WalkResult::interrupt();
      dim = index;
    }
    if (!dim)
      return WalkResult::advance();
    readsV = true;
    if (*dim + 1 == get.getIndices().size())
      return WalkResult::advance();
    Value tensor = get.getTensor();
    if (forOp.getBody().isAncestor(tensor.getParentRegion()))
      return WalkResult::interrupt();
    auto *known = llvm::find_if(
        reads, [&](const TransposedRead &r) { return r.tensor == tensor; });
    if (known == reads.end())
      reads.push_back({tensor, *dim});
    else if (known->dim != *dim)
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted() || !readsV)
    return failure();
  return reads;
}

bool isReusedAcross(Block &body, ValueRange ranges, Value tensor) {
  for (auto [range, variable] : llvm::zip(ranges, body.getArguments())) {
    if (isShortConstant(range))
      continue;
    llvm::DenseSet<Value> dependents = lz::getDependents(body, variable);
    WalkResult walk = body.walk([&](lz::GetOp get) {
      if (get.getTensor() != tensor)
        return WalkResult::advance();
      for (Value index : get.getIndices())
        if (index == variable || dependents.contains(index))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (!walk.wasInterrupted())
      return true;
  }
  return false;
}

/// `permutation` applied to `values`: result i is values[permutation[i]].
template <typename Range>
static auto permute(const Range &values, ArrayRef<unsigned> permutation) {
  SmallVector<std::decay_t<decltype(values[0])>> result;
  for (unsigned index : permutation)
    result.push_back(values[index]);
  return result;
}

/// The permutation that moves `dim` of `rank` dimensions last.
static SmallVector<unsigned> moveLast(unsigned rank, unsigned dim) {
  SmallVector<unsigned> permutation;
  for (unsigned index = 0; index < rank; ++index)
    if (index != dim)
      permutation.push_back(index);
  permutation.push_back(dim);
  return permutation;
}

Value buildPermutedCopy(RewriterBase &rewriter, Location loc, Value tensor,
                        ArrayRef<unsigned> permutation,
                        SmallVectorImpl<Operation *> *created) {
  auto tensorType = cast<RankedTensorType>(tensor.getType());
  unsigned rank = tensorType.getRank();
  SmallVector<Value> sizes;
  for (unsigned dim = 0; dim < rank; ++dim) {
    auto size = tensor::DimOp::create(rewriter, loc, tensor, dim);
    if (created)
      created->push_back(size);
    sizes.push_back(size);
  }
  SmallVector<int64_t> shape = permute(tensorType.getShape(), permutation);
  auto copyType = RankedTensorType::get(shape, tensorType.getElementType());
  auto copy = lz::ForOp::create(
      rewriter, loc, TypeRange{copyType}, permute(sizes, permutation),
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        SmallVector<Value> original(rank);
        for (auto [index, dim] : llvm::enumerate(permutation))
          original[dim] = indices[index];
        lz::YieldOp::create(
            b, loc, lz::GetOp::create(b, loc, tensor, original).getResult());
      });
  auto kept = bufferization::AllocTensorOp::create(
      rewriter, loc, copyType, ValueRange{}, copy.getResult(0));
  if (created) {
    created->push_back(copy);
    created->push_back(kept);
  }
  return kept.getResult();
}

lz::ForOp transposeForRowSums(RewriterBase &rewriter, lz::ForOp forOp) {
  ValueRange ranges = forOp.getRanges();
  Block &body = forOp.getBody().front();
  lz::SumOp sum = getTraversedSum(forOp);
  if (!sum || body.walk([](lz::ForOp) { return WalkResult::interrupt(); })
                  .wasInterrupted())
    return {};
  auto type = cast<RankedTensorType>(forOp.getResult(0).getType());
  // A long enough sum for the copies to pay.
  std::optional<int64_t> terms = 1;
  for (Value range : sum.getRanges()) {
    std::optional<int64_t> size = getConstantIntValue(range);
    terms =
        terms && size ? std::optional<int64_t>(*terms * *size) : std::nullopt;
  }
  if (terms && *terms < 16)
    return {};
  // The variable to move last (or to keep there): the last one that some
  // read indexes, not a short constant range, whose reads can be
  // transposed.
  std::optional<unsigned> moved;
  SmallVector<TransposedRead> reads;
  for (unsigned index = ranges.size(); index-- > 0;) {
    if (isShortConstant(ranges[index]))
      continue;
    FailureOr<SmallVector<TransposedRead>> candidate =
        getTransposedReads(forOp, body.getArgument(index));
    if (succeeded(candidate) &&
        llvm::all_of(*candidate, [&](const TransposedRead &read) {
          return isReusedAcross(body, ranges, read.tensor);
        })) {
      moved = index;
      reads = std::move(*candidate);
      break;
    }
  }
  if (!moved)
    return {};
  Location loc = forOp.getLoc();
  rewriter.setInsertionPoint(forOp);
  SmallVector<Operation *> created;
  // The transposed copies of the tensors read, the variable's dimension
  // last. A copy (alloc_tensor), so that canonicalization does not fold
  // their reads back into reads of the tensors.
  IRMapping transposed;
  for (const TransposedRead &read : reads) {
    unsigned rank = cast<RankedTensorType>(read.tensor.getType()).getRank();
    transposed.map(read.tensor,
                   buildPermutedCopy(rewriter, loc, read.tensor,
                                     moveLast(rank, read.dim), &created));
  }
  // The traversal with the variable last, reading the copies.
  unsigned rank = ranges.size();
  SmallVector<unsigned> permutation = moveLast(rank, *moved);
  SmallVector<int64_t> shape = permute(type.getShape(), permutation);
  auto rowsType = RankedTensorType::get(shape, type.getElementType());
  auto rows = lz::ForOp::create(
      rewriter, loc, TypeRange{rowsType}, permute(ranges, permutation),
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        IRMapping mapping;
        for (auto [index, dim] : llvm::enumerate(permutation))
          mapping.map(body.getArgument(dim), indices[index]);
        for (Operation &op : body.without_terminator())
          b.clone(op, mapping);
        lz::YieldOp::create(b, loc,
                            mapping.lookup(forOp.getYield().getOperand(0)));
      });
  created.push_back(rows);
  rows.getBody().walk([&](lz::GetOp get) {
    auto *read = llvm::find_if(reads, [&](const TransposedRead &r) {
      return r.tensor == get.getTensor();
    });
    if (read == reads.end())
      return;
    rewriter.setInsertionPoint(get);
    SmallVector<Value> indices =
        permute(get.getIndices(), moveLast(get.getIndices().size(), read->dim));
    rewriter.replaceOpWithNewOp<lz::GetOp>(get, transposed.lookup(read->tensor),
                                           indices);
  });
  lz::SumOp rowSum = getRowSum(rows);
  if (!rowSum) {
    for (Operation *op : llvm::reverse(created))
      rewriter.eraseOp(op);
    return {};
  }
  // The result in the traversal's order.
  rewriter.setInsertionPoint(forOp);
  auto result =
      lz::ForOp::create(rewriter, loc, TypeRange{type}, ranges,
                        [&](OpBuilder &b, Location loc, ValueRange indices) {
                          Value element =
                              lz::GetOp::create(b, loc, rows.getResult(0),
                                                permute(indices, permutation));
                          lz::YieldOp::create(b, loc, element);
                        });
  rewriter.replaceOp(forOp, result.getResult(0));
  return rows;
}

/// The sum of `scope`, a reduction to a float, if it is `reduce i, x < n.
/// f(sum k. e)` to compute row by row (buildRowReductionNest): over at
/// least two ranges, or over one in the body of a scope where the sum is
/// triangular (the scope's points are then the rows: not a reduction that
/// may be split along `x`), the last one not a short constant, with a sum
/// that isRowSum accepts, the only scope in its body, and around it
/// operations without regions or effects (reads of single elements,
/// arithmetic, math functions).
lz::SumOp getReductionRowSum(Operation *scope) {
  if (!lz::isReductionOp(scope) || scope->getNumResults() != 1 ||
      !isa<FloatType>(scope->getResult(0).getType()))
    return {};
  ValueRange ranges = scope->getOperands();
  if (ranges.empty() || (ranges.size() == 1 && isOutsideScopes(scope)) ||
      isShortConstant(ranges.back()))
    return {};
  Block &body = scope->getRegion(0).front();
  lz::SumOp sum;
  for (Operation &op : body.without_terminator()) {
    if (auto inner = dyn_cast<lz::SumOp>(op); inner && !sum) {
      sum = inner;
      continue;
    }
    if (op.getNumRegions() != 0 || !isMemoryEffectFree(&op))
      return {};
    if (!isa<arith::ArithDialect, math::MathDialect>(op.getDialect()) &&
        !(isa<lz::GetOp>(op) &&
          !isa<ShapedType>(cast<lz::GetOp>(op).getType())))
      return {};
  }
  if (!isRowSum(scope, body, sum, body.getArguments().back()))
    return {};
  // Over one range, only a triangular sum (measured: the GMM's).
  if (ranges.size() == 1 &&
      !getTriangularOffset(sum.getRanges().front(), body.getArguments().back()))
    return {};
  return sum;
}

RowBuilder::RowBuilder(RewriterBase &rewriter, Location loc, Block &body,
                       lz::SumOp sum, std::optional<unsigned> rowVariable)
    : body(body), sum(sum), elementType(cast<FloatType>(sum.getType())),
      row(rowVariable.value_or(body.getNumArguments() - 1)) {
  Region *scopeRegion = body.getParent();
  prelude = *getUsedInBlock(sum, body);
  // The sum's ranges, before the scope (a constant in its body too), but
  // for a first range that depends on the row's elements.
  for (Value range : sum.getRanges()) {
    if (scopeRegion->isAncestor(range.getParentRegion())) {
      if (sumRanges.empty() && !matchPattern(range, m_Constant())) {
        triangle = getTriangularOffset(range, body.getArgument(row));
        sumRanges.push_back(Value());
        continue;
      }
      range = rewriter.clone(*range.getDefiningOp())->getResult(0);
    }
    sumRanges.push_back(range);
  }
  Value c0 = indexConstant(rewriter, loc, 0);
  Value empty;
  for (Value range : sumRanges) {
    if (!range)
      continue;
    Value none = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sle,
                                       range, c0);
    empty = empty ? arith::OrIOp::create(rewriter, loc, empty, none) : none;
  }
  identity = arith::ConstantOp::create(rewriter, loc,
                                       FloatAttr::get(elementType, -0.0));
  if (empty)
    identity = arith::SelectOp::create(
        rewriter, loc, empty,
        arith::ConstantOp::create(rewriter, loc,
                                  FloatAttr::get(elementType, 0.0)),
        identity);
  int64_t termCost = estimateBodyCost(sum.getBody()) +
                     std::distance(body.begin(), sum->getIterator());
  inRegisters = !triangle && termCost <= kMaxRegisterStripCost;
}

Value RowBuilder::cloneTerm(OpBuilder &b, ValueRange points, Value x,
                            ValueRange ivs) {
  Block &sumBody = sum.getBody().front();
  IRMapping mapping;
  mapPoint(mapping, points, x);
  mapping.map(sumBody.getArguments(), ivs);
  for (Operation *op : prelude)
    b.clone(*op, mapping);
  for (Operation &op : sumBody.without_terminator())
    b.clone(op, mapping);
  return mapping.lookupOrDefault(sum.getYield().getOperand(0));
}

void RowBuilder::mapPoint(IRMapping &mapping, ValueRange points,
                          Value x) const {
  for (BlockArgument arg : body.getArguments()) {
    unsigned position = arg.getArgNumber();
    mapping.map(arg, position == row  ? x
                     : position < row ? points[position]
                                      : points[position - 1]);
  }
}

Value RowBuilder::isWideEnough(OpBuilder &b, Location loc, Value width) const {
  if (!triangle)
    return {};
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, width,
                               indexConstant(b, loc, kMinTriangularRow));
}

Value RowBuilder::build(OpBuilder &b, Location loc, ValueRange points,
                        Value width, int64_t staticWidth, Value into) {
  Value c0 = indexConstant(b, loc, 0);
  Value c1 = indexConstant(b, loc, 1);
  auto rowType = RankedTensorType::get({staticWidth}, elementType);
  Value row = into ? into : createEmpty(b, loc, rowType, width);
  row = linalg::FillOp::create(b, loc, identity, row).getResult(0);
  // A strip of `lanes` elements from `start` whose sums the sum's loops
  // carry, inserted into `into`; with `last`, the elements past it are
  // the element at `last` again (computed alike, inserted at `last`).
  auto buildStrip = [&](OpBuilder &sb, Location loc, Value start, Value into,
                        int64_t lanes, Value last) {
    SmallVector<Value> columns;
    for (int64_t lane = 0; lane < lanes; ++lane) {
      Value x =
          arith::AddIOp::create(sb, loc, start, indexConstant(sb, loc, lane));
      if (last)
        x = arith::MinSIOp::create(sb, loc, x, last);
      columns.push_back(x);
    }
    SmallVector<Value> lowers(sumRanges.size(), c0);
    SmallVector<Value> steps(sumRanges.size(), c1);
    SmallVector<Value> inits(lanes, identity);
    scf::LoopNest nest =
        scf::buildLoopNest(sb, loc, lowers, sumRanges, steps, inits,
                           [&](OpBuilder &nb, Location loc, ValueRange ivs,
                               ValueRange sums) -> scf::ValueVector {
                             scf::ValueVector next;
                             for (int64_t lane = 0; lane < lanes; ++lane)
                               next.push_back(arith::AddFOp::create(
                                   nb, loc, sums[lane],
                                   cloneTerm(nb, points, columns[lane], ivs)));
                             return next;
                           });
    for (int64_t lane = 0; lane < lanes; ++lane)
      into = tensor::InsertOp::create(sb, loc, nest.results[lane], into,
                                      columns[lane]);
    return into;
  };
  // The strips in registers, each width up to the last of its multiples
  // that fits in what remains, then one strip of the narrowest width over
  // the rest, its elements past the row's last computing the last again
  // (fewer than kRegisterStripBytes' last width).
  if (inRegisters) {
    Value rest = c0;
    int64_t lanes = 0;
    for (int64_t bytes : kRegisterStripBytes) {
      lanes =
          std::min<int64_t>(bytes * 8 / elementType.getWidth(), kMaxStripLanes);
      Value step = indexConstant(b, loc, lanes);
      Value end = arith::SubIOp::create(
          b, loc, width,
          arith::RemSIOp::create(
              b, loc, arith::SubIOp::create(b, loc, width, rest), step));
      auto registerStrips = scf::ForOp::create(
          b, loc, rest, end, step, ValueRange{row},
          [&](OpBuilder &sb, Location loc, Value start, ValueRange acc) {
            scf::YieldOp::create(
                sb, loc, buildStrip(sb, loc, start, acc[0], lanes, Value()));
          });
      row = registerStrips.getResult(0);
      rest = end;
    }
    Value left =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, rest, width);
    auto partial = scf::IfOp::create(
        b, loc, left,
        [&](OpBuilder &tb, Location loc) {
          Value last = arith::SubIOp::create(tb, loc, width, c1);
          scf::YieldOp::create(tb, loc,
                               buildStrip(tb, loc, rest, row, lanes, last));
        },
        [&](OpBuilder &eb, Location loc) {
          scf::YieldOp::create(eb, loc, row);
        });
    return partial.getResult(0);
  }
  // Otherwise, strips of kRowStrip elements in memory.
  Value strip = indexConstant(b, loc, kRowStrip);
  // `sum k < x + c`: at `x + c == 0`, an empty sum.
  if (triangle && *triangle == 0) {
    Value any =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, width, c0);
    auto first = scf::IfOp::create(
        b, loc, any,
        [&](OpBuilder &tb, Location loc) {
          Value zero = arith::ConstantOp::create(
              tb, loc, FloatAttr::get(elementType, 0.0));
          scf::YieldOp::create(
              tb, loc,
              tensor::InsertOp::create(tb, loc, zero, row, c0).getResult());
        },
        [&](OpBuilder &eb, Location loc) {
          scf::YieldOp::create(eb, loc, row);
        });
    row = first.getResult(0);
  }
  auto strips = scf::ForOp::create(
      b, loc, c0, width, strip, ValueRange{row},
      [&](OpBuilder &sb, Location loc, Value start, ValueRange acc) {
        Value count = arith::MinSIOp::create(
            sb, loc, strip, arith::SubIOp::create(sb, loc, width, start));
        // A triangular sum: over the k up to the range of the strip's last
        // element, `start + count - 1 + c`, the elements whose range holds
        // k, from `k - c + 1` on.
        SmallVector<Value> uppers(sumRanges);
        if (triangle)
          uppers.front() = arith::AddIOp::create(
              sb, loc, arith::AddIOp::create(sb, loc, start, count),
              indexConstant(sb, loc, *triangle - 1));
        SmallVector<Value> lowers(uppers.size(), c0);
        SmallVector<Value> steps(uppers.size(), c1);
        scf::LoopNest nest = scf::buildLoopNest(
            sb, loc, lowers, uppers, steps, acc,
            [&](OpBuilder &nb, Location loc, ValueRange ivs,
                ValueRange rowAcc) -> scf::ValueVector {
              Value first = c0;
              if (triangle)
                first = arith::MaxSIOp::create(
                    nb, loc,
                    arith::SubIOp::create(
                        nb, loc, ivs.front(),
                        arith::AddIOp::create(
                            nb, loc, start,
                            indexConstant(nb, loc, *triangle - 1))),
                    c0);
              auto elements = scf::ForOp::create(
                  nb, loc, first, count, c1, rowAcc,
                  [&](OpBuilder &eb, Location loc, Value at,
                      ValueRange elementAcc) {
                    Value x = arith::AddIOp::create(eb, loc, start, at);
                    Value value = cloneTerm(eb, points, x, ivs);
                    Value old =
                        tensor::ExtractOp::create(eb, loc, elementAcc[0], x);
                    Value next = arith::AddFOp::create(eb, loc, old, value);
                    scf::YieldOp::create(eb, loc,
                                         tensor::InsertOp::create(
                                             eb, loc, next, elementAcc[0], x)
                                             .getResult());
                  });
              return {elements.getResult(0)};
            });
        scf::YieldOp::create(sb, loc, nest.results);
      });
  return strips.getResult(0);
}

lz::SumOp getAccumulateRowSumAlong(lz::AccumulateOp op, unsigned row) {
  if (op.getMasked() || !isa<FloatType>(op.getTargetValue().getType()))
    return {};
  Block &body = op.getBody().front();
  auto sum = op.getTargetValue().getDefiningOp<lz::SumOp>();
  if (!sum || sum->getBlock() != &body ||
      !isRowSum(op, body, sum, body.getArgument(row)) ||
      getTriangularOffset(sum.getRanges().front(), body.getArgument(row)))
    return {};
  // The target is computed from integers, after the sum or before it.
  for (Operation &inner : body.without_terminator())
    if (&inner != sum.getOperation() &&
        (inner.getNumRegions() != 0 || !isMemoryEffectFree(&inner) ||
         llvm::any_of(inner.getResultTypes(),
                      [](Type type) { return !type.isIntOrIndex(); })))
      return {};
  return sum;
}

/// Lowers `forOp`, `for i, x < n. sum k. e` (getRowSum), row by row: a
/// traversal over `i` whose body fills a row with the sum's identity, then
/// runs over strips of kRowStrip elements of the row, in each the sum's
/// loops and, innermost, the strip's elements, adding the term of each
/// point to its element. LLVM vectorizes that innermost loop: its elements
/// are independent, and their terms are read at consecutive addresses (a
/// convolution, `for o, y, x. sum c, r, s. X[c, y + r, x + s] * K[o, c, r,
/// s]`; the product `for i, j. sum k. A[i, k] * B[k, j]`, which then runs
/// in the order i, k, j). Where a term is cheap, the row's first elements
/// run in strips of constant widths (kRegisterStripBytes) first, whose
/// sums the sum's loops carry, each element's term computed in turn: LLVM
/// keeps them in vector registers instead of loading and storing each
/// element for every term; the strips of kRowStrip elements compute the
/// rest. Each element adds the same terms in the same order from `-0.0`,
/// as the sum does (`+0.0` where the sum is empty): the results are the
/// same, bit for bit.
void lowerRowSums(RewriterBase &rewriter, lz::ForOp forOp, lz::SumOp sum) {
  Location loc = forOp.getLoc();
  auto type = cast<RankedTensorType>(forOp.getResult(0).getType());
  ValueRange ranges = forOp.getRanges();
  rewriter.setInsertionPoint(forOp);
  RowBuilder rowBuilder(rewriter, loc, forOp.getBody().front(), sum);
  auto buildRows = [&](OpBuilder &b, Location loc) {
    return lz::ForOp::create(
               b, loc, TypeRange{type}, ranges.drop_back(),
               [&](OpBuilder &rb, Location loc, ValueRange points) {
                 lz::YieldOp::create(rb, loc,
                                     rowBuilder.build(rb, loc, points,
                                                      ranges.back(),
                                                      type.getShape().back()));
               })
        .getResult(0);
  };
  // Narrow rows of triangular sums: the traversal as it is, lowered later.
  Value wide = rowBuilder.isWideEnough(rewriter, loc, ranges.back());
  if (!wide) {
    rewriter.replaceOp(forOp, buildRows(rewriter, loc));
    return;
  }
  auto ifOp = scf::IfOp::create(
      rewriter, loc, wide,
      [&](OpBuilder &b, Location loc) {
        scf::YieldOp::create(b, loc, buildRows(b, loc));
      },
      [&](OpBuilder &b, Location loc) {
        scf::YieldOp::create(b, loc, b.clone(*forOp)->getResult(0));
      });
  rewriter.replaceOp(forOp, ifOp.getResult(0));
}

/// Lowers `scope`, `reduce i, x < n. f(sum k. e)` (getReductionRowSum),
/// over [lowerBounds, upperBounds) (the last range whole): a loop nest over
/// `i` carrying `init`, whose body computes the sums of a row
/// (lowerRowSums), then folds `f` of each of its elements in order. Each
/// element is the same sum, and the reduction folds the same values in the
/// same order: the results are the same, bit for bit, while the sums'
/// terms are vectorized along the row.
static Value buildRowReductionNest(RewriterBase &rewriter, Location loc,
                                   Operation *scope, lz::SumOp rowSum,
                                   ValueRange lowerBounds,
                                   ValueRange upperBounds, Value init,
                                   bool reassociate) {
  Block &body = scope->getRegion(0).front();
  RowBuilder rowBuilder(rewriter, loc, body, rowSum);
  Value c1 = indexConstant(rewriter, loc, 1);
  Value width = upperBounds.back();
  SmallVector<Value> steps(upperBounds.size() - 1, c1);
  // Narrow rows of triangular sums: the nest of the scope, with each sum
  // lowered in its order.
  scf::IfOp ifOp;
  if (Value wide = rowBuilder.isWideEnough(rewriter, loc, width)) {
    ifOp = scf::IfOp::create(rewriter, loc, init.getType(), wide,
                             /*withElseRegion=*/true);
    rewriter.setInsertionPointToStart(&ifOp.getElseRegion().front());
    Value narrow = buildReductionNest(rewriter, loc, scope, lowerBounds,
                                      upperBounds, init, reassociate,
                                      /*copy=*/true, /*rowSum=*/{});
    SmallVector<lz::SumOp> sums;
    ifOp.getElseRegion().walk([&](lz::SumOp sum) { sums.push_back(sum); });
    scf::YieldOp::create(rewriter, loc, narrow);
    for (lz::SumOp sum : sums) {
      rewriter.setInsertionPoint(sum);
      lowerScalarReduction(rewriter, sum, /*reassociate=*/false,
                           /*split=*/nullptr, /*rowSum=*/{});
    }
    rewriter.setInsertionPointToStart(&ifOp.getThenRegion().front());
  }
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lowerBounds.drop_back(), upperBounds.drop_back(), steps,
      ValueRange{init},
      [&](OpBuilder &b, Location loc, ValueRange points,
          ValueRange accs) -> scf::ValueVector {
        Value row = rowBuilder.build(b, loc, points, width);
        auto elements = scf::ForOp::create(
            b, loc, lowerBounds.back(), width, c1, accs,
            [&](OpBuilder &eb, Location loc, Value x, ValueRange acc) {
              IRMapping mapping;
              mapping.map(body.getArguments().drop_back(), points);
              mapping.map(body.getArguments().back(), x);
              mapping.map(rowSum.getResult(),
                          tensor::ExtractOp::create(eb, loc, row, x));
              for (Operation &op : body.without_terminator())
                if (&op != rowSum.getOperation())
                  eb.clone(op, mapping);
              Value value =
                  mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
              scf::YieldOp::create(
                  eb, loc, combine(eb, loc, scope, acc[0], value, reassociate));
            });
        return {elements.getResult(0)};
      });
  if (!ifOp)
    return nest.results.front();
  scf::YieldOp::create(rewriter, loc, nest.results.front());
  rewriter.setInsertionPointAfter(ifOp);
  return ifOp.getResult(0);
}

} // namespace leibniz::lowerlz
