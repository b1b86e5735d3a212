// RUN: leibniz-opt %s --lz-check-ranges | FileCheck %s

// A scope whose range may be negative is checked before it runs; one
// over a tensor's size or a constant is not.

// CHECK-LABEL: func.func @user_range
// CHECK: %[[N:.*]] = arith.index_cast
// CHECK: %[[OK:.*]] = arith.cmpi sge, %[[N]], %{{.*}} : index
// CHECK: scf.if
// CHECK: call @leibniz_size_failed
// CHECK: lz.sum %{{.*}} < %[[N]]
func.func @user_range(%n: i64) -> f64 {
  %0 = arith.index_cast %n : i64 to index
  %1 = lz.sum %i < %0 : f64 {
    %cst = arith.constant 1.0 : f64
    lz.yield %cst : f64
  }
  return %1 : f64
}

// CHECK-LABEL: func.func @known_ranges
// CHECK-NOT: leibniz_size_failed
// CHECK: return
func.func @known_ranges(%x: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %dim = tensor.dim %x, %c0 : tensor<?xf64>
  %0 = lz.sum %i < %dim : f64 {
    %1 = lz.max %j < %c3 : f64 {
      %2 = lz.get %x[%i] : tensor<?xf64>
      lz.yield %2 : f64
    }
    lz.yield %1 : f64
  }
  return %0 : f64
}

// A traversal's range is checked as well, so that a negative one is the
// interpreter's error, not a tensor of negative size.
// CHECK-LABEL: func.func @traversal
// CHECK: scf.if
// CHECK: call @leibniz_size_failed
// CHECK: lz.for
func.func @traversal(%n: index) -> tensor<?xf64> {
  %0 = lz.for %i < %n : tensor<?xf64> {
    %cst = arith.constant 1.0 : f64
    lz.yield %cst : f64
  }
  return %0 : tensor<?xf64>
}
