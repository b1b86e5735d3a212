// RUN: leibniz-opt %s -split-input-file -verify-diagnostics

// Malformed lz syntax gets a located parse error.

func.func @scope_missing_less(%n: index, %x: f64) -> tensor<?xf64> {
  // expected-error @+1 {{expected '<'}}
  %0 = lz.for %i %n : tensor<?xf64> {
    lz.yield %x : f64
  }
  return %0 : tensor<?xf64>
}

// -----

func.func @scope_missing_type(%n: index, %x: f64) -> f64 {
  // expected-error @+1 {{expected ':'}}
  %0 = lz.sum %i < %n {
    lz.yield %x : f64
  }
  return %0 : f64
}

// -----

func.func @scope_range_not_index(%n: i64, %x: f64) -> f64 {
  // expected-note @-1 {{prior use here}}
  // expected-error @+1 {{use of value '%n' expects different type than prior uses: 'index' vs 'i64'}}
  %0 = lz.sum %i < %n : f64 {
    lz.yield %x : f64
  }
  return %0 : f64
}

// -----

func.func @undefined_value(%n: index) -> f64 {
  %0 = lz.sum %i < %n : f64 {
    // expected-error @+1 {{use of undeclared SSA value name}}
    lz.yield %nope : f64
  }
  return %0 : f64
}

// -----

func.func @get_not_tensor(%x: f64, %i: index) -> f64 {
  // expected-error @+1 {{invalid kind of type specified}}
  %0 = lz.get %x[%i] : f64
  return %0 : f64
}

// -----

func.func @loop_missing_cond(%x: f64) -> f64 {
  // expected-error @+1 {{expected 'cond'}}
  %0 = lz.loop while (%x) : f64 do {
  ^bb0(%s: f64):
    lz.yield %s : f64
  }
  return %0 : f64
}

// -----

func.func @loop_missing_iter_args(%n: index, %x: f64) -> f64 {
  // expected-error @+1 {{expected 'iter_args'}}
  %0 = lz.loop %t < %n (%s = %x) : f64 {
    lz.yield %s : f64
  }
  return %0 : f64
}

// -----

func.func @unknown_op() {
  // expected-error @+1 {{custom op 'lz.frobnicate' is unknown}}
  lz.frobnicate
  return
}

// -----

func.func @proj_missing_index(%t: tuple<f64>) -> f64 {
  // expected-error @+1 {{expected attribute value}}
  %0 = lz.proj %t[] : tuple<f64>
  return %0 : f64
}
