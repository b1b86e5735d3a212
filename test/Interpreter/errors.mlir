// Run-time errors of the interpreter are located diagnostics and fail the
// pass (exit status 1), never a crash.

// RUN: not leibniz-opt %s --lz-interpret='entry=read args=[1,2,3];3' -o /dev/null 2>&1 | FileCheck %s --check-prefix=OOB
// OOB: errors.mlir:[[@LINE+3]]:8: error: run-time error: index 3 is out of bounds for dimension 0 of size 3
// OOB-NOT: Stack dump
func.func @read(%x: tensor<?xf64>, %i: index) -> f64 {
  %e = lz.get %x[%i] : tensor<?xf64>
  return %e : f64
}

// RUN: not leibniz-opt %s --lz-interpret='entry=divide args=1;0' -o /dev/null 2>&1 | FileCheck %s --check-prefix=DIV
// DIV: errors.mlir:[[@LINE+2]]:8: error: run-time error: integer division by zero
func.func @divide(%a: i64, %b: i64) -> i64 {
  %q = arith.divsi %a, %b : i64
  return %q : i64
}

// RUN: not leibniz-opt %s --lz-interpret='entry=negative_range args=-2' -o /dev/null 2>&1 | FileCheck %s --check-prefix=RANGE
// RANGE: errors.mlir:[[@LINE+3]]:8: error: run-time error: range -2 is negative
func.func @negative_range(%n: index) -> f64 {
  %x = arith.constant 1.0 : f64
  %s = lz.sum %i < %n : f64 {
    lz.yield %x : f64
  }
  return %s : f64
}

// An error inside a call points at the failing op and notes the call site.
// RUN: not leibniz-opt %s --lz-interpret='entry=caller args=[1,2]' -o /dev/null 2>&1 | FileCheck %s --check-prefix=CALL
// CALL: errors.mlir:{{[0-9]+}}:8: error: run-time error: index 5 is out of bounds
// CALL: errors.mlir:[[@LINE+3]]:8: note: called from here
func.func @caller(%x: tensor<?xf64>) -> f64 {
  %c5 = arith.constant 5 : index
  %e = func.call @read(%x, %c5) : (tensor<?xf64>, index) -> f64
  return %e : f64
}

// Dynamic sizes that contradict a static result type are caught.
// RUN: not leibniz-opt %s --lz-interpret='entry=shape_mismatch args=3' -o /dev/null 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: errors.mlir:[[@LINE+3]]:8: error: run-time error: result has size 3 in dimension 0 but its type 'tensor<4xf64>' says 4
func.func @shape_mismatch(%n: index) -> tensor<4xf64> {
  %x = arith.constant 1.0 : f64
  %t = lz.for %i < %n : tensor<4xf64> {
    lz.yield %x : f64
  }
  return %t : tensor<4xf64>
}

// RUN: not leibniz-opt %s --lz-interpret='entry=unsupported args=8' -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOHANDLER
// NOHANDLER: errors.mlir:[[@LINE+2]]:8: error: run-time error: the interpreter does not support 'math.ctlz'
func.func @unsupported(%a: i64) -> i64 {
  %c = math.ctlz %a : i64
  return %c : i64
}

// Bad pass options are errors too.
// RUN: not leibniz-opt %s --lz-interpret='entry=nope' -o /dev/null 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: error: lz-interpret: no function named 'nope'
// RUN: not leibniz-opt %s --lz-interpret='entry=divide args=1' -o /dev/null 2>&1 | FileCheck %s --check-prefix=ARITY
// ARITY: error: lz-interpret: 'divide' takes 2 arguments, but 'args' gives 1
// RUN: not leibniz-opt %s --lz-interpret='entry=read args=[1,2;0' -o /dev/null 2>&1 | FileCheck %s --check-prefix=LITERAL
// LITERAL: error: lz-interpret: argument #0: expected ',' or ']' at column 5
// RUN: not leibniz-opt %s --lz-interpret='entry=shape_mismatch args=1.5' -o /dev/null 2>&1 | FileCheck %s --check-prefix=TYPE
// TYPE: error: lz-interpret: argument #0: expected an integer of type 'index', got '1.5'

// Sizes that would exhaust memory are errors before anything is allocated.
// RUN: not leibniz-opt %s --lz-interpret='entry=huge_fill args=1000000000000' -o /dev/null 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: errors.mlir:[[@LINE+3]]:8: error: run-time error: a tensor of shape [1000000000000, 2] has more than 268435456 elements
func.func @huge_fill(%n: index) -> tensor<?x2xf64> {
  %x = arith.constant 1.0 : f64
  %t = lz.fill %x, %n : tensor<?x2xf64>
  return %t : tensor<?x2xf64>
}

// RUN: not leibniz-opt %s --lz-interpret='entry=huge_fill args=-1' -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEGFILL
// NEGFILL: errors.mlir:[[@LINE-5]]:8: error: run-time error: size -1 is negative

// RUN: not leibniz-opt %s --lz-interpret='entry=read dynamic-size=-1' -o /dev/null 2>&1 | FileCheck %s --check-prefix=DYNSIZE
// DYNSIZE: error: lz-interpret: argument #0: random values of type 'tensor<?xf64>' with dynamic size -1 would have a negative size, too many elements or a rank above 64

// RUN: not leibniz-opt %s --lz-interpret='entry=read args=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]];0' -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: error: lz-interpret: argument #0: literal nests deeper than 64

// Values the interpreter cannot represent are reported, not misread.
// RUN: not leibniz-opt %s --lz-interpret='entry=wide' -o /dev/null 2>&1 | FileCheck %s --check-prefix=WIDE
// WIDE: errors.mlir:[[@LINE+2]]:8: error: run-time error: the interpreter does not support values of type 'tensor<2xi128>'
func.func @wide() -> tensor<2xi128> {
  %c = arith.constant dense<1> : tensor<2xi128>
  return %c : tensor<2xi128>
}

// Float types other than f16, bf16, f32 and f64 are not computed in double.
// RUN: not leibniz-opt %s --lz-interpret='entry=quad' -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUAD
// QUAD: errors.mlir:[[@LINE+2]]:8: error: run-time error: the interpreter does not support values of type 'f128'
func.func @quad() -> f128 {
  %c = arith.constant 1.0 : f128
  return %c : f128
}

// Constants and concatenations too large to hold are errors.
// RUN: not leibniz-opt %s --lz-interpret='entry=big_constant' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BIGCONST
// BIGCONST: errors.mlir:[[@LINE+2]]:8: error: run-time error: a tensor of shape [100000, 100000] has more than 268435456 elements
func.func @big_constant() -> tensor<100000x100000xf64> {
  %c = arith.constant dense<1.0> : tensor<100000x100000xf64>
  return %c : tensor<100000x100000xf64>
}

// RUN: not leibniz-opt %s --lz-interpret='entry=slice_overflow args=[1,2,3,4,5,6,7,8];4611686018427387905' -o /dev/null 2>&1 | FileCheck %s --check-prefix=SLICE
// SLICE: errors.mlir:[[@LINE+2]]:8: error: run-time error: slice [0, size 5, stride 4611686018427387905] is out of bounds for dimension 0 of size 8
func.func @slice_overflow(%x: tensor<8xf64>, %s: index) -> tensor<5xf64> {
  %r = tensor.extract_slice %x[0] [5] [%s] : tensor<8xf64> to tensor<5xf64>
  return %r : tensor<5xf64>
}

// A loop's tensor state keeps its sizes (rewrite rules read them from its
// initial value): a step that changes them is an error.
// RUN: not leibniz-opt %s --lz-interpret='entry=growing args=[1.0,2.0]' -o /dev/null 2>&1 | FileCheck %s --check-prefix=GROW
// GROW: errors.mlir:[[@LINE+5]]:8: error: run-time error: the loop's state 0 changes its sizes from [2] to [3]; a loop's tensor state keeps its sizes
func.func @growing(%x: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %r = lz.loop %t < %c2 iter_args(%s = %x) : tensor<?xf64> {
    %n = tensor.dim %s, %c0 : tensor<?xf64>
    %m = arith.addi %n, %c1 : index
    %g = lz.for %i < %m : tensor<?xf64> {
      %v = arith.constant 0.0 : f64
      lz.yield %v : f64
    }
    lz.yield %g : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}
