"""Checks a derived definition against the original in the reference
interpreter, on random inputs of the given shapes.

    check_derived.py LEIBNIZ ORIGINAL DERIVED ENTRY WORKDIR NAME=D0,D1,... ...
"""

import subprocess
import sys
from pathlib import Path

import numpy as np


def main():
    leibniz, original, derived, entry, workdir = sys.argv[1:6]
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    args = []
    for spec in sys.argv[6:]:
        name, shape = spec.split("=")
        path = work / f"{name}.npy"
        np.save(path, rng.standard_normal([int(d) for d in shape.split(",")]))
        args += ["--arg", f"{name}={path}"]
    results = []
    for source, tag in ((original, "original"), (derived, "derived")):
        out = work / f"{tag}.npy"
        subprocess.run([leibniz, "run", "--engine=interp", source, "--entry",
                        entry, f"--out={out}", *args], check=True,
                       capture_output=True)
        results.append(np.load(out))
    expected, actual = results
    scale = max(1.0, np.abs(expected).max())
    difference = np.abs(actual - expected).max() / scale
    if expected.shape != actual.shape or not difference <= 1e-12:
        sys.exit(f"the derived program differs: {difference}")
    print("derived program agrees with the original")


if __name__ == "__main__":
    main()
