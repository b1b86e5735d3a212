// RUN: leibniz-opt %s -split-input-file -verify-diagnostics -o /dev/null

// Every verifier diagnostic of the ad dialect.

func.func @missing(%x: f64) {
  // expected-error @+1 {{callee @nothing does not name a function}}
  %g = ad.grad @nothing(%x) {wrt = array<i64: 0>} : (f64) -> f64
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @arity(%x: f64) {
  // expected-error @+1 {{callee @f takes 1 parameters but 2 arguments and 0 captures are given}}
  %g = ad.grad @f(%x, %x) {wrt = array<i64: 0>} : (f64, f64) -> f64
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @operand_type(%x: f32) {
  // expected-error @+1 {{operand 0 has type 'f32' but parameter 0 of @f has type 'f64'}}
  %g = ad.grad @f(%x) {wrt = array<i64: 0>} : (f32) -> f32
  return
}

// -----

func.func private @v(%x: f64) -> tensor<2xf64>
func.func @not_scalar(%x: f64) {
  // expected-error @+1 {{the gradient needs a function that returns a float scalar, not 'tensor<2xf64>'}}
  %g = ad.grad @v(%x) {wrt = array<i64: 0>} : (f64) -> f64
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @bad_wrt(%x: f64) {
  // expected-error @+1 {{differentiates argument 1 of 1}}
  %g = ad.grad @f(%x) {wrt = array<i64: 1>} : (f64) -> f64
  return
}

// -----

func.func private @f(%x: f64, %y: f64) -> f64
func.func @twice(%x: f64) {
  // expected-error @+1 {{differentiates argument 0 twice}}
  %g:2 = ad.grad @f(%x, %x) {wrt = array<i64: 0, 0>} : (f64, f64) -> (f64, f64)
  return
}

// -----

func.func private @i(%k: i64) -> f64
func.func @integer(%k: i64) {
  // expected-error @+1 {{cannot differentiate with respect to argument 0 of type 'i64'}}
  %g = ad.grad @i(%k) {wrt = array<i64: 0>} : (i64) -> i64
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @mode(%x: f64) {
  // expected-error @+1 {{mode must be "rev" or "fwd", not "both"}}
  %g = ad.grad @f(%x) {wrt = array<i64: 0>, mode = "both"} : (f64) -> f64
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @gradient_type(%x: f64) {
  // expected-error @+1 {{gradient has type 'f32' but 'f64' is expected}}
  %g = ad.grad @f(%x) {wrt = array<i64: 0>} : (f64) -> f32
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @tangents(%x: f64) {
  // expected-error @+1 {{has 2 tangents for 1 arguments}}
  %y, %dy = ad.jvp @f(%x) tangents(%x, %x) : (f64, f64, f64) -> (f64, f64)
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @cotangent(%x: f64, %c: f32) {
  // expected-error @+1 {{the cotangent has type 'f32' but 'f64' is expected}}
  %y, %xb = ad.vjp @f(%x) cotangent(%c) : (f64, f32) -> (f64, f64)
  return
}

// -----

func.func private @v(%x: tensor<3xf64>) -> tensor<2xf64>
func.func @jacobian(%x: tensor<3xf64>) {
  // expected-error @+1 {{the Jacobian has type 'tensor<3x2xf64>' but 'tensor<2x3xf64>' is expected}}
  %J = ad.jacobian @v(%x) {mode = "fwd"} : (tensor<3xf64>) -> tensor<3x2xf64>
  return
}

// -----

func.func private @f(%x: tensor<3xf64>) -> f64
func.func @hessian(%x: tensor<3xf64>) {
  // expected-error @+1 {{the Hessian has type 'tensor<3xf64>' but 'tensor<3x3xf64>' is expected}}
  %H = ad.hessian @f(%x) : (tensor<3xf64>) -> tensor<3xf64>
  return
}

// -----

func.func private @f(%x: tensor<3xf64>) -> f64
func.func @hvp(%x: tensor<3xf64>, %v: tensor<4xf64>) {
  // expected-error @+1 {{the tangent has type 'tensor<4xf64>' but 'tensor<3xf64>' is expected}}
  %h = ad.hvp @f(%x) tangent(%v) : (tensor<3xf64>, tensor<4xf64>) -> tensor<3xf64>
  return
}

// -----

func.func private @v(%x: f64) -> tensor<2xf64>
func.func @objective(%x: f64, %n: index) {
  // expected-error @+1 {{the objective must return a float scalar, not 'tensor<2xf64>'}}
  %m = ad.minimize @v(%x) steps(%n) {optimizer = {name = "sgd"}} : (f64, index) -> f64
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @no_name(%x: f64, %n: index) {
  // expected-error @+1 {{the optimizer must have a string 'name' entry}}
  %m = ad.minimize @f(%x) steps(%n) {optimizer = {lr = 0.1 : f64}} : (f64, index) -> f64
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @trace(%x: f64, %n: index) {
  // expected-error @+1 {{has a loss history exactly when 'trace' is set}}
  %m, %l = ad.minimize @f(%x) steps(%n) {optimizer = {name = "sgd"}} : (f64, index) -> (f64, tensor<?xf64>)
  return
}

// -----

func.func private @f(%x: f64) -> f64
func.func @tolerance(%x: f64, %n: index) {
  // expected-error @+1 {{the tolerance must be non-negative}}
  %a = ad.argmin @f(%x) steps(%n) {optimizer = {name = "sgd"}, tol = -1.0 : f64, implicit = {name = "cg"}} : (f64, index) -> f64
  return
}

// -----

func.func private @v(%x: f64) -> tensor<2xf64>
func.func @root(%x: f64) {
  // expected-error @+1 {{the function's result has type 'tensor<2xf64>' but 'f64' is expected}}
  %r = ad.root @v(%x) {solver = {name = "newton"}, implicit = {name = "gmres"}} : (f64) -> f64
  return
}

// -----

func.func private @f(%k: i64) -> i64
func.func @parameters(%k: i64, %n: index) {
  // expected-error @+1 {{the parameters must be floats, float tensors or tuples of those, not 'i64'}}
  %r = ad.fixed_point @f(%k) iters(%n) {solver = {name = "iterate"}, implicit = {name = "gmres"}} : (i64, index) -> i64
  return
}
