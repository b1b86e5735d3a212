//===- JIT.h - Running compiled programs ------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DRIVER_JIT_H
#define LEIBNIZ_DRIVER_JIT_H

#include "leibniz/Driver/Pipelines.h"
#include "leibniz/Interpreter/RuntimeValue.h"

#include "mlir/IR/BuiltinOps.h"

namespace leibniz::driver {

/// How runJIT times the function before its last call.
struct JITTiming {
  /// The median over `samples` samples, each of as many calls as take
  /// `minSeconds` at least.
  unsigned samples = 3;
  double minSeconds = 0.01;
  /// Set by runJIT: the median seconds per call.
  double seconds = 0;
};

/// Compiles `module` (lz IR, after the AD stages) with the CPU pipeline and
/// the LLVM JIT, and calls function `entry` with `args`. Arguments and
/// results are the interpreter's values: tensors are copied into and out of
/// the compiled code's buffers, tuples are passed as their leaves. A failed
/// run-time check is reported as an error; errors are reported through the
/// context's diagnostic handler. Where `timing` is given, the function is
/// also timed, before the call whose results are returned.
mlir::FailureOr<llvm::SmallVector<interp::RuntimeValue>>
runJIT(mlir::ModuleOp module, llvm::StringRef entry,
       llvm::ArrayRef<interp::RuntimeValue> args,
       const CPUPipelineOptions &options = {}, JITTiming *timing = nullptr);

/// runJIT on the GPU: compiles `module` with the CUDA pipeline, the host
/// code with the LLVM JIT, and calls `entry`. Fails with an error if the
/// CUDA driver or a device is missing.
mlir::FailureOr<llvm::SmallVector<interp::RuntimeValue>>
runJIT(mlir::ModuleOp module, llvm::StringRef entry,
       llvm::ArrayRef<interp::RuntimeValue> args,
       const CUDAPipelineOptions &options);

} // namespace leibniz::driver

#endif // LEIBNIZ_DRIVER_JIT_H
