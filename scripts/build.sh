#!/usr/bin/env bash
# Configures and builds Leibniz. Extra arguments go to cmake, e.g.
#   scripts/build.sh -DLEIBNIZ_ENABLE_ASSERTIONS=ON
# LEIBNIZ_BUILD_DIR chooses the build folder (default: build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LEIBNIZ_BUILD_DIR:-$root/build}

mkdir -p "$build"
cmake -G Ninja -S "$root" -B "$build" \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  "$@" > "$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 1
}
cmake --build "$build"
