"""The cheap gradient principle as a property of the reverse-mode gradients
of the benchmark corpus (bench/rev-ad.lz): at two sizes 8 times apart, the
operations the reference interpreter executes for each gradient are at most
4 times those of its function, and neither that ratio nor the ratio of the
elements the operations produce grows with the size by more than 15% (fixed
costs amortize differently; an accumulation of cotangents that costs a
whole tensor per point would multiply them: the elements see it where the
tensor is one operation, a fill or a tensor sum).

    cheap_gradient.py LEIBNIZ CORPUS WORKDIR
"""

import subprocess
import sys
from pathlib import Path

import numpy as np

LIMIT = 4.0


def gmm_inputs(rng, n, d, k):
    t = d * (d + 1) // 2
    return {"alphas": rng.standard_normal(k), "means": rng.standard_normal((k, d)),
            "icf": 0.3 * rng.standard_normal((k, t)),
            "x": rng.standard_normal((n, d)), "gamma": 1.0, "m": d + 1}


# name, primal, gradient, and the inputs at a small and a large size.
CASES = [
    ("dot", "dot2", "dot_grad",
     lambda rng, s: {"x": rng.standard_normal(s), "y": rng.standard_normal(s)},
     (32, 256)),
    ("least squares", "lsq", "lsq_grad",
     lambda rng, s: {"w": rng.standard_normal(4), "X": rng.standard_normal((s, 4)),
                     "y": rng.standard_normal(s)},
     (16, 128)),
    ("softmax cross-entropy", "xent", "xent_grad",
     lambda rng, s: {"z": rng.standard_normal(s), "p": rng.dirichlet(np.ones(s))},
     (32, 256)),
    ("gather", "gather", "gather_grad",
     lambda rng, s: {"x": rng.standard_normal(s // 2),
                     "idx": rng.integers(0, s // 2, s).astype(np.int64),
                     "w": rng.standard_normal(s)},
     (32, 256)),
    ("conv3x3", "conv", "conv_grad",
     lambda rng, s: {"X": rng.standard_normal((2, s + 2, s + 2)),
                     "K": rng.standard_normal((2, 2, 3, 3))},
     (4, 12)),
    ("1000-step loop", "descent", "descent_grad",
     lambda rng, s: {"x0": rng.standard_normal(s), "a": rng.uniform(0.5, 1.5, s),
                     "lr": 0.1, "steps": 1000},
     (2, 8)),
    ("GMM", "gmm", "gmm_grad", lambda rng, s: gmm_inputs(rng, s, 3, 4), (8, 64)),
    # The dense factor, unpacked under conditions: at more components and
    # dimensions, each read's cotangent must stay one element.
    ("GMM (dense factor)", "gmm_dense", "gmm_dense_grad",
     lambda rng, s: gmm_inputs(rng, 8, s, s), (6, 48)),
    ("MLP", "mlp_loss", "mlp_grad",
     lambda rng, s: {"X": rng.standard_normal((s, 4)), "W1": rng.standard_normal((4, 8)),
                     "b1": rng.standard_normal(8), "W2": rng.standard_normal((8, 3)),
                     "T": rng.standard_normal((s, 3))},
     (8, 64)),
]


def count_ops(leibniz, corpus, entry, args):
    """The operations and the elements they produced, as the interpreter
    counts them."""
    cmd = [leibniz, "run", "--engine=interp", "--count-ops", corpus,
           "--entry", entry]
    for name, value in args.items():
        cmd += ["--arg", f"{name}={value}"]
    result = subprocess.run(cmd, text=True, capture_output=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stderr}")
    counts = {}
    for line in result.stderr.splitlines():
        key, _, value = line.partition(": ")
        if key in ("operations", "elements"):
            counts[key] = int(value)
    if len(counts) != 2:
        sys.exit(f"no operation and element counts from {' '.join(cmd)}")
    return counts["operations"], counts["elements"]


def main():
    leibniz, corpus, workdir = sys.argv[1:4]
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    failures = []
    for name, primal, gradient, make, sizes in CASES:
        ratios, element_ratios = [], []
        for size in sizes:
            args = {}
            for arg, value in make(rng, size).items():
                if isinstance(value, np.ndarray):
                    path = work / f"{primal}-{size}-{arg}.npy"
                    np.save(path, value)
                    args[arg] = str(path)
                else:
                    args[arg] = repr(value)
            base, base_elements = count_ops(leibniz, corpus, primal, args)
            ops, elements = count_ops(leibniz, corpus, gradient, args)
            ratios.append(ops / base)
            element_ratios.append(elements / base_elements)
            print(f"{name:22} size {size:4}: {base:9} primal, {ops:9} gradient, "
                  f"ratio {ops / base:.2f}; elements {base_elements:9} primal, "
                  f"{elements:9} gradient, ratio {elements / base_elements:.2f}")
        if max(ratios) > LIMIT:
            failures.append(f"{name}: ratio {max(ratios):.2f} exceeds {LIMIT}")
        if ratios[1] > ratios[0] * 1.15:
            failures.append(f"{name}: ratio grows from {ratios[0]:.2f} to "
                            f"{ratios[1]:.2f}")
        if element_ratios[1] > element_ratios[0] * 1.15:
            failures.append(f"{name}: ratio of elements grows from "
                            f"{element_ratios[0]:.2f} to {element_ratios[1]:.2f}")
    for failure in failures:
        print("FAILED:", failure)
    if failures:
        sys.exit(1)
    print("cheap gradient principle holds")


if __name__ == "__main__":
    main()
