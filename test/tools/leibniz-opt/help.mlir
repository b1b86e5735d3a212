// RUN: leibniz-opt --help | FileCheck %s

// The Leibniz dialects and passes are registered, with the upstream ones the
// pipelines use.

// CHECK: OVERVIEW: Leibniz optimizer driver
// CHECK: Available Dialects: {{.*}}lz
// CHECK-DAG: --canonicalize
// CHECK-DAG: --cse
// CHECK: --lz-interpret {{.*}}Runs a function with the reference interpreter
// CHECK-NEXT: --args=
// CHECK: --count-ops
