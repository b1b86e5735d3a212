//===- ElementwiseUtils.h - Elementwise evaluation helpers ------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_LIB_INTERPRETER_ELEMENTWISEUTILS_H
#define LEIBNIZ_LIB_INTERPRETER_ELEMENTWISEUTILS_H

#include "leibniz/Interpreter/Interpreter.h"

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

/// Checks that a tensor of `shape` may be created: no negative size and at
/// most `Tensor::kMaxElements` elements; reports an error at `op` otherwise.
mlir::LogicalResult checkTensorShape(Interpreter &interp, mlir::Operation *op,
                                     llvm::ArrayRef<int64_t> shape);

/// Reads an MLIR scalar attribute (integer or float) as a `Scalar`.
std::optional<Scalar> getScalarFromAttr(mlir::Attribute attr);

/// Converts an APFloat of any semantics to double.
double apFloatToDouble(const llvm::APFloat &value);

} // namespace leibniz::interp

#endif // LEIBNIZ_LIB_INTERPRETER_ELEMENTWISEUTILS_H
