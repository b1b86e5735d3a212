// Conversions round once, as upstream folds them.

// i64 -> f32 directly: 2^60 + 2^36 + 1 rounds up to the next f32 above
// 2^60 + 2^36 (through double it would land on the tie and round to even).
// RUN: leibniz-opt %s --lz-interpret='entry=sitofp args=1152921573326323713' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=SITOFP
// SITOFP: 1568669697
func.func @sitofp(%x: i64) -> i32 {
  %f = arith.sitofp %x : i64 to f32
  %bits = arith.bitcast %f : f32 to i32
  return %bits : i32
}

// truncf honours its rounding mode.
// RUN: leibniz-opt %s --lz-interpret='entry=truncf args=1.00000005' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=TRUNCF
// TRUNCF:      1.0
// TRUNCF-NEXT: 1.0000001
// TRUNCF-NEXT: 1.0
func.func @truncf(%x: f64) -> (f32, f32, f32) {
  %n = arith.truncf %x : f64 to f32
  %u = arith.truncf %x to_nearest_even : f64 to f32
  %d = arith.truncf %x downward : f64 to f32
  %up = arith.truncf %x upward : f64 to f32
  return %n, %up, %d : f32, f32, f32
}

// An unsigned scf.for on i8 runs from 0 to 200.
// RUN: leibniz-opt %s --lz-interpret='entry=unsigned_for' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=UFOR
// UFOR: 200
func.func @unsigned_for() -> i64 {
  %lb = arith.constant 0 : i8
  %ub = arith.constant 200 : i8
  %step = arith.constant 1 : i8
  %zero = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %n = scf.for unsigned %i = %lb to %ub step %step iter_args(%acc = %zero) -> i64 : i8 {
    %next = arith.addi %acc, %one : i64
    scf.yield %next : i64
  }
  return %n : i64
}

// A reduction over one point is that point's value, -0.0 included; only an
// empty iteration space gives the identity (+0.0 for a sum, as NumPy).
// RUN: leibniz-opt %s --lz-interpret='entry=signed_zero args=[-0.0]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=ZERO
// RUN: leibniz-opt %s --canonicalize --lz-interpret='entry=signed_zero args=[-0.0]' -o /dev/null | FileCheck %s --match-full-lines --check-prefix=ZERO
// ZERO:      -0.0
// ZERO-NEXT: 0.0
func.func @signed_zero(%x: tensor<1xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = lz.sum %i < %c1 : f64 {
    %e = lz.get %x[%i] : tensor<1xf64>
    lz.yield %e : f64
  }
  %z = lz.sum %i < %c0 : f64 {
    %e = lz.get %x[%i] : tensor<1xf64>
    lz.yield %e : f64
  }
  return %s, %z : f64, f64
}
