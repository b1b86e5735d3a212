#!/usr/bin/env bash
# Sets up, builds and runs the main demo: least-squares regression by
# gradient descent, written in the Leibniz language and run by the
# reference interpreter.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${LEIBNIZ_BUILD_DIR:-$root/build}

example="$root/examples/least-squares.lz"
echo "== examples/least-squares.lz: the fitted weights (true: 1.5 -0.25 -2)"
echo "== and the final loss"
"$build/bin/leibniz" run "$example"
