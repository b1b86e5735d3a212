// accumulate-outer-products turns an accumulation of products, summed over
// a variable in neither its target nor its mask, each factor using that
// variable and one of the accumulation's own (besides those they share),
// into a matrix product of two tables that the accumulation then reads,
// behind a run-time check that every dimension of the product has at least
// 8 points (else the accumulation, kept as it was). The packed GMM's
// factor cotangent (@factor): per component, the centered points' outer
// products with their cotangents, under the triangle's mask. The rule
// leaves accumulations whose target uses the summed variable (@target),
// whose mask does (@mask), and whose factor has no variable of its own
// (@vector).
// RUN: leibniz-opt %s --lz-rewrite='normalize(accumulate-outer-products <+ dce)' | FileCheck %s

// CHECK-LABEL: func.func @factor
// CHECK: arith.cmpi sge, %{{.*}}, %c8
// CHECK: arith.cmpi sge, %{{.*}}, %c8
// CHECK: arith.cmpi sge, %{{.*}}, %c8
// CHECK: %[[LARGE:.*]] = arith.andi
// CHECK-NEXT: scf.if %[[LARGE]] -> (tensor<?x?xf64>) {
// CHECK: %[[LEFT:.*]] = lz.for %[[C:.*]] < %{{.*}}, %[[Q:.*]] < %{{.*}}, %[[P:.*]] < %{{.*}} : tensor<?x?x?xf64>
// CHECK: arith.subf
// CHECK: %[[RIGHT:.*]] = lz.for %[[C2:.*]] < %{{.*}}, %[[P2:.*]] < %{{.*}}, %[[R:.*]] < %{{.*}} : tensor<?x?x?xf64>
// CHECK: %[[PRODUCTS:.*]] = lz.for %{{.*}} < %{{.*}} : tensor<?x?x?xf64> {
// CHECK: lz.matmul
// CHECK: lz.accumulate %[[C3:.*]] < %{{.*}}, %[[R3:.*]] < %{{.*}}, %[[Q3:.*]] < %{{.*}} into
// CHECK: lz.get %[[PRODUCTS]][%[[C3]], %[[Q3]], %[[R3]]]
// CHECK: } attributes {masked}
// CHECK: } else {
// CHECK: } attributes {lz.small_product, masked}
func.func @factor(%x: tensor<?x?xf64>, %m: tensor<?x?xf64>, %g: tensor<?x?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %k = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %d = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %dd = arith.muli %d, %d : index
  %t = lz.accumulate %p < %n, %c < %k, %r < %d, %q < %d into (%k, %dd) : tensor<?x?xf64> {
    %gv = lz.get %g[%p, %c, %r] : tensor<?x?x?xf64>
    %below = arith.cmpi ult, %q, %r : index
    %v:4 = scf.if %below -> (i1, index, index, f64) {
      %qd = arith.muli %q, %d : index
      %at = arith.addi %qd, %r : index
      %xv = lz.get %x[%p, %q] : tensor<?x?xf64>
      %mv = lz.get %m[%c, %q] : tensor<?x?xf64>
      %xc = arith.subf %xv, %mv : f64
      %pr = arith.mulf %xc, %gv : f64
      %true = arith.constant true
      scf.yield %true, %c, %at, %pr : i1, index, index, f64
    } else {
      %false = arith.constant false
      %zero = arith.constant 0.000000e+00 : f64
      scf.yield %false, %c0, %c0, %zero : i1, index, index, f64
    }
    lz.yield %v#0, %v#1, %v#2, %v#3 : i1, index, index, f64
  } attributes {masked}
  return %t : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @target
// CHECK-NOT: lz.matmul
// CHECK: return
func.func @target(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> tensor<?x?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %d = tensor.dim %a, %c1 : tensor<?x?xf64>
  %t = lz.accumulate %p < %n, %q < %d, %r < %d into (%n, %d, %d) : tensor<?x?x?xf64> {
    %u = lz.get %a[%p, %q] : tensor<?x?xf64>
    %w = lz.get %b[%p, %r] : tensor<?x?xf64>
    %pr = arith.mulf %u, %w : f64
    lz.yield %p, %q, %r, %pr : index, index, index, f64
  }
  return %t : tensor<?x?x?xf64>
}

// CHECK-LABEL: func.func @mask
// CHECK-NOT: lz.matmul
// CHECK: return
func.func @mask(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %d = tensor.dim %a, %c1 : tensor<?x?xf64>
  %t = lz.accumulate %p < %n, %q < %d, %r < %d into (%d, %d) : tensor<?x?xf64> {
    %u = lz.get %a[%p, %q] : tensor<?x?xf64>
    %w = lz.get %b[%p, %r] : tensor<?x?xf64>
    %pr = arith.mulf %u, %w : f64
    %keep = arith.cmpi ult, %p, %q : index
    lz.yield %keep, %q, %r, %pr : i1, index, index, f64
  } attributes {masked}
  return %t : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @vector
// CHECK-NOT: lz.matmul
// CHECK: return
func.func @vector(%a: tensor<?x?xf64>, %w: tensor<?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %d = tensor.dim %a, %c1 : tensor<?x?xf64>
  %t = lz.accumulate %p < %n, %q < %d, %r < %d into (%d, %d) : tensor<?x?xf64> {
    %u = lz.get %a[%p, %q] : tensor<?x?xf64>
    %v = lz.get %w[%p] : tensor<?xf64>
    %pr = arith.mulf %u, %v : f64
    lz.yield %q, %r, %pr : index, index, f64
  }
  return %t : tensor<?x?xf64>
}
