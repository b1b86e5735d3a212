"""The PyTorch baseline of each benchmark case (bench/run.py).

Each function takes the case's sizes and returns a closure that runs the
program once on float64 tensors, as a PyTorch user writes it.
"""

import torch


def _rand(*shape, lo=-1.0, hi=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo


def dot(n):
    x, y = _rand(n, seed=1), _rand(n, seed=2)
    return lambda: torch.dot(x, y)


def matvec(n):
    A, x = _rand(n, n, seed=3), _rand(n, seed=4)
    return lambda: torch.mv(A, x)


def matmul(n):
    A, B = _rand(n, n, seed=5), _rand(n, n, seed=6)
    return lambda: A @ B


def softmax(m, n):
    X = _rand(m, n, lo=-5, hi=5, seed=7)
    return lambda: torch.softmax(X, dim=-1)


def logsumexp(n):
    x = _rand(n, lo=-10, hi=10, seed=8)
    return lambda: torch.logsumexp(x, 0)


def conv3x3(c, h, w, f):
    X, K = _rand(1, c, h + 2, w + 2, seed=9), _rand(f, c, 3, 3, seed=10)
    return lambda: torch.nn.functional.conv2d(X, K)


def mlp(b, i, h, o):
    X, W1, b1 = _rand(b, i, seed=11), _rand(i, h, seed=12), _rand(h, seed=13)
    W2, b2 = _rand(h, o, seed=14), _rand(o, seed=15)
    return lambda: torch.relu(X @ W1 + b1) @ W2 + b2


def gmm(n, d, k):
    """ADBench's PyTorch GMM objective, without the constant term."""
    t = d * (d + 1) // 2
    alphas, means = _rand(k, seed=16), _rand(k, d, seed=17)
    icf, x = _rand(k, t, lo=-0.5, hi=0.5, seed=18), _rand(n, d, seed=19)
    gamma, m = 1.0, 0
    # The lower triangle's entries in column-major order.
    rows, cols = [], []
    for q in range(d):
        for r in range(q + 1, d):
            rows.append(r)
            cols.append(q)
    rows, cols = torch.tensor(rows), torch.tensor(cols)

    def run():
        qdiags = torch.exp(icf[:, :d])
        sum_qs = icf[:, :d].sum(1)
        L = torch.zeros(k, d, d, dtype=torch.float64)
        L[:, rows, cols] = icf[:, d:]
        Q = torch.diag_embed(qdiags) + L
        centered = x[:, None, :] - means[None, :, :]
        qxc = torch.einsum("krq,nkq->nkr", Q, centered)
        main = alphas + sum_qs - 0.5 * (qxc ** 2).sum(2)
        slse = torch.logsumexp(main, 1).sum()
        frob = (qdiags ** 2).sum(1) + (icf[:, d:] ** 2).sum(1)
        prior = (0.5 * gamma * gamma * frob - m * sum_qs).sum()
        return slse - n * torch.logsumexp(alphas, 0) + prior

    return run


def case(name):
    """The closure for a case name as harness.cpp prints it."""
    words = name.split()
    kind = words[0]
    if kind == "dot":
        return dot(int(words[1][2:]))
    if kind == "matvec":
        return matvec(int(words[1].split("x")[0]))
    if kind == "matmul":
        return matmul(int(words[1]))
    if kind == "softmax":
        m, n = words[1].split("x")
        return softmax(int(m), int(n))
    if kind == "logsumexp":
        return logsumexp(int(words[1][2:]))
    if kind == "conv3x3":
        c, hh, ww = (int(v) for v in words[1].split("x"))
        return conv3x3(c, hh - 2, ww - 2, int(words[2][2:]))
    if kind == "mlp":
        b, i, h, o = (int(v) for v in words[1].split("x"))
        return mlp(b, i, h, o)
    if kind == "gmm":
        n, d, k = (int(w.split("=")[1]) for w in words[1:])
        return gmm(n, d, k)
    raise ValueError(name)


