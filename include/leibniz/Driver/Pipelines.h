//===- Pipelines.h - The compilation pipelines ------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DRIVER_PIPELINES_H
#define LEIBNIZ_DRIVER_PIPELINES_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace leibniz::driver {

/// The dialects, interfaces and translations that the pipelines need.
void registerPipelineDependencies(mlir::DialectRegistry &registry);

/// Registers the passes the pipelines use and the named pipelines
/// (`leibniz-opt --leibniz-cpu-to-llvm`).
void registerPipelines();

/// The textual form of the CPU pipeline from `lz` to the LLVM dialect, as
/// the passes of a module pass manager.
std::string getCPUPipeline();

/// Adds the CPU pipeline to `pm`.
mlir::LogicalResult buildCPUPipeline(mlir::OpPassManager &pm);

} // namespace leibniz::driver

#endif // LEIBNIZ_DRIVER_PIPELINES_H
