// Reverse mode on IR the frontend does not emit.

// A while loop whose result reaches the output only through stop_gradient
// needs no reverse: d/dx (x * stop_gradient(halve(x))) at 3 is 0.75.
// RUN: leibniz-opt %s --ad-reverse --lz-interpret='entry=stopped args=3.0' -o /dev/null | FileCheck %s --check-prefix=STOPPED
// STOPPED: 0.75
func.func @halved(%x: f64) -> f64 {
  %r = lz.loop while (%x) : f64 cond {
  ^bb0(%y: f64):
    %one = arith.constant 1.0 : f64
    %c = arith.cmpf ogt, %y, %one : f64
    lz.condition %c
  } do {
  ^bb0(%y: f64):
    %half = arith.constant 0.5 : f64
    %h = arith.mulf %y, %half : f64
    lz.yield %h : f64
  }
  %s = ad.stop_gradient %r : f64
  %p = arith.mulf %x, %s : f64
  return %p : f64
}
func.func @stopped(%x: f64) -> f64 {
  %d = ad.grad @halved(%x) {wrt = array<i64: 0>} : (f64) -> f64
  return %d : f64
}

// A read guarded by a condition on its index: the points where the guard
// is false contribute nothing, and their indices (beyond the tensor) are
// not used. d/dx sum_{k < 5} (k < 3 ? x[k]^2 : 0) = 2 x.
// RUN: leibniz-opt %s --ad-reverse --lz-interpret='entry=padded args=[1.0,2.0,3.0]' -o /dev/null | FileCheck %s --check-prefix=PADDED
// RUN: leibniz-opt %s --ad-reverse --lz-rewrite=rev-ad-opt --lz-interpret='entry=padded args=[1.0,2.0,3.0]' -o /dev/null | FileCheck %s --check-prefix=PADDED
// RUN: leibniz-opt %s --ad-reverse --lower-lz --lz-interpret='entry=padded args=[1.0,2.0,3.0]' -o /dev/null | FileCheck %s --check-prefix=PADDED
// PADDED: [2. 4. 6.]
func.func @squares(%x: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c5 = arith.constant 5 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %s = lz.sum %k < %c5 : f64 {
    %in = arith.cmpi ult, %k, %n : index
    %v = scf.if %in -> (f64) {
      %e = lz.get %x[%k] : tensor<?xf64>
      %q = arith.mulf %e, %e : f64
      scf.yield %q : f64
    } else {
      %z = arith.constant 0.0 : f64
      scf.yield %z : f64
    }
    lz.yield %v : f64
  }
  return %s : f64
}
func.func @padded(%x: tensor<?xf64>) -> tensor<?xf64> {
  %d = ad.grad @squares(%x) {wrt = array<i64: 0>} : (tensor<?xf64>) -> tensor<?xf64>
  return %d : tensor<?xf64>
}

// A rank-0 tensor read: its cotangent is a rank-0 tensor.
// RUN: leibniz-opt %s --ad-reverse --lz-rewrite=rev-ad-opt --lz-interpret='entry=scalar_tensor' -o /dev/null | FileCheck %s --check-prefix=RANK0
// RANK0: 6.0
func.func @cube0(%t: tensor<f64>) -> f64 {
  %e = lz.get %t[] : tensor<f64>
  %f = lz.get %t[] : tensor<f64>
  %p = arith.mulf %e, %f : f64
  return %p : f64
}
func.func @scalar_tensor() -> tensor<f64> {
  %c = arith.constant dense<3.0> : tensor<f64>
  %d = ad.grad @cube0(%c) {wrt = array<i64: 0>} : (tensor<f64>) -> tensor<f64>
  return %d : tensor<f64>
}

// A loop whose state holds a tuple keeps one stack per leaf: the copy of
// the function that is differentiated has its loop rewritten over the
// leaves first; the function itself is unchanged. Two steps of (p, q) -> (p q, q + p)
// from (x, x) give p + q = 2 x^3 + x^2 + 2 x, whose derivative at 0.5 is
// 6 x^2 + 2 x + 2 = 4.5.
// RUN: leibniz-opt %s --ad-reverse --lz-interpret='entry=tupled args=0.5' -o /dev/null | FileCheck %s --check-prefix=TUPLED
// RUN: leibniz-opt %s --ad-reverse --lz-rewrite=rev-ad-opt --lz-interpret='entry=tupled args=0.5' -o /dev/null | FileCheck %s --check-prefix=TUPLED
// RUN: leibniz-opt %s --ad-reverse | FileCheck %s --check-prefix=LEAVES
// TUPLED: 4.5
// LEAVES-LABEL: func.func @pairs(
// LEAVES: lz.loop %{{.*}} iter_args(%{{.*}} = %{{.*}}) : tuple<f64, f64> {
// LEAVES-LABEL: func.func private @pairs__vjp_1(
// LEAVES: lz.loop %{{.*}} iter_args({{.*}}) : f64, f64, tensor<?xf64>, tensor<?xf64> {
func.func @pairs(%x: f64) -> f64 {
  %c2 = arith.constant 2 : index
  %t = lz.tuple(%x, %x : f64, f64)
  %r = lz.loop %i < %c2 iter_args(%s = %t) : tuple<f64, f64> {
    %p = lz.proj %s[0] : tuple<f64, f64>
    %q = lz.proj %s[1] : tuple<f64, f64>
    %pq = arith.mulf %p, %q : f64
    %qp = arith.addf %q, %p : f64
    %n = lz.tuple(%pq, %qp : f64, f64)
    lz.yield %n : tuple<f64, f64>
  }
  %a = lz.proj %r[0] : tuple<f64, f64>
  %b = lz.proj %r[1] : tuple<f64, f64>
  %sum = arith.addf %a, %b : f64
  return %sum : f64
}
func.func @tupled(%x: f64) -> f64 {
  %d = ad.grad @pairs(%x) {wrt = array<i64: 0>} : (f64) -> f64
  return %d : f64
}
