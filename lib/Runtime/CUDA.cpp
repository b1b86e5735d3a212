//===- CUDA.cpp - The CUDA target's runtime -------------------------------===//
//
// Part of Leibniz.
//
// The CUDA driver API is declared here by hand, the few types and entry
// points that the runtime uses, and loaded with dlopen: building Leibniz
// needs no CUDA headers and running CPU code needs no driver. Every entry
// point is looked up by the name that its current ABI has in libcuda
// (`cuMemFree_v2`, ...). cuBLAS is loaded the same way, for the matrix
// products, when the program first multiplies matrices.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/CUDA.h"
#include "leibniz/Runtime/Runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUdeviceptr = unsigned long long;

constexpr CUresult kSuccess = 0;
constexpr int kAttributeComputeCapabilityMajor = 75;
constexpr int kAttributeComputeCapabilityMinor = 76;
constexpr unsigned kMemAttachGlobal = 1;

/// The driver's entry points.
struct Driver {
  CUresult (*init)(unsigned);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetName)(char *, int, CUdevice);
  CUresult (*deviceGetAttribute)(int *, int, CUdevice);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*moduleLoadData)(CUmodule *, const void *);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*streamCreate)(CUstream *, unsigned);
  CUresult (*streamDestroy)(CUstream);
  CUresult (*streamSynchronize)(CUstream);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*memAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*getErrorName)(CUresult, const char **);
  CUresult (*getErrorString)(CUresult, const char **);
};

Driver driver;
CUdevice device = 0;
CUcontext context = nullptr;

/// What initialization found, and the first failure to load a kernel
/// module. Kernel modules load from global constructors, maybe before this
/// file's own, so these are constructed on first use.
struct State {
  std::once_flag initialized;
  std::string initializationError;
  std::mutex loadFailureMutex;
  std::string loadFailure;
  /// Freed allocations by size, for reuse: a loop that makes a new tensor
  /// each step then reuses memory that is already on the device, instead
  /// of allocating and populating new pages every step.
  std::mutex cacheMutex;
  std::unordered_multimap<size_t, CUdeviceptr> cached;
  std::unordered_set<CUdeviceptr> cachedSet;
  size_t cachedBytes = 0;
  /// The size of every allocation that is live or cached.
  std::unordered_map<CUdeviceptr, size_t> sizes;
};

/// The most bytes the cache keeps; buffers freed beyond go back to the
/// driver.
constexpr size_t kMaxCachedBytes = size_t(4) << 30;

/// Never destroyed: modules unload from global destructors, in an order
/// with the C++ runtime's own that nothing fixes.
State &getState() {
  static State *state = new State;
  return *state;
}

/// cuBLAS's entry points (the `_v2` API), and its handle on the primary
/// context.
struct Blas {
  using Dgemm = int (*)(void *, int, int, int, int, int, const double *,
                        const double *, int, const double *, int,
                        const double *, double *, int);
  using Sgemm = int (*)(void *, int, int, int, int, int, const float *,
                        const float *, int, const float *, int, const float *,
                        float *, int);
  int (*create)(void **);
  Dgemm dgemm;
  Sgemm sgemm;
  void *handle = nullptr;
  std::once_flag loaded;
  /// Why cuBLAS cannot be used; empty when it can.
  std::string error;
};

/// Never destroyed, as State.
Blas &getBlas() {
  static Blas *blas = new Blas;
  return *blas;
}

/// The CBLAS enumerators of the functions' contract.
constexpr int kCblasRowMajor = 101;
constexpr int kCblasNoTrans = 111;

/// cuBLAS's operation "not transposed", and its success status.
constexpr int kBlasOpN = 0;
constexpr int kBlasSuccess = 0;

/// Set once the driver is initialized; plain data, valid at any time.
bool driverReady = false;

/// "cuX failed: NAME (message)".
std::string describeFailure(const char *call, CUresult result) {
  const char *name = nullptr, *message = nullptr;
  if (driver.getErrorName)
    driver.getErrorName(result, &name);
  if (driver.getErrorString)
    driver.getErrorString(result, &message);
  std::string text = std::string(call) + " failed: ";
  text += name ? name : "error " + std::to_string(result);
  if (message)
    text += std::string(" (") + message + ")";
  return text;
}

std::string load() {
  const char *path = std::getenv("LEIBNIZ_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    return std::string("the CUDA driver ") + path +
           " cannot be loaded (is the NVIDIA driver installed?): " +
           (reason ? reason : "unknown reason");
  }
  std::string missing;
  auto bind = [&](auto &entry, const char *name) {
    entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(
        dlsym(library, name));
    if (!entry && missing.empty())
      missing = name;
  };
  bind(driver.init, "cuInit");
  bind(driver.deviceGetCount, "cuDeviceGetCount");
  bind(driver.deviceGet, "cuDeviceGet");
  bind(driver.deviceGetName, "cuDeviceGetName");
  bind(driver.deviceGetAttribute, "cuDeviceGetAttribute");
  bind(driver.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  bind(driver.ctxSetCurrent, "cuCtxSetCurrent");
  bind(driver.moduleLoadData, "cuModuleLoadData");
  bind(driver.moduleUnload, "cuModuleUnload");
  bind(driver.moduleGetFunction, "cuModuleGetFunction");
  bind(driver.streamCreate, "cuStreamCreate");
  bind(driver.streamDestroy, "cuStreamDestroy_v2");
  bind(driver.streamSynchronize, "cuStreamSynchronize");
  bind(driver.launchKernel, "cuLaunchKernel");
  bind(driver.memAllocManaged, "cuMemAllocManaged");
  bind(driver.memFree, "cuMemFree_v2");
  bind(driver.getErrorName, "cuGetErrorName");
  bind(driver.getErrorString, "cuGetErrorString");
  if (!missing.empty())
    return std::string("the CUDA driver ") + path + " has no " + missing +
           "; it is too old or not libcuda";

  if (CUresult result = driver.init(0); result != kSuccess)
    return describeFailure("cuInit", result);
  int count = 0;
  if (CUresult result = driver.deviceGetCount(&count); result != kSuccess)
    return describeFailure("cuDeviceGetCount", result);
  if (count == 0)
    return "no CUDA device";
  if (CUresult result = driver.deviceGet(&device, 0); result != kSuccess)
    return describeFailure("cuDeviceGet", result);
  if (CUresult result = driver.primaryCtxRetain(&context, device);
      result != kSuccess)
    return describeFailure("cuDevicePrimaryCtxRetain", result);
  driverReady = true;
  return {};
}

void recordLoadFailure(const std::string &failure) {
  State &state = getState();
  std::lock_guard<std::mutex> lock(state.loadFailureMutex);
  if (state.loadFailure.empty())
    state.loadFailure = failure;
}

/// Stops the program with `call`'s failure.
[[noreturn]] void fail(const char *call, CUresult result) {
  static thread_local char message[1024];
  std::snprintf(message, sizeof(message), "CUDA: %s",
                describeFailure(call, result).c_str());
  leibniz_check_failed(message);
}

/// Initializes once; returns the error ("" on success). The string lives
/// as long as the program.
const std::string &initializeOnce() {
  State &state = getState();
  std::call_once(state.initialized,
                 [&] { state.initializationError = load(); });
  return state.initializationError;
}

/// Makes sure the driver is loaded and the context current on this thread,
/// else stops the program. (The context is set on every call: another
/// library in the process may have made another one current.) A failed
/// check jumps away, so no object with a destructor and no lock may be
/// live where one is reported.
void prepare() {
  const std::string &error = initializeOnce();
  if (!error.empty()) {
    static thread_local char message[1024];
    std::snprintf(message, sizeof(message), "CUDA: %s", error.c_str());
    leibniz_check_failed(message);
  }
  if (CUresult result = driver.ctxSetCurrent(context); result != kSuccess)
    fail("cuCtxSetCurrent", result);
}

void check(const char *call, CUresult result) {
  if (result != kSuccess)
    fail(call, result);
}

/// Loads cuBLAS (`$LEIBNIZ_CUBLAS`, else the libcublas of CUDA 13, 12 or
/// 11) and creates its handle on the primary context; returns what failed.
std::string loadBlas() {
  if (const std::string &error = initializeOnce(); !error.empty())
    return error;
  Blas &blas = getBlas();
  const char *variable = std::getenv("LEIBNIZ_CUBLAS");
  std::vector<const char *> paths = {"libcublas.so.13", "libcublas.so.12",
                                     "libcublas.so.11"};
  if (variable && *variable)
    paths = {variable};
  std::string reasons;
  void *library = nullptr;
  for (const char *path : paths) {
    library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library)
      break;
    const char *reason = dlerror();
    reasons +=
        std::string(reasons.empty() ? "" : "; ") + (reason ? reason : path);
  }
  if (!library)
    return "cuBLAS cannot be loaded: " + reasons;
  blas.create = reinterpret_cast<decltype(blas.create)>(
      dlsym(library, "cublasCreate_v2"));
  blas.dgemm = reinterpret_cast<Blas::Dgemm>(dlsym(library, "cublasDgemm_v2"));
  blas.sgemm = reinterpret_cast<Blas::Sgemm>(dlsym(library, "cublasSgemm_v2"));
  if (!blas.create || !blas.dgemm || !blas.sgemm)
    return "cuBLAS has no cublasCreate_v2, cublasDgemm_v2 or "
           "cublasSgemm_v2";
  if (CUresult result = driver.ctxSetCurrent(context); result != kSuccess)
    return describeFailure("cuCtxSetCurrent", result);
  if (int status = blas.create(&blas.handle); status != kBlasSuccess)
    return "cublasCreate_v2 failed: status " + std::to_string(status);
  return {};
}

/// Whether cuBLAS is loaded, loading it on first use.
bool isBlasLoaded() {
  Blas &blas = getBlas();
  std::call_once(blas.loaded, [&] { blas.error = loadBlas(); });
  return blas.error.empty();
}

/// C = alpha A B + beta C for row-major A (m x k), B (k x n) and C (m x n)
/// in unified memory, by cuBLAS: in its column-major terms, C^T = B^T A^T.
/// Stops the program when cuBLAS fails; returns when C is written.
template <typename T, typename Gemm>
void gemm(Gemm Blas::*function, const char *name, int order, int transA,
          int transB, int m, int n, int k, T alpha, const T *a, int lda,
          const T *b, int ldb, T beta, T *c, int ldc) {
  prepare();
  if (order != kCblasRowMajor || transA != kCblasNoTrans ||
      transB != kCblasNoTrans)
    leibniz_check_failed("CUDA: a matrix product that is not row-major and "
                         "untransposed");
  if (!isBlasLoaded()) {
    static thread_local char message[1024];
    std::snprintf(message, sizeof(message), "CUDA: %s",
                  getBlas().error.c_str());
    leibniz_check_failed(message);
  }
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0) {
    // Nothing to multiply; cuBLAS would reject the empty operands'
    // leading dimensions.
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j)
        c[size_t(i) * ldc + j] =
            beta == T(0) ? T(0) : beta * c[size_t(i) * ldc + j];
    return;
  }
  // The stride of a single row is never used, but cuBLAS checks it.
  lda = m == 1 ? std::max(lda, k) : lda;
  ldb = k == 1 ? std::max(ldb, n) : ldb;
  ldc = m == 1 ? std::max(ldc, n) : ldc;
  Blas &blas = getBlas();
  if (int status = (blas.*function)(blas.handle, kBlasOpN, kBlasOpN, n, m, k,
                                    &alpha, b, ldb, a, lda, &beta, c, ldc);
      status != kBlasSuccess) {
    static thread_local char message[256];
    std::snprintf(message, sizeof(message), "CUDA: %s failed: status %d", name,
                  status);
    leibniz_check_failed(message);
  }
  // On the handle's default stream; the host and later kernels read C.
  check("cuStreamSynchronize", driver.streamSynchronize(nullptr));
}

} // namespace

std::string leibniz::runtime::cuda::initialize() { return initializeOnce(); }

std::string leibniz::runtime::cuda::describeDevice() {
  if (!initialize().empty())
    return {};
  char name[256] = {0};
  int major = 0, minor = 0;
  driver.deviceGetName(name, sizeof(name) - 1, device);
  driver.deviceGetAttribute(&major, kAttributeComputeCapabilityMajor, device);
  driver.deviceGetAttribute(&minor, kAttributeComputeCapabilityMinor, device);
  return std::string(name) + " (sm_" + std::to_string(major) +
         std::to_string(minor) + ")";
}

extern "C" {

void *mgpuModuleLoad(void *data, size_t size) {
  // Modules load when the program does (a global constructor), outside
  // any call that could report an error: a failure is kept, and reported
  // by the first launch of one of the module's kernels.
  if (!leibniz::runtime::cuda::initialize().empty())
    return nullptr;
  if (CUresult result = driver.ctxSetCurrent(context); result != kSuccess) {
    recordLoadFailure(describeFailure("cuCtxSetCurrent", result));
    return nullptr;
  }
  CUmodule module = nullptr;
  // A cubin is an ELF file; PTX text must end with a NUL for the driver.
  static const char elfMagic[] = {0x7f, 'E', 'L', 'F'};
  CUresult result;
  if (size >= 4 && std::memcmp(data, elfMagic, 4) == 0) {
    result = driver.moduleLoadData(&module, data);
  } else {
    std::string ptx(static_cast<const char *>(data), size);
    result = driver.moduleLoadData(&module, ptx.c_str());
  }
  if (result != kSuccess) {
    recordLoadFailure(describeFailure("cuModuleLoadData", result));
    return nullptr;
  }
  return module;
}

void mgpuModuleUnload(void *module) {
  // Unloading at exit may find the driver already shut down; nothing is
  // left to free then.
  if (module && driverReady)
    driver.moduleUnload(module);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  prepare();
  if (!module) {
    static thread_local char message[1024];
    {
      State &state = getState();
      std::lock_guard<std::mutex> lock(state.loadFailureMutex);
      std::snprintf(message, sizeof(message),
                    "CUDA: the kernels of this program could not be "
                    "loaded: %s",
                    state.loadFailure.c_str());
    }
    leibniz_check_failed(message);
  }
  CUfunction function = nullptr;
  check("cuModuleGetFunction",
        driver.moduleGetFunction(&function, module, name));
  return function;
}

void *mgpuStreamCreate() {
  prepare();
  CUstream stream = nullptr;
  check("cuStreamCreate", driver.streamCreate(&stream, /*flags=*/0));
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  prepare();
  check("cuStreamDestroy", driver.streamDestroy(stream));
}

void mgpuStreamSynchronize(void *stream) {
  prepare();
  check("cuStreamSynchronize", driver.streamSynchronize(stream));
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemoryBytes, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  prepare();
  check("cuLaunchKernel",
        driver.launchKernel(function, gridX, gridY, gridZ, blockX, blockY,
                            blockZ, sharedMemoryBytes, stream, params, extra));
}

void *_mlir_memref_to_llvm_alloc(size_t size) {
  prepare();
  size = size ? size : 1;
  State &state = getState();
  CUdeviceptr pointer = 0;
  CUresult result;
  {
    std::lock_guard<std::mutex> lock(state.cacheMutex);
    if (auto it = state.cached.find(size); it != state.cached.end()) {
      pointer = it->second;
      state.cached.erase(it);
      state.cachedSet.erase(pointer);
      state.cachedBytes -= size;
      return reinterpret_cast<void *>(pointer);
    }
    result = driver.memAllocManaged(&pointer, size, kMemAttachGlobal);
    if (result != kSuccess && !state.cached.empty()) {
      // Out of memory, maybe: give the cache back and try again.
      for (auto [cachedSize, cachedPointer] : state.cached) {
        driver.memFree(cachedPointer);
        state.sizes.erase(cachedPointer);
      }
      state.cached.clear();
      state.cachedSet.clear();
      state.cachedBytes = 0;
      result = driver.memAllocManaged(&pointer, size, kMemAttachGlobal);
    }
    if (result == kSuccess)
      state.sizes[pointer] = size;
  }
  check("cuMemAllocManaged", result);
  return reinterpret_cast<void *>(pointer);
}

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  // Managed allocations are aligned to 256 bytes at least, and the
  // pipeline asks for 64.
  if (alignment > 256)
    leibniz_check_failed("CUDA: an allocation asks for an alignment "
                         "of more than 256 bytes");
  return _mlir_memref_to_llvm_alloc(size);
}

void _mlir_memref_to_llvm_free(void *pointer) {
  if (!pointer)
    return;
  State &state = getState();
  auto address = reinterpret_cast<CUdeviceptr>(pointer);
  const char *problem = nullptr;
  {
    std::lock_guard<std::mutex> lock(state.cacheMutex);
    auto it = state.sizes.find(address);
    if (it == state.sizes.end()) {
      problem = "CUDA: a buffer that the runtime did not allocate is freed";
    } else if (state.cachedSet.count(address)) {
      problem = "CUDA: a buffer is freed twice";
    } else if (state.cachedBytes + it->second <= kMaxCachedBytes) {
      state.cached.emplace(it->second, address);
      state.cachedSet.insert(address);
      state.cachedBytes += it->second;
    } else {
      state.sizes.erase(it);
      // Maybe from another thread or library's context: make ours current.
      if (driverReady)
        driver.ctxSetCurrent(context);
      driver.memFree(address);
    }
  }
  if (problem)
    leibniz_check_failed(problem);
}

int32_t leibniz_cuda_blas_available() {
  return initializeOnce().empty() && isBlasLoaded();
}

void leibniz_cuda_dgemm(int order, int transA, int transB, int m, int n, int k,
                        double alpha, const double *a, int lda, const double *b,
                        int ldb, double beta, double *c, int ldc) {
  gemm(&Blas::dgemm, "cublasDgemm_v2", order, transA, transB, m, n, k, alpha, a,
       lda, b, ldb, beta, c, ldc);
}

void leibniz_cuda_sgemm(int order, int transA, int transB, int m, int n, int k,
                        float alpha, const float *a, int lda, const float *b,
                        int ldb, float beta, float *c, int ldc) {
  gemm(&Blas::sgemm, "cublasSgemm_v2", order, transA, transB, m, n, k, alpha, a,
       lda, b, ldb, beta, c, ldc);
}

} // extern "C"
