// RUN: leibniz-opt %s | FileCheck %s
// RUN: leibniz-opt %s | leibniz-opt | FileCheck %s
// RUN: leibniz-opt %s --mlir-print-op-generic | leibniz-opt | FileCheck %s

// Every lz op round-trips through its custom and its generic form.

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[A:.*]]: tensor<?x?xf64>, %[[M:.*]]: index, %[[N:.*]]: index)
// CHECK: %[[T:.*]] = lz.for %[[J:.*]] < %[[N]], %[[I:.*]] < %[[M]] : tensor<?x?xf64> {
// CHECK:   %[[E:.*]] = lz.get %[[A]][%[[I]], %[[J]]] : tensor<?x?xf64>
// CHECK:   lz.yield %[[E]] : f64
// CHECK: }
// CHECK: return %[[T]]
func.func @transpose(%A: tensor<?x?xf64>, %m: index, %n: index) -> tensor<?x?xf64> {
  %t = lz.for %j < %n, %i < %m : tensor<?x?xf64> {
    %e = lz.get %A[%i, %j] : tensor<?x?xf64>
    lz.yield %e : f64
  }
  return %t : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @multi_result_for
// CHECK: %{{.*}}:2 = lz.for %{{.*}} < %{{.*}} : tensor<4xf32>, tensor<4x2xf32> {
// CHECK:   lz.yield %{{.*}}, %{{.*}} : f32, tensor<2xf32>
func.func @multi_result_for(%x: tensor<4xf32>, %r: tensor<2xf32>) -> (tensor<4xf32>, tensor<4x2xf32>) {
  %c4 = arith.constant 4 : index
  %a, %b = lz.for %i < %c4 : tensor<4xf32>, tensor<4x2xf32> {
    %e = lz.get %x[%i] : tensor<4xf32>
    lz.yield %e, %r : f32, tensor<2xf32>
  }
  return %a, %b : tensor<4xf32>, tensor<4x2xf32>
}

// CHECK-LABEL: func.func @reductions
// CHECK: lz.sum %{{.*}} < %{{.*}} : f64 {
// CHECK: lz.prod %{{.*}} < %{{.*}}, %{{.*}} < %{{.*}} : f64 {
// CHECK: lz.max %{{.*}} < %{{.*}} : tensor<3xi64> {
// CHECK: lz.min %{{.*}} < %{{.*}} : i32 {
func.func @reductions(%x: tensor<?xf64>, %n: index, %t: tensor<?x3xi64>, %v: i32) -> (f64, f64, tensor<3xi64>, i32) {
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %x[%k] : tensor<?xf64>
    lz.yield %e : f64
  }
  %p = lz.prod %k < %n, %l < %n : f64 {
    %e = lz.get %x[%l] : tensor<?xf64>
    lz.yield %e : f64
  }
  %m = lz.max %k < %n : tensor<3xi64> {
    %row = lz.get %t[%k] : tensor<?x3xi64>
    lz.yield %row : tensor<3xi64>
  }
  %q = lz.min %k < %n : i32 {
    lz.yield %v : i32
  }
  return %s, %p, %m, %q : f64, f64, tensor<3xi64>, i32
}

// CHECK-LABEL: func.func @constructors
// CHECK: lz.fill %{{.*}}, %{{.*}} : tensor<?x3xf64>
// CHECK: lz.fill %{{.*}} : tensor<2xi64>
// CHECK: lz.iota %{{.*}} : tensor<?xf32>
// CHECK: lz.iota : tensor<5xi64>
func.func @constructors(%v: f64, %n: index, %i: i64) -> (tensor<?x3xf64>, tensor<2xi64>, tensor<?xf32>, tensor<5xi64>) {
  %a = lz.fill %v, %n : tensor<?x3xf64>
  %b = lz.fill %i : tensor<2xi64>
  %c = lz.iota %n : tensor<?xf32>
  %d = lz.iota : tensor<5xi64>
  return %a, %b, %c, %d : tensor<?x3xf64>, tensor<2xi64>, tensor<?xf32>, tensor<5xi64>
}

// CHECK-LABEL: func.func @partial_get
// CHECK: lz.get %{{.*}}[%{{.*}}] : tensor<4x?xf64>
// CHECK: lz.get %{{.*}}[] : tensor<4x?xf64>
func.func @partial_get(%A: tensor<4x?xf64>, %i: index) -> (tensor<?xf64>, tensor<4x?xf64>) {
  %row = lz.get %A[%i] : tensor<4x?xf64>
  %all = lz.get %A[] : tensor<4x?xf64>
  return %row, %all : tensor<?xf64>, tensor<4x?xf64>
}

// CHECK-LABEL: func.func @library_ops
// CHECK: lz.matmul %{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4x?xf32> -> tensor<?x?xf32>
// CHECK: lz.batch_matmul %{{.*}}, %{{.*}} : tensor<2x3x4xf64>, tensor<2x4x5xf64> -> tensor<2x3x5xf64>
func.func @library_ops(%a: tensor<?x4xf32>, %b: tensor<4x?xf32>, %c: tensor<2x3x4xf64>, %d: tensor<2x4x5xf64>) -> (tensor<?x?xf32>, tensor<2x3x5xf64>) {
  %0 = lz.matmul %a, %b : tensor<?x4xf32>, tensor<4x?xf32> -> tensor<?x?xf32>
  %1 = lz.batch_matmul %c, %d : tensor<2x3x4xf64>, tensor<2x4x5xf64> -> tensor<2x3x5xf64>
  return %0, %1 : tensor<?x?xf32>, tensor<2x3x5xf64>
}

// CHECK-LABEL: func.func @tuples
// CHECK: %[[T:.*]] = lz.tuple(%{{.*}}, %{{.*}} : f64, tensor<3xf64>)
// CHECK: %[[U:.*]] = lz.tuple
// CHECK: %[[N:.*]] = lz.tuple(%[[T]], %[[U]] : tuple<f64, tensor<3xf64>>, tuple<>)
// CHECK: lz.proj %[[N]][0] : tuple<tuple<f64, tensor<3xf64>>, tuple<>>
func.func @tuples(%x: f64, %v: tensor<3xf64>) -> tuple<f64, tensor<3xf64>> {
  %t = lz.tuple(%x, %v : f64, tensor<3xf64>)
  %u = lz.tuple
  %n = lz.tuple(%t, %u : tuple<f64, tensor<3xf64>>, tuple<>)
  %p = lz.proj %n[0] : tuple<tuple<f64, tensor<3xf64>>, tuple<>>
  return %p : tuple<f64, tensor<3xf64>>
}

// CHECK-LABEL: func.func @loops
// CHECK: %{{.*}}:2 = lz.loop %[[S:.*]] < %{{.*}} iter_args(%[[X:.*]] = %{{.*}}, %[[V:.*]] = %{{.*}}) : f64, tensor<3xf64> {
// CHECK:   lz.yield %{{.*}}, %[[V]] : f64, tensor<3xf64>
// CHECK: %{{.*}} = lz.loop while (%{{.*}}) : f64 cond {
// CHECK: ^bb0(%{{.*}}: f64):
// CHECK:   lz.condition %{{.*}}
// CHECK: } do {
// CHECK: ^bb0(%{{.*}}: f64):
// CHECK:   lz.yield %{{.*}} : f64
// CHECK: lz.loop %{{.*}} < %{{.*}} iter_args() {
// CHECK-NEXT: lz.yield
func.func @loops(%x0: f64, %v0: tensor<3xf64>, %n: index) -> (f64, f64) {
  %r:2 = lz.loop %t < %n iter_args(%x = %x0, %v = %v0) : f64, tensor<3xf64> {
    %x1 = arith.addf %x, %x : f64
    lz.yield %x1, %v : f64, tensor<3xf64>
  }
  %half = arith.constant 0.5 : f64
  %w = lz.loop while (%r#0) : f64 cond {
  ^bb0(%y: f64):
    %c = arith.cmpf ogt, %y, %half : f64
    lz.condition %c
  } do {
  ^bb0(%y: f64):
    %h = arith.mulf %y, %half : f64
    lz.yield %h : f64
  }
  lz.loop %t < %n iter_args() {
    lz.yield
  }
  return %r#0, %w : f64, f64
}

// CHECK-LABEL: func.func @random_and_print
// CHECK: lz.random "normal" %{{.*}}, %{{.*}} : tensor<?x3xf64>
// CHECK: lz.random "uniform" %{{.*}} : tensor<2xf32>
// CHECK: lz.print %{{.*}} : tensor<2xf32>
func.func @random_and_print(%seed: i64, %n: index) -> tensor<2xf32> {
  %a = lz.random "normal" %seed, %n : tensor<?x3xf64>
  %b = lz.random "uniform" %seed : tensor<2xf32>
  %c = lz.print %b : tensor<2xf32>
  return %c : tensor<2xf32>
}

// CHECK-LABEL: func.func @reports
// CHECK: lz.check_tolerance %{{.*}}, %{{.*}}, "the residual"
// CHECK: lz.trace_loss %{{.*}}, %{{.*}}, "minimize" : f32
func.func @reports(%value: f64, %limit: f64, %step: index, %loss: f32) {
  lz.check_tolerance %value, %limit, "the residual"
  lz.trace_loss %step, %loss, "minimize" : f32
  return
}
