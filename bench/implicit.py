#!/usr/bin/env python3
"""Hypergradients by implicit differentiation against unrolled reverse mode.

    bench/implicit.py [--no-write] [--steps 100,1000,10000]

The derivative of ridge regression's validation loss with respect to the
regularization strength (bench/implicit.lz: n = 200 training and 100
validation points, d = 100, inner solver sgd(lr = 0.5) for T steps):

- Leibniz, implicit: argmin, differentiated by the implicit function
  theorem (CG, at most 100 iterations);
- Leibniz, unrolled: minimize, differentiated in reverse mode through the
  T steps (which keeps every step's state);
- PyTorch, unrolled: the same T steps with torch.autograd.grad(...,
  create_graph=True), then backward to the strength.

Each (method, T) runs in a fresh process, on one thread, so that its peak
resident memory (ru_maxrss) is its own; the table reports the time of one
hypergradient (the best of 3 calls) and the peak memory above that of a
process that only loads the library (or PyTorch) and the data. The three hypergradients
must agree (to 1e-6 relative) once the inner loop has converged. Writes the
table into docs/benchmarks.md and bench/benchmarks.md.in between the
implicit markers.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clib import Library, write_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "bench"
LIBRARY = OUT / "libimplicit.so"
LAM = 0.1


def data():
    rng = np.random.default_rng(0)
    n, m, d = 200, 100, 100
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = X @ w_true + 0.1 * rng.standard_normal(n)
    Xv = rng.standard_normal((m, d))
    yv = Xv @ w_true
    return X, y, Xv, yv


def torch_hypergradient(torch, X, y, Xv, yv, steps):
    X, y, Xv, yv = (torch.from_numpy(a) for a in (X, y, Xv, yv))
    lam = torch.tensor(LAM, dtype=torch.float64, requires_grad=True)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        r = X @ w - y
        loss = 0.5 * (r * r).mean() + 0.5 * lam * (w * w).sum()
        (g,) = torch.autograd.grad(loss, w, create_graph=True)
        w = w - 0.5 * g
    r = Xv @ w - yv
    (r * r).mean().backward()
    return float(lam.grad)


def child(method, steps):
    """Runs in its own process: prints the time, peak memory and result."""
    X, y, Xv, yv = data()
    if method == "torch":
        import torch
        torch.set_num_threads(1)
        run = lambda: torch_hypergradient(torch, X, y, Xv, yv, steps)
    else:
        lib = Library(LIBRARY)
        run = lambda: lib.call(f"hyper_{method}",
                               [LAM, X, y, Xv, yv, steps], [0])[0]
        if method == "none":
            run = lambda: 0.0
    if method == "torch-none":
        import torch  # noqa: F401 (the baseline of PyTorch's memory)
        run = lambda: 0.0
    value, best = run(), float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    print(json.dumps({"time": best, "rss": rss, "value": value}))


def measure(method, steps):
    env = dict(os.environ, LEIBNIZ_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, __file__, "--child", method,
                          str(steps)], check=True, text=True,
                         capture_output=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def seconds(s):
    return f"{s * 1e3:.3g} ms" if s >= 1e-3 else f"{s * 1e6:.3g} µs"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--steps", default="100,1000,10000")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]))

    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BUILD / "bin" / "leibniz"), "compile", "-O3",
                    str(ROOT / "bench" / "implicit.lz"), "-o", str(LIBRARY),
                    "--export", "hyper_implicit,hyper_unrolled"], check=True)
    base = {"leibniz": measure("none", 1)["rss"],
            "torch": measure("torch-none", 1)["rss"]}
    rows = []
    for steps in [int(s) for s in args.steps.split(",")]:
        results = {m: measure(m, steps)
                   for m in ("implicit", "unrolled", "torch")}
        values = [results[m]["value"] for m in results]
        if steps >= 1000 and max(values) - min(values) > 1e-6 * abs(values[0]):
            sys.exit(f"bench: the hypergradients differ at T = {steps}: "
                     f"{values}")
        row = [str(steps)]
        for m in ("implicit", "unrolled", "torch"):
            own = base["torch" if m == "torch" else "leibniz"]
            mib = max(results[m]["rss"] - own, 0) / 1024
            row += [seconds(results[m]["time"]), f"{mib:.1f} MiB"]
        row.append(f"{results['implicit']['value']:.10g}")
        rows.append(row)
        print(" | ".join(row), flush=True)

    header = ["T", "implicit (CG)", "memory", "unrolled", "memory",
              "PyTorch unrolled", "memory", "hypergradient (implicit)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    print(table)
    if args.no_write:
        return
    write_table(ROOT, "implicit", table)
    print("bench: wrote the implicit-differentiation table into "
          "docs/benchmarks.md")


if __name__ == "__main__":
    main()
