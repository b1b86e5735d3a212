/* A stand-in for the CUDA driver, libcuda, for the tests of the CUDA
 * runtime's failure paths on machines without a GPU. FAKE_CUDA selects what
 * fails: "init" (cuInit reports CUDA_ERROR_NO_DEVICE), "no-device"
 * (cuDeviceGetCount reports 0 devices), "no-kernels" (everything works,
 * managed memory is malloc's, but no kernel module loads:
 * CUDA_ERROR_NO_BINARY_FOR_GPU; streams synchronize, for the stand-in
 * cuBLAS), else the primary context fails. Nothing here runs a kernel. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int mode(const char *name) {
  const char *value = getenv("FAKE_CUDA");
  return value && strcmp(value, name) == 0;
}

int cuInit(unsigned flags) { return mode("init") ? 100 : 0; }
int cuDeviceGetCount(int *count) {
  *count = mode("no-device") ? 0 : 1;
  return 0;
}
int cuDeviceGet(int *device, int ordinal) { *device = ordinal; return 0; }
int cuDeviceGetName(char *name, int length, int device) {
  strncpy(name, "fake", length);
  return 0;
}
int cuDeviceGetAttribute(int *value, int attribute, int device) {
  *value = 0;
  return 0;
}
int cuDevicePrimaryCtxRetain(void **context, int device) {
  return mode("no-kernels") ? 0 : 999;
}
int cuCtxSetCurrent(void *context) { return mode("no-kernels") ? 0 : 999; }
int cuModuleLoadData(void **module, const void *image) {
  return mode("no-kernels") ? 209 : 999;
}
int cuModuleUnload(void *module) { return 999; }
int cuModuleGetFunction(void **function, void *module, const char *name) {
  return 999;
}
int cuStreamCreate(void **stream, unsigned flags) { return 999; }
int cuStreamDestroy_v2(void *stream) { return 999; }
int cuStreamSynchronize(void *stream) {
  return mode("no-kernels") ? 0 : 999;
}
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                   unsigned by, unsigned bz, unsigned shared, void *stream,
                   void **params, void **extra) {
  return 999;
}
int cuMemAllocManaged(unsigned long long *pointer, size_t size,
                      unsigned flags) {
  if (!mode("no-kernels"))
    return 999;
  *pointer = (unsigned long long)malloc(size);
  return 0;
}
int cuMemFree_v2(unsigned long long pointer) {
  if (!mode("no-kernels"))
    return 999;
  free((void *)pointer);
  return 0;
}
int cuGetErrorName(int error, const char **name) {
  *name = error == 100   ? "CUDA_ERROR_NO_DEVICE"
          : error == 209 ? "CUDA_ERROR_NO_BINARY_FOR_GPU"
                         : "CUDA_ERROR_UNKNOWN";
  return 0;
}
int cuGetErrorString(int error, const char **message) {
  *message = error == 100   ? "no CUDA-capable device is detected"
             : error == 209 ? "no kernel image is available for execution on "
                              "the device"
                            : "unknown error";
  return 0;
}
