"""Random sums guarded by congruences, checked end to end.

    congruences.py LEIBNIZ WORKDIR COUNT

Each seeded program is a sum over r of x[y / c] * w[r] where
y = a * h + b * r + d is a multiple of c and y / c a row of x, the guard
written as `y % c == 0` or `c * (y / c) == y` and the read as a guarded
product, a guarded factor or a negated product. `leibniz search` either
converts it (the congruence fixes a summed variable) or rejects it with a
located error and status 1. A converted program's derived definition and
its -O3 compilation (the search in the pipeline) must agree with the
original in the reference interpreter on random inputs.
"""

import random
import subprocess
import sys
from pathlib import Path

import numpy as np


def generate(seed):
    rng = random.Random(seed)
    c = rng.choice([2, 3, 4])
    a = rng.choice([1, 2, 3, -1])
    b = rng.choice([1, -1, 2, 3, -2, -3])
    d = rng.randint(-3, 5)
    rows = rng.randint(2, 6)
    shapes = {"x": rows, "w": c * rng.randint(1, 3)}
    outputs = c * rng.randint(1, 4)
    congruence = rng.choice([f"y % {c} == 0", f"0 == y % {c}",
                             f"{c} * (y / {c}) == y"])
    guard = f"{congruence} && y >= 0 && y / {c} < {rows}"
    body = rng.choice([
        f"if {guard} then x[y / {c}] * w[r] else 0.0",
        f"w[r] * (if {guard} then x[y / {c}] else 0.0)",
        f"if {guard} then -(x[y / {c}] * w[r]) else 0.0",
    ])
    source = (f"def f(x: f64[{shapes['x']}], w: f64[{shapes['w']}]) -> "
              f"f64[{outputs}] =\n"
              f"  for h < {outputs}. sum r < {shapes['w']}. {{\n"
              f"    let y = {a} * h + {b} * r + {d}\n"
              f"    {body}\n"
              f"  }}\n")
    return source, shapes


def run(leibniz, args, source, out, extra):
    subprocess.run([leibniz, "run", *extra, str(source), "--entry", "f",
                    f"--out={out}", *args], check=True, capture_output=True)
    return np.load(out)


def main():
    leibniz, workdir, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    workdir.mkdir(parents=True, exist_ok=True)
    converted = rejected = failed = 0
    for seed in range(count):
        source, shapes = generate(seed)
        work = workdir / str(seed)
        work.mkdir(exist_ok=True)
        original = work / "f.lz"
        original.write_text(source)
        derived = work / "derived.lz"
        search = subprocess.run(
            [leibniz, "search", str(original), "--entry", "f", "--depth", "2",
             "-o", str(derived)], capture_output=True, text=True)
        if search.returncode != 0:
            if search.returncode == 1 and "f.lz:" in search.stderr and \
                    "error: the tensor search needs" in search.stderr:
                rejected += 1
                continue
            failed += 1
            print(f"seed {seed}: status {search.returncode}\n{source}"
                  f"{search.stderr}")
            continue
        rng = np.random.default_rng(seed)
        args = []
        for name, size in shapes.items():
            path = work / f"{name}.npy"
            np.save(path, rng.standard_normal(size))
            args += ["--arg", f"{name}={path}"]
        expected = run(leibniz, args, original, work / "expected.npy",
                       ["--engine=interp"])
        for tag, program, extra in (
                ("derived", derived, ["--engine=interp"]),
                ("-O3", original, ["-O3", "--search-cache=none"])):
            actual = run(leibniz, args, program, work / f"{tag}.npy", extra)
            difference = np.abs(actual - expected).max() / max(
                1.0, np.abs(expected).max())
            if actual.shape != expected.shape or not difference <= 1e-12:
                failed += 1
                print(f"seed {seed}: {tag} differs by {difference}\n{source}")
                break
        else:
            converted += 1
    print(f"congruences: {count} programs, {converted} converted and agree, "
          f"{rejected} rejected, {failed} failed")


if __name__ == "__main__":
    main()
