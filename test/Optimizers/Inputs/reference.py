#!/usr/bin/env python3
"""The reference of test/Optimizers/steps.lz: NumPy implementations of the
optimizers of docs/optimization.md, written from the formulas, not from
the standard library.

    reference.py STEM

reads STEM.0.npy, STEM.1.npy, ... (the results of `leibniz run --out
STEM.npy`) and compares them, to 1e-12, with five steps of each optimizer
on the same two problems.
"""

import math
import sys

import numpy as np

STEPS = 5


def quadratic(x):
    a = 1.0 + np.arange(4)
    c = 0.5 * np.arange(4) - 1.0
    return 0.5 * np.sum(a * (x - c) ** 2), a * (x - c)


def tupled(p):
    W, b = p
    i = np.arange(2)[:, None]
    j = np.arange(3)[None, :]
    T = 0.3 * (i + 1) - 0.2 * j
    r = W * b - T
    return np.sum(r ** 2) + 0.1 * b ** 4, [2 * r * b, np.sum(2 * r * W) + 0.4 * b ** 3]


def at(lr, t):
    """A learning rate: a number, or a schedule of the 1-based step."""
    return lr(t) if callable(lr) else lr


# optax's schedules at the 0-based count k = t - 1.
def linear_warmup(init, peak, steps):
    return lambda t: init + (peak - init) * min(t - 1, steps) / steps


def cosine_decay(lr, steps, alpha):
    return lambda t: lr * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * min(t - 1, steps) / steps)) + alpha)


def warmup_cosine(init, peak, warmup, steps, final):
    def schedule(t):
        k = t - 1
        if k < warmup:
            return init + (peak - init) * k / warmup
        d = min(k - warmup, steps - warmup)
        return final + (peak - final) * 0.5 * (1 + math.cos(math.pi * d / (steps - warmup)))
    return schedule


class Sgd:
    def __init__(self, lr):
        self.lr = lr

    def init(self, x):
        return None

    def step(self, x, g, s, t):
        return x - at(self.lr, t) * g, None

    def parts(self, x, g, s, t):
        return -at(self.lr, t) * g, 0.0 * x, None


class Momentum:
    def __init__(self, lr, beta=0.9, nesterov=False):
        self.lr, self.beta, self.nesterov = lr, beta, nesterov

    def init(self, x):
        return np.zeros_like(x)

    def step(self, x, g, m, t):
        m = self.beta * m + g
        direction = self.beta * m + g if self.nesterov else m
        return x - at(self.lr, t) * direction, m


class Adam:
    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, wd=None):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.eps_root, self.wd = eps_root, wd

    def init(self, x):
        return (np.zeros_like(x), np.zeros_like(x))

    def step(self, x, g, s, t):
        core, decay, s = self.parts(x, g, s, t)
        return x + core + decay, s

    def parts(self, x, g, s, t):
        """The update without and with only the weight decay, and the state."""
        m, v = s
        m = self.b1 * m + (1 - self.b1) * g
        v = self.b2 * v + (1 - self.b2) * g * g
        mhat = m / (1 - self.b1 ** t)
        vhat = v / (1 - self.b2 ** t)
        lr = at(self.lr, t)
        core = -lr * mhat / (np.sqrt(vhat + self.eps_root) + self.eps)
        decay = -lr * self.wd * x if self.wd is not None else 0.0 * x
        return core, decay, (m, v)


class Lion:
    def __init__(self, lr, b1=0.9, b2=0.99, wd=1e-3):
        self.lr, self.b1, self.b2, self.wd = lr, b1, b2, wd

    def init(self, x):
        return np.zeros_like(x)

    def step(self, x, g, m, t):
        c = self.b1 * m + (1 - self.b1) * g
        x = x - at(self.lr, t) * (np.sign(c) + self.wd * x)
        return x, self.b2 * m + (1 - self.b2) * g


class AdEMAMix:
    def __init__(self, lr, b1=0.9, b2=0.999, b3=0.9999, alpha=5.0, eps=1e-8,
                 wd=0.0, t_alpha=None, t_b3=None, eps_root=0.0):
        self.lr, self.b1, self.b2, self.b3 = lr, b1, b2, b3
        self.alpha, self.eps, self.wd = alpha, eps, wd
        self.eps_root = eps_root
        self.t_alpha, self.t_b3 = t_alpha, t_b3

    def init(self, x):
        return tuple(np.zeros_like(x) for _ in range(3))

    def step(self, x, g, s, t):
        m1, m2, v = s
        alpha, b3 = self.alpha, self.b3
        if self.t_alpha:
            alpha = self.alpha * min(1.0, t / self.t_alpha)
        if self.t_b3:
            f = lambda beta: math.log(0.5) / math.log(beta) - 1
            s_ = min(1.0, t / self.t_b3)
            b3 = 0.5 ** (1 / ((1 - s_) * f(self.b1) + s_ * f(self.b3) + 1))
        m1 = self.b1 * m1 + (1 - self.b1) * g
        m2 = b3 * m2 + (1 - b3) * g
        v = self.b2 * v + (1 - self.b2) * g * g
        mhat = m1 / (1 - self.b1 ** t)
        vhat = v / (1 - self.b2 ** t)
        u = ((mhat + alpha * m2) / (np.sqrt(vhat + self.eps_root) + self.eps)
             + self.wd * x)
        return x - at(self.lr, t) * u, (m1, m2, v)


class Adafactor:
    """Second moments factored into the means of the rows and of the
    columns (along the second-largest and the largest dimension) when the
    second-largest dimension is at least min_dim."""

    def __init__(self, lr=1.0, decay_rate=0.8, decay_offset=0, clip=1.0,
                 eps1=1e-30, eps2=1e-3, momentum=None, wd=0.0, min_dim=128):
        self.lr, self.decay_rate, self.decay_offset = lr, decay_rate, decay_offset
        self.clip, self.eps1, self.eps2 = clip, eps1, eps2
        self.momentum, self.wd, self.min_dim = momentum, wd, min_dim

    def dims(self, x):
        if np.ndim(x) < 2:
            return None
        order = np.argsort(np.shape(x), kind="stable")
        if np.shape(x)[order[-2]] < self.min_dim:
            return None
        return order[-2], order[-1]

    def init(self, x):
        d = self.dims(x)
        if d is None:
            v = np.zeros_like(x)
        else:
            v = (np.zeros(np.delete(np.shape(x), d[1])),
                 np.zeros(np.delete(np.shape(x), d[0])))
        return v, np.zeros_like(x)

    def step(self, x, g, s, t):
        core, decay, s = self.parts(x, g, s, t)
        return x + core + decay, s

    def parts(self, x, g, s, t):
        v, m = s
        beta = 1 - max(t - self.decay_offset, 1) ** -self.decay_rate
        g2 = g * g + self.eps1
        d = self.dims(x)
        if d is None:
            v = beta * v + (1 - beta) * g2
            u = g / np.sqrt(v)
        else:
            second, largest = d
            r = beta * v[0] + (1 - beta) * np.mean(g2, axis=largest)
            c = beta * v[1] + (1 - beta) * np.mean(g2, axis=second)
            axis = second - 1 if second > largest else second
            r_hat = r / np.mean(r, axis=axis, keepdims=True)
            u = (g / np.sqrt(np.expand_dims(r_hat, largest))
                 / np.sqrt(np.expand_dims(c, second)))
            v = (r, c)
        u = u / max(1.0, math.sqrt(np.mean(u * u)) / self.clip)
        u = u * at(self.lr, t) * max(self.eps2, math.sqrt(np.mean(np.square(x))))
        if self.momentum is not None:
            m = self.momentum * m + (1 - self.momentum) * u
            u = m
        return -u, -self.wd * x, (v, m)


class Cautious:
    """The update of `inner`, masked where it does not descend along g,
    the mask normalized by its mean (at least 1e-3); weight decay
    unmasked."""

    def __init__(self, inner):
        self.inner = inner

    def init(self, x):
        return self.inner.init(x)

    def step(self, x, g, s, t):
        core, decay, s = self.inner.parts(x, g, s, t)
        mask = (core * g < 0).astype(np.float64)
        mask = mask / max(np.mean(mask), 1e-3)
        return x + core * mask + decay, s


class ScheduleFree:
    """Schedule-free SGD or AdamW (adam=True): z, x start as the initial
    parameters y; the gradient is taken at y; x is returned and traced."""

    def __init__(self, lr, beta=0.9, warmup=0, wd=0.0, adam=False, b2=0.999,
                 eps=1e-8, eps_root=0.0):
        self.lr, self.beta, self.warmup, self.wd = lr, beta, warmup, wd
        self.adam, self.b2, self.eps = adam, b2, eps
        self.eps_root = eps_root

    def run(self, f, leaves):
        y = [np.array(leaf, dtype=np.float64) for leaf in leaves]
        z = [leaf.copy() for leaf in y]
        x = [leaf.copy() for leaf in y]
        v = [np.zeros_like(leaf) for leaf in y]
        gamma_max, weights, losses = 0.0, 0.0, []
        for k in range(STEPS):
            losses.append(f(x)[0])
            _, grads = f(y)
            gamma = self.lr * (min(1.0, (k + 1) / self.warmup)
                               if self.warmup > 0 else 1.0)
            gamma_max = max(gamma_max, gamma)
            weights += gamma_max ** 2
            c = gamma_max ** 2 / weights
            for i, g in enumerate(grads):
                g = np.asarray(g, dtype=np.float64)
                if self.adam:
                    v[i] = self.b2 * v[i] + (1 - self.b2) * g * g
                    z[i] = z[i] - gamma * self.wd * y[i]
                    z[i] = z[i] - gamma * g / (
                        np.sqrt(v[i] / (1 - self.b2 ** (k + 1)) + self.eps_root)
                        + self.eps)
                else:
                    z[i] = z[i] - gamma * (g + self.wd * y[i])
                x[i] = (1 - c) * x[i] + c * z[i]
                y[i] = self.beta * x[i] + (1 - self.beta) * z[i]
        return x, np.array(losses)


class DoG:
    """Distance over Gradients: norms over all the leaves together."""

    def __init__(self, lr=1.0, reps_rel=1e-6, eps=1e-8, wd=0.0):
        self.lr, self.reps_rel, self.eps, self.wd = lr, reps_rel, eps, wd

    def run(self, f, leaves):
        x = [np.array(leaf, dtype=np.float64) for leaf in leaves]
        x0 = [leaf.copy() for leaf in x]
        norm = lambda vs: math.sqrt(sum(float(np.sum(np.square(v))) for v in vs))
        rbar = self.reps_rel * (1 + norm(x0))
        G = self.eps
        losses = []
        for k in range(STEPS):
            loss, grads = f(x)
            losses.append(loss)
            grads = [np.asarray(g, dtype=np.float64) for g in grads]
            rbar = max(rbar, norm([a - b for a, b in zip(x, x0)]))
            G += norm(grads) ** 2
            eta = self.lr * rbar / math.sqrt(G)
            x = [xi - eta * (g + self.wd * xi) for xi, g in zip(x, grads)]
        return x, np.array(losses)


class Lbfgs:
    """L-BFGS over all the leaves: the two-loop recursion on the newest
    `history` pairs of curvature s.y > 1e-10 y.y, then a backtracking Armijo line
    search from lr (at most max_ls trials, halving)."""

    def __init__(self, history=10, line_search=True, lr=1.0, max_ls=20, c1=1e-4):
        self.history, self.line_search, self.lr = history, line_search, lr
        self.max_ls, self.c1 = max_ls, c1

    def run(self, f, leaves):
        shapes = [np.shape(leaf) for leaf in leaves]
        sizes = [int(np.prod(shape)) for shape in shapes]
        flat = lambda vs: np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in vs])
        def unflat(v):
            parts, k = [], 0
            for shape, n in zip(shapes, sizes):
                part = v[k:k + n].reshape(shape)
                parts.append(part if shape else float(part))
                k += n
            return parts
        x = flat(leaves)
        pairs = []
        previous = None
        losses = []
        for k in range(STEPS):
            loss, grads = f(unflat(x))
            losses.append(loss)
            g = flat(grads)
            if previous is not None:
                s, y = x - previous[0], g - previous[1]
                if s @ y > 1e-10 * (y @ y):
                    pairs = (pairs + [(s, y)])[-self.history:]
            previous = (x, g)
            q = g.copy()
            alphas = []
            for s, y in reversed(pairs):
                a = (s @ q) / (s @ y)
                alphas.append(a)
                q = q - a * y
            gamma = (pairs[-1][0] @ pairs[-1][1]) / (pairs[-1][1] @ pairs[-1][1]) if pairs else 1.0
            r = gamma * q
            for (s, y), a in zip(pairs, reversed(alphas)):
                r = r + s * (a - (y @ r) / (s @ y))
            d = -r if g @ r > 0 else -g
            eta = at(self.lr, k + 1)
            if self.line_search:
                for _ in range(self.max_ls):
                    if f(unflat(x + eta * d))[0] <= loss + self.c1 * eta * (g @ d):
                        break
                    eta = eta / 2
            x = x + eta * d
        return unflat(x), np.array(losses)


# The order of steps.lz's main.
OPTIMIZERS = [
    Sgd(0.1),
    Momentum(0.1, beta=0.9),
    Momentum(0.1, nesterov=True),
    Adam(0.1),
    Adam(0.05, eps_root=1e-8),
    Adam(0.1, wd=0.01),
    Lion(0.01),
    AdEMAMix(0.1),
    AdEMAMix(0.1, t_alpha=3, t_b3=3),
    Sgd(warmup_cosine(0.0, 0.2, 2, 4, 0.01)),
    Momentum(linear_warmup(0.02, 0.1, 3)),
    Adam(cosine_decay(0.1, 3, 0.1)),
    ScheduleFree(0.1),
    ScheduleFree(0.05, beta=0.8, warmup=3, wd=0.01),
    ScheduleFree(0.1, adam=True, wd=0.01),
    DoG(),
    DoG(lr=0.5, reps_rel=0.1, wd=0.01),
    Cautious(Sgd(0.1)),
    Cautious(Adam(0.1, wd=0.01)),
    Adafactor(),
    Adafactor(0.1, min_dim=2, momentum=0.5, wd=0.01, clip=0.5),
    Adafactor(linear_warmup(0.02, 0.1, 3), decay_rate=0.5, decay_offset=1,
              eps2=0.5, min_dim=3),
    Cautious(Adafactor(0.1, min_dim=2)),
    Lbfgs(),
    Lbfgs(history=2, lr=0.5, c1=0.3),
    Lbfgs(line_search=False, lr=0.05),
    Adam(0.1, wd=0.01, eps_root=1e-8),
    AdEMAMix(0.1, eps_root=1e-4),
    ScheduleFree(0.1, adam=True, wd=0.01, eps_root=1e-4),
]


def cubic(p):
    """A problem whose parameter has three dimensions, the largest last."""
    (T,) = p
    i, j, k = np.meshgrid(np.arange(3), np.arange(2), np.arange(4), indexing="ij")
    r = T - (0.1 * i - 0.2 * j + 0.05 * k * k)
    w = 1.0 + 0.5 * k
    return 0.5 * np.sum(w * r ** 2), [w * r]


def minimize(f, leaves, opt):
    """Five steps on a list of leaves (arrays or floats); the final leaves
    and the loss before every step."""
    if hasattr(opt, "run"):
        return opt.run(f, leaves)
    leaves = [np.asarray(leaf, dtype=np.float64) for leaf in leaves]
    states = [opt.init(leaf) for leaf in leaves]
    losses = []
    for k in range(STEPS):
        loss, grads = f(leaves)
        losses.append(loss)
        for i, (leaf, g) in enumerate(zip(leaves, grads)):
            leaves[i], states[i] = opt.step(leaf, np.asarray(g), states[i], k + 1)
    return leaves, np.array(losses)


def main():
    stem = sys.argv[1]
    x0 = np.array([0.3 - 0.25 * i + 0.1 * i * i for i in range(4)])
    W0 = np.array([[0.1 * (j + 1) - 0.2 * i + 0.05 * i * j for j in range(3)]
                   for i in range(2)])
    expected = []
    for opt in OPTIMIZERS:
        (x,), lq = minimize(lambda p: (lambda v, g: (v, [g]))(*quadratic(p[0])),
                            [x0], opt)
        (W, b), lt = minimize(tupled, [W0, 1.5], opt)
        expected += [x, lq, W, b, lt]
    # The Adafactor configurations also run on `cubic`.
    i, j, k = np.meshgrid(np.arange(3), np.arange(2), np.arange(4), indexing="ij")
    T0 = 0.2 * i + 0.1 * j - 0.03 * k * k + 0.4
    for opt in OPTIMIZERS:
        if isinstance(opt, Adafactor) or isinstance(getattr(opt, "inner", None), Adafactor):
            (T,), lc = minimize(cubic, [T0], opt)
            expected += [T, lc]
    worst = 0.0
    for n, want in enumerate(expected):
        got = np.load(f"{stem}.{n}.npy")
        scale = np.maximum(np.abs(want), 1e-3)
        error = float(np.max(np.abs(got - want) / scale))
        worst = max(worst, error)
        if not error <= 1e-12:
            sys.exit(f"reference: result {n} differs by "
                     f"{error:.3g}:\n  got      {got}\n  expected {want}")
    print(f"{len(OPTIMIZERS)} optimizers agree with the reference "
          f"(worst relative error {worst:.2g})")


if __name__ == "__main__":
    main()
