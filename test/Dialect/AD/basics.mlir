// Every ad operation parses, verifies and prints back.
// RUN: leibniz-opt %s | FileCheck %s
// RUN: leibniz-opt %s | leibniz-opt | FileCheck %s

func.func private @f(%x: f64) -> f64
func.func private @loss(%w: tensor<?xf64>, %X: tensor<?x?xf64>) -> f64
func.func private @vec(%x: tensor<3xf64>) -> tensor<2xf64>
func.func private @pair(%p: tuple<f64, tensor<2xf64>>) -> f64
func.func private @step(%x: f64, %a: f64) -> f64

// CHECK-LABEL: func.func @derivatives
func.func @derivatives(%x: f64, %w: tensor<?xf64>, %X: tensor<?x?xf64>,
                       %v: tensor<3xf64>, %p: tuple<f64, tensor<2xf64>>) {
  // CHECK: ad.grad @f(%{{.*}}) {wrt = array<i64: 0>} : (f64) -> f64
  %g = ad.grad @f(%x) {wrt = array<i64: 0>} : (f64) -> f64
  // CHECK: ad.grad @loss(%{{.*}}, %{{.*}}) {mode = "fwd", wrt = array<i64: 0, 1>}
  %g2:2 = ad.grad @loss(%w, %X) {wrt = array<i64: 0, 1>, mode = "fwd"}
      : (tensor<?xf64>, tensor<?x?xf64>) -> (tensor<?xf64>, tensor<?x?xf64>)
  // Captures are trailing parameters of the callee.
  // CHECK: ad.value_and_grad @loss(%{{.*}}) captures(%{{.*}})
  %val, %gw = ad.value_and_grad @loss(%w) captures(%X) {wrt = array<i64: 0>}
      : (tensor<?xf64>, tensor<?x?xf64>) -> (f64, tensor<?xf64>)
  // Tuples are differentiable.
  // CHECK: ad.grad @pair
  %gp = ad.grad @pair(%p) {wrt = array<i64: 0>}
      : (tuple<f64, tensor<2xf64>>) -> tuple<f64, tensor<2xf64>>
  // CHECK: ad.jvp @f(%{{.*}}) tangents(%{{.*}}) : (f64, f64) -> (f64, f64)
  %y, %dy = ad.jvp @f(%x) tangents(%x) : (f64, f64) -> (f64, f64)
  // CHECK: ad.vjp @f(%{{.*}}) cotangent(%{{.*}}) : (f64, f64) -> (f64, f64)
  %y2, %xb = ad.vjp @f(%x) cotangent(%x) : (f64, f64) -> (f64, f64)
  // CHECK: ad.jacobian @vec(%{{.*}}) {mode = "rev"} : (tensor<3xf64>) -> tensor<2x3xf64>
  %J = ad.jacobian @vec(%v) {mode = "rev"} : (tensor<3xf64>) -> tensor<2x3xf64>
  // CHECK: ad.hessian @loss(%{{.*}}) captures(%{{.*}})
  %H = ad.hessian @loss(%w) captures(%X) : (tensor<?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  // CHECK: ad.hvp @loss(%{{.*}}) tangent(%{{.*}}) captures(%{{.*}})
  %hv = ad.hvp @loss(%w) tangent(%w) captures(%X)
      : (tensor<?xf64>, tensor<?xf64>, tensor<?x?xf64>) -> tensor<?xf64>
  // CHECK: ad.stop_gradient %{{.*}} : f64
  %s = ad.stop_gradient %x : f64
  return
}

// CHECK-LABEL: func.func @solves
func.func @solves(%x: f64, %w: tensor<?xf64>, %X: tensor<?x?xf64>, %n: index) {
  // CHECK: ad.minimize @f(%{{.*}}) steps(%{{.*}}) {optimizer = {lr = 1.000000e-01 : f64, name = "sgd"}}
  %m = ad.minimize @f(%x) steps(%n) {optimizer = {name = "sgd", lr = 0.1 : f64}}
      : (f64, index) -> f64
  // CHECK: %{{.*}}, %{{.*}} = ad.minimize {{.*}} trace
  %m2, %losses = ad.minimize @f(%x) steps(%n) {optimizer = {name = "sgd"}, trace}
      : (f64, index) -> (f64, tensor<?xf64>)
  // CHECK: ad.argmin @loss(%{{.*}}) captures(%{{.*}}) steps(%{{.*}})
  %a = ad.argmin @loss(%w) captures(%X) steps(%n)
      {optimizer = {name = "lbfgs"}, tol = 1.0e-10 : f64, implicit = {name = "cg"}}
      : (tensor<?xf64>, tensor<?x?xf64>, index) -> tensor<?xf64>
  // CHECK: ad.root @step(%{{.*}}) captures(%{{.*}})
  %r = ad.root @step(%x) captures(%x) {solver = {name = "newton"}, implicit = {name = "gmres"}}
      : (f64, f64) -> f64
  // CHECK: ad.fixed_point @step(%{{.*}}) captures(%{{.*}}) iters(%{{.*}})
  %fp = ad.fixed_point @step(%x) captures(%x) iters(%n)
      {solver = {name = "iterate"}, implicit = {name = "neumann"}} : (f64, f64, index) -> f64
  return
}
