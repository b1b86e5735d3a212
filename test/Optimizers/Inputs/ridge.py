#!/usr/bin/env python3
"""Checks test/Optimizers/implicit.lz's ridge results against the closed
form: w* = (X^T X / n + lam I)^-1 X^T y / n, and the derivative of the
validation loss mean((Xv w* - Xv w_true)^2) with respect to lam, through
dw*/dlam = -(X^T X / n + lam I)^-1 w*.

    ridge.py STEM    (STEM.0.npy ... STEM.5.npy: X, noise, Xv, w, the
                      implicit and the unrolled hypergradients)
"""

import sys

import numpy as np

stem = sys.argv[1]
X, noise, Xv, w, implicit, unrolled = [np.load(f"{stem}.{i}.npy")
                                       for i in range(6)]
lam = 0.1
w_true = 1.0 + np.arange(3)
y = X @ w_true + 0.3 * noise
n, d = X.shape
A = X.T @ X / n + lam * np.eye(d)
w_star = np.linalg.solve(A, X.T @ y / n)
r = Xv @ w_star - Xv @ w_true
expected = 2 / len(r) * r @ (Xv @ -np.linalg.solve(A, w_star))


def relative(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


if relative(w, w_star) > 1e-8 or relative(implicit, expected) > 1e-8:
    sys.exit(f"ridge: got w = {w}, hypergradient {implicit}; expected "
             f"{w_star}, {expected}")
print("ridge: the solution and the hypergradient equal the closed form "
      f"({relative(w, w_star):.1e}, {relative(implicit, expected):.1e})")
if relative(unrolled, implicit) > 1e-6:
    sys.exit(f"ridge: unrolled {unrolled} and implicit {implicit} differ")
print("ridge: implicit and unrolled hypergradients agree "
      f"({relative(unrolled, implicit):.1e})")
