#!/usr/bin/env python3
"""Runs programs on the CPU and with the CUDA target's kernels emulated on
the host (`--target=cuda --gpu-emulation`), at -O0, -O2 and -O3, and reports
those whose output differs: at all, at -O0; from -O2, where the CUDA target
splits reductions into partitions for its threads (and at -O3 the CPU calls
BLAS for matrix products), by more than 1e-9 relative to each number's
magnitude (at least 1).

    cuda-emulation.py LEIBNIZ FILE.lz...
"""

import re
import subprocess
import sys

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def close(a, b):
    """Whether two outputs are the same text up to numbers within 1e-9."""
    if NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        x, y = float(x), float(y)
        if abs(x - y) > 1e-9 * max(1.0, abs(x)):
            return False
    return True


def main():
    leibniz, files = sys.argv[1], sys.argv[2:]
    levels = ["-O0", "-O2", "-O3"]
    differ = 0
    for path in files:
        for level in levels:
            cpu = subprocess.run([leibniz, "run", level, path],
                                 capture_output=True, text=True)
            gpu = subprocess.run([leibniz, "run", level, "--target=cuda",
                                  "--gpu-emulation", path],
                                 capture_output=True, text=True)
            same = (cpu.stdout == gpu.stdout if level == "-O0" else
                    close(cpu.stdout, gpu.stdout))
            if cpu.returncode != 0 or gpu.returncode != 0 or not same:
                differ += 1
                print("%s %s differs:\nCPU (%d):\n%s%s\nemulated (%d):\n%s%s"
                      % (path, level, cpu.returncode, cpu.stdout, cpu.stderr,
                         gpu.returncode, gpu.stdout, gpu.stderr))
    print("emulated: %d programs at %s, %d differ" %
          (len(files), ", ".join(levels[:-1]) + " and " + levels[-1], differ))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
