// The unary form that reverse mode runs on: every node takes its operands
// and its captures as one input; each value's sharing is explicit (a
// discard, a linear use, or a duplication into the listed node.slot
// copies), whose transposes are zero, the identity and a sum.
// RUN: leibniz-opt %s --ad-print-unary-form -o /dev/null | FileCheck %s

// CHECK-LABEL: // f: unary form (2 arguments, 0 context values)
// CHECK-NEXT:    a0: dup -> 0.0 0.1 2.1
// CHECK-NEXT:    a1: discard
// CHECK-NEXT:  node 0: v0.0 = arith.mulf (a0, a0)
// CHECK-NEXT:    v0.0: linear -> 3.0
// CHECK-NEXT:  node 1: v1.0 = arith.constant ()
// CHECK-NEXT:    v1.0: linear -> 2.0
// CHECK-NEXT:  node 2: v2.0 = lz.sum (v1.0 | captures a0)
// CHECK-NEXT:    v2.0: linear -> 3.1
// CHECK-NEXT:  node 3: v3.0 = arith.addf (v0.0, v2.0)
// CHECK-NEXT:    v3.0: linear -> 4.0
// CHECK-NEXT:  node 4: func.return (v3.0)
func.func @f(%x: f64, %unused: f64) -> f64 {
  %sq = arith.mulf %x, %x : f64
  %c3 = arith.constant 3 : index
  %s = lz.sum %k < %c3 : f64 {
    lz.yield %x : f64
  }
  %r = arith.addf %sq, %s : f64
  return %r : f64
}
