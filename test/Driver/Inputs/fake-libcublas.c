/* A stand-in for cuBLAS, for the tests of the CUDA target's matrix
 * products on machines without a GPU, with the stand-in driver's managed
 * memory (host memory). It computes what cuBLAS documents, column-major:
 * C = alpha op(A) op(B) + beta C, where X(i, j) is X[i + j * ldx], and
 * checks the leading dimensions as cuBLAS does. FAKE_CUBLAS=create-fails
 * makes cublasCreate_v2 fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kSuccess = 0, kNotInitialized = 1, kInvalidValue = 7 };

int cublasCreate_v2(void **handle) {
  const char *mode = getenv("FAKE_CUBLAS");
  if (mode && strcmp(mode, "create-fails") == 0)
    return kNotInitialized;
  *handle = (void *)1;
  return kSuccess;
}

static int max(int a, int b) { return a > b ? a : b; }

#define GEMM(NAME, T)                                                          \
  int NAME(void *handle, int transa, int transb, int m, int n, int k,          \
           const T *alpha, const T *a, int lda, const T *b, int ldb,           \
           const T *beta, T *c, int ldc) {                                     \
    if (!handle || m < 0 || n < 0 || k < 0 ||                                  \
        lda < max(1, transa ? k : m) || ldb < max(1, transb ? n : k) ||        \
        ldc < max(1, m))                                                       \
      return kInvalidValue;                                                    \
    fprintf(stderr, "fake cuBLAS: " #NAME " m=%d n=%d k=%d\n", m, n, k);      \
    for (int j = 0; j < n; ++j)                                                \
      for (int i = 0; i < m; ++i) {                                            \
        T sum = 0;                                                             \
        for (int l = 0; l < k; ++l)                                            \
          sum += (transa ? a[l + i * lda] : a[i + l * lda]) *                  \
                 (transb ? b[j + l * ldb] : b[l + j * ldb]);                   \
        c[i + j * ldc] = *alpha * sum + (*beta == 0 ? 0 : *beta * c[i + j * ldc]); \
      }                                                                        \
    return kSuccess;                                                           \
  }

GEMM(cublasDgemm_v2, double)
GEMM(cublasSgemm_v2, float)
