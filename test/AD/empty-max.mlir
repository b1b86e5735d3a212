// The maximum over no points is -inf, a constant: its tangent is 0 (not
// 0/0). With two points, the tangent of the larger one.
// RUN: leibniz-opt %s --ad-forward --lz-interpret='entry=g args=[];[]' -o /dev/null | FileCheck %s --check-prefix=EMPTY
// EMPTY: -inf
// EMPTY-NEXT: 0.0
// RUN: leibniz-opt %s --ad-forward --lz-interpret='entry=g args=[1.0,3.0];[10.0,20.0]' -o /dev/null | FileCheck %s --check-prefix=TWO
// TWO: 3.0
// TWO-NEXT: 20.0

func.func @f(%x: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %m = lz.max %k < %n : f64 {
    %e = lz.get %x[%k] : tensor<?xf64>
    lz.yield %e : f64
  }
  return %m : f64
}
func.func @g(%x: tensor<?xf64>, %dx: tensor<?xf64>) -> (f64, f64) {
  %y, %dy = ad.jvp @f(%x) tangents(%dx) : (tensor<?xf64>, tensor<?xf64>) -> (f64, f64)
  return %y, %dy : f64, f64
}
