//===- TestUtils.h - Shared helpers of the unit tests -----------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_TEST_UNIT_TESTUTILS_H
#define LEIBNIZ_TEST_UNIT_TESTUTILS_H

#include "leibniz/Interpreter/Interpreter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <random>
#include <string>
#include <vector>

namespace leibniz::test {

/// A context with every dialect the interpreter runs.
std::unique_ptr<mlir::MLIRContext> makeContext();

/// Parses `source`; fails the current test on error.
mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &context,
                                        llvm::StringRef source);

/// A tensor of `type` (f32/f64/i64) with the given shape and elements.
interp::Tensor makeTensor(mlir::Type elementType, llvm::ArrayRef<int64_t> shape,
                          llvm::ArrayRef<double> values);

/// `count` doubles uniform in [-1, 1) from a fixed-seed generator.
std::vector<double> randomValues(std::mt19937_64 &rng, size_t count);

/// `value` with its float elements replaced, in turn, by the values that
/// tell rewrites apart when random data does not: signed zeros, infinities
/// and NaN. `next` says where in that list to continue, and moves on by
/// `stride` per element (0: every element the same value).
interp::RuntimeValue withSpecialFloats(const interp::RuntimeValue &value,
                                       unsigned &next, unsigned stride = 1);

/// Interprets function `name` of `before` and of `after` on `runs` inputs
/// (seeded random values, every other run with signed zeros, infinities
/// and NaN in the floats: all one of them, or mixed) and expects identical
/// results (-0.0 differs from +0.0, NaN equals NaN); `what` names the
/// transformation in messages.
///
/// With `realArithmetic`, for rewrites that hold in real arithmetic but
/// not in IEEE (x * 0 -> 0, reassociation), the inputs are finite and
/// results may differ in the sign of zeros and by rounding (1e-12 relative
/// to the larger magnitude, or absolute below 1).
void expectSameResults(mlir::ModuleOp before, mlir::ModuleOp after,
                       llvm::StringRef name, unsigned runs,
                       llvm::StringRef what, bool realArithmetic = false);

/// Calls `name` and returns its results; fails the test if the call fails.
llvm::SmallVector<interp::RuntimeValue>
run(interp::Interpreter &interpreter, llvm::StringRef name,
    llvm::ArrayRef<interp::RuntimeValue> args);

} // namespace leibniz::test

#endif // LEIBNIZ_TEST_UNIT_TESTUTILS_H
