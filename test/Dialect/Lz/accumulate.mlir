// lz.accumulate: parsing and printing, its meaning in the interpreter, and
// the same results after lowering (sequential additions in point order).

// RUN: leibniz-opt %s | leibniz-opt | FileCheck %s --check-prefix=ROUND
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after
// RUN: FileCheck %s --input-file=%t.after
// RUN: not leibniz-opt %s --lz-interpret=entry=out_of_bounds -o /dev/null 2>&1 | FileCheck %s --check-prefix=OOB
// RUN: leibniz-opt %s --leibniz-cpu-to-llvm -o /dev/null

// ROUND-LABEL: func.func @histogram
// ROUND:       lz.accumulate %k < %{{.*}} into (%{{.*}}) : tensor<?xf64> {
// ROUND:         lz.yield %{{.*}}, %{{.*}} : index, f64

// The histogram of [2, 0, 2, 1, 2] weighted by [1, 2, 3, 4, 5].
// CHECK:      [2. 4. 9.]
func.func @histogram(%idx: tensor<?xindex>, %w: tensor<?xf64>, %m: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xindex>
  %h = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
    %j = lz.get %idx[%k] : tensor<?xindex>
    %v = lz.get %w[%k] : tensor<?xf64>
    lz.yield %j, %v : index, f64
  }
  return %h : tensor<?xf64>
}

// Rows of a 2x3 matrix: row i gets (i + 1) * [1, 1, 1] twice; an integer
// accumulation; no points at all.
// CHECK-NEXT: {{\[}}[2. 2. 2.]
// CHECK-NEXT:  [4. 4. 4.]]
// CHECK-NEXT: [0 0 6 0]
// CHECK-NEXT: [0. 0.]
func.func @main() -> (tensor<?xf64>, tensor<2x3xf64>, tensor<4xi64>, tensor<2xf64>) {
  %idx = arith.constant dense<[2, 0, 2, 1, 2]> : tensor<5xindex>
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0]> : tensor<5xf64>
  %idxd = tensor.cast %idx : tensor<5xindex> to tensor<?xindex>
  %wd = tensor.cast %w : tensor<5xf64> to tensor<?xf64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %h = func.call @histogram(%idxd, %wd, %c3) : (tensor<?xindex>, tensor<?xf64>, index) -> tensor<?xf64>
  %rows = lz.accumulate %k < %c2, %l < %c2 : tensor<2x3xf64> {
    %i = arith.index_cast %k : index to i64
    %f = arith.sitofp %i : i64 to f64
    %one = arith.constant 1.0 : f64
    %g = arith.addf %f, %one : f64
    %row = lz.fill %g : tensor<3xf64>
    lz.yield %k, %row : index, tensor<3xf64>
  }
  %ints = lz.accumulate %k < %c3 : tensor<4xi64> {
    %two = arith.constant 2 : i64
    lz.yield %c2, %two : index, i64
  }
  %none = lz.accumulate %k < %c0 : tensor<2xf64> {
    %x = arith.constant 1.0 : f64
    lz.yield %k, %x : index, f64
  }
  return %h, %rows, %ints, %none : tensor<?xf64>, tensor<2x3xf64>, tensor<4xi64>, tensor<2xf64>
}

// OOB: error: index 3 is out of bounds for dimension 0 of size 3
func.func @out_of_bounds() -> tensor<3xf64> {
  %c2 = arith.constant 2 : index
  %h = lz.accumulate %k < %c2 : tensor<3xf64> {
    %x = arith.constant 1.0 : f64
    %c3 = arith.constant 3 : index
    lz.yield %c3, %x : index, f64
  }
  return %h : tensor<3xf64>
}

// A masked accumulation: the points whose mask is false add nothing, and
// their (out-of-bounds) indices are not used. The lower triangle of ones
// below the diagonal of a 3x3 matrix, summed by rows: [0, 1, 2].
// RUN: leibniz-opt %s --lz-interpret=entry=masked -o /dev/null | FileCheck %s --check-prefix=MASKED
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=masked -o /dev/null | FileCheck %s --check-prefix=MASKED
// MASKED: [0. 1. 2.]
// A triangular mask (`l < k`) bounds the inner loop by the outer index
// instead of testing every point of the square.
// RUN: leibniz-opt %s --lower-lz | FileCheck %s --check-prefix=TRIANGLE
// TRIANGLE-LABEL: func.func @masked(
// TRIANGLE: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// TRIANGLE: %[[BOUND:.*]] = arith.minui %{{.*}}, %[[K]] : index
// TRIANGLE: scf.for %{{.*}} = %{{.*}} to %[[BOUND]] step
// TRIANGLE-NOT: scf.if
// TRIANGLE: return
func.func @masked() -> tensor<3xf64> {
  %c3 = arith.constant 3 : index
  %c7 = arith.constant 7 : index
  %h = lz.accumulate %k < %c3, %l < %c3 : tensor<3xf64> {
    %below = arith.cmpi ult, %l, %k : index
    %i = arith.select %below, %k, %c7 : index
    %one = arith.constant 1.0 : f64
    lz.yield %below, %i, %one : i1, index, f64
  } attributes {masked}
  return %h : tensor<3xf64>
}

// The lowering moves what does not depend on an inner index out of its
// loop; where an inner range is empty the scope has no points, and the
// moved read (out of bounds for k > 0) must not run.
// RUN: leibniz-opt %s --lower-lz --lz-interpret='entry=empty_inner args=0' -o /dev/null | FileCheck %s --check-prefix=EMPTY
// EMPTY: [0. 0. 0.]
func.func @empty_inner(%n: index) -> tensor<3xf64> {
  %c3 = arith.constant 3 : index
  %x = arith.constant dense<[2.0]> : tensor<1xf64>
  %h = lz.accumulate %k < %c3, %l < %n : tensor<3xf64> {
    %e = lz.get %x[%k] : tensor<1xf64>
    lz.yield %k, %e : index, f64
  }
  return %h : tensor<3xf64>
}
