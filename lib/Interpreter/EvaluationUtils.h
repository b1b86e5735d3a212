//===- EvaluationUtils.h - Helpers shared by the op handlers ----*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_LIB_INTERPRETER_EVALUATIONUTILS_H
#define LEIBNIZ_LIB_INTERPRETER_EVALUATIONUTILS_H

#include "leibniz/Interpreter/Interpreter.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>
#include <string>

namespace leibniz::interp {

/// Computes one result element from the operands' elements at one point;
/// returns nullopt and sets `error` when the operation is undefined there.
using ElementFn = llvm::function_ref<std::optional<Scalar>(
    llvm::ArrayRef<Scalar> operands, std::string &error)>;

/// Evaluates `op`, whose operands are scalars or tensors of one shape (rank-0
/// operands broadcast), by applying `fn` at every point, and binds its single
/// result. The result element type is that of the op's result.
mlir::LogicalResult evaluateElementwise(Interpreter &interp,
                                        mlir::Operation *op, ElementFn fn);

/// Advances `point` to the next point of the iteration space `sizes` in
/// row-major order; returns false (and leaves `point` all zeros) after the
/// last one.
inline bool advancePoint(llvm::MutableArrayRef<int64_t> point,
                         llvm::ArrayRef<int64_t> sizes) {
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    if (++point[d] < sizes[d])
      return true;
    point[d] = 0;
  }
  return false;
}

/// The shape of a result of type `type` whose dynamic sizes are the values
/// of `dynamicSizes`, in order; fails on a negative or too large shape.
mlir::FailureOr<llvm::SmallVector<int64_t>>
resolveShape(Interpreter &interp, mlir::Operation *op,
             mlir::RankedTensorType type, mlir::ValueRange dynamicSizes);

/// Binds the single result of `op`, of type `type`, to a tensor of the
/// resolved shape with every element `value`.
mlir::LogicalResult evaluateSplat(Interpreter &interp, mlir::Operation *op,
                                  mlir::RankedTensorType type,
                                  mlir::ValueRange dynamicSizes, Scalar value);

/// Checks that a tensor of `shape` may be created: no negative size and at
/// most `Tensor::kMaxElements` elements; reports an error at `op` otherwise.
mlir::LogicalResult checkTensorShape(Interpreter &interp, mlir::Operation *op,
                                     llvm::ArrayRef<int64_t> shape);

/// The value of a static or dynamic index.
int64_t readIndex(Interpreter &interp, mlir::OpFoldResult ofr);

/// Writes `source` into the slice of `dest` that `op` (an insert_slice or
/// parallel_insert_slice) describes.
mlir::LogicalResult insertSlice(Interpreter &interp,
                                mlir::OffsetSizeAndStrideOpInterface op,
                                const Tensor &source, Tensor &dest);

/// Reads an MLIR scalar attribute (integer or float) as a `Scalar`.
std::optional<Scalar> getScalarFromAttr(mlir::Attribute attr);

/// Converts an APFloat of any semantics to double.
double apFloatToDouble(const llvm::APFloat &value);

} // namespace leibniz::interp

#endif // LEIBNIZ_LIB_INTERPRETER_EVALUATIONUTILS_H
