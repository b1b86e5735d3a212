// RUN: leibniz-opt %s --lz-interpret='entry=f32_rounding' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=F32
// RUN: leibniz-opt %s --lz-interpret='entry=int_wrap args=100;100' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=WRAP
// RUN: leibniz-opt %s --lz-interpret='entry=elementwise args=[0,1,4];[2,-2,0.5]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=ELT
// RUN: leibniz-opt %s --lz-interpret='entry=casts args=-2.75' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=CAST
// RUN: leibniz-opt %s --lz-interpret='entry=division args=-7;2' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=DIV

// f32 arithmetic rounds to single precision at every step: (1 + 2^-24) is a
// tie that rounds to 1, and adding 2^-24 again gives 1 again; rounding only
// at the end would give 1 + 2^-23. In f64 the same sum is exact.
// F32:      1.0
// F32-NEXT: 1.0000000596046448
func.func @f32_rounding() -> (f32, f64) {
  %one = arith.constant 1.0 : f32
  %tiny = arith.constant 5.9604644775390625e-08 : f32
  %a = arith.addf %one, %tiny : f32
  %b = arith.addf %a, %tiny : f32
  %one64 = arith.constant 1.0 : f64
  %tiny64 = arith.constant 2.98023223876953125e-08 : f64
  %c = arith.addf %one64, %tiny64 : f64
  %d = arith.addf %c, %tiny64 : f64
  return %b, %d : f32, f64
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
