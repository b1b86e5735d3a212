//===- Pipelines.h - The compilation pipelines ------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DRIVER_PIPELINES_H
#define LEIBNIZ_DRIVER_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <string>

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
  /// The bytes of states that a strip of an elementwise loop keeps in
  /// registers across its steps (`lz-jam-steps`' `strip-bytes`); -1: the
  /// host's, getStripBytes().
  int64_t stripBytes = -1;
};

/// How the CUDA pipeline compiles: the CPU pipeline's options for the
/// host, and the device's.
struct CUDAPipelineOptions : CPUPipelineOptions {
  /// The GPU architecture, as `--gpu-arch`.
  std::string gpuArch = "sm_90";
  /// The CUDA toolkit (for libdevice and ptxas), or empty.
  std::string cudaPath;
  /// Assemble the PTX to a cubin with the toolkit's ptxas where it has one;
  /// else the PTX is left for the driver to compile when it loads it.
  bool cubin = true;
  /// Serialize the kernels (`gpu-module-to-binary`); without, the
  /// pipeline stops at the NVVM dialect.
  bool serialize = true;
  /// Threads per block of the kernels.
  unsigned blockSize = 256;
  /// Run the kernels on the host instead, each launch as a parallel loop
  /// over its blocks and threads, in ordinary memory: the mapping of loops
  /// to threads checked without a GPU.
  bool emulate = false;

  /// The toolkit's ptxas if `cubin` and it exists, else empty.
  std::string ptxasPath() const;
  /// The toolkit's libdevice if it exists, else empty.
  std::string libdevicePath() const;
};

/// Fails with an error at the kernel module if a kernel serialized as PTX
/// calls a function that it does not define: a math function of libdevice
/// when no toolkit had one.
mlir::LogicalResult verifyKernelsLinked(mlir::ModuleOp module);

/// The CUDA toolkit: `$CUDA_PATH`, `$CUDA_HOME` or `/usr/local/cuda`, the
/// first that is set or exists; empty if none.
std::string findCUDAToolkit();

/// Whether Leibniz was built with a CBLAS (OpenBLAS), which compiled code
/// calls for matrix products at -O3.
bool isBLASAvailable();

void registerPipelineDependencies(mlir::DialectRegistry &registry);

/// Registers every pass that the pipelines use and the named pipeline
/// `leibniz-cpu-to-llvm{opt-level=N checks=B}`.
void registerPipelines();

/// The lowering of lz to tensor, scf and linalg that the pipelines start
/// with (`leibniz emit --emit=linalg`), as a pass pipeline string: on the
/// CPU from -O2, the stacks' sweeps by blocks of columns and two steps of
/// elementwise loops per traversal, the scopes' ranges checked under
/// `checks`, then lower-lz, which reassociates float reductions at -O3 (on
/// the GPU from -O2).
std::string getLowerLzPipeline(const CPUPipelineOptions &options, bool gpu);

/// The CPU pipeline, from lz and ad (without transformations left) to the
/// LLVM dialect, as a pass pipeline string.
std::string getCPUPipeline(const CPUPipelineOptions &options = {});

/// The CUDA pipeline, from lz to the LLVM dialect for the host with the
/// kernels serialized (PTX or cubin) in `gpu.binary` operations.
std::string getCUDAPipeline(const CUDAPipelineOptions &options);

/// Runs the CUDA pipeline on `module` and verifyKernelsLinked.
mlir::LogicalResult runCUDAPipeline(mlir::ModuleOp module,
                                    const CUDAPipelineOptions &options);

mlir::LogicalResult buildCUDAPipeline(mlir::OpPassManager &pm,
                                      const CUDAPipelineOptions &options);

mlir::LogicalResult buildCPUPipeline(mlir::OpPassManager &pm,
                                     const CPUPipelineOptions &options = {});

} // namespace leibniz::driver

#endif // LEIBNIZ_DRIVER_PIPELINES_H
