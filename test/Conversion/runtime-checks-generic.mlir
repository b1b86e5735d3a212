// RUN: leibniz-opt %s --lower-lz --lz-runtime-checks | FileCheck %s

// In a traversal with several results (a linalg.generic), a read at the
// point's index over the tensor's own dimension is not checked; a read at
// another index is.
// CHECK-LABEL: func.func @pair
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT: tensor.extract %arg0[%[[I]]]
// CHECK: %[[J:.*]] = arith.addi %[[I]], %{{.*}} : index
// CHECK: %[[OK:.*]] = arith.cmpi ult, %[[J]], %{{.*}} : index
// CHECK: scf.if %[[OK]] {
// CHECK: func.call @leibniz_bounds_failed(
// CHECK: tensor.extract %arg0[%[[J]]]
// CHECK-NOT: call @leibniz_bounds_failed
// CHECK: linalg.yield
func.func @pair(%A: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %A, %c0 : tensor<?xf64>
  %R:2 = lz.for %i < %n : tensor<?xf64>, tensor<?xf64> {
    %a = lz.get %A[%i] : tensor<?xf64>
    %j = arith.addi %i, %c1 : index
    %b = lz.get %A[%j] : tensor<?xf64>
    lz.yield %a, %b : f64, f64
  }
  return %R#0, %R#1 : tensor<?xf64>, tensor<?xf64>
}
