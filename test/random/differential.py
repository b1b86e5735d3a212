#!/usr/bin/env python3
"""Differential testing of Leibniz on random programs.

    differential.py LEIBNIZ [--count N] [--seed S] [--jobs J] [--batch B]
                    [--save DIR] [--workdir DIR] [--reduce-budget K]
                    [--gpu-every K]

Generates random well-typed Leibniz definitions `f(s: f64, x: f64[4],
A: f64[3, 4]) -> f64` from seeds: scalar arithmetic, math functions on
domains where they are smooth (`log(1 + e * e)`, division by `1 + e * e`),
`for` and `sum` scopes with affine, reversed, rotated (`%`) and halved
(`/`) indices, gathers through an
integer index vector with repeated values and their transposes written as
one-hot sums, matrix-vector products, counted loops, conditionals, tuples,
calls of a helper, lambdas, `fixed_point`, `root` and `argmin` (implicit
derivatives), and `minimize` with each optimizer of the standard library.
For each program it checks that

- the interpreter and the JIT at -O2 compute the same value, bit for bit,
  and at -O3 within 1e-9 relative to the value's magnitude (at least 1),
  NaN and infinities exactly;
- `leibniz gradcheck --mode both` passes: forward mode, reverse mode and
  central finite differences agree, with the default rewrite strategies,
  with none (`--strategy=id`), and with one named strategy, a different one
  for successive batches;
- the reverse-mode gradient, compiled, equals the interpreter's: bit for
  bit at -O2, and within 1e-9 at -O3, after the tensor search;
- for every `--gpu-every`-th batch, the CUDA target compiles the program to
  PTX (`emit --emit=ptx`), and its kernels, run on the host
  (`run --target=cuda --gpu-emulation`), compute the interpreter's value
  bit for bit at -O0, and within 1e-9 at -O2, where reductions are split
  into partitions for the GPU's threads.

The programs are checked `--batch` at a time, in one file (`h_0`, `f_0`,
`h_1`, `f_1`, ..., and a `main` that returns the tuple of their values):
most of a short run of `leibniz` is fixed cost. When a file fails a check,
its programs are checked one by one.

A failing program is reduced (each subexpression replaced by a smaller one
of the same type while the program stays well-formed and the same check
still fails, within a budget of checks) and written to the `--save`
directory as a regression test. Exit status 1 when any check failed; the
summary line gives the counts.
"""

import argparse
import math
import os
import random
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

N, M = 4, 3  # the sizes of x: f64[N] and A: f64[M, N]
G = 6  # the size of the gather indices idx: i64[G], with values in 0..N-1

# The Adam family with eps_root > 0: a step that sees a zero gradient (a
# start at the minimum, as `s - s` can make) has a NaN derivative without it
# (docs/optimization.md; seed 47891 of the long run). The step bends where
# the gradient is about sqrt(eps_root), and there central differences are
# off by 1e-5 with eps_root = 1e-6 (seed 63678, from near a minimum);
# eps_root = 1e-2 moves the bend well above their steps.
OPTIMIZERS = ["sgd(lr = 0.1)", "momentum(lr = 0.1, beta = 0.9)",
              "momentum(lr = 0.1, beta = 0.9, nesterov = true)",
              "adam(lr = 0.05, eps_root = 1e-2)",
              "adamw(lr = 0.05, wd = 0.01, eps_root = 1e-2)",
              "lion(lr = 0.01)", "adafactor(lr = 0.05)",
              "ademamix(lr = 0.05, eps_root = 1e-2)", "sf_sgd(lr = 0.1)",
              "sf_adamw(lr = 0.05, eps_root = 1e-2)", "dog()",
              "cautious(adam(lr = 0.05, eps_root = 1e-2))"]
# Not lbfgs: its line search's accept/reject decisions make the function
# discontinuous, by about 1e-11 at points within 1e-7 of a decision, which
# central differences then see (seed 198 of the first run).

# ---------------------------------------------------------------------------
# Expressions: trees of (kind, type, children...) that print as Leibniz.
# Types: "s" (f64), "v" (f64[N]), "w" (f64[M]).
# ---------------------------------------------------------------------------


class E:
    def __init__(self, text, ty, children=(), fmt=None):
        self.text, self.ty, self.children, self.fmt = text, ty, list(children), fmt

    def render(self):
        if self.fmt is None:
            return self.text
        return self.fmt.format(*[c.render() for c in self.children])

    def nodes(self):
        yield self
        for c in self.children:
            yield from c.nodes()


def leaf(text, ty):
    return E(text, ty)


def op(fmt, ty, *children):
    return E(None, ty, children, fmt)


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.fresh = 0

    def name(self, prefix):
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    def pick(self, options):
        return self.rng.choice(options)

    def literal(self):
        return leaf(self.pick(["0.5", "1.25", "-0.75", "2.0", "0.1"]), "s")

    def scalar(self, env, depth):
        """A scalar expression over `env`: {"s": [...], "v": [...], "w":
        [...], "i": [(name, size)]}."""
        r = self.rng.random()
        if depth <= 0 or r < 0.2:
            choices = [lambda: leaf(self.pick(env["s"]), "s"), self.literal]
            if env["v"]:
                choices.append(lambda: self.element(env, "v", N))
            if env["w"]:
                choices.append(lambda: self.element(env, "w", M))
            if env["A"]:
                choices.append(lambda: self.matrix_element(env))
            return self.pick(choices)()
        d = depth - 1
        kind = self.pick(["add", "sub", "mul", "mul", "div", "fn", "fn",
                          "neg", "sum", "sum", "gsum", "gsum", "if", "call",
                          "lambda", "dot", "let", "solve"])
        if kind in ("add", "sub", "mul"):
            sym = {"add": "+", "sub": "-", "mul": "*"}[kind]
            return op("({} " + sym + " {})", "s", self.scalar(env, d),
                      self.scalar(env, d))
        if kind == "div":
            b = self.scalar(env, d)
            return op("({} / (1.0 + {} * {}))", "s", self.scalar(env, d), b, b)
        if kind == "fn":
            f = self.pick(["exp(tanh({}))", "log(1.0 + {0} * {0})",
                           "sqrt(1.0 + {0} * {0})", "sin({})", "cos({})",
                           "tanh({})", "sigmoid({})", "softplus({})",
                           "({0} * {0})"])
            return op(f, "s", self.scalar(env, d))
        if kind == "neg":
            return op("(-{})", "s", self.scalar(env, d))
        if kind == "sum":
            k, size = self.name("k"), self.pick([N, N, M])
            inner = dict(env, i=env["i"] + [(k, size)])
            return op("(sum " + k + " < " + str(size) + ". {})", "s",
                      self.scalar(inner, d))
        if kind == "gsum" and not env.get("helper"):
            # A sum over the gather indices `idx` (values in 0..N-1, with
            # repeats): reads through it accumulate in reverse mode.
            k = self.name("k")
            inner = dict(env, i=env["i"] + [(k, G)], g=env["g"] + [k])
            return op("(sum " + k + " < " + str(G) + ". {})", "s",
                      self.scalar(inner, d))
        if kind == "solve" and not env.get("helper"):
            return self.solve(env, d)
        if kind == "if":
            a, b = self.scalar(env, d), self.scalar(env, d)
            # Branch on a comparison far from equality at most points.
            return op("(if {} > 0.25 then {} else {})", "s",
                      self.scalar(env, 0), a, b)
        if kind == "call" and not env.get("helper"):
            return op("h({})", "s", self.scalar(env, d))
        if kind == "lambda":
            z = self.name("z")
            inner = dict(env, s=env["s"] + [z])
            return op("{{ let g = fn(" + z + ") => {} \n  g({}) }}", "s",
                      self.scalar(inner, d), self.scalar(env, d))
        if kind == "dot" and env["v"]:
            return op("dot({}, {})", "s", self.vector(env, d),
                      self.vector(env, d))
        if kind == "let":
            t = self.name("t")
            inner = dict(env, s=env["s"] + [t])
            return op("{{ let " + t + " = {}\n  {} }}", "s",
                      self.scalar(env, d), self.scalar(inner, d))
        return self.scalar(env, 0)

    def solve(self, env, depth):
        """A scalar defined implicitly: a fixed point of a contraction, the
        root of a monotone function, or the minimizer of a strongly convex
        one, of a parameter `c` computed first. Their derivatives are
        implicit (docs/optimization.md)."""
        c, z = self.name("c"), self.name("z")
        kind = self.pick(["fixed_point", "root", "argmin"])
        if kind == "fixed_point":
            # |d/dz| <= 1/2: the iteration and the Neumann series converge.
            body = self.pick(["0.5 * tanh({z} + {c})", "0.5 * sin({z}) + {c}"])
            call = f"fixed_point(fn({z}) => {body.format(z=z, c=c)}, 0.0)"
        elif kind == "root":
            call = (f"root(fn({z}) => {z} + 0.5 * tanh({z}) - {c}, 0.0)")
        else:
            # Gradient descent contracts by 0.4 per step on this quadratic.
            call = (f"argmin(fn({z}) => 0.5 * ({z} - {c}) * ({z} - {c}) + "
                    f"0.1 * {z} * {z}, 0.0, sgd(lr = 0.5), steps = 100)")
        return op("{{ let " + c + " = {}\n  " + call + " }}", "s",
                  self.scalar(env, depth))

    def element(self, env, kind, size):
        vec = self.pick(env[kind])
        if kind == "v" and env["g"] and self.rng.random() < 0.5:
            k = self.pick(env["g"])
            return leaf(f"{vec}[idx[{self.pick([k, f'{G - 1} - {k}'])}]]", "s")
        indices = [name for name, n in env["i"] if n == size]
        if indices and self.rng.random() < 0.8:
            i = self.pick(indices)
            # Reversed, rotated and halved.
            shift = self.rng.randrange(1, size)
            index = self.pick([i, f"{size - 1} - {i}",
                               f"({i} + {shift}) % {size}", f"{i} / 2"])
        else:
            index = str(self.rng.randrange(size))
        return leaf(f"{vec}[{index}]", "s")

    def matrix_element(self, env):
        rows = [name for name, n in env["i"] if n == M]
        cols = [name for name, n in env["i"] if n == N]
        r = self.pick(rows) if rows else str(self.rng.randrange(M))
        c = self.pick(cols) if cols else str(self.rng.randrange(N))
        if env["g"] and self.rng.random() < 0.5:
            c = f"idx[{self.pick(env['g'])}]"
        return leaf(f"{self.pick(env['A'])}[{r}, {c}]", "s")

    def vector(self, env, depth):
        """An expression of type f64[N]."""
        r = self.rng.random()
        if depth <= 0 or r < 0.25:
            return leaf(self.pick(env["v"]), "v")
        d = depth - 1
        kind = self.pick(["for", "for", "scale", "add", "loop", "tuple",
                          "gather", "gather", "scatter", "minimize",
                          "minimize"])
        if kind == "for":
            i = self.name("i")
            inner = dict(env, i=env["i"] + [(i, N)])
            return op("(for " + i + " < " + str(N) + ". {})", "v",
                      self.scalar(inner, d))
        if kind == "scale":
            return op("({} * {})", "v", self.scalar(env, d),
                      self.vector(env, d))
        if kind == "add":
            return op("({} + {})", "v", self.vector(env, d),
                      self.vector(env, d))
        if kind == "loop":
            y, i = self.name("y"), self.name("i")
            inner = dict(env, v=[y], i=env["i"] + [(i, N)])
            step = self.scalar(inner, min(d, 2))
            return op("(loop " + y + " = {} for t < 3 {{ for " + i + " < " +
                      str(N) + ". 0.5 * " + y + "[" + i + "] + 0.25 * "
                      "tanh({}) }})", "v", self.vector(env, d), step)
        if kind == "gather" and not env.get("helper"):
            # Reads of a computed vector through the gather indices.
            i, t = self.name("i"), self.name("t")
            shift = self.rng.randrange(G - N + 1)
            return op("{{ let " + t + " = {}\n  for " + i + " < " + str(N) +
                      ". " + t + "[idx[" + i + " + " + str(shift) + "]] }}",
                      "v", self.vector(env, d))
        if kind == "scatter" and not env.get("helper"):
            # The transpose of a gather, written as a one-hot sum.
            i, k = self.name("i"), self.name("k")
            inner = dict(env, i=env["i"] + [(k, G)], g=env["g"] + [k])
            return op("(for " + i + " < " + str(N) + ". sum " + k + " < " +
                      str(G) + ". if idx[" + k + "] == " + i + " then {} "
                      "else 0.0)", "v", self.scalar(inner, d))
        if kind == "minimize" and not env.get("helper"):
            # A few steps of an optimizer of the standard library,
            # differentiated through.
            t, y, j = self.name("t"), self.name("y"), self.name("j")
            opt = self.pick(OPTIMIZERS)
            return op("{{ let " + t + " = {}\n  minimize(fn(" + y + ") => "
                      "sum " + j + " < " + str(N) + ". (" + y + "[" + j +
                      "] - " + t + "[" + j + "]) * (" + y + "[" + j + "] - " +
                      t + "[" + j + "]) + 0.1 * tanh(" + y + "[" + j +
                      "] * " + t + "[" + j + "]), {}, " + opt +
                      ", steps = 3) }}", "v", self.vector(env, d),
                      self.vector(env, d))
        if kind == "tuple":
            a, b = self.name("a"), self.name("b")
            inner = dict(env, v=env["v"] + [a], s=env["s"] + [b])
            return op("{{ let (" + a + ", " + b + ") = ({}, {})\n  " + a +
                      " * " + b + " }}", "v", self.vector(env, d),
                      self.scalar(env, d))
        return leaf(self.pick(env["v"]), "v")

    def program(self):
        env = {"s": ["s"], "v": ["x"], "w": [], "A": ["A"], "i": [], "g": []}
        helper_env = {"s": ["u"], "v": [], "w": [], "A": [], "i": [],
                      "g": [], "helper": True}
        helper = self.scalar(helper_env, 2)
        # A matrix-vector product in scope as a vector of M elements.
        body_env = dict(env, w=["p"])
        body = self.scalar(body_env, 4)
        return helper, body


def render_program(helper, body, suffix=""):
    """The program as the definitions h and f, named h<suffix> and
    f<suffix> when several programs share a file."""
    text = re.sub(r"\bh\(", f"h{suffix}(", body.render())
    return (f"def h{suffix}(u: f64) -> f64 = {helper.render()}\n\n"
            f"def f{suffix}(s: f64, x: f64[{N}], A: f64[{M}, {N}]) -> f64 "
            f"{{\n"
            f"  let p = A @ x\n"
            f"  let idx = for q < {G}. (3 * q + 1) % {N}\n"
            f"  {text}\n"
            f"}}\n")


ARGUMENTS = f"""  let s = 0.375
  let x = for i < {N}. 0.3 * f64(i) - 0.45
  let A = for j < {M}, i < {N}. 0.2 * f64(i) - 0.15 * f64(j) + 0.05
"""


def render_main(function, suffixes):
    """main(), calling function<suffix>(s, x, A) for each suffix: the value,
    or a tuple of the values."""
    calls = [f"{function}{k}(s, x, A)" for k in suffixes]
    value = calls[0] if len(calls) == 1 else "(" + ", ".join(calls) + ")"
    return f"\ndef main() {{\n{ARGUMENTS}  {value}\n}}\n"


MAIN = render_main("f", [""])


def render_grad(suffix):
    """g<suffix>: the gradient of f<suffix> in reverse mode, folded into one
    scalar so that it prints in round-trip form."""
    return f"""
def g{suffix}(s: f64, x: f64[{N}], A: f64[{M}, {N}]) -> f64 {{
  let (gs, gx, gA) = grad(f{suffix}, wrt = (0, 1, 2))(s, x, A)
  gs + (sum i < {N}. gx[i] * (0.5 + 0.25 * f64(i))) +
    (sum j < {M}. sum i < {N}. gA[j, i] * (0.125 * f64(j) - 0.375 + f64(i)))
}}
"""

# The named strategies that gradcheck applies to the derivatives in turn,
# one per seed, besides the default schedules and none.
STRATEGIES = ["cleanup", "fwd-ad-split", "fwd-ad-onehot", "fwd-ad-opt",
              "rev-ad-split", "rev-ad-fuse", "rev-ad-opt"]

# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def run(cmd, timeout=120):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", "timed out")


def close(expected, actual):
    """Whether two printed f64 values, or tuples of them, are within 1e-9
    relative to each value's magnitude (at least 1), NaN and infinities
    exactly."""
    def values(text):
        return text.strip().strip("()").split(", ")
    try:
        pairs = [(float(a), float(b))
                 for a, b in zip(values(expected), values(actual),
                                 strict=True)]
    except ValueError:
        return False
    for a, b in pairs:
        if math.isfinite(a) and math.isfinite(b):
            if abs(a - b) > 1e-9 * max(1.0, abs(a)):
                return False
        elif repr(a) != repr(b):
            return False
    return True


def check(leibniz, programs, workdir, tag, gpu=False, strategy="cleanup"):
    """Runs every check on the programs, pairs (helper, body), in one file;
    returns None or (check, detail). `gpu` adds the checks of the CUDA
    target; `strategy` is the named strategy gradcheck applies besides the
    defaults and none."""
    # `_`: with plain numbers, the 33rd program's f32 would shadow the
    # builtin conversion.
    suffixes = [f"_{k}" for k in range(len(programs))]
    source = "\n".join(render_program(helper, body, k)
                       for (helper, body), k in zip(programs, suffixes))
    path = os.path.join(workdir, f"{tag}.lz")
    with open(path, "w") as f:
        f.write(source + render_main("f", suffixes))
    # A program the frontend rejects is no program to compare (a reduction
    # may unbind a name); the generator's programs all pass.
    checked = run([leibniz, "check", path])
    if checked.returncode != 0:
        return ("ill-formed", checked.stderr.strip())
    interp = run([leibniz, "run", "--engine=interp", path])
    if interp.returncode != 0:
        return ("interp", interp.stderr.strip())
    o2 = run([leibniz, "run", "-O2", path])
    if o2.returncode != 0:
        return ("jit-O2", o2.stderr.strip())
    if o2.stdout != interp.stdout:
        return ("jit-O2", f"interpreter {interp.stdout.strip()} != JIT "
                          f"{o2.stdout.strip()}")
    if gpu:
        ptx = run([leibniz, "emit", "--emit=ptx", path, "-o", os.devnull])
        if ptx.returncode != 0:
            return ("cuda-ptx", ptx.stderr.strip())
        for level in ("-O0", "-O2"):
            emulated = run([leibniz, "run", level, "--target=cuda",
                            "--gpu-emulation", path])
            if emulated.returncode != 0:
                return ("cuda-emulation", emulated.stderr.strip())
            if not (emulated.stdout == interp.stdout if level == "-O0" else
                    close(interp.stdout, emulated.stdout)):
                return ("cuda-emulation", f"interpreter "
                                          f"{interp.stdout.strip()} != "
                                          f"emulated kernels at {level} "
                                          f"{emulated.stdout.strip()}")
    o3 = run([leibniz, "run", "-O3", "--search-cache=none", path])
    if o3.returncode != 0:
        return ("jit-O3", o3.stderr.strip())
    if not close(interp.stdout, o3.stdout):
        return ("jit-O3", f"interpreter {interp.stdout.strip()} != -O3 "
                          f"{o3.stdout.strip()}")
    for extra in ([], ["--strategy=id"], [f"--strategy={strategy}"]):
        g = run([leibniz, "gradcheck", path, "--entry",
                 ",".join("f" + k for k in suffixes), "--mode", "both",
                 *extra])
        if g.returncode != 0:
            return (" ".join(["gradcheck", *extra]),
                    (g.stdout + g.stderr).strip())
    # The reverse-mode gradient through the compilers: the JIT at -O2 bit
    # for bit, and at -O3, after the tensor search, within 1e-9.
    grad_path = os.path.join(workdir, f"{tag}-grad.lz")
    with open(grad_path, "w") as f:
        f.write(source + "".join(render_grad(k) for k in suffixes) +
                render_main("g", suffixes))
    ginterp = run([leibniz, "run", "--engine=interp", grad_path])
    if ginterp.returncode != 0:
        return ("grad-interp", ginterp.stderr.strip())
    for level in ("-O2", "-O3"):
        compiled = run([leibniz, "run", level, "--search-cache=none",
                        grad_path])
        if compiled.returncode != 0:
            return ("grad-jit" + level, compiled.stderr.strip())
        if not (compiled.stdout == ginterp.stdout if level == "-O2" else
                close(ginterp.stdout, compiled.stdout)):
            return ("grad-jit" + level, f"interpreter "
                                        f"{ginterp.stdout.strip()} != "
                                        f"JIT at {level} "
                                        f"{compiled.stdout.strip()}")
    return None


def reduce(leibniz, helper, body, failure, workdir, tag, budget, strategy):
    """Replaces subexpressions by smaller ones of the same type while the
    program stays well-formed and the same check fails, trying at most
    `budget` candidates; returns the smallest failing (helper, body)."""
    tries = [0]

    def fails(h, b):
        tries[0] += 1
        result = check(leibniz, [(h, b)], workdir, tag + "-r",
                       gpu=failure.startswith("cuda-"), strategy=strategy)
        return result is not None and result[0] == failure

    def candidates(node):
        # Children of the same type, then a leaf.
        out = [c for c in node.children if c.ty == node.ty]
        if node.ty == "s" and node.text not in ("0.5",):
            out.append(leaf("0.5", "s"))
        if node.ty == "v" and node.text != "x":
            out.append(leaf("x", "v"))
        return out

    def replace(root, target, new):
        if root is target:
            return new
        if not root.children:
            return root
        return E(root.text, root.ty,
                 [replace(c, target, new) for c in root.children], root.fmt)

    changed = True
    while changed:
        changed = False
        for which in ("body", "helper"):
            root = body if which == "body" else helper
            for node in list(root.nodes()):
                for new in candidates(node):
                    if tries[0] >= budget:
                        return helper, body
                    tree = replace(root, node, new)
                    h, b = (tree, body) if which == "helper" else (helper, tree)
                    # A name unbound by the replacement makes the program
                    # ill-formed, which is another check's failure.
                    if fails(h, b):
                        helper, body = h, b
                        changed = True
                        break
                if changed:
                    break
            if changed:
                break
    return helper, body


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("leibniz")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=10,
                        help="programs checked together, in one file; the "
                             "programs of a failing file are checked one "
                             "by one")
    parser.add_argument("--save", default=None,
                        help="where to write reduced failing programs")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--reduce-budget", type=int, default=200,
                        help="the most candidates tried per reduction")
    parser.add_argument("--gpu-every", type=int, default=2,
                        help="check the CUDA target on every K-th batch "
                             "(0: never)")
    args = parser.parse_args()
    if args.count < 1 or args.batch < 1 or args.jobs < 1:
        parser.error("--count, --batch and --jobs must be positive")
    workdir = args.workdir or tempfile.mkdtemp(prefix="leibniz-random-")
    os.makedirs(workdir, exist_ok=True)
    seeds = range(args.seed, args.seed + args.count)
    batches = [seeds[i:i + args.batch]
               for i in range(0, len(seeds), args.batch)]

    def settings(batch):
        # The CUDA target and the named strategy, per batch: batch b holds
        # the seeds b * --batch and on.
        b = batch[0] // args.batch
        return (args.gpu_every > 0 and b % args.gpu_every == 0,
                STRATEGIES[b % len(STRATEGIES)])

    def one(batch):
        programs = [Generator(seed).program() for seed in batch]
        gpu, strategy = settings(batch)
        result = check(args.leibniz, programs, workdir, f"b{batch[0]}", gpu,
                       strategy)
        if result is None:
            return batch, []
        if len(batch) == 1:
            return batch, [(batch[0], *programs[0], strategy, result)]
        # The failing programs, one by one; a failure that needs the others
        # is reported for the whole batch.
        failed = []
        for seed, (helper, body) in zip(batch, programs):
            alone = check(args.leibniz, [(helper, body)], workdir, f"p{seed}",
                          gpu, strategy)
            if alone is not None:
                failed.append((seed, helper, body, strategy, alone))
        if not failed:
            failed.append((batch, None, None, strategy, result))
        return batch, failed

    failures = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for batch, failed in pool.map(one, batches):
            failures.extend(failed)
    for seed, helper, body, strategy, (what, detail) in failures:
        first = detail.splitlines()[0] if detail else ""
        if helper is None:
            print(f"FAIL seeds {seed[0]} to {seed[-1]}, only together "
                  f"(strategy {strategy}): {what}: {first}")
            continue
        helper, body = reduce(args.leibniz, helper, body, what, workdir,
                              f"p{seed}", args.reduce_budget, strategy)
        reduced = render_program(helper, body)
        print(f"FAIL seed {seed} (strategy {strategy}): {what}: {first}")
        print(reduced)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            with open(os.path.join(args.save, f"seed{seed}.lz"), "w") as f:
                f.write(f"# A random program (seed {seed}) on which the check "
                        f"'{what}' failed, reduced.\n" + reduced + MAIN)
    print(f"random programs: {args.count} checked (seeds {args.seed} to "
          f"{args.seed + args.count - 1}), {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
