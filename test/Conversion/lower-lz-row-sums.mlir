// On the CPU, a traversal `for i, x. sum k. e` whose reads index its last
// variable in their last dimension only is computed row by row: for each
// `i`, a row filled with the sum's identity, then strips of 256 elements,
// in each the sum's loops and, innermost, the strip's elements, each adding
// its term. The innermost loop's elements are independent and read at
// consecutive addresses, so LLVM vectorizes it without reassociating
// anything: every element adds the same terms in the same order from -0.0,
// and an empty sum is +0.0, as the sum's own lowering gives.

// RUN: leibniz-opt %s --lower-lz | FileCheck %s
// RUN: leibniz-opt %s --lower-lz=gpu=true | FileCheck %s --check-prefix=GPU
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after
// RUN: FileCheck %s --input-file=%t.after --check-prefix=VALUES

// A convolution over two channels; an empty sum (+0.0), and a sum of -0.0
// terms (-0.0).
// VALUES:      {{\[\[}} 8. 12. 16.]
// VALUES-NEXT: [-1. -1. -1.]]
// VALUES-NEXT: {{\[\[}}0. 0.]
// VALUES-NEXT: [0. 0.]]
// VALUES-NEXT: {{\[\[}}-0. -0.]
// VALUES-NEXT: [-0. -0.]]

// The sum's range is a constant of the traversal's body (copied before
// it), the body casts x before the sum (computed again for every term), and
// a term reads a 0-d tensor.
// CHECK-LABEL: func.func @rows
// CHECK-SAME: (%[[K:.*]]: tensor<?x3xf64>, %[[G:.*]]: tensor<?x?xf64>, %[[W:.*]]: tensor<f64>)
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[EMPTY:.*]] = arith.cmpi sle, %[[C3]]
// CHECK-DAG: %[[NEG:.*]] = arith.constant -0.000000e+00 : f64
// CHECK-DAG: %[[POS:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[ID:.*]] = arith.select %[[EMPTY]], %[[POS]], %[[NEG]] : f64
// CHECK: %[[ROW:.*]] = bufferization.alloc_tensor(%[[N:.*]]) : tensor<?xf64>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ID]] : f64) outs(%[[ROW]] : tensor<?xf64>)
// CHECK: scf.for %[[START:.*]] = %{{.*}} to %[[N]] step %c256 iter_args(%{{.*}} = %[[INIT]])
// CHECK:   %[[LEFT:.*]] = arith.subi %[[N]], %[[START]]
// CHECK:   %[[COUNT:.*]] = arith.minsi %c256{{.*}}, %[[LEFT]]
// CHECK:   scf.for %[[S:.*]] = %{{.*}} to %[[C3]] step
// CHECK:     scf.for %[[XI:.*]] = %{{.*}} to %[[COUNT]] step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK:       %[[X:.*]] = arith.addi %[[START]], %[[XI]]
// CHECK:       arith.index_cast %[[X]] : index to i64
// CHECK:       tensor.extract %[[W]][]
// CHECK:       arith.mulf
// CHECK:       %[[TERM:.*]] = arith.mulf
// CHECK:       %[[OLD:.*]] = tensor.extract %[[ACC]][%[[X]]]
// CHECK:       %[[NEW:.*]] = arith.addf %[[OLD]], %[[TERM]]
// CHECK:       tensor.insert %[[NEW]] into %[[ACC]][%[[X]]]
// CHECK: scf.forall
// CHECK: return
// GPU-LABEL: func.func @rows
// GPU-NOT: linalg.fill
// GPU: tensor.generate
func.func @rows(%k: tensor<?x3xf64>, %g: tensor<?x?xf64>, %w: tensor<f64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %rows = tensor.dim %k, %c0 : tensor<?x3xf64>
  %m = tensor.dim %g, %c1 : tensor<?x?xf64>
  %n = arith.subi %m, %c2 : index
  %r = lz.for %c < %rows, %x < %n : tensor<?x?xf64> {
    %xi = arith.index_cast %x : index to i64
    %c3 = arith.constant 3 : index
    %s = lz.sum %t < %c3 : f64 {
      %ti = arith.index_cast %t : index to i64
      %a = arith.addi %xi, %ti : i64
      %at = arith.index_cast %a : i64 to index
      %kv = lz.get %k[%c, %t] : tensor<?x3xf64>
      %gv = lz.get %g[%c, %at] : tensor<?x?xf64>
      %wv = lz.get %w[] : tensor<f64>
      %p = arith.mulf %kv, %gv : f64
      %v = arith.mulf %p, %wv : f64
      lz.yield %v : f64
    }
    lz.yield %s : f64
  }
  return %r : tensor<?x?xf64>
}

// Empty when m is 0; the terms -0.0 otherwise.
// CHECK-LABEL: func.func @zeros
// CHECK: linalg.fill
func.func @zeros(%g: tensor<?x?xf64>, %m: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = tensor.dim %g, %c0 : tensor<?x?xf64>
  %n = tensor.dim %g, %c1 : tensor<?x?xf64>
  %r = lz.for %c < %rows, %x < %n : tensor<?x?xf64> {
    %s = lz.sum %t < %m : f64 {
      %gv = lz.get %g[%c, %x] : tensor<?x?xf64>
      %z = arith.constant -0.0 : f64
      %v = arith.mulf %gv, %z : f64
      lz.yield %v : f64
    }
    lz.yield %s : f64
  }
  return %r : tensor<?x?xf64>
}

// Not row by row: a read that indexes the last variable in another
// dimension (A[x, k]), a short last range, a single range, fewer than 4
// rows (2, constant: they alone would run in parallel), a float computed
// before the sum (which every term would compute again).
// CHECK-LABEL: func.func @strided
// CHECK-NOT: linalg.fill
// CHECK: tensor.generate
// CHECK-LABEL: func.func @short
// CHECK-NOT: linalg.fill
// CHECK: tensor.generate
// CHECK-LABEL: func.func @single
// CHECK-NOT: linalg.fill
// CHECK: tensor.generate
// CHECK-LABEL: func.func @few
// CHECK-NOT: linalg.fill
// CHECK: tensor.generate
// CHECK-LABEL: func.func @float_before
// CHECK-NOT: linalg.fill
// CHECK: tensor.generate
func.func @strided(%a: tensor<?x?xf64>) -> tensor<2x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %m = tensor.dim %a, %c1 : tensor<?x?xf64>
  %r = lz.for %c < %c2, %x < %n : tensor<2x?xf64> {
    %s = lz.sum %t < %m : f64 {
      %v = lz.get %a[%x, %t] : tensor<?x?xf64>
      lz.yield %v : f64
    }
    lz.yield %s : f64
  }
  return %r : tensor<2x?xf64>
}
func.func @short(%a: tensor<?x3xf64>) -> tensor<?x3xf64> {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %n = tensor.dim %a, %c0 : tensor<?x3xf64>
  %r = lz.for %i < %n, %x < %c3 : tensor<?x3xf64> {
    %s = lz.sum %t < %n : f64 {
      %v = lz.get %a[%t, %x] : tensor<?x3xf64>
      lz.yield %v : f64
    }
    lz.yield %s : f64
  }
  return %r : tensor<?x3xf64>
}
func.func @single(%a: tensor<?x?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %m = tensor.dim %a, %c1 : tensor<?x?xf64>
  %r = lz.for %x < %m : tensor<?xf64> {
    %s = lz.sum %t < %n : f64 {
      %v = lz.get %a[%t, %x] : tensor<?x?xf64>
      lz.yield %v : f64
    }
    lz.yield %s : f64
  }
  return %r : tensor<?xf64>
}

func.func @few(%g: tensor<2x?xf64>) -> tensor<2x?xf64> {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %g, %c1 : tensor<2x?xf64>
  %r = lz.for %c < %c2, %x < %n : tensor<2x?xf64> {
    %s = lz.sum %t < %n : f64 {
      %v = lz.get %g[%c, %x] : tensor<2x?xf64>
      lz.yield %v : f64
    }
    lz.yield %s : f64
  }
  return %r : tensor<2x?xf64>
}
func.func @float_before(%g: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = tensor.dim %g, %c0 : tensor<?x?xf64>
  %n = tensor.dim %g, %c1 : tensor<?x?xf64>
  %r = lz.for %c < %rows, %x < %n : tensor<?x?xf64> {
    %e = lz.get %g[%c, %x] : tensor<?x?xf64>
    %f = math.tanh %e : f64
    %s = lz.sum %t < %n : f64 {
      %v = lz.get %g[%c, %t] : tensor<?x?xf64>
      %p = arith.mulf %v, %f : f64
      lz.yield %p : f64
    }
    lz.yield %s : f64
  }
  return %r : tensor<?x?xf64>
}

func.func @main() -> (tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %k = arith.constant dense<[[1.0, 2.0, 1.0], [1.0, 0.0, -1.0]]> : tensor<2x3xf64>
  %kd = tensor.cast %k : tensor<2x3xf64> to tensor<?x3xf64>
  %g = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 2.0, 3.0, 3.0]]> : tensor<2x5xf64>
  %gd = tensor.cast %g : tensor<2x5xf64> to tensor<?x?xf64>
  %w = arith.constant dense<1.0> : tensor<f64>
  %r = func.call @rows(%kd, %gd, %w) : (tensor<?x3xf64>, tensor<?x?xf64>, tensor<f64>) -> tensor<?x?xf64>
  %h = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf64>
  %hd = tensor.cast %h : tensor<2x2xf64> to tensor<?x?xf64>
  %e = func.call @zeros(%hd, %c0) : (tensor<?x?xf64>, index) -> tensor<?x?xf64>
  %z = func.call @zeros(%hd, %c4) : (tensor<?x?xf64>, index) -> tensor<?x?xf64>
  return %r, %e, %z : tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
}
