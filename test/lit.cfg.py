# -*- Python -*-
# lit configuration of the Leibniz test suite.

import os
import platform
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "Leibniz"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".lz", ".test"]
config.excludes = ["Inputs", "unit", "fuzz", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.leibniz_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%leibniz_src_root", config.leibniz_src_root))
config.substitutions.append(("%python", sys.executable))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.leibniz_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["leibniz", "leibniz-opt"], tool_dirs)

# The CUDA toolkit, where the machine has one: tests of the CUDA target that
# assemble its PTX with ptxas (`ptxas`), or that need the device's math
# functions from libdevice (`libdevice`). No test needs a GPU.
def find_cuda_toolkit():
    for variable in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(variable):
            return os.environ[variable]
    return "/usr/local/cuda" if os.path.isdir("/usr/local/cuda") else ""

# libmvec, the vector math library of -O3 on x86-64 Linux with glibc.
if (platform.machine() == "x86_64" and platform.system() == "Linux"
        and platform.libc_ver()[0] == "glibc"):
    config.available_features.add("libmvec")
    # From glibc 2.35 on, libmvec has tanh, erf, atan2 and more.
    try:
        version = tuple(int(v) for v in platform.libc_ver()[1].split(".")[:2])
    except ValueError:
        version = ()
    if version >= (2, 35):
        config.available_features.add("libmvec-extended")

cuda_toolkit = find_cuda_toolkit()
for variable in ("CUDA_PATH", "CUDA_HOME"):
    if variable in os.environ:
        config.environment[variable] = os.environ[variable]
if cuda_toolkit:
    ptxas = os.path.join(cuda_toolkit, "bin", "ptxas")
    if os.access(ptxas, os.X_OK):
        config.available_features.add("ptxas")
        config.substitutions.append(("%ptxas", ptxas))
    if os.path.isfile(os.path.join(cuda_toolkit, "nvvm", "libdevice",
                                   "libdevice.10.bc")):
        config.available_features.add("libdevice")
