#!/usr/bin/env python3
"""Measures the tensor search: derivations found and the derived programs' speed.

    bench/search.py [--no-write] [--quick]

For SEARCH.md's four headline operators, written as plain `for`/`sum`
expressions in NHWC layout: Conv3x3 (zero padding 1, several channel counts
and image sizes), ConvTranspose (4x4 kernel, stride 2, padding 1, as PyTorch
defines it: output row `y` gathers input row `(y + 1 - r) / 2` where
`y + 1 - r` is even), Conv5x5 (padding 2) and Longformer's dilated G2BMM. Each
definition is compiled with `leibniz compile -O3`, which runs the search and
instantiates its cheapest derivation (products are OpenBLAS `dgemm`s), and
with `-O3 --search=false` (the direct lowering); where the headline derivation
is not the cheapest (Conv5x5 into a wider Conv3x3, G2BMM without dilation),
the definition that `leibniz search --until` writes for it is compiled and
timed too; and `-O3 --search-measure`, which times the cheapest derivations
and picks the fastest. Baselines in NumPy with one OpenBLAS thread: im2col +
one product for the convolutions, one product + a col2im sum over the 16 taps
for ConvTranspose, one batched dot product per band offset for G2BMM. All are
timed through the C interface on one thread in the same run (medians of 5
batches of at least 0.2 s, after freeing a 16 MiB block so that glibc's
allocator keeps the temporaries in its heap), and all results must agree to
1e-10 relative. Then the search statistics (states, duplicates, time) of the
four expressions at depths 4 to 8, and the states that guided derivation
(`--guided --until`) needs to reach the headline derivation's pattern. Writes
the tables into docs/benchmarks.md and bench/benchmarks.md.in between the
search markers.
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

from clib import (Library, best_time, seconds, settle_allocator,  # noqa: E402
                  write_table)

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "bench" / "search"
LEIBNIZ = BUILD / "bin" / "leibniz"

CONV3 = """# A 3x3 convolution of an NHWC input with an RSFC kernel, zero padding 1.
def conv(A: f64[1, {h}, {h}, {c}], K: f64[3, 3, {c}, {c}]) -> f64[1, {h}, {h}, {c}] =
  for n, y < {h}, x < {h}, f. sum ci, r, s.
    (if y + r >= 1 && y + r <= {h} && x + s >= 1 && x + s <= {h}
     then A[n, y + r - 1, x + s - 1, ci] else 0.0) * K[r, s, f, ci]
"""

CONV5 = """# A 5x5 convolution of an NHWC input with an RSFC kernel, zero padding 2.
def conv(A: f64[1, {h}, {h}, {c}], K: f64[5, 5, {c}, {c}]) -> f64[1, {h}, {h}, {c}] =
  for n, y < {h}, x < {h}, f. sum ci, r, s.
    (if y + r >= 2 && y + r <= {h} + 1 && x + s >= 2 && x + s <= {h} + 1
     then A[n, y + r - 2, x + s - 2, ci] else 0.0) * K[r, s, f, ci]
"""

# Output pixel (y, x) gathers input pixel ((y + 1 - r) / 2, (x + 1 - s) / 2)
# where y + 1 - r and x + 1 - s are even: the conversion splits `r` and `s`
# by their parity, and `y` and `x` into (y / 2, y % 2).
CONVT = """# A transposed convolution: 4x4 kernel, stride 2, padding 1.
def conv(A: f64[1, {h}, {h}, {c}], K: f64[4, 4, {c}, {c}]) -> f64[1, {h2}, {h2}, {c}] =
  for n, y, x, f. sum ci, r, s. {{
    let u = y + 1 - r
    let v = x + 1 - s
    if u % 2 == 0 && v % 2 == 0 && u >= 0 && u / 2 < {h} && v >= 0 && v / 2 < {h}
    then A[n, u / 2, v / 2, ci] * K[r, s, f, ci]
    else 0.0
  }}
"""

G2BMM = """# Longformer's dilated banded product: each row against the rows
# {d} apart within a band of {band}.
def conv(A: f64[{b}, {n}, {k}], B: f64[{b}, {n}, {k}]) -> f64[{b}, {n}, {band}] =
  for b, i, w < {band}. sum k.
    A[b, i, k] * (if i + {d} * w >= {off} && i + {d} * w < {n} + {off}
                  then B[b, i + {d} * w - {off}, k] else 0.0)
"""


def run(cmd):
    return subprocess.run([str(c) for c in cmd], check=True, text=True,
                          capture_output=True)


def im2col(A, K):
    """A same-size convolution (odd window, zero padding) as one product."""
    h, window = A.shape[1], K.shape[0]
    pad = window // 2
    padded = np.pad(A[0], ((pad, pad), (pad, pad), (0, 0)))
    patches = np.lib.stride_tricks.sliding_window_view(
        padded, (window, window), axis=(0, 1))
    # patches: [h, h, c, r, s] -> [h*h, r*s*c] in (r, s, c) order.
    cols = np.ascontiguousarray(patches.transpose(0, 1, 3, 4, 2)).reshape(h * h, -1)
    kernel = K.transpose(0, 1, 3, 2).reshape(-1, K.shape[2])
    return (cols @ kernel).reshape(1, h, h, -1)


def conv_transpose(A, K):
    """The transposed convolution as one product of the pixels by the taps
    and a col2im sum: tap (r, s) of pixel (i, j) adds to (2i+r-1, 2j+s-1)."""
    h, c, f = A.shape[1], A.shape[3], K.shape[2]
    taps = A[0].reshape(h * h, c) @ K.transpose(3, 0, 1, 2).reshape(c, 16 * f)
    taps = taps.reshape(h, h, 4, 4, f)
    out = np.zeros((2 * h + 2, 2 * h + 2, f))
    for r in range(4):
        for s in range(4):
            out[r:r + 2 * h:2, s:s + 2 * h:2] += taps[:, :, r, s]
    return out[np.newaxis, 1:2 * h + 1, 1:2 * h + 1]


def banded(A, B, d, off):
    """Dilated G2BMM: one batched dot product per band offset."""
    b, n, _ = A.shape
    band = 2 * off // d + 1
    out = np.zeros((b, n, band))
    for w in range(band):
        shift = d * w - off
        lo, hi = max(0, -shift), min(n, n - shift)
        out[:, lo:hi, w] = np.einsum("bik,bik->bi", A[:, lo:hi],
                                     B[:, lo + shift:hi + shift])
    return out


def search_report(source, depth, until=None, output=None, guided=False):
    cmd = [LEIBNIZ, "search", source, "--entry", "conv", "--depth", depth]
    if until:
        cmd += ["--until", until]
    if guided:
        cmd += ["--guided"]
    if output:
        cmd += ["-o", output]
    report = run(cmd).stdout
    line = next(l for l in report.splitlines() if l.startswith("states:"))
    m = re.search(r"; (\d+) distinct, (\d+) duplicates removed, ([\d.]+) s", line)
    steps = [l for l in report.splitlines() if re.match(r"  \d+\. ", l)]
    return {"states": int(m.group(1)), "duplicates": int(m.group(2)),
            "time": float(m.group(3)), "truncated": "stopped" in line,
            "steps": steps, "report": report}


def compile_lib(source, name, flags):
    lib = OUT / f"lib{name}.so"
    run([LEIBNIZ, "compile", "-O3", *flags, "--search-cache=none", source,
         "-o", lib])
    return Library(lib)


def cases(quick):
    """(operator, size label, source, inputs, baseline, the --until pattern
    of the headline derivation where it is not the cheapest)."""
    rng = np.random.default_rng(0)
    conv3 = [(64, 7), (128, 7), (256, 7), (512, 7), (64, 14), (256, 14),
             (512, 14)]
    if quick:
        conv3 = [conv3[0], conv3[3]]
    for c, h in conv3:
        A, K = rng.standard_normal((1, h, h, c)), rng.standard_normal((3, 3, c, c))
        yield ("Conv3x3", f"c = f = {c}, {h}×{h}", CONV3.format(c=c, h=h),
               [A, K], lambda A=A, K=K: im2col(A, K), None)
    for c, h in [(128, 7), (256, 7)] if not quick else [(128, 7)]:
        A, K = rng.standard_normal((1, h, h, c)), rng.standard_normal((4, 4, c, c))
        yield ("ConvTranspose 4×4/2", f"c = f = {c}, {h}×{h} → {2 * h}×{2 * h}",
               CONVT.format(c=c, h=h, h2=2 * h), [A, K],
               lambda A=A, K=K: conv_transpose(A, K), None)
    for c, h in [(128, 7), (256, 7)] if not quick else [(128, 7)]:
        A, K = rng.standard_normal((1, h, h, c)), rng.standard_normal((5, 5, c, c))
        yield ("Conv5x5", f"c = f = {c}, {h}×{h}", CONV5.format(c=c, h=h),
               [A, K], lambda A=A, K=K: im2col(A, K), "Conv3x3")
    b, n, k, width, d = 4, 1024, 64, 16, 2
    A, B = rng.standard_normal((b, n, k)), rng.standard_normal((b, n, k))
    yield ("G2BMM, dilation 2", f"{b} × {n} rows, k = {k}, band {2 * width + 1}",
           G2BMM.format(b=b, n=n, k=k, band=2 * width + 1, d=d, off=d * width),
           [A, B], lambda A=A, B=B: banded(A, B, d, d * width), "G2BMM")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="fewer sizes, and the statistics to depth 6")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    settle_allocator()
    rows = ["| operator | size | cheapest derivation (-O3) | direct lowering | "
            "-O3 | speedup | -O3 --search-measure | headline derivation | "
            "its time | baseline (NumPy + OpenBLAS) | -O3 / baseline |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    stats_sources = {}
    for index, (op, size, text, inputs, baseline, until) in enumerate(
            cases(args.quick)):
        name = f"case{index}"
        plain = OUT / f"{name}.lz"
        plain.write_text(text)
        stats_sources[op] = plain
        cheapest = search_report(plain, 6)
        matched = re.search(r"\[(Matmul[^\]]*)\]", cheapest["report"])
        what = (f"{len(cheapest['steps'])} steps: {matched.group(1)}"
                if matched else "none (the expression)")
        direct = compile_lib(plain, f"{name}_direct", ["--search=false"])
        searched = compile_lib(plain, f"{name}_searched", ["--search"])
        measured = compile_lib(plain, f"{name}_measured",
                               ["--search", "--search-measure"])
        libs = [direct, searched, measured]
        headline = "the cheapest"
        if until:
            written = OUT / f"{name}-{until}.lz"
            found = search_report(plain, 7, until, written)
            libs.append(compile_lib(written, f"{name}_{until}",
                                    ["--search=false"]))
            headline = f"{len(found['steps'])} steps to {until}"
        rank = len(inputs[0].shape) if "G2BMM" in op else 4
        reference = baseline()
        scale = np.abs(reference).max()
        for lib in libs:
            value = lib.call("conv", inputs, [rank])[0]
            if np.abs(value - reference).max() > 1e-10 * scale:
                sys.exit(f"bench: {op} {size}: results differ")
        # A warm-up: the first measurements of a run were noisy.
        best_time(baseline, 0.05)
        times = [best_time(lambda lib=lib: lib.call("conv", inputs, [rank]))
                 for lib in libs]
        t_base = best_time(baseline)
        rows.append(
            f"| {op} | {size} | {what} | {seconds(times[0])} | "
            f"{seconds(times[1])} | {times[0] / times[1]:.1f}× | "
            f"{seconds(times[2])} | {headline} | "
            f"{seconds(times[3]) if until else '—'} | {seconds(t_base)} | "
            f"{times[1] / t_base:.2f} |")
        print(rows[-1], flush=True)

    stats = ["| expression | depth | distinct states | duplicates removed | "
             "time | headline derivation found at depth | guided: states to "
             "it (depth) |",
             "|---|---|---|---|---|---|---|"]
    patterns = {"Conv3x3": "Matmul", "ConvTranspose 4×4/2": "Matmul",
                "Conv5x5": "Conv3x3", "G2BMM, dilation 2": "G2BMM"}
    for op, source in stats_sources.items():
        found = search_report(source, 8, patterns[op])
        guided = search_report(source, 8, patterns[op], guided=True)
        to_pattern = f"{guided['states']} ({len(guided['steps'])})"
        for depth in range(4, 7 if args.quick else 9):
            s = search_report(source, depth)
            mark = " (stopped at 200,000)" if s["truncated"] else ""
            stats.append(f"| {op} | {depth} | {s['states']:,}{mark} | "
                         f"{s['duplicates']:,} | "
                         f"{seconds(s['time']) if s['time'] else '< 1 ms'} | "
                         f"{len(found['steps'])} | {to_pattern} |")
            print(stats[-1], flush=True)
    table = "\n".join(rows) + "\n\n" + "\n".join(stats)
    print(table)
    if not args.no_write:
        write_table(ROOT, "search", table)
        print("bench: wrote the search table into docs/benchmarks.md")


if __name__ == "__main__":
    main()
