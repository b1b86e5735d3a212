#!/usr/bin/env python3
"""Compiles .lz programs for --target=cuda and assembles every kernel module
with ptxas: the CUDA target's check on machines without a GPU.

    ptxas.py LEIBNIZ PTXAS [--arch sm_90] [--workdir DIR] FILE.lz...

Prints one line per program that fails and a summary line:
"ptxas: N programs, K kernel modules, F failed".
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile


def check(leibniz, ptxas, arch, workdir, path):
    """Returns (kernel modules, failure message or None) for one program."""
    stem = os.path.splitext(os.path.basename(path))[0]
    ptx_path = os.path.join(workdir, stem + ".ptx")
    emit = subprocess.run(
        [leibniz, "emit", "--target=cuda", "--emit=ptx", "--gpu-arch=" + arch,
         path, "-o", ptx_path], capture_output=True, text=True)
    if emit.returncode != 0:
        return 0, "%s: leibniz emit failed:\n%s" % (path, emit.stderr)
    with open(ptx_path) as f:
        text = f.read()
    # "// kernel module @name" starts each module.
    parts = re.split(r"^// kernel module @(\S+)\n", text, flags=re.M)
    modules = list(zip(parts[1::2], parts[2::2]))
    if not modules:
        return 0, None
    for name, ptx in modules:
        module_path = os.path.join(workdir, "%s.%s.ptx" % (stem, name))
        with open(module_path, "w") as f:
            f.write(ptx)
        assembled = subprocess.run(
            [ptxas, "-arch=" + arch, module_path, "-o", os.devnull],
            capture_output=True, text=True)
        if assembled.returncode != 0:
            return len(modules), "%s: ptxas rejects kernel module @%s:\n%s" % (
                path, name, assembled.stderr)
    return len(modules), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("leibniz")
    parser.add_argument("ptxas")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--workdir")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="leibniz-ptxas-")
    os.makedirs(workdir, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(
            lambda path: check(args.leibniz, args.ptxas, args.arch, workdir,
                               path), args.files))
    failed = 0
    for kernels, failure in results:
        if failure:
            failed += 1
            print(failure)
    print("ptxas: %d programs, %d kernel modules, %d failed" %
          (len(args.files), sum(kernels for kernels, _ in results), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
