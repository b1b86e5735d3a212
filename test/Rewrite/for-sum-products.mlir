// for-sum-products turns a traversal of sums of products, each factor
// using the sum's variable and one of the traversal's own (besides the
// variables they share), into a matrix product of two tables, behind a
// run-time check that every dimension of the product has at least 8
// points (else the traversal, kept as it was). The packed GMM's factor
// times every centered point (@triangle): the factor's table is zero past
// the triangle. The rule leaves a sum of something else than a product
// (@sum), a factor with two variables of its own (@two), a factor without
// a variable of its own (@vector), a sum over two ranges (@ranges) and a
// traversal whose body prints (@printed: the print would be lost).
// RUN: leibniz-opt %s --lz-rewrite='normalize(for-sum-products)' | FileCheck %s

// CHECK-LABEL: func.func @triangle
// CHECK: %[[TERMS:.*]] = arith.maxsi
// CHECK: arith.cmpi sge, %[[TERMS]], %c8
// CHECK: %[[LARGE:.*]] = arith.andi
// CHECK-NEXT: scf.if %[[LARGE]] -> (tensor<?x?x?xf64>) {
// CHECK: %[[LEFT:.*]] = lz.for %[[C:.*]] < %{{.*}}, %[[I:.*]] < %{{.*}}, %[[K:.*]] < %[[TERMS]] : tensor<?x?x?xf64>
// CHECK: arith.subf
// CHECK: %[[RIGHT:.*]] = lz.for %[[C2:.*]] < %{{.*}}, %[[K2:.*]] < %[[TERMS]], %[[R:.*]] < %{{.*}} : tensor<?x?x?xf64>
// CHECK: %[[BELOW:.*]] = arith.cmpi ult, %[[K2]], %[[R]] : index
// CHECK: %[[P:.*]] = lz.for %[[B:.*]] < %{{.*}} : tensor<?x?x?xf64> {
// CHECK: lz.matmul
// CHECK: lz.for %[[I3:.*]] < %{{.*}}, %[[C3:.*]] < %{{.*}}, %[[R3:.*]] < %{{.*}} : tensor<?x?x?xf64> {
// CHECK-NEXT: lz.get %[[P]][%[[C3]], %[[I3]], %[[R3]]]
// CHECK: } else {
// CHECK: lz.sum
// CHECK: } attributes {lz.small_product}
func.func @triangle(%l: tensor<?x?x?xf64>, %x: tensor<?x?xf64>, %m: tensor<?x?xf64>) -> tensor<?x?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %d = tensor.dim %x, %c1 : tensor<?x?xf64>
  %k = tensor.dim %l, %c0 : tensor<?x?x?xf64>
  %t = lz.for %i < %n, %c < %k, %r < %d : tensor<?x?x?xf64> {
    %s = lz.sum %q < %r : f64 {
      %lv = lz.get %l[%c, %q, %r] : tensor<?x?x?xf64>
      %xv = lz.get %x[%i, %q] : tensor<?x?xf64>
      %mv = lz.get %m[%c, %q] : tensor<?x?xf64>
      %xc = arith.subf %xv, %mv : f64
      %pr = arith.mulf %lv, %xc : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  return %t : tensor<?x?x?xf64>
}

// CHECK-LABEL: func.func @sum
// CHECK-NOT: lz.matmul
// CHECK: return
func.func @sum(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %d = tensor.dim %a, %c1 : tensor<?x?xf64>
  %o = tensor.dim %b, %c1 : tensor<?x?xf64>
  %t = lz.for %i < %n, %j < %o : tensor<?x?xf64> {
    %s = lz.sum %q < %d : f64 {
      %av = lz.get %a[%i, %q] : tensor<?x?xf64>
      %bv = lz.get %b[%q, %j] : tensor<?x?xf64>
      %pr = arith.addf %av, %bv : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  return %t : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @two
// CHECK-NOT: lz.matmul
// CHECK: return
func.func @two(%a: tensor<?x?x?xf64>, %b: tensor<?x?xf64>) -> tensor<?x?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %a, %c0 : tensor<?x?x?xf64>
  %d = tensor.dim %b, %c0 : tensor<?x?xf64>
  %o = tensor.dim %b, %c1 : tensor<?x?xf64>
  %t = lz.for %i < %n, %h < %n, %j < %o : tensor<?x?x?xf64> {
    %s = lz.sum %q < %d : f64 {
      %av = lz.get %a[%i, %h, %q] : tensor<?x?x?xf64>
      %bv = lz.get %b[%q, %j] : tensor<?x?xf64>
      %pr = arith.mulf %av, %bv : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  return %t : tensor<?x?x?xf64>
}

// CHECK-LABEL: func.func @vector
// CHECK-NOT: lz.matmul
// CHECK: return
func.func @vector(%a: tensor<?x?xf64>, %w: tensor<?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %d = tensor.dim %a, %c1 : tensor<?x?xf64>
  %t = lz.for %i < %n, %j < %n : tensor<?x?xf64> {
    %s = lz.sum %q < %d : f64 {
      %av = lz.get %a[%i, %q] : tensor<?x?xf64>
      %wv = lz.get %w[%q] : tensor<?xf64>
      %pr = arith.mulf %av, %wv : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  return %t : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @ranges
// CHECK-NOT: lz.matmul
// CHECK: return
func.func @ranges(%a: tensor<?x?x?xf64>, %b: tensor<?x?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %a, %c0 : tensor<?x?x?xf64>
  %d = tensor.dim %a, %c1 : tensor<?x?x?xf64>
  %e = tensor.dim %a, %c2 : tensor<?x?x?xf64>
  %o = tensor.dim %b, %c2 : tensor<?x?x?xf64>
  %t = lz.for %i < %n, %j < %o : tensor<?x?xf64> {
    %s = lz.sum %q < %d, %p < %e : f64 {
      %av = lz.get %a[%i, %q, %p] : tensor<?x?x?xf64>
      %bv = lz.get %b[%q, %p, %j] : tensor<?x?x?xf64>
      %pr = arith.mulf %av, %bv : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  return %t : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @printed
// CHECK-NOT: lz.matmul
// CHECK: lz.print
// CHECK: return
func.func @printed(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %a, %c0 : tensor<?x?xf64>
  %d = tensor.dim %a, %c1 : tensor<?x?xf64>
  %o = tensor.dim %b, %c1 : tensor<?x?xf64>
  %t = lz.for %i < %n, %j < %o : tensor<?x?xf64> {
    %p = lz.print %i : index
    %s = lz.sum %q < %d : f64 {
      %av = lz.get %a[%i, %q] : tensor<?x?xf64>
      %bv = lz.get %b[%q, %j] : tensor<?x?xf64>
      %pr = arith.mulf %av, %bv : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  return %t : tensor<?x?xf64>
}
