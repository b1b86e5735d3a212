//===- JamSteps.cpp - Several steps of an elementwise loop per traversal --===//
//
// Part of Leibniz.
//
// A counted loop whose step is elementwise (an optimizer's step, the
// reverse sweep of a gradient through one) reads and writes its states in
// memory at every step: each element goes to memory and back once per
// step. `lz-jam-steps` runs several steps in one traversal instead, each
// element's states held as scalars from one step to the next, so that they
// go to memory once per group of steps. A loop that pushes rows of a
// stack (a gradient's forward sweep) runs one step per traversal, which
// writes the pushed rows instead of a copy at every step. Every element is
// computed by the same operations in the same order as before.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "LowerLzInternal.h"

#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/bit.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_JAMSTEPS
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

namespace {

/// What an op of an elementwise step is.
enum class StepOpKind {
  /// Uses no vector of the step and has no effects: computed once per step,
  /// before the traversal.
  Scalar,
  /// A row of a matrix from outside the loop, `%m[%r]`: a vector whose
  /// elements the step's traversals read.
  Row,
  /// A traversal over the loop's range of columns that reads the step's
  /// vectors at its own index only.
  Traversal,
  /// A push of a vector of the step (a state or a traversal's result) as a
  /// row `%r` of a matrix state (a gradient's stack),
  /// `tensor.insert_slice %v into %m[%r, 0] [1, n] [1, 1]`, the matrix's
  /// only use.
  Push,
};

/// A counted loop whose states are vectors and whose step computes each
/// element of its new states from the same element of its states, of rows
/// of matrices and of vectors from outside.
struct ElementwiseLoop {
  lz::LoopOp loop;
  /// The range of the step's traversals, defined outside the loop.
  Value size;
  SmallVector<StepOpKind> kinds;
};

/// The narrowest and the widest strip of stripMine, in columns.
constexpr int64_t kMinStripLanes = 8;
constexpr int64_t kMaxStripLanes = 64;
/// The fewest strips of the widest width that a loop runs by strips.
constexpr int64_t kMinStripsPerLoop = 2;
/// The most ops that the lanes of a strip's step may run (its code size).
constexpr int64_t kMaxStripOps = 2048;

bool isDefinedOutside(Value value, Operation *op) {
  return !op->isAncestor(value.getParentRegion()->getParentOp());
}

/// Whether `op` or an op in its regions has an effect that running the
/// steps in another order would reorder (a print, a call).
bool hasEffects(Operation *op) {
  WalkResult result = op->walk([](Operation *inner) {
    if (inner->getNumRegions() == 0 &&
        !inner->hasTrait<OpTrait::IsTerminator>() && !isMemoryEffectFree(inner))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Whether `op` or an op in its regions uses one of `vectors`.
bool usesAny(Operation *op, const llvm::DenseSet<Value> &vectors) {
  WalkResult result = op->walk([&](Operation *inner) {
    for (Value operand : inner->getOperands())
      if (vectors.contains(operand))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

bool isVector(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getRank() == 1;
}

/// The push of `state`, a matrix state of `loop`'s body: its only use,
/// `tensor.insert_slice %v into %state[%r, 0] [1, n] [1, 1]` at the top
/// level of the body, yielded in the state's place. Null where the state
/// is used otherwise.
tensor::InsertSliceOp getPush(lz::LoopOp loop, BlockArgument state) {
  auto type = dyn_cast<RankedTensorType>(state.getType());
  if (!type || type.getRank() != 2 || !state.hasOneUse())
    return {};
  auto push = dyn_cast<tensor::InsertSliceOp>(*state.getUsers().begin());
  if (!push || push.getDest() != state ||
      push->getBlock() != state.getOwner() || !push.hasUnitStride() ||
      !isVector(push.getSourceType()) || !push.getResult().hasOneUse() ||
      loop.getYield().getOperand(state.getArgNumber() - 1) != push.getResult())
    return {};
  SmallVector<OpFoldResult> offsets = push.getMixedOffsets();
  SmallVector<OpFoldResult> sizes = push.getMixedSizes();
  if (!isConstantIntValue(offsets[1], 0) || !isConstantIntValue(sizes[0], 1))
    return {};
  return push;
}

/// Classifies the step of `loop`; fails where it is not elementwise.
std::optional<ElementwiseLoop> analyze(lz::LoopOp loop) {
  if (!loop.isCounted())
    return std::nullopt;
  ElementwiseLoop result{loop, Value(), {}};
  llvm::DenseSet<Value> vectors;
  llvm::DenseSet<Value> traversalResults;
  llvm::DenseSet<Operation *> pushes;
  for (Value state : loop.getBodyStateArgs()) {
    if (tensor::InsertSliceOp push =
            getPush(loop, cast<BlockArgument>(state))) {
      pushes.insert(push);
      continue;
    }
    if (!isVector(state.getType()))
      return std::nullopt;
    vectors.insert(state);
  }
  Block &body = loop.getBody().front();
  SmallVector<tensor::InsertSliceOp> pushOps;
  for (Operation &op : body.without_terminator()) {
    if (pushes.contains(&op)) {
      // It pushes a state or a traversal's result, at a row that the step
      // computes without its vectors.
      auto push = cast<tensor::InsertSliceOp>(op);
      Value source = push.getSource();
      auto arg = dyn_cast<BlockArgument>(source);
      bool isState = arg && arg.getOwner() == &body && vectors.contains(arg);
      if ((!isState && !traversalResults.contains(source)) ||
          llvm::any_of(push.getOffsets(),
                       [&](Value offset) { return vectors.contains(offset); }))
        return std::nullopt;
      pushOps.push_back(push);
      result.kinds.push_back(StepOpKind::Push);
      continue;
    }
    if (auto forOp = dyn_cast<lz::ForOp>(op)) {
      if (forOp.getRanges().size() != 1 ||
          !isDefinedOutside(forOp.getRanges()[0], loop) ||
          (result.size && forOp.getRanges()[0] != result.size) ||
          !llvm::all_of(forOp.getResultTypes(), isVector) || hasEffects(&op))
        return std::nullopt;
      result.size = forOp.getRanges()[0];
      // The step's vectors are read at the traversal's index only.
      Value index = forOp.getIndices()[0];
      WalkResult reads = forOp.getBody().walk([&](Operation *inner) {
        for (Value operand : inner->getOperands()) {
          if (!vectors.contains(operand))
            continue;
          auto get = dyn_cast<lz::GetOp>(inner);
          if (!get || get.getTensor() != operand ||
              get.getIndices().size() != 1 || get.getIndices()[0] != index)
            return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (reads.wasInterrupted())
        return std::nullopt;
      for (Value value : forOp.getResults()) {
        vectors.insert(value);
        traversalResults.insert(value);
      }
      result.kinds.push_back(StepOpKind::Traversal);
      continue;
    }
    auto get = dyn_cast<lz::GetOp>(op);
    if (get && get.getIndices().size() == 1 &&
        isDefinedOutside(get.getTensor(), loop) &&
        cast<RankedTensorType>(get.getTensor().getType()).getRank() == 2 &&
        !vectors.contains(get.getIndices()[0])) {
      vectors.insert(get.getResult());
      result.kinds.push_back(StepOpKind::Row);
      continue;
    }
    if (usesAny(&op, vectors) || hasEffects(&op))
      return std::nullopt;
    result.kinds.push_back(StepOpKind::Scalar);
  }
  if (!result.size)
    return std::nullopt;
  // A push writes a whole row of the traversals' range.
  for (tensor::InsertSliceOp push : pushOps)
    if (push.getMixedSizes()[1] != OpFoldResult(result.size))
      return std::nullopt;
  // The next states are computed by the traversals, are states or are
  // pushes.
  bool computes = false;
  for (Value value : loop.getYield().getOperands()) {
    if (pushes.contains(value.getDefiningOp()))
      continue;
    bool isState = isa<BlockArgument>(value) &&
                   cast<BlockArgument>(value).getOwner() == &body;
    if (!isState && !traversalResults.contains(value))
      return std::nullopt;
    computes |= !isState;
  }
  if (!computes)
    return std::nullopt;
  return result;
}

/// The value of a state between two steps in the jammed traversal: a
/// scalar computed by an earlier step, or (until one computes it) the
/// vector that the jammed loop carries.
struct StateValue {
  Value scalar;
  Value vector;
};

/// Creates a counted `lz.loop` of `count` steps whose states start as
/// `inits`, with an empty body (the step's number, then the states), and
/// sets `b` at its start.
std::pair<lz::LoopOp, Block *>
createCountedLoop(OpBuilder &b, Location loc, Value count, ValueRange inits) {
  SmallVector<Type> types(inits.getTypes());
  auto loop = lz::LoopOp::create(b, loc, types, count, inits);
  SmallVector<Type> argTypes = {b.getIndexType()};
  llvm::append_range(argTypes, types);
  SmallVector<Location> argLocs(argTypes.size(), loc);
  Block *body =
      b.createBlock(&loop.getBody(), loop.getBody().end(), argTypes, argLocs);
  return {loop, body};
}

/// Makes the initial value of each stack that `pushes` write and whose
/// every row `loop` writes a `tensor.empty`: lower-lz would see that in
/// the loop, not in the loops that replace it.
void replaceOverwrittenStacks(lz::LoopOp loop,
                              ArrayRef<tensor::InsertSliceOp> pushes) {
  for (tensor::InsertSliceOp push : pushes) {
    auto state = cast<BlockArgument>(push.getDest());
    auto fill =
        loop.getInits()[state.getArgNumber() - 1].getDefiningOp<lz::FillOp>();
    if (!fill || !lowerlz::isOverwrittenStack(fill))
      continue;
    OpBuilder fillBuilder(fill);
    fill.getResult().replaceAllUsesWith(
        tensor::EmptyOp::create(fillBuilder, fill.getLoc(), fill.getType(),
                                fill.getSizes())
            .getResult());
    fill.erase();
  }
}

/// Replaces `info.loop` by a loop that runs `steps` of its steps per
/// iteration, in one traversal, and a loop of the remaining steps.
void jam(const ElementwiseLoop &info, int64_t steps) {
  lz::LoopOp loop = info.loop;
  Location loc = loop.getLoc();
  Block &body = loop.getBody().front();
  BlockArgument oldStep = body.getArgument(0);
  ValueRange oldStates = loop.getBodyStateArgs();
  ValueRange oldYields = loop.getYield().getOperands();

  // The pushes of a step, and the states that they replace.
  SmallVector<tensor::InsertSliceOp> pushes;
  DenseMap<Value, unsigned> pushedStates;
  for (auto [op, kind] :
       llvm::zip_equal(body.without_terminator(), info.kinds)) {
    if (kind != StepOpKind::Push)
      continue;
    auto push = cast<tensor::InsertSliceOp>(op);
    pushedStates[push.getDest()] = pushes.size();
    pushes.push_back(push);
  }
  replaceOverwrittenStacks(loop, pushes);

  OpBuilder b(loop);
  // One step per group only fuses the pushes: no steps remain.
  Value groups = loop.getCount();
  Value factor, jammedSteps, rest;
  if (steps > 1) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    factor = arith::ConstantIndexOp::create(b, loc, steps);
    Value count = arith::MaxSIOp::create(b, loc, loop.getCount(), zero);
    groups = arith::DivUIOp::create(b, loc, count, factor);
    jammedSteps = arith::MulIOp::create(b, loc, groups, factor);
    rest = arith::SubIOp::create(b, loc, count, jammedSteps);
  }

  // The loop over groups of steps.
  SmallVector<Type> stateTypes(loop.getResultTypes());
  auto [jammed, jammedBody] =
      createCountedLoop(b, loc, groups, loop.getInits());
  // The first step of the group, where a step uses its number.
  Value first;
  if (!oldStep.use_empty())
    first =
        steps > 1
            ? arith::MulIOp::create(b, loc, jammedBody->getArgument(0), factor)
                  .getResult()
            : jammedBody->getArgument(0);

  // The scalar ops and rows of every step, before the traversal.
  SmallVector<IRMapping> mappings(steps);
  for (int64_t k = 0; k < steps; ++k) {
    IRMapping &mapping = mappings[k];
    if (first) {
      Value step = first;
      if (k > 0)
        step = arith::AddIOp::create(b, loc, first,
                                     arith::ConstantIndexOp::create(b, loc, k));
      mapping.map(oldStep, step);
    }
    for (auto [op, kind] :
         llvm::zip_equal(body.without_terminator(), info.kinds))
      if (kind == StepOpKind::Scalar || kind == StepOpKind::Row)
        b.clone(op, mapping);
  }

  // Which states the steps compute, and which stay the jammed loop's (the
  // pushes' matrices are written after the traversal).
  SmallVector<bool> computed(oldStates.size(), false);
  for (int64_t k = 0; k < steps; ++k) {
    SmallVector<bool> next(oldStates.size());
    for (auto [index, value] : llvm::enumerate(oldYields)) {
      auto arg = dyn_cast<BlockArgument>(value);
      if (pushedStates.count(oldStates[index]))
        next[index] = false;
      else
        next[index] = arg && arg.getOwner() == &body
                          ? computed[arg.getArgNumber() - 1]
                          : true;
    }
    computed = next;
  }
  SmallVector<Type> resultTypes;
  for (auto [index, type] : llvm::enumerate(stateTypes))
    if (computed[index])
      resultTypes.push_back(type);
  // Then the rows that the steps push, step by step.
  for (int64_t k = 0; k < steps; ++k)
    for (tensor::InsertSliceOp push : pushes)
      resultTypes.push_back(push.getSourceType());

  SmallVector<StateValue> finalStates;
  // At the first traversal's location, where a check of its range reports.
  Location traversalLoc = (*llvm::find_if(body, [](Operation &op) {
                            return isa<lz::ForOp>(op);
                          })).getLoc();
  auto traversal = lz::ForOp::create(
      b, traversalLoc, resultTypes, ValueRange{info.size},
      [&](OpBuilder &fb, Location nestedLoc, ValueRange indices) {
        Value element = indices[0];
        SmallVector<Value> rows;
        SmallVector<StateValue> current;
        for (Value state : jammedBody->getArguments().drop_front())
          current.push_back({Value(), state});
        for (int64_t k = 0; k < steps; ++k) {
          IRMapping &mapping = mappings[k];
          // The step's vectors whose elements are scalars here.
          DenseMap<Value, Value> scalars;
          for (auto [state, value] : llvm::zip_equal(oldStates, current)) {
            if (value.scalar)
              scalars[state] = value.scalar;
            else
              mapping.map(state, value.vector);
          }
          for (Operation &op : body.without_terminator()) {
            auto forOp = dyn_cast<lz::ForOp>(op);
            if (!forOp)
              continue;
            mapping.map(forOp.getIndices()[0], element);
            for (Operation &inner :
                 forOp.getBody().front().without_terminator()) {
              auto get = dyn_cast<lz::GetOp>(inner);
              if (get && scalars.count(get.getTensor())) {
                mapping.map(get.getResult(), scalars[get.getTensor()]);
                continue;
              }
              Operation *clone = fb.clone(inner, mapping);
              // Reads nested in the clone's regions.
              clone->walk([&](lz::GetOp nested) {
                auto it = scalars.find(nested.getTensor());
                if (nested != clone && it != scalars.end()) {
                  nested.getResult().replaceAllUsesWith(it->second);
                  nested.erase();
                }
              });
            }
            for (auto [result, value] : llvm::zip_equal(
                     forOp.getResults(), forOp.getYield().getValues()))
              scalars[result] = mapping.lookupOrDefault(value);
          }
          // The elements that the step pushes: its states' before it, its
          // traversals' results.
          for (tensor::InsertSliceOp push : pushes) {
            Value source = push.getSource();
            auto it = scalars.find(source);
            if (it != scalars.end()) {
              rows.push_back(it->second);
              continue;
            }
            rows.push_back(lz::GetOp::create(fb, nestedLoc,
                                             mapping.lookup(source), element)
                               .getResult());
          }
          SmallVector<StateValue> next;
          for (auto [index, value] : llvm::enumerate(oldYields)) {
            auto arg = dyn_cast<BlockArgument>(value);
            if (pushedStates.count(oldStates[index]))
              next.push_back(current[index]);
            else if (arg && arg.getOwner() == &body)
              next.push_back(current[arg.getArgNumber() - 1]);
            else
              next.push_back({scalars.lookup(value), Value()});
          }
          current = std::move(next);
        }
        SmallVector<Value> yields;
        for (const StateValue &value : current)
          if (value.scalar)
            yields.push_back(value.scalar);
        llvm::append_range(yields, rows);
        lz::YieldOp::create(fb, nestedLoc, yields);
        finalStates = std::move(current);
      });
  SmallVector<Value> jammedYields;
  unsigned nextResult = 0;
  for (const StateValue &value : finalStates)
    jammedYields.push_back(value.scalar ? traversal.getResult(nextResult++)
                                        : value.vector);
  // The rows go into their matrices in the steps' order.
  for (int64_t k = 0; k < steps; ++k) {
    for (tensor::InsertSliceOp push : pushes) {
      auto state = cast<BlockArgument>(push.getDest());
      Value &matrix = jammedYields[state.getArgNumber() - 1];
      IRMapping &mapping = mappings[k];
      mapping.map(push.getSource(), traversal.getResult(nextResult++));
      mapping.map(push.getDest(), matrix);
      matrix = b.clone(*push, mapping)->getResult(0);
    }
  }
  lz::YieldOp::create(b, loc, jammedYields);
  if (steps == 1) {
    loop.replaceAllUsesWith(jammed.getResults());
    loop.erase();
    return;
  }

  // The remaining steps, by the original step.
  b.setInsertionPoint(loop);
  auto remainder =
      lz::LoopOp::create(b, loc, stateTypes, rest, jammed.getResults());
  remainder.getBody().takeBody(loop.getBody());
  Block &remainderBody = remainder.getBody().front();
  if (!oldStep.use_empty()) {
    b.setInsertionPointToStart(&remainderBody);
    Value step = arith::AddIOp::create(b, loc, jammedSteps, oldStep);
    oldStep.replaceAllUsesExcept(step, step.getDefiningOp());
  }
  loop.replaceAllUsesWith(remainder.getResults());
  loop.erase();
}

/// Whether `op`, in a traversal's body, lowers to instructions that LLVM
/// vectorizes across the lanes of a strip: reads, integer and float
/// arithmetic, and the math functions that are instructions. A call of the
/// math library would make every lane's states go to memory around it.
bool isStraightLine(Operation *op) {
  if (op->getNumRegions() != 0)
    return false;
  if (isa<lz::GetOp, math::SqrtOp, math::AbsFOp, math::FmaOp, math::CopySignOp>(
          op))
    return true;
  return isa<arith::ArithDialect>(op->getDialect());
}

/// Whether `value`, a vector, has `size` elements as far as the IR shows:
/// it is the vector whose size `size` is, or a traversal, a fill, a new
/// tensor or a slice of that size, or its size is the constant `size`.
bool hasSize(Value value, Value size) {
  auto type = cast<RankedTensorType>(value.getType());
  std::optional<int64_t> constant = getConstantIntValue(size);
  if (!type.isDynamicDim(0))
    return constant && *constant == type.getDimSize(0);
  if (auto dim = size.getDefiningOp<tensor::DimOp>()) {
    std::optional<int64_t> index = dim.getConstantIndex();
    if (dim.getSource() == value && index && *index == 0)
      return true;
  }
  Operation *def = value.getDefiningOp();
  if (auto forOp = dyn_cast_or_null<lz::ForOp>(def))
    return forOp.getRanges().size() == 1 && forOp.getRanges()[0] == size;
  if (auto fill = dyn_cast_or_null<lz::FillOp>(def))
    return fill.getSizes().size() == 1 && fill.getSizes()[0] == size;
  if (auto empty = dyn_cast_or_null<tensor::EmptyOp>(def))
    return empty.getDynamicSizes().size() == 1 &&
           empty.getDynamicSizes()[0] == size;
  if (auto slice = dyn_cast_or_null<tensor::ExtractSliceOp>(def))
    return slice.getSizes().size() == 1 && slice.getSizes()[0] == size;
  return false;
}

/// Whether `info`'s step can run by strips (stripMine): its scalars have no
/// regions and cannot fail, and its traversals' bodies are straight-line
/// code (isStraightLine).
bool canStripMine(ElementwiseLoop &info) {
  Block &body = info.loop.getBody().front();
  for (auto [op, kind] :
       llvm::zip_equal(body.without_terminator(), info.kinds)) {
    if (kind == StepOpKind::Scalar &&
        (op.getNumRegions() != 0 || !isSpeculatable(&op)))
      return false;
    if (kind != StepOpKind::Traversal)
      continue;
    for (Operation &inner :
         cast<lz::ForOp>(op).getBody().front().without_terminator())
      if (!isStraightLine(&inner))
        return false;
  }
  return true;
}

/// The columns of the widest strip of `info` (stripMine): its vector
/// states' elements in `stripBytes`, a power of 2, at most kMaxStripLanes;
/// 0 where `stripBytes` holds fewer than kMinStripLanes.
int64_t getStripLanes(ElementwiseLoop &info, int64_t stripBytes) {
  int64_t stateBytes = 0;
  for (Value state : info.loop.getBodyStateArgs()) {
    if (!isVector(state.getType()))
      continue;
    Type element = cast<RankedTensorType>(state.getType()).getElementType();
    if (!element.isIntOrIndexOrFloat())
      return 0;
    // An index takes a register of 8 bytes.
    stateBytes += element.isIndex()
                      ? 8
                      : llvm::divideCeil(element.getIntOrFloatBitWidth(), 8);
  }
  if (stateBytes == 0 || stripBytes / stateBytes < kMinStripLanes)
    return 0;
  return std::min<int64_t>(llvm::bit_floor(uint64_t(stripBytes / stateBytes)),
                           kMaxStripLanes);
}

/// The number of ops that one element of one step of `info` runs.
int64_t getStepOps(ElementwiseLoop &info) {
  int64_t ops = 0;
  for (auto [op, kind] : llvm::zip_equal(
           info.loop.getBody().front().without_terminator(), info.kinds))
    if (kind == StepOpKind::Traversal)
      ops += std::distance(cast<lz::ForOp>(op).getBody().front().begin(),
                           cast<lz::ForOp>(op).getBody().front().end());
  return ops;
}

/// Replaces `info.loop` by loops over strips of its columns whose loop over
/// the steps runs inside: each strip's elements keep their states in
/// scalars across all steps (`lanes` of them side by side, which LLVM
/// vectorizes), and its pushes write the strip's part of each row. The
/// strips are `lanes` wide, then narrower by halves down to kMinStripLanes
/// over what remains, then one strip of kMinStripLanes whose lanes past the
/// last column compute the last column again. They run where the loop has
/// at least kMinStripsPerLoop strips of `lanes` columns: a step of a strip
/// costs about the latency of a column's chain of operations whatever its
/// width, so that narrower strips cost as much as wide ones. Elsewhere the
/// loop runs as it is, in the returned copy.
lz::LoopOp stripMine(ElementwiseLoop &info, int64_t lanes) {
  lz::LoopOp loop = info.loop;
  Location loc = loop.getLoc();
  Block &body = loop.getBody().front();
  BlockArgument oldStep = body.getArgument(0);
  ValueRange oldStates = loop.getBodyStateArgs();
  ValueRange oldYields = loop.getYield().getOperands();
  unsigned numStates = oldStates.size();

  SmallVector<tensor::InsertSliceOp> pushes;
  llvm::DenseSet<unsigned> pushed;
  for (auto [op, kind] :
       llvm::zip_equal(body.without_terminator(), info.kinds)) {
    if (kind != StepOpKind::Push)
      continue;
    auto push = cast<tensor::InsertSliceOp>(op);
    pushed.insert(cast<BlockArgument>(push.getDest()).getArgNumber() - 1);
    pushes.push_back(push);
  }
  replaceOverwrittenStacks(loop, pushes);

  // Ops of the traversals' bodies that depend on the column alone: each
  // lane computes them once, before the steps.
  llvm::DenseSet<Operation *> invariant;
  for (auto [op, kind] :
       llvm::zip_equal(body.without_terminator(), info.kinds)) {
    if (kind != StepOpKind::Traversal)
      continue;
    auto forOp = cast<lz::ForOp>(op);
    Value index = forOp.getIndices()[0];
    for (Operation &inner : forOp.getBody().front().without_terminator()) {
      if (!isMemoryEffectFree(&inner))
        continue;
      if (llvm::all_of(inner.getOperands(), [&](Value operand) {
            if (operand == index || isDefinedOutside(operand, loop))
              return true;
            Operation *def = operand.getDefiningOp();
            return def && invariant.contains(def);
          }))
        invariant.insert(&inner);
    }
  }

  // The strips run where a step runs and every vector state starts with
  // the traversals' size, which a step's traversals keep (a loop's state
  // keeps its sizes): each strip reads its columns of the vectors from
  // outside once before its steps, which the loop reads only in a step,
  // and makes results of that size. Otherwise the loop runs as it is.
  OpBuilder b(loop);
  Value size = info.size;
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value runs = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, loop.getCount(),
                            c0),
      arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sge, size,
          arith::ConstantIndexOp::create(b, loc, kMinStripsPerLoop * lanes)));
  for (auto [state, init] : llvm::zip_equal(oldStates, loop.getInits())) {
    if (!isVector(state.getType()) || hasSize(init, size))
      continue;
    Value fits = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        tensor::DimOp::create(b, loc, init, 0).getResult(), size);
    runs = arith::AndIOp::create(b, loc, runs, fits);
  }
  auto ifOp = scf::IfOp::create(b, loc, loop.getResultTypes(), runs,
                                /*withElseRegion=*/true);
  b.setInsertionPointToStart(ifOp.elseBlock());
  auto original = cast<lz::LoopOp>(b.clone(*loop));
  scf::YieldOp::create(b, loc, original.getResults());
  b.setInsertionPointToStart(ifOp.thenBlock());
  Value last = arith::SubIOp::create(b, loc, size, c1);

  // What the loops over strips carry: a vector for each state that the
  // steps compute, then the stacks.
  SmallVector<Value> carried;
  SmallVector<int> carriedIndex(numStates, -1);
  for (auto [index, state] : llvm::enumerate(oldStates)) {
    if (pushed.contains(index))
      continue;
    carriedIndex[index] = carried.size();
    auto type = cast<RankedTensorType>(state.getType());
    carried.push_back(tensor::EmptyOp::create(
        b, loc, type, type.isDynamicDim(0) ? ValueRange{size} : ValueRange{}));
  }
  for (auto [index, state] : llvm::enumerate(oldStates)) {
    if (!pushed.contains(index))
      continue;
    carriedIndex[index] = carried.size();
    carried.push_back(loop.getInits()[index]);
  }

  // One strip of `width` columns from `start` (the last ones `last` where
  // `clamp`).
  auto buildStrip = [&](OpBuilder &sb, Value start, ValueRange outs,
                        int64_t width, bool clamp) {
    SmallVector<Value> columns;
    for (int64_t lane = 0; lane < width; ++lane) {
      Value column = arith::AddIOp::create(
          sb, loc, start, arith::ConstantIndexOp::create(sb, loc, lane));
      if (clamp)
        column = arith::MinSIOp::create(sb, loc, column, last);
      columns.push_back(column);
    }
    // Each lane's invariant ops.
    SmallVector<IRMapping> hoisted(width);
    for (auto [op, kind] :
         llvm::zip_equal(body.without_terminator(), info.kinds)) {
      if (kind != StepOpKind::Traversal)
        continue;
      auto forOp = cast<lz::ForOp>(op);
      for (int64_t lane = 0; lane < width; ++lane) {
        hoisted[lane].map(forOp.getIndices()[0], columns[lane]);
        for (Operation &inner : forOp.getBody().front().without_terminator())
          if (invariant.contains(&inner))
            sb.clone(inner, hoisted[lane]);
      }
    }
    // The steps' states: every lane's element of each vector state, then
    // the stacks.
    SmallVector<Value> inits;
    for (auto [index, state] : llvm::enumerate(oldStates)) {
      if (pushed.contains(index))
        continue;
      for (int64_t lane = 0; lane < width; ++lane)
        inits.push_back(
            lz::GetOp::create(sb, loc, loop.getInits()[index], columns[lane])
                .getResult());
    }
    for (auto [index, state] : llvm::enumerate(oldStates))
      if (pushed.contains(index))
        inits.push_back(outs[carriedIndex[index]]);
    auto [steps, stepBody] = createCountedLoop(sb, loc, loop.getCount(), inits);
    IRMapping mapping;
    mapping.map(oldStep, stepBody->getArgument(0));
    // The states' elements and the stacks, as this step receives them.
    SmallVector<SmallVector<Value>> elements(numStates);
    DenseMap<unsigned, Value> stacks;
    unsigned arg = 1;
    for (unsigned index = 0; index < numStates; ++index)
      if (!pushed.contains(index))
        for (int64_t lane = 0; lane < width; ++lane)
          elements[index].push_back(stepBody->getArgument(arg++));
    for (unsigned index = 0; index < numStates; ++index)
      if (pushed.contains(index))
        stacks[index] = stepBody->getArgument(arg++);
    for (auto [op, kind] :
         llvm::zip_equal(body.without_terminator(), info.kinds))
      if (kind == StepOpKind::Scalar || kind == StepOpKind::Row)
        sb.clone(op, mapping);
    // Each lane's elements of the step's vectors.
    SmallVector<DenseMap<Value, Value>> scalars(width);
    for (auto [index, state] : llvm::enumerate(oldStates))
      if (!pushed.contains(index))
        for (int64_t lane = 0; lane < width; ++lane)
          scalars[lane][state] = elements[index][lane];
    for (auto [op, kind] :
         llvm::zip_equal(body.without_terminator(), info.kinds)) {
      if (kind == StepOpKind::Traversal) {
        auto forOp = cast<lz::ForOp>(op);
        for (int64_t lane = 0; lane < width; ++lane) {
          IRMapping laneMapping = mapping;
          for (auto [key, value] : hoisted[lane].getValueMap())
            laneMapping.map(key, value);
          for (Operation &inner :
               forOp.getBody().front().without_terminator()) {
            if (invariant.contains(&inner))
              continue;
            auto get = dyn_cast<lz::GetOp>(inner);
            if (get && scalars[lane].count(get.getTensor())) {
              laneMapping.map(get.getResult(), scalars[lane][get.getTensor()]);
              continue;
            }
            sb.clone(inner, laneMapping);
          }
          for (auto [result, value] : llvm::zip_equal(
                   forOp.getResults(), forOp.getYield().getValues()))
            scalars[lane][result] = laneMapping.lookupOrDefault(value);
        }
        continue;
      }
      if (kind != StepOpKind::Push)
        continue;
      // The strip's part of the pushed row.
      auto push = cast<tensor::InsertSliceOp>(op);
      unsigned index = cast<BlockArgument>(push.getDest()).getArgNumber() - 1;
      Value row =
          getValueOrCreateConstantIndexOp(sb, loc, push.getMixedOffsets()[0]);
      row = mapping.lookupOrDefault(row);
      Value stack = stacks[index];
      for (int64_t lane = 0; lane < width; ++lane)
        stack = tensor::InsertOp::create(sb, loc,
                                         scalars[lane].lookup(push.getSource()),
                                         stack, ValueRange{row, columns[lane]});
      stacks[index] = stack;
    }
    SmallVector<Value> yields;
    for (auto [index, value] : llvm::enumerate(oldYields)) {
      if (pushed.contains(index))
        continue;
      for (int64_t lane = 0; lane < width; ++lane)
        yields.push_back(scalars[lane].lookup(value));
    }
    for (unsigned index = 0; index < numStates; ++index)
      if (pushed.contains(index))
        yields.push_back(stacks[index]);
    lz::YieldOp::create(sb, loc, yields);
    sb.setInsertionPointAfter(steps);
    // The strip's elements of the loop's results.
    SmallVector<Value> next(outs);
    unsigned result = 0;
    for (unsigned index = 0; index < numStates; ++index) {
      if (pushed.contains(index))
        continue;
      Value &out = next[carriedIndex[index]];
      for (int64_t lane = 0; lane < width; ++lane)
        out = tensor::InsertOp::create(sb, loc, steps.getResult(result++), out,
                                       columns[lane]);
    }
    for (unsigned index = 0; index < numStates; ++index)
      if (pushed.contains(index))
        next[carriedIndex[index]] = steps.getResult(result++);
    return next;
  };

  // The loops over strips of each width, from `done` on.
  Value done = c0;
  auto buildStrips = [&](int64_t width, Value count, bool clamp) {
    OpBuilder sb(b);
    auto [strips, stripBody] = createCountedLoop(sb, loc, count, carried);
    Value start = arith::AddIOp::create(
        sb, loc, done,
        arith::MulIOp::create(sb, loc, stripBody->getArgument(0),
                              arith::ConstantIndexOp::create(sb, loc, width)));
    SmallVector<Value> next = buildStrip(
        sb, start, stripBody->getArguments().drop_front(), width, clamp);
    lz::YieldOp::create(sb, loc, next);
    b.setInsertionPointAfter(strips);
    carried = SmallVector<Value>(strips.getResults());
  };
  for (int64_t width = lanes; width >= kMinStripLanes; width /= 2) {
    Value widthValue = arith::ConstantIndexOp::create(b, loc, width);
    Value count = arith::DivUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, size, done), widthValue);
    buildStrips(width, count, false);
    done = arith::AddIOp::create(
        b, loc, done, arith::MulIOp::create(b, loc, count, widthValue));
  }
  Value left =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, done, size);
  buildStrips(kMinStripLanes, arith::SelectOp::create(b, loc, left, c1, c0),
              true);

  SmallVector<Value> results;
  for (unsigned index = 0; index < numStates; ++index)
    results.push_back(carried[carriedIndex[index]]);
  scf::YieldOp::create(b, loc, results);
  loop.replaceAllUsesWith(ifOp.getResults());
  loop.erase();
  return original;
}

struct JamStepsPass : public conversion::impl::JamStepsBase<JamStepsPass> {
  using JamStepsBase::JamStepsBase;

  /// The steps of `info` that jam runs per traversal, if it runs it.
  std::optional<int64_t> getJamFactor(const ElementwiseLoop &info) {
    if (steps < 2)
      return std::nullopt;
    // A loop that pushes rows runs one step per traversal, which writes
    // the rows: lower-lz makes a pushed row the traversal's destination,
    // but bufferization would copy the second row of a group (it cannot
    // tell that two rows of a matrix are different).
    int64_t factor =
        llvm::is_contained(info.kinds, StepOpKind::Push) ? 1 : steps;
    // A loop of fewer steps than a group gains nothing.
    std::optional<int64_t> count =
        getConstantIntValue(const_cast<lz::LoopOp &>(info.loop).getCount());
    if (count && *count < factor)
      return std::nullopt;
    return factor;
  }

  void runOnOperation() override {
    SmallVector<std::pair<ElementwiseLoop, int64_t>> loops;
    SmallVector<std::pair<ElementwiseLoop, int64_t>> stripped;
    getOperation().walk([&](lz::LoopOp loop) {
      std::optional<ElementwiseLoop> info = analyze(loop);
      if (!info)
        return;
      int64_t lanes = getStripLanes(*info, stripBytes);
      if (lanes >= kMinStripLanes && canStripMine(*info) &&
          getStepOps(*info) * lanes <= kMaxStripOps) {
        stripped.emplace_back(std::move(*info), lanes);
        return;
      }
      if (std::optional<int64_t> factor = getJamFactor(*info))
        loops.emplace_back(std::move(*info), *factor);
    });
    for (const auto &[info, factor] : loops)
      jam(info, factor);
    // Where a loop does not run by strips, it is jammed.
    for (auto &[info, lanes] : stripped) {
      std::optional<ElementwiseLoop> original = analyze(stripMine(info, lanes));
      if (!original)
        continue;
      if (std::optional<int64_t> factor = getJamFactor(*original))
        jam(*original, *factor);
    }
  }
};

} // namespace
