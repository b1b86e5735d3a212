// sum-accumulate merges a sum of accumulations into one accumulation; what
// the accumulation uses of the sum's body that needs a scope or a loop is
// tabulated once per point of the sum, and nothing else of the body is
// computed in the merged body. Here the accumulation reads one result of a
// loop (tabulated); an operation it does not use reads the other one (it
// is not copied: copied, it would read the loop that the merged body no
// longer computes).
// RUN: leibniz-opt %s --lz-rewrite='normalize(sum-accumulate)' | FileCheck %s

// CHECK-LABEL: func.func @f
// CHECK: %[[TABLE:.*]] = lz.for %[[I:.*]] < %{{.*}} : tensor<?xf64> {
// CHECK: %[[LOOP:.*]]:2 = lz.loop
// CHECK: lz.yield %[[LOOP]]#0 : f64
// CHECK: lz.accumulate %[[P:.*]] < %{{.*}}, %[[Q:.*]] < %{{.*}} into
// CHECK-NOT: lz.loop
// CHECK: lz.get %[[TABLE]][%[[P]]]
// CHECK-NOT: lz.loop
// CHECK: return
func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %half = arith.constant 5.000000e-01 : f64
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %s = lz.sum %i < %n : tensor<?xf64> {
    %xi = lz.get %x[%i] : tensor<?xf64>
    %l:2 = lz.loop %t < %c3 iter_args(%a = %xi, %b = %half) : f64, f64 {
      %a2 = arith.mulf %a, %half : f64
      %b2 = arith.addf %b, %a : f64
      lz.yield %a2, %b2 : f64, f64
    }
    %unused = arith.mulf %l#1, %l#1 : f64
    %acc = lz.accumulate %j < %n into (%n) : tensor<?xf64> {
      %xj = lz.get %x[%j] : tensor<?xf64>
      %v = arith.mulf %xj, %l#0 : f64
      lz.yield %j, %v : index, f64
    }
    lz.yield %acc : tensor<?xf64>
  }
  return %s : tensor<?xf64>
}
