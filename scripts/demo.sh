#!/usr/bin/env bash
# Sets up, builds and runs the main demo: least-squares regression by
# gradient descent, written in the Leibniz language with its gradient
# derived by forward-mode differentiation, compiled (CPU pipeline, LLVM
# JIT) and, for comparison, interpreted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${LEIBNIZ_BUILD_DIR:-$root/build}

example="$root/examples/least-squares.lz"
echo "== examples/least-squares.lz: the fitted weights (true: 1.5 -0.25 -2)"
echo "== and the final loss, compiled with the JIT"
"$build/bin/leibniz" run --engine=jit "$example"
echo "== the same with the reference interpreter"
"$build/bin/leibniz" run --engine=interp "$example"
