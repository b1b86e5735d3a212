// RUN: leibniz-opt %s --lz-decompose-tuples | FileCheck %s
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lz-decompose-tuples --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: FileCheck %s --check-prefix=BEFORE --input-file=%t.before
// RUN: FileCheck %s --check-prefix=AFTER --input-file=%t.after

// Nested tuples become their leaves in signatures, calls, returns and
// structured control flow.

// CHECK-LABEL: func.func @swap(%arg0: f64, %arg1: i64, %arg2: tensor<2xf64>) -> (tensor<2xf64>, f64, i64)
// CHECK-NOT: lz.
// CHECK: return %arg2, %arg0, %arg1 : tensor<2xf64>, f64, i64
func.func @swap(%p: tuple<tuple<f64, i64>, tensor<2xf64>>) -> tuple<tensor<2xf64>, tuple<f64, i64>> {
  %a = lz.proj %p[0] : tuple<tuple<f64, i64>, tensor<2xf64>>
  %b = lz.proj %p[1] : tuple<tuple<f64, i64>, tensor<2xf64>>
  %r = lz.tuple(%b, %a : tensor<2xf64>, tuple<f64, i64>)
  return %r : tuple<tensor<2xf64>, tuple<f64, i64>>
}

// CHECK-LABEL: func.func @main() -> (tensor<2xf64>, f64, i64)
// CHECK: %{{.*}}:3 = scf.if %{{.*}} -> (f64, i64, tensor<2xf64>)
// CHECK: %{{.*}}:3 = call @swap(%{{.*}}#0, %{{.*}}#1, %{{.*}}#2)
func.func @main() -> tuple<tensor<2xf64>, tuple<f64, i64>> {
  %x = arith.constant 1.5 : f64
  %k = arith.constant 7 : i64
  %v = arith.constant dense<[2.0, 3.0]> : tensor<2xf64>
  %c = arith.constant true
  %inner = lz.tuple(%x, %k : f64, i64)
  %p = lz.tuple(%inner, %v : tuple<f64, i64>, tensor<2xf64>)
  %q = scf.if %c -> (tuple<tuple<f64, i64>, tensor<2xf64>>) {
    scf.yield %p : tuple<tuple<f64, i64>, tensor<2xf64>>
  } else {
    scf.yield %p : tuple<tuple<f64, i64>, tensor<2xf64>>
  }
  %r = call @swap(%q) : (tuple<tuple<f64, i64>, tensor<2xf64>>) -> tuple<tensor<2xf64>, tuple<f64, i64>>
  return %r : tuple<tensor<2xf64>, tuple<f64, i64>>
}

// BEFORE: ([2. 3.], (1.5, 7))
// AFTER:      [2. 3.]
// AFTER-NEXT: 1.5
// AFTER-NEXT: 7
