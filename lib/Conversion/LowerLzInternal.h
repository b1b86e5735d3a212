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

#include "mlir/IR/IRMapping.h"
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

/// Whether the reads of `tensor` in `body`, the body of a scope over
/// `ranges`, all read the same element for every value of some variable
/// whose range is not a constant below 16: a copy of it is then read that
/// many times over, not once (as a tensor read at every point would be).
bool isReusedAcross(mlir::Block &body, mlir::ValueRange ranges,
                    mlir::Value tensor);

/// A copy of `tensor` whose dimension i is `tensor`'s dimension
/// `permutation[i]`, built at the rewriter's insertion point: a traversal,
/// then an `alloc_tensor` copy, so that canonicalization does not fold
/// its reads back into reads of `tensor`. The ops built go to `created`
/// where given.
mlir::Value
buildPermutedCopy(mlir::RewriterBase &rewriter, mlir::Location loc,
                  mlir::Value tensor, llvm::ArrayRef<unsigned> permutation,
                  llvm::SmallVectorImpl<mlir::Operation *> *created = nullptr);

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

/// The sum that `op`, a scatter-add, yields as its value, if it is
/// computed row by row along `op`'s variable `row` (the variable that runs
/// innermost, see lowerAccumulate): the sum's reads index `row` in their
/// last dimension only, some do, and what the body computes besides is
/// integers. Null otherwise.
lz::SumOp getAccumulateRowSumAlong(lz::AccumulateOp op, unsigned row);

/// Builds the rows of a sum that is computed row by row (getRowSum,
/// getReductionRowSum, getAccumulateRowSum): each element of a row is the
/// sum at its point, computed in strips whose elements LLVM vectorizes
/// (lowerRowSums).
class RowBuilder {
public:
  /// Creates, at the rewriter's insertion point (before the scope), the
  /// sum's ranges and identity. The row runs along the scope's variable
  /// `rowVariable` (by default its last).
  RowBuilder(mlir::RewriterBase &rewriter, mlir::Location loc,
             mlir::Block &body, lz::SumOp sum,
             std::optional<unsigned> rowVariable = std::nullopt);

  /// The row at `points` (the scope's variables but the row's, in order)
  /// of `width` elements (`staticWidth` where it is known), written into
  /// `into` where given (a row of that width whose values it overwrites),
  /// else into a new tensor.
  mlir::Value build(mlir::OpBuilder &b, mlir::Location loc,
                    mlir::ValueRange points, mlir::Value width,
                    int64_t staticWidth = mlir::ShapedType::kDynamic,
                    mlir::Value into = {});

  /// Where the sum is triangular, whether a row of `width` elements is wide
  /// enough to compute as a row (kMinTriangularRow); else null.
  mlir::Value isWideEnough(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value width) const;

  /// Maps the scope's variables to `points` and the row's to `x`.
  void mapPoint(mlir::IRMapping &mapping, mlir::ValueRange points,
                mlir::Value x) const;

private:
  /// The ops of one term at `points`, `x` and the sum's variables `ivs`.
  mlir::Value cloneTerm(mlir::OpBuilder &b, mlir::ValueRange points,
                        mlir::Value x, mlir::ValueRange ivs);

  mlir::Block &body;
  lz::SumOp sum;
  mlir::FloatType elementType;
  /// The position of the row's variable among the scope's.
  unsigned row;
  /// What the body computes before the sum and the sum uses.
  llvm::SmallVector<mlir::Operation *> prelude;
  /// The sum's ranges; the first one null where it is `x + c`.
  llvm::SmallVector<mlir::Value> sumRanges;
  /// The `c` of a first range `x + c` (getTriangularOffset).
  std::optional<int64_t> triangle;
  mlir::Value identity;
  /// Whether a term is cheap enough to repeat for the strips in registers.
  bool inRegisters;
};

//===----------------------------------------------------------------------===//
// Scatter-adds (LowerLzAccumulate.cpp)
//===----------------------------------------------------------------------===//

/// The sum that `op` yields as its value if lowerAccumulate computes it row
/// by row (getAccumulateRowSumAlong its innermost loop's variable), or
/// null. The sum must stay in the body until `op` is lowered.
lz::SumOp getAccumulateRowSum(lz::AccumulateOp op, bool reassociate,
                              unsigned *row = nullptr);

/// Makes the reads of `sum` (getAccumulateRowSum of `op`, along its
/// variable `row`) of a tensor defined outside `op`, along the row in their
/// last index, whose index before the last two is a variable of the sum
/// and whose other indices do not depend on the sum's variables, read a
/// copy of it with that dimension moved before the last, where the copy is
/// read many times over: a row's terms then read one block of consecutive
/// addresses, not rows a whole dimension apart (which may map onto the
/// same sets of the cache).
void packRowSumReads(mlir::RewriterBase &rewriter, lz::AccumulateOp op,
                     lz::SumOp sum, unsigned row);

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
