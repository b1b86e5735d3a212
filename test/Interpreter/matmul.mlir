// RUN: leibniz-opt %s --lz-interpret='entry=scopes args=[[1,2],[3,4],[5,6]];[[1,0,-1],[2,1,0]]' -o /dev/null | FileCheck %s --match-full-lines
// RUN: leibniz-opt %s --lz-interpret='entry=library args=[[1,2],[3,4],[5,6]];[[1,0,-1],[2,1,0]]' -o /dev/null | FileCheck %s --match-full-lines

// Matrix product written as scopes and as the library operator.

// CHECK:      {{\[\[}} 5.  2. -1.]
// CHECK-NEXT:  [11.  4. -3.]
// CHECK-NEXT:  [17.  6. -5.]]

func.func @scopes(%A: tensor<?x?xf64>, %B: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %A, %c0 : tensor<?x?xf64>
  %k = tensor.dim %A, %c1 : tensor<?x?xf64>
  %n = tensor.dim %B, %c1 : tensor<?x?xf64>
  %C = lz.for %i < %m, %j < %n : tensor<?x?xf64> {
    %s = lz.sum %p < %k : f64 {
      %a = lz.get %A[%i, %p] : tensor<?x?xf64>
      %b = lz.get %B[%p, %j] : tensor<?x?xf64>
      %ab = arith.mulf %a, %b : f64
      lz.yield %ab : f64
    }
    lz.yield %s : f64
  }
  return %C : tensor<?x?xf64>
}

func.func @library(%A: tensor<?x?xf64>, %B: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %C = lz.matmul %A, %B : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  return %C : tensor<?x?xf64>
}
