#!/usr/bin/env bash
# Regenerates the op and pass references under docs/ from ODS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LEIBNIZ_BUILD_DIR:-$root/build}
cmake --build "$build" --target leibniz-doc
for doc in dialects/LzOps.md dialects/ADOps.md passes/InterpreterPasses.md \
           passes/ConversionPasses.md passes/RewritePasses.md passes/ADPasses.md; do
  mkdir -p "$root/docs/$(dirname "$doc")"
  cp "$build/docs/$doc" "$root/docs/$doc"
done
echo "updated the generated docs under docs/"
