#!/usr/bin/env bash
# Sets up, builds and runs every test (lit + GoogleTest through ctest).
#   scripts/test.sh            the default Release build in build/
#   scripts/test.sh --sanitize an ASan+UBSan build with assertions in
#                              build-sanitize/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

cmake_args=()
if [ "${1:-}" = "--sanitize" ]; then
  export LEIBNIZ_BUILD_DIR=${LEIBNIZ_BUILD_DIR:-$root/build-sanitize}
  cmake_args+=(-DLEIBNIZ_ENABLE_SANITIZERS=ON -DLEIBNIZ_ENABLE_ASSERTIONS=ON
               -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/test.sh [--sanitize]" >&2
  exit 1
fi
build=${LEIBNIZ_BUILD_DIR:-$root/build}

"$root/scripts/build.sh" "${cmake_args[@]}"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
