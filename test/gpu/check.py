#!/usr/bin/env python3
"""The GPU check of the CUDA target, in two steps.

    check.py build LEIBNIZ OUT   # where Leibniz is built: the artifacts
    check.py run OUT             # on a machine with an NVIDIA GPU

`build` compiles, with `leibniz compile`, every example's `main` for the
CPU and for `--target=cuda` (cubins for `--gpu-arch`, default sm_90), the
kernels of test/gpu/kernels.lz, and the MLP and GMM gradients of
bench/rev-ad.lz, into self-contained libraries under OUT, with what `run`
needs to call them (bench/clib.py, bench/rev_ad.py, a manifest). OUT is
small and needs neither LLVM nor MLIR.

`run` needs the NVIDIA driver, Python 3 with NumPy, and PyTorch with CUDA
for the baselines. It prints, in Markdown:
  - every example's results on the GPU against the CPU's (relative
    difference; libdevice's math functions and fused multiply-adds round
    differently from the CPU's, so equality is to 1e-6, not bit for bit);
  - the bandwidth of an elementwise kernel, of row sums and of a full sum
    (split into partitions that run as threads), as a fraction of the
    device's copy bandwidth (PyTorch's device-to-device copy);
  - matrix products against cuBLAS (PyTorch's matmul);
  - the MLP and GMM gradients against PyTorch's autograd on the GPU (or,
    without PyTorch, against the CPU's library): the largest difference
    and the times, ours including the transfers of a library call
    (arguments into unified memory, results out of it).
Exit status 1 if a library cannot run or a result differs.
"""

import argparse
import ctypes
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# The C types of the headers' result fields.
CTYPES = {"double": "f64", "float": "f32", "int64_t": "i64", "int32_t": "i32",
          "bool": "i1"}


def run_tool(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("check.py: %s failed:\n%s" % (" ".join(map(str, args)),
                                                result.stderr))


def parse_result(header, prefix, name):
    """The fields of `<prefix>_<name>_result` in `header`: a list of
    (field, element type, rank), rank 0 for scalars."""
    text = Path(header).read_text()
    match = re.search(r"typedef struct %s_%s_result \{(.*?)\}" %
                      (prefix, name), text, re.S)
    if not match:
        sys.exit("check.py: no result type for %s in %s" % (name, header))
    fields, ranks = [], {}
    for line in match.group(1).splitlines():
        field = re.match(r"\s*(\w+)\s*(\*?)\s*(\w+)(?:\[(\d+)\])?;", line)
        if not field:
            continue
        ctype, pointer, fname, rank = field.groups()
        if fname.endswith("_shape"):
            ranks[fname[:-len("_shape")]] = int(rank)
            continue
        fields.append([fname, CTYPES[ctype], 1 if pointer else 0])
    for field in fields:
        if field[2]:
            field[2] = ranks[field[0]]
    return fields


def build(args):
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    for sub in ("cpu", "cuda"):
        (out / sub).mkdir(parents=True)
    leibniz = args.leibniz
    manifest = {"arch": args.gpu_arch, "examples": {}}
    cuda = ["--target=cuda", "--gpu-arch=" + args.gpu_arch]
    for source in sorted((ROOT / "examples").glob("*.lz")):
        prefix = re.sub(r"\W", "_", source.stem)
        for sub, flags in (("cpu", []), ("cuda", cuda)):
            run_tool([leibniz, "compile", *flags, str(source), "--export",
                      "main", "-o", str(out / sub / ("lib%s.so" % prefix))])
        manifest["examples"][prefix] = parse_result(
            out / "cuda" / (prefix + ".h"), prefix, "main")
    for sub, flags in (("cpu", []), ("cuda", cuda)):
        run_tool([leibniz, "compile", *flags,
                  str(ROOT / "test/gpu/kernels.lz"), "--export",
                  "scale_steps,rowsum_steps,sum_steps,matmul_steps", "-o",
                  str(out / sub / "libkernels.so")])
    # At -O3, matrix products call cuBLAS (the CPU's: OpenBLAS).
    for sub, flags in (("cpu", []), ("cuda", cuda)):
        (out / sub / "o3").mkdir()
        run_tool([leibniz, "compile", "-O3", *flags,
                  str(ROOT / "test/gpu/kernels.lz"), "--export",
                  "matmul_steps", "-o", str(out / sub / "o3" / "libkernels.so")])
    for sub, flags in (("cpu", []), ("cuda", cuda)):
        run_tool([leibniz, "compile", *flags, str(ROOT / "bench/rev-ad.lz"),
                  "--export", "mlp_grad,gmm_grad", "-o",
                  str(out / sub / "librev_ad.so")])
    manifest["gradients"] = {
        name: parse_result(out / "cuda" / "rev_ad.h", "rev_ad", name)
        for name in ("mlp_grad", "gmm_grad")}
    for name in ("clib.py", "rev_ad.py"):
        shutil.copy(ROOT / "bench" / name, out / name)
    shutil.copy(__file__, out / "check.py")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print("check.py: the artifacts are in %s (%d examples)" %
          (out, len(manifest["examples"])))


# ---------------------------------------------------------------------------
# run: on the GPU machine.
# ---------------------------------------------------------------------------

def call(np, lib, prefix, name, fields, args=()):
    """Calls `<prefix>_<name>(args..., &result)`; returns the results as
    NumPy values, or raises RuntimeError with the library's error."""
    types = {"f64": (ctypes.c_double, np.float64),
             "f32": (ctypes.c_float, np.float32),
             "i64": (ctypes.c_int64, np.int64),
             "i32": (ctypes.c_int32, np.int32),
             "i1": (ctypes.c_bool, np.bool_)}
    layout = []
    for fname, element, rank in fields:
        ctype = types[element][0]
        if rank == 0:
            layout.append((fname, ctype))
        else:
            layout += [(fname, ctypes.POINTER(ctype)),
                       (fname + "_shape", ctypes.c_int64 * rank)]

    class Result(ctypes.Structure):
        _fields_ = layout

    from clib import c_arguments  # bench/clib.py, copied next to this file
    cargs, keep = c_arguments(args)
    result = Result()
    function = getattr(lib, "%s_%s" % (prefix, name))
    if function(*cargs, ctypes.byref(result)) != 0:
        error = getattr(lib, prefix + "_last_error")
        error.restype = ctypes.c_char_p
        raise RuntimeError(error().decode())
    libc = ctypes.CDLL(None)
    values = []
    for fname, element, rank in fields:
        if rank == 0:
            values.append(getattr(result, fname))
            continue
        shape = tuple(getattr(result, fname + "_shape"))
        pointer = getattr(result, fname)
        values.append(np.ctypeslib.as_array(pointer, shape=shape).copy()
                      if math.prod(shape) else np.zeros(shape))
        libc.free(pointer)
    return values


def relative_difference(np, a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a))))


def seconds_per_call(fn, repeat=5):
    """The median time of `fn()` over `repeat` calls, after one call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return samples[len(samples) // 2]


def run(args):
    import numpy as np
    out = Path(args.out).resolve()
    sys.path.insert(0, str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    failures = 0
    lines = ["## GPU check (%s)" % time.strftime("%Y-%m-%d"), ""]

    def load(sub, prefix):
        # --cpu: the CPU's libraries stand in for the GPU's.
        if args.cpu:
            sub = "cpu"
        return ctypes.CDLL(str(out / sub / ("lib%s.so" % prefix)))

    # The device, through the driver the libraries use.
    try:
        import torch
        has_torch = torch.cuda.is_available()
    except ImportError:
        torch, has_torch = None, False
    device = torch.cuda.get_device_name(0) if has_torch else "(PyTorch " \
        "without CUDA: no baselines)"
    if args.cpu:
        device = "none: the CPU's libraries stand in for the GPU's (--cpu)"
    lines += ["Device: %s; kernels for %s." % (device, manifest["arch"]), ""]

    # Every example's results.
    lines += ["| example | largest relative difference to the CPU | |",
              "|---|---|---|"]
    for prefix, fields in manifest["examples"].items():
        expected = call(np, load("cpu", prefix), prefix, "main", fields)
        try:
            actual = call(np, load("cuda", prefix), prefix, "main", fields)
        except RuntimeError as error:
            lines.append("| %s | — | FAILED: %s |" % (prefix, error))
            failures += 1
            continue
        worst = max((relative_difference(np, e, a)
                     for e, a in zip(expected, actual)), default=0.0)
        ok = worst <= 1e-6
        failures += not ok
        lines.append("| %s | %.1e | %s |" % (prefix, worst,
                                            "ok" if ok else "DIFFERS"))
    lines.append("")

    kernels = load("cuda", "kernels")
    f64 = [["r0", "f64", 1]]

    def kernel_time(name, inputs, fields, steps=(1, 21)):
        """Seconds per step: the difference of `steps` calls."""
        times = [seconds_per_call(
            lambda k=k: call(np, kernels, "kernels", name, fields,
                             [*inputs, k])) for k in steps]
        return (times[1] - times[0]) / (steps[1] - steps[0])

    # Bandwidth against the device's copy bandwidth.
    n = 1 << args.size
    x = np.random.default_rng(0).standard_normal(n)
    A = x.reshape(1 << (args.size // 2), -1)
    try:
        scale = kernel_time("scale_steps", [x], f64)
        rows = kernel_time("rowsum_steps", [A], f64)
        total = kernel_time("sum_steps", [x], [["r0", "f64", 0]], (1, 3))
    except RuntimeError as error:
        lines.append("The kernels cannot run: %s" % error)
        print("\n".join(lines))
        return 1
    lines += ["| kernel (%d doubles) | time per step | bandwidth | of the "
              "device's copy |" % n, "|---|---|---|---|"]
    copy = None
    if has_torch:
        a = torch.from_numpy(x).cuda()
        b = torch.empty_like(a)

        def device_copy():
            b.copy_(a)
            torch.cuda.synchronize()
        copy = 2 * 8 * n / seconds_per_call(device_copy, 20)
        lines.append("| device copy (PyTorch) | %.3g ms | %.0f GB/s | 1 |" %
                     (2 * 8 * n / copy * 1e3, copy / 1e9))
    for label, seconds, traffic in (
            ("elementwise: y = 0.5 y + 1", scale, 2 * 8 * n),
            ("row sums (strided partitions)", rows, 8 * n),
            ("full sum (split into partitions)", total, 8 * n)):
        bandwidth = traffic / seconds if seconds > 0 else math.inf
        lines.append("| %s | %.3g ms | %.0f GB/s | %s |" % (
            label, seconds * 1e3, bandwidth / 1e9,
            "%.2f" % (bandwidth / copy) if copy else "—"))
    lines.append("")

    # Matrix products against cuBLAS: the generated kernel (-O2), and
    # Leibniz's calls of cuBLAS (-O3), whose results must be PyTorch's.
    kernels_o3 = ctypes.CDLL(str(out / ("cpu" if args.cpu else "cuda") /
                                 "o3" / "libkernels.so"))
    lines += ["| matrix product (f64) | kernel (-O2) | cuBLAS call (-O3) | "
              "cuBLAS (PyTorch) | kernel / PyTorch | -O3 / PyTorch | "
              "largest difference |", "|---|---|---|---|---|---|---|"]
    for size in (64, 256) if args.cpu else (256, 1024, 2048):
        M = np.random.default_rng(1).standard_normal((size, size)) / size
        fields = [["r0", "f64", 2]]
        ours = kernel_time("matmul_steps", [M, M], fields, (1, 3))
        times = [seconds_per_call(lambda k=k: call(
            np, kernels_o3, "kernels", "matmul_steps", fields, [M, M, k]))
            for k in (1, 3)]
        ours_o3 = (times[1] - times[0]) / 2
        product = call(np, kernels_o3, "kernels", "matmul_steps", fields,
                       [M, M, 1])[0]
        if has_torch:
            t = torch.from_numpy(M).cuda()
            expected = torch.matmul(t, t).cpu().numpy()

            def cublas():
                torch.matmul(t, t)
                torch.cuda.synchronize()
            theirs = seconds_per_call(cublas, 10)
        else:
            expected, theirs = M @ M, None
        difference = relative_difference(np, expected, product)
        failures += difference > 1e-10
        lines.append("| %d × %d | %.3g ms | %.3g ms | %s | %s | %s | %.1e%s |"
                     % (size, size, ours * 1e3, ours_o3 * 1e3,
                        "%.3g ms" % (theirs * 1e3) if theirs else "—",
                        "%.1f" % (ours / theirs) if theirs else "—",
                        "%.1f" % (ours_o3 / theirs) if theirs else "—",
                        difference, "" if difference <= 1e-10 else " DIFFERS"))
    lines.append("")

    # Gradients against PyTorch's autograd on the GPU.
    # Gradients: against PyTorch's autograd where there is PyTorch (on the
    # GPU, or on the CPU with --cpu), else against the CPU's library.
    import rev_ad
    torch_device = "cuda" if has_torch else "cpu"
    rng = np.random.default_rng(2)
    grads = load("cuda", "rev_ad")
    cpu_grads = load("cpu", "rev_ad")
    lines += ["| gradient | ours (GPU, with transfers) | ours (CPU) | "
              "PyTorch (%s) | largest difference to %s |" % (
                  torch_device.upper(),
                  "PyTorch" if torch is not None else "the CPU"),
              "|---|---|---|---|---|"]
    mlp = [rng.standard_normal((256, 64)),
           0.1 * rng.standard_normal((64, 128)),
           0.1 * rng.standard_normal(128),
           0.1 * rng.standard_normal((128, 10)),
           rng.standard_normal((256, 10))]
    gmm = rev_ad.gmm_inputs(rng, 1000, 10, 25)
    cases = [
        ("MLP (b = 256, 64-128-10)", "mlp_grad", mlp, (1, 2, 3),
         lambda X, W1, b1, W2, T:
         (((torch.relu(X @ W1 + b1) @ W2) - T) ** 2).mean()),
        ("GMM (n = 1000, d = 10, k = 25)", "gmm_grad", gmm, (0, 1, 2),
         lambda *a: rev_ad.torch_gmm(torch, *a)),
    ]
    for label, entry, inputs, wrt, torch_fn in cases:
        fields = manifest["gradients"][entry]
        try:
            ours = call(np, grads, "rev_ad", entry, fields, inputs)
        except RuntimeError as error:
            lines.append("| %s | FAILED: %s | | | |" % (label, error))
            failures += 1
            continue
        gpu_time = seconds_per_call(
            lambda: call(np, grads, "rev_ad", entry, fields, inputs))
        cpu_time = seconds_per_call(
            lambda: call(np, cpu_grads, "rev_ad", entry, fields, inputs))
        torch_time = None
        if torch is not None:
            torch.set_default_dtype(torch.float64)

            def torch_gradient():
                values = [torch.tensor(v, device=torch_device,
                                       requires_grad=i in wrt)
                          if isinstance(v, np.ndarray) else v
                          for i, v in enumerate(inputs)]
                loss = torch_fn(*values)
                result = torch.autograd.grad(loss, [values[i] for i in wrt])
                if has_torch:
                    torch.cuda.synchronize()
                return result
            expected = [g.cpu().numpy() for g in torch_gradient()]
            torch_time = seconds_per_call(torch_gradient, 10)
        else:
            expected = call(np, cpu_grads, "rev_ad", entry, fields, inputs)
        worst = max(relative_difference(np, e, a)
                    for e, a in zip(expected, ours))
        ok = worst <= 1e-8
        failures += not ok
        lines.append("| %s | %.3g ms | %.3g ms | %s | %.1e %s |" % (
            label, gpu_time * 1e3, cpu_time * 1e3,
            "%.3g ms" % (torch_time * 1e3) if torch_time else "—", worst,
            "" if ok else "DIFFERS"))
    lines.append("")

    lines.append("%d failures." % failures)
    print("\n".join(lines))
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="compile the artifacts")
    b.add_argument("leibniz")
    b.add_argument("out")
    b.add_argument("--gpu-arch", default="sm_90")
    r = commands.add_parser("run", help="run them on the GPU")
    r.add_argument("out")
    r.add_argument("--cpu", action="store_true",
                   help="run the CPU libraries in place of the GPU's: "
                        "tests this script without a GPU")
    r.add_argument("--size", type=int, default=25,
                   help="the kernels' vectors have 2^SIZE doubles")
    args = parser.parse_args()
    return build(args) if args.command == "build" else run(args)


if __name__ == "__main__":
    sys.exit(main())
