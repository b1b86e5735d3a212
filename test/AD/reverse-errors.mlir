// RUN: leibniz-opt %s --ad-reverse --split-input-file -verify-diagnostics

func.func @f(%x: f64, %y: f64) -> f64 {
  // expected-error @+1 {{cannot differentiate 'math.atan2' in reverse mode}}
  %a = math.atan2 %x, %y : f64
  return %a : f64
}
func.func @g(%x: f64, %y: f64) -> f64 {
  %d = ad.grad @f(%x, %y) {wrt = array<i64: 0>} : (f64, f64) -> f64
  return %d : f64
}

// -----

func.func @f(%x: f64) -> f64 {
  // expected-error @+1 {{reverse mode cannot differentiate a 'while' loop, whose number of steps depends on its state; differentiate the solution implicitly with argmin, root or fixed_point, or use a counted loop}}
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
  return %r : f64
}
func.func @g(%x: f64) -> f64 {
  %d = ad.grad @f(%x) {wrt = array<i64: 0>} : (f64) -> f64
  return %d : f64
}

// -----

// expected-error @+1 {{cannot differentiate 'f': it has no body}}
func.func private @f(%x: f64) -> f64
func.func @g(%x: f64) -> f64 {
  %d = ad.grad @f(%x) {wrt = array<i64: 0>} : (f64) -> f64
  return %d : f64
}
