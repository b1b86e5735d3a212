// Hand-written reverse-mode gradients of bench/rev-ad.lz's dot product,
// least squares, MLP and Gaussian mixture model, the baseline of bench/rev_ad.py: plain loops in
// C++, compiled at -O2 like the Leibniz code they are compared with, with
// the loop orders a careful programmer would pick (rows contiguous). Each
// computes the gradient with respect to the same arguments as the
// corresponding `*_grad` definition, into buffers the caller provides.

#include <cmath>
#include <cstdint>
#include <vector>

extern "C" {

void dot_grad(const double *x, const double *y, int64_t n, double *gx,
              double *gy) {
  for (int64_t i = 0; i < n; ++i) {
    gx[i] = y[i];
    gy[i] = x[i];
  }
}

// 0.5 * mean((X w - y)^2) with respect to w, X and y.
void lsq_grad(const double *w, const double *X, const double *y, int64_t n,
              int64_t d, double *gw, double *gX, double *gy) {
  for (int64_t j = 0; j < d; ++j)
    gw[j] = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double r = -y[i];
    const double *row = X + i * d;
    for (int64_t j = 0; j < d; ++j)
      r += row[j] * w[j];
    double dr = r / double(n);
    gy[i] = -dr;
    double *grow = gX + i * d;
    for (int64_t j = 0; j < d; ++j) {
      gw[j] += row[j] * dr;
      grow[j] = dr * w[j];
    }
  }
}

// mean((relu(X W1 + b1) W2 - T)^2) with respect to W1, b1 and W2.
void mlp_grad(const double *X, const double *W1, const double *b1,
              const double *W2, const double *T, int64_t b, int64_t in,
              int64_t h, int64_t o, double *gW1, double *gb1, double *gW2) {
  std::vector<double> Z(b * h), H(b * h), dY(b * o), dZ(b * h);
  for (int64_t r = 0; r < b; ++r) {
    double *z = &Z[r * h];
    for (int64_t j = 0; j < h; ++j)
      z[j] = b1[j];
    for (int64_t k = 0; k < in; ++k) {
      double xv = X[r * in + k];
      const double *wrow = W1 + k * h;
      for (int64_t j = 0; j < h; ++j)
        z[j] += xv * wrow[j];
    }
    for (int64_t j = 0; j < h; ++j)
      H[r * h + j] = z[j] > 0.0 ? z[j] : 0.0;
    double *dy = &dY[r * o];
    for (int64_t c = 0; c < o; ++c)
      dy[c] = -T[r * o + c];
    for (int64_t j = 0; j < h; ++j) {
      double hv = H[r * h + j];
      const double *w2 = W2 + j * o;
      for (int64_t c = 0; c < o; ++c)
        dy[c] += hv * w2[c];
    }
    for (int64_t c = 0; c < o; ++c)
      dy[c] *= 2.0 / double(b * o);
  }
  for (int64_t i = 0; i < h * o; ++i)
    gW2[i] = 0.0;
  for (int64_t i = 0; i < in * h; ++i)
    gW1[i] = 0.0;
  for (int64_t j = 0; j < h; ++j)
    gb1[j] = 0.0;
  for (int64_t r = 0; r < b; ++r) {
    const double *dy = &dY[r * o];
    for (int64_t j = 0; j < h; ++j) {
      double hv = H[r * h + j];
      double *g = gW2 + j * o;
      const double *w2 = W2 + j * o;
      double dh = 0.0;
      for (int64_t c = 0; c < o; ++c) {
        g[c] += hv * dy[c];
        dh += dy[c] * w2[c];
      }
      dZ[r * h + j] = Z[r * h + j] > 0.0 ? dh : 0.0;
    }
    const double *dz = &dZ[r * h];
    for (int64_t j = 0; j < h; ++j)
      gb1[j] += dz[j];
    for (int64_t k = 0; k < in; ++k) {
      double xv = X[r * in + k];
      double *g = gW1 + k * h;
      for (int64_t j = 0; j < h; ++j)
        g[j] += xv * dz[j];
    }
  }
}

// The GMM objective of ADBench (bench/rev-ad.lz's `gmm`) with respect to
// alphas, means and icf. Each component's Q = diag(exp(icf[:d])) + L, with
// L's strictly lower part stored column by column in icf[d:]. Per point:
// z = Q (x - mean), main = alpha + sum(icf[:d]) - |z|^2 / 2, and the
// log-sum-exp over components weighs each component's reverse by its
// softmax weight.
void gmm_grad(const double *alphas, const double *means, const double *icf,
              const double *x, double gamma, int64_t m, int64_t n, int64_t d,
              int64_t k, double *galphas, double *gmeans, double *gicf) {
  int64_t t = d * (d + 1) / 2;
  std::vector<double> qdiag(k * d), sumq(k, 0.0), xc(k * d), z(k * d),
      main(k), dz(d);
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < d; ++j) {
      qdiag[c * d + j] = std::exp(icf[c * t + j]);
      sumq[c] += icf[c * t + j];
    }
  for (int64_t c = 0; c < k; ++c)
    galphas[c] = 0.0;
  for (int64_t i = 0; i < k * d; ++i)
    gmeans[i] = 0.0;
  for (int64_t i = 0; i < k * t; ++i)
    gicf[i] = 0.0;
  for (int64_t p = 0; p < n; ++p) {
    const double *xp = x + p * d;
    double top = -INFINITY;
    for (int64_t c = 0; c < k; ++c) {
      const double *mu = means + c * d;
      const double *l = icf + c * t + d;
      double *e = &xc[c * d], *zc = &z[c * d];
      for (int64_t j = 0; j < d; ++j) {
        e[j] = xp[j] - mu[j];
        zc[j] = qdiag[c * d + j] * e[j];
      }
      // Column q of L holds rows q + 1 .. d - 1.
      for (int64_t q = 0, at = 0; q < d; ++q)
        for (int64_t r = q + 1; r < d; ++r)
          zc[r] += l[at++] * e[q];
      double norm = 0.0;
      for (int64_t j = 0; j < d; ++j)
        norm += zc[j] * zc[j];
      main[c] = alphas[c] + sumq[c] - 0.5 * norm;
      top = std::fmax(top, main[c]);
    }
    double total = 0.0;
    for (int64_t c = 0; c < k; ++c)
      total += std::exp(main[c] - top);
    for (int64_t c = 0; c < k; ++c) {
      double w = std::exp(main[c] - top) / total;
      const double *l = icf + c * t + d;
      const double *e = &xc[c * d], *zc = &z[c * d];
      double *gq = gicf + c * t, *gl = gicf + c * t + d, *gmu = gmeans + c * d;
      galphas[c] += w;
      for (int64_t j = 0; j < d; ++j) {
        dz[j] = -w * zc[j];
        gq[j] += w + dz[j] * e[j] * qdiag[c * d + j];
        gmu[j] -= qdiag[c * d + j] * dz[j];
      }
      for (int64_t q = 0, at = 0; q < d; ++q)
        for (int64_t r = q + 1; r < d; ++r, ++at) {
          gl[at] += dz[r] * e[q];
          gmu[q] -= l[at] * dz[r];
        }
    }
  }
  // - n logsumexp(alphas) and the Wishart prior.
  double top = -INFINITY, total = 0.0;
  for (int64_t c = 0; c < k; ++c)
    top = std::fmax(top, alphas[c]);
  for (int64_t c = 0; c < k; ++c)
    total += std::exp(alphas[c] - top);
  for (int64_t c = 0; c < k; ++c) {
    galphas[c] -= double(n) * std::exp(alphas[c] - top) / total;
    for (int64_t j = 0; j < d; ++j) {
      double q = qdiag[c * d + j];
      gicf[c * t + j] += gamma * gamma * q * q - double(m);
    }
    for (int64_t j = d; j < t; ++j)
      gicf[c * t + j] += gamma * gamma * icf[c * t + j];
  }
}
}
