//===- baselines.cpp - Hand-written C++ of the benchmark programs ---------===//
//
// Part of Leibniz.
//
// What a careful C++ programmer writes for each program: plain loops in the
// cache-friendly order, compiled with -O3 -march=native (without
// -ffast-math, so that floating-point sums are not reordered, as in
// Leibniz).
//
//===----------------------------------------------------------------------===//

#include "baselines.h"

#include <algorithm>
#include <cmath>
#include <vector>

double baselines::dot(const double *x, const double *y, long n) {
  double s = 0;
  for (long i = 0; i < n; ++i)
    s += x[i] * y[i];
  return s;
}

void baselines::matvec(const double *A, const double *x, double *y, long m,
                       long n) {
  for (long i = 0; i < m; ++i) {
    double s = 0;
    for (long j = 0; j < n; ++j)
      s += A[i * n + j] * x[j];
    y[i] = s;
  }
}

void baselines::matmul(const double *A, const double *B, double *C, long m,
                       long k, long n) {
  for (long i = 0; i < m; ++i) {
    double *row = C + i * n;
    for (long j = 0; j < n; ++j)
      row[j] = 0;
    for (long p = 0; p < k; ++p) {
      double a = A[i * k + p];
      const double *b = B + p * n;
      for (long j = 0; j < n; ++j)
        row[j] += a * b[j];
    }
  }
}

void baselines::softmaxRows(const double *X, double *Y, long m, long n) {
  for (long i = 0; i < m; ++i) {
    const double *x = X + i * n;
    double *y = Y + i * n;
    double top = -INFINITY;
    for (long j = 0; j < n; ++j)
      top = std::max(top, x[j]);
    double s = 0;
    for (long j = 0; j < n; ++j) {
      y[j] = std::exp(x[j] - top);
      s += y[j];
    }
    for (long j = 0; j < n; ++j)
      y[j] /= s;
  }
}

double baselines::logsumexp(const double *x, long n) {
  double top = -INFINITY;
  for (long i = 0; i < n; ++i)
    top = std::max(top, x[i]);
  double s = 0;
  for (long i = 0; i < n; ++i)
    s += std::exp(x[i] - top);
  return std::log(s) + top;
}

void baselines::conv3x3(const double *X, const double *K, double *Y, long c,
                        long h, long w, long f) {
  long W = w + 2, H = h + 2;
  for (long o = 0; o < f; ++o)
    for (long y = 0; y < h; ++y)
      for (long x = 0; x < w; ++x) {
        double s = 0;
        for (long ci = 0; ci < c; ++ci)
          for (long r = 0; r < 3; ++r)
            for (long q = 0; q < 3; ++q)
              s += X[(ci * H + y + r) * W + x + q] *
                   K[((o * c + ci) * 3 + r) * 3 + q];
        Y[(o * h + y) * w + x] = s;
      }
}

void baselines::mlp(const double *X, const double *W1, const double *b1,
                    const double *W2, const double *b2, double *Y, long b,
                    long i, long h, long o) {
  std::vector<double> H(b * h);
  matmul(X, W1, H.data(), b, i, h);
  for (long r = 0; r < b; ++r)
    for (long j = 0; j < h; ++j)
      H[r * h + j] = std::max(H[r * h + j] + b1[j], 0.0);
  matmul(H.data(), W2, Y, b, h, o);
  for (long r = 0; r < b; ++r)
    for (long j = 0; j < o; ++j)
      Y[r * o + j] += b2[j];
}

namespace {
double logsumexpOf(const std::vector<double> &v) {
  return baselines::logsumexp(v.data(), static_cast<long>(v.size()));
}
} // namespace

// As ADBench's C++ reference: Q_c (x_i - mu_c) with Q_c's diagonal
// exp(icf[c, 0:d]) and its strictly lower triangle icf[c, d:] in
// column-major order.
double baselines::gmm(const double *alphas, const double *means,
                      const double *icf, const double *x, double gamma,
                      int64_t m, long n, long d, long k) {
  long t = d * (d + 1) / 2;
  std::vector<double> sumQs(k), Qdiags(k * d), centered(d), Qxc(d), mainTerm(k);
  for (long c = 0; c < k; ++c) {
    double s = 0;
    for (long j = 0; j < d; ++j) {
      s += icf[c * t + j];
      Qdiags[c * d + j] = std::exp(icf[c * t + j]);
    }
    sumQs[c] = s;
  }
  double slse = 0;
  for (long i = 0; i < n; ++i) {
    for (long c = 0; c < k; ++c) {
      for (long j = 0; j < d; ++j)
        centered[j] = x[i * d + j] - means[c * d + j];
      for (long r = 0; r < d; ++r)
        Qxc[r] = Qdiags[c * d + r] * centered[r];
      long lparam = d;
      for (long q = 0; q < d; ++q)
        for (long r = q + 1; r < d; ++r)
          Qxc[r] += icf[c * t + lparam++] * centered[q];
      double sq = 0;
      for (long r = 0; r < d; ++r)
        sq += Qxc[r] * Qxc[r];
      mainTerm[c] = alphas[c] + sumQs[c] - 0.5 * sq;
    }
    slse += logsumexpOf(mainTerm);
  }
  std::vector<double> a(alphas, alphas + k);
  double prior = 0;
  for (long c = 0; c < k; ++c) {
    double frob = 0;
    for (long j = 0; j < d; ++j)
      frob += Qdiags[c * d + j] * Qdiags[c * d + j];
    for (long j = d; j < t; ++j)
      frob += icf[c * t + j] * icf[c * t + j];
    prior += 0.5 * gamma * gamma * frob - static_cast<double>(m) * sumQs[c];
  }
  return slse - static_cast<double>(n) * logsumexpOf(a) + prior;
}
