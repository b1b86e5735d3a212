// accumulate-matmul-rows sums the rows of a product that an accumulation
// reads only to add them up, through the rows of the product's left
// operand: per component, a sum over the points of each column of the
// left operand, then a vector times the right operand. The dense GMM's
// means' cotangent (@means) no longer multiplies all points by the
// factor. The rule leaves accumulations whose product is read elsewhere
// too (@shared), that read the row variable twice (@twice), that sum the
// columns instead (@columns), and whose value is not linear in the read
// (@square).
// RUN: leibniz-opt %s --lz-rewrite='normalize(accumulate-matmul-rows <+ dce)' | FileCheck %s

// CHECK-LABEL: func.func @means
// CHECK-NOT: lz.matmul
// CHECK: %[[ROWS:.*]] = lz.for %[[C:.*]] < %[[K:.*]] : tensor<?x?xf64> {
// CHECK: %[[COUNT:.*]] = arith.minsi %[[N:.*]], %{{.*}} : index
// CHECK: %[[SUMS:.*]] = lz.for %[[M:.*]] < %{{.*}} : tensor<?xf64> {
// CHECK-NEXT: %[[S:.*]] = lz.sum %[[L:.*]] < %[[COUNT]] : f64 {
// CHECK-NEXT: lz.get %{{.*}}[%[[L]], %[[M]]]
// CHECK: %[[ROW:.*]] = lz.for %[[J:.*]] < %{{.*}} : tensor<?xf64> {
// CHECK-NEXT: lz.sum %[[M2:.*]] < %{{.*}} : f64 {
// CHECK-NEXT: %[[A:.*]] = lz.get %[[SUMS]][%[[M2]]]
// CHECK-NEXT: %[[B:.*]] = lz.get %{{.*}}[%[[M2]], %[[J]]]
// CHECK-NEXT: arith.mulf %[[A]], %[[B]] : f64
// CHECK: lz.yield %[[ROW]] : tensor<?xf64>
// CHECK: lz.accumulate %[[C2:.*]] < %[[K]], %[[J2:.*]] < %{{.*}} into
// CHECK-NEXT: %[[E:.*]] = lz.get %[[ROWS]][%[[C2]], %[[J2]]]
// CHECK-NEXT: arith.negf %[[E]] : f64
// CHECK-NOT: lz.matmul
// CHECK: return
func.func @means(%g: tensor<?x?x?xf64>, %q: tensor<?x?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %k = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %n = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %d = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %t = lz.for %c < %k : tensor<?x?x?xf64> {
    %gc = lz.get %g[%c] : tensor<?x?x?xf64>
    %qc = lz.get %q[%c] : tensor<?x?x?xf64>
    %qt = lz.for %i < %d, %j < %d : tensor<?x?xf64> {
      %e = lz.get %qc[%j, %i] : tensor<?x?xf64>
      lz.yield %e : f64
    }
    %p = lz.matmul %gc, %qt : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
    lz.yield %p : tensor<?x?xf64>
  }
  %means = lz.accumulate %c < %k, %l < %n, %j < %d into (%k, %d) : tensor<?x?xf64> {
    %e = lz.get %t[%c, %l, %j] : tensor<?x?x?xf64>
    %v = arith.negf %e : f64
    lz.yield %c, %j, %v : index, index, f64
  }
  return %means : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @shared
// CHECK: lz.matmul
// CHECK: lz.accumulate %{{.*}} < %{{.*}}, %{{.*}} < %{{.*}} into
// CHECK: return
func.func @shared(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> (tensor<?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x?xf64>
  %o = tensor.dim %b, %c1 : tensor<?x?xf64>
  %ab = lz.matmul %a, %b : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  %s = lz.accumulate %l < %m, %j < %o into (%o) : tensor<?xf64> {
    %e = lz.get %ab[%l, %j] : tensor<?x?xf64>
    lz.yield %j, %e : index, f64
  }
  return %s, %ab : tensor<?xf64>, tensor<?x?xf64>
}

// CHECK-LABEL: func.func @twice
// CHECK: lz.matmul
// CHECK: lz.accumulate %{{.*}} < %{{.*}}, %{{.*}} < %{{.*}} into
// CHECK: return
func.func @twice(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>, %w: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x?xf64>
  %o = tensor.dim %b, %c1 : tensor<?x?xf64>
  %ab = lz.matmul %a, %b : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  %s = lz.accumulate %l < %m, %j < %o into (%o) : tensor<?xf64> {
    %e = lz.get %ab[%l, %j] : tensor<?x?xf64>
    %f = lz.get %w[%l] : tensor<?xf64>
    %v = arith.mulf %e, %f : f64
    lz.yield %j, %v : index, f64
  }
  return %s : tensor<?xf64>
}

// CHECK-LABEL: func.func @columns
// CHECK: lz.matmul
// CHECK: lz.accumulate %{{.*}} < %{{.*}}, %{{.*}} < %{{.*}} into
// CHECK: return
func.func @columns(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x?xf64>
  %o = tensor.dim %b, %c1 : tensor<?x?xf64>
  %ab = lz.matmul %a, %b : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  %s = lz.accumulate %i < %m, %l < %o into (%m) : tensor<?xf64> {
    %e = lz.get %ab[%i, %l] : tensor<?x?xf64>
    lz.yield %i, %e : index, f64
  }
  return %s : tensor<?xf64>
}

// CHECK-LABEL: func.func @square
// CHECK: lz.matmul
// CHECK: lz.accumulate %{{.*}} < %{{.*}}, %{{.*}} < %{{.*}} into
// CHECK: return
func.func @square(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x?xf64>
  %o = tensor.dim %b, %c1 : tensor<?x?xf64>
  %ab = lz.matmul %a, %b : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  %s = lz.accumulate %l < %m, %j < %o into (%o) : tensor<?xf64> {
    %e = lz.get %ab[%l, %j] : tensor<?x?xf64>
    %v = arith.mulf %e, %e : f64
    lz.yield %j, %v : index, f64
  }
  return %s : tensor<?xf64>
}
