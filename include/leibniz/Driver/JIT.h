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

/// Compiles `module` (lz IR, after the AD stages) with the CPU pipeline and
/// the LLVM JIT, and calls function `entry` with `args`. Arguments and
/// results are the interpreter's values: tensors are copied into and out of
/// the compiled code's buffers, tuples are passed as their leaves. Errors
/// are reported through the context's diagnostic handler.
/// Compiles `module` with the CPU pipeline, JIT-compiles it and calls
/// `entry` with `args`. A failed run-time check is reported as an error.
mlir::FailureOr<llvm::SmallVector<interp::RuntimeValue>>
runJIT(mlir::ModuleOp module, llvm::StringRef entry,
       llvm::ArrayRef<interp::RuntimeValue> args,
       const CPUPipelineOptions &options = {});

} // namespace leibniz::driver

#endif // LEIBNIZ_DRIVER_JIT_H
