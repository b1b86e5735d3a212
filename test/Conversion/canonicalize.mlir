// RUN: leibniz-opt %s --lz-canonicalize | FileCheck %s

// A generator read once is folded into the read; one read several times
// stays, so that its element is computed once.
// CHECK-LABEL: func.func @once
// CHECK-NOT: tensor.generate
// CHECK: math.exp
// CHECK-NOT: math.exp
func.func @once(%n: index, %i: index) -> f64 {
  %t = tensor.generate %n {
  ^bb0(%k: index):
    %c = arith.index_cast %k : index to i64
    %f = arith.sitofp %c : i64 to f64
    %e = math.exp %f : f64
    tensor.yield %e : f64
  } : tensor<?xf64>
  %x = tensor.extract %t[%i] : tensor<?xf64>
  return %x : f64
}

// CHECK-LABEL: func.func @twice
// CHECK: tensor.generate
// CHECK: math.exp
// CHECK-NOT: math.exp
// CHECK: tensor.extract
// CHECK: tensor.extract
func.func @twice(%n: index, %i: index, %j: index) -> f64 {
  %t = tensor.generate %n {
  ^bb0(%k: index):
    %c = arith.index_cast %k : index to i64
    %f = arith.sitofp %c : i64 to f64
    %e = math.exp %f : f64
    tensor.yield %e : f64
  } : tensor<?xf64>
  %x = tensor.extract %t[%i] : tensor<?xf64>
  %y = tensor.extract %t[%j] : tensor<?xf64>
  %s = arith.addf %x, %y : f64
  return %s : f64
}
