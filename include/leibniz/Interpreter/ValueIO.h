//===- ValueIO.h - Printing, parsing and random runtime values --*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_INTERPRETER_VALUEIO_H
#define LEIBNIZ_INTERPRETER_VALUEIO_H

#include "leibniz/Interpreter/RuntimeValue.h"

#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace leibniz::interp {

/// Prints `value` of MLIR type `type` as NumPy prints it: scalars in their
/// shortest round-trip form (`0.1`, `1.0`, `3`, `True`), tensors as nested
/// bracketed rows with aligned columns, eight significant fraction digits and
/// scientific notation when magnitudes are far apart, summarized with `...`
/// beyond 1000 elements; tuples in parentheses.
void printValue(llvm::raw_ostream &os, const RuntimeValue &value,
                mlir::Type type);

/// Parses a literal of type `type`: a number or `true`/`false` for scalars,
/// nested `[...]` lists for tensors (their nesting gives the dynamic sizes),
/// `(a, b)` for tuples. On failure returns an explanation in `error`.
mlir::FailureOr<RuntimeValue> parseLiteral(llvm::StringRef text,
                                           mlir::Type type, std::string &error);

/// Seeded random data of type `type`: floats uniform in [-1, 1), integers
/// uniform in [0, 10), booleans fair; dynamic dimensions get `dynamicSize`.
/// The same seed gives the same value on every platform.
mlir::FailureOr<RuntimeValue> makeRandomValue(mlir::Type type, uint64_t seed,
                                              int64_t dynamicSize,
                                              std::string &error);

/// Checks that `value` has type `type` (dynamic dimensions match any size);
/// on mismatch returns false and explains in `error`.
bool conformsTo(const RuntimeValue &value, mlir::Type type, std::string &error);

/// Reads a tensor from the contents of a NumPy `.npy` file (format versions
/// 1 to 3): little-endian `f8`, `f4`, `i8`, `i4` or `b1` elements in C
/// order. Other element types, Fortran order, and truncated or malformed
/// files are errors explained in `error`.
/// The contents of a NumPy `.npy` file (format version 1.0, C order) holding
/// `tensor`: `f8`, `f4`, `i8`, `i4` or `b1` elements; other element types
/// are an error explained in `error`.
mlir::FailureOr<std::string> writeNpy(const Tensor &tensor, std::string &error);

mlir::FailureOr<RuntimeValue> readNpy(mlir::MLIRContext *context,
                                      llvm::StringRef contents,
                                      std::string &error);

} // namespace leibniz::interp

#endif // LEIBNIZ_INTERPRETER_VALUEIO_H
