// accumulate-sum-read sums a read over a variable that only it uses, once
// for all the points of the variables that it does not use, where the
// accumulated value is linear in it. The GMM's means' cotangent (@means)
// becomes a sum over the points per component and row, then an
// accumulation over the triangle. The rule leaves accumulations whose
// target depends on the variable (@target), whose value uses the read
// twice (@square) or adds to it (@affine), whose conditional yields
// something else than zero without it (@other), and those whose read
// uses every other variable (@all: nothing to save).
// RUN: leibniz-opt %s --lz-rewrite='normalize(accumulate-sum-read)' | FileCheck %s

// CHECK-LABEL: func.func @means
// CHECK: %[[SUMS:.*]] = lz.for %[[C:.*]] < %[[K:.*]], %[[R:.*]] < %[[D:.*]] : tensor<?x?xf64> {
// CHECK-NEXT: %[[S:.*]] = lz.sum %[[P:.*]] < %[[N:.*]] : f64 {
// CHECK-NEXT: %[[E:.*]] = lz.get %{{.*}}[%[[P]], %[[C]], %[[R]]]
// CHECK-NEXT: lz.yield %[[E]] : f64
// CHECK: lz.yield %[[S]] : f64
// CHECK: lz.accumulate %[[C2:.*]] < %[[K]], %[[R2:.*]] < %[[D]], %[[Q2:.*]] < %[[D]] into
// CHECK-NEXT: %[[T:.*]] = lz.get %[[SUMS]][%[[C2]], %[[R2]]]
// CHECK: arith.mulf %{{.*}}, %[[T]] : f64
// CHECK: } attributes {masked}
func.func @means(%g: tensor<?x?x?xf64>, %l: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %k = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %d = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %a = lz.accumulate %p < %n, %c < %k, %r < %d, %q < %d into (%k, %d) : tensor<?x?xf64> {
    %e = lz.get %g[%p, %c, %r] : tensor<?x?x?xf64>
    %below = arith.cmpi ult, %q, %r : index
    %v:4 = scf.if %below -> (i1, index, index, f64) {
      %f = lz.get %l[%c, %q] : tensor<?x?xf64>
      %m = arith.mulf %f, %e : f64
      %neg = arith.negf %m : f64
      %true = arith.constant true
      scf.yield %true, %c, %q, %neg : i1, index, index, f64
    } else {
      %false = arith.constant false
      %zero = arith.constant 0.000000e+00 : f64
      scf.yield %false, %c0, %c0, %zero : i1, index, index, f64
    }
    lz.yield %v#0, %v#1, %v#2, %v#3 : i1, index, index, f64
  } attributes {masked}
  return %a : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @target
// CHECK-NOT: lz.sum
// CHECK: return
func.func @target(%g: tensor<?x?xf64>, %l: tensor<?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %g, %c0 : tensor<?x?xf64>
  %d = tensor.dim %g, %c1 : tensor<?x?xf64>
  %a = lz.accumulate %p < %n, %j < %d into (%n, %d) : tensor<?x?xf64> {
    %e = lz.get %g[%p, %c0] : tensor<?x?xf64>
    %f = lz.get %l[%j] : tensor<?xf64>
    %m = arith.mulf %f, %e : f64
    lz.yield %p, %j, %m : index, index, f64
  }
  return %a : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @square
// CHECK-NOT: lz.sum
// CHECK: return
func.func @square(%g: tensor<?x?xf64>, %l: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %g, %c0 : tensor<?x?xf64>
  %d = tensor.dim %g, %c1 : tensor<?x?xf64>
  %a = lz.accumulate %p < %n, %j < %d into (%d) : tensor<?xf64> {
    %e = lz.get %g[%p, %c0] : tensor<?x?xf64>
    %m = arith.mulf %e, %e : f64
    lz.yield %j, %m : index, f64
  }
  return %a : tensor<?xf64>
}

// CHECK-LABEL: func.func @affine
// CHECK-NOT: lz.sum
// CHECK: return
func.func @affine(%g: tensor<?x?xf64>, %l: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %g, %c0 : tensor<?x?xf64>
  %d = tensor.dim %g, %c1 : tensor<?x?xf64>
  %a = lz.accumulate %p < %n, %j < %d into (%d) : tensor<?xf64> {
    %e = lz.get %g[%p, %c0] : tensor<?x?xf64>
    %f = lz.get %l[%j] : tensor<?xf64>
    %m = arith.addf %f, %e : f64
    lz.yield %j, %m : index, f64
  }
  return %a : tensor<?xf64>
}

// CHECK-LABEL: func.func @other
// CHECK-NOT: lz.sum
// CHECK: return
func.func @other(%g: tensor<?x?xf64>, %l: tensor<?xf64>, %b: i1) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %g, %c0 : tensor<?x?xf64>
  %d = tensor.dim %g, %c1 : tensor<?x?xf64>
  %a = lz.accumulate %p < %n, %j < %d into (%d) : tensor<?xf64> {
    %e = lz.get %g[%p, %c0] : tensor<?x?xf64>
    %v = scf.if %b -> (f64) {
      scf.yield %e : f64
    } else {
      %one = arith.constant 1.000000e+00 : f64
      scf.yield %one : f64
    }
    lz.yield %j, %v : index, f64
  }
  return %a : tensor<?xf64>
}

// CHECK-LABEL: func.func @all
// CHECK-NOT: lz.sum
// CHECK: return
func.func @all(%g: tensor<?x?xf64>, %l: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %g, %c0 : tensor<?x?xf64>
  %d = tensor.dim %g, %c1 : tensor<?x?xf64>
  %a = lz.accumulate %p < %n, %j < %d into (%d) : tensor<?xf64> {
    %e = lz.get %g[%p, %j] : tensor<?x?xf64>
    %f = lz.get %l[%j] : tensor<?xf64>
    %m = arith.mulf %f, %e : f64
    lz.yield %j, %m : index, f64
  }
  return %a : tensor<?xf64>
}
