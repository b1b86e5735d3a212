// A scatter-add whose innermost range is a short constant (a stencil's
// window) runs as its innermost loop the variable that indexes the result's
// last dimension, alone or plus the window, where every read indexes it in
// the last dimension only: that loop adds consecutive values into
// consecutive elements, and LLVM vectorizes it. The other short ranges move
// out of the loop around it, so that its consecutive runs add into
// different elements. Where each element then adds its values in the same
// order, some loops running backwards, it always does; otherwise only with
// `reassociate` (the driver's -O3).

// RUN: leibniz-opt %s --lower-lz=reassociate=true | FileCheck %s
// RUN: leibniz-opt %s --lower-lz | FileCheck %s --check-prefix=PLAIN
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz=reassociate=true --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=main -o /dev/null > %t.plain
// RUN: diff %t.before %t.plain
// RUN: FileCheck %s --input-file=%t.after --check-prefix=VALUES
// RUN: leibniz-opt %s --lz-interpret=entry=free_main -o /dev/null > %t.free.before
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=free_main -o /dev/null > %t.free.plain
// RUN: diff %t.free.before %t.free.plain
// RUN: FileCheck %s --input-file=%t.free.plain --check-prefix=FREE
// RUN: leibniz-opt %s --lower-lz=reassociate=true --lz-interpret=entry=free_main -o /dev/null | FileCheck %s --check-prefix=FREE-REASSOC

// A convolution's gradient with respect to its input, over two channels:
// out[c, i + s] += k[c, s] * g[c, i]. Element (0, 2) adds 1, 1 and -1e16
// in that order, which gives -1e16 + 2 (and -1e16 in the other order).
// VALUES: {{^}}2.0{{$}}

// The loops run over c < 2, s < 3, then i < n (the scope's order: c, i, s).
// CHECK-LABEL: func.func @window
// CHECK-SAME: (%[[K:.*]]: tensor<2x3xf64>, %[[G:.*]]: tensor<2x?xf64>)
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[N:.*]] = tensor.dim %[[G]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[S:.*]] = %{{.*}} to %[[C3]] step
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[N]] step
// CHECK-NOT: scf.for
// CHECK: tensor.extract %[[G]][%{{.*}}, %[[I]]]
// CHECK: return
// Each element adds its values in the same order, s running backwards:
// as i rises, s = t - i falls.
// PLAIN-LABEL: func.func @window
// PLAIN: %[[N:.*]] = tensor.dim
// PLAIN: scf.for
// PLAIN: scf.for %[[S:.*]] = %{{.*}} to %c3 step
// PLAIN: %[[BACK:.*]] = arith.subi %{{.*}}, %[[S]]
// PLAIN: arith.index_cast %[[BACK]]
// PLAIN: scf.for %{{.*}} = %{{.*}} to %[[N]] step
func.func @window(%k: tensor<2x3xf64>, %g: tensor<2x?xf64>) -> tensor<2x?xf64> {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %n = tensor.dim %g, %c1 : tensor<2x?xf64>
  %m = arith.addi %n, %c2 : index
  %r = lz.accumulate %c < %c2, %i < %n, %s < %c3 into (%m) : tensor<2x?xf64> {
    %ii = arith.index_cast %i : index to i64
    %si = arith.index_cast %s : index to i64
    %t = arith.addi %ii, %si : i64
    %at = arith.index_cast %t : i64 to index
    %kv = lz.get %k[%c, %s] : tensor<2x3xf64>
    %gv = lz.get %g[%c, %i] : tensor<2x?xf64>
    %v = arith.mulf %kv, %gv : f64
    lz.yield %c, %at, %v : index, index, f64
  }
  return %r : tensor<2x?xf64>
}

// A free variable u between i and s: in the scope's order, an element's
// values come by s (backwards), then u; run innermost, i would make them come
// by u first. Only with reassociate. Element 2 adds 1, 1, 1, 1, -1e16, 1 in
// the scope's order: -1e16 + 4 (in the other order, -1e16).
// FREE: {{^}}4.0{{$}}
// FREE-REASSOC: {{^}}0.0{{$}}
// CHECK-LABEL: func.func @free
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N:.*]] step
// PLAIN-LABEL: func.func @free
// PLAIN: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// PLAIN: scf.for %{{.*}} = %{{.*}} to %c2 step
// PLAIN: scf.for %{{.*}} = %{{.*}} to %c3 step
func.func @free(%g: tensor<2x?xf64>) -> tensor<?xf64> {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %n = tensor.dim %g, %c1 : tensor<2x?xf64>
  %m = arith.addi %n, %c2 : index
  %r = lz.accumulate %i < %n, %u < %c2, %s < %c3 into (%m) : tensor<?xf64> {
    %at = arith.addi %i, %s : index
    %gv = lz.get %g[%u, %i] : tensor<2x?xf64>
    lz.yield %at, %gv : index, f64
  }
  return %r : tensor<?xf64>
}

// Unchanged: a read that the variable indexes in another dimension than
// its last (g[i, c]).
// CHECK-LABEL: func.func @strided
// CHECK: %[[N:.*]] = tensor.dim
// CHECK: scf.for
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N]] step
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step
func.func @strided(%k: tensor<2x3xf64>, %g: tensor<?x2xf64>) -> tensor<2x?xf64> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %n = tensor.dim %g, %c0 : tensor<?x2xf64>
  %m = arith.addi %n, %c2 : index
  %r = lz.accumulate %c < %c2, %i < %n, %s < %c3 into (%m) : tensor<2x?xf64> {
    %at = arith.addi %i, %s : index
    %kv = lz.get %k[%c, %s] : tensor<2x3xf64>
    %gv = lz.get %g[%i, %c] : tensor<?x2xf64>
    %v = arith.mulf %kv, %gv : f64
    lz.yield %c, %at, %v : index, index, f64
  }
  return %r : tensor<2x?xf64>
}

// Unchanged: the variable also indexes another dimension of the result.
// CHECK-LABEL: func.func @diagonal
// CHECK: %[[N:.*]] = tensor.dim
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step
func.func @diagonal(%g: tensor<?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %n = tensor.dim %g, %c0 : tensor<?xf64>
  %m = arith.addi %n, %c2 : index
  %r = lz.accumulate %i < %n, %s < %c3 into (%n, %m) : tensor<?x?xf64> {
    %at = arith.addi %i, %s : index
    %gv = lz.get %g[%i] : tensor<?xf64>
    lz.yield %i, %at, %gv : index, index, f64
  }
  return %r : tensor<?x?xf64>
}

// Unchanged: the innermost range is not a short constant (i would
// otherwise run innermost).
// CHECK-LABEL: func.func @long
// CHECK: %[[N:.*]] = tensor.dim
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: scf.for %{{.*}} = %{{.*}} to %c16 step
func.func @long(%g: tensor<16x?xf64>) -> tensor<?xf64> {
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %n = tensor.dim %g, %c1 : tensor<16x?xf64>
  %r = lz.accumulate %i < %n, %s < %c16 into (%n) : tensor<?xf64> {
    %gv = lz.get %g[%s, %i] : tensor<16x?xf64>
    lz.yield %i, %gv : index, f64
  }
  return %r : tensor<?xf64>
}

// The values, and element (0, 2) + 1e16, printed in full.
func.func @main() -> (tensor<2x?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %k = arith.constant dense<[[1.0, 1.0, 1.0], [1.0, 0.0, -1.0]]> : tensor<2x3xf64>
  %g = arith.constant dense<[[1.0, 1.0, -1.0e16], [2.0, 2.0, 2.0]]> : tensor<2x3xf64>
  %gd = tensor.cast %g : tensor<2x3xf64> to tensor<2x?xf64>
  %r = func.call @window(%k, %gd) : (tensor<2x3xf64>, tensor<2x?xf64>) -> tensor<2x?xf64>
  %e = tensor.extract %r[%c0, %c2] : tensor<2x?xf64>
  %big = arith.constant 1.0e16 : f64
  %probe = arith.addf %e, %big : f64
  return %r, %probe : tensor<2x?xf64>, f64
}

// Element 2 of @free + 1e16.
func.func @free_main() -> f64 {
  %c2 = arith.constant 2 : index
  %g = arith.constant dense<[[1.0, 1.0, -1.0e16], [1.0, 1.0, 1.0]]> : tensor<2x3xf64>
  %gd = tensor.cast %g : tensor<2x3xf64> to tensor<2x?xf64>
  %r = func.call @free(%gd) : (tensor<2x?xf64>) -> tensor<?xf64>
  %e = tensor.extract %r[%c2] : tensor<?xf64>
  %big = arith.constant 1.0e16 : f64
  %probe = arith.addf %e, %big : f64
  return %probe : f64
}
