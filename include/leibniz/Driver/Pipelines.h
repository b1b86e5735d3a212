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

/// How the CPU pipeline compiles.
struct CPUPipelineOptions {
  /// 0 to 3, as `-O0`..`-O3`: the MLIR passes that run, and the LLVM
  /// optimization level of the JIT and of `leibniz compile`. Up to -O2,
  /// compiled code computes the interpreter's results bit for bit; -O3
  /// calls BLAS for large matrix products.
  unsigned optLevel = 2;
  /// Insert run-time checks of reads and integer divisions.
  bool checks = false;
};

/// Whether Leibniz was built with a CBLAS (OpenBLAS), which compiled code
/// calls for matrix products at -O3.
bool isBLASAvailable();

void registerPipelineDependencies(mlir::DialectRegistry &registry);

/// Registers every pass that the pipelines use and the named pipeline
/// `leibniz-cpu-to-llvm{opt-level=N checks=B}`.
void registerPipelines();

/// The CPU pipeline, from lz and ad (without transformations left) to the
/// LLVM dialect, as a pass pipeline string.
std::string getCPUPipeline(const CPUPipelineOptions &options = {});

mlir::LogicalResult buildCPUPipeline(mlir::OpPassManager &pm,
                                     const CPUPipelineOptions &options = {});

} // namespace leibniz::driver

#endif // LEIBNIZ_DRIVER_PIPELINES_H
