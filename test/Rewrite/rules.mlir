// Each rule at work, applied wherever it matches (normalize(rule)).
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(fuse-for-get)' | FileCheck %s --check-prefix=FUSE
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(for-size)' | FileCheck %s --check-prefix=SIZE
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(tuple-proj)' | FileCheck %s --check-prefix=PROJ
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(add-zero <+ mul-one <+ mul-zero-int)' | FileCheck %s --check-prefix=RING
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(dce)' | FileCheck %s --check-prefix=DCE
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(hoist-invariant)' | FileCheck %s --check-prefix=HOIST
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(cse)' | FileCheck %s --check-prefix=CSE
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(if-constant)' | FileCheck %s --check-prefix=IF
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(sum-onehot)' | FileCheck %s --check-prefix=ONEHOT
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(for-fission) ; normalize(dce)' | FileCheck %s --check-prefix=FISSION
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(loop-dead-state <+ dce)' | FileCheck %s --check-prefix=DEAD
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(loop-sum-state)' | FileCheck %s --check-prefix=SUMSTATE
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(fuse-local-for-get)' | FileCheck %s --check-prefix=LOCAL
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(fuse-cheap-for-get)' | FileCheck %s --check-prefix=CHEAP
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(reuse-for-element) ; normalize(dce)' | FileCheck %s --check-prefix=REUSE
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='normalize(add-neg <+ mul-neg <+ mul-one <+ dce)' | FileCheck %s --check-prefix=NEG

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

// A product has its left operand's rows and its right operand's columns.
// SIZE-LABEL: func.func @product_size
// SIZE-SAME: (%[[A:.*]]: tensor<?x?xf64>, %[[B:.*]]: tensor<?x?xf64>, %[[P:.*]]: tensor<?x?x?xf64>, %[[Q:.*]]: tensor<?x?x?xf64>)
// SIZE-DAG: %[[C0:.*]] = arith.constant 0 : index
// SIZE-DAG: %[[C1:.*]] = arith.constant 1 : index
// SIZE-DAG: %[[C2:.*]] = arith.constant 2 : index
// SIZE-DAG: %[[ROWS:.*]] = tensor.dim %[[A]], %[[C0]]
// SIZE-DAG: %[[COLUMNS:.*]] = tensor.dim %[[B]], %[[C1]]
// SIZE-DAG: %[[BATCH:.*]] = tensor.dim %[[P]], %[[C0]]
// SIZE-DAG: %[[BROWS:.*]] = tensor.dim %[[P]], %[[C1]]
// SIZE-DAG: %[[BCOLUMNS:.*]] = tensor.dim %[[Q]], %[[C2]]
// SIZE: return %[[ROWS]], %[[COLUMNS]], %[[BATCH]], %[[BROWS]], %[[BCOLUMNS]]
func.func @product_size(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>, %p: tensor<?x?x?xf64>, %q: tensor<?x?x?xf64>) -> (index, index, index, index, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %m = lz.matmul %a, %b : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  %r = tensor.dim %m, %c0 : tensor<?x?xf64>
  %c = tensor.dim %m, %c1 : tensor<?x?xf64>
  %bm = lz.batch_matmul %p, %q : tensor<?x?x?xf64>, tensor<?x?x?xf64> -> tensor<?x?x?xf64>
  %bb = tensor.dim %bm, %c0 : tensor<?x?x?xf64>
  %br = tensor.dim %bm, %c1 : tensor<?x?x?xf64>
  %bc = tensor.dim %bm, %c2 : tensor<?x?x?xf64>
  return %r, %c, %bb, %br, %bc : index, index, index, index, index
}

// -----

// A read nested in more index variables than the traversal's elements:
// fuse-local-for-get computes two operations where they are read
// (@deeper_two) and reads three back (@deeper_three), unless they choose a
// one-hot value (@deeper_onehot); fuse-cheap-for-get fuses all three.
// LOCAL-LABEL: func.func @deeper_two
// LOCAL: %[[ROW:.*]] = lz.for
// LOCAL: lz.sum
// LOCAL-NOT: lz.get %[[ROW]]
// LOCAL: arith.negf
// LOCAL-LABEL: func.func @deeper_three
// LOCAL: %[[ROW:.*]] = lz.for
// LOCAL: lz.sum
// LOCAL-NEXT: lz.get %[[ROW]]
// LOCAL-LABEL: func.func @deeper_onehot
// LOCAL: %[[ROW:.*]] = lz.for
// LOCAL: lz.sum
// LOCAL-NOT: lz.get %[[ROW]]
// LOCAL: arith.select
// CHEAP-LABEL: func.func @deeper_three
// CHEAP: %[[ROW:.*]] = lz.for
// CHEAP: lz.sum
// CHEAP-NOT: lz.get %[[ROW]]
// CHEAP: arith.addf
func.func @deeper_two(%x: tensor<?x?xf64>, %y: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %row = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %y[%i] : tensor<?xf64>
    %f = arith.negf %e : f64
    %g = arith.mulf %f, %e : f64
    lz.yield %g : f64
  }
  %s = lz.sum %i < %n, %j < %m : f64 {
    %r = lz.get %row[%i] : tensor<?xf64>
    %e = lz.get %x[%i, %j] : tensor<?x?xf64>
    %p = arith.mulf %r, %e : f64
    lz.yield %p : f64
  }
  return %s : f64
}

func.func @deeper_three(%x: tensor<?x?xf64>, %y: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %row = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %y[%i] : tensor<?xf64>
    %f = arith.negf %e : f64
    %g = arith.mulf %f, %e : f64
    %h = arith.addf %g, %e : f64
    lz.yield %h : f64
  }
  %s = lz.sum %i < %n, %j < %m : f64 {
    %r = lz.get %row[%i] : tensor<?xf64>
    %e = lz.get %x[%i, %j] : tensor<?x?xf64>
    %p = arith.mulf %r, %e : f64
    lz.yield %p : f64
  }
  return %s : f64
}

func.func @deeper_onehot(%x: tensor<?x?xf64>, %y: tensor<?xf64>, %k: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %row = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %y[%i] : tensor<?xf64>
    %f = arith.negf %e : f64
    %g = arith.mulf %f, %e : f64
    %is = arith.cmpi eq, %i, %k : index
    %h = arith.select %is, %g, %zero : f64
    lz.yield %h : f64
  }
  %s = lz.sum %i < %n, %j < %m : f64 {
    %r = lz.get %row[%i] : tensor<?xf64>
    %e = lz.get %x[%i, %j] : tensor<?x?xf64>
    %p = arith.mulf %r, %e : f64
    lz.yield %p : f64
  }
  return %s : f64
}

// -----

// An expression equal to an element of an earlier traversal, at points of
// scopes over the same ranges in another order, reads it (@reuse); not
// over other ranges (@other_range), nor a traversal in a loop's step
// (@in_step); nor where the expressions differ, or the traversal does not
// give every index (@not_equal: other flags, a call, integers, an index
// variable the element does not use, a traversal after the scope).
// REUSE-LABEL: func.func @reuse
// REUSE: %[[T:.*]] = lz.for %[[I:.*]] < %{{.*}}, %[[J:.*]] < %{{.*}} : tensor<?x?xf64>
// REUSE: lz.sum %[[K:.*]] < %{{.*}}, %[[L:.*]] < %{{.*}} : f64
// REUSE-NEXT: %[[E:.*]] = lz.get %[[T]][%[[L]], %[[K]]]
// REUSE-NEXT: lz.yield %[[E]]
// REUSE-LABEL: func.func @other_range
// REUSE: lz.sum
// REUSE-NEXT: lz.get %arg0
// REUSE-LABEL: func.func @not_equal
// REUSE-NOT: lz.get %{{[0-9]+}}[
// REUSE: lz.get %{{[0-9]+}}[%c0]
// REUSE-NEXT: return
// REUSE-LABEL: func.func @in_step
// REUSE: lz.loop %{{.*}} iter_args(%[[S:[^ ]*]] =
// REUSE: lz.for
// REUSE: lz.for
// REUSE-NEXT: %[[E:.*]] = lz.get %[[S]][%{{.*}}]
// REUSE-NEXT: arith.mulf %[[E]], %[[E]]
func.func @reuse(%x: tensor<?x?xf64>, %a: f64) -> (tensor<?x?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %t = lz.for %i < %n, %j < %m : tensor<?x?xf64> {
    %e = lz.get %x[%i, %j] : tensor<?x?xf64>
    %f = arith.mulf %e, %a : f64
    %g = arith.addf %f, %e : f64
    lz.yield %g : f64
  }
  %s = lz.sum %k < %m, %l < %n : f64 {
    %e = lz.get %x[%l, %k] : tensor<?x?xf64>
    %f = arith.mulf %e, %a : f64
    %g = arith.addf %f, %e : f64
    lz.yield %g : f64
  }
  return %t, %s : tensor<?x?xf64>, f64
}

func.func @other_range(%x: tensor<?xf64>, %a: f64, %k: index) -> (tensor<?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %t = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = arith.mulf %e, %a : f64
    lz.yield %f : f64
  }
  %s = lz.sum %i < %k : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = arith.mulf %e, %a : f64
    lz.yield %f : f64
  }
  return %t, %s : tensor<?xf64>, f64
}

func.func private @g(f64) -> f64

func.func @not_equal(%x: tensor<?xf64>, %y: tensor<?x?xf64>, %a: f64) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xi64>, tensor<?x?xf64>, f64, f64, i64, f64, f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %m = tensor.dim %y, %c1 : tensor<?x?xf64>
  %t = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = arith.mulf %e, %a fastmath<reassoc> : f64
    lz.yield %f : f64
  }
  %c = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = func.call @g(%e) : (f64) -> f64
    %h = arith.addf %f, %e : f64
    lz.yield %h : f64
  }
  %k = lz.for %i < %n : tensor<?xi64> {
    %e = arith.index_cast %i : index to i64
    %f = arith.addi %e, %e : i64
    lz.yield %f : i64
  }
  %u = lz.for %i < %n, %j < %m : tensor<?x?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = arith.mulf %e, %e : f64
    lz.yield %f : f64
  }
  %s1 = lz.sum %i < %n : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = arith.mulf %e, %a : f64
    lz.yield %f : f64
  }
  %s2 = lz.sum %i < %n : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = func.call @g(%e) : (f64) -> f64
    %h = arith.addf %f, %e : f64
    lz.yield %h : f64
  }
  %s3 = lz.sum %i < %n : i64 {
    %e = arith.index_cast %i : index to i64
    %f = arith.addi %e, %e : i64
    lz.yield %f : i64
  }
  %s4 = lz.sum %i < %n : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = arith.mulf %e, %e : f64
    lz.yield %f : f64
  }
  %s5 = lz.sum %i < %n : f64 {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = arith.subf %e, %a : f64
    lz.yield %f : f64
  }
  %after = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %f = arith.subf %e, %a : f64
    lz.yield %f : f64
  }
  %r = lz.get %after[%c0] : tensor<?xf64>
  return %t, %c, %k, %u, %s1, %s2, %s3, %s4, %s5, %r : tensor<?xf64>, tensor<?xf64>, tensor<?xi64>, tensor<?x?xf64>, f64, f64, i64, f64, f64, f64
}

func.func @in_step(%x0: tensor<?xf64>, %steps: index) -> (tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %r:2 = lz.loop %t < %steps iter_args(%x = %x0, %y = %x0) : tensor<?xf64>, tensor<?xf64> {
    %sq = lz.for %i < %n : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %f = arith.mulf %e, %e : f64
      lz.yield %f : f64
    }
    %next = lz.for %i < %n : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %f = arith.mulf %e, %e : f64
      %g = arith.subf %e, %f : f64
      lz.yield %g : f64
    }
    lz.yield %next, %sq : tensor<?xf64>, tensor<?xf64>
  }
  return %r#0, %r#1 : tensor<?xf64>, tensor<?xf64>
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

// -----

// HOIST-LABEL: func.func @hoist
// HOIST-SAME: (%[[X:.*]]: tensor<?xf64>, %[[A:.*]]: f64, %[[N:.*]]: index)
// HOIST: %[[S:.*]] = arith.mulf %[[A]], %{{.*}} : f64
// HOIST: lz.for
// HOIST: lz.get %[[X]]
// HOIST: arith.addf %{{.*}}, %[[S]]
// A read can fail (out of bounds): it stays, even when invariant.
// HOIST: lz.sum
// HOIST-NEXT: lz.get %[[X]][%{{.*}}]
// HOIST: lz.yield
func.func @hoist(%x: tensor<?xf64>, %a: f64, %n: index) -> (tensor<?xf64>, f64) {
  %t = lz.for %i < %n : tensor<?xf64> {
    %two = arith.constant 2.0 : f64
    %s = arith.mulf %a, %two : f64
    %e = lz.get %x[%i] : tensor<?xf64>
    %r = arith.addf %e, %s : f64
    lz.yield %r : f64
  }
  %c0 = arith.constant 0 : index
  %u = lz.sum %i < %n : f64 {
    %e = lz.get %x[%c0] : tensor<?xf64>
    lz.yield %e : f64
  }
  return %t, %u : tensor<?xf64>, f64
}

// -----

// CSE-LABEL: func.func @cse
// CSE: %[[P:.*]] = arith.mulf %arg0, %arg1
// CSE-NEXT: arith.addf %[[P]], %[[P]]
// CSE: lz.for
// CSE-NEXT: lz.yield %[[P]]
// Reads and divisions too: the first one already ran.
// CSE: %[[E:.*]] = lz.get %arg3[%arg2]
// CSE-NEXT: %[[D:.*]] = arith.divsi %arg4, %arg4
// CSE-NEXT: return %{{.*}}, %{{.*}}, %[[E]], %[[E]], %[[D]], %[[D]]
func.func @cse(%a: f64, %b: f64, %n: index, %x: tensor<?xf64>, %k: i64) -> (f64, tensor<?xf64>, f64, f64, i64, i64) {
  %p = arith.mulf %a, %b : f64
  %q = arith.mulf %a, %b : f64
  %r = arith.addf %p, %q : f64
  %t = lz.for %i < %n : tensor<?xf64> {
    %s = arith.mulf %a, %b : f64
    lz.yield %s : f64
  }
  %e1 = lz.get %x[%n] : tensor<?xf64>
  %e2 = lz.get %x[%n] : tensor<?xf64>
  %d1 = arith.divsi %k, %k : i64
  %d2 = arith.divsi %k, %k : i64
  return %r, %t, %e1, %e2, %d1, %d2 : f64, tensor<?xf64>, f64, f64, i64, i64
}

// -----

// IF-LABEL: func.func @if
// IF-NOT: scf.if
// IF: %[[M:.*]] = arith.mulf %arg0, %arg0
// IF: return %[[M]]
func.func @if(%a: f64) -> f64 {
  %true = arith.constant true
  %r = scf.if %true -> (f64) {
    %s = arith.mulf %a, %a : f64
    scf.yield %s : f64
  } else {
    scf.yield %a : f64
  }
  return %r : f64
}

// -----

// A sum over a one-hot vector is its one point, if it is in range; with
// +0.0 as the zero, a(j) + 0.0 when there are other points.
// ONEHOT-LABEL: func.func @onehot
// ONEHOT-SAME: (%[[X:.*]]: tensor<?xf64>, %[[J:.*]]: i64)
// ONEHOT-NOT: lz.sum
// ONEHOT: %[[IN:.*]] = arith.andi
// ONEHOT: scf.if %[[IN]] -> (f64) {
// ONEHOT:   %[[JI:.*]] = arith.index_cast %[[J]] : i64 to index
// ONEHOT:   %[[E:.*]] = lz.get %[[X]][%[[JI]]]
// ONEHOT:   %[[PLUS:.*]] = arith.addf %[[E]], %{{.*}}
// ONEHOT:   arith.select %{{.*}}, %[[E]], %[[PLUS]]
// ONEHOT: } else {
// ONEHOT:   arith.constant 0.000000e+00 : f64
func.func @onehot(%x: tensor<?xf64>, %j: i64) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %kk = arith.index_cast %k : index to i64
    %hit = arith.cmpi eq, %kk, %j : i64
    %v = scf.if %hit -> (f64) {
      %e = lz.get %x[%k] : tensor<?xf64>
      scf.yield %e : f64
    } else {
      %z = arith.constant 0.0 : f64
      scf.yield %z : f64
    }
    lz.yield %v : f64
  }
  return %s : f64
}

// -----

// FISSION-LABEL: func.func @fission
// FISSION: %[[A:.*]] = lz.for %{{.*}} < %{{.*}} : tensor<?xf64> {
// FISSION:   arith.mulf
// FISSION: %[[B:.*]] = lz.for %{{.*}} < %{{.*}} : tensor<?xi64> {
// FISSION-NOT: arith.mulf
// FISSION:   arith.index_cast
// FISSION: return %[[A]], %[[B]]
func.func @fission(%x: tensor<?xf64>, %n: index) -> (tensor<?xf64>, tensor<?xi64>) {
  %a, %b = lz.for %i < %n : tensor<?xf64>, tensor<?xi64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = arith.mulf %e, %e : f64
    %k = arith.index_cast %i : index to i64
    lz.yield %s, %k : f64, i64
  }
  return %a, %b : tensor<?xf64>, tensor<?xi64>
}

// -----

// The third state value feeds only itself: it goes. The first feeds the
// second, which is used: both stay.
// DEAD-LABEL: func.func @dead_state
// DEAD: %[[R:.*]]:2 = lz.loop %{{.*}} < %{{.*}} iter_args(%[[A:.*]] = %arg0, %[[B:.*]] = %arg0) : f64, f64 {
// DEAD-NEXT: arith.mulf %[[A]], %[[A]]
// DEAD-NEXT: arith.addf %[[B]], %[[A]]
// DEAD-NEXT: lz.yield
// DEAD: return %[[R]]#1
func.func @dead_state(%x: f64, %n: index) -> f64 {
  %r:3 = lz.loop %t < %n iter_args(%a = %x, %b = %x, %c = %x) : f64, f64, f64 {
    %a2 = arith.mulf %a, %a : f64
    %b2 = arith.addf %b, %a : f64
    %c2 = arith.addf %c, %b : f64
    lz.yield %a2, %b2, %c2 : f64, f64, f64
  }
  return %r#1 : f64
}

// -----

// The sum that the step adds to %s becomes partial sums, added to in a
// traversal, and summed once after the loop. The one added to %w stays:
// the step traverses nothing over its ranges.
// SUMSTATE-LABEL: func.func @sum_state
// SUMSTATE-SAME: (%[[X:.*]]: tensor<?xf64>, %[[Y:.*]]: tensor<?x?xf64>, %[[A:.*]]: f64, %[[T:.*]]: index)
// SUMSTATE: %[[Z:.*]] = arith.constant -0.000000e+00 : f64
// SUMSTATE: %[[P0:.*]] = lz.fill %[[Z]], %[[N:.*]] : tensor<?xf64>
// SUMSTATE: %[[R:.*]]:3 = lz.loop %{{.*}} < %[[T]] iter_args(%[[V:.*]] = %[[X]], %[[P:.*]] = %[[P0]], %[[W:.*]] = %[[A]]) : tensor<?xf64>, tensor<?xf64>, f64 {
// SUMSTATE: %[[P2:.*]] = lz.for %[[K:.*]] < %[[N]] : tensor<?xf64> {
// SUMSTATE-NEXT: %[[E:.*]] = lz.get %[[V]][%[[K]]]
// SUMSTATE-NEXT: %[[F:.*]] = arith.mulf %[[E]], %[[E]]
// SUMSTATE-NEXT: %[[G:.*]] = lz.get %[[P]][%[[K]]]
// SUMSTATE-NEXT: %[[H:.*]] = arith.addf %[[G]], %[[F]]
// SUMSTATE-NEXT: lz.yield %[[H]]
// SUMSTATE: %[[Q:.*]] = lz.sum %{{.*}} < %[[N]], %{{.*}} < %{{.*}} : f64
// SUMSTATE: %[[W2:.*]] = arith.addf %[[W]], %[[Q]]
// SUMSTATE: lz.yield %{{.*}}, %[[P2]], %[[W2]]
// SUMSTATE: %[[S:.*]] = lz.sum %[[K2:.*]] < %[[N]] : f64 {
// SUMSTATE-NEXT: %[[E2:.*]] = lz.get %[[R]]#1[%[[K2]]]
// SUMSTATE-NEXT: lz.yield %[[E2]]
// SUMSTATE: %[[TOTAL:.*]] = arith.addf %[[A]], %[[S]]
// SUMSTATE: return %[[R]]#0, %[[TOTAL]], %[[R]]#2
func.func @sum_state(%x: tensor<?xf64>, %y: tensor<?x?xf64>, %a: f64, %steps: index) -> (tensor<?xf64>, f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %y, %c0 : tensor<?x?xf64>
  %m = tensor.dim %y, %c1 : tensor<?x?xf64>
  %r:3 = lz.loop %t < %steps iter_args(%v = %x, %s = %a, %w = %a) : tensor<?xf64>, f64, f64 {
    %p = lz.sum %k < %n : f64 {
      %e = lz.get %v[%k] : tensor<?xf64>
      %f = arith.mulf %e, %e : f64
      lz.yield %f : f64
    }
    %q = lz.sum %k < %n, %l < %m : f64 {
      %e = lz.get %y[%k, %l] : tensor<?x?xf64>
      lz.yield %e : f64
    }
    %v2 = lz.for %k < %n : tensor<?xf64> {
      %e = lz.get %v[%k] : tensor<?xf64>
      %f = math.sin %e : f64
      lz.yield %f : f64
    }
    %s2 = arith.addf %s, %p : f64
    %w2 = arith.addf %w, %q : f64
    lz.yield %v2, %s2, %w2 : tensor<?xf64>, f64, f64
  }
  return %r#0, %r#1, %r#2 : tensor<?xf64>, f64, f64
}

// -----

// The state is read elsewhere in the step (%u): it stays a scalar.
// SUMSTATE-LABEL: func.func @sum_state_read
// SUMSTATE-NOT: lz.fill
// SUMSTATE: lz.loop
func.func @sum_state_read(%x: tensor<?xf64>, %a: f64, %steps: index) -> (tensor<?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %r:2 = lz.loop %t < %steps iter_args(%v = %x, %s = %a) : tensor<?xf64>, f64 {
    %p = lz.sum %k < %n : f64 {
      %e = lz.get %v[%k] : tensor<?xf64>
      lz.yield %e : f64
    }
    %v2 = lz.for %k < %n : tensor<?xf64> {
      %e = lz.get %v[%k] : tensor<?xf64>
      %u = arith.mulf %e, %s : f64
      lz.yield %u : f64
    }
    %s2 = arith.addf %s, %p : f64
    lz.yield %v2, %s2 : tensor<?xf64>, f64
  }
  return %r#0, %r#1 : tensor<?xf64>, f64
}

// -----

// The rule leaves a sum over a range the step computes (%t), a sum with
// another use (%q), and one over a range that may be negative (%d, which
// a loop of no steps would never have evaluated).
// SUMSTATE-LABEL: func.func @sum_state_kept
// SUMSTATE-NOT: lz.fill
// SUMSTATE: lz.loop
// SUMSTATE-NOT: lz.fill
// SUMSTATE: return
func.func @sum_state_kept(%x: tensor<?xf64>, %a: f64, %steps: index, %k: index) -> (tensor<?xf64>, f64, f64, f64, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %d = arith.subi %n, %k : index
  %r:5 = lz.loop %t < %steps iter_args(%v = %x, %s = %a, %u = %a, %w = %a, %z = %a) : tensor<?xf64>, f64, f64, f64, f64 {
    %p = lz.sum %i < %t : f64 {
      %e = lz.get %v[%i] : tensor<?xf64>
      lz.yield %e : f64
    }
    %q = lz.sum %i < %n : f64 {
      %e = lz.get %v[%i] : tensor<?xf64>
      lz.yield %e : f64
    }
    %o = lz.sum %i < %d : f64 {
      %e = lz.get %v[%i] : tensor<?xf64>
      lz.yield %e : f64
    }
    %v2 = lz.for %i < %n : tensor<?xf64> {
      %e = lz.get %v[%i] : tensor<?xf64>
      %f = arith.mulf %e, %e : f64
      lz.yield %f : f64
    }
    %v3 = lz.for %i < %d : tensor<?xf64> {
      %e = lz.get %v[%i] : tensor<?xf64>
      lz.yield %e : f64
    }
    %s2 = arith.addf %s, %p : f64
    %u2 = arith.addf %u, %q : f64
    %w2 = arith.addf %w, %q : f64
    %z2 = arith.addf %z, %o : f64
    lz.yield %v2, %s2, %u2, %w2, %z2 : tensor<?xf64>, f64, f64, f64, f64
  }
  return %r#0, %r#1, %r#2, %r#3, %r#4 : tensor<?xf64>, f64, f64, f64, f64
}

// -----

// The step's traversal over n may be in an inner loop (a checkpointed
// sweep's segment); the new traversal adds one pass per outer step. Not
// in a scope, which runs it once per point (@sum_state_in_scope).
// SUMSTATE-LABEL: func.func @sum_state_nested
// SUMSTATE: %[[P0:.*]] = lz.fill %{{.*}}, %[[N:.*]] : tensor<?xf64>
// SUMSTATE: %[[R:.*]]:2 = lz.loop %{{.*}} < %{{.*}} iter_args(%[[V:.*]] = %{{.*}}, %[[P:.*]] = %[[P0]]) : tensor<?xf64>, tensor<?xf64> {
// SUMSTATE: %[[IN:.*]] = lz.loop
// SUMSTATE: lz.yield %{{.*}} : tensor<?xf64>
// SUMSTATE: %[[P2:.*]] = lz.for %[[K:.*]] < %[[N]] : tensor<?xf64> {
// SUMSTATE: lz.get %[[IN]][%[[K]]]
// SUMSTATE: lz.get %[[P]][%[[K]]]
// SUMSTATE: lz.yield %[[IN]], %[[P2]]
// SUMSTATE: lz.sum %{{.*}} < %[[N]] : f64
// SUMSTATE-LABEL: func.func @sum_state_in_if
// SUMSTATE: %[[P0:.*]] = lz.fill %{{.*}}, %[[N:.*]] : tensor<?xf64>
// SUMSTATE: lz.loop %{{.*}} iter_args(%{{.*}} = %{{.*}}, %[[P:.*]] = %[[P0]])
// SUMSTATE: scf.if
// SUMSTATE: lz.for %{{.*}} < %[[N]]
// SUMSTATE: lz.get %[[P]]
// SUMSTATE-LABEL: func.func @sum_state_in_scope
// SUMSTATE-NOT: -0.000000e+00
// SUMSTATE: return
func.func @sum_state_nested(%x: tensor<?xf64>, %a: f64, %steps: index) -> (tensor<?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %r:2 = lz.loop %t < %steps iter_args(%v = %x, %s = %a) : tensor<?xf64>, f64 {
    %inner = lz.loop %j < %c2 iter_args(%w = %v) : tensor<?xf64> {
      %w2 = lz.for %i < %n : tensor<?xf64> {
        %e = lz.get %w[%i] : tensor<?xf64>
        %f = arith.mulf %e, %e : f64
        lz.yield %f : f64
      }
      lz.yield %w2 : tensor<?xf64>
    }
    %p = lz.sum %i < %n : f64 {
      %e = lz.get %inner[%i] : tensor<?xf64>
      lz.yield %e : f64
    }
    %s2 = arith.addf %s, %p : f64
    lz.yield %inner, %s2 : tensor<?xf64>, f64
  }
  return %r#0, %r#1 : tensor<?xf64>, f64
}
func.func @sum_state_in_if(%x: tensor<?xf64>, %a: f64, %steps: index, %c: i1) -> (tensor<?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %r:2 = lz.loop %t < %steps iter_args(%v = %x, %s = %a) : tensor<?xf64>, f64 {
    %w = scf.if %c -> (tensor<?xf64>) {
      %w2 = lz.for %i < %n : tensor<?xf64> {
        %e = lz.get %v[%i] : tensor<?xf64>
        %f = arith.mulf %e, %e : f64
        lz.yield %f : f64
      }
      scf.yield %w2 : tensor<?xf64>
    } else {
      scf.yield %v : tensor<?xf64>
    }
    %p = lz.sum %i < %n : f64 {
      %e = lz.get %w[%i] : tensor<?xf64>
      lz.yield %e : f64
    }
    %s2 = arith.addf %s, %p : f64
    lz.yield %w, %s2 : tensor<?xf64>, f64
  }
  return %r#0, %r#1 : tensor<?xf64>, f64
}
func.func @sum_state_in_scope(%x: tensor<?xf64>, %a: f64, %steps: index) -> (tensor<?x?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %c2 = arith.constant 2 : index
  %y = lz.fill %a, %c2, %n : tensor<?x?xf64>
  %r:2 = lz.loop %t < %steps iter_args(%v = %y, %s = %a) : tensor<?x?xf64>, f64 {
    %v2 = lz.for %j < %c2 : tensor<?x?xf64> {
      %row = lz.for %i < %n : tensor<?xf64> {
        %e = lz.get %v[%j, %i] : tensor<?x?xf64>
        %f = arith.mulf %e, %e : f64
        lz.yield %f : f64
      }
      lz.yield %row : tensor<?xf64>
    }
    %p = lz.sum %i < %n : f64 {
      %e = lz.get %v[%c0, %i] : tensor<?x?xf64>
      lz.yield %e : f64
    }
    %s2 = arith.addf %s, %p : f64
    lz.yield %v2, %s2 : tensor<?x?xf64>, f64
  }
  return %r#0, %r#1 : tensor<?x?xf64>, f64
}

// -----

// A negation moves through products into the additions that use them and
// vanishes: from a negation used once, through a product that passes it on
// (P, Q, R), and out of products whose uses absorb it (a negation used
// twice, M). It stays where it would not vanish: a negation used twice whose
// products lead to a result (N), and a product that is a minuend (W).
// NEG-LABEL: func.func @negations
// NEG-SAME: (%[[A:.*]]: f64, %[[B:.*]]: f64, %[[C:.*]]: f64)
// NEG-NOT: arith.negf %[[C]]
// NEG: %[[P:.*]] = arith.mulf %[[A]], %[[B]]
// NEG: %[[Q:.*]] = arith.mulf %[[C]], %[[P]]
// NEG: %[[R:.*]] = arith.subf %[[A]], %[[Q]]
// NEG: %[[X:.*]] = arith.mulf %[[A]], %[[C]]
// NEG: %[[U:.*]] = arith.subf %[[A]], %[[X]]
// NEG: %[[Y:.*]] = arith.mulf %[[B]], %[[C]]
// NEG: %[[V:.*]] = arith.addf %[[B]], %[[Y]]
// NEG: %[[N:.*]] = arith.negf %[[A]]
// NEG: %[[K:.*]] = arith.mulf %[[C]], %[[N]]
// NEG: %[[K2:.*]] = arith.mulf %[[K]], %[[B]]
// NEG: %[[W:.*]] = arith.mulf %[[N]], %[[B]]
// NEG: %[[Z:.*]] = arith.subf %[[W]], %[[C]]
// NEG: %[[T:.*]] = arith.mulf %[[A]], %[[B]]
// NEG: %[[S:.*]] = arith.addf %[[A]], %[[B]]
// NEG: return %[[R]], %[[U]], %[[V]], %[[K2]], %[[Z]], %[[T]], %[[S]], %[[A]]
func.func @negations(%a: f64, %b: f64, %c: f64) -> (f64, f64, f64, f64, f64, f64, f64, f64) {
  %nb = arith.negf %b : f64
  %p = arith.mulf %a, %nb : f64
  %q = arith.mulf %c, %p : f64
  %r = arith.addf %a, %q : f64
  %m = arith.negf %c : f64
  %x = arith.mulf %a, %m : f64
  %u = arith.addf %x, %a : f64
  %y = arith.mulf %b, %m : f64
  %v = arith.subf %b, %y : f64
  %n = arith.negf %a : f64
  %k = arith.mulf %c, %n : f64
  %k2 = arith.mulf %k, %b : f64
  %w = arith.mulf %n, %b : f64
  %z = arith.subf %w, %c : f64
  %na = arith.negf %a : f64
  %t = arith.mulf %na, %nb : f64
  %s = arith.subf %a, %nb : f64
  %nn = arith.negf %na : f64
  return %r, %u, %v, %k2, %z, %t, %s, %nn : f64, f64, f64, f64, f64, f64, f64, f64
}

// -----

// Negated constants fold, and a product by -1.0 is a negation that the
// subtraction absorbs.
// NEG-LABEL: func.func @negated_constants
// NEG-SAME: (%[[A:.*]]: f64, %[[B:.*]]: f64)
// NEG-DAG: %[[C:.*]] = arith.constant -2.500000e+00 : f64
// NEG-DAG: %[[Z:.*]] = arith.constant -0.000000e+00 : f64
// NEG: %[[S:.*]] = arith.addf %[[A]], %[[B]]
// NEG: %[[D:.*]] = arith.negf %[[A]]
// NEG: return %[[C]], %[[Z]], %[[S]], %[[D]]
func.func @negated_constants(%a: f64, %b: f64) -> (f64, f64, f64, f64) {
  %c = arith.constant 2.5 : f64
  %z = arith.constant 0.0 : f64
  %m1 = arith.constant -1.0 : f64
  %nc = arith.negf %c : f64
  %nz = arith.negf %z : f64
  %p = arith.mulf %b, %m1 : f64
  %s = arith.subf %a, %p : f64
  %d = arith.divf %a, %m1 : f64
  return %nc, %nz, %s, %d : f64, f64, f64, f64
}
