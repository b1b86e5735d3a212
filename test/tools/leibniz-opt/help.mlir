// RUN: leibniz-opt --help | FileCheck %s

// The Leibniz dialects and passes are registered, with the upstream ones the
// pipelines use.

// CHECK: OVERVIEW: Leibniz optimizer driver
// CHECK: Available Dialects: {{.*}}lz
// CHECK: --lz-interpret
// CHECK-SAME: Runs a function with the reference interpreter
// CHECK: count-ops
// CHECK: --canonicalize
// CHECK: --cse
