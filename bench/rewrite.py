#!/usr/bin/env python3
"""Times `normalize` over the cleanup rules on a generated function.

    python3 bench/rewrite.py [--ops N] [--reference] [--emit]

Generates one function of about N operations (default 10000) in which
every rule of the cleanup strategy has work (reads of traversals, sizes of
traversals, tuple projections, additions of -0.0, products by 1, dead
code), and times `leibniz-opt --lz-rewrite=cleanup` on it: the worklist
execution of normalize and, with --reference, its definition restarting
from the root after each rewrite (on smaller functions too, where that is
slow); --emit prints the function instead. Also times parsing and printing
alone (`leibniz-opt` without a
pass), which both runs include. Medians of 3.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPT = ROOT / "build" / "bin" / "leibniz-opt"


def generate(blocks):
    lines = ["func.func @f(%x: tensor<?xf64>, %n: index, %j: index) -> f64 {",
             "  %c0 = arith.constant 0 : index",
             "  %nz = arith.constant -0.0 : f64",
             "  %one = arith.constant 1.0 : f64",
             "  %acc0 = arith.constant 0.0 : f64"]
    for b in range(blocks):
        lines += [
            f"  %t{b} = lz.for %i < %n : tensor<?xf64> {{",
            f"    %e = lz.get %x[%i] : tensor<?xf64>",
            f"    %m = arith.mulf %e, %one : f64",
            f"    lz.yield %m : f64",
            f"  }}",
            f"  %d{b} = tensor.dim %t{b}, %c0 : tensor<?xf64>",
            f"  %g{b} = lz.get %t{b}[%d{b}] : tensor<?xf64>",
            f"  %a{b} = arith.addf %g{b}, %nz : f64",
            f"  %p{b} = lz.tuple(%a{b}, %acc{b} : f64, f64)",
            f"  %q{b} = lz.proj %p{b}[1] : tuple<f64, f64>",
            f"  %u{b} = arith.mulf %a{b}, %a{b} : f64",
            f"  %acc{b + 1} = arith.addf %q{b}, %a{b} : f64",
        ]
    lines += [f"  return %acc{blocks} : f64", "}"]
    return "\n".join(lines) + "\n"


def count_ops(path):
    """The number of operations, from --print-op-stats."""
    out = subprocess.run([str(OPT), str(path), "--print-op-stats",
                          "-o", "/dev/null"], check=True, text=True,
                         stderr=subprocess.PIPE).stderr
    return sum(int(line.rsplit(",", 1)[1]) for line in out.splitlines()
               if "," in line)


def time_run(args):
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([str(OPT)] + args, check=True,
                       stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10000)
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--emit", action="store_true",
                        help="print the generated function and stop")
    args = parser.parse_args()
    if args.emit:
        sys.stdout.write(generate(max(1, args.ops // 11)))
        return
    if not OPT.exists():
        sys.exit("bench: build Leibniz first (scripts/build.sh)")
    with tempfile.TemporaryDirectory() as tmp:
        sizes = [args.ops]
        if args.reference:
            sizes = sorted({args.ops // 10, args.ops // 4, args.ops})
        for ops in sizes:
            path = Path(tmp) / f"f{ops}.mlir"
            path.write_text(generate(max(1, ops // 11)))
            n = count_ops(path)
            parse = time_run([str(path)])
            worklist = time_run([str(path), "--lz-rewrite=cleanup"])
            line = (f"{n} ops: parse+print {parse:.3f} s, "
                    f"normalize (worklist) {worklist:.3f} s")
            if args.reference:
                reference = time_run(
                    [str(path), "--lz-rewrite=strategy=cleanup reference=true"])
                line += f", normalize (reference) {reference:.3f} s"
            print(line, flush=True)


if __name__ == "__main__":
    main()
