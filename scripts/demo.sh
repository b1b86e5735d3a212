#!/usr/bin/env bash
# Sets up, builds and runs the main demo: least-squares regression by
# gradient descent, written in the lz dialect and run by the reference
# interpreter.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${LEIBNIZ_BUILD_DIR:-$root/build}

example="$root/examples/least-squares.mlir"
echo "== examples/least-squares.mlir, canonicalized, then interpreted"
echo "== results: the fitted weights (true: 1.5 -2 0.5), the final loss,"
echo "== then the number of operations the interpreter executed"
"$build/bin/leibniz-opt" "$example" --canonicalize \
  --lz-interpret='entry=main count-ops=1' -o /dev/null
