// Hand-written reverse-mode gradients of bench/rev-ad.lz's dot product,
// least squares and MLP, the baseline of bench/rev_ad.py: plain loops in
// C++, compiled at -O2 like the Leibniz code they are compared with, with
// the loop orders a careful programmer would pick (rows contiguous). Each
// computes the gradient with respect to the same arguments as the
// corresponding `*_grad` definition, into buffers the caller provides.

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
}
