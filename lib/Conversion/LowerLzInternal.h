//===- LowerLzInternal.h - Shared parts of lower-lz -------------*- C++ -*-===//
//
// Part of Leibniz.
//
// The lower-lz pass is split over three files: LowerLz.cpp (the pass,
// traversals, reads, constructors and loops, and the helpers below),
// LowerLzReductions.cpp (scalar reductions, their splitting into
// partitions, and traversals of sums computed row by row) and
// LowerLzAccumulate.cpp (scatter-adds).
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_LIB_CONVERSION_LOWERLZINTERNAL_H
#define LEIBNIZ_LIB_CONVERSION_LOWERLZINTERNAL_H

#include "Lz/LzOps.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace leibniz::lowerlz {

//===----------------------------------------------------------------------===//
// Helpers (LowerLz.cpp)
//===----------------------------------------------------------------------===//

mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc,
                          int64_t value);

/// The sizes of every dimension of a tensor value.
llvm::SmallVector<mlir::Value> getSizes(mlir::OpBuilder &b, mlir::Location loc,
                                        mlir::Value tensor);

/// The sizes of the dynamic dimensions of `type` among `sizes`.
llvm::SmallVector<mlir::Value> getDynamicSizes(mlir::RankedTensorType type,
                                               mlir::ValueRange sizes);

/// A new tensor of `type` with the given sizes of all dimensions (a
/// `bufferization.alloc_tensor`, which CSE does not merge).
mlir::Value createEmpty(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type, mlir::ValueRange sizes);

/// Moves the ops of `body` (but its terminator) before the insertion point,
/// with its arguments replaced by `args`; returns the terminator's operands.
llvm::SmallVector<mlir::Value> moveBody(mlir::RewriterBase &rewriter,
                                        mlir::Block &body,
                                        mlir::ValueRange args);

/// Clones the ops of `body` (but its terminator) at the insertion point with
/// its arguments mapped to `args`; returns the mapped terminator operands.
llvm::SmallVector<mlir::Value> cloneBody(mlir::RewriterBase &rewriter,
                                         mlir::Block &body,
                                         mlir::ValueRange args);

/// Whether no element of `fill` is ever read: its only use starts a state
/// of a counted loop with as many steps as the tensor has rows, whose body
/// writes a whole row of the state at every step, row `t` or `count - 1 - t`
/// at step `t`, and uses the state for nothing else (the stacks of reverse
/// mode). lower-lz creates such a tensor without values; so does
/// lz-jam-steps before it runs several of the loop's steps at once.
bool isOverwrittenStack(lz::FillOp fill);

/// Combines two values of a reduction (elementwise for tensors).
mlir::Value combine(mlir::OpBuilder &b, mlir::Location loc,
                    mlir::Operation *reduction, mlir::Value acc, mlir::Value x,
                    bool reassociate = false);

/// A scope whose body yields tensors: its first point, then a loop over the
/// others.
void lowerPeeled(mlir::RewriterBase &rewriter, mlir::Operation *scope);

//===----------------------------------------------------------------------===//
// Reductions (LowerLzReductions.cpp)
//===----------------------------------------------------------------------===//

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

/// Whether `op` is outside every scope and loop of its function.
bool isOutermost(mlir::Operation *op);

/// Whether `op` is in no scope, accumulation or parallel loop (it may be in
/// a sequential loop).
bool isOutsideScopes(mlir::Operation *op);

/// Whether `range` is a constant below 16: too short a loop for vectorizing
/// it to pay.
bool isShortConstant(mlir::Value range);

/// A scalar reduction as a loop nest, split into partitions under `split`;
/// with `rowSum` (getReductionRowSum), the sum in its body row by row.
void lowerScalarReduction(mlir::RewriterBase &rewriter, mlir::Operation *scope,
                          bool reassociate, const SplitPolicy *split,
                          lz::SumOp rowSum = {});

/// Splits the reductions in the bodies of the outermost traversals under
/// `root` (the GPU's threads).
void splitReductionsInTraversals(mlir::RewriterBase &rewriter,
                                 mlir::Operation *root,
                                 const SplitPolicy &policy);

/// The sum of `forOp` if it is computed row by row, or null.
lz::SumOp getRowSum(lz::ForOp forOp);

/// Computes `forOp`, whose sum is `sum` (getRowSum), row by row.
void lowerRowSums(mlir::RewriterBase &rewriter, lz::ForOp forOp, lz::SumOp sum);

/// Rewrites `for ..., v, ... . sum k. e` (`forOp`), where getRowSum does not
/// accept it, into a traversal with `v` last that it accepts, reading
/// copies of the tensors that have `v` in another dimension with that
/// dimension last, and a traversal back into `forOp`'s order; returns the
/// traversal to compute row by row, or null where there is none.
lz::ForOp transposeForRowSums(mlir::RewriterBase &rewriter, lz::ForOp forOp);

/// The sum in the body of `scope`, a reduction to a float, if it is computed
/// row by row, or null. The sum must stay in the body until the reduction
/// is lowered.
lz::SumOp getReductionRowSum(mlir::Operation *scope);

//===----------------------------------------------------------------------===//
// Scatter-adds (LowerLzAccumulate.cpp)
//===----------------------------------------------------------------------===//

/// An `lz.accumulate` as a loop nest adding into a tensor of zeros.
void lowerAccumulate(mlir::RewriterBase &rewriter, lz::AccumulateOp op,
                     bool reassociate);

/// Whether the reads in `body`, lowered already or not, depend on a
/// variable (`depends` of an index) in their last index only; `some` is
/// set where one does. With `elementsOnly`, a read of a sub-tensor fails.
bool readsInLastIndexOnly(mlir::Block &body,
                          llvm::function_ref<bool(mlir::Value)> depends,
                          bool &some, bool elementsOnly = false);

/// Computes the values of a scatter-add that call vector math functions in
/// a traversal of their own (the CPU at -O3).
void splitAccumulateValues(
    mlir::RewriterBase &rewriter, lz::AccumulateOp op,
    const llvm::SmallPtrSetImpl<mlir::Operation *> &inScopes, bool extended);

} // namespace leibniz::lowerlz

#endif // LEIBNIZ_LIB_CONVERSION_LOWERLZINTERNAL_H
