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
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"

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
  // A stack whose every row the loop writes needs no values: lower-lz
  // would see that in the loop, not in the groups of steps.
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
  auto jammed = lz::LoopOp::create(b, loc, stateTypes, groups, loop.getInits());
  SmallVector<Type> argTypes = {b.getIndexType()};
  llvm::append_range(argTypes, stateTypes);
  SmallVector<Location> argLocs(argTypes.size(), loc);
  Block *jammedBody = b.createBlock(&jammed.getBody(), jammed.getBody().end(),
                                    argTypes, argLocs);
  b.setInsertionPointToStart(jammedBody);
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

struct JamStepsPass : public conversion::impl::JamStepsBase<JamStepsPass> {
  using JamStepsBase::JamStepsBase;

  void runOnOperation() override {
    if (steps < 2)
      return;
    SmallVector<std::pair<ElementwiseLoop, int64_t>> loops;
    getOperation().walk([&](lz::LoopOp loop) {
      std::optional<ElementwiseLoop> info = analyze(loop);
      if (!info)
        return;
      // A loop that pushes rows runs one step per traversal, which writes
      // the rows: lower-lz makes a pushed row the traversal's destination,
      // but bufferization would copy the second row of a group (it cannot
      // tell that two rows of a matrix are different).
      int64_t factor =
          llvm::is_contained(info->kinds, StepOpKind::Push) ? 1 : steps;
      // A loop of fewer steps than a group gains nothing.
      std::optional<int64_t> count = getConstantIntValue(loop.getCount());
      if (count && *count < factor)
        return;
      loops.emplace_back(std::move(*info), factor);
    });
    for (const auto &[info, factor] : loops)
      jam(info, factor);
  }
};

} // namespace
