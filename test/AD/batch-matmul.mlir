// The product rule of lz.batch_matmul, which the frontend does not emit:
// with the tangents (A, B), the tangent of A B is A B + A B.
// RUN: leibniz-opt %s --ad-forward --lz-interpret='entry=g args=[[[1.0,2.0],[3.0,4.0]],[[0.5,0.0],[1.0,-1.0]]];[[[1.0,0.0],[0.0,1.0]],[[2.0,1.0],[0.0,3.0]]]' -o /dev/null | FileCheck %s
// CHECK: {{\[\[\[}} 1.   2. ]
// CHECK-NEXT: {{\[}} 3.   4. ]]
// CHECK-EMPTY:
// CHECK-NEXT: {{\[\[}} 1.   0.5]
// CHECK-NEXT: {{\[}} 2.  -2. ]]]
// CHECK-NEXT: {{\[\[\[}} 2.  4.]
// CHECK-NEXT: {{\[}} 6.  8.]]
// CHECK-EMPTY:
// CHECK-NEXT: {{\[\[}} 2.  1.]
// CHECK-NEXT: {{\[}} 4. -4.]]]

func.func @f(%a: tensor<2x2x2xf64>, %b: tensor<2x2x2xf64>) -> tensor<2x2x2xf64> {
  %p = lz.batch_matmul %a, %b : tensor<2x2x2xf64>, tensor<2x2x2xf64> -> tensor<2x2x2xf64>
  return %p : tensor<2x2x2xf64>
}
func.func @g(%a: tensor<2x2x2xf64>, %b: tensor<2x2x2xf64>) -> (tensor<2x2x2xf64>, tensor<2x2x2xf64>) {
  %y, %dy = ad.jvp @f(%a, %b) tangents(%a, %b) : (tensor<2x2x2xf64>, tensor<2x2x2xf64>, tensor<2x2x2xf64>, tensor<2x2x2xf64>) -> (tensor<2x2x2xf64>, tensor<2x2x2xf64>)
  return %y, %dy : tensor<2x2x2xf64>, tensor<2x2x2xf64>
}
