// Edge cases of the lowering, interpreted before and after: empty scopes,
// signed zeros, integer and tensor-valued reductions, traversals with
// several results, batched matmuls.

// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after
// RUN: leibniz-opt %s --lower-lz --cse --lz-interpret=entry=main -o /dev/null > %t.cse
// RUN: diff %t.before %t.cse
// RUN: FileCheck %s --input-file=%t.after

// CHECK:      0.0
// CHECK-NEXT: -0.0
// CHECK-NEXT: -inf
// CHECK-NEXT: 24
// CHECK-NEXT: [4. 6.]
// CHECK-NEXT: []
// CHECK-NEXT: {{\[\[\[}}-0. -0.]]]
// CHECK-NEXT: 3
// CHECK-NEXT: {{\[\[}}1. 3.]
// CHECK-NEXT:  [2. 4.]]
// CHECK-NEXT: {{\[\[}}2 4]
// CHECK-NEXT:  [3 5]]
// CHECK-NEXT: []
// CHECK-NEXT: []
// CHECK-NEXT: [2. 4.]
// CHECK-NEXT: [-1. -1.]
func.func @main() -> (f64, f64, f64, i64, tensor<2xf64>, tensor<0x2xf64>, tensor<1x1x2xf64>, index, tensor<2x2xf64>, tensor<2x2xi64>, tensor<0x2xf64>, tensor<0x2xf64>, tensor<2xf64>, tensor<2xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %nz = arith.constant -0.0 : f64
  %one = arith.constant 1.0 : f64
  // The empty sum is +0.0; a sum of -0.0 is -0.0; the empty max is -inf.
  %empty = lz.sum %k < %c0 : f64 {
    lz.yield %one : f64
  }
  %negzero = lz.sum %k < %c2 : f64 {
    lz.yield %nz : f64
  }
  %emax = lz.max %k < %c0, %l < %c2 : f64 {
    lz.yield %one : f64
  }
  // 1 * 2 * 3 * 4 over a 2 x 2 space.
  %p = lz.prod %k < %c2, %l < %c2 : i64 {
    %i = arith.muli %k, %c2 : index
    %j = arith.addi %i, %l : index
    %j1 = arith.addi %j, %c1 : index
    %v = arith.index_cast %j1 : index to i64
    lz.yield %v : i64
  }
  // The sum of the rows of [[1, 2], [3, 4]].
  %A = lz.for %i < %c2, %j < %c2 : tensor<2x2xf64> {
    %k = arith.muli %i, %c2 : index
    %l = arith.addi %k, %j : index
    %l1 = arith.addi %l, %c1 : index
    %v = arith.index_cast %l1 : index to i64
    %f = arith.sitofp %v : i64 to f64
    lz.yield %f : f64
  }
  %rows = lz.sum %i < %c2 : tensor<2xf64> {
    %row = lz.get %A[%i] : tensor<2x2xf64>
    lz.yield %row : tensor<2xf64>
  }
  // An empty traversal of rows.
  %none = lz.for %i < %c0 : tensor<0x2xf64> {
    %row = lz.get %A[%i] : tensor<2x2xf64>
    lz.yield %row : tensor<2xf64>
  }
  // A traversal with two scalar results, over a 2 x 2 space and an empty
  // one: the transpose of A and its elements plus one; nothing.
  %T:2 = lz.for %i < %c2, %j < %c2 : tensor<2x2xf64>, tensor<2x2xi64> {
    %a = lz.get %A[%j, %i] : tensor<2x2xf64>
    %v = arith.fptosi %a : f64 to i64
    %one1 = arith.constant 1 : i64
    %w = arith.addi %v, %one1 : i64
    lz.yield %a, %w : f64, i64
  }
  %E:2 = lz.for %i < %c0, %j < %c2 : tensor<0x2xf64>, tensor<0x2xf64> {
    lz.yield %one, %nz : f64, f64
  }
  // Traversals with several results nested in one: the inner one's index
  // is not the outer one's, after CSE too. N[i] = Σj (i + 2j), -Σj j.
  %N:2 = lz.for %i < %c2 : tensor<2xf64>, tensor<2xf64> {
    %I:2 = lz.for %j < %c2 : tensor<2xf64>, tensor<2xf64> {
      %j2 = arith.muli %j, %c2 : index
      %ij = arith.addi %i, %j2 : index
      %v = arith.index_cast %ij : index to i64
      %f = arith.sitofp %v : i64 to f64
      %w = arith.index_cast %j : index to i64
      %g = arith.sitofp %w : i64 to f64
      %h = arith.negf %g : f64
      lz.yield %f, %h : f64, f64
    }
    %s = lz.sum %k < %c2 : f64 {
      %x = lz.get %I#0[%k] : tensor<2xf64>
      lz.yield %x : f64
    }
    %t = lz.sum %k < %c2 : f64 {
      %x = lz.get %I#1[%k] : tensor<2xf64>
      lz.yield %x : f64
    }
    lz.yield %s, %t : f64, f64
  }
  // A batched product whose products are all -0.0 is -0.0.
  %Z = lz.fill %nz : tensor<1x1x3xf64>
  %W = lz.fill %one : tensor<1x3x2xf64>
  %B = lz.batch_matmul %Z, %W : tensor<1x1x3xf64>, tensor<1x3x2xf64> -> tensor<1x1x2xf64>
  // A loop that never runs and one that halves 8 three times.
  %x = lz.loop %t < %c0 iter_args(%x = %c4) : index {
    lz.yield %c0 : index
  }
  %eight = arith.constant 8 : index
  %r:2 = lz.loop while (%eight, %c0) : index, index cond {
  ^bb0(%v: index, %n: index):
    %more = arith.cmpi ugt, %v, %c1 : index
    lz.condition %more
  } do {
  ^bb0(%v: index, %n: index):
    %h = arith.divui %v, %c2 : index
    %n1 = arith.addi %n, %c1 : index
    lz.yield %h, %n1 : index, index
  }
  return %empty, %negzero, %emax, %p, %rows, %none, %B, %r#1, %T#0, %T#1, %E#0, %E#1, %N#0, %N#1 : f64, f64, f64, i64, tensor<2xf64>, tensor<0x2xf64>, tensor<1x1x2xf64>, index, tensor<2x2xf64>, tensor<2x2xi64>, tensor<0x2xf64>, tensor<0x2xf64>, tensor<2xf64>, tensor<2xf64>
}
