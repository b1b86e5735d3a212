// RUN: leibniz-opt %s --lz-interpret='entry=f args=[[1,2,3],[4,5,6]]' -o /dev/null | FileCheck %s --match-full-lines

// The tensor ops that lowering produces before bufferization.

// CHECK:      {{\[\[}}0. 1. 2.]
// CHECK-NEXT:  [1. 2. 3.]]
// CHECK-NEXT: {{\[\[}}  1.   2.   3.]
// CHECK-NEXT:  [  4. 100.   6.]]
// CHECK-NEXT: [2. 5.]
// CHECK-NEXT: [1. 2. 3. 4. 5. 6.]
// CHECK-NEXT: {{\[\[}}1. 2. 3. 4. 5. 6.]]
// CHECK-NEXT: 6.0
func.func @f(%x: tensor<2x3xf64>) -> (tensor<2x3xf64>, tensor<2x3xf64>, tensor<2xf64>, tensor<6xf64>, tensor<1x6xf64>, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %g = tensor.generate {
  ^bb0(%i: index, %j: index):
    %s = arith.addi %i, %j : index
    %si = arith.index_cast %s : index to i64
    %f = arith.sitofp %si : i64 to f64
    tensor.yield %f : f64
  } : tensor<2x3xf64>
  %h = arith.constant 100.0 : f64
  %ins = tensor.insert %h into %x[%c1, %c1] : tensor<2x3xf64>
  %col = tensor.extract_slice %x[0, 1] [2, 1] [1, 1] : tensor<2x3xf64> to tensor<2xf64>
  %flat = tensor.collapse_shape %x [[0, 1]] : tensor<2x3xf64> into tensor<6xf64>
  %row = tensor.expand_shape %flat [[0, 1]] output_shape [1, 6] : tensor<6xf64> into tensor<1x6xf64>
  %last = tensor.extract %x[%c1, %c2] : tensor<2x3xf64>
  return %g, %ins, %col, %flat, %row, %last : tensor<2x3xf64>, tensor<2x3xf64>, tensor<2xf64>, tensor<6xf64>, tensor<1x6xf64>, f64
}
