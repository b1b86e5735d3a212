// RUN: leibniz-opt %s --ad-forward --split-input-file -verify-diagnostics

func.func @f(%x: f64) -> f64 {
  // expected-error @+1 {{cannot differentiate a value of type 'vector<4xf64>' in forward mode}}
  %v = vector.broadcast %x : f64 to vector<4xf64>
  %e = vector.extract %v[0] : f64 from vector<4xf64>
  return %e : f64
}
func.func @g(%x: f64, %dx: f64) -> f64 {
  %y, %dy = ad.jvp @f(%x) tangents(%dx) : (f64, f64) -> (f64, f64)
  return %dy : f64
}

// -----

func.func @f(%x: f64, %y: f64) -> f64 {
  // expected-error @+1 {{cannot differentiate 'math.atan2' in forward mode}}
  %a = math.atan2 %x, %y : f64
  return %a : f64
}
func.func @g(%x: f64, %dx: f64) -> f64 {
  %y, %dy = ad.jvp @f(%x) tangents(%dx) captures(%x) : (f64, f64, f64) -> (f64, f64)
  return %dy : f64
}

// -----

// ad-forward alone leaves reverse-mode operations: forward mode cannot go
// through them (the driver expands both modes, callees first).
func.func @sq(%x: f64) -> f64 {
  %p = arith.mulf %x, %x : f64
  return %p : f64
}
func.func @f(%x: f64) -> f64 {
  // expected-error @+1 {{cannot differentiate 'ad.grad' in forward mode}}
  %g = ad.grad @sq(%x) {wrt = array<i64: 0>} : (f64) -> f64
  return %g : f64
}
func.func @g(%x: f64, %dx: f64) -> f64 {
  %y, %dy = ad.jvp @f(%x) tangents(%dx) : (f64, f64) -> (f64, f64)
  return %dy : f64
}

// -----

// expected-error @+1 {{cannot differentiate 'f': it has no body}}
func.func private @f(%x: f64) -> f64
func.func @g(%x: f64, %dx: f64) -> f64 {
  %y, %dy = ad.jvp @f(%x) tangents(%dx) : (f64, f64) -> (f64, f64)
  return %dy : f64
}

// -----

// expected-error @+1 {{cannot differentiate 'f': it has several blocks}}
func.func @f(%x: f64) -> f64 {
  cf.br ^bb1
^bb1:
  return %x : f64
}
func.func @g(%x: f64, %dx: f64) -> f64 {
  %y, %dy = ad.jvp @f(%x) tangents(%dx) : (f64, f64) -> (f64, f64)
  return %dy : f64
}

// -----

func.func @f(%x: tensor<f64>) -> f64 {
  %e = tensor.extract %x[] : tensor<f64>
  return %e : f64
}
func.func @g(%x: tensor<f64>) -> tensor<f64> {
  // expected-error @+1 {{forward-mode gradients and Jacobians with respect to a tensor of rank 0 are not supported}}
  %d = ad.grad @f(%x) {wrt = array<i64: 0>, mode = "fwd"} : (tensor<f64>) -> tensor<f64>
  return %d : tensor<f64>
}
