// RUN: leibniz-opt %s --ad-forward --split-input-file | FileCheck %s

// The product rule; a tangent that is zero is not computed.
// CHECK-LABEL: func.func @mul
// CHECK: %[[D:.*]]:2 = call @f__jvp_10(%arg0, %arg1, %arg2)
// CHECK: func.func private @f__jvp_10(%[[A:.*]]: f64, %[[B:.*]]: f64, %[[DA:.*]]: f64) -> (f64, f64)
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f64
// CHECK-NEXT: %[[T:.*]] = arith.mulf %[[B]], %[[DA]] : f64
// CHECK-NEXT: return %[[P]], %[[T]] : f64, f64
func.func @f(%a: f64, %b: f64) -> f64 {
  %p = arith.mulf %a, %b : f64
  return %p : f64
}
func.func @mul(%a: f64, %b: f64, %da: f64) -> (f64, f64) {
  %y, %dy = ad.jvp @f(%a) tangents(%da) captures(%b) : (f64, f64, f64) -> (f64, f64)
  return %y, %dy : f64, f64
}

// -----

// A traversal computes elements and tangents together; a sum is linear.
// CHECK-LABEL: func.func private @g__jvp_1
// CHECK: lz.for %{{.*}} < %{{.*}} : tensor<?xf64>, tensor<?xf64> {
// CHECK: math.exp
// CHECK: arith.mulf
// CHECK: lz.yield %{{.*}}, %{{.*}} : f64, f64
// CHECK: lz.sum
// CHECK: lz.sum
func.func @g(%x: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %e = lz.for %i < %n : tensor<?xf64> {
    %xi = lz.get %x[%i] : tensor<?xf64>
    %ex = math.exp %xi : f64
    lz.yield %ex : f64
  }
  %s = lz.sum %k < %n : f64 {
    %ek = lz.get %e[%k] : tensor<?xf64>
    lz.yield %ek : f64
  }
  return %s : f64
}
func.func @caller(%x: tensor<?xf64>, %dx: tensor<?xf64>) -> f64 {
  %y, %dy = ad.jvp @g(%x) tangents(%dx) : (tensor<?xf64>, tensor<?xf64>) -> (f64, f64)
  return %dy : f64
}

// -----

// A gradient evaluates the derivative along every one-hot direction, in
// one traversal over the directions.
// CHECK-LABEL: func.func @grad
// CHECK: lz.for %[[P:.*]] < %{{.*}} : tensor<?xf64> {
// CHECK: lz.for %[[I:.*]] < %{{.*}} : tensor<?xf64> {
// CHECK: %[[HIT:.*]] = arith.cmpi eq, %[[I]], %[[P]] : index
// CHECK: scf.if %[[HIT]] -> (f64)
// CHECK: call @h__jvp_1
// CHECK: } attributes {ad.directions}
func.func @h(%x: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %s = lz.sum %k < %c0 : f64 {
    %e = lz.get %x[%k] : tensor<?xf64>
    lz.yield %e : f64
  }
  return %s : f64
}
func.func @grad(%x: tensor<?xf64>) -> tensor<?xf64> {
  %g = ad.grad @h(%x) {wrt = array<i64: 0>, mode = "fwd"} : (tensor<?xf64>) -> tensor<?xf64>
  return %g : tensor<?xf64>
}

// -----

// Loops carry the tangents of their float state; conditionals yield them
// from both branches (zeros where a branch has none).
// CHECK-LABEL: func.func private @l__jvp_1
// CHECK: lz.loop %{{.*}} < %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) : f64, f64
// CHECK: scf.if %{{.*}} -> (f64, f64)
// CHECK: } else {
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: scf.yield %{{.*}}, %[[Z]] : f64, f64
func.func @l(%x: f64, %n: index) -> f64 {
  %r = lz.loop %t < %n iter_args(%a = %x) : f64 {
    %zero = arith.constant 0.0 : f64
    %pos = arith.cmpf ogt, %a, %zero : f64
    %next = scf.if %pos -> (f64) {
      %s = math.sin %a : f64
      scf.yield %s : f64
    } else {
      %c = arith.constant 1.0 : f64
      scf.yield %c : f64
    }
    lz.yield %next : f64
  }
  return %r : f64
}
func.func @loop(%x: f64, %n: index, %dx: f64) -> f64 {
  %y, %dy = ad.jvp @l(%x) tangents(%dx) captures(%n) : (f64, f64, index) -> (f64, f64)
  return %dy : f64
}
