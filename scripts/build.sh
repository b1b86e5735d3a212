#!/usr/bin/env bash
# Configures and builds Leibniz. Extra arguments go to cmake, e.g.
#   scripts/build.sh -DLEIBNIZ_ENABLE_ASSERTIONS=ON
# Options do not stick: every call configures from the defaults below plus
# its own arguments. On the supported toolchain (Debian 12) the code is
# warning-clean, so the scripts build with warnings as errors. LEIBNIZ_BUILD_DIR chooses the build folder (default:
# build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LEIBNIZ_BUILD_DIR:-$root/build}

mkdir -p "$build"
cmake -G Ninja -S "$root" -B "$build" \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  -DCMAKE_BUILD_TYPE=Release -DLEIBNIZ_ENABLE_ASSERTIONS=OFF \
  -DLEIBNIZ_ENABLE_SANITIZERS=OFF -DLEIBNIZ_WERROR=ON \
  "$@" > "$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 1
}
cmake --build "$build"
