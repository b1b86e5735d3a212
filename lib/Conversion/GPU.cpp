//===- GPU.cpp - Parallel loops as GPU kernels ----------------------------===//
//
// Part of Leibniz.
//
// The CUDA pipeline's two passes of its own. `lz-parallel-to-gpu` turns the
// outermost parallel loops into `gpu.launch` operations of one thread per
// iteration; upstream's `gpu-kernel-outlining` then makes them kernels.
// `lz-gpu-copy-arguments` copies the buffers that callers pass into
// buffers that the program allocates, which the pipeline puts in unified
// memory, where both the host and the kernels read them.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_PARALLELTOGPU
#define GEN_PASS_DEF_COPYARGUMENTSTOGPU
#define GEN_PASS_DEF_GPULAUNCHTOLOOPS
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

namespace {

//===----------------------------------------------------------------------===//
// lz-parallel-to-gpu
//===----------------------------------------------------------------------===//

/// Whether the body of `loop` can run in a kernel: it calls only functions
/// with a body (which outlining copies into the kernel's module, and which
/// must qualify in turn), nothing of the LLVM dialect, which is what the
/// lowering of prints and checks leaves for the host's runtime, and no
/// copy or heap allocation, which would need the device's malloc and its
/// small fixed heap.
bool canRunOnDevice(Operation *root, SymbolTableCollection &symbols,
                    llvm::SmallPtrSetImpl<Operation *> &visiting) {
  WalkResult result = root->walk([&](Operation *op) {
    if (isa<LLVM::LLVMDialect>(op->getDialect()) ||
        isa<memref::CopyOp, memref::AllocOp, memref::ReallocOp, gpu::LaunchOp>(
            op))
      return WalkResult::interrupt();
    auto call = dyn_cast<CallOpInterface>(op);
    if (!call)
      return WalkResult::advance();
    auto callee =
        dyn_cast_or_null<func::FuncOp>(call.resolveCallableInTable(&symbols));
    if (!callee || callee.isExternal())
      return WalkResult::interrupt();
    if (!visiting.insert(callee).second)
      return WalkResult::advance();
    return canRunOnDevice(callee, symbols, visiting) ? WalkResult::advance()
                                                     : WalkResult::interrupt();
  });
  return !result.wasInterrupted();
}

/// max(0, ceil((upper - lower) / step)).
Value buildTripCount(OpBuilder &builder, Location loc, Value lower, Value upper,
                     Value step) {
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value distance = arith::MaxSIOp::create(
      builder, loc, arith::SubIOp::create(builder, loc, upper, lower), zero);
  return arith::CeilDivUIOp::create(builder, loc, distance, step);
}

/// Replaces `loop` by a launch of one thread per iteration, in blocks of
/// `blockSize` threads, guarded by a test that there is an iteration.
void mapToThreads(scf::ParallelOp loop, int64_t blockSize) {
  OpBuilder builder(loop);
  Location loc = loop.getLoc();
  SmallVector<Value> counts;
  Value total = arith::ConstantIndexOp::create(builder, loc, 1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    counts.push_back(buildTripCount(builder, loc, lb, ub, step));
    total = arith::MulIOp::create(builder, loc, total, counts.back());
  }
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  Value threads = arith::ConstantIndexOp::create(builder, loc, blockSize);
  Value any = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::sgt,
                                    total, zero);
  auto guard = scf::IfOp::create(builder, loc, any, /*withElseRegion=*/false);
  builder.setInsertionPointToStart(guard.thenBlock());
  Value blocks = arith::CeilDivUIOp::create(builder, loc, total, threads);
  auto launch =
      gpu::LaunchOp::create(builder, loc, blocks, one, one, threads, one, one);

  // In the kernel: the linear iteration, then its induction variables.
  builder.setInsertionPointToStart(&launch.getBody().front());
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  Value linear = arith::AddIOp::create(
      builder, loc, arith::MulIOp::create(builder, loc, blockIds.x, threads),
      threadIds.x);
  Value inRange = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult,
                                        linear, total);
  auto inside = scf::IfOp::create(builder, loc, inRange,
                                  /*withElseRegion=*/false);
  gpu::TerminatorOp::create(builder, loc);
  builder.setInsertionPointToStart(inside.thenBlock());
  IRMapping mapping;
  Value remaining = linear;
  for (unsigned d = loop.getNumLoops(); d-- > 0;) {
    Value index = remaining;
    if (d > 0) {
      index = arith::RemUIOp::create(builder, loc, remaining, counts[d]);
      remaining = arith::DivUIOp::create(builder, loc, remaining, counts[d]);
    }
    Value iv = arith::AddIOp::create(
        builder, loc, loop.getLowerBound()[d],
        arith::MulIOp::create(builder, loc, index, loop.getStep()[d]));
    mapping.map(loop.getInductionVars()[d], iv);
  }
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  loop.erase();
}

/// Adds `root`'s callees, and theirs, to `functions`.
void collectCallees(Operation *root, SymbolTableCollection &symbols,
                    llvm::SmallPtrSetImpl<Operation *> &functions) {
  root->walk([&](CallOpInterface call) {
    Operation *callee = call.resolveCallableInTable(&symbols);
    if (callee && functions.insert(callee).second)
      collectCallees(callee, symbols, functions);
  });
}

struct ParallelToGPUPass
    : public conversion::impl::ParallelToGPUBase<ParallelToGPUPass> {
  using ParallelToGPUBase::ParallelToGPUBase;

  void runOnOperation() override {
    if (blockSize <= 0 || blockSize > 1024) {
      getOperation().emitError()
          << "lz-parallel-to-gpu: block-size must be in 1..1024, got "
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    // First the loops that can run on the device, then the functions that
    // their kernels call: those run in a thread, so their own parallel
    // loops stay loops.
    SymbolTableCollection symbols;
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
      if (loop.getNumResults() != 0)
        return WalkResult::advance();
      llvm::SmallPtrSet<Operation *, 8> visiting;
      if (!canRunOnDevice(loop, symbols, visiting))
        return WalkResult::advance();
      loops.push_back(loop);
      return WalkResult::skip();
    });
    llvm::SmallPtrSet<Operation *, 8> deviceFunctions;
    for (scf::ParallelOp loop : loops)
      collectCallees(loop, symbols, deviceFunctions);
    for (scf::ParallelOp loop : loops)
      if (!deviceFunctions.contains(
              loop->getParentOfType<FunctionOpInterface>()))
        mapToThreads(loop, blockSize);
  }
};

//===----------------------------------------------------------------------===//
// lz-gpu-copy-arguments
//===----------------------------------------------------------------------===//

struct CopyArgumentsToGPUPass
    : public conversion::impl::CopyArgumentsToGPUBase<CopyArgumentsToGPUPass> {
  void runOnOperation() override {
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      // The entries: what the JIT calls and what a library exports.
      if (function.isExternal() ||
          !function->hasAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName()))
        continue;
      Block &entry = function.getBody().front();
      OpBuilder builder = OpBuilder::atBlockBegin(&entry);
      for (BlockArgument argument : entry.getArguments()) {
        auto type = dyn_cast<MemRefType>(argument.getType());
        if (!type || argument.use_empty())
          continue;
        Location loc = argument.getLoc();
        if (!type.getLayout().isIdentity()) {
          function.emitError()
              << "lz-gpu-copy-arguments: argument " << argument.getArgNumber()
              << " has a layout; the CUDA pipeline passes buffers with the "
                 "identity layout";
          return signalPassFailure();
        }
        SmallVector<Value> sizes;
        for (int64_t d = 0; d < type.getRank(); ++d)
          if (type.isDynamicDim(d))
            sizes.push_back(memref::DimOp::create(builder, loc, argument, d));
        Value copy = memref::AllocOp::create(builder, loc, type, sizes);
        auto copyOp = memref::CopyOp::create(builder, loc, argument, copy);
        llvm::SmallPtrSet<Operation *, 4> keep = {copyOp};
        for (Value size : sizes)
          keep.insert(size.getDefiningOp());
        argument.replaceUsesWithIf(copy, [&](OpOperand &use) {
          return !keep.contains(use.getOwner());
        });
      }
    }
  }
};

//===----------------------------------------------------------------------===//
// lz-gpu-launch-to-loops
//===----------------------------------------------------------------------===//

struct GPULaunchToLoopsPass
    : public conversion::impl::GPULaunchToLoopsBase<GPULaunchToLoopsPass> {
  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk(
        [&](gpu::LaunchOp launch) { launches.push_back(launch); });
    for (gpu::LaunchOp launch : launches) {
      Region &body = launch.getBody();
      if (!body.hasOneBlock() || launch.getAsyncToken() ||
          launch.getDynamicSharedMemorySize()) {
        launch.emitError() << "lz-gpu-launch-to-loops: only synchronous "
                              "launches of one block and no shared memory "
                              "run on the host";
        return signalPassFailure();
      }
      OpBuilder builder(launch);
      Location loc = launch.getLoc();
      Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
      Value one = arith::ConstantIndexOp::create(builder, loc, 1);
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
      SmallVector<Value> upper = {grid.x,  grid.y,  grid.z,
                                  block.x, block.y, block.z};
      auto loop =
          scf::ParallelOp::create(builder, loc, SmallVector<Value>(6, zero),
                                  upper, SmallVector<Value>(6, one));
      IRMapping mapping;
      gpu::KernelDim3 blockIds = launch.getBlockIds();
      gpu::KernelDim3 threadIds = launch.getThreadIds();
      gpu::KernelDim3 gridSizes = launch.getGridSize();
      gpu::KernelDim3 blockSizes = launch.getBlockSize();
      // The ids become the induction variables, the sizes the bounds.
      Value ids[] = {blockIds.x,  blockIds.y,  blockIds.z,
                     threadIds.x, threadIds.y, threadIds.z};
      Value sizes[] = {gridSizes.x,  gridSizes.y,  gridSizes.z,
                       blockSizes.x, blockSizes.y, blockSizes.z};
      for (auto [id, iv] : llvm::zip(ids, loop.getInductionVars()))
        mapping.map(id, iv);
      for (auto [size, value] : llvm::zip(sizes, upper))
        mapping.map(size, value);
      builder.setInsertionPoint(loop.getBody()->getTerminator());
      for (Operation &op : body.front().without_terminator())
        builder.clone(op, mapping);
      launch.erase();
    }
  }
};

} // namespace
