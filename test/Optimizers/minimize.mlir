// RUN: leibniz-opt %s --ad-minimize -split-input-file -verify-diagnostics | FileCheck %s

// The loop carries the parameters, the optimizer's state and the losses;
// each step takes the value and the gradient and calls the rule on every
// element, with t = step + 1 and the hyperparameters (defaults included).
// CHECK-LABEL: func.func @run
// CHECK: %[[M:.*]] = lz.fill
// CHECK: lz.loop %[[K:.*]] < %{{.*}} iter_args(%[[X:.*]] = %{{.*}}, %[[S:.*]] = %[[M]], %[[L:.*]] = %{{.*}}) : tensor<?xf64>, tensor<?xf64>, tensor<3xf64>
// CHECK: %[[V:.*]], %{{.*}} = ad.value_and_grad @f(%[[X]]) {wrt = array<i64: 0>}
// CHECK: lz.for
// CHECK: func.call @std$momentum_rule
// CHECK: tensor.insert %[[V]] into %[[L]][%[[K]]]
func.func private @std$momentum_rule(%x: f64, %g: f64, %m: f64, %t: f64, %lr: f64, %beta: f64, %n: i1) -> tuple<f64, f64> {
  %m1 = arith.mulf %beta, %m : f64
  %m2 = arith.addf %m1, %g : f64
  %s = arith.mulf %lr, %m2 : f64
  %x1 = arith.subf %x, %s : f64
  %r = lz.tuple(%x1, %m2 : f64, f64)
  return %r : tuple<f64, f64>
}
func.func private @f(%x: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c = tensor.dim %x, %c0 : tensor<?xf64>
  %s = lz.sum %i < %c : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    %q = arith.mulf %e, %e : f64
    lz.yield %q : f64
  }
  return %s : f64
}
func.func @run(%x0: tensor<?xf64>) -> (tensor<?xf64>, tensor<3xf64>) {
  %c3 = arith.constant 3 : index
  %x, %l = ad.minimize @f(%x0) steps(%c3) {optimizer = {name = "momentum", lr = 0.1 : f64}, trace} : (tensor<?xf64>, index) -> (tensor<?xf64>, tensor<3xf64>)
  return %x, %l : tensor<?xf64>, tensor<3xf64>
}

// -----

func.func private @f(%x: f64) -> f64 {
  return %x : f64
}
func.func @run(%x0: f64) -> f64 {
  %c3 = arith.constant 3 : index
  // expected-error @+1 {{'ad.minimize' op needs the standard library's update rule 'sgd_rule' (lib/Std/optimizers.lz), the function '@std$sgd_rule'}}
  %x = ad.minimize @f(%x0) steps(%c3) {optimizer = {name = "sgd", lr = 0.1 : f64}} : (f64, index) -> f64
  return %x : f64
}

// -----

func.func private @std$sgd_rule(%x: f64, %g: f64, %t: f64) -> f64 {
  return %x : f64
}
func.func private @f(%x: f64) -> f64 {
  return %x : f64
}
func.func @run(%x0: f64) -> f64 {
  %c3 = arith.constant 3 : index
  // expected-error @+1 {{the update rule '@std$sgd_rule' must have the type '(f64, f64, f64, f64) -> f64', not '(f64, f64, f64) -> f64'}}
  %x = ad.minimize @f(%x0) steps(%c3) {optimizer = {name = "sgd", lr = 0.1 : f64}} : (f64, index) -> f64
  return %x : f64
}

// -----

func.func private @f(%x: f64) -> f64 {
  return %x : f64
}
func.func @run(%x0: f64) -> f64 {
  %c3 = arith.constant 3 : index
  // expected-error @+1 {{the optimizer 'sgd' has no hyperparameter 'beta'}}
  %x = ad.minimize @f(%x0) steps(%c3) {optimizer = {name = "sgd", lr = 0.1 : f64, beta = 0.5 : f64}} : (f64, index) -> f64
  return %x : f64
}
