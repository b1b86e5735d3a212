// Whole files that are malformed: located errors, exit status 1, no crash.

// RUN: not leibniz-opt %S/Inputs/truncated.mlir 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: truncated.mlir:{{[0-9]+}}:{{[0-9]+}}: error: expected
// TRUNC-NOT: Stack dump

// RUN: not leibniz-opt %S/Inputs/garbage.mlir 2>&1 | FileCheck %s --check-prefix=GARBAGE
// GARBAGE: garbage.mlir:2:3: error:
// GARBAGE-NOT: Stack dump

// RUN: not leibniz-opt %S/Inputs/does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file {{.*}}does-not-exist.mlir

// An empty file is a valid, empty module.
// RUN: echo "" | leibniz-opt | FileCheck %s --check-prefix=EMPTY
// EMPTY: module {
