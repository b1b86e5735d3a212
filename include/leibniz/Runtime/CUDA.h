//===- CUDA.h - The CUDA target's runtime -----------------------*- C++ -*-===//
//
// Part of Leibniz.
//
// What code compiled for `--target=cuda` calls: the functions that MLIR's
// `gpu-to-llvm` lowering and the GPU dialect's translation emit
// (`mgpuModuleLoad`, `mgpuLaunchKernel`, ...), and the allocation
// functions of `finalize-memref-to-llvm{use-generic-functions}`, which
// allocate unified (managed) memory. They call the CUDA driver API, loaded
// with dlopen on first use, so that nothing needs CUDA to build or to run
// CPU code. A failing driver call stops the program through
// `leibniz_check_failed` with the call, its error name and its message
// (in a compiled library: the call returns LEIBNIZ_ERROR_CHECK). Kernel
// modules load with the program, so a module that fails to load, or a
// missing driver, is reported by the first launch of its kernels. Matrix
// products call cuBLAS, loaded with dlopen too (`$LEIBNIZ_CUBLAS`, else the
// libcublas of CUDA 13, 12 or 11), through CBLAS-like functions.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_RUNTIME_CUDA_H
#define LEIBNIZ_RUNTIME_CUDA_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace leibniz::runtime::cuda {

/// Loads the CUDA driver (`$LEIBNIZ_CUDA_DRIVER`, else `libcuda.so.1`),
/// initializes it and makes the primary context of device 0 current.
/// Returns an empty string on success, else what failed, e.g.
/// "the CUDA driver libcuda.so.1 cannot be loaded: ..." or "no CUDA
/// device". Later calls return the first call's result.
std::string initialize();

/// The name of device 0 and its compute capability, after initialize().
std::string describeDevice();

} // namespace leibniz::runtime::cuda

extern "C" {

void *mgpuModuleLoad(void *data, size_t size);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void *mgpuStreamCreate();
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemoryBytes, void *stream,
                      void **params, void **extra, size_t paramsCount);

/// Unified memory of at least `size` bytes (256-byte aligned), which the
/// host and every kernel can read and write. Freed buffers are kept, by
/// size and up to 4 GiB in all, for the next allocation of the same size
/// (and given back to the driver when an allocation fails): a loop that
/// makes a tensor each step reuses memory already on the device.
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *pointer);

/// Whether cuBLAS can be used: the driver and cuBLAS load, and its handle
/// is created (once, on the first call). Code compiled at -O3 calls the
/// functions below where this holds, and its own kernels otherwise.
int32_t leibniz_cuda_blas_available();

/// cblas_?gemm's contract for row-major, untransposed operands (the only
/// ones accepted) in unified memory: C = alpha A B + beta C, by cuBLAS,
/// finished when the call returns. A failure stops the program.
void leibniz_cuda_dgemm(int order, int transA, int transB, int m, int n, int k,
                        double alpha, const double *a, int lda, const double *b,
                        int ldb, double beta, double *c, int ldc);
void leibniz_cuda_sgemm(int order, int transA, int transB, int m, int n, int k,
                        float alpha, const float *a, int lda, const float *b,
                        int ldb, float beta, float *c, int ldc);

} // extern "C"

#endif // LEIBNIZ_RUNTIME_CUDA_H
