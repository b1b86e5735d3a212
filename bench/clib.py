"""Calling and timing the libraries that `leibniz compile` makes, through
their C interface (docs/c-abi.md), for the benchmark scripts."""

import ctypes
import statistics
import sys
import time

import numpy as np


def c_arguments(inputs):
    """The C arguments of `inputs` (an int is an i64, a float an f64, an
    array its contiguous data and its shape), and the arrays that must stay
    alive during the call."""
    args, keep = [], []
    for value in inputs:
        if isinstance(value, int):
            args.append(ctypes.c_int64(value))
        elif isinstance(value, float):
            args.append(ctypes.c_double(value))
        else:
            array = np.ascontiguousarray(value)
            shape = np.array(array.shape, dtype=np.int64)
            keep += [array, shape]
            args += [array.ctypes.data_as(ctypes.c_void_p),
                     shape.ctypes.data_as(ctypes.c_void_p)]
    return args, keep


class Library:
    """A compiled library, called through its C interface."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(str(path))
        self.libc = ctypes.CDLL(None)
        self.prefix = path.stem[3:]
        self.results = {}

    def result_type(self, ranks):
        """The C result struct of results with the ranks `ranks`."""
        key = tuple(ranks)
        if key not in self.results:
            fields = []
            for i, rank in enumerate(ranks):
                if rank == 0:
                    fields.append((f"r{i}", ctypes.c_double))
                else:
                    fields += [(f"r{i}", ctypes.POINTER(ctypes.c_double)),
                               (f"r{i}_shape", ctypes.c_int64 * rank)]

            class Result(ctypes.Structure):
                _fields_ = fields
            self.results[key] = Result
        return self.results[key]

    def call(self, name, inputs, ranks, copy=True):
        """Calls `name`, whose results have the ranks `ranks` (0 for a f64
        scalar); returns them. With `copy=False` (for timing the call as a
        C caller makes it), frees the tensors without copying them into
        arrays and returns nothing."""
        args, keep = c_arguments(inputs)
        result = self.result_type(ranks)()
        fn = getattr(self.lib, f"{self.prefix}_{name}")
        if fn(*args, ctypes.byref(result)) != 0:
            sys.exit(f"bench: {name} failed")
        values = []
        for i, rank in enumerate(ranks):
            if rank == 0:
                values.append(getattr(result, f"r{i}"))
                continue
            pointer = getattr(result, f"r{i}")
            if copy:
                shape = tuple(getattr(result, f"r{i}_shape"))
                values.append(
                    np.ctypeslib.as_array(pointer, shape=shape).copy())
            self.libc.free(pointer)
        return values if copy else None


def batch_time(fn, batch):
    """Seconds per call of `fn`, called for at least `batch` s."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= batch:
            return elapsed / calls


def settle_allocator():
    """Frees one 16 MiB array, which raises glibc's threshold for serving
    allocations by `mmap` to that size (it adapts to the largest block
    freed). Below it, a temporary of a few hundred KiB (im2col's patches)
    was mapped and unmapped at every call, page faults included: the first
    case of a run took 8 times as long as the same case after a larger
    one."""
    block = np.ones(2 << 20)
    del block


def best_time(fn, batch=0.2):
    """Median seconds per call over 5 batches of at least `batch` s."""
    fn()
    return statistics.median(batch_time(fn, batch) for _ in range(5))


def interleaved_times(fns, batch=0.1, rounds=7):
    """Seconds per call of each of `fns`: the best of `rounds` rounds, each
    of which runs every function in turn for a batch of at least `batch`
    s, so that a slow phase of the machine reaches every function, not the
    few that happen to run during it."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            best[k] = min(best[k], batch_time(fn, batch))
    return best


def seconds(s):
    if s >= 1:
        return f"{s:.3g} s"
    return f"{s * 1e3:.3g} ms" if s >= 1e-3 else f"{s * 1e6:.3g} µs"


def write_table(root, name, table):
    """Writes `table` into docs/benchmarks.md and bench/benchmarks.md.in
    between the markers `<!-- name begin -->` and `<!-- name end -->`."""
    begin, end = f"<!-- {name} begin -->", f"<!-- {name} end -->"
    for target in (root / "docs" / "benchmarks.md",
                   root / "bench" / "benchmarks.md.in"):
        text = target.read_text()
        if begin not in text:
            sys.exit(f"bench: no {begin} marker in {target}")
        start, stop = text.index(begin) + len(begin), text.index(end)
        target.write_text(text[:start] + "\n" + table + "\n" + text[stop:])
