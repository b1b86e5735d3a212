// RUN: leibniz-opt %s --lower-lz | FileCheck %s
// RUN: leibniz-opt %s --lower-lz | leibniz-opt > /dev/null

// Each lz op's lowering; lower-lz-interpret.mlir checks that the results do
// not change.

// The identity map of @pair's linalg.generic.
// CHECK: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>

// A traversal that yields scalars is a tensor.generate; reads are extracts.
// CHECK-LABEL: func.func @transpose
// CHECK-NOT: lz.
// CHECK: tensor.generate %{{.*}}, %{{.*}} {
// CHECK: ^bb0(%[[J:.*]]: index, %[[I:.*]]: index):
// CHECK:   %[[E:.*]] = tensor.extract %arg0[%[[I]], %[[J]]]
// CHECK:   tensor.yield %[[E]] : f64
func.func @transpose(%A: tensor<?x?xf64>, %m: index, %n: index) -> tensor<?x?xf64> {
  %T = lz.for %j < %n, %i < %m : tensor<?x?xf64> {
    %e = lz.get %A[%i, %j] : tensor<?x?xf64>
    lz.yield %e : f64
  }
  return %T : tensor<?x?xf64>
}

// A traversal that yields several scalars is one linalg.generic whose
// outputs are its results, all of its dimensions parallel.
// CHECK-LABEL: func.func @pair
// CHECK-DAG: %[[S:.*]] = bufferization.alloc_tensor(%arg1, %arg2) : tensor<?x?xf64>
// CHECK-DAG: %[[D:.*]] = bufferization.alloc_tensor(%arg1, %arg2) : tensor<?x?xf64>
// CHECK: %[[R:.*]]:2 = linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} outs(%[[S]], %[[D]] : tensor<?x?xf64>, tensor<?x?xf64>)
// CHECK:   %[[I:.*]] = linalg.index 0 : index
// CHECK:   %[[J:.*]] = linalg.index 1 : index
// CHECK:   %[[A:.*]] = tensor.extract %arg0[%[[I]], %[[J]]]
// CHECK:   %[[B:.*]] = tensor.extract %arg0[%[[J]], %[[I]]]
// CHECK:   %[[SUM:.*]] = arith.addf %[[A]], %[[B]]
// CHECK:   %[[DIFF:.*]] = arith.subf %[[A]], %[[B]]
// CHECK:   linalg.yield %[[SUM]], %[[DIFF]] : f64, f64
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @pair(%A: tensor<?x?xf64>, %m: index, %n: index) -> (tensor<?x?xf64>, tensor<?x?xf64>) {
  %S:2 = lz.for %i < %m, %j < %n : tensor<?x?xf64>, tensor<?x?xf64> {
    %a = lz.get %A[%i, %j] : tensor<?x?xf64>
    %b = lz.get %A[%j, %i] : tensor<?x?xf64>
    %s = arith.addf %a, %b : f64
    %d = arith.subf %a, %b : f64
    lz.yield %s, %d : f64, f64
  }
  return %S#0, %S#1 : tensor<?x?xf64>, tensor<?x?xf64>
}

// A scalar reduction is a loop nest in the scope's order, carrying the
// accumulator from the identity; a float sum starts from -0.0 and an empty
// one is +0.0.
// CHECK-LABEL: func.func @total
// CHECK: %[[INIT:.*]] = arith.constant -0.000000e+00 : f64
// CHECK: %[[SUM:.*]] = scf.for %[[I:.*]] = %c0 to %arg1 step %c1 iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f64) {
// CHECK:   scf.for %[[J:.*]] = %c0 to %arg2 step %c1 iter_args(%[[ACC2:.*]] = %[[ACC]]) -> (f64) {
// CHECK:     %[[E:.*]] = tensor.extract %arg0[%[[I]], %[[J]]]
// CHECK:     arith.addf %[[ACC2]], %[[E]]
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: arith.select %{{.*}}, %[[ZERO]], %[[SUM]] : f64
func.func @total(%A: tensor<?x?xf64>, %m: index, %n: index) -> f64 {
  %s = lz.sum %i < %m, %j < %n : f64 {
    %e = lz.get %A[%i, %j] : tensor<?x?xf64>
    lz.yield %e : f64
  }
  return %s : f64
}

// A traversal that yields sub-tensors inserts them as slices; reading a row
// is a rank-reducing slice. The first point gives the shape of the result;
// the others fill it in any order (scf.forall). The result is a
// bufferization.alloc_tensor, which CSE does not merge with another
// result's: two results sharing one empty tensor would each be copied.
// CHECK-LABEL: func.func @rows
// CHECK: tensor.extract_slice %arg0[%c0, 0] [1, %{{.*}}] [1, 1] : tensor<?x?xf64> to tensor<?xf64>
// CHECK: bufferization.alloc_tensor(%{{.*}}, %{{.*}}) : tensor<?x?xf64>
// CHECK: %[[FIRST:.*]] = tensor.insert_slice
// CHECK: scf.forall (%[[I:.*]]) = (%c1) to (%arg1) step (%c1) shared_outs(%[[OUT:.*]] = %[[FIRST]])
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT]]
func.func @rows(%A: tensor<?x?xf64>, %m: index) -> tensor<?x?xf64> {
  %R = lz.for %i < %m : tensor<?x?xf64> {
    %row = lz.get %A[%i] : tensor<?x?xf64>
    lz.yield %row : tensor<?xf64>
  }
  return %R : tensor<?x?xf64>
}

// Constructors and library operators; matmul accumulates into -0.0.
// CHECK-LABEL: func.func @library
// CHECK: linalg.fill ins(%{{.*}} : f64) outs(%{{.*}} : tensor<?xf64>)
// CHECK: tensor.generate
// CHECK: arith.sitofp
// CHECK: %[[NZ:.*]] = arith.constant -0.000000e+00 : f64
// CHECK: linalg.fill ins(%[[NZ]] : f64)
// CHECK: linalg.matmul
func.func @library(%A: tensor<2x3xf64>, %B: tensor<3x4xf64>, %n: index, %v: f64)
    -> (tensor<?xf64>, tensor<?xf64>, tensor<2x4xf64>) {
  %f = lz.fill %v, %n : tensor<?xf64>
  %i = lz.iota %n : tensor<?xf64>
  %C = lz.matmul %A, %B : tensor<2x3xf64>, tensor<3x4xf64> -> tensor<2x4xf64>
  return %f, %i, %C : tensor<?xf64>, tensor<?xf64>, tensor<2x4xf64>
}

// Loops become scf.for and scf.while.
// CHECK-LABEL: func.func @loops
// CHECK: scf.for %{{.*}} = %c0 to %arg1 step %c1 iter_args
// CHECK: scf.while
// CHECK: scf.condition
// CHECK: } do {
func.func @loops(%x0: f64, %n: index) -> f64 {
  %x = lz.loop %t < %n iter_args(%x = %x0) : f64 {
    %y = arith.mulf %x, %x : f64
    lz.yield %y : f64
  }
  %half = arith.constant 0.5 : f64
  %w = lz.loop while (%x) : f64 cond {
  ^bb0(%y: f64):
    %c = arith.cmpf ogt, %y, %half : f64
    lz.condition %c
  } do {
  ^bb0(%y: f64):
    %h = arith.mulf %y, %half : f64
    lz.yield %h : f64
  }
  return %w : f64
}
