// On the CPU, a traversal `for i, x. sum k. e` whose reads index its last
// variable in their last dimension only is computed row by row: for each
// `i`, a row filled with the sum's identity. Where a term is cheap (at most
// 32 operations), strips of 32 elements (f64), then of 16, then of 8,
// whose sums the sum's loops carry (each element's term in turn, which
// LLVM keeps in vector registers), then one strip of 8 over the rest, its
// lanes past the row's end computing the last element again (`minsi`);
// otherwise strips of 256 elements, in each the sum's loops and,
// innermost, the strip's elements, each adding its term to the row. The
// elements are independent and read at consecutive addresses, so LLVM
// vectorizes them without reassociating anything: every element adds the
// same terms in the same order from -0.0, and an empty sum is +0.0, as the
// sum's own lowering gives.

// RUN: leibniz-opt %s --lower-lz | FileCheck %s
// RUN: leibniz-opt %s --lower-lz=gpu=true | FileCheck %s --check-prefix=GPU
// RUN: leibniz-opt %s --lower-lz=reassociate=true | FileCheck %s --check-prefix=REASSOCIATED
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
// CHECK: %[[R32:.*]] = arith.remsi %{{.*}}, %c32
// CHECK: %[[END32:.*]] = arith.subi %[[N]], %[[R32]]
// CHECK: %[[WIDE:.*]] = scf.for %[[S32:.*]] = %{{.*}} to %[[END32]] step %c32 iter_args(%[[A32:.*]] = %[[INIT]])
// CHECK:   %[[X0:.*]] = arith.addi %[[S32]], %c0
// CHECK:   %[[SUMS:.*]]:32 = scf.for %{{.*}} = %{{.*}} to %[[C3]] step %{{.*}} iter_args(%[[L0:[^ ]*]] = %[[ID]], %{{[^ ]*}} = %[[ID]], {{.*}}) -> (f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64) {
// CHECK:     arith.index_cast %[[X0]] : index to i64
// CHECK:     arith.mulf
// CHECK:     %[[T0:.*]] = arith.mulf
// CHECK:     arith.addf %[[L0]], %[[T0]] : f64
// CHECK:   tensor.insert %[[SUMS]]#0 into %[[A32]][%[[X0]]]
// CHECK:   tensor.insert %[[SUMS]]#31 into
// CHECK: %[[LEFT16:.*]] = arith.subi %[[N]], %[[END32]]
// CHECK: %[[R16:.*]] = arith.remsi %[[LEFT16]], %c16
// CHECK: %[[END16:.*]] = arith.subi %[[N]], %[[R16]]
// CHECK: %[[MIDDLE:.*]] = scf.for %{{.*}} = %[[END32]] to %[[END16]] step %c16 iter_args(%{{.*}} = %[[WIDE]])
// CHECK:   scf.for %{{.*}} -> (f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64) {
// CHECK: %[[LEFT8:.*]] = arith.subi %[[N]], %[[END16]]
// CHECK: %[[R8:.*]] = arith.remsi %[[LEFT8]], %c8
// CHECK: %[[END8:.*]] = arith.subi %[[N]], %[[R8]]
// CHECK: %[[NARROW:.*]] = scf.for %{{.*}} = %[[END16]] to %[[END8]] step %c8 iter_args(%{{.*}} = %[[MIDDLE]])
// CHECK:   scf.for %{{.*}} -> (f64, f64, f64, f64, f64, f64, f64, f64) {
// CHECK: %[[PARTIAL:.*]] = arith.cmpi slt, %[[END8]], %[[N]]
// CHECK: scf.if %[[PARTIAL]] -> (tensor<?xf64>) {
// CHECK:   %[[LAST:.*]] = arith.subi %[[N]], %c1
// CHECK:   %[[X7:.*]] = arith.addi %[[END8]], %c7
// CHECK:   %[[C7:.*]] = arith.minsi %[[X7]], %[[LAST]]
// CHECK:   %[[PSUMS:.*]]:8 = scf.for
// CHECK:   tensor.insert %[[PSUMS]]#7 into %{{.*}}[%[[C7]]]
// CHECK: } else {
// CHECK:   scf.yield %[[NARROW]]
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

// A costly term (a nested sum counts 16 times its body) runs in strips of
// 256 elements in memory.
// CHECK-LABEL: func.func @costly
// CHECK-SAME: (%{{.*}}: tensor<?x?xf64>, %[[CG:.*]]: tensor<?x?xf64>)
// CHECK: %[[CINIT:.*]] = linalg.fill
// CHECK-NOT: scf.if
// CHECK: scf.for %[[START:.*]] = %{{.*}} to %[[CN:.*]] step %c256 iter_args(%{{.*}} = %[[CINIT]])
// CHECK:   %[[LEFT:.*]] = arith.subi %[[CN]], %[[START]]
// CHECK:   %[[COUNT:.*]] = arith.minsi %c256{{.*}}, %[[LEFT]]
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK:     scf.for %[[XI:.*]] = %{{.*}} to %[[COUNT]] step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK:       %[[X:.*]] = arith.addi %[[START]], %[[XI]]
// CHECK:       tensor.extract %[[CG]][%{{.*}}, %[[X]]]
// CHECK:       %[[OLD:.*]] = tensor.extract %[[ACC]][%[[X]]]
// CHECK-NEXT:  %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}}
// CHECK-NEXT:  tensor.insert %[[NEW]] into %[[ACC]][%[[X]]]
// CHECK: scf.forall
// CHECK: return
func.func @costly(%k: tensor<?x?xf64>, %g: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = tensor.dim %k, %c0 : tensor<?x?xf64>
  %m = tensor.dim %k, %c1 : tensor<?x?xf64>
  %n = tensor.dim %g, %c1 : tensor<?x?xf64>
  %r = lz.for %c < %rows, %x < %n : tensor<?x?xf64> {
    %s = lz.sum %t < %m : f64 {
      %gv = lz.get %g[%c, %x] : tensor<?x?xf64>
      %c3 = arith.constant 3 : index
      %inner = lz.sum %u < %c3 : f64 {
        %uv = lz.get %k[%c, %t] : tensor<?x?xf64>
        %ui = arith.index_cast %u : index to i64
        %uf = arith.sitofp %ui : i64 to f64
        %uw = arith.mulf %uv, %uf : f64
        lz.yield %uw : f64
      }
      %v = arith.mulf %inner, %gv : f64
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

// A traversal whose sums read its variable in another dimension than the
// last (a product by a transposed matrix, a convolution's kernel gradient)
// is computed row by row after a copy of the tensor with that dimension
// last (kept apart by a copy from canonicalization, which would fold its
// reads back), with the variable moved last among the traversal's (here
// `j` of `i, j, c`), and a traversal back into its order; at -O3 too,
// where LLVM could vectorize the reassociated sums instead (slower on a
// convolution's kernel gradient).
// CHECK-LABEL: func.func @transposed
// CHECK-SAME: (%[[TA:.*]]: tensor<?x?xf64>, %[[TB:.*]]: tensor<?x?xf64>)
// CHECK: %[[TC:.*]] = tensor.generate
// CHECK:   tensor.extract %[[TB]]
// CHECK: %[[TBT:.*]] = bufferization.alloc_tensor() copy(%[[TC]])
// CHECK: linalg.fill
// CHECK: :32 = scf.for
// CHECK: tensor.extract %[[TBT]]
// CHECK: scf.forall
// CHECK: tensor.generate
// CHECK-NEXT: ^bb0(%[[TI:.*]]: index, %[[TJ:.*]]: index, %[[TK:.*]]: index):
// CHECK-NEXT:   tensor.extract %{{.*}}[%[[TI]], %[[TK]], %[[TJ]]] : tensor<?x2x?xf64>
// CHECK: return
// REASSOCIATED-LABEL: func.func @transposed
// REASSOCIATED: bufferization.alloc_tensor() copy
// REASSOCIATED: linalg.fill
// REASSOCIATED: :32 = scf.for
// REASSOCIATED: return
func.func @transposed(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> tensor<?x?x2xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %k = tensor.dim %a, %c1 : tensor<?x?xf64>
  %m = tensor.dim %b, %c0 : tensor<?x?xf64>
  %r = lz.for %i < %n, %j < %m, %c < %c2 : tensor<?x?x2xf64> {
    %s = lz.sum %p < %k : f64 {
      %av = lz.get %a[%i, %p] : tensor<?x?xf64>
      %bv = lz.get %b[%j, %p] : tensor<?x?xf64>
      %prod = arith.mulf %av, %bv : f64
      %ci = arith.index_cast %c : index to i64
      %cf = arith.sitofp %ci : i64 to f64
      %v = arith.mulf %prod, %cf : f64
      lz.yield %v : f64
    }
    lz.yield %s : f64
  }
  return %r : tensor<?x?x2xf64>
}

// A reduction of functions of such sums (a convolution's loss) is a loop
// nest over the rows carrying the reduction, whose body computes a row of
// the sums as above, then folds each element's function in order: the same
// values in the same order, bit for bit.
// CHECK-LABEL: func.func @loss
// CHECK-SAME: (%{{.*}}: tensor<?x3xf64>, %{{.*}}: tensor<?x?xf64>, %[[LW:.*]]: tensor<?xf64>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[LACC:.*]] = %{{.*}}) -> (f64)
// CHECK:   linalg.fill
// CHECK:   %{{.*}}:32 = scf.for
// CHECK:   %{{.*}}:16 = scf.for
// CHECK:   %{{.*}}:8 = scf.for
// CHECK:   %[[LROW:.*]] = scf.if
// CHECK:   scf.for %[[LX:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[LA:.*]] = %[[LACC]]) -> (f64)
// CHECK:     %[[LS:.*]] = tensor.extract %[[LROW]][%[[LX]]]
// CHECK:     %[[LT:.*]] = math.tanh %[[LS]]
// CHECK:     %[[LWX:.*]] = tensor.extract %[[LW]][%[[LX]]]
// CHECK:     %[[LV:.*]] = arith.mulf %[[LT]], %[[LWX]]
// CHECK:     arith.addf %[[LA]], %[[LV]] : f64
// CHECK: return
func.func @loss(%k: tensor<?x3xf64>, %g: tensor<?x?xf64>, %w: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %rows = tensor.dim %k, %c0 : tensor<?x3xf64>
  %m = tensor.dim %g, %c1 : tensor<?x?xf64>
  %n = arith.subi %m, %c2 : index
  %r = lz.sum %c < %rows, %x < %n : f64 {
    %c3 = arith.constant 3 : index
    %s = lz.sum %t < %c3 : f64 {
      %a = arith.addi %x, %t : index
      %kv = lz.get %k[%c, %t] : tensor<?x3xf64>
      %gv = lz.get %g[%c, %a] : tensor<?x?xf64>
      %p = arith.mulf %kv, %gv : f64
      lz.yield %p : f64
    }
    %th = math.tanh %s : f64
    %wv = lz.get %w[%x] : tensor<?xf64>
    %v = arith.mulf %th, %wv : f64
    lz.yield %v : f64
  }
  return %r : f64
}

// Not row by row: a second scope after the sum, a short last range.
// CHECK-LABEL: func.func @loss_scope
// CHECK-NOT: linalg.fill
// CHECK-LABEL: func.func @loss_short
// CHECK-NOT: linalg.fill
func.func @loss_scope(%g: tensor<?x?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = tensor.dim %g, %c0 : tensor<?x?xf64>
  %n = tensor.dim %g, %c1 : tensor<?x?xf64>
  %r = lz.sum %c < %rows, %x < %n : f64 {
    %s = lz.sum %t < %rows : f64 {
      %gv = lz.get %g[%t, %x] : tensor<?x?xf64>
      lz.yield %gv : f64
    }
    %u = lz.sum %t < %rows : f64 {
      %gv = lz.get %g[%c, %t] : tensor<?x?xf64>
      lz.yield %gv : f64
    }
    %v = arith.mulf %s, %u : f64
    lz.yield %v : f64
  }
  return %r : f64
}
func.func @loss_short(%g: tensor<?x3xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %rows = tensor.dim %g, %c0 : tensor<?x3xf64>
  %r = lz.sum %c < %rows, %x < %c3 : f64 {
    %s = lz.sum %t < %rows : f64 {
      %gv = lz.get %g[%c, %x] : tensor<?x3xf64>
      lz.yield %gv : f64
    }
    %v = math.tanh %s : f64
    lz.yield %v : f64
  }
  return %r : f64
}

// A reduction of functions of a reduction of functions of such sums: the
// inner one row by row, the outer one then not (the inner sum would stay in
// its copies).
// CHECK-LABEL: func.func @loss_nested
// CHECK-NOT: lz.sum
// CHECK: linalg.fill
// CHECK-NOT: linalg.fill
// CHECK-NOT: lz.sum
// CHECK-LABEL: func.func @main
func.func @loss_nested(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %b, %c0 : tensor<?x?xf64>
  %m = tensor.dim %b, %c1 : tensor<?x?xf64>
  %r = lz.sum %i < %n, %j < %m : f64 {
    %s = lz.sum %c < %n, %x < %m : f64 {
      %c3 = arith.constant 3 : index
      %t = lz.sum %k < %c3 : f64 {
        %xk = arith.addi %x, %k : index
        %av = lz.get %a[%c, %xk] : tensor<?x?xf64>
        lz.yield %av : f64
      }
      %th = math.tanh %t : f64
      %bv = lz.get %b[%i, %j] : tensor<?x?xf64>
      %p = arith.mulf %th, %bv : f64
      lz.yield %p : f64
    }
    %u = math.tanh %s : f64
    lz.yield %u : f64
  }
  return %r : f64
}

func.func @main() -> (tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, f64, f64, f64, f64, f64) {
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
  // The loss over rows of 3 sums, and of 43 (strips of 32, 8 and 3).
  %w3 = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf64>
  %w3d = tensor.cast %w3 : tensor<3xf64> to tensor<?xf64>
  %l3 = func.call @loss(%kd, %gd, %w3d) : (tensor<?x3xf64>, tensor<?x?xf64>, tensor<?xf64>) -> f64
  %c2 = arith.constant 2 : index
  %c43 = arith.constant 43 : index
  %c45 = arith.constant 45 : index
  %gw = lz.for %i < %c2, %j < %c45 : tensor<?x?xf64> {
    %ij = arith.muli %i, %c45 : index
    %l = arith.addi %ij, %j : index
    %li = arith.index_cast %l : index to i64
    %lf = arith.sitofp %li : i64 to f64
    %sc = arith.constant 0.37 : f64
    %a = arith.mulf %lf, %sc : f64
    %v = math.sin %a : f64
    lz.yield %v : f64
  }
  %ww = lz.for %j < %c43 : tensor<?xf64> {
    %ji = arith.index_cast %j : index to i64
    %jf = arith.sitofp %ji : i64 to f64
    %sc = arith.constant 0.11 : f64
    %a = arith.mulf %jf, %sc : f64
    %v = math.cos %a : f64
    lz.yield %v : f64
  }
  %l43 = func.call @loss(%kd, %gw, %ww) : (tensor<?x3xf64>, tensor<?x?xf64>, tensor<?xf64>) -> f64
  %bw = lz.for %i < %c2, %j < %c43 : tensor<?x?xf64> {
    %ij = arith.addi %i, %j : index
    %li = arith.index_cast %ij : index to i64
    %lf = arith.sitofp %li : i64 to f64
    %sc = arith.constant 0.05 : f64
    %v = arith.mulf %lf, %sc : f64
    lz.yield %v : f64
  }
  %ln = func.call @loss_nested(%gw, %bw) : (tensor<?x?xf64>, tensor<?x?xf64>) -> f64
  %co = func.call @costly(%hd, %bw) : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %lc = lz.sum %i < %c2, %j < %c43 : f64 {
    %x = lz.get %co[%i, %j] : tensor<?x?xf64>
    %ij = arith.muli %i, %c43 : index
    %l = arith.addi %ij, %j : index
    %li = arith.index_cast %l : index to i64
    %lf = arith.sitofp %li : i64 to f64
    %v = arith.mulf %x, %lf : f64
    lz.yield %v : f64
  }
  // The product of 5 x 20 by 43 x 20 transposed (rows of 43 sums of 20).
  %c5 = arith.constant 5 : index
  %c20 = arith.constant 20 : index
  %ta = lz.for %i < %c5, %p < %c20 : tensor<?x?xf64> {
    %ip = arith.muli %i, %c20 : index
    %l = arith.addi %ip, %p : index
    %li = arith.index_cast %l : index to i64
    %lf = arith.sitofp %li : i64 to f64
    %sc = arith.constant 0.21 : f64
    %a = arith.mulf %lf, %sc : f64
    %v = math.sin %a : f64
    lz.yield %v : f64
  }
  %tb = lz.for %j < %c43, %p < %c20 : tensor<?x?xf64> {
    %jp = arith.muli %j, %c20 : index
    %l = arith.addi %jp, %p : index
    %li = arith.index_cast %l : index to i64
    %lf = arith.sitofp %li : i64 to f64
    %sc = arith.constant 0.13 : f64
    %a = arith.mulf %lf, %sc : f64
    %v = math.cos %a : f64
    lz.yield %v : f64
  }
  %tr = func.call @transposed(%ta, %tb) : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?x2xf64>
  %lt = lz.sum %i < %c5, %j < %c43 : f64 {
    %one = arith.constant 1 : index
    %x = lz.get %tr[%i, %j, %one] : tensor<?x?x2xf64>
    %ij = arith.muli %i, %c43 : index
    %l = arith.addi %ij, %j : index
    %li = arith.index_cast %l : index to i64
    %lf = arith.sitofp %li : i64 to f64
    %v = arith.mulf %x, %lf : f64
    lz.yield %v : f64
  }
  return %r, %e, %z, %l3, %l43, %ln, %lt, %lc : tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, f64, f64, f64, f64, f64
}
