//===- LowerLz.cpp - lz to tensor, scf and linalg -------------------------===//
//
// Part of Leibniz.
//
// Each lz op is rewritten in place, innermost first, so that a scope's body
// is already lowered when the scope is. A traversal whose body yields
// scalars is a `tensor.generate` (one result) or a `linalg.generic` whose
// outputs are its results (several), whose points may run at once; in a
// loop's body, a result that replaces a state is written over it in place.
// Scopes whose body yields tensors run their first point, which gives the
// shapes of the yielded tensors, then one loop over the other points of the
// linearized iteration space: an `scf.forall` when every yielded value is a
// tensor (the points write disjoint slices), else an `scf.for`. Scalar
// reductions are `scf.for` nests carrying the accumulator.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "Lz/LzOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_LOWERLZ
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The sizes of every dimension of a tensor value.
SmallVector<Value> getSizes(OpBuilder &b, Location loc, Value tensor) {
  SmallVector<Value> sizes;
  auto type = cast<RankedTensorType>(tensor.getType());
  for (int64_t d = 0; d < type.getRank(); ++d)
    sizes.push_back(tensor::DimOp::create(b, loc, tensor, d));
  return sizes;
}

/// The sizes of the dynamic dimensions of `type` among `sizes`.
SmallVector<Value> getDynamicSizes(RankedTensorType type, ValueRange sizes) {
  SmallVector<Value> dynamic;
  for (auto [dim, size] : llvm::zip(type.getShape(), sizes))
    if (ShapedType::isDynamic(dim))
      dynamic.push_back(size);
  return dynamic;
}

/// An empty tensor of `type` with the given sizes of all dimensions.
Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange sizes) {
  // Not tensor.empty, which CSE merges: the results of a traversal would
  // then share one buffer, and bufferization would copy each of them.
  return bufferization::AllocTensorOp::create(b, loc, type,
                                              getDynamicSizes(type, sizes));
}

/// The indices of point `linear` of the iteration space `ranges` in C order.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear,
                               ValueRange ranges) {
  SmallVector<Value> indices(ranges.size());
  for (int i = ranges.size() - 1; i >= 0; --i) {
    indices[i] = arith::RemUIOp::create(b, loc, linear, ranges[i]);
    linear = arith::DivUIOp::create(b, loc, linear, ranges[i]);
  }
  return indices;
}

/// Moves the ops of `body` (but its terminator) before the insertion point,
/// with its arguments replaced by `args`; returns the terminator's operands.
SmallVector<Value> moveBody(RewriterBase &rewriter, Block &body,
                            ValueRange args) {
  for (auto [arg, value] : llvm::zip(body.getArguments(), args))
    rewriter.replaceAllUsesWith(arg, value);
  Operation *terminator = body.getTerminator();
  SmallVector<Value> results(terminator->getOperands());
  Block *dest = rewriter.getInsertionBlock();
  dest->getOperations().splice(rewriter.getInsertionPoint(),
                               body.getOperations(), body.begin(),
                               Block::iterator(terminator));
  return results;
}

/// Clones the ops of `body` (but its terminator) at the insertion point with
/// its arguments mapped to `args`; returns the mapped terminator operands.
SmallVector<Value> cloneBody(RewriterBase &rewriter, Block &body,
                             ValueRange args) {
  IRMapping mapping;
  mapping.map(body.getArguments(), args);
  for (Operation &op : body.without_terminator())
    rewriter.clone(op, mapping);
  SmallVector<Value> results;
  for (Value value : body.getTerminator()->getOperands())
    results.push_back(mapping.lookupOrDefault(value));
  return results;
}

/// Combines two values of a reduction (elementwise for tensors).
Value combine(OpBuilder &b, Location loc, Operation *reduction, Value acc,
              Value x, bool reassociate = false) {
  if (auto type = dyn_cast<RankedTensorType>(acc.getType())) {
    SmallVector<Value> sizes = getSizes(b, loc, acc);
    return tensor::GenerateOp::create(
        b, loc, type, getDynamicSizes(type, sizes),
        [&](OpBuilder &nested, Location nestedLoc, ValueRange indices) {
          Value a = tensor::ExtractOp::create(nested, nestedLoc, acc, indices);
          Value e = tensor::ExtractOp::create(nested, nestedLoc, x, indices);
          tensor::YieldOp::create(nested, nestedLoc,
                                  combine(nested, nestedLoc, reduction, a, e));
        });
  }
  bool fp = isa<FloatType>(acc.getType());
  auto flags =
      reassociate ? arith::FastMathFlags::reassoc : arith::FastMathFlags::none;
  if (isa<lz::SumOp>(reduction))
    return fp ? arith::AddFOp::create(b, loc, acc, x, flags).getResult()
              : arith::AddIOp::create(b, loc, acc, x).getResult();
  if (isa<lz::ProdOp>(reduction))
    return fp ? arith::MulFOp::create(b, loc, acc, x, flags).getResult()
              : arith::MulIOp::create(b, loc, acc, x).getResult();
  if (isa<lz::MaxOp>(reduction))
    return fp ? arith::MaximumFOp::create(b, loc, acc, x).getResult()
              : arith::MaxSIOp::create(b, loc, acc, x).getResult();
  return fp ? arith::MinimumFOp::create(b, loc, acc, x).getResult()
            : arith::MinSIOp::create(b, loc, acc, x).getResult();
}

/// The value of an empty scope: the identity of a reduction, or a tensor
/// with no elements for a traversal. Dynamic sizes that the empty scope
/// does not determine are 0.
Value getEmptyResult(OpBuilder &b, Location loc, Operation *scope, Type type,
                     ValueRange ranges) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  SmallVector<Value> sizes;
  if (tensorType) {
    for (int64_t d = 0; d < tensorType.getRank(); ++d)
      sizes.push_back(isa<lz::ForOp>(scope) && d < (int64_t)ranges.size()
                          ? ranges[d]
                          : indexConstant(b, loc, 0));
  }
  if (isa<lz::ForOp>(scope))
    return createEmpty(b, loc, tensorType, sizes);
  Type elementType = tensorType ? tensorType.getElementType() : type;
  auto identity = cast<TypedAttr>(lz::getReductionIdentity(scope, elementType));
  Value scalar = arith::ConstantOp::create(b, loc, identity);
  if (!tensorType)
    return scalar;
  Value empty = createEmpty(b, loc, tensorType, sizes);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

/// The slice of a traversal's result that the tensor `value` yielded at
/// point `indices` fills.
struct PointSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;
};
PointSlice getPointSlice(OpBuilder &b, Location loc, Value value,
                         ValueRange indices) {
  PointSlice slice;
  slice.offsets.assign(indices.begin(), indices.end());
  slice.sizes.assign(indices.size(), b.getIndexAttr(1));
  for (OpFoldResult size : tensor::getMixedSizes(b, loc, value)) {
    slice.offsets.push_back(b.getIndexAttr(0));
    slice.sizes.push_back(size);
  }
  slice.strides.assign(slice.sizes.size(), b.getIndexAttr(1));
  return slice;
}

/// Writes the values yielded at point `indices` into the results.
SmallVector<Value> insertPoint(OpBuilder &b, Location loc, ValueRange results,
                               ValueRange values, ValueRange indices) {
  SmallVector<Value> updated;
  for (auto [result, value] : llvm::zip(results, values)) {
    if (!isa<RankedTensorType>(value.getType())) {
      updated.push_back(
          tensor::InsertOp::create(b, loc, value, result, indices));
      continue;
    }
    PointSlice slice = getPointSlice(b, loc, value, indices);
    updated.push_back(tensor::InsertSliceOp::create(
        b, loc, value, result, slice.offsets, slice.sizes, slice.strides));
  }
  return updated;
}

/// Lowers a scope by peeling its first point and looping over the others.
void lowerPeeled(RewriterBase &rewriter, Operation *scope) {
  Location loc = scope->getLoc();
  Block &body = scope->getRegion(0).front();
  ValueRange ranges = scope->getOperands();
  bool traversal = isa<lz::ForOp>(scope);

  Value count = ranges.empty() ? indexConstant(rewriter, loc, 1) : ranges[0];
  for (Value range : ranges.drop_front(ranges.empty() ? 0 : 1))
    count = arith::MulIOp::create(rewriter, loc, count, range);
  Value zero = indexConstant(rewriter, loc, 0);
  Value one = indexConstant(rewriter, loc, 1);
  Value nonEmpty = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::sgt, count, zero);
  auto ifOp = scf::IfOp::create(rewriter, loc, scope->getResultTypes(),
                                nonEmpty, /*withElseRegion=*/true);

  // The else branch: the scope is empty.
  rewriter.setInsertionPointToStart(&ifOp.getElseRegion().front());
  SmallVector<Value> emptyResults;
  for (Type type : scope->getResultTypes())
    emptyResults.push_back(getEmptyResult(rewriter, loc, scope, type, ranges));
  scf::YieldOp::create(rewriter, loc, emptyResults);

  // The then branch: the first point, then a loop over the others.
  rewriter.setInsertionPointToStart(&ifOp.getThenRegion().front());
  SmallVector<Value> origin(ranges.size(), zero);
  SmallVector<Value> first = cloneBody(rewriter, body, origin);
  SmallVector<Value> inits;
  if (traversal) {
    for (auto [result, value] : llvm::zip(scope->getResults(), first)) {
      SmallVector<Value> sizes(ranges);
      if (isa<RankedTensorType>(value.getType()))
        llvm::append_range(sizes, getSizes(rewriter, loc, value));
      inits.push_back(createEmpty(
          rewriter, loc, cast<RankedTensorType>(result.getType()), sizes));
    }
    inits = insertPoint(rewriter, loc, inits, first, origin);
  } else {
    inits = first;
  }
  SmallVector<Value> results;
  if (traversal && llvm::all_of(first, [](Value value) {
        return isa<RankedTensorType>(value.getType());
      })) {
    // The points of a traversal yielding tensors fill disjoint slices:
    // they may run in any order, or at once.
    auto loop = scf::ForallOp::create(rewriter, loc, {OpFoldResult(one)},
                                      {OpFoldResult(count)},
                                      {OpFoldResult(one)}, inits, std::nullopt);
    rewriter.setInsertionPoint(loop.getTerminator());
    SmallVector<Value> indices =
        delinearize(rewriter, loc, loop.getInductionVar(0), ranges);
    SmallVector<Value> values = moveBody(rewriter, body, indices);
    SmallVector<PointSlice> slices;
    for (Value value : values)
      slices.push_back(getPointSlice(rewriter, loc, value, indices));
    rewriter.setInsertionPointToStart(loop.getTerminator().getBody());
    for (auto [output, value, slice] :
         llvm::zip(loop.getRegionIterArgs(), values, slices))
      tensor::ParallelInsertSliceOp::create(rewriter, loc, value, output,
                                            slice.offsets, slice.sizes,
                                            slice.strides);
    results.assign(loop.getResults().begin(), loop.getResults().end());
    rewriter.setInsertionPointAfter(loop);
  } else {
    auto loop = scf::ForOp::create(
        rewriter, loc, one, count, one, inits,
        [&](OpBuilder &, Location, Value linear, ValueRange accs) {
          SmallVector<Value> indices =
              delinearize(rewriter, loc, linear, ranges);
          SmallVector<Value> values = moveBody(rewriter, body, indices);
          SmallVector<Value> next;
          if (traversal)
            next = insertPoint(rewriter, loc, accs, values, indices);
          else
            next.push_back(combine(rewriter, loc, scope, accs[0], values[0]));
          scf::YieldOp::create(rewriter, loc, next);
        });
    results.assign(loop.getResults().begin(), loop.getResults().end());
  }
  for (auto [i, result] : llvm::enumerate(results))
    if (result.getType() != scope->getResult(i).getType())
      results[i] = tensor::CastOp::create(
          rewriter, loc, scope->getResult(i).getType(), result);
  scf::YieldOp::create(rewriter, loc, results);
  rewriter.replaceOp(scope, ifOp.getResults());
}

/// A rough estimate of the work of one point of a scope's body, in simple
/// operations; a nested scope or loop counts 16 runs of its body.
int64_t estimateBodyCost(Region &region) {
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

/// How reductions are split into partitions that may run in parallel.
struct SplitPolicy {
  /// Split outermost reductions (with reassociation).
  bool enabled = false;
  /// Split those in sequential loops too (the GPU's kernels run there).
  bool inLoops = false;
  /// The estimated work of one partition, and the most partitions.
  int64_t partitionWork = 1 << 15;
  int64_t maxPartitions = 64;
};

/// A loop nest over [lowerBounds, upperBounds) in the scope's order,
/// folding the body's values into `init`. With `copy`, the body is cloned
/// and the scope keeps it.
Value buildReductionNest(RewriterBase &rewriter, Location loc, Operation *scope,
                         ValueRange lowerBounds, ValueRange upperBounds,
                         Value init, bool reassociate, bool copy) {
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
Value buildSplitReduction(RewriterBase &rewriter, Location loc,
                          Operation *scope, Value init,
                          const SplitPolicy &policy) {
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
                              init, /*reassociate=*/true, /*copy=*/true);
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
  Value result = buildReductionNest(rewriter, loc, scope, origin, ranges, init,
                                    /*reassociate=*/true, /*copy=*/false);
  scf::YieldOp::create(rewriter, loc, result);
  rewriter.setInsertionPointAfter(ifOp);
  return ifOp.getResult(0);
}

/// A reduction to a scalar: a loop nest in the scope's order carrying the
/// accumulator from the identity. A float sum starts from -0.0, the identity
/// of IEEE addition (bit for bit, unlike +0.0), so that the fold equals the
/// interpreter's fold from the first point; an empty float sum is +0.0.
/// With `split`, the reduction is reassociated and split into partitions
/// that may run in parallel.
void lowerScalarReduction(RewriterBase &rewriter, Operation *scope,
                          bool reassociate, const SplitPolicy *split) {
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
    result = buildSplitReduction(rewriter, loc, scope, init, *split);
  } else {
    SmallVector<Value> lowerBounds(ranges.size(),
                                   indexConstant(rewriter, loc, 0));
    result = buildReductionNest(rewriter, loc, scope, lowerBounds, ranges, init,
                                reassociate, /*copy=*/false);
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
FailureOr<SmallVector<Operation *>> getUsedInBlock(Operation *op,
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
bool isSplittableInTraversal(Operation *op, lz::ForOp outer) {
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
void splitReductionInTraversal(RewriterBase &rewriter, lz::ForOp outer,
                               Operation *scope, ArrayRef<Operation *> slice,
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

/// The sum of `forOp` if it is `for i, x < n. sum k. e` to compute row by
/// row (lowerRowSums): a traversal over at least two ranges, the last one
/// not a short constant and the others not fewer than kMinRows points when
/// constant, that yields a float sum over ranges known outside it (or
/// constants), with no effects, where the body computes only integers
/// before the sum (which every term computes again), and where the reads
/// index `x` in their last dimension only, and some read does (so that the
/// terms of consecutive elements are read at consecutive addresses).
lz::SumOp getRowSum(lz::ForOp forOp) {
  ValueRange ranges = forOp.getRanges();
  if (forOp.getNumResults() != 1 || ranges.size() < 2 ||
      isShortConstant(ranges.back()))
    return {};
  auto type = cast<RankedTensorType>(forOp.getResult(0).getType());
  if (type.getRank() != static_cast<int64_t>(ranges.size()) ||
      !isa<FloatType>(type.getElementType()))
    return {};
  Block &body = forOp.getBody().front();
  auto sum = forOp.getYield().getOperand(0).getDefiningOp<lz::SumOp>();
  if (!sum || sum->getBlock() != &body || !isMemoryEffectFree(sum) ||
      llvm::any_of(sum.getRanges(), [&](Value range) {
        return forOp.getBody().isAncestor(range.getParentRegion()) &&
               !matchPattern(range, m_Constant());
      }))
    return {};
  // What the body computes before the sum runs again for every term:
  // integer arithmetic only (the variables' casts and offsets).
  for (Operation &op : body.without_terminator()) {
    if (&op == sum.getOperation())
      break;
    if (op.getNumRegions() != 0 || !isMemoryEffectFree(&op) ||
        !isa<arith::ArithDialect>(op.getDialect()) ||
        llvm::any_of(op.getResultTypes(),
                     [](Type type) { return !type.isIntOrIndex(); }))
      return {};
  }
  // Only the rows run in parallel: not where they are known to be few.
  std::optional<int64_t> rows = 1;
  for (Value range : ranges.drop_back()) {
    std::optional<int64_t> size = getConstantIntValue(range);
    rows = rows && size ? std::optional<int64_t>(*rows * *size) : std::nullopt;
  }
  if (rows && *rows < kMinRows)
    return {};
  llvm::DenseSet<Value> dependents =
      lz::getDependents(body, body.getArguments().back());
  auto depends = [&](Value v) { return dependents.contains(v); };
  bool contiguous = false;
  WalkResult reads = body.walk([&](Operation *op) {
    ValueRange indices;
    if (auto get = dyn_cast<lz::GetOp>(op)) {
      if (isa<ShapedType>(get.getType()))
        return WalkResult::interrupt();
      indices = get.getIndices();
    } else if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
      indices = extract.getIndices();
    }
    if (indices.empty())
      return WalkResult::advance();
    if (llvm::any_of(indices.drop_back(), depends))
      return WalkResult::interrupt();
    contiguous |= depends(indices.back());
    return WalkResult::advance();
  });
  if (reads.wasInterrupted() || !contiguous)
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
/// in the order i, k, j). Each element adds the same terms in the same
/// order from `-0.0`, as the sum does (`+0.0` where the sum is empty): the
/// results are the same, bit for bit.
void lowerRowSums(RewriterBase &rewriter, lz::ForOp forOp, lz::SumOp sum) {
  Location loc = forOp.getLoc();
  auto type = cast<RankedTensorType>(forOp.getResult(0).getType());
  auto elementType = cast<FloatType>(type.getElementType());
  ValueRange ranges = forOp.getRanges();
  Block &body = forOp.getBody().front();
  Block &sumBody = sum.getBody().front();
  Value term = sum.getYield().getOperand(0);
  rewriter.setInsertionPoint(forOp);
  Value c0 = indexConstant(rewriter, loc, 0);
  Value c1 = indexConstant(rewriter, loc, 1);
  // The sum's ranges, before the traversal (a constant in its body too).
  SmallVector<Value> sumRanges;
  for (Value range : sum.getRanges()) {
    if (forOp.getBody().isAncestor(range.getParentRegion()))
      range = rewriter.clone(*range.getDefiningOp())->getResult(0);
    sumRanges.push_back(range);
  }
  Value empty;
  for (Value range : sumRanges) {
    Value none = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sle,
                                       range, c0);
    empty = empty ? arith::OrIOp::create(rewriter, loc, empty, none) : none;
  }
  Value identity = arith::ConstantOp::create(rewriter, loc,
                                             FloatAttr::get(elementType, -0.0));
  if (empty)
    identity = arith::SelectOp::create(
        rewriter, loc, empty,
        arith::ConstantOp::create(rewriter, loc,
                                  FloatAttr::get(elementType, 0.0)),
        identity);
  Value width = ranges.back();
  auto rowType = RankedTensorType::get({type.getShape().back()}, elementType);
  auto rows = lz::ForOp::create(
      rewriter, loc, TypeRange{type}, ranges.drop_back(),
      [&](OpBuilder &b, Location loc, ValueRange points) {
        Value row = createEmpty(b, loc, rowType, width);
        row = linalg::FillOp::create(b, loc, identity, row).getResult(0);
        Value strip = indexConstant(b, loc, kRowStrip);
        auto strips = scf::ForOp::create(
            b, loc, c0, width, strip, ValueRange{row},
            [&](OpBuilder &sb, Location loc, Value start, ValueRange acc) {
              Value count = arith::MinSIOp::create(
                  sb, loc, strip, arith::SubIOp::create(sb, loc, width, start));
              SmallVector<Value> uppers(sumRanges);
              uppers.push_back(count);
              SmallVector<Value> lowers(uppers.size(), c0);
              SmallVector<Value> steps(uppers.size(), c1);
              scf::LoopNest nest = scf::buildLoopNest(
                  sb, loc, lowers, uppers, steps, acc,
                  [&](OpBuilder &nb, Location loc, ValueRange ivs,
                      ValueRange rowAcc) -> scf::ValueVector {
                    Value x = arith::AddIOp::create(nb, loc, start, ivs.back());
                    IRMapping mapping;
                    mapping.map(body.getArguments().drop_back(), points);
                    mapping.map(body.getArguments().back(), x);
                    mapping.map(sumBody.getArguments(), ivs.drop_back());
                    for (Operation &op : body) {
                      if (&op == sum.getOperation())
                        break;
                      nb.clone(op, mapping);
                    }
                    for (Operation &op : sumBody.without_terminator())
                      nb.clone(op, mapping);
                    Value old =
                        tensor::ExtractOp::create(nb, loc, rowAcc[0], x);
                    Value next = arith::AddFOp::create(
                        nb, loc, old, mapping.lookupOrDefault(term));
                    return {
                        tensor::InsertOp::create(nb, loc, next, rowAcc[0], x)};
                  });
              scf::YieldOp::create(sb, loc, nest.results);
            });
        lz::YieldOp::create(b, loc, strips.getResult(0));
      });
  rewriter.replaceOp(forOp, rows.getResult(0));
}

/// `lz.for` yielding one scalar: `tensor.generate`.
void lowerGenerate(RewriterBase &rewriter, lz::ForOp op) {
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getResult(0).getType());
  auto generate = tensor::GenerateOp::create(
      rewriter, loc, type, getDynamicSizes(type, op.getRanges()),
      [&](OpBuilder &, Location, ValueRange indices) {
        SmallVector<Value> values =
            moveBody(rewriter, op.getBody().front(), indices);
        tensor::YieldOp::create(rewriter, loc, values.front());
      });
  rewriter.replaceOp(op, generate.getResult());
}

/// Whether `tensor` has `size` elements in dimension `dim`, as its
/// definition shows: `size` is its `tensor.dim`, a constant equal to its
/// static size, or the range or size that the scope, fill, read, insertion,
/// conditional or loop that defines it was given. A loop's state (or result)
/// has it where its initial value has it and its body yields a value that has
/// it, `size` being defined outside the loop; `assumed` holds the states whose
/// body is being checked (the induction's hypothesis).
bool hasSize(Value tensor, int64_t dim, Value size,
             SmallVectorImpl<Value> &assumed, unsigned depth = 0) {
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  if (!type || dim >= type.getRank() || depth > 8)
    return false;
  if (llvm::is_contained(assumed, tensor))
    return true;
  if (auto dimOp = size.getDefiningOp<tensor::DimOp>())
    if (dimOp.getSource() == tensor && dimOp.getConstantIndex() == dim)
      return true;
  std::optional<int64_t> constant = getConstantIntValue(size);
  if (!type.isDynamicDim(dim))
    return constant == type.getDimSize(dim);
  // The loop `op` whose state or result `index` is `tensor`.
  auto hasLoopSize = [&](lz::LoopOp loop, unsigned index, Value state) {
    if (!loop.isCounted() || index >= loop.getInits().size() ||
        loop->isAncestor(size.getParentBlock()->getParentOp()) ||
        !hasSize(loop.getInits()[index], dim, size, assumed, depth + 1))
      return false;
    assumed.push_back(state);
    Operation *yield = loop.getBody().front().getTerminator();
    bool result =
        hasSize(yield->getOperand(index), dim, size, assumed, depth + 1);
    assumed.pop_back();
    return result;
  };
  if (auto arg = dyn_cast<BlockArgument>(tensor)) {
    auto loop = dyn_cast<lz::LoopOp>(arg.getOwner()->getParentOp());
    if (!loop || arg.getOwner() != &loop.getBody().front() ||
        arg.getArgNumber() == 0)
      return false;
    return hasLoopSize(loop, arg.getArgNumber() - 1, arg);
  }
  Operation *def = tensor.getDefiningOp();
  if (auto forOp = dyn_cast<lz::ForOp>(def))
    return dim < static_cast<int64_t>(forOp.getRanges().size()) &&
           forOp.getRanges()[dim] == size;
  if (auto fill = dyn_cast<lz::FillOp>(def))
    return fill.getSizes()[type.getDynamicDimIndex(dim)] == size;
  if (auto get = dyn_cast<lz::GetOp>(def))
    return hasSize(get.getTensor(), dim + get.getIndices().size(), size,
                   assumed, depth + 1);
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(def))
    return hasSize(insert.getDest(), dim, size, assumed, depth + 1);
  if (auto ifOp = dyn_cast<scf::IfOp>(def)) {
    unsigned index = cast<OpResult>(tensor).getResultNumber();
    return !ifOp.getElseRegion().empty() &&
           hasSize(ifOp.thenYield().getOperand(index), dim, size, assumed,
                   depth + 1) &&
           hasSize(ifOp.elseYield().getOperand(index), dim, size, assumed,
                   depth + 1);
  }
  if (auto loop = dyn_cast<lz::LoopOp>(def)) {
    unsigned index = cast<OpResult>(tensor).getResultNumber();
    return hasLoopSize(loop, index,
                       loop.getBody().front().getArgument(index + 1));
  }
  return false;
}

/// The state of a counted loop that result `index` of traversal `op`, a
/// traversal in the loop's body, replaces: the body yields the result
/// there and nowhere else. Null for none.
BlockArgument getReplacedState(lz::ForOp op, unsigned index) {
  Block *block = op->getBlock();
  auto loop = dyn_cast<lz::LoopOp>(op->getParentOp());
  Value result = op.getResult(index);
  if (!loop || !loop.isCounted() || block != &loop.getBody().front() ||
      !result.hasOneUse() ||
      result.getUses().begin()->getOwner() != block->getTerminator())
    return {};
  BlockArgument state =
      block->getArgument(result.getUses().begin()->getOperandNumber() + 1);
  return state.getType() == result.getType() ? state : BlockArgument();
}

/// Whether a result of `from`, an op of `op`'s block, reaches `op`: `op` or
/// an op in its regions uses it, or a result of an op that does.
bool reaches(Operation *from, Operation *op) {
  Block *block = op->getBlock();
  SmallVector<Operation *> worklist{from};
  DenseSet<Operation *> seen;
  while (!worklist.empty()) {
    Operation *next = worklist.pop_back_val();
    if (next == op)
      return true;
    if (!seen.insert(next).second)
      continue;
    for (Operation *user : next->getUsers())
      if (Operation *ancestor = block->findAncestorOpInBlock(*user))
        worklist.push_back(ancestor);
  }
  return false;
}

/// Whether result `index` of traversal `op` (not lowered yet) may be
/// written over the loop state that it replaces, in place: the state has
/// the traversal's sizes, and nothing reads it after the traversal begins
/// but the traversal, each point its own element and nothing else. The
/// ops before it that read the state must not reach it either:
/// canonicalization moves a scope's element reads into the scopes that
/// read its result (`tensor.extract` of `tensor.generate`), where they
/// would read the state after the traversal has written it, and
/// bufferization would copy the state at every step.
bool isReplaceableInPlace(lz::ForOp op, unsigned index) {
  BlockArgument state = getReplacedState(op, index);
  if (!state)
    return false;
  Block *block = op->getBlock();
  Block &body = op.getBody().front();
  for (Operation *user : state.getUsers()) {
    if (op->isProperAncestor(user)) {
      auto read = dyn_cast<lz::GetOp>(user);
      if (!read || !llvm::equal(read.getIndices(), body.getArguments()))
        return false;
      continue;
    }
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    if (!ancestor || ancestor == op || !ancestor->isBeforeInBlock(op) ||
        reaches(ancestor, op))
      return false;
  }
  SmallVector<Value> assumed;
  for (auto [dim, range] : llvm::enumerate(op.getRanges()))
    if (!hasSize(state, dim, range, assumed))
      return false;
  return true;
}

/// A traversal yielding several scalars: one `linalg.generic` whose outputs
/// are its results, so that its points run in parallel, as one
/// `tensor.generate` runs a single result's (not where its body holds
/// another: CSE would merge their `linalg.index`es). A result that replaces
/// a loop's state which nothing else reads after it (the reverse sweep's
/// cotangents) is written over that state, in place, where the traversal
/// reads each element through its output (see getReplacedState); the
/// others are new tensors.
void lowerGenericTraversal(RewriterBase &rewriter, lz::ForOp op,
                           ArrayRef<unsigned> inPlace) {
  Location loc = op.getLoc();
  ValueRange ranges = op.getRanges();
  Block &body = op.getBody().front();
  SmallVector<Value> outputs;
  SmallVector<SmallVector<tensor::ExtractOp>> reads(op.getNumResults());
  for (auto [index, result] : llvm::enumerate(op.getResults())) {
    // Its reads of the state are element reads now (isReplaceableInPlace).
    BlockArgument state = llvm::is_contained(inPlace, index)
                              ? getReplacedState(op, index)
                              : BlockArgument();
    bool elementReads = static_cast<bool>(state);
    if (state)
      for (Operation *user : state.getUsers()) {
        if (!op->isProperAncestor(user))
          continue;
        auto read = dyn_cast<tensor::ExtractOp>(user);
        elementReads &=
            read && llvm::equal(read.getIndices(), body.getArguments());
        if (read)
          reads[index].push_back(read);
      }
    if (elementReads) {
      outputs.push_back(state);
      continue;
    }
    reads[index].clear();
    outputs.push_back(createEmpty(
        rewriter, loc, cast<RankedTensorType>(result.getType()), ranges));
  }
  AffineMap identity =
      rewriter.getMultiDimIdentityMap(static_cast<unsigned>(ranges.size()));
  SmallVector<AffineMap> maps(outputs.size(), identity);
  SmallVector<utils::IteratorType> iterators(ranges.size(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, op.getResultTypes(), /*inputs=*/ValueRange(), outputs,
      maps, iterators,
      [&](OpBuilder &, Location nestedLoc, ValueRange stateElements) {
        for (auto [element, stateReads] : llvm::zip(stateElements, reads))
          for (tensor::ExtractOp read : stateReads)
            rewriter.replaceOp(read, element);
        SmallVector<Value> indices;
        for (int64_t d = 0, e = ranges.size(); d < e; ++d)
          indices.push_back(linalg::IndexOp::create(rewriter, nestedLoc, d));
        SmallVector<Value> values =
            moveBody(rewriter, op.getBody().front(), indices);
        linalg::YieldOp::create(rewriter, nestedLoc, values);
      });
  rewriter.replaceOp(op, generic.getResults());
}

void lowerGet(RewriterBase &rewriter, lz::GetOp op) {
  Location loc = op.getLoc();
  Value tensor = op.getTensor();
  auto type = cast<RankedTensorType>(tensor.getType());
  if (static_cast<int64_t>(op.getIndices().size()) == type.getRank()) {
    rewriter.replaceOpWithNewOp<tensor::ExtractOp>(op, tensor, op.getIndices());
    return;
  }
  // A sub-tensor: a rank-reducing slice.
  SmallVector<OpFoldResult> offsets(op.getIndices().begin(),
                                    op.getIndices().end());
  SmallVector<OpFoldResult> sizes(offsets.size(), rewriter.getIndexAttr(1));
  SmallVector<OpFoldResult> strides(type.getRank(), rewriter.getIndexAttr(1));
  SmallVector<OpFoldResult> all = tensor::getMixedSizes(rewriter, loc, tensor);
  for (int64_t d = offsets.size(); d < type.getRank(); ++d) {
    offsets.push_back(rewriter.getIndexAttr(0));
    sizes.push_back(all[d]);
  }
  rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
      op, cast<RankedTensorType>(op.getResult().getType()), tensor, offsets,
      sizes, strides);
}

void lowerFill(RewriterBase &rewriter, lz::FillOp op) {
  RankedTensorType type = op.getResult().getType();
  Value empty =
      tensor::EmptyOp::create(rewriter, op.getLoc(), type, op.getSizes());
  rewriter.replaceOp(
      op, linalg::FillOp::create(rewriter, op.getLoc(), op.getValue(), empty)
              .getResult(0));
}

/// Moves the operations of the bodies of `loops`, a loop nest from the
/// outermost, that do not depend on a loop's index out of that loop, up to
/// the body of the outermost. The scope evaluated them at every point; out
/// of the loop, they are evaluated once for all the points that share the
/// outer indices, which exist when every range of the nest is positive
/// (the caller's guard, see getGuardedBound).
void hoistNestInvariants(ArrayRef<scf::ForOp> loops) {
  for (scf::ForOp loop : llvm::reverse(loops.drop_front())) {
    Region *region = &loop.getRegion();
    moveLoopInvariantCode(
        {region},
        [&](Value value, Region *) {
          return !region->isAncestor(value.getParentRegion());
        },
        [](Operation *op, Region *) {
          return isMemoryEffectFree(op) && isSpeculatable(op);
        },
        [&](Operation *op, Region *) { op->moveBefore(loop); });
  }
}

/// `upper`, the outermost upper bound of a nest over `ranges`, or `lower`
/// where one of the other ranges is empty: then the scope has no points,
/// and the nest runs no iteration, so that what hoistNestInvariants moves
/// to an outer loop is only evaluated where the scope evaluates it.
Value getGuardedBound(OpBuilder &builder, Location loc, ValueRange ranges,
                      Value lower, Value upper) {
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

std::optional<TriangularMask> getTriangularMask(lz::AccumulateOp op) {
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

/// The variables of `body` that `index` is (one) or adds (two), through
/// casts between index and 64-bit integers; none for any other index.
SmallVector<unsigned, 2> getIndexVariables(Value index, Block &body) {
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
std::optional<SmallVector<bool>> getBackwardLoops(lz::AccumulateOp op,
                                                  ArrayRef<unsigned> order) {
  Block &body = op.getBody().front();
  unsigned size = op.getRanges().size();
  // Per variable: free (-1), fixed (-2), or the pair it is in.
  constexpr int kFree = -1, kFixed = -2;
  SmallVector<int> roles(size, kFree);
  SmallVector<unsigned> firsts;
  for (Value index : op.getTargetIndices()) {
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

/// The variable of `op`'s nest to run innermost instead of its last one, a
/// constant range too short to vectorize (a 3x3 stencil's): the last
/// variable that indexes the last dimension of the result alone or plus
/// another variable and no other dimension, has no short constant range,
/// and that every read indexes in its last dimension only, so that the
/// innermost loop adds a vector of values read at consecutive addresses
/// into consecutive elements (a convolution's gradient with respect to its
/// input: `accumulate o, y, x, c, r, s. ((c, y + r, x + s), k[o, c, r, s] *
/// g[o, y, x])` runs `x` innermost).
std::optional<unsigned> getVectorVariable(lz::AccumulateOp op) {
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
    // The reads, lowered already or not.
    bool contiguous = true;
    body.walk([&](Operation *read) {
      ValueRange indices;
      if (auto get = dyn_cast<lz::GetOp>(read))
        indices = get.getIndices();
      else if (auto extract = dyn_cast<tensor::ExtractOp>(read))
        indices = extract.getIndices();
      if (!indices.empty())
        contiguous &= llvm::none_of(indices.drop_back(), depends);
    });
    if (contiguous)
      return candidate;
  }
  return std::nullopt;
}

/// `lz.accumulate`: a tensor of zeros, then a loop nest over the points in
/// the scope's order that adds each point's value (element by element for a
/// sub-tensor) at its indices; when masked, under an `scf.if` on the mask.
/// A triangular mask bounds its inner loop instead. The loops may run in
/// another order (getVectorVariable), some backwards (getBackwardLoops) so
/// that each element adds its values in the same order, or, with
/// `reassociate`, in another order.
void lowerAccumulate(RewriterBase &rewriter, lz::AccumulateOp op,
                     bool reassociate) {
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getType());
  Type elementType = type.getElementType();
  Value empty = tensor::EmptyOp::create(rewriter, loc, type, op.getSizes());
  Value zero = arith::ConstantOp::create(rewriter, loc,
                                         rewriter.getZeroAttr(elementType));
  Value init = linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
  Value c0 = indexConstant(rewriter, loc, 0);
  Value c1 = indexConstant(rewriter, loc, 1);
  Block &body = op.getBody().front();
  bool masked = op.getMasked();
  SmallVector<Value> ranges(op.getRanges());
  std::optional<TriangularMask> triangle = getTriangularMask(op);

  // The loops' order: the scope's, or with one variable moved innermost
  // and the short constant ranges moved out of the next loop, so that
  // consecutive runs of the innermost loop update different elements.
  // Without reassociation, only where each element's values then add in
  // the same order, some loops running backwards.
  auto order = llvm::to_vector(llvm::seq<unsigned>(0, ranges.size()));
  SmallVector<bool> backwards(ranges.size(), false);
  if (std::optional<unsigned> inner = getVectorVariable(op)) {
    SmallVector<unsigned> longer, shorter, reordered;
    for (unsigned p : order)
      if (p != *inner)
        (isShortConstant(ranges[p]) ? shorter : longer).push_back(p);
    if (!longer.empty()) {
      reordered.append(longer.begin(), longer.end() - 1);
      reordered.append(shorter);
      reordered.push_back(longer.back());
    } else {
      reordered.append(shorter);
    }
    reordered.push_back(*inner);
    if (std::optional<SmallVector<bool>> directions =
            getBackwardLoops(op, reordered)) {
      order = reordered;
      backwards = *directions;
    } else if (reassociate || isa<IntegerType>(elementType)) {
      // Integers add exactly in any order.
      order = reordered;
    }
  }
  SmallVector<Value> loopRanges;
  for (unsigned position : order)
    loopRanges.push_back(ranges[position]);

  // The nest, one loop at a time: a triangular bound reads an outer index.
  SmallVector<scf::ForOp> loops;
  SmallVector<Value> indices(ranges.size());
  Value acc = init;
  for (auto [p, position] : llvm::enumerate(order)) {
    Value upper = ranges[position];
    if (p == 0)
      upper = getGuardedBound(rewriter, loc, loopRanges, c0, upper);
    if (triangle && triangle->inner == position) {
      Value bound = indices[triangle->outer];
      if (triangle->inclusive)
        bound = arith::AddIOp::create(rewriter, loc, bound, c1);
      upper = arith::MinUIOp::create(rewriter, loc, upper, bound);
    }
    auto loop = scf::ForOp::create(rewriter, loc, c0, upper, c1, acc);
    if (!loops.empty())
      scf::YieldOp::create(rewriter, loc, loop.getResults());
    loops.push_back(loop);
    acc = loop.getRegionIterArgs()[0];
    rewriter.setInsertionPointToStart(loop.getBody());
    indices[position] = loop.getInductionVar();
    if (backwards[position])
      indices[position] = arith::SubIOp::create(
          rewriter, loc,
          arith::SubIOp::create(rewriter, loc, ranges[position], c1),
          loop.getInductionVar());
  }

  SmallVector<Value> yielded = moveBody(rewriter, body, indices);
  if (triangle) {
    // Every point of the nest satisfies the mask.
    Value yes = arith::ConstantIntOp::create(rewriter, loc, 1, 1);
    Value condition = triangle->condition.getResult();
    rewriter.replaceAllUsesWith(condition, yes);
    llvm::replace(yielded, condition, yes);
    rewriter.eraseOp(triangle->condition);
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
          Value sum =
              isa<FloatType>(elementType)
                  ? arith::AddFOp::create(ib, innerLoc, old, x).getResult()
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
  if (loops.empty()) {
    rewriter.replaceOp(op, next);
    return;
  }
  scf::YieldOp::create(rewriter, loc, next);
  hoistNestInvariants(loops);
  rewriter.setInsertionPointAfter(loops.front());
  rewriter.replaceOp(op, loops.front().getResult(0));
}

void lowerIota(RewriterBase &rewriter, lz::IotaOp op) {
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getResult().getType());
  SmallVector<Value> sizes;
  if (Value size = op.getSize())
    sizes.push_back(size);
  auto generate = tensor::GenerateOp::create(
      rewriter, loc, type, sizes,
      [&](OpBuilder &b, Location nestedLoc, ValueRange indices) {
        Type element = type.getElementType();
        Value i = arith::IndexCastOp::create(b, nestedLoc, b.getI64Type(),
                                             indices[0]);
        Value value;
        if (isa<FloatType>(element))
          value = arith::SIToFPOp::create(b, nestedLoc, element, i);
        else if (element.getIntOrFloatBitWidth() < 64)
          value = arith::TruncIOp::create(b, nestedLoc, element, i);
        else
          value = i;
        tensor::YieldOp::create(b, nestedLoc, value);
      });
  rewriter.replaceOp(op, generate.getResult());
}

/// `lz.matmul` and `lz.batch_matmul`: the linalg ops, accumulating into
/// `-0.0` (for floats), the identity of IEEE addition, so that the first
/// product starts the sum as in the interpreter.
template <typename LinalgOp>
void lowerMatmul(RewriterBase &rewriter, Operation *op) {
  Location loc = op->getLoc();
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  SmallVector<Value> sizes = getSizes(rewriter, loc, lhs);
  sizes.back() = tensor::DimOp::create(
      rewriter, loc, rhs, cast<RankedTensorType>(rhs.getType()).getRank() - 1);
  Type element = type.getElementType();
  TypedAttr zero =
      isa<FloatType>(element)
          ? TypedAttr(FloatAttr::get(
                element,
                APFloat::getZero(cast<FloatType>(element).getFloatSemantics(),
                                 /*Negative=*/true)))
          : TypedAttr(IntegerAttr::get(element, 0));
  Value init = linalg::FillOp::create(
                   rewriter, loc,
                   arith::ConstantOp::create(rewriter, loc, zero).getResult(),
                   createEmpty(rewriter, loc, type, sizes))
                   .getResult(0);
  rewriter.replaceOp(op,
                     LinalgOp::create(rewriter, loc, TypeRange{type},
                                      ValueRange{lhs, rhs}, ValueRange{init})
                         ->getResults());
}

/// The four 32-bit words of Philox-4x32-10 for a 64-bit counter and key,
/// as in include/leibniz/Runtime/Philox.h.
SmallVector<Value, 4> buildPhilox(OpBuilder &b, Location loc, Value counter,
                                  Value key) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto c32 = [&](uint32_t value) -> Value {
    return arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(i32, static_cast<int32_t>(value)));
  };
  Value shift = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(32));
  auto low = [&](Value v) -> Value {
    return arith::TruncIOp::create(b, loc, i32, v);
  };
  auto high = [&](Value v) -> Value {
    return low(arith::ShRUIOp::create(b, loc, v, shift));
  };
  SmallVector<Value, 4> c = {low(counter), high(counter), c32(0), c32(0)};
  Value k0 = low(key), k1 = high(key);
  Value m0 = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0xD2511F53));
  Value m1 = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0xCD9E8D57));
  for (int round = 0; round < 10; ++round) {
    Value p0 = arith::MulIOp::create(b, loc, m0,
                                     arith::ExtUIOp::create(b, loc, i64, c[0]));
    Value p1 = arith::MulIOp::create(b, loc, m1,
                                     arith::ExtUIOp::create(b, loc, i64, c[2]));
    Value x0 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, high(p1), c[1]), k0);
    Value x2 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, high(p0), c[3]), k1);
    c = {x0, low(p1), x2, low(p0)};
    k0 = arith::AddIOp::create(b, loc, k0, c32(0x9E3779B9u));
    k1 = arith::AddIOp::create(b, loc, k1, c32(0xBB67AE85u));
  }
  return c;
}

/// `lz.random`: Philox-4x32-10 of each element's position in C order,
/// computed inline so that every target gives the interpreter's numbers.
void lowerRandom(RewriterBase &rewriter, lz::RandomOp op) {
  Location loc = op.getLoc();
  RankedTensorType type = op.getResult().getType();
  SmallVector<Value> sizes;
  auto dynamic = op.getSizes().begin();
  for (int64_t dim : type.getShape())
    sizes.push_back(ShapedType::isDynamic(dim)
                        ? *dynamic++
                        : indexConstant(rewriter, loc, dim));
  bool normal = op.getDistribution() == "normal";
  auto generate = tensor::GenerateOp::create(
      rewriter, loc, type, op.getSizes(),
      [&](OpBuilder &b, Location l, ValueRange indices) {
        Value linear = indexConstant(b, l, 0);
        for (auto [index, size] : llvm::zip(indices, sizes))
          linear = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, linear, size), index);
        Type i64 = b.getI64Type(), f64 = b.getF64Type();
        Value counter = arith::IndexCastOp::create(b, l, i64, linear);
        SmallVector<Value, 4> w = buildPhilox(b, l, counter, op.getSeed());
        Value c32 = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(32));
        Value c11 = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(11));
        Value scale =
            arith::ConstantOp::create(b, l, b.getF64FloatAttr(0x1p-53));
        auto join = [&](Value lo, Value hi) -> Value {
          Value h = arith::ShLIOp::create(
              b, l, arith::ExtUIOp::create(b, l, i64, hi), c32);
          return arith::OrIOp::create(b, l, h,
                                      arith::ExtUIOp::create(b, l, i64, lo));
        };
        // A double in [0, 1) from the top 53 bits, plus `offset` units.
        auto unit = [&](Value bits, int64_t offset) -> Value {
          Value top = arith::ShRUIOp::create(b, l, bits, c11);
          if (offset)
            top = arith::AddIOp::create(
                b, l, top,
                arith::ConstantOp::create(b, l, b.getI64IntegerAttr(offset)));
          return arith::MulFOp::create(
              b, l, arith::UIToFPOp::create(b, l, f64, top), scale);
        };
        Value value;
        if (!normal) {
          value = unit(join(w[0], w[1]), 0);
        } else {
          Value u1 = unit(join(w[0], w[1]), 1);
          Value u2 = unit(join(w[2], w[3]), 0);
          Value minusTwo =
              arith::ConstantOp::create(b, l, b.getF64FloatAttr(-2.0));
          Value twoPi = arith::ConstantOp::create(
              b, l, b.getF64FloatAttr(6.283185307179586));
          Value radius = math::SqrtOp::create(
              b, l,
              arith::MulFOp::create(b, l, minusTwo,
                                    math::LogOp::create(b, l, u1)));
          Value angle =
              math::CosOp::create(b, l, arith::MulFOp::create(b, l, twoPi, u2));
          value = arith::MulFOp::create(b, l, radius, angle);
        }
        if (type.getElementType() != f64)
          value = arith::TruncFOp::create(b, l, type.getElementType(), value);
        tensor::YieldOp::create(b, l, value);
      });
  rewriter.replaceOp(op, generate.getResult());
}

void lowerLoop(RewriterBase &rewriter, lz::LoopOp op) {
  Location loc = op.getLoc();
  if (op.isCounted()) {
    Value zero = indexConstant(rewriter, loc, 0);
    Value one = indexConstant(rewriter, loc, 1);
    auto loop = scf::ForOp::create(
        rewriter, loc, zero, op.getCount(), one, op.getInits(),
        [&](OpBuilder &, Location, Value step, ValueRange state) {
          SmallVector<Value> args = {step};
          llvm::append_range(args, state);
          SmallVector<Value> next =
              moveBody(rewriter, op.getBody().front(), args);
          scf::YieldOp::create(rewriter, loc, next);
        });
    rewriter.replaceOp(op, loop.getResults());
    return;
  }
  auto loop = scf::WhileOp::create(
      rewriter, loc, op.getResultTypes(), op.getInits(),
      [&](OpBuilder &, Location, ValueRange state) {
        SmallVector<Value> cond =
            moveBody(rewriter, op.getCond().front(), state);
        scf::ConditionOp::create(rewriter, loc, cond.front(), state);
      },
      [&](OpBuilder &, Location, ValueRange state) {
        SmallVector<Value> next =
            moveBody(rewriter, op.getBody().front(), state);
        scf::YieldOp::create(rewriter, loc, next);
      });
  rewriter.replaceOp(op, loop.getResults());
}

/// Whether `op` calls a math function that LLVM's loop vectorizer replaces
/// by a vector version from the vector math library of `-O3` (glibc's
/// libmvec): those of LLVM's table of it, and with `extended` those that
/// the driver adds to it (glibc 2.35's). A loop that calls it runs several
/// points per call once vectorized.
bool isVectorMathFunction(Operation *op, bool extended) {
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

/// Whether the innermost loop of a reduction is long enough for vectorizing
/// it to pay.
bool isWorthVectorizing(Operation *scope) {
  return scope->getNumOperands() != 0 &&
         !isShortConstant(scope->getOperands().back());
}

/// Lowers one op; returns false for ops that stay.
bool lowerOp(RewriterBase &rewriter, Operation *op, bool reassociate,
             ArrayRef<unsigned> inPlace, const SplitPolicy &policy) {
  rewriter.setInsertionPoint(op);
  if (auto forOp = dyn_cast<lz::ForOp>(op)) {
    bool scalars =
        llvm::none_of(forOp.getYield().getOperandTypes(),
                      [](Type type) { return isa<RankedTensorType>(type); });
    // Not around another `linalg.generic`: CSE would take the inner one's
    // `linalg.index` for this one's (see the CPU pipeline).
    bool nestsIndex =
        forOp.getBody()
            .walk([](linalg::IndexOp) { return WalkResult::interrupt(); })
            .wasInterrupted();
    if (scalars && !nestsIndex &&
        (forOp.getNumResults() > 1 || !inPlace.empty()))
      lowerGenericTraversal(rewriter, forOp, inPlace);
    else if (scalars && forOp.getNumResults() == 1)
      lowerGenerate(rewriter, forOp);
    else
      lowerPeeled(rewriter, op);
    return true;
  }
  if (lz::isReductionOp(op)) {
    if (isa<RankedTensorType>(op->getResult(0).getType())) {
      lowerPeeled(rewriter, op);
      return true;
    }
    bool split = policy.enabled &&
                 (policy.inLoops ? isOutsideScopes(op) : isOutermost(op));
    lowerScalarReduction(rewriter, op, reassociate && isWorthVectorizing(op),
                         split ? &policy : nullptr);
    return true;
  }
  if (auto accumulate = dyn_cast<lz::AccumulateOp>(op)) {
    lowerAccumulate(rewriter, accumulate, reassociate);
    return true;
  }
  if (auto get = dyn_cast<lz::GetOp>(op)) {
    lowerGet(rewriter, get);
    return true;
  }
  if (auto fill = dyn_cast<lz::FillOp>(op)) {
    lowerFill(rewriter, fill);
    return true;
  }
  if (auto iota = dyn_cast<lz::IotaOp>(op)) {
    lowerIota(rewriter, iota);
    return true;
  }
  if (isa<lz::MatmulOp>(op)) {
    lowerMatmul<linalg::MatmulOp>(rewriter, op);
    return true;
  }
  if (isa<lz::BatchMatmulOp>(op)) {
    lowerMatmul<linalg::BatchMatmulOp>(rewriter, op);
    return true;
  }
  if (auto loop = dyn_cast<lz::LoopOp>(op)) {
    lowerLoop(rewriter, loop);
    return true;
  }
  if (auto random = dyn_cast<lz::RandomOp>(op)) {
    lowerRandom(rewriter, random);
    return true;
  }
  return false;
}

struct LowerLzPass : public conversion::impl::LowerLzBase<LowerLzPass> {
  using LowerLzBase::LowerLzBase;

  void runOnOperation() override {
    // The CPU's thread pool takes a few partitions of much work each; a
    // GPU, one thread for each partition of a little.
    SplitPolicy policy;
    policy.enabled = reassociate;
    if (gpu) {
      policy.inLoops = true;
      policy.partitionWork = 1 << 9;
      policy.maxPartitions = 1 << 16;
    }
    // The functions called inside a scope, and those they call: they run
    // once per point. On a GPU they run in a thread: their reductions are
    // not split (which would allocate, and keep the caller's loop on the
    // host). On the CPU, their scatter-adds' values are not split out.
    llvm::SmallPtrSet<Operation *, 8> inScopes;
    if (gpu || vectorMath) {
      SymbolTableCollection symbols;
      SmallVector<Operation *> worklist;
      getOperation().walk([&](CallOpInterface call) {
        if (isOutsideScopes(call))
          return;
        if (Operation *callee = call.resolveCallableInTable(&symbols))
          if (inScopes.insert(callee).second)
            worklist.push_back(callee);
      });
      while (!worklist.empty()) {
        Operation *function = worklist.pop_back_val();
        function->walk([&](CallOpInterface call) {
          if (Operation *callee = call.resolveCallableInTable(&symbols))
            if (inScopes.insert(callee).second)
              worklist.push_back(callee);
        });
      }
    }
    llvm::SmallPtrSet<Operation *, 8> inThreads;
    if (gpu)
      inThreads = inScopes;
    SplitPolicy inThread = policy;
    inThread.enabled = false;
    IRRewriter rewriter(&getContext());
    // On a GPU, reductions in the bodies of the traversals that become
    // kernels are split too.
    if (gpu && reassociate)
      getOperation().walk([&](func::FuncOp function) {
        if (!inThreads.contains(function))
          splitReductionsInTraversals(rewriter, function, policy);
      });
    // On the CPU, sums whose traversal reads its last variable at
    // consecutive addresses are computed row by row.
    if (!gpu) {
      SmallVector<std::pair<lz::ForOp, lz::SumOp>> rowSums;
      getOperation().walk([&](lz::ForOp op) {
        if (lz::SumOp sum = getRowSum(op))
          rowSums.push_back({op, sum});
      });
      for (auto [op, sum] : rowSums)
        lowerRowSums(rewriter, op, sum);
    }
    if (vectorMath && !gpu) {
      SmallVector<lz::AccumulateOp> accumulates;
      getOperation().walk(
          [&](lz::AccumulateOp op) { accumulates.push_back(op); });
      for (lz::AccumulateOp op : accumulates)
        splitAccumulateValues(rewriter, op, inScopes, extendedVectorMath);
    }
    // The results of traversals that are written over the loop states
    // they replace, decided on lz, before their reads are lowered (on the
    // CPU only: not measured on a GPU). A state may start as an argument:
    // the arguments of public functions belong to their callers (C, the
    // JIT), and bufferization copies them before writing.
    DenseMap<Operation *, SmallVector<unsigned>> inPlace;
    if (!gpu)
      getOperation().walk([&](lz::ForOp op) {
        for (unsigned index = 0; index < op.getNumResults(); ++index)
          if (isReplaceableInPlace(op, index))
            inPlace[op].push_back(index);
      });
    if (!inPlace.empty())
      for (auto function : getOperation().getOps<func::FuncOp>())
        if (function.isPublic())
          for (BlockArgument arg : function.getArguments())
            if (isa<TensorType>(arg.getType()))
              function.setArgAttr(
                  arg.getArgNumber(),
                  bufferization::BufferizationDialect::kWritableAttrName,
                  BoolAttr::get(&getContext(), false));
    // Innermost first: a scope's body is lowered before the scope.
    SmallVector<Operation *> ops;
    getOperation().walk<WalkOrder::PostOrder>([&](Operation *op) {
      if (isa<lz::LzDialect>(op->getDialect()) &&
          !op->hasTrait<OpTrait::IsTerminator>())
        ops.push_back(op);
    });
    for (Operation *op : ops)
      lowerOp(rewriter, op, reassociate, inPlace.lookup(op),
              inThreads.contains(op->getParentOfType<func::FuncOp>()) ? inThread
                                                                      : policy);
  }
};

} // namespace
