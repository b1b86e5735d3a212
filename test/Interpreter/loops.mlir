// RUN: leibniz-opt %s --lz-interpret='entry=geometric args=1.0;10' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=GEO
// RUN: leibniz-opt %s --lz-interpret='entry=geometric args=1.0;0' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=ZERO
// RUN: leibniz-opt %s --lz-interpret='entry=collatz args=27' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=COLLATZ
// RUN: leibniz-opt %s --lz-interpret='entry=gradient_descent args=[1,-2,3];100' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=GD

// The counted loop carries (x, sum): x halves, sum adds the old x.
// GEO: (0.0009765625, 1.998046875)
// ZERO: (1.0, 0.0)

// Steps of the Collatz sequence from 27 by a while loop.
// COLLATZ: 111

// Gradient descent on f(x) = 0.5 |x|^2 with step 0.1: x_T = 0.9^T x_0.
// GD: [ 2.65613989e-05 -5.31227978e-05  7.96841967e-05]

func.func @geometric(%x0: f64, %n: index) -> tuple<f64, f64> {
  %half = arith.constant 0.5 : f64
  %zero = arith.constant 0.0 : f64
  %r:2 = lz.loop %t < %n iter_args(%x = %x0, %s = %zero) : f64, f64 {
    %x1 = arith.mulf %x, %half : f64
    %s1 = arith.addf %s, %x : f64
    lz.yield %x1, %s1 : f64, f64
  }
  %t = lz.tuple(%r#0, %r#1 : f64, f64)
  return %t : tuple<f64, f64>
}

func.func @collatz(%n0: i64) -> i64 {
  %one = arith.constant 1 : i64
  %two = arith.constant 2 : i64
  %three = arith.constant 3 : i64
  %zero = arith.constant 0 : i64
  %r:2 = lz.loop while (%n0, %zero) : i64, i64 cond {
  ^bb0(%n: i64, %k: i64):
    %c = arith.cmpi sgt, %n, %one : i64
    lz.condition %c
  } do {
  ^bb0(%n: i64, %k: i64):
    %rem = arith.remsi %n, %two : i64
    %even = arith.cmpi eq, %rem, %zero : i64
    %half = arith.divsi %n, %two : i64
    %tn = arith.muli %n, %three : i64
    %tn1 = arith.addi %tn, %one : i64
    %next = arith.select %even, %half, %tn1 : i64
    %k1 = arith.addi %k, %one : i64
    lz.yield %next, %k1 : i64, i64
  }
  return %r#1 : i64
}

func.func @gradient_descent(%x0: tensor<3xf64>, %steps: index) -> tensor<3xf64> {
  %c3 = arith.constant 3 : index
  %lr = arith.constant 0.1 : f64
  %x = lz.loop %t < %steps iter_args(%x = %x0) : tensor<3xf64> {
    // The gradient of 0.5 |x|^2 is x.
    %next = lz.for %i < %c3 : tensor<3xf64> {
      %xi = lz.get %x[%i] : tensor<3xf64>
      %step = arith.mulf %lr, %xi : f64
      %new = arith.subf %xi, %step : f64
      lz.yield %new : f64
    }
    lz.yield %next : tensor<3xf64>
  }
  return %x : tensor<3xf64>
}
