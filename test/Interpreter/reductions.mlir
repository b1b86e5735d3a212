// RUN: leibniz-opt %s --lz-interpret='entry=vector args=[3,-1.5,2,0.25]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=VEC
// RUN: leibniz-opt %s --lz-interpret='entry=vector args=[]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=EMPTY
// RUN: leibniz-opt %s --lz-interpret='entry=integers args=[[1,2,3],[4,5,6]]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=INT

// VEC:      3.75
// VEC-NEXT: -2.25
// VEC-NEXT: 3.0
// VEC-NEXT: -1.5

// Over an empty range each reduction is its identity.
// EMPTY:      0.0
// EMPTY-NEXT: 1.0
// EMPTY-NEXT: -inf
// EMPTY-NEXT: inf

// Row sums and products of a matrix by tensor-valued scopes, and the
// integer maximum over both indices.
// INT:      [5 7 9]
// INT-NEXT: [  6 120]
// INT-NEXT: 6

func.func @vector(%x: tensor<?xf64>) -> (f64, f64, f64, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %s = lz.sum %i < %n : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    lz.yield %e : f64
  }
  %p = lz.prod %i < %n : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    lz.yield %e : f64
  }
  %hi = lz.max %i < %n : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    lz.yield %e : f64
  }
  %lo = lz.min %i < %n : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    lz.yield %e : f64
  }
  return %s, %p, %hi, %lo : f64, f64, f64, f64
}

func.func @integers(%A: tensor<2x3xi64>) -> (tensor<3xi64>, tensor<2xi64>, i64) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %cols = lz.sum %i < %c2 : tensor<3xi64> {
    %row = lz.get %A[%i] : tensor<2x3xi64>
    lz.yield %row : tensor<3xi64>
  }
  %prods = lz.for %i < %c2 : tensor<2xi64> {
    %p = lz.prod %j < %c3 : i64 {
      %e = lz.get %A[%i, %j] : tensor<2x3xi64>
      lz.yield %e : i64
    }
    lz.yield %p : i64
  }
  %m = lz.max %i < %c2, %j < %c3 : i64 {
    %e = lz.get %A[%i, %j] : tensor<2x3xi64>
    lz.yield %e : i64
  }
  return %cols, %prods, %m : tensor<3xi64>, tensor<2xi64>, i64
}
