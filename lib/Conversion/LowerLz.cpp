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
// reductions are `scf.for` nests carrying the accumulator
// (LowerLzReductions.cpp), scatter-adds nests adding into a tensor of zeros
// (LowerLzAccumulate.cpp).
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "LowerLzInternal.h"
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
using namespace leibniz::lowerlz;

// The helpers that the other files of the pass share.
namespace leibniz::lowerlz {

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
              Value x, bool reassociate) {
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

/// Whether `value` is `count - 1`.
static bool isLastIndex(Value value, Value count) {
  std::optional<int64_t> constant = getConstantIntValue(count);
  if (constant && getConstantIntValue(value) == *constant - 1)
    return true;
  auto sub = value.getDefiningOp<arith::SubIOp>();
  return sub && sub.getLhs() == count && isConstantIntValue(sub.getRhs(), 1);
}

/// Whether no element of `fill` is ever read: its only use starts a state of
/// a counted loop with as many steps as the tensor has rows, whose body
/// writes a whole row of the state at every step, row `t` or `count - 1 - t`
/// at step `t`, and uses the state for nothing else. Every row is written
/// once before the loop ends (the stacks of reverse mode): the tensor needs
/// no values.
bool isOverwrittenStack(lz::FillOp fill) {
  RankedTensorType type = fill.getResult().getType();
  if (type.getRank() < 1 || !fill.getResult().hasOneUse())
    return false;
  OpOperand &use = *fill.getResult().getUses().begin();
  auto loop = dyn_cast<lz::LoopOp>(use.getOwner());
  if (!loop || !loop.isCounted())
    return false;
  unsigned first = loop.getInits().getBeginOperandIndex();
  if (use.getOperandNumber() < first)
    return false;
  unsigned index = use.getOperandNumber() - first;
  Block &body = loop.getBody().front();
  BlockArgument state = body.getArgument(index + 1);
  if (!state.hasOneUse())
    return false;
  auto insert = dyn_cast<tensor::InsertSliceOp>(*state.getUsers().begin());
  if (!insert || insert.getDest() != state || insert->getBlock() != &body ||
      !insert.getResult().hasOneUse() ||
      *insert.getResult().getUsers().begin() != body.getTerminator() ||
      insert.getResult().getUses().begin()->getOperandNumber() != index)
    return false;
  // The size of dimension `dim` of the tensor.
  auto getSize = [&](int64_t dim) -> OpFoldResult {
    if (!type.isDynamicDim(dim))
      return IntegerAttr::get(IndexType::get(fill.getContext()),
                              type.getDimSize(dim));
    return fill.getSizes()[type.getDynamicDimIndex(dim)];
  };
  Value count = loop.getCount();
  if (!isEqualConstantIntOrValue(getSize(0), count))
    return false;
  SmallVector<OpFoldResult> offsets = insert.getMixedOffsets();
  SmallVector<OpFoldResult> sizes = insert.getMixedSizes();
  if (!llvm::all_of(
          insert.getMixedStrides(),
          [](OpFoldResult stride) { return isConstantIntValue(stride, 1); }) ||
      !isConstantIntValue(sizes[0], 1))
    return false;
  for (int64_t dim = 1; dim < type.getRank(); ++dim)
    if (!isConstantIntValue(offsets[dim], 0) ||
        !isEqualConstantIntOrValue(sizes[dim], getSize(dim)))
      return false;
  // (A constant row, of a loop of one step, is not recognized.)
  Value step = body.getArgument(0);
  auto row = dyn_cast<Value>(offsets[0]);
  if (row == step)
    return true;
  auto reversed = row ? row.getDefiningOp<arith::SubIOp>() : nullptr;
  return reversed && reversed.getRhs() == step &&
         isLastIndex(reversed.getLhs(), count);
}

} // namespace leibniz::lowerlz

namespace {

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
/// static size, or the range or size that the scope, fill, read, slice,
/// insertion, conditional or loop that defines it was given. A loop's state (or
/// result) has it where its initial value has it and its body yields a value
/// that has it, `size` being defined outside the loop; `assumed` holds the
/// states whose body is being checked (the induction's hypothesis).
bool hasSize(Value tensor, int64_t dim, Value size,
             SmallVectorImpl<Value> &assumed, unsigned depth = 0) {
  // The definitions followed, at most.
  constexpr unsigned kMaxDepth = 8;
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  if (!type || dim >= type.getRank() || depth > kMaxDepth)
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
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def))
    return slice.getSourceType().getRank() == type.getRank() &&
           isEqualConstantIntOrValue(slice.getMixedSizes()[dim], size);
  if (auto insert = dyn_cast<tensor::InsertOp>(def))
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
    // Its sizes are not its elements.
    if (isa<tensor::DimOp>(user))
      continue;
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

/// Whether `producer` is a traversal yielding one scalar whose elements
/// cost a bounded number of operations without effects: its body has no
/// region, no call and no tensor.
bool isCheapTraversal(lz::ForOp producer) {
  if (producer.getNumResults() != 1)
    return false;
  for (Operation &op : producer.getBody().front().without_terminator())
    if (op.getNumRegions() != 0 || !isMemoryEffectFree(&op) ||
        llvm::any_of(op.getResultTypes(), llvm::IsaPred<ShapedType>))
      return false;
  return true;
}

/// Computes in `op`, a traversal, the cheap traversals over the same
/// ranges before it in its block that only `op` reads, each at its own
/// points: their bodies are cloned once at the start of `op`'s, and they
/// are removed. Canonicalization does the same later (`tensor.extract` of
/// `tensor.generate`); doing it before the in-place decision lets a loop's
/// step written as several scopes over the state (`x - lr * (a * x -
/// 1.0)` without a rewrite strategy) write over the state instead of
/// allocating at every step.
void fuseElementReads(RewriterBase &rewriter, lz::ForOp op) {
  Block &body = op.getBody().front();
  auto isOwnPointRead = [&](Operation *user) {
    auto read = dyn_cast<lz::GetOp>(user);
    return read && read->getBlock() == &body &&
           llvm::equal(read.getIndices(), body.getArguments());
  };
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation &inner : body) {
      auto read = dyn_cast<lz::GetOp>(inner);
      if (!read || !isOwnPointRead(read))
        continue;
      auto producer = read.getTensor().getDefiningOp<lz::ForOp>();
      if (!producer || producer->getBlock() != op->getBlock() ||
          !llvm::equal(producer.getRanges(), op.getRanges()) ||
          !isCheapTraversal(producer) ||
          !llvm::all_of(producer->getUsers(), isOwnPointRead))
        continue;
      Block &producerBody = producer.getBody().front();
      IRMapping mapping;
      mapping.map(producerBody.getArguments(), body.getArguments());
      rewriter.setInsertionPointToStart(&body);
      for (Operation &element : producerBody.without_terminator())
        rewriter.clone(element, mapping);
      Value element =
          mapping.lookupOrDefault(producerBody.getTerminator()->getOperand(0));
      for (Operation *user : llvm::make_early_inc_range(producer->getUsers()))
        rewriter.replaceOp(user, element);
      rewriter.eraseOp(producer);
      changed = true;
      break;
    }
  }
}

/// Whether `value` is defined before `op`, in a block that holds it.
bool isDefinedBefore(Value value, Operation *op) {
  Operation *def = value.getDefiningOp();
  Block *block = def ? def->getBlock() : cast<BlockArgument>(value).getOwner();
  Operation *ancestor = block->findAncestorOpInBlock(*op);
  return ancestor && (!def || def->isBeforeInBlock(ancestor));
}

/// Where `result`, a vector of traversal `op`, is pushed as a row of a
/// matrix, `tensor.insert_slice %result into %m[%r, 0] [1, n] [1, 1]` its
/// only use (the stacks that lz-jam-steps writes several rows of at once,
/// one after the other): that row of the matrix, as the traversal's
/// destination, so that bufferization writes the row in place rather than
/// copying it. Where rows of one traversal are pushed one after the
/// other, each is taken from the first matrix: a destination's values are
/// not read.
Value getPushedRow(OpBuilder &b, lz::ForOp op, Value result) {
  if (!result.hasOneUse() || op.getRanges().size() != 1)
    return {};
  auto push = dyn_cast<tensor::InsertSliceOp>(*result.getUsers().begin());
  if (!push || push.getSource() != result || !push.hasUnitStride() ||
      push.getDestType().getRank() != 2)
    return {};
  SmallVector<OpFoldResult> sizes = push.getMixedSizes();
  if (!isConstantIntValue(sizes[0], 1) ||
      sizes[1] != OpFoldResult(op.getRanges()[0]))
    return {};
  Value matrix = push.getDest();
  while (auto earlier = matrix.getDefiningOp<tensor::InsertSliceOp>()) {
    if (earlier.getSource().getDefiningOp() != op)
      break;
    matrix = earlier.getDest();
  }
  if (!isDefinedBefore(matrix, op) ||
      !llvm::all_of(push.getOffsets(),
                    [&](Value offset) { return isDefinedBefore(offset, op); }))
    return {};
  return tensor::ExtractSliceOp::create(
      b, push.getLoc(), cast<RankedTensorType>(result.getType()), matrix,
      push.getMixedOffsets(), sizes, push.getMixedStrides());
}

/// A traversal yielding several scalars, or one that replaces a loop's
/// state: one `linalg.generic` whose outputs are its results, so that its
/// points run in parallel, as one `tensor.generate` runs a single result's
/// (not where its body holds another: CSE would merge their
/// `linalg.index`es). The results of `inPlace` (isReplaceableInPlace, the
/// reverse sweep's cotangents) are written over the states that they
/// replace, the traversal reading each element through its output; the
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
        if (!op->isProperAncestor(user) || isa<tensor::DimOp>(user))
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
    if (Value row = getPushedRow(rewriter, op, result)) {
      outputs.push_back(row);
      continue;
    }
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
      [&](OpBuilder &, Location nestedLoc, ValueRange outputArgs) {
        // The states' elements, before the point writes them.
        for (auto [element, stateReads] : llvm::zip(outputArgs, reads))
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
  // A sub-tensor of a tensor with a static empty dimension is empty: a slice
  // would start at offset 0 of that dimension, which the verifier rejects.
  int64_t numIndices = op.getIndices().size();
  if (llvm::is_contained(type.getShape().drop_front(numIndices), 0)) {
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0, e = resultType.getRank(); d < e; ++d)
      if (resultType.isDynamicDim(d))
        dynamicSizes.push_back(
            tensor::DimOp::create(rewriter, loc, tensor, numIndices + d));
    rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, resultType, dynamicSizes);
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
/// product starts the sum as in the interpreter; into `+0.0` where there
/// are no products, the interpreter's empty sum.
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
  Value identity = arith::ConstantOp::create(rewriter, loc, zero);
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  int64_t products = lhsType.getShape().back();
  if (isa<FloatType>(element) && products == 0)
    identity =
        arith::ConstantOp::create(rewriter, loc, FloatAttr::get(element, 0.0));
  else if (isa<FloatType>(element) && ShapedType::isDynamic(products)) {
    Value count =
        tensor::DimOp::create(rewriter, loc, lhs, lhsType.getRank() - 1);
    Value none =
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, count,
                              arith::ConstantIndexOp::create(rewriter, loc, 0));
    identity = arith::SelectOp::create(
        rewriter, loc, none,
        arith::ConstantOp::create(rewriter, loc, FloatAttr::get(element, 0.0)),
        identity);
  }
  Value init = linalg::FillOp::create(rewriter, loc, identity,
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

/// Whether the innermost loop of a reduction is long enough for vectorizing
/// it to pay.
bool isWorthVectorizing(Operation *scope) {
  return scope->getNumOperands() != 0 &&
         !isShortConstant(scope->getOperands().back());
}

/// Lowers one op; returns false for ops that stay.
bool lowerOp(RewriterBase &rewriter, Operation *op, bool reassociate,
             ArrayRef<unsigned> inPlace, const SplitPolicy &policy,
             lz::SumOp rowSum) {
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
                         split ? &policy : nullptr, rowSum);
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

/// Replaces an integer power `base ^ exponent` (`math.ipowi`, which has no
/// LLVM lowering) by squaring and multiplying, wrapping around as the
/// interpreter does. A negative exponent gives the integer part of
/// `1 / base^-exponent`: 1 for a base of 1, ±1 for -1, else 0.
static void expandIPowI(IRRewriter &rewriter, math::IPowIOp op) {
  Location loc = op.getLoc();
  Type type = op.getType();
  rewriter.setInsertionPoint(op);
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantOp::create(rewriter, loc,
                                     rewriter.getIntegerAttr(type, value));
  };
  Value base = op.getLhs(), exponent = op.getRhs();
  Value zero = constant(0), one = constant(1);
  Value negative = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::slt, exponent, zero);
  Value count =
      arith::SelectOp::create(rewriter, loc, negative, zero, exponent);
  SmallVector<Value> inits = {one, base, count};
  SmallVector<Type> types(3, type);
  auto loop = scf::WhileOp::create(rewriter, loc, types, inits);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    SmallVector<Location> locs(3, loc);
    Block *before = rewriter.createBlock(&loop.getBefore(), {}, types, locs);
    Value more = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ne,
                                       before->getArgument(2), zero);
    scf::ConditionOp::create(rewriter, loc, more, before->getArguments());
    Block *after = rewriter.createBlock(&loop.getAfter(), {}, types, locs);
    Value result = after->getArgument(0), power = after->getArgument(1),
          bits = after->getArgument(2);
    Value odd = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::ne,
        arith::AndIOp::create(rewriter, loc, bits, one), zero);
    result = arith::SelectOp::create(
        rewriter, loc, odd, arith::MulIOp::create(rewriter, loc, result, power),
        result);
    power = arith::MulIOp::create(rewriter, loc, power, power);
    bits = arith::ShRUIOp::create(rewriter, loc, bits, one);
    scf::YieldOp::create(rewriter, loc, ValueRange{result, power, bits});
  }
  Value minusOne = constant(-1);
  Value oddExponent = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::ne,
      arith::AndIOp::create(rewriter, loc, exponent, one), zero);
  Value reciprocal = arith::SelectOp::create(
      rewriter, loc,
      arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, base, one),
      one,
      arith::SelectOp::create(
          rewriter, loc,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, base,
                                minusOne),
          arith::SelectOp::create(rewriter, loc, oddExponent, minusOne, one),
          zero));
  rewriter.replaceOpWithNewOp<arith::SelectOp>(op, negative, reciprocal,
                                               loop.getResult(0));
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
      SmallVector<lz::ForOp> others;
      getOperation().walk([&](lz::ForOp op) {
        if (lz::SumOp sum = getRowSum(op))
          rowSums.push_back({op, sum});
        else
          others.push_back(op);
      });
      // And those that read such a variable in another dimension, after
      // copies that move it last (a convolution's kernel gradient); also
      // where LLVM could vectorize the reassociated sums themselves, which
      // measured slower.
      for (lz::ForOp op : others)
        if (lz::ForOp rows = transposeForRowSums(rewriter, op))
          rowSums.push_back({rows, getRowSum(rows)});
      for (auto [op, sum] : rowSums)
        lowerRowSums(rewriter, op, sum);
    }
    // So are reductions of functions of such sums (a loss of a
    // convolution); the sum stays until its reduction is lowered. Not where
    // the sum holds such a reduction (inner ones come first), whose sum
    // would stay in the copies of the outer one's.
    DenseMap<Operation *, lz::SumOp> reductionRowSums;
    DenseSet<Operation *> keptSums;
    if (!gpu)
      getOperation().walk([&](Operation *op) {
        lz::SumOp sum = getReductionRowSum(op);
        if (!sum || sum->walk([&](Operation *nested) {
                         return reductionRowSums.contains(nested)
                                    ? WalkResult::interrupt()
                                    : WalkResult::advance();
                       })
                        .wasInterrupted())
          return;
        reductionRowSums[op] = sum;
        keptSums.insert(sum);
      });
    // And scatter-adds of such sums (a convolution's gradient with respect
    // to its input).
    if (!gpu) {
      SmallVector<std::tuple<lz::AccumulateOp, lz::SumOp, unsigned>>
          accumulateRows;
      getOperation().walk([&](lz::AccumulateOp op) {
        unsigned row;
        if (lz::SumOp sum = getAccumulateRowSum(op, reassociate, &row))
          accumulateRows.push_back({op, sum, row});
      });
      for (auto [op, sum, row] : accumulateRows) {
        packRowSumReads(rewriter, op, sum, row);
        keptSums.insert(sum);
      }
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
    if (!gpu) {
      // The traversals that replace states compute the cheap scopes that
      // feed them first: those read the states too.
      SmallVector<lz::ForOp> steps;
      getOperation().walk([&](lz::ForOp op) {
        for (unsigned index = 0; index < op.getNumResults(); ++index)
          if (getReplacedState(op, index)) {
            steps.push_back(op);
            break;
          }
      });
      for (lz::ForOp op : steps)
        fuseElementReads(rewriter, op);
      for (lz::ForOp op : steps) {
        for (unsigned index = 0; index < op.getNumResults(); ++index)
          if (isReplaceableInPlace(op, index))
            inPlace[op].push_back(index);
      }
    }
    if (!inPlace.empty())
      for (auto function : getOperation().getOps<func::FuncOp>())
        if (function.isPublic())
          for (BlockArgument arg : function.getArguments())
            if (isa<TensorType>(arg.getType()))
              function.setArgAttr(
                  arg.getArgNumber(),
                  bufferization::BufferizationDialect::kWritableAttrName,
                  BoolAttr::get(&getContext(), false));
    // Stacks whose every row a loop writes before anything reads them
    // need no values.
    SmallVector<lz::FillOp> stacks;
    getOperation().walk([&](lz::FillOp op) {
      if (isOverwrittenStack(op))
        stacks.push_back(op);
    });
    for (lz::FillOp op : stacks) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, op.getType(),
                                                   op.getSizes());
    }
    // Innermost first: a scope's body is lowered before the scope.
    SmallVector<Operation *> ops;
    getOperation().walk<WalkOrder::PostOrder>([&](Operation *op) {
      if (isa<lz::LzDialect>(op->getDialect()) &&
          !op->hasTrait<OpTrait::IsTerminator>())
        ops.push_back(op);
    });
    for (Operation *op : ops)
      if (!keptSums.contains(op))
        lowerOp(rewriter, op, reassociate, inPlace.lookup(op),
                inThreads.contains(op->getParentOfType<func::FuncOp>())
                    ? inThread
                    : policy,
                reductionRowSums.lookup(op));
    // Integer powers, which LLVM has no instruction or libm function for.
    SmallVector<math::IPowIOp> powers;
    getOperation().walk([&](math::IPowIOp op) {
      if (op.getType().isInteger())
        powers.push_back(op);
    });
    for (math::IPowIOp op : powers)
      expandIPowI(rewriter, op);
  }
};
} // namespace
