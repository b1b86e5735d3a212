"""Runs Leibniz programs and compares what they print with values computed
independently with NumPy.

usage: check_examples.py LEIBNIZ EXAMPLES_DIR LANGUAGE_PROGRAM

Random inputs (randn, rand) are recomputed with an independent Python
implementation of Philox-4x32-10 and the Box-Muller transform, as the
language defines them. Printed numbers are compared with a relative
tolerance of 1e-7 and an absolute one of 1e-8 (tensors print eight
digits after the point).
"""
import math
import re
import subprocess
import sys

import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox(counter, key):
    c = [counter & MASK, counter >> 32 & MASK, 0, 0]
    k0, k1 = key & MASK, key >> 32 & MASK
    for _ in range(10):
        p0, p1 = M0 * c[0], M1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & MASK, (p0 >> 32) ^ c[3] ^ k1, p0 & MASK]
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return c


def rand(seed, *shape):
    out = np.empty(int(np.prod(shape)))
    for e in range(out.size):
        w = philox(e, seed)
        out[e] = ((w[1] << 32 | w[0]) >> 11) * 2.0**-53
    return out.reshape(shape)


def randn(seed, *shape):
    out = np.empty(int(np.prod(shape)))
    for e in range(out.size):
        w = philox(e, seed)
        u1 = (((w[1] << 32 | w[0]) >> 11) + 1) * 2.0**-53
        u2 = ((w[3] << 32 | w[2]) >> 11) * 2.0**-53
        out[e] = math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)
    return out.reshape(shape)


def flatten(value):
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in flatten(v)]
    return list(np.asarray(value, dtype=np.float64).ravel())


NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)")


def run(leibniz, path, *args):
    result = subprocess.run([leibniz, "run", path, *args], capture_output=True,
                            text=True)
    if result.returncode != 0:
        sys.exit("%s failed:\n%s" % (path, result.stderr))
    return [float(x) for x in NUMBER.findall(result.stdout)]


def check(name, printed, expected):
    expected = flatten(expected)
    if len(printed) != len(expected):
        sys.exit("%s: printed %d numbers, expected %d:\n%s\n%s" %
                 (name, len(printed), len(expected), printed, expected))
    for i, (a, b) in enumerate(zip(printed, expected)):
        if not math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-8):
            sys.exit("%s: number %d is %r, NumPy gives %r" % (name, i, a, b))
    print("%s: %d numbers agree with NumPy" % (name, len(expected)))


def least_squares():
    X = randn(0, 200, 3)
    w_true = 1.5 - 1.75 * np.arange(3.0)
    y = X @ w_true + 0.01 * randn(1, 200)
    w = np.zeros(3)
    for _ in range(100):
        w = w - 0.5 * (X.T @ (X @ w - y) / 200)
    r = X @ w - y
    return w, 0.5 * np.mean(r * r)


def conv3x3(X, K):
    f, c = K.shape[:2]
    h, w = X.shape[1] - 2, X.shape[2] - 2
    out = np.zeros((f, h, w))
    for o in range(f):
        for y in range(h):
            for x in range(w):
                out[o, y, x] = np.sum(X[:, y:y + 3, x:x + 3] * K[o])
    return out


def conv():
    X = rand(0, 2, 6, 7)
    K = np.zeros((2, 2, 3, 3))
    for ci in range(2):
        K[0, ci] = (1.0 if ci == 0 else -1.0) / 9.0
        K[1, ci] = np.array([-1.0, 0.0, 1.0]) * (1.0 if ci == 0 else 0.0)
    return conv3x3(X, K)


def rayleigh(A, v):
    return v @ (A @ v) / (v @ v)


def power_iteration():
    B = randn(3, 5, 5)
    A = B.T @ B
    v = np.ones(5) / np.sqrt(5.0)
    lam, k = rayleigh(A, v), 0
    while k < 1000 and abs(rayleigh(A, v) - lam) > 1e-13 * abs(lam) or k == 0:
        w = A @ v
        v, lam, k = w / np.linalg.norm(w), rayleigh(A, v), k + 1
    return rayleigh(A, v), v, k


def log_softmax(z):
    m = np.max(z)
    return z - (m + np.log(np.sum(np.exp(z - m))))


def softmax_regression():
    X = randn(10, 8, 4)
    W = 0.5 * randn(11, 4, 3)
    b = np.zeros(3)
    labels = np.trunc(3.0 * rand(12, 8)).astype(np.int64)
    logp = np.array([log_softmax(X[i] @ W + b) for i in range(8)])
    nll = -np.mean(logp[np.arange(8), labels])
    p = np.exp(logp[0] - np.max(logp[0]))
    return nll, p / p.sum()


def language():
    # The programs of the language reference, on the data of language.lz.
    A = np.array([[i + 0.5 * j for j in range(3)] for i in range(2)])
    B = np.array([[i - j for j in range(2)] for i in range(3)], dtype=float)
    X = np.array([[[np.sin(c + i * j) for j in range(5)] for i in range(6)]
                  for c in range(2)])
    K = np.array([[[[(o + 1) * (c - r + s) / 10 for s in range(3)]
                    for r in range(3)] for c in range(2)] for o in range(3)])
    # loop (x, v) = (x0, zeros(d)) for t < T { (x - lr * v, 0.9 * v + g(x)) }
    g = lambda x: 2.0 * (x - np.array([1.0, -1.0]))
    x, v = np.array([3.0, 3.0]), np.zeros(2)
    for _ in range(25):
        x, v = x - 0.1 * v, 0.9 * v + g(x)
    # loop x = x0 while norm(g(x)) > 1e-8 { x - 0.1 * g(x) }
    y = np.array([3.0, 3.0])
    while np.linalg.norm(g(y)) > 1e-8:
        y = y - 0.1 * g(y)
    return A @ B, conv3x3(X, K), x, y


def main():
    leibniz, examples, language_program = sys.argv[1:4]
    check("least-squares.lz", run(leibniz, examples + "/least-squares.lz"),
          least_squares())
    check("conv.lz", run(leibniz, examples + "/conv.lz"), conv())
    check("power-iteration.lz", run(leibniz, examples + "/power-iteration.lz"),
          power_iteration())
    check("softmax-regression.lz",
          run(leibniz, examples + "/softmax-regression.lz"),
          softmax_regression())
    check("language.lz", run(leibniz, language_program), language())


if __name__ == "__main__":
    main()
