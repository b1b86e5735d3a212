//===- ControlFlowOps.cpp - Interpreting func and scf ---------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "EvaluationUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace leibniz::interp;

namespace {

SmallVector<RuntimeValue> lookupAll(Interpreter &interp, ValueRange values) {
  SmallVector<RuntimeValue> result;
  for (Value value : values)
    result.push_back(interp.lookup(value));
  return result;
}

void bindAll(Interpreter &interp, ValueRange values,
             ArrayRef<RuntimeValue> runtimeValues) {
  for (auto [value, runtimeValue] : llvm::zip(values, runtimeValues))
    interp.bind(value, runtimeValue);
}

LogicalResult evaluateCall(Interpreter &interp, func::CallOp op) {
  auto callee =
      interp.getModule().lookupSymbol<func::FuncOp>(op.getCalleeAttr());
  if (!callee)
    return interp.emitError(op) << "no function named " << op.getCalleeAttr();
  SmallVector<RuntimeValue> args = lookupAll(interp, op.getOperands());
  FailureOr<SmallVector<RuntimeValue>> results = interp.call(callee, args, op);
  if (failed(results))
    return failure();
  bindAll(interp, op.getResults(), *results);
  return success();
}

/// scf.for compares the induction variable with the upper bound as signed
/// or, with `unsignedCmp`, as unsigned integers of its width; the step is
/// positive in the same reading. The loop ends before the induction variable
/// would wrap around.
LogicalResult evaluateScfFor(Interpreter &interp, scf::ForOp op) {
  Type ivType = op.getInductionVar().getType();
  unsigned width = getIntegerWidth(ivType);
  bool isUnsigned = op.getUnsignedCmp();
  int64_t lb = interp.lookupTensor(op.getLowerBound()).getInt(0);
  int64_t ub = interp.lookupTensor(op.getUpperBound()).getInt(0);
  int64_t step = interp.lookupTensor(op.getStep()).getInt(0);
  if (isUnsigned ? asUnsigned(width, step) == 0 : step <= 0)
    return interp.emitError(op) << "step " << step << " is not positive";

  SmallVector<RuntimeValue> state = lookupAll(interp, op.getInitArgs());
  // Iterate in the wider unsigned or signed domain, where `next` cannot
  // overflow for widths below 64; at 64 bits, overflow ends the loop.
  uint64_t uiv = asUnsigned(width, lb), uub = asUnsigned(width, ub),
           ustep = asUnsigned(width, step);
  int64_t iv = lb;
  while (isUnsigned ? uiv < uub : iv < ub) {
    int64_t current = isUnsigned ? static_cast<int64_t>(uiv) : iv;
    SmallVector<RuntimeValue> args{Tensor::getInt(ivType, current)};
    llvm::append_range(args, state);
    FailureOr<SmallVector<RuntimeValue>> next =
        interp.runRegion(op.getRegion(), args);
    if (failed(next))
      return failure();
    state = std::move(*next);
    if (isUnsigned) {
      if (__builtin_add_overflow(uiv, ustep, &uiv) ||
          (width < 64 && uiv >> width))
        break;
    } else if (__builtin_add_overflow(iv, step, &iv) ||
               wrapToWidth(width, iv) != iv) {
      break;
    }
  }
  bindAll(interp, op.getResults(), state);
  return success();
}

/// scf.forall runs its points in row-major order; the parallel insertions
/// of each point write into the shared outputs.
LogicalResult evaluateScfForall(Interpreter &interp, scf::ForallOp op) {
  SmallVector<int64_t> lbs, steps, tripCounts;
  for (auto [lb, ub, step] :
       llvm::zip(op.getMixedLowerBound(), op.getMixedUpperBound(),
                 op.getMixedStep())) {
    int64_t lower = readIndex(interp, lb), upper = readIndex(interp, ub),
            stride = readIndex(interp, step);
    if (stride <= 0)
      return interp.emitError(op) << "step " << stride << " is not positive";
    lbs.push_back(lower);
    steps.push_back(stride);
    tripCounts.push_back(upper <= lower ? 0 : (upper - lower - 1) / stride + 1);
  }
  SmallVector<RuntimeValue> outputs = lookupAll(interp, op.getOutputs());
  bool empty = llvm::is_contained(tripCounts, 0);
  SmallVector<int64_t> point(tripCounts.size(), 0);
  unsigned numIvs = tripCounts.size();
  Type indexType = IndexType::get(op.getContext());
  do {
    if (empty)
      break;
    SmallVector<RuntimeValue> args;
    for (auto [d, index] : llvm::enumerate(point))
      args.push_back(Tensor::getInt(indexType, lbs[d] + index * steps[d]));
    llvm::append_range(args, outputs);
    if (failed(interp.runRegion(op.getRegion(), args)))
      return failure();
    for (Operation &yielding : op.getTerminator().getYieldingOps()) {
      auto insert = cast<tensor::ParallelInsertSliceOp>(yielding);
      auto dest = cast<BlockArgument>(insert.getDest());
      Tensor result = outputs[dest.getArgNumber() - numIvs].getTensor();
      if (failed(insertSlice(interp, insert,
                             interp.lookupTensor(insert.getSource()), result)))
        return failure();
      outputs[dest.getArgNumber() - numIvs] = std::move(result);
    }
  } while (advancePoint(point, tripCounts));
  bindAll(interp, op.getResults(), outputs);
  return success();
}

LogicalResult evaluateScfIf(Interpreter &interp, scf::IfOp op) {
  bool cond = interp.lookupTensor(op.getCondition()).getInt(0) != 0;
  Region &region = cond ? op.getThenRegion() : op.getElseRegion();
  if (region.empty())
    return success();
  FailureOr<SmallVector<RuntimeValue>> results = interp.runRegion(region, {});
  if (failed(results))
    return failure();
  bindAll(interp, op.getResults(), *results);
  return success();
}

LogicalResult evaluateScfWhile(Interpreter &interp, scf::WhileOp op) {
  SmallVector<RuntimeValue> state = lookupAll(interp, op.getInits());
  while (true) {
    FailureOr<SmallVector<RuntimeValue>> before =
        interp.runRegion(op.getBefore(), state);
    if (failed(before))
      return failure();
    SmallVector<RuntimeValue> forwarded(before->begin() + 1, before->end());
    if ((*before)[0].getTensor().getInt(0) == 0) {
      bindAll(interp, op.getResults(), forwarded);
      return success();
    }
    FailureOr<SmallVector<RuntimeValue>> after =
        interp.runRegion(op.getAfter(), forwarded);
    if (failed(after))
      return failure();
    state = std::move(*after);
  }
}

LogicalResult evaluateExecuteRegion(Interpreter &interp,
                                    scf::ExecuteRegionOp op) {
  FailureOr<SmallVector<RuntimeValue>> results =
      interp.runRegion(op.getRegion(), {});
  if (failed(results))
    return failure();
  bindAll(interp, op.getResults(), *results);
  return success();
}

} // namespace

void leibniz::interp::registerControlFlowHandlers(OpHandlerRegistry &registry) {
  registry.add<func::CallOp>(evaluateCall);
  registry.add<scf::ForOp>(evaluateScfFor);
  registry.add<scf::ForallOp>(evaluateScfForall);
  registry.add<scf::IfOp>(evaluateScfIf);
  registry.add<scf::WhileOp>(evaluateScfWhile);
  registry.add<scf::ExecuteRegionOp>(evaluateExecuteRegion);
}
