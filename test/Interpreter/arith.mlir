// RUN: leibniz-opt %s --lz-interpret='entry=f32_rounding' -o /dev/null | FileCheck %s --check-prefix=F32
// RUN: leibniz-opt %s --lz-interpret='entry=int_wrap args=100;100' -o /dev/null | FileCheck %s --check-prefix=WRAP
// RUN: leibniz-opt %s --lz-interpret='entry=elementwise args=[0,1,4];[2,-2,0.5]' -o /dev/null | FileCheck %s --check-prefix=ELT
// RUN: leibniz-opt %s --lz-interpret='entry=casts args=-2.75' -o /dev/null | FileCheck %s --check-prefix=CAST
// RUN: leibniz-opt %s --lz-interpret='entry=division args=-7;2' -o /dev/null | FileCheck %s --check-prefix=DIV

// f32 arithmetic is single precision at every step: 0.1f + 0.2f is
// 0.3f (shortest f32 digits), while in f64 it is 0.30000000000000004.
// F32:      0.3
// F32-NEXT: 0.30000000000000004
func.func @f32_rounding() -> (f32, f64) {
  %a = arith.constant 0.1 : f32
  %b = arith.constant 0.2 : f32
  %s = arith.addf %a, %b : f32
  %c = arith.constant 0.1 : f64
  %d = arith.constant 0.2 : f64
  %t = arith.addf %c, %d : f64
  return %s, %t : f32, f64
}

// i8 arithmetic wraps: 100 + 100 = -56.
// WRAP: -56
func.func @int_wrap(%a: i8, %b: i8) -> i8 {
  %s = arith.addi %a, %b : i8
  return %s : i8
}

// arith and math act elementwise on tensors.
// ELT:      [0. 1. 2.]
// ELT-NEXT: [ 4.  -1.   4.5]
// ELT-NEXT: [False  True  True]
func.func @elementwise(%x: tensor<3xf64>, %y: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>, tensor<3xi1>) {
  %r = math.sqrt %x : tensor<3xf64>
  %m = arith.maximumf %x, %y : tensor<3xf64>
  %mm = arith.addf %m, %y : tensor<3xf64>
  %c = arith.cmpf olt, %y, %x : tensor<3xf64>
  return %r, %mm, %c : tensor<3xf64>, tensor<3xf64>, tensor<3xi1>
}

// CAST:      -2
// CAST-NEXT: -3.0
// CAST-NEXT: -2.0
func.func @casts(%x: f64) -> (i64, f64, f64) {
  %i = arith.fptosi %x : f64 to i64
  %f = math.floor %x : f64
  %t = math.trunc %x : f64
  return %i, %f, %t : i64, f64, f64
}

// Signed division truncates; floordivsi rounds down; remsi keeps the sign.
// DIV:      -3
// DIV-NEXT: -4
// DIV-NEXT: -1
func.func @division(%a: i64, %b: i64) -> (i64, i64, i64) {
  %q = arith.divsi %a, %b : i64
  %f = arith.floordivsi %a, %b : i64
  %r = arith.remsi %a, %b : i64
  return %q, %f, %r : i64, i64, i64
}
