/* The 1000-step descent of bench/rev-ad.lz and its gradient, written by
 * hand in the loop order that the compiler does not use: the columns
 * outside, W at a time, the steps inside, a block's state and cotangents
 * in registers and its stack (W columns of every step) in the cache. It
 * measures how far that order would take the gradient against its
 * function (docs/ad.md, "What remains is bounded by the loop order"):
 *
 *   for w in 16 32 64; do
 *     cc -O3 -march=native -DW=$w bench/descent_order.c -o descent_order &&
 *       ./descent_order
 *   done
 *
 * The function runs its steps over all columns, as the compiled function
 * does. Each column's partial sum of the learning rate's cotangent is kept
 * apart, so that no sum is reassociated; the derivative is checked against
 * central differences. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef W
#define W 32
#endif

enum { N = 1024, STEPS = 1000 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* sum_i (x_T[i] - 0.5)^2 where x_{t+1} = x_t - lr * (a * x_t - 1). */
static double descent(const double *x0, const double *a, double lr, double *x) {
  memcpy(x, x0, sizeof(double) * N);
  for (int t = 0; t < STEPS; ++t)
    for (int i = 0; i < N; ++i)
      x[i] = x[i] - lr * (a[i] * x[i] - 1.0);
  double loss = 0.0;
  for (int i = 0; i < N; ++i)
    loss += (x[i] - 0.5) * (x[i] - 0.5);
  return loss;
}

/* The gradient with respect to x0, a and lr, by blocks of W columns. */
static void descentGrad(const double *x0, const double *a, double lr,
                        double *gx, double *ga, double *glr, double *stack) {
  double lrSums[W] = {0};
  for (int i0 = 0; i0 < N; i0 += W) {
    double x[W], av[W], xBar[W], aBar[W];
    for (int j = 0; j < W; ++j) {
      x[j] = x0[i0 + j];
      av[j] = a[i0 + j];
    }
    for (int t = 0; t < STEPS; ++t)
      for (int j = 0; j < W; ++j) {
        stack[t * W + j] = x[j];
        x[j] = x[j] - lr * (av[j] * x[j] - 1.0);
      }
    for (int j = 0; j < W; ++j) {
      xBar[j] = 2.0 * (x[j] - 0.5);
      aBar[j] = 0.0;
    }
    for (int t = STEPS - 1; t >= 0; --t)
      for (int j = 0; j < W; ++j) {
        double s = stack[t * W + j];
        double q = lr * xBar[j];
        lrSums[j] -= (av[j] * s - 1.0) * xBar[j];
        aBar[j] -= s * q;
        xBar[j] -= av[j] * q;
      }
    for (int j = 0; j < W; ++j) {
      gx[i0 + j] = xBar[j];
      ga[i0 + j] = aBar[j];
    }
  }
  double sum = 0.0;
  for (int j = 0; j < W; ++j)
    sum += lrSums[j];
  *glr = sum;
}

int main(void) {
  static double x0[N], a[N], x[N], gx[N], ga[N], stack[STEPS * W];
  double lr = 0.01, glr;
  for (int i = 0; i < N; ++i) {
    x0[i] = (i % 97) * 0.02 - 1.0;
    a[i] = 0.5 + (i % 89) / 89.0;
  }
  /* The best of 7 rounds, each a batch of at least 0.1 s of each. */
  double best[2] = {1e9, 1e9};
  volatile double sink;
  for (int round = 0; round < 7; ++round)
    for (int which = 0; which < 2; ++which) {
      int calls = 0;
      double start = now();
      do {
        if (which == 0)
          sink = descent(x0, a, lr, x);
        else
          descentGrad(x0, a, lr, gx, ga, &glr, stack);
        ++calls;
      } while (now() - start < 0.1);
      double t = (now() - start) / calls;
      if (t < best[which])
        best[which] = t;
    }
  (void)sink;
  double h = 1e-6;
  double fd = (descent(x0, a, lr + h, x) - descent(x0, a, lr - h, x)) / (2 * h);
  double relative = (glr - fd) / (fd != 0.0 ? fd : 1.0);
  printf("W = %d: function %.1f us, gradient %.1f us, gradient / function "
         "%.2f (d/dlr %.8g, central differences %.8g)\n",
         W, best[0] * 1e6, best[1] * 1e6, best[1] / best[0], glr, fd);
  return relative < 1e-5 && relative > -1e-5 ? 0 : 1;
}
