// On the CPU, a stencil's scatter-add whose value is a sum (a
// convolution's gradient with respect to its input, after
// accumulate-inner-sum) runs its contiguous variable `x` innermost and
// computes the sums of its points as a row first, in strips in vector
// registers (as lower-lz-row-sums.mlir describes), which the innermost
// loop then adds into the result. The rows share one buffer, allocated
// before the nest. The sums read a copy of the values'
// cotangent with the summed channel moved next to `x`, so that a row's
// terms read one block of consecutive addresses (rows an image apart may
// map onto the same sets of the cache). Each element adds the same sums
// in the same order as the scope (the loop over `s` runs backwards), and
// each sum adds its terms in order: the interpreter gives the same values
// before and after, bit for bit.

// RUN: leibniz-opt %s --lower-lz | FileCheck %s
// RUN: leibniz-opt %s --lower-lz=reassociate=true | FileCheck %s
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after

// CHECK-LABEL: func.func @conv_input
// CHECK-SAME: (%[[K:.*]]: tensor<?x?x3x3xf64>, %[[G:.*]]: tensor<?x?x?xf64>)
// The copy of the cotangent, channels second.
// CHECK: tensor.generate
// CHECK:   tensor.extract %[[G]][%[[GO:.*]], %[[GY:.*]], %[[GX:.*]]]
// CHECK: %[[GT:.*]] = bufferization.alloc_tensor() copy
// One buffer for the rows, which the loops over y, r, s and c carry; in
// the loop over c, the row over x filled in strips of 32.
// CHECK: %[[BUF:.*]] = bufferization.alloc_tensor(%{{.*}}) : tensor<?xf64>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %[[BUF]])
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %[[CARRIED:.*]] = %{{.*}})
// CHECK-NEXT: linalg.fill ins(%{{.*}} : f64) outs(%[[CARRIED]] : tensor<?xf64>)
// CHECK: :32 = scf.for
// CHECK: tensor.extract %[[GT]]
// The row added into the result.
// CHECK: %[[ROW:.*]] = scf.if
// CHECK: scf.for
// CHECK: tensor.extract %[[ROW]][%{{.*}}] : tensor<?xf64>
// CHECK: arith.addf
// CHECK: tensor.insert
func.func @conv_input(%k: tensor<?x?x3x3xf64>, %g: tensor<?x?x?xf64>) -> tensor<?x?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %f = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %h = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %w = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %c = tensor.dim %k, %c1 : tensor<?x?x3x3xf64>
  %h2 = arith.addi %h, %c2 : index
  %w2 = arith.addi %w, %c2 : index
  %a = lz.accumulate %y < %h, %x < %w, %ci < %c, %r < %c3, %s < %c3 into (%c, %h2, %w2) : tensor<?x?x?xf64> {
    %yr = arith.addi %y, %r : index
    %xs = arith.addi %x, %s : index
    %t = lz.sum %o < %f : f64 {
      %kv = lz.get %k[%o, %ci, %r, %s] : tensor<?x?x3x3xf64>
      %gv = lz.get %g[%o, %y, %x] : tensor<?x?x?xf64>
      %p = arith.mulf %kv, %gv : f64
      lz.yield %p : f64
    }
    lz.yield %ci, %yr, %xs, %t : index, index, index, f64
  }
  return %a : tensor<?x?x?xf64>
}

// Three output channels, two input channels, rows of 37 (strips of 32
// and 8, the last computing element 36 again); every fifth value of the
// cotangent 1e16 times larger, so that the results depend on the order
// of the additions.
func.func @main() -> (tensor<?x?x?xf64>, tensor<?x?x?xf64>) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c37 = arith.constant 37 : index
  %k = lz.for %o < %c3, %ci < %c2, %r < %c3, %s < %c3 : tensor<?x?x3x3xf64> {
    %a = arith.muli %o, %c37 : index
    %b = arith.addi %a, %ci : index
    %d = arith.muli %r, %c4 : index
    %e = arith.addi %b, %d : index
    %l = arith.addi %e, %s : index
    %li = arith.index_cast %l : index to i64
    %lf = arith.sitofp %li : i64 to f64
    %sc = arith.constant 0.71 : f64
    %v = arith.mulf %lf, %sc : f64
    %x = math.sin %v : f64
    lz.yield %x : f64
  }
  %g = lz.for %o < %c3, %y < %c4, %x < %c37 : tensor<?x?x?xf64> {
    %a = arith.muli %o, %c4 : index
    %b = arith.addi %a, %y : index
    %d = arith.muli %b, %c37 : index
    %l = arith.addi %d, %x : index
    %li = arith.index_cast %l : index to i64
    %lf = arith.sitofp %li : i64 to f64
    %sc = arith.constant 0.37 : f64
    %v = arith.mulf %lf, %sc : f64
    %z = math.cos %v : f64
    %c5 = arith.constant 5 : index
    %m = arith.remui %l, %c5 : index
    %c0 = arith.constant 0 : index
    %big = arith.cmpi eq, %m, %c0 : index
    %e16 = arith.constant 1.0e16 : f64
    %one = arith.constant 1.0 : f64
    %scale = arith.select %big, %e16, %one : f64
    %zs = arith.mulf %z, %scale : f64
    lz.yield %zs : f64
  }
  %r = func.call @conv_input(%k, %g) : (tensor<?x?x3x3xf64>, tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
  // One channel, one row of 37: the values 1, 1e16, -1e16 in turn, so that
  // an element adds 1 + 1e16 - 1e16 = 0 in the scope's order and 1 in the
  // other (with `s` run forwards).
  %c1 = arith.constant 1 : index
  %k1 = lz.for %o < %c1, %ci < %c1, %i < %c3, %j < %c3 : tensor<?x?x3x3xf64> {
    %one = arith.constant 1.0 : f64
    lz.yield %one : f64
  }
  %g1 = lz.for %o < %c1, %y < %c1, %x < %c37 : tensor<?x?x?xf64> {
    %m = arith.remui %x, %c3 : index
    %c0 = arith.constant 0 : index
    %first = arith.cmpi eq, %m, %c0 : index
    %second = arith.cmpi eq, %m, %c1 : index
    %one = arith.constant 1.0 : f64
    %e16 = arith.constant 1.0e16 : f64
    %m16 = arith.constant -1.0e16 : f64
    %b = arith.select %second, %e16, %m16 : f64
    %v = arith.select %first, %one, %b : f64
    lz.yield %v : f64
  }
  %r1 = func.call @conv_input(%k1, %g1) : (tensor<?x?x3x3xf64>, tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
  return %r, %r1 : tensor<?x?x?xf64>, tensor<?x?x?xf64>
}
