//===- TileColumns.cpp - Loops over blocks of independent columns ---------===//
//
// Part of Leibniz.
//
// A reverse-mode gradient through a counted loop keeps every state in a
// stack, written by the forward sweep and read back by the reverse sweep.
// Where each element of the states is computed from the same element of
// the inputs only (an elementwise step, as an optimizer's), the stack's
// columns are independent: `lz-tile-columns` runs the forward sweep, the
// reverse sweep and everything between them on one block of columns after
// the other, so that the block's part of the stack stays in the cache
// instead of going to memory and back. Every element is computed by the
// same operations in the same order as before: where the lowering keeps
// each element's operations (up to -O2), the results are the same, bit for
// bit.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

namespace leibniz::conversion {
#define GEN_PASS_DEF_TILECOLUMNS
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

/// Whether `size` is `tensor.dim` of `tensor`'s dimension 0, directly or
/// through the groups of equal argument sizes that the function's types
/// give (`lz.equal_sizes`, which every call checks).
static bool hasColumns(Value tensor, Value size) {
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  auto dim = size.getDefiningOp<tensor::DimOp>();
  if (!type || type.getRank() != 1 || !type.isDynamicDim(0) || !dim ||
      dim.getConstantIndex() != 0)
    return false;
  if (dim.getSource() == tensor)
    return true;
  auto arg = dyn_cast<BlockArgument>(tensor);
  auto source = dyn_cast<BlockArgument>(dim.getSource());
  if (!arg || !source || arg.getOwner() != source.getOwner())
    return false;
  std::optional<std::pair<unsigned, unsigned>> leader =
      lz::getEqualSizeLeader(arg, 0);
  return leader && leader == lz::getEqualSizeLeader(source, 0);
}

namespace {

/// The columns of a function's body along one size `n`: the ops whose
/// tensors' elements in column j (the index along their column axis, below
/// n) depend only on column j of the tensors that they read.
class ColumnAnalysis {
public:
  explicit ColumnAnalysis(Value size) : size(size) {}

  /// Whether `op`, an op of the function's body, computes columns: a
  /// traversal over n reading its own column only, a fill with n columns,
  /// an insertion of a column vector as a row of a matrix of columns, a
  /// row of such a matrix, or a counted loop whose states are tensors of
  /// columns and whose body only computes columns. Records the column
  /// axes of its results.
  bool isColumnOp(Operation *op) {
    if (auto forOp = dyn_cast<lz::ForOp>(op))
      return isColumnTraversal(forOp);
    if (auto fill = dyn_cast<lz::FillOp>(op))
      return isColumnFill(fill);
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(op))
      return isColumnInsert(insert);
    if (auto get = dyn_cast<lz::GetOp>(op))
      return isColumnRow(get);
    if (auto loop = dyn_cast<lz::LoopOp>(op))
      return isColumnLoop(loop);
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      return isColumnIf(ifOp);
    return false;
  }

  /// The column axis of `value`, if it is a tensor of columns.
  std::optional<unsigned> getAxis(Value value) const {
    auto it = axes.find(value);
    if (it == axes.end())
      return std::nullopt;
    return it->second;
  }

  /// The values read whole from outside that are sliced by columns.
  const llvm::SetVector<Value> &getInputs() const { return inputs; }

  /// The inputs and whole reads recorded so far, to forget those of an op
  /// that turns out not to compute columns.
  std::pair<size_t, size_t> getCheckpoint() const {
    return {inputs.size(), wholeReads.size()};
  }
  void rollback(std::pair<size_t, size_t> checkpoint) {
    while (inputs.size() > checkpoint.first)
      inputs.pop_back();
    while (wholeReads.size() > checkpoint.second)
      wholeReads.pop_back();
  }

  /// Whether an input is also read at a point other than its column.
  bool hasConflictingInputs() const {
    return llvm::any_of(
        inputs, [&](Value input) { return wholeReads.contains(input); });
  }

private:
  /// The column axis of an operand, taking a vector of n elements that is
  /// defined outside the ops checked as an input.
  std::optional<unsigned> getOperandAxis(Value value) {
    if (std::optional<unsigned> axis = getAxis(value))
      return axis;
    if (hasColumns(value, size)) {
      inputs.insert(value);
      return 0;
    }
    return std::nullopt;
  }

  /// Whether `op` has an effect that running it once per block would
  /// repeat or reorder (a print, a call): it has no regions of its own to
  /// look into and is not free of memory effects.
  static bool hasEffects(Operation *op) {
    return op->getNumRegions() == 0 && !op->hasTrait<OpTrait::IsTerminator>() &&
           !isMemoryEffectFree(op);
  }

  /// Whether `op` and the ops in its regions use no tensor of columns and
  /// not n, and have no effects.
  bool isIndependent(Operation *op) {
    WalkResult result = op->walk([&](Operation *inner) {
      if (hasEffects(inner))
        return WalkResult::interrupt();
      for (Value operand : inner->getOperands())
        if (operand == size || getAxis(operand) ||
            (hasColumns(operand, size) && !isDefinedInside(operand, op)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    return !result.wasInterrupted();
  }

  static bool isDefinedInside(Value value, Operation *op) {
    return op->isAncestor(value.getParentRegion()->getParentOp());
  }

  bool isColumnTraversal(lz::ForOp op) {
    if (op.getRanges().size() != 1 || op.getRanges()[0] != size ||
        llvm::any_of(op.getResultTypes(), [](Type type) {
          auto tensor = cast<RankedTensorType>(type);
          return tensor.getRank() != 1 || !tensor.isDynamicDim(0);
        }))
      return false;
    Block &body = op.getBody().front();
    Value index = body.getArgument(0);
    // The index only reads columns, at itself.
    for (Operation *user : index.getUsers()) {
      auto get = dyn_cast<lz::GetOp>(user);
      if (!get || get.getIndices().size() != 1 || get.getIndices()[0] != index)
        return false;
      std::optional<unsigned> axis = getOperandAxis(get.getTensor());
      if (axis != 0 ||
          cast<RankedTensorType>(get.getTensor().getType()).getRank() != 1)
        return false;
    }
    // Nothing else in the body reads a column or uses n; other tensors
    // from outside are read whole.
    WalkResult result = op.getBody().walk([&](Operation *inner) {
      if (hasEffects(inner))
        return WalkResult::interrupt();
      for (Value operand : inner->getOperands()) {
        if (operand == size)
          return WalkResult::interrupt();
        auto get = dyn_cast<lz::GetOp>(inner);
        bool columnRead = get && get.getTensor() == operand &&
                          get.getIndices().size() == 1 &&
                          get.getIndices()[0] == index;
        if (columnRead)
          continue;
        if (getAxis(operand))
          return WalkResult::interrupt();
        if (isa<RankedTensorType>(operand.getType()) &&
            !isDefinedInside(operand, op))
          wholeReads.insert(operand);
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return false;
    for (Value result : op.getResults())
      axes[result] = 0;
    return true;
  }

  bool isColumnFill(lz::FillOp op) {
    auto type = cast<RankedTensorType>(op.getType());
    if (static_cast<int64_t>(type.getNumDynamicDims()) != type.getRank())
      return false;
    if (llvm::count(op.getSizes(), size) != 1)
      return false;
    unsigned axis = llvm::find(op.getSizes(), size) - op.getSizes().begin();
    axes[op.getResult()] = axis;
    return true;
  }

  /// `insert_slice %v into %m[%r, 0] [1, n] [1, 1]`, %v a vector of
  /// columns and %m a matrix of columns along its axis 1.
  bool isColumnInsert(tensor::InsertSliceOp op) {
    if (op.getSourceType().getRank() != 1 || op.getDestType().getRank() != 2 ||
        getOperandAxis(op.getSource()) != 0 ||
        getOperandAxis(op.getDest()) != 1)
      return false;
    SmallVector<OpFoldResult> offsets = op.getMixedOffsets();
    SmallVector<OpFoldResult> sizes = op.getMixedSizes();
    if (!isConstantIntValue(offsets[1], 0) ||
        !isConstantIntValue(sizes[0], 1) ||
        llvm::dyn_cast_if_present<Value>(sizes[1]) != size ||
        !areAllConstantIntValue(op.getMixedStrides(), 1) ||
        llvm::dyn_cast_if_present<Value>(offsets[0]) == size)
      return false;
    axes[op.getResult()] = 1;
    return true;
  }

  /// `%m[%r]`, a row of a matrix of columns along its axis 1.
  bool isColumnRow(lz::GetOp op) {
    if (op.getIndices().size() != 1 || getOperandAxis(op.getTensor()) != 1 ||
        cast<RankedTensorType>(op.getTensor().getType()).getRank() != 2 ||
        op.getIndices()[0] == size)
      return false;
    axes[op.getResult()] = 0;
    return true;
  }

  bool isColumnLoop(lz::LoopOp op) {
    if (!op.isCounted() || op.getCount() == size)
      return false;
    Block &body = op.getBody().front();
    ValueRange states = op.getBodyStateArgs();
    for (auto [init, state] : llvm::zip_equal(op.getInits(), states)) {
      std::optional<unsigned> axis = getOperandAxis(init);
      if (!axis)
        return false;
      axes[state] = *axis;
    }
    for (Operation &inner : body.without_terminator())
      if (!isColumnOp(&inner) && !isIndependent(&inner))
        return false;
    Operation *yield = body.getTerminator();
    for (auto [index, value] : llvm::enumerate(yield->getOperands()))
      if (getAxis(value) != getAxis(states[index]))
        return false;
    for (auto [result, state] : llvm::zip_equal(op.getResults(), states))
      axes[result] = *getAxis(state);
    return true;
  }

  /// A conditional whose branches only compute columns (and use neither
  /// columns nor n otherwise) and yield tensors of columns along the same
  /// axes: a checkpointed forward sweep pushes its state every k-th step.
  /// Its condition, a scalar, is computed without columns and n (by ops
  /// that isIndependent accepts, or before the region): every block takes
  /// the same branch.
  bool isColumnIf(scf::IfOp op) {
    if (op.getNumResults() == 0)
      return false;
    for (Region &region : op->getRegions()) {
      Block &branch = region.front();
      for (Operation &inner : branch.without_terminator())
        if (!isColumnOp(&inner) && !isIndependent(&inner))
          return false;
    }
    SmallVector<unsigned> resultAxes;
    for (auto [thenValue, elseValue] : llvm::zip_equal(
             op.thenYield().getOperands(), op.elseYield().getOperands())) {
      std::optional<unsigned> axis = getAxis(thenValue);
      if (!axis || getAxis(elseValue) != axis)
        return false;
      resultAxes.push_back(*axis);
    }
    for (auto [result, axis] : llvm::zip_equal(op.getResults(), resultAxes))
      axes[result] = axis;
    return true;
  }

  Value size;
  DenseMap<Value, unsigned> axes;
  llvm::SetVector<Value> inputs;
  llvm::SetVector<Value> wholeReads;
};

} // namespace

/// The ops of `block` that compute columns along `size` and are connected
/// to a loop with a matrix of columns (a stack), in order; empty where
/// they cannot run by blocks of columns.
static SmallVector<Operation *> findRegion(Block &block, Value size,
                                           ColumnAnalysis &analysis) {
  SmallVector<Operation *> candidates;
  for (Operation &op : block.without_terminator()) {
    std::pair<size_t, size_t> checkpoint = analysis.getCheckpoint();
    if (analysis.isColumnOp(&op))
      candidates.push_back(&op);
    else
      analysis.rollback(checkpoint);
  }
  if (analysis.hasConflictingInputs())
    return {};
  // Connected by their columns.
  llvm::EquivalenceClasses<Operation *> classes;
  DenseSet<Operation *> isCandidate(candidates.begin(), candidates.end());
  for (Operation *op : candidates) {
    classes.insert(op);
    op->walk([&](Operation *inner) {
      for (Value operand : inner->getOperands())
        if (Operation *def = operand.getDefiningOp())
          if (isCandidate.contains(def))
            classes.unionSets(op, def);
    });
  }
  DenseSet<Operation *> leaders;
  for (Operation *op : candidates) {
    auto loop = dyn_cast<lz::LoopOp>(op);
    if (loop && llvm::any_of(loop.getBodyStateArgs(), [&](Value state) {
          return cast<ShapedType>(state.getType()).getRank() >= 2;
        }))
      leaders.insert(classes.getLeaderValue(op));
  }
  SmallVector<Operation *> region;
  for (Operation *op : candidates)
    if (leaders.contains(classes.getLeaderValue(op)))
      region.push_back(op);
  if (region.empty())
    return {};
  // Every other use of their results comes after them, and is of a vector
  // of columns.
  DenseSet<Operation *> inRegion(region.begin(), region.end());
  for (Operation *op : region)
    for (Value result : op->getResults())
      for (Operation *user : result.getUsers()) {
        Operation *ancestor = block.findAncestorOpInBlock(*user);
        if (inRegion.contains(ancestor))
          continue;
        if (!region.back()->isBeforeInBlock(ancestor) ||
            analysis.getAxis(result) != 0 ||
            cast<ShapedType>(result.getType()).getRank() != 1)
          return {};
      }
  return region;
}

/// Replaces `region` by a loop over blocks of columns whose body computes
/// the region on the block's columns and inserts its results into
/// tensors of all columns. A block has as many columns as keep the
/// matrices of columns within `cacheBytes`, at least `minColumns` (a
/// multiple of 8).
static void tileRegion(ArrayRef<Operation *> region, Value size,
                       const ColumnAnalysis &analysis, int64_t cacheBytes,
                       int64_t minColumns) {
  Operation *last = region.back();
  Location loc = last->getLoc();
  OpBuilder builder(last->getContext());
  builder.setInsertionPointAfter(last);
  DenseSet<Operation *> inRegion(region.begin(), region.end());

  // The block's columns: the bytes of one column of every matrix.
  Value columnBytes = arith::ConstantIndexOp::create(builder, loc, 0);
  for (Operation *op : region) {
    auto fill = dyn_cast<lz::FillOp>(op);
    if (!fill || fill.getType().getRank() < 2)
      continue;
    Type element = fill.getType().getElementType();
    int64_t elementBytes =
        element.isIndex() ? 8 : (element.getIntOrFloatBitWidth() + 7) / 8;
    Value column = arith::ConstantIndexOp::create(builder, loc, elementBytes);
    for (Value other : fill.getSizes())
      if (other != size)
        column = arith::MulIOp::create(builder, loc, column, other);
    columnBytes = arith::AddIOp::create(builder, loc, columnBytes, column);
  }
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  Value eight = arith::ConstantIndexOp::create(builder, loc, 8);
  Value bytes = arith::ConstantIndexOp::create(builder, loc, cacheBytes);
  Value columns = arith::DivUIOp::create(
      builder, loc, bytes,
      arith::MaxUIOp::create(builder, loc, columnBytes, one));
  columns = arith::MulIOp::create(
      builder, loc, arith::DivUIOp::create(builder, loc, columns, eight),
      eight);
  columns = arith::MaxUIOp::create(
      builder, loc, columns,
      arith::ConstantIndexOp::create(builder, loc, minColumns));
  // Matrices that fit four times over run in one block: they stay in a
  // larger cache than the blocks' anyway.
  Value total = arith::MulIOp::create(builder, loc, columnBytes, size);
  Value fits = arith::CmpIOp::create(
      builder, loc, arith::CmpIPredicate::ule, total,
      arith::ConstantIndexOp::create(builder, loc, 4 * cacheBytes));
  columns = arith::SelectOp::create(
      builder, loc, fits, arith::MaxUIOp::create(builder, loc, size, one),
      columns);
  // At least one block, so that the region runs (and reports its errors)
  // without columns as it did.
  Value blocks = arith::MaxUIOp::create(
      builder, loc, arith::CeilDivUIOp::create(builder, loc, size, columns),
      one);

  // The results used after the region, and the tensors they go into.
  SmallVector<Value> outputs;
  for (Operation *op : region)
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            return !inRegion.contains(
                last->getBlock()->findAncestorOpInBlock(*user));
          }))
        outputs.push_back(result);
  SmallVector<Value> inits;
  SmallVector<Type> types;
  for (Value output : outputs) {
    auto type = cast<RankedTensorType>(output.getType());
    Value zero = arith::ConstantOp::create(
        builder, loc, builder.getZeroAttr(type.getElementType()));
    inits.push_back(
        lz::FillOp::create(builder, loc, type, zero, ValueRange{size}));
    types.push_back(type);
  }

  auto loop = lz::LoopOp::create(builder, loc, types, blocks, inits);
  Block *body = builder.createBlock(&loop.getBody());
  Value block = body->addArgument(builder.getIndexType(), loc);
  for (Type type : types)
    body->addArgument(type, loc);
  Value offset = arith::MulIOp::create(builder, loc, block, columns);
  Value count = arith::MinUIOp::create(
      builder, loc, columns, arith::SubIOp::create(builder, loc, size, offset));
  IRMapping mapping;
  mapping.map(size, count);
  for (Value input : analysis.getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    SmallVector<OpFoldResult> offsets = {offset}, sizes = {count},
                              strides = {builder.getIndexAttr(1)};
    mapping.map(input, tensor::ExtractSliceOp::create(builder, loc, type, input,
                                                      offsets, sizes, strides));
  }
  for (Operation *op : region)
    builder.clone(*op, mapping);
  SmallVector<Value> next;
  for (auto [output, all] :
       llvm::zip_equal(outputs, body->getArguments().drop_front())) {
    SmallVector<OpFoldResult> offsets = {offset}, sizes = {count},
                              strides = {builder.getIndexAttr(1)};
    next.push_back(tensor::InsertSliceOp::create(
        builder, loc, mapping.lookup(output), all, offsets, sizes, strides));
  }
  lz::YieldOp::create(builder, loc, next);

  for (auto [output, result] : llvm::zip_equal(outputs, loop.getResults()))
    output.replaceUsesWithIf(result, [&](OpOperand &use) {
      return !inRegion.contains(
          last->getBlock()->findAncestorOpInBlock(*use.getOwner()));
    });
  for (Operation *op : llvm::reverse(region))
    op->erase();
}

namespace {
struct TileColumnsPass
    : public conversion::impl::TileColumnsBase<TileColumnsPass> {
  using TileColumnsBase::TileColumnsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || cacheBytes <= 0)
      return;
    // Within the index arithmetic of the block's size (4 times it, below).
    int64_t budget = std::min<int64_t>(cacheBytes, int64_t(1) << 40);
    int64_t fewest =
        llvm::alignTo(std::clamp<int64_t>(minColumns, 8, int64_t(1) << 40), 8);
    Block &block = func.getBody().front();
    // The sizes that traversals in counted loops' bodies run over, defined
    // in the function's body.
    llvm::SetVector<Value> sizes;
    func.walk([&](lz::ForOp op) {
      auto loop = dyn_cast<lz::LoopOp>(op->getParentOp());
      if (loop && loop.isCounted() && op.getRanges().size() == 1 &&
          op.getRanges()[0].getParentBlock() == &block)
        sizes.insert(op.getRanges()[0]);
    });
    for (Value size : sizes) {
      ColumnAnalysis analysis(size);
      SmallVector<Operation *> region = findRegion(block, size, analysis);
      if (!region.empty())
        tileRegion(region, size, analysis, budget, fewest);
    }
  }
};

} // namespace
