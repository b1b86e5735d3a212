// RUN: leibniz-opt %s --lz-interpret='entry=matmul args=[[1,2],[3,4],[5,6]];[[1,0,-1],[2,1,0]]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=MATMUL
// RUN: leibniz-opt %s --lz-interpret='entry=generic args=[[1,2,3],[4,5,6]]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=GENERIC
// RUN: leibniz-opt %s --lz-interpret='entry=named args=[[1,2,3],[4,5,6]]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=NAMED
// RUN: not leibniz-opt %s --lz-interpret='entry=out_of_bounds args=[1,2,3]' -o /dev/null 2>&1 | FileCheck %s --check-prefix=OOB

// linalg structured ops on tensors, as the lowering of lz produces them.

// The named matmul accumulates into its init: C = 0 + A B.
// MATMUL:      {{\[\[}} 5.  2. -1.]
// MATMUL-NEXT:  [11.  4. -3.]
// MATMUL-NEXT:  [17.  6. -5.]]
func.func @matmul(%A: tensor<?x?xf64>, %B: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %A, %c0 : tensor<?x?xf64>
  %n = tensor.dim %B, %c1 : tensor<?x?xf64>
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty(%m, %n) : tensor<?x?xf64>
  %init = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %C = linalg.matmul ins(%A, %B : tensor<?x?xf64>, tensor<?x?xf64>) outs(%init : tensor<?x?xf64>) -> tensor<?x?xf64>
  return %C : tensor<?x?xf64>
}

// Row sums by a reduction, and i * 10 + j by linalg.index.
// GENERIC:      [ 6. 15.]
// GENERIC-NEXT: {{\[\[}} 0  1  2]
// GENERIC-NEXT:  [10 11 12]]
#row = affine_map<(i, j) -> (i, j)>
#red = affine_map<(i, j) -> (i)>
func.func @generic(%x: tensor<2x3xf64>) -> (tensor<2xf64>, tensor<2x3xi64>) {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<2xf64>
  %init = linalg.fill ins(%zero : f64) outs(%e : tensor<2xf64>) -> tensor<2xf64>
  %s = linalg.generic {indexing_maps = [#row, #red], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<2x3xf64>) outs(%init : tensor<2xf64>) {
  ^bb0(%a: f64, %acc: f64):
    %sum = arith.addf %acc, %a : f64
    linalg.yield %sum : f64
  } -> tensor<2xf64>
  %ei = tensor.empty() : tensor<2x3xi64>
  %ten = arith.constant 10 : index
  %ij = linalg.generic {indexing_maps = [#row], iterator_types = ["parallel", "parallel"]}
      outs(%ei : tensor<2x3xi64>) {
  ^bb0(%out: i64):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %i10 = arith.muli %i, %ten : index
    %v = arith.addi %i10, %j : index
    %vi = arith.index_cast %v : index to i64
    linalg.yield %vi : i64
  } -> tensor<2x3xi64>
  return %s, %ij : tensor<2xf64>, tensor<2x3xi64>
}

// NAMED:      {{\[\[}}1. 4.]
// NAMED-NEXT:  [2. 5.]
// NAMED-NEXT:  [3. 6.]]
// NAMED-NEXT: {{\[\[}} 2.  4.  6.]
// NAMED-NEXT:  [ 8. 10. 12.]]
// NAMED-NEXT: [5. 7. 9.]
func.func @named(%x: tensor<2x3xf64>) -> (tensor<3x2xf64>, tensor<2x3xf64>, tensor<3xf64>) {
  %et = tensor.empty() : tensor<3x2xf64>
  %t = linalg.transpose ins(%x : tensor<2x3xf64>) outs(%et : tensor<3x2xf64>) permutation = [1, 0]
  %em = tensor.empty() : tensor<2x3xf64>
  %d = linalg.map { arith.addf } ins(%x, %x : tensor<2x3xf64>, tensor<2x3xf64>) outs(%em : tensor<2x3xf64>)
  %zero = arith.constant 0.0 : f64
  %er = tensor.empty() : tensor<3xf64>
  %init = linalg.fill ins(%zero : f64) outs(%er : tensor<3xf64>) -> tensor<3xf64>
  %r = linalg.reduce { arith.addf } ins(%x : tensor<2x3xf64>) outs(%init : tensor<3xf64>) dimensions = [0]
  return %t, %d, %r : tensor<3x2xf64>, tensor<2x3xf64>, tensor<3xf64>
}

// Reads through an indexing map are bounds-checked.
// OOB: linalg.mlir:[[@LINE+7]]:8: error: run-time error: operand #0 is read out of bounds: index 3 in dimension 0 of size 3
#shift = affine_map<(i) -> (i + 1)>
#id = affine_map<(i) -> (i)>
func.func @out_of_bounds(%x: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n) : tensor<?xf64>
  %s = linalg.generic {indexing_maps = [#shift, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<?xf64>) outs(%e : tensor<?xf64>) {
  ^bb0(%a: f64, %o: f64):
    linalg.yield %a : f64
  } -> tensor<?xf64>
  return %s : tensor<?xf64>
}

// Operands whose sizes disagree with the iteration space are reported.
// RUN: not leibniz-opt %s --lz-interpret='entry=mismatch args=[1,2,3];[1,2,3,4]' -o /dev/null 2>&1 | FileCheck %s --check-prefix=MISMATCH
// MISMATCH: linalg.mlir:[[@LINE+2]]:8: error: run-time error: operand #1 has size 4 in dimension 0, but loop d0 has range 3
func.func @mismatch(%x: tensor<?xf64>, %y: tensor<?xf64>) -> tensor<?xf64> {
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<?xf64>) outs(%y : tensor<?xf64>) {
  ^bb0(%a: f64, %o: f64):
    linalg.yield %a : f64
  } -> tensor<?xf64>
  return %s : tensor<?xf64>
}
