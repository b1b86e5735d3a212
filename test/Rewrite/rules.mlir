// Each rule at work, applied wherever it matches (normalize(rule)).
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(fuse-for-get)' | FileCheck %s --check-prefix=FUSE
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(for-size)' | FileCheck %s --check-prefix=SIZE
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(tuple-proj)' | FileCheck %s --check-prefix=PROJ
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(add-zero <+ mul-one <+ mul-zero-int)' | FileCheck %s --check-prefix=RING
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(dce)' | FileCheck %s --check-prefix=DCE

// FUSE-LABEL: func.func @fuse
// FUSE-SAME: (%[[X:.*]]: tensor<?xf64>, %[[N:.*]]: index, %[[J:.*]]: index)
// FUSE-NOT: lz.get %{{.*}}[%[[J]]] : tensor<?xf64>{{$}}
// FUSE: %[[E:.*]] = lz.get %[[X]][%[[J]]]
// FUSE: %[[T:.*]] = arith.mulf %[[E]], %[[E]]
// FUSE: return %[[T]]
// SIZE-LABEL: func.func @fuse
// SIZE: lz.get %{{.*}}[%{{.*}}]
func.func @fuse(%x: tensor<?xf64>, %n: index, %j: index) -> f64 {
  %sq = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = arith.mulf %e, %e : f64
    lz.yield %s : f64
  }
  %r = lz.get %sq[%j] : tensor<?xf64>
  return %r : f64
}

// -----

// SIZE-LABEL: func.func @size
// SIZE-SAME: (%[[X:.*]]: tensor<?xf64>, %[[N:.*]]: index)
// SIZE: return %[[N]]
func.func @size(%x: tensor<?xf64>, %n: index) -> index {
  %c0 = arith.constant 0 : index
  %sq = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    lz.yield %e : f64
  }
  %d = tensor.dim %sq, %c0 : tensor<?xf64>
  return %d : index
}

// -----

// PROJ-LABEL: func.func @proj
// PROJ-SAME: (%[[A:.*]]: f64, %[[B:.*]]: i64)
// PROJ: return %[[B]]
func.func @proj(%a: f64, %b: i64) -> i64 {
  %t = lz.tuple(%a, %b : f64, i64)
  %p = lz.proj %t[1] : tuple<f64, i64>
  return %p : i64
}

// -----

// Only the exact identities: x + 0.0 stays (it turns -0.0 into +0.0), and
// so does float x * 0.0 (NaN and infinities).
// RING-LABEL: func.func @ring
// RING-SAME: (%[[X:.*]]: f64, %[[K:.*]]: i64)
// RING-DAG: %[[PZ:.*]] = arith.constant 0.000000e+00 : f64
// RING-DAG: %[[IZ:.*]] = arith.constant 0 : i64
// RING: %[[A:.*]] = arith.addf %[[X]], %[[PZ]]
// RING: %[[M:.*]] = arith.mulf %[[A]], %[[PZ]]
// RING: return %[[M]], %[[IZ]]
func.func @ring(%x: f64, %k: i64) -> (f64, i64) {
  %nz = arith.constant -0.0 : f64
  %pz = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %i0 = arith.constant 0 : i64
  %i1 = arith.constant 1 : i64
  %a = arith.addf %x, %nz : f64
  %b = arith.mulf %one, %a : f64
  %c = arith.divf %b, %one : f64
  %d = arith.subf %c, %pz : f64
  %e = arith.addf %d, %pz : f64
  %f = arith.mulf %e, %pz : f64
  %g = arith.muli %k, %i1 : i64
  %h = arith.addi %i0, %g : i64
  %z = arith.muli %h, %i0 : i64
  return %f, %z : f64, i64
}

// -----

// DCE-LABEL: func.func @dead
// DCE-NEXT: return %arg0
func.func @dead(%x: f64, %n: index) -> f64 {
  %unused = arith.mulf %x, %x : f64
  %t = lz.for %i < %n : tensor<?xf64> {
    lz.yield %x : f64
  }
  return %x : f64
}
