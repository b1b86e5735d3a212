// accumulate-to-for turns an accumulation into a traversal of sums where
// that keeps the order of its loops, or where the traversal's innermost
// loop (over the last summed variable) reads memory with no more strides
// than the accumulation's (over its last variable).
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(accumulate-to-for)' | FileCheck %s

// The yielded variable comes first: the loops keep their order.
// CHECK-LABEL: func.func @rows
// CHECK-NOT: lz.accumulate
// CHECK: lz.for %[[K:.*]] < %{{.*}} : tensor<?xf64>
// CHECK: lz.sum %[[L:.*]] < %{{.*}} : f64
// CHECK: lz.get %{{.*}}[%[[K]], %[[L]]]
func.func @rows(%x: tensor<?x?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c0 : tensor<?x?xf64>
  %n = tensor.dim %x, %c1 : tensor<?x?xf64>
  %r = lz.accumulate %k < %m, %l < %n into (%m) : tensor<?xf64> {
    %e = lz.get %x[%k, %l] : tensor<?x?xf64>
    lz.yield %k, %e : index, f64
  }
  return %r : tensor<?xf64>
}

// -----

// The column sums of x, the transpose of `for k. sum l. x[k, l] * w[l]`
// (the gradient of least squares): the accumulation reads x by rows and
// computes r[k] once per row; `for l. sum k.` would read it by columns.
// CHECK-LABEL: func.func @columns
// CHECK-NOT: lz.for
// CHECK: lz.accumulate %{{.*}} < %{{.*}}, %{{.*}} < %{{.*}} into
func.func @columns(%x: tensor<?x?xf64>, %r: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c0 : tensor<?x?xf64>
  %n = tensor.dim %x, %c1 : tensor<?x?xf64>
  %g = lz.accumulate %k < %m, %l < %n into (%n) : tensor<?xf64> {
    %rk = lz.get %r[%k] : tensor<?xf64>
    %e = lz.get %x[%k, %l] : tensor<?x?xf64>
    %p = arith.mulf %e, %rk : f64
    lz.yield %l, %p : index, f64
  }
  return %g : tensor<?xf64>
}

// -----

// The same sums of a matrix stored the other way round: the accumulation
// would read it by columns, the traversal reads it by rows.
// CHECK-LABEL: func.func @transposed
// CHECK-NOT: lz.accumulate
// CHECK: lz.for %[[L:.*]] < %{{.*}} : tensor<?xf64>
// CHECK: lz.sum %[[K:.*]] < %{{.*}} : f64
// CHECK: lz.get %{{.*}}[%[[L]], %[[K]]]
func.func @transposed(%y: tensor<?x?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %y, %c0 : tensor<?x?xf64>
  %m = tensor.dim %y, %c1 : tensor<?x?xf64>
  %g = lz.accumulate %k < %m, %l < %n into (%n) : tensor<?xf64> {
    %e = lz.get %y[%l, %k] : tensor<?x?xf64>
    lz.yield %l, %e : index, f64
  }
  return %g : tensor<?xf64>
}

// -----

// A convolution's kernel gradient: both innermost loops read by rows, and
// the traversal sums over the image in registers.
// CHECK-LABEL: func.func @kernel
// CHECK-NOT: lz.accumulate
// CHECK: lz.for %{{.*}} < %{{.*}}, %{{.*}} < %{{.*}} : tensor<?x3xf64>
// CHECK: lz.sum
func.func @kernel(%d: tensor<?x?xf64>, %x: tensor<?xf64>) -> tensor<?x3xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %f = tensor.dim %d, %c0 : tensor<?x?xf64>
  %w = tensor.dim %d, %c1 : tensor<?x?xf64>
  %g = lz.accumulate %o < %f, %p < %w, %s < %c3 into (%f) : tensor<?x3xf64> {
    %a = lz.get %d[%o, %p] : tensor<?x?xf64>
    %q = arith.addi %p, %s : index
    %b = lz.get %x[%q] : tensor<?xf64>
    %v = arith.mulf %a, %b : f64
    lz.yield %o, %s, %v : index, index, f64
  }
  return %g : tensor<?x3xf64>
}
