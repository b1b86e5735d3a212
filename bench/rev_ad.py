#!/usr/bin/env python3
"""Measures reverse-mode gradients against their functions and PyTorch.

    bench/rev_ad.py [--no-write] [--threads N] [--quick] [--leibniz PATH]

For every function of bench/rev-ad.lz: the run time of the function and of
its reverse-mode gradient (with respect to every float argument), both
compiled at -O2 (`leibniz compile`) and called through the C interface, of
the gradient compiled at -O3, and
the time of the same gradient by PyTorch's CPU autograd (forward and
backward) and, for the dot product, least squares, the MLP and the GMM, by the
hand-written C++ of bench/rev_ad_baseline.cpp (compiled at -O2), all with
the same number of threads (default 1) and in the same run; then the same
for the GMM, its factor packed and dense, at ADBench's sizes (d in {2, 10,
20, 32, 64}, k in {5, 10, 25, 50}, n = 1000; `--quick` runs the corners
only). The gradients must agree
with PyTorch's to 1e-8 (relative) and with the hand-written ones to 1e-10.
Writes the tables into docs/benchmarks.md and bench/benchmarks.md.in
between the rev-ad markers.
"""

import argparse
import ctypes
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from clib import Library, interleaved_times, seconds, write_table

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "bench"
SOURCE = ROOT / "bench" / "rev-ad.lz"


def run(cmd, env=None):
    return subprocess.run(cmd, check=True, text=True, capture_output=True,
                          env=env)


def gmm_inputs(rng, n, d, k):
    t = d * (d + 1) // 2
    return [rng.standard_normal(k), rng.standard_normal((k, d)),
            0.3 * rng.standard_normal((k, t)), rng.standard_normal((n, d)),
            1.0, d + 1]


def torch_gmm(torch, alphas, means, icf, x, gamma, m):
    n, d = x.shape
    k = alphas.shape[0]
    qdiags = torch.exp(icf[:, :d])
    sum_qs = icf[:, :d].sum(1)
    # The lower-triangular factor L of each component, from icf.
    rows, cols = torch.tril_indices(d, d, -1, device=x.device)
    order = torch.argsort(cols * d + rows)
    L = torch.zeros(k, d, d, dtype=x.dtype, device=x.device)
    L[:, rows[order], cols[order]] = icf[:, d:]
    Q = torch.diag_embed(qdiags) + L
    xc = x[:, None, :] - means[None, :, :]
    Qxc = torch.einsum("krq,nkq->nkr", Q, xc)
    inner = alphas + sum_qs - 0.5 * (Qxc ** 2).sum(2)
    slse = torch.logsumexp(inner, 1).sum()
    prior = (0.5 * gamma ** 2 * ((qdiags ** 2).sum(1) + (icf[:, d:] ** 2).sum(1))
             - m * sum_qs).sum()
    return slse - n * torch.logsumexp(alphas, 0) + prior


# name, entry, PyTorch function, inputs, the indices of the differentiated
# inputs, a description of the sizes.
def cases(torch):
    F = torch.nn.functional
    return [
        ("dot", "dot2", lambda x, y: (x * y).sum(),
         lambda rng: [rng.standard_normal(100000), rng.standard_normal(100000)],
         (0, 1), "n = 100000"),
        ("least squares", "lsq",
         lambda w, X, y: 0.5 * ((X @ w - y) ** 2).mean(),
         lambda rng: [rng.standard_normal(64), rng.standard_normal((2000, 64)),
                      rng.standard_normal(2000)],
         (0, 1, 2), "n = 2000, d = 64"),
        ("softmax cross-entropy", "xent",
         lambda z, p: -(p * F.log_softmax(z, 0)).sum(),
         lambda rng: [rng.standard_normal(100000),
                      rng.dirichlet(np.ones(100000))],
         (0, 1), "n = 100000"),
        ("gather", "gather",
         lambda x, idx, w: (torch.sin(x[idx]) * w).sum(),
         lambda rng: [rng.standard_normal(10000),
                      rng.integers(0, 10000, 100000).astype(np.int64),
                      rng.standard_normal(100000)],
         (0, 2), "n = 100000, m = 10000"),
        ("conv3x3", "conv",
         lambda X, K: torch.tanh(F.conv2d(X[None], K)).sum(),
         lambda rng: [rng.standard_normal((16, 34, 34)),
                      0.1 * rng.standard_normal((16, 16, 3, 3))],
         (0, 1), "c = f = 16, 32×32"),
        ("1000-step loop", "descent", None,
         lambda rng: [rng.standard_normal(1000), rng.uniform(0.5, 1.5, 1000),
                      0.01, 1000],
         (0, 1, 2), "n = 1000, 1000 steps"),
        ("GMM", "gmm", lambda *a: torch_gmm(torch, *a),
         lambda rng: gmm_inputs(rng, 1000, 10, 25), (0, 1, 2),
         "n = 1000, d = 10, k = 25"),
        ("GMM, dense factor", "gmm_dense", lambda *a: torch_gmm(torch, *a),
         lambda rng: gmm_inputs(rng, 1000, 10, 25), (0, 1, 2),
         "n = 1000, d = 10, k = 25"),
        ("MLP", "mlp_loss",
         lambda X, W1, b1, W2, T: (((torch.relu(X @ W1 + b1) @ W2) - T) ** 2).mean(),
         lambda rng: [rng.standard_normal((256, 64)),
                      0.1 * rng.standard_normal((64, 128)),
                      0.1 * rng.standard_normal(128),
                      0.1 * rng.standard_normal((128, 10)),
                      rng.standard_normal((256, 10))],
         (1, 2, 3), "b = 256, 64-128-10"),
    ]


def baseline_gradient(lib, entry, inputs):
    """The hand-written gradient of `entry`, or None where there is none."""
    p = ctypes.c_void_p
    def ptr(a):
        return a.ctypes.data_as(p)
    if entry == "dot2":
        x, y = inputs
        gx, gy = np.empty_like(x), np.empty_like(y)
        lib.dot_grad(ptr(x), ptr(y), ctypes.c_int64(x.size), ptr(gx), ptr(gy))
        return [gx, gy]
    if entry == "lsq":
        w, X, y = inputs
        gw, gX, gy = np.empty_like(w), np.empty_like(X), np.empty_like(y)
        lib.lsq_grad(ptr(w), ptr(X), ptr(y), ctypes.c_int64(X.shape[0]),
                     ctypes.c_int64(X.shape[1]), ptr(gw), ptr(gX), ptr(gy))
        return [gw, gX, gy]
    if entry == "mlp_loss":
        X, W1, b1, W2, T = inputs
        gW1, gb1, gW2 = np.empty_like(W1), np.empty_like(b1), np.empty_like(W2)
        lib.mlp_grad(ptr(X), ptr(W1), ptr(b1), ptr(W2), ptr(T),
                     *[ctypes.c_int64(s) for s in (X.shape[0], X.shape[1],
                                                   W1.shape[1], W2.shape[1])],
                     ptr(gW1), ptr(gb1), ptr(gW2))
        return [gW1, gb1, gW2]
    if entry in ("gmm", "gmm_dense"):
        alphas, means, icf, x, gamma, m = inputs
        n, d = x.shape
        k = alphas.shape[0]
        ga, gm, gi = np.empty_like(alphas), np.empty_like(means), np.empty_like(icf)
        lib.gmm_grad(ptr(alphas), ptr(means), ptr(icf), ptr(x),
                     ctypes.c_double(gamma), ctypes.c_int64(m),
                     ctypes.c_int64(n), ctypes.c_int64(d), ctypes.c_int64(k),
                     ptr(ga), ptr(gm), ptr(gi))
        return [ga, gm, gi]
    return None


def torch_descent(torch, x0, a, lr, steps):
    x = x0
    for _ in range(steps):
        x = x - lr * (a * x - 1.0)
    return ((x - 0.5) ** 2).sum()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="run the GMM at the corners of its grid only")
    parser.add_argument("--leibniz", default=str(BUILD / "bin" / "leibniz"),
                        help="the compiler to measure (default: the build's)")
    args = parser.parse_args()
    # OpenBLAS (the -O3 gradients' products, and PyTorch's where it links
    # it) starts a thread per core unless told otherwise: every side gets
    # the same number of threads, set before anything loads it.
    for name in ("LEIBNIZ_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "OMP_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    # glibc gives every large block back to the system when it is freed, so
    # that each call that returns a large tensor pays for fresh pages; keep
    # them, for the compiled code and PyTorch alike (mallopt:
    # M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3).
    libc = ctypes.CDLL(None)
    libc.mallopt(-1, 1 << 30)
    libc.mallopt(-3, 1 << 30)
    import torch
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)

    OUT.mkdir(parents=True, exist_ok=True)
    leibniz = args.leibniz
    path = OUT / "librevad.so"
    entries = ["dot2", "lsq", "xent", "gather", "conv", "descent", "gmm",
               "gmm_dense", "mlp_loss"]
    exports = ",".join(entries + [e.replace("2", "").replace("_loss", "")
                                  + "_grad" for e in entries])
    run([leibniz, "compile", "-O2", str(SOURCE), "-o", str(path),
         "--export", exports])
    lib = Library(path)
    # -O3 may reassociate float sums (vectorizing them), call OpenBLAS and
    # vector math, as PyTorch does: its gradients are timed too.
    path3 = OUT / "librevad3.so"
    run([leibniz, "compile", "-O3", str(SOURCE), "-o", str(path3),
         "--export", exports])
    lib3 = Library(path3)
    baseline_path = OUT / "librevadbaseline.so"
    run(["c++", "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o",
         str(baseline_path), str(ROOT / "bench" / "rev_ad_baseline.cpp")])
    baseline = ctypes.CDLL(str(baseline_path))

    def measure(entry, torch_fn, inputs, wrt):
        """The timings of `entry` and its gradient, checked against
        PyTorch's and the hand-written gradient, as table cells."""
        gradient = entry.replace("2", "").replace("_loss", "") + "_grad"
        ranks = [np.asarray(inputs[i]).ndim for i in wrt]
        ours = lib.call(gradient, inputs, ranks)

        def torch_inputs():
            values = []
            for i, value in enumerate(inputs):
                if isinstance(value, np.ndarray):
                    t = torch.from_numpy(value)
                    values.append(t.requires_grad_(True) if i in wrt else t)
                elif i in wrt:
                    values.append(torch.tensor(value, requires_grad=True))
                else:
                    values.append(value)
            return values
        fn = torch_fn or (lambda *a: torch_descent(torch, *a))

        def torch_gradient():
            values = torch_inputs()
            fn(*values).backward()
            return [values[i].grad.numpy() for i in wrt]
        theirs = torch_gradient()
        for i, (a, b) in enumerate(zip(ours, theirs)):
            scale = max(1.0, float(np.max(np.abs(b))))
            if not np.allclose(a, b, rtol=1e-8, atol=1e-8 * scale):
                sys.exit(f"bench: the gradient of {entry} with respect to "
                         f"argument {wrt[i]} differs from PyTorch's")
        ours3 = lib3.call(gradient, inputs, ranks)
        for i, (a, b) in enumerate(zip(ours3, theirs)):
            scale = max(1.0, float(np.max(np.abs(b))))
            if not np.allclose(a, b, rtol=1e-8, atol=1e-8 * scale):
                sys.exit(f"bench: the -O3 gradient of {entry} with respect "
                         f"to argument {wrt[i]} differs from PyTorch's")
        hand = baseline_gradient(baseline, entry, inputs)
        if hand is not None:
            for a, b in zip(ours, hand):
                scale = max(1.0, float(np.max(np.abs(b))))
                if not np.allclose(a, b, rtol=1e-10, atol=1e-10 * scale):
                    sys.exit(f"bench: the gradient of {entry} differs from "
                             "the hand-written one")
        # Timed as a C caller calls them: the results are freed, not copied
        # into arrays (the hand-written gradients write into arrays). In
        # turns, so that a slow phase of the machine reaches them all.
        timed = [lambda: lib.call(entry, inputs, [0], copy=False),
                 lambda: lib.call(gradient, inputs, ranks, copy=False),
                 torch_gradient,
                 lambda: lib3.call(gradient, inputs, ranks, copy=False)]
        if hand is not None:
            timed.append(lambda: baseline_gradient(baseline, entry, inputs))
        t_primal, t_grad, t_torch, t_grad3, *t_hand = interleaved_times(timed)
        row = [seconds(t_primal), seconds(t_grad), f"{t_grad / t_primal:.1f}",
               seconds(t_torch), f"{t_torch / t_grad:.1f}×",
               seconds(t_grad3), f"{t_torch / t_grad3:.1f}×"]
        if hand is None:
            return row + ["", ""]
        return row + [seconds(t_hand[0]), f"{t_grad / t_hand[0]:.1f}"]

    rows = []
    rng = np.random.default_rng(0)
    for title, entry, torch_fn, make, wrt, size in cases(torch):
        rows.append([title, size] + measure(entry, torch_fn, make(rng), wrt))
        print(" | ".join(rows[-1]), flush=True)

    # The GMM at ADBench's sizes, its factor packed and dense.
    grids = {}
    for entry in ("gmm", "gmm_dense"):
        gmm = next(c for c in cases(torch) if c[1] == entry)
        grid = grids[entry] = []
        for d in (2, 10, 20, 32, 64):
            for k in (5, 10, 25, 50):
                if args.quick and (d not in (2, 64) or k not in (5, 50)):
                    continue
                grid.append([str(d), str(k)] + measure(
                    entry, gmm[2], gmm_inputs(rng, 1000, d, k), gmm[4]))
                print(" | ".join(grid[-1]), flush=True)

    # The operation counts of the cheap-gradient test, at its sizes.
    checked = subprocess.run(
        [sys.executable, str(ROOT / "test" / "AD" / "Inputs" / "cheap_gradient.py"),
         leibniz, str(SOURCE), str(OUT / "cheap-gradient")],
        text=True, capture_output=True)
    if checked.returncode != 0:
        sys.exit("bench: the cheap-gradient counts failed:\n" + checked.stdout
                 + checked.stderr)
    counts = checked.stdout
    count_rows = []
    for line in counts.splitlines():
        if " size " not in line:
            continue
        name, rest = line.split(" size ", 1)
        size, rest = rest.split(":", 1)
        operations, elements = rest.split(";")
        fields = [f.strip() for f in operations.split(",")]
        element_fields = [f.strip() for f in elements.split(",")]
        count_rows.append([name.strip(), size.strip(),
                           f"{int(fields[0].split()[0]):,}",
                           f"{int(fields[1].split()[0]):,}",
                           fields[2].split()[1],
                           element_fields[2].split()[1]])

    header = ["gradient", "size", "primal", "gradient", "gradient / primal",
              "PyTorch autograd", "Leibniz speedup", "gradient at -O3",
              "speedup at -O3", "hand-written C++", "Leibniz / C++"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    grid_header = ["d", "k"] + header[2:]
    for entry, title in (("gmm", "GMM at ADBench's sizes (n = 1000):"),
                         ("gmm_dense", "The same with a dense factor "
                          "(`gmm_dense`, as PyTorch computes it):")):
        lines += ["", title, "", "| " + " | ".join(grid_header) + " |",
                  "|" + "---|" * len(grid_header)]
        lines += ["| " + " | ".join(r) + " |" for r in grids[entry]]
    lines += ["", "| gradient | size | primal ops | gradient ops | "
              "ops / primal | elements / primal |",
              "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in count_rows]
    table = "\n".join(lines)
    print(table)
    if args.no_write:
        return
    write_table(ROOT, "rev-ad", table)
    print("bench: wrote the reverse-mode table into docs/benchmarks.md")


if __name__ == "__main__":
    main()
