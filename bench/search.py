#!/usr/bin/env python3
"""Measures the tensor search: derivations found and the derived programs' speed.

    bench/search.py [--no-write] [--quick]

For a 3x3 convolution (NHWC input with zero padding 1, RSFC kernel: OLLIE's
Conv3x3) at several channel counts and image sizes: `leibniz search` finds a
derivation from the plain expression (the table shows its steps); then the
definition compiled with `leibniz compile -O3`, which runs the search and
instantiates the derivation (the product is an OpenBLAS `dgemm`), and
compiled with `-O3 --search=false` (the direct lowering), are timed through
the C interface on one thread, next to an im2col baseline in NumPy (patches by
`sliding_window_view`, one OpenBLAS product), all in the same run (medians
of 5 batches of at least 0.2 s). The three results must agree to 1e-10
relative. Then the search statistics (states, duplicates, time) at depths
4 to 8. Writes the tables into docs/benchmarks.md and bench/benchmarks.md.in
between the search markers.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

# One thread everywhere, OpenBLAS in NumPy included: set before it loads.
os.environ["LEIBNIZ_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402

from clib import Library, best_time, seconds, write_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "bench" / "search"
LEIBNIZ = BUILD / "bin" / "leibniz"

CONV = """# A 3x3 convolution of an NHWC input with an RSFC kernel, zero padding 1.
def conv3x3(A: f64[1, {h}, {h}, {c}], K: f64[3, 3, {c}, {c}]) -> f64[1, {h}, {h}, {c}] =
  for n, y < {h}, x < {h}, f. sum ci, r, s.
    (if y + r >= 1 && y + r <= {h} && x + s >= 1 && x + s <= {h}
     then A[n, y + r - 1, x + s - 1, ci] else 0.0) * K[r, s, f, ci]
"""


def run(cmd):
    return subprocess.run([str(c) for c in cmd], check=True, text=True,
                          capture_output=True)


def im2col(A, K):
    h = A.shape[1]
    padded = np.pad(A[0], ((1, 1), (1, 1), (0, 0)))
    patches = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(0, 1))
    # patches: [h, h, c, 3, 3] -> [h*h, 3*3*c] in (r, s, c) order.
    cols = np.ascontiguousarray(patches.transpose(0, 1, 3, 4, 2)).reshape(h * h, -1)
    kernel = K.transpose(0, 1, 3, 2).reshape(-1, K.shape[2])
    return (cols @ kernel).reshape(1, h, h, -1)


def search_stats(source, depth):
    result = run([LEIBNIZ, "search", source, "--entry", "conv3x3",
                  "--depth", depth])
    line = next(l for l in result.stdout.splitlines() if l.startswith("states:"))
    m = re.search(r"; (\d+) distinct, (\d+) duplicates removed, ([\d.]+) s", line)
    return int(m.group(1)), int(m.group(2)), float(m.group(3)), result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="the smallest and the largest case only")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [(64, 7), (128, 7), (256, 7), (512, 7), (64, 14), (256, 14),
             (512, 14)]
    if args.quick:
        sizes = [sizes[0], sizes[3]]
    rng = np.random.default_rng(0)
    rows = ["| case | derivation | depth | search time | direct lowering | "
            "-O3 (derived) | speedup | im2col + OpenBLAS (NumPy) | "
            "derived / im2col |",
            "|---|---|---|---|---|---|---|---|---|"]
    for c, h in sizes:
        name = f"conv{c}x{h}"
        plain = OUT / f"{name}.lz"
        derived = OUT / f"{name}-derived.lz"
        plain.write_text(CONV.format(c=c, h=h))
        report = run([LEIBNIZ, "search", plain, "--entry", "conv3x3",
                      "--depth", "4", "-o", derived]).stdout
        search_time = float(re.search(r", ([\d.]+) s", report).group(1))
        steps = [l for l in report.splitlines() if re.match(r"  \d+\. ", l)]
        matched = re.search(r"\[(Matmul[^\]]*)\]", report)
        libs = []
        # The direct lowering (-O3 without the search) and -O3, which runs
        # the search and instantiates the derivation.
        for search, tag in (("--search=false", "direct"),
                            ("--search", "searched")):
            lib = OUT / f"lib{name}_{tag}.so"
            run([LEIBNIZ, "compile", "-O3", search, "--search-cache=none",
                 plain, "-o", lib])
            libs.append(Library(lib))
        A = rng.standard_normal((1, h, h, c))
        K = rng.standard_normal((3, 3, c, c))
        direct = libs[0].call("conv3x3", [A, K], [4])[0]
        fast = libs[1].call("conv3x3", [A, K], [4])[0]
        reference = im2col(A, K)
        scale = np.abs(reference).max()
        for value in (direct, fast):
            if np.abs(value - reference).max() > 1e-10 * scale:
                sys.exit(f"bench: {name}: results differ")
        # A warm-up: the first measurements of a run were noisy.
        best_time(lambda: im2col(A, K), 0.05)
        t_direct = best_time(lambda: libs[0].call("conv3x3", [A, K], [4]))
        t_derived = best_time(lambda: libs[1].call("conv3x3", [A, K], [4]))
        t_im2col = best_time(lambda: im2col(A, K))
        rows.append(
            f"| Conv3x3 c = f = {c}, {h}×{h} | {len(steps)} steps to "
            f"{matched.group(1) if matched else 'no operator'} + offset sum | "
            f"{len(steps)} | {seconds(search_time)} | {seconds(t_direct)} | "
            f"{seconds(t_derived)} | {t_direct / t_derived:.1f}× | "
            f"{seconds(t_im2col)} | {t_derived / t_im2col:.2f} |")
        print(rows[-1], flush=True)

    stats = ["| expression | depth | distinct states | duplicates removed | "
             "time |", "|---|---|---|---|---|"]
    plain = OUT / "conv512x7.lz"
    plain.write_text(CONV.format(c=512, h=7))
    for depth in range(4, 9):
        states, duplicates, t, _ = search_stats(plain, depth)
        stats.append(f"| Conv3x3 | {depth} | {states:,} | {duplicates:,} | "
                     f"{seconds(t)} |")
        print(stats[-1], flush=True)
    table = "\n".join(rows) + "\n\n" + "\n".join(stats)
    print(table)
    if not args.no_write:
        write_table(ROOT, "search", table)
        print("bench: wrote the search table into docs/benchmarks.md")


if __name__ == "__main__":
    main()
