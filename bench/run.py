#!/usr/bin/env python3
"""Runs the benchmark suite and writes docs/benchmarks.md.

    bench/run.py [--threads N,M,...] [--only PREFIX] [--no-write]

Compiles bench/programs.lz with `leibniz compile -O3`, builds the harness
(hand-written C++ baselines and OpenBLAS, -O3 -march=native), times every
case with Leibniz and the baselines in the same run, times the PyTorch
baseline (python3-torch) when it is installed, measures the compile time of
`leibniz run`, prints a table and writes docs/benchmarks.md with a plot.
This is done for each thread count (default: 1 and the number of cores);
Leibniz, OpenBLAS and PyTorch then use that many threads
(LEIBNIZ_NUM_THREADS, OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
torch.set_num_threads); the hand-written C++ is sequential.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "bench"


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, text=True, **kwargs)


def build():
    OUT.mkdir(parents=True, exist_ok=True)
    leibniz = BUILD / "bin" / "leibniz"
    if not leibniz.exists():
        sys.exit("bench: build Leibniz first (scripts/build.sh)")
    start = time.perf_counter()
    run([str(leibniz), "compile", "-O3", str(ROOT / "bench" / "programs.lz"),
         "-o", str(OUT / "libbench.so"), "--header", str(OUT / "bench.h")])
    compile_seconds = time.perf_counter() - start
    run(["c++", "-O3", "-march=native", "-std=c++17", "-I", str(OUT),
         str(ROOT / "bench" / "harness.cpp"),
         str(ROOT / "bench" / "baselines.cpp"), "-L", str(OUT), "-lbench",
         "-lopenblas", "-Wl,-rpath," + str(OUT), "-o", str(OUT / "harness")])
    return compile_seconds


def time_torch(name, threads):
    try:
        import torch
    except ImportError:
        return None
    sys.path.insert(0, str(ROOT / "bench"))
    import torch_cases
    torch.set_num_threads(threads)
    fn = torch_cases.case(name)
    fn()
    reps = 1
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        if time.perf_counter() - start > 0.02 or reps > (1 << 20):
            break
        reps *= 2
    samples = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        samples.append((time.perf_counter() - start) / reps)
    return statistics.median(samples)


def thread_env(threads):
    env = dict(os.environ)
    for name in ("LEIBNIZ_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "OMP_NUM_THREADS"):
        env[name] = str(threads)
    return env


def measure(threads, only):
    """The rows of the table for one thread count."""
    env = thread_env(threads)
    output = run([str(OUT / "harness"), only], env=env,
                 stdout=subprocess.PIPE).stdout
    rows, by_case = [], {}
    for line in output.splitlines():
        case, impl, elements, seconds, difference = line.split("\t")
        if case not in by_case:
            by_case[case] = {"case": case, "elements": int(elements)}
            rows.append(by_case[case])
        by_case[case][impl] = float(seconds)
        if impl == "leibniz":
            by_case[case]["difference"] = float(difference)
    # PyTorch in a process of its own: its BLAS reads the thread count from
    # the environment when it is loaded.
    torch_output = run([sys.executable, __file__, "--torch-worker",
                        "--threads", str(threads)], env=env,
                       input="\n".join(by_case) + "\n",
                       stdout=subprocess.PIPE).stdout
    for line in torch_output.splitlines():
        case, seconds = line.split("\t")
        if case in by_case and seconds != "-":
            by_case[case]["pytorch"] = float(seconds)
    return rows


def torch_worker(threads):
    """Times the PyTorch baseline of the cases named on stdin."""
    for case in sys.stdin.read().splitlines():
        seconds = time_torch(case, threads)
        print(f"{case}\t{'-' if seconds is None else seconds}", flush=True)


def compile_time():
    """Wall time of `leibniz run` (JIT and interpreter) and `leibniz check`
    on the 100-line program, median of 5."""
    leibniz = str(BUILD / "bin" / "leibniz")
    program = str(ROOT / "bench" / "compile-time.lz")
    lines = len(Path(program).read_text().splitlines())
    result = {"lines": lines}
    for label, cmd in [("check", [leibniz, "check", program]),
                       ("run", [leibniz, "run", program]),
                       ("run -O0", [leibniz, "run", "-O0", program]),
                       ("run --engine=interp",
                        [leibniz, "run", "--engine=interp", program])]:
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            run(cmd, stdout=subprocess.DEVNULL)
            samples.append(time.perf_counter() - start)
        result[label] = statistics.median(samples)
    return result


def fmt_time(seconds):
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(baseline, leibniz):
    if baseline is None or leibniz is None:
        return "—"
    return f"{baseline / leibniz:.2f}"


def plot(rows, path):
    """A horizontal bar chart (SVG) of each baseline's time over Leibniz's:
    right of 1 means Leibniz is faster."""
    import math
    series = [("c++", "#4c72b0"), ("openblas", "#55a868"), ("pytorch", "#c44e52")]
    bar, gap, left, width = 7, 8, 190, 460
    height = len(rows) * (bar * 3 + gap) + 60
    lo, hi = -2.0, 4.0  # log2 of the ratio
    def x(ratio):
        r = min(max(math.log2(ratio), lo), hi)
        return left + (r - lo) / (hi - lo) * width
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="14">baseline time / Leibniz time '
           '(log scale; right of 1: Leibniz is faster)</text>']
    for tick in range(int(lo), int(hi) + 1):
        tx = x(2.0 ** tick)
        out.append(f'<line x1="{tx}" y1="22" x2="{tx}" y2="{height - 30}" '
                   f'stroke="{"#000" if tick == 0 else "#ddd"}"/>')
        out.append(f'<text x="{tx}" y="{height - 16}" text-anchor="middle">'
                   f'{2.0 ** tick:g}</text>')
    y = 28
    for row in rows:
        out.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">'
                   f'{row["case"]}</text>')
        for i, (name, color) in enumerate(series):
            t = row.get(name)
            if t is None:
                continue
            ratio = t / row["leibniz"]
            x0, x1 = x(1.0), x(ratio)
            out.append(f'<rect x="{min(x0, x1)}" y="{y + i * bar}" '
                       f'width="{abs(x1 - x0)}" height="{bar - 1}" fill="{color}"/>')
        y += bar * 3 + gap
    for i, (name, color) in enumerate(series):
        out.append(f'<rect x="{left + 10 + i * 90}" y="{height - 10}" width="10" '
                   f'height="8" fill="{color}"/><text x="{left + 24 + i * 90}" '
                   f'y="{height - 2}">{name}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def format_table(rows):
    header = ("| case | elements | Leibniz | C++ | OpenBLAS | PyTorch | "
              "C++/Leibniz | OpenBLAS/Leibniz | PyTorch/Leibniz | rel. diff. |")
    table = [header, "|" + "---|" * 10]
    for row in rows:
        table.append(
            f"| {row['case']} | {row['elements']:,} | {fmt_time(row['leibniz'])} "
            f"| {fmt_time(row.get('c++'))} | {fmt_time(row.get('openblas'))} "
            f"| {fmt_time(row.get('pytorch'))} "
            f"| {fmt_ratio(row.get('c++'), row['leibniz'])} "
            f"| {fmt_ratio(row.get('openblas'), row['leibniz'])} "
            f"| {fmt_ratio(row.get('pytorch'), row['leibniz'])} "
            f"| {row['difference']:.1e} |")
    return "\n".join(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cores = os.cpu_count() or 1
    parser.add_argument("--threads", default="1" if cores == 1 else f"1,{cores}",
                        help="comma-separated thread counts")
    parser.add_argument("--only", default="")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--torch-worker", action="store_true",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        thread_counts = [int(t) for t in args.threads.split(",")]
        if any(t < 1 for t in thread_counts):
            raise ValueError
    except ValueError:
        sys.exit(f"bench: --threads takes positive counts, got '{args.threads}'")
    if args.torch_worker:
        torch_worker(thread_counts[0])
        return

    compile_seconds = build()
    tables = []
    first_rows = None
    for threads in thread_counts:
        rows = measure(threads, args.only)
        first_rows = first_rows or rows
        title = f"### {threads} thread{'s' if threads > 1 else ''}"
        table = format_table(rows)
        print(title + "\n\n" + table + "\n")
        tables.append(title + "\n\n" + table)
    times = compile_time()
    print(f"compile: leibniz compile of programs.lz {compile_seconds:.2f} s; "
          f"{times}")
    if args.no_write or args.only:
        return
    plot(first_rows, ROOT / "docs" / "benchmarks.svg")
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    template = (ROOT / "bench" / "benchmarks.md.in").read_text()
    text = template.format(
        tables="\n\n".join(tables), cpu=cpu,
        threads=" and ".join(str(t) for t in thread_counts),
        plot_threads=thread_counts[0],
        torch=torch_version, date=time.strftime("%Y-%m-%d"),
        compile_lib=f"{compile_seconds:.2f} s", lines=times["lines"],
        check=f"{times['check']:.2f} s", run=f"{times['run']:.2f} s",
        run_o0=f"{times['run -O0']:.2f} s",
        interp=f"{times['run --engine=interp']:.2f} s")
    (ROOT / "docs" / "benchmarks.md").write_text(text)
    print("bench: wrote docs/benchmarks.md and docs/benchmarks.svg")


if __name__ == "__main__":
    main()
