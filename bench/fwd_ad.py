#!/usr/bin/env python3
"""Measures what fwd-ad-opt does to forward-mode gradients.

    bench/fwd_ad.py [--no-write]

For the forward-mode gradient of each function of bench/fwd-ad.lz, at two
sizes: the operations the reference interpreter executes (`leibniz run
--engine=interp --count-ops`) for the primal function, for the unoptimized
dual-number program (`--strategy=id`) and for the program after
fwd-ad-opt;
and, at the larger size, the run time of the function and of both
gradients compiled at -O2 (`leibniz compile`, the unoptimized one with
--strategy=id), called through the C interface, in the same run. Both compiled gradients must agree. Writes the
table into docs/benchmarks.md and bench/benchmarks.md.in between the
fwd-ad markers.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

from clib import Library, best_time, seconds, write_table

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "bench"
SOURCE = ROOT / "bench" / "fwd-ad.lz"


def run(cmd):
    return subprocess.run(cmd, check=True, text=True, capture_output=True)


def gmm_inputs(rng, n, d, k):
    t = d * (d + 1) // 2
    return [rng.standard_normal(k), rng.standard_normal((k, d)),
            0.3 * rng.standard_normal((k, t)), rng.standard_normal((n, d)),
            1.0, d + 1]


# name, primal, a description of the sizes, and inputs for each size.
CASES = [
    ("dot", "dot2", [("n = 64", 64), ("n = 512", 512)],
     lambda rng, n: [rng.standard_normal(n), rng.standard_normal(n)]),
    ("least squares", "lsq", [("n = 64, d = 16", (64, 16)),
                              ("n = 256, d = 64", (256, 64))],
     lambda rng, s: [rng.standard_normal(s[1]),
                     rng.standard_normal((s[0], s[1])),
                     rng.standard_normal(s[0])]),
    ("softmax cross-entropy", "xent", [("n = 64", 64), ("n = 256", 256)],
     lambda rng, n: [rng.standard_normal(n),
                     np.full(n, 1.0 / n)]),
    ("GMM (means)", "gmm", [("n = 16, d = 3, k = 4", (16, 3, 4)),
                            ("n = 64, d = 5, k = 8", (64, 5, 8))],
     lambda rng, s: gmm_inputs(rng, *s)),
    ("MLP (first bias)", "mlp_loss",
     [("b = 8, i = 8, h = 16, o = 4", (8, 8, 16, 4)),
      ("b = 32, i = 16, h = 64, o = 8", (32, 16, 64, 8))],
     lambda rng, s: [rng.standard_normal(s[2]),
                     rng.standard_normal((s[0], s[1])),
                     0.3 * rng.standard_normal((s[1], s[2])),
                     0.3 * rng.standard_normal((s[2], s[3])),
                     rng.standard_normal((s[0], s[3]))]),
]
PARAMETERS = {"dot2": ["x", "y"], "lsq": ["w", "X", "y"], "xent": ["z", "p"],
              "gmm": ["alphas", "means", "icf", "x", "gamma", "m"],
              "mlp_loss": ["b1", "X", "W1", "W2", "T"]}
GRADIENTS = {"dot2": "dot_grad", "lsq": "lsq_grad", "xent": "xent_grad",
             "gmm": "gmm_grad", "mlp_loss": "mlp_grad"}


def count_ops(entry, params, inputs, strategy):
    """The interpreter's operation count of `entry` on `inputs`."""
    args = []
    for name, value in zip(params, inputs):
        if isinstance(value, (int, float)):
            args.append(f"--arg={name}={value!r}")
        else:
            path = OUT / f"fwd-ad-{name}.npy"
            np.save(path, np.asarray(value, dtype=np.float64))
            args.append(f"--arg={name}={path}")
    err = run([str(BUILD / "bin" / "leibniz"), "run", "--engine=interp",
               "--count-ops", f"--strategy={strategy}", str(SOURCE),
               "--entry", entry, *args]).stderr
    for line in err.splitlines():
        if line.startswith("operations: "):
            return int(line.split(":")[1])
    sys.exit(f"bench: no operation count for {entry}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    leibniz = str(BUILD / "bin" / "leibniz")
    exports = ",".join(list(GRADIENTS) + list(GRADIENTS.values()))
    libs = {}
    for kind, extra in (("plain", ["--strategy=id"]), ("opt", [])):
        path = OUT / f"libfwd{kind}.so"
        run([leibniz, "compile", "-O2", *extra, str(SOURCE), "-o", str(path),
             "--export", exports])
        libs[kind] = Library(path)

    rows = []
    rng = np.random.default_rng(0)
    for title, primal, sizes, make in CASES:
        grad = GRADIENTS[primal]
        for index, (size, shape) in enumerate(sizes):
            inputs = make(rng, shape)
            params = PARAMETERS[primal]
            base = count_ops(primal, params, inputs, "id")
            plain = count_ops(grad, params, inputs, "id")
            opt = count_ops(grad, params, inputs, "fwd-ad-opt")
            row = [title, size, f"{base:,}", f"{plain:,}", f"{opt:,}",
                   f"{plain / opt:.1f}×", f"{opt / base:.1f}"]
            if index == len(sizes) - 1:
                rank = np.asarray(inputs[1 if primal == "gmm" else 0]).ndim
                a = libs["plain"].call(grad, inputs, [rank])[0]
                b = libs["opt"].call(grad, inputs, [rank])[0]
                if not np.allclose(a, b, rtol=1e-9, atol=1e-12):
                    sys.exit(f"bench: the two gradients of {primal} differ")
                t_plain = best_time(
                    lambda: libs["plain"].call(grad, inputs, [rank]), 0.1)
                t_opt = best_time(
                    lambda: libs["opt"].call(grad, inputs, [rank]), 0.1)
                t_primal = best_time(
                    lambda: libs["opt"].call(primal, inputs, [0]), 0.1)
                row += [seconds(t_primal), seconds(t_plain), seconds(t_opt),
                        f"{t_plain / t_opt:.1f}×", f"{t_opt / t_primal:.1f}"]
            else:
                row += ["", "", "", "", ""]
            rows.append(row)
            print(" | ".join(row), flush=True)

    header = ["gradient", "size", "primal ops", "unoptimized ops",
              "fwd-ad-opt ops", "ops saved", "ops / primal", "primal time",
              "unoptimized time", "fwd-ad-opt time", "speedup",
              "time / primal"]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    print(table)
    if args.no_write:
        return
    write_table(ROOT, "fwd-ad", table)
    print("bench: wrote the forward-mode table into docs/benchmarks.md")


if __name__ == "__main__":
    main()
