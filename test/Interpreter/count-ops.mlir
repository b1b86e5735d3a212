// RUN: leibniz-opt %s --lz-interpret='entry=dot args=[1,2,3];[4,5,6] count-ops=1' -o /dev/null | FileCheck %s --match-full-lines
// RUN: leibniz-opt %s --lz-interpret='entry=scale args=[1,2,3] count-ops=1' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=SCALE

// The interpreter counts executed operations: one multiply and two reads
// per term of the dot product. Each produced one element.

// CHECK:      32.0
// CHECK-NEXT: count arith.constant = 1
// CHECK-NEXT: count arith.mulf = 3
// CHECK-NEXT: count func.return = 1
// CHECK-NEXT: count lz.get = 6
// CHECK-NEXT: count lz.sum = 1
// CHECK-NEXT: count lz.yield = 3
// CHECK-NEXT: count tensor.dim = 1
// CHECK-NEXT: count total = 12
// CHECK-NEXT: count elements = 12

// A traversal is one operation that produces its tensor's elements, each
// computed by a read and a multiply.
// SCALE:      count total = 9
// SCALE-NEXT: count elements = 11

func.func @dot(%x: tensor<?xf64>, %y: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %a = lz.get %x[%k] : tensor<?xf64>
    %b = lz.get %y[%k] : tensor<?xf64>
    %p = arith.mulf %a, %b : f64
    lz.yield %p : f64
  }
  return %s : f64
}

func.func @scale(%x: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %s = lz.for %k < %n : tensor<?xf64> {
    %a = lz.get %x[%k] : tensor<?xf64>
    %p = arith.mulf %a, %a : f64
    lz.yield %p : f64
  }
  return %s : tensor<?xf64>
}
