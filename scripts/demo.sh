#!/usr/bin/env bash
# Sets up, builds and runs the main demo: hyperparameter tuning by
# implicit differentiation (the regularization strength of ridge
# regression, tuned on a validation set through the inner solve), then
# least-squares regression by gradient descent with its gradient derived by
# forward-mode differentiation, compiled (CPU pipeline, LLVM JIT) and, for
# comparison, interpreted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${LEIBNIZ_BUILD_DIR:-$root/build}

echo "== examples/hyperparameter-tuning.lz: the tuned regularization strength"
echo "== and the validation loss before each of the 20 outer steps"
"$build/bin/leibniz" run "$root/examples/hyperparameter-tuning.lz"

example="$root/examples/least-squares.lz"
echo "== examples/least-squares.lz: the fitted weights (true: 1.5 -0.25 -2)"
echo "== and the final loss, compiled with the JIT"
"$build/bin/leibniz" run --engine=jit "$example"
echo "== the same with the reference interpreter"
"$build/bin/leibniz" run --engine=interp "$example"
