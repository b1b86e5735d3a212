//===- baselines.h - Hand-written C++ of the benchmark programs -*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_BENCH_BASELINES_H
#define LEIBNIZ_BENCH_BASELINES_H

#include <cstdint>

namespace baselines {
double dot(const double *x, const double *y, long n);
void matvec(const double *A, const double *x, double *y, long m, long n);
void matmul(const double *A, const double *B, double *C, long m, long k,
            long n);
void softmaxRows(const double *X, double *Y, long m, long n);
double logsumexp(const double *x, long n);
void conv3x3(const double *X, const double *K, double *Y, long c, long h,
             long w, long f);
void mlp(const double *X, const double *W1, const double *b1, const double *W2,
         const double *b2, double *Y, long b, long i, long h, long o);
double gmm(const double *alphas, const double *means, const double *icf,
           const double *x, double gamma, int64_t m, long n, long d, long k);
} // namespace baselines

#endif // LEIBNIZ_BENCH_BASELINES_H
