//===- harness.cpp - Times the benchmark programs and their baselines -----===//
//
// Part of Leibniz.
//
// Runs each benchmark case with Leibniz (the library that `leibniz compile`
// makes of programs.lz), with hand-written C++ (baselines.cpp) and, for the
// matrix products, with OpenBLAS; checks that they agree; prints one line
// per case and implementation: case, implementation, elements, median
// seconds per call, relative difference from the C++ result.
//
//===----------------------------------------------------------------------===//

#include "baselines.h"
#include "bench.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

/// The median time of one call of `run`, from samples of at least ~20 ms.
double timeIt(const std::function<void()> &run) {
  run(); // Warm up.
  int reps = 1;
  for (;;) {
    auto start = Clock::now();
    for (int r = 0; r < reps; ++r)
      run();
    double elapsed =
        std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed > 0.02 || reps > (1 << 24))
      break;
    reps *= 2;
  }
  std::vector<double> samples;
  for (int s = 0; s < 7; ++s) {
    auto start = Clock::now();
    for (int r = 0; r < reps; ++r)
      run();
    samples.push_back(
        std::chrono::duration<double>(Clock::now() - start).count() / reps);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

std::vector<double> randomVector(size_t n, unsigned seed, double lo = -1,
                                 double hi = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double &x : v)
    x = dist(rng);
  return v;
}

double relativeDifference(const double *a, const double *b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num = std::max(num, std::fabs(a[i] - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return den > 0 ? num / den : num;
}

/// Prints a result line; `difference` is evaluated after the timing.
void report(const std::string &name, const char *impl, long elements,
            double seconds, const std::function<double()> &difference) {
  std::printf("%s\t%s\t%ld\t%.9g\t%.3g\n", name.c_str(), impl, elements,
              seconds, difference());
  std::fflush(stdout);
}

void check(int status) {
  if (status != LEIBNIZ_OK) {
    std::fprintf(stderr, "leibniz: %s\n", bench_last_error());
    std::exit(1);
  }
}

} // namespace

int main(int argc, char **argv) {
  std::string only = argc > 1 ? argv[1] : "";
  auto wanted = [&](const std::string &name) {
    return only.empty() || name.rfind(only, 0) == 0;
  };

  for (long n : {1000L, 100000L, 1000000L}) {
    std::string name = "dot n=" + std::to_string(n);
    if (!wanted(name))
      continue;
    auto x = randomVector(n, 1), y = randomVector(n, 2);
    int64_t shape[1] = {n};
    double expected = baselines::dot(x.data(), y.data(), n), got = 0;
    report(name, "c++", 2 * n,
           timeIt([&] { expected = baselines::dot(x.data(), y.data(), n); }),
           [&] { return static_cast<double>(0); });
    bench_dot_result r;
    report(name, "leibniz", 2 * n, timeIt([&] {
             check(bench_dot(x.data(), shape, y.data(), shape, &r));
             got = r.r0;
           }),
           [&] {
             return static_cast<double>(relativeDifference(&got, &expected, 1));
           });
  }

  for (long n : {256L, 1000L, 2000L}) {
    std::string name = "matvec " + std::to_string(n) + "x" + std::to_string(n);
    if (!wanted(name))
      continue;
    auto A = randomVector(n * n, 3), x = randomVector(n, 4);
    std::vector<double> expected(n);
    int64_t aShape[2] = {n, n}, xShape[1] = {n};
    report(name, "c++", n * n, timeIt([&] {
             baselines::matvec(A.data(), x.data(), expected.data(), n, n);
           }),
           [&] { return static_cast<double>(0); });
    double difference = 0;
    report(name, "leibniz", n * n, timeIt([&] {
             bench_matvec_result r;
             check(bench_matvec(A.data(), aShape, x.data(), xShape, &r));
             difference = relativeDifference(r.r0, expected.data(), n);
             std::free(r.r0);
           }),
           [&] { return static_cast<double>(difference); });
  }

  for (long n : {64L, 256L, 512L, 1024L}) {
    std::string name = "matmul " + std::to_string(n);
    if (!wanted(name))
      continue;
    auto A = randomVector(n * n, 5), B = randomVector(n * n, 6);
    std::vector<double> expected(n * n), blas(n * n);
    int64_t shape[2] = {n, n};
    report(name, "c++", n * n, timeIt([&] {
             baselines::matmul(A.data(), B.data(), expected.data(), n, n, n);
           }),
           [&] { return static_cast<double>(0); });
    report(name, "openblas", n * n, timeIt([&] {
             cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
                         1.0, A.data(), n, B.data(), n, 0.0, blas.data(), n);
           }),
           [&] {
             return static_cast<double>(
                 relativeDifference(blas.data(), expected.data(), n * n));
           });
    double difference = 0;
    report(name, "leibniz", n * n, timeIt([&] {
             bench_matmul_result r;
             check(bench_matmul(A.data(), shape, B.data(), shape, &r));
             difference = relativeDifference(r.r0, expected.data(), n * n);
             std::free(r.r0);
           }),
           [&] { return static_cast<double>(difference); });
  }

  for (auto [m, n] : {std::pair<long, long>{100, 100}, {256, 1000}}) {
    std::string name = "softmax " + std::to_string(m) + "x" + std::to_string(n);
    if (!wanted(name))
      continue;
    auto X = randomVector(m * n, 7, -5, 5);
    std::vector<double> expected(m * n);
    int64_t shape[2] = {m, n};
    report(name, "c++", m * n, timeIt([&] {
             baselines::softmaxRows(X.data(), expected.data(), m, n);
           }),
           [&] { return static_cast<double>(0); });
    double difference = 0;
    report(name, "leibniz", m * n, timeIt([&] {
             bench_softmax_rows_result r;
             check(bench_softmax_rows(X.data(), shape, &r));
             difference = relativeDifference(r.r0, expected.data(), m * n);
             std::free(r.r0);
           }),
           [&] { return static_cast<double>(difference); });
  }

  for (long n : {1000L, 100000L, 1000000L}) {
    std::string name = "logsumexp n=" + std::to_string(n);
    if (!wanted(name))
      continue;
    auto x = randomVector(n, 8, -10, 10);
    int64_t shape[1] = {n};
    double expected = 0, got = 0;
    report(name, "c++", n,
           timeIt([&] { expected = baselines::logsumexp(x.data(), n); }),
           [&] { return static_cast<double>(0); });
    report(name, "leibniz", n, timeIt([&] {
             bench_lse_result r;
             check(bench_lse(x.data(), shape, &r));
             got = r.r0;
           }),
           [&] {
             return static_cast<double>(relativeDifference(&got, &expected, 1));
           });
  }

  {
    long c = 8, h = 64, w = 64, f = 16;
    std::string name = "conv3x3 8x66x66 f=16";
    if (wanted(name)) {
      auto X = randomVector(c * (h + 2) * (w + 2), 9);
      auto K = randomVector(f * c * 9, 10);
      std::vector<double> expected(f * h * w);
      int64_t xShape[3] = {c, h + 2, w + 2}, kShape[4] = {f, c, 3, 3};
      report(name, "c++", X.size(), timeIt([&] {
               baselines::conv3x3(X.data(), K.data(), expected.data(), c, h, w,
                                  f);
             }),
             [&] { return static_cast<double>(0); });
      double difference = 0;
      report(name, "leibniz", X.size(), timeIt([&] {
               bench_conv3x3_result r;
               check(bench_conv3x3(X.data(), xShape, K.data(), kShape, &r));
               difference =
                   relativeDifference(r.r0, expected.data(), f * h * w);
               std::free(r.r0);
             }),
             [&] { return static_cast<double>(difference); });
    }
  }

  {
    long b = 64, i = 256, h = 256, o = 10;
    std::string name = "mlp 64x256x256x10";
    if (wanted(name)) {
      auto X = randomVector(b * i, 11), W1 = randomVector(i * h, 12),
           b1 = randomVector(h, 13), W2 = randomVector(h * o, 14),
           b2 = randomVector(o, 15);
      std::vector<double> expected(b * o);
      int64_t xs[2] = {b, i}, w1s[2] = {i, h}, b1s[1] = {h}, w2s[2] = {h, o},
              b2s[1] = {o};
      report(name, "c++", X.size() + W1.size(), timeIt([&] {
               baselines::mlp(X.data(), W1.data(), b1.data(), W2.data(),
                              b2.data(), expected.data(), b, i, h, o);
             }),
             [&] { return static_cast<double>(0); });
      double difference = 0;
      report(name, "leibniz", X.size() + W1.size(), timeIt([&] {
               bench_mlp_result r;
               check(bench_mlp(X.data(), xs, W1.data(), w1s, b1.data(), b1s,
                               W2.data(), w2s, b2.data(), b2s, &r));
               difference = relativeDifference(r.r0, expected.data(), b * o);
               std::free(r.r0);
             }),
             [&] { return static_cast<double>(difference); });
    }
  }

  for (auto [n, d, k] :
       {std::tuple<long, long, long>{1000, 10, 5}, {1000, 64, 25}}) {
    std::string name = "gmm n=" + std::to_string(n) +
                       " d=" + std::to_string(d) + " k=" + std::to_string(k);
    if (!wanted(name))
      continue;
    long t = d * (d + 1) / 2;
    auto alphas = randomVector(k, 16), means = randomVector(k * d, 17),
         icf = randomVector(k * t, 18, -0.5, 0.5), x = randomVector(n * d, 19);
    double gamma = 1.0;
    int64_t m = 0;
    int64_t as[1] = {k}, ms[2] = {k, d}, is[2] = {k, t}, xs[2] = {n, d};
    double expected = 0, got = 0;
    report(name, "c++", n * d, timeIt([&] {
             expected = baselines::gmm(alphas.data(), means.data(), icf.data(),
                                       x.data(), gamma, m, n, d, k);
           }),
           [&] { return static_cast<double>(0); });
    report(name, "leibniz", n * d, timeIt([&] {
             bench_gmm_result r;
             check(bench_gmm(alphas.data(), as, means.data(), ms, icf.data(),
                             is, x.data(), xs, gamma, m, &r));
             got = r.r0;
           }),
           [&] {
             return static_cast<double>(relativeDifference(&got, &expected, 1));
           });
  }
  return 0;
}
