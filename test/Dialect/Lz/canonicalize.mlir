// RUN: leibniz-opt %s -canonicalize -split-input-file | FileCheck %s

// Folds and canonicalization patterns of the lz dialect. Their semantic
// preservation is checked by the unit tests (CanonicalizeTest) on random data.

// CHECK-LABEL: func.func @empty_reductions
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant dense<0xFF800000> : tensor<2xf32>
// CHECK-DAG: %[[MAXINT:.*]] = arith.constant 2147483647 : i32
// CHECK-NOT: lz.
// CHECK: return %[[ZERO]], %[[ONE]], %[[NEGINF]], %[[MAXINT]]
func.func @empty_reductions(%x: f64, %i: i64, %v: tensor<2xf32>, %j: i32, %n: index) -> (f64, i64, tensor<2xf32>, i32) {
  %c0 = arith.constant 0 : index
  %s = lz.sum %k < %n, %l < %c0 : f64 {
    lz.yield %x : f64
  }
  %p = lz.prod %k < %c0 : i64 {
    lz.yield %i : i64
  }
  %m = lz.max %k < %c0 : tensor<2xf32> {
    lz.yield %v : tensor<2xf32>
  }
  %q = lz.min %k < %c0 : i32 {
    lz.yield %j : i32
  }
  return %s, %p, %m, %q : f64, i64, tensor<2xf32>, i32
}

// -----

// A dynamic tensor result has no static identity: the scope stays.
// CHECK-LABEL: func.func @empty_dynamic_tensor_sum
// CHECK: lz.sum
func.func @empty_dynamic_tensor_sum(%v: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %s = lz.sum %k < %c0 : tensor<?xf64> {
    lz.yield %v : tensor<?xf64>
  }
  return %s : tensor<?xf64>
}

// -----

// CHECK-LABEL: func.func @unit_ranges
// CHECK-SAME: (%[[X:.*]]: tensor<1x?xf64>, %[[N:.*]]: index)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: lz.sum %[[J:.*]] < %[[N]] : f64 {
// CHECK:   lz.get %[[X]][%[[C0]], %[[J]]]
func.func @unit_ranges(%x: tensor<1x?xf64>, %n: index) -> f64 {
  %c1 = arith.constant 1 : index
  %s = lz.sum %i < %c1, %j < %n : f64 {
    %e = lz.get %x[%i, %j] : tensor<1x?xf64>
    lz.yield %e : f64
  }
  return %s : f64
}

// -----

// CHECK-LABEL: func.func @only_unit_ranges
// CHECK-SAME: (%[[X:.*]]: tensor<1xf64>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[E:.*]] = lz.get %[[X]][%[[C0]]]
// CHECK: %[[S:.*]] = math.sin %[[E]]
// CHECK: return %[[S]]
func.func @only_unit_ranges(%x: tensor<1xf64>) -> f64 {
  %c1 = arith.constant 1 : index
  %s = lz.max %i < %c1 : f64 {
    %e = lz.get %x[%i] : tensor<1xf64>
    %t = math.sin %e : f64
    lz.yield %t : f64
  }
  return %s : f64
}

// -----

// CHECK-LABEL: func.func @empty_for
// CHECK: %[[E:.*]] = arith.constant dense<> : tensor<3x0xf64>
// CHECK: return %[[E]]
func.func @empty_for(%x: f64) -> tensor<3x0xf64> {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %t = lz.for %i < %c3, %j < %c0 : tensor<3x0xf64> {
    lz.yield %x : f64
  }
  return %t : tensor<3x0xf64>
}

// -----

// CHECK-LABEL: func.func @unused_for_results
// CHECK: %[[T:.*]] = lz.for %{{.*}} < %{{.*}} : tensor<?xf64> {
// CHECK-NOT: math.sin
// CHECK:   %[[C:.*]] = math.cos
// CHECK:   lz.yield %[[C]] : f64
// CHECK: return %[[T]]
func.func @unused_for_results(%x: tensor<?xf64>, %n: index) -> tensor<?xf64> {
  %a, %b = lz.for %i < %n : tensor<?xf64>, tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = math.sin %e : f64
    %c = math.cos %e : f64
    lz.yield %s, %c : f64, f64
  }
  return %b : tensor<?xf64>
}

// -----

// CHECK-LABEL: func.func @get_folds
// CHECK-SAME: (%[[V:.*]]: f64, %[[N:.*]]: index, %[[T:.*]]: tensor<?xf64>, %[[I:.*]]: index)
// CHECK-DAG: %[[FOUR:.*]] = arith.constant 4.000000e+00 : f64
// CHECK-NOT: lz.get
// CHECK: return %[[FOUR]], %[[V]], %[[T]]
func.func @get_folds(%v: f64, %n: index, %t: tensor<?xf64>, %i: index) -> (f64, f64, tensor<?xf64>) {
  %c1 = arith.constant 1 : index
  %k = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf64>
  %a = lz.get %k[%c1, %c1] : tensor<2x2xf64>
  %f = lz.fill %v, %n : tensor<?x2xf64>
  %b = lz.get %f[%i, %c1] : tensor<?x2xf64>
  %c = lz.get %t[] : tensor<?xf64>
  return %a, %b, %c : f64, f64, tensor<?xf64>
}

// -----

// A partial read of a fill, or a read of a constant at unknown indices,
// does not fold.
// CHECK-LABEL: func.func @get_no_fold
// CHECK-COUNT-2: lz.get
func.func @get_no_fold(%v: f64, %i: index) -> (tensor<2xf64>, f64) {
  %c3 = arith.constant 3 : index
  %f = lz.fill %v, %c3 : tensor<?x2xf64>
  %row = lz.get %f[%i] : tensor<?x2xf64>
  %k = arith.constant dense<[1.0, 2.0]> : tensor<2xf64>
  %a = lz.get %k[%i] : tensor<2xf64>
  return %row, %a : tensor<2xf64>, f64
}

// -----

// CHECK-LABEL: func.func @fill_constant
// CHECK: %[[C:.*]] = arith.constant dense<2.500000e+00> : tensor<2x3xf64>
// CHECK: return %[[C]]
func.func @fill_constant() -> tensor<2x3xf64> {
  %v = arith.constant 2.5 : f64
  %f = lz.fill %v : tensor<2x3xf64>
  return %f : tensor<2x3xf64>
}

// -----

// CHECK-LABEL: func.func @tuples
// CHECK-SAME: (%[[X:.*]]: f64, %[[T:.*]]: tuple<f64, i64>)
// CHECK-NOT: lz.proj
// CHECK-NOT: lz.tuple
// CHECK: return %[[X]], %[[T]]
func.func @tuples(%x: f64, %t: tuple<f64, i64>) -> (f64, tuple<f64, i64>) {
  %i = arith.constant 3 : i64
  %p = lz.tuple(%x, %i : f64, i64)
  %a = lz.proj %p[0] : tuple<f64, i64>
  %b0 = lz.proj %t[0] : tuple<f64, i64>
  %b1 = lz.proj %t[1] : tuple<f64, i64>
  %u = lz.tuple(%b0, %b1 : f64, i64)
  return %a, %u : f64, tuple<f64, i64>
}

// -----

// Reassembling the elements in another order is not the same tuple.
// CHECK-LABEL: func.func @tuple_swapped
// CHECK: lz.tuple
func.func @tuple_swapped(%t: tuple<f64, f64>) -> tuple<f64, f64> {
  %a = lz.proj %t[0] : tuple<f64, f64>
  %b = lz.proj %t[1] : tuple<f64, f64>
  %u = lz.tuple(%b, %a : f64, f64)
  return %u : tuple<f64, f64>
}

// -----

// CHECK-LABEL: func.func @zero_step_loop
// CHECK-SAME: (%[[X:.*]]: f64)
// CHECK-NOT: lz.loop
// CHECK: return %[[X]]
func.func @zero_step_loop(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %r = lz.loop %t < %c0 iter_args(%s = %x) : f64 {
    %d = arith.addf %s, %s : f64
    lz.yield %d : f64
  }
  return %r : f64
}

// -----

// Reading nothing of a rank-0 tensor is its element, not the tensor
// (found by the IR fuzzer: folding it to the tensor made `arith.mulf` of
// tensors); a read of nothing that yields the tensor is the tensor.
// CHECK-LABEL: func.func @rank0
// CHECK-SAME: (%[[T:.*]]: tensor<f64>)
// CHECK: %[[E:.*]] = lz.get %[[T]][] : tensor<f64>
// CHECK: %[[F:.*]] = lz.get %[[T]][] : tensor<f64>
// CHECK: arith.mulf %[[E]], %[[F]] : f64
func.func @rank0(%t: tensor<f64>) -> f64 {
  %e = lz.get %t[] : tensor<f64>
  %f = lz.get %t[] : tensor<f64>
  %p = arith.mulf %e, %f : f64
  return %p : f64
}

// CHECK-LABEL: func.func @rank0_constant
// CHECK: %[[C:.*]] = arith.constant 3.000000e+00 : f64
// CHECK: return %[[C]]
func.func @rank0_constant() -> f64 {
  %c = arith.constant dense<3.0> : tensor<f64>
  %e = lz.get %c[] : tensor<f64>
  return %e : f64
}
