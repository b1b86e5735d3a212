// RUN: leibniz-opt %s --lz-jam-steps=strip-bytes=64 | FileCheck %s
// RUN: leibniz-opt %s --lz-jam-steps=strip-bytes=768 | FileCheck %s --check-prefix=WIDE
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lz-jam-steps=strip-bytes=64 --lz-interpret=entry=main -o /dev/null > %t.narrow
// RUN: diff %t.before %t.narrow
// RUN: leibniz-opt %s --lz-jam-steps=strip-bytes=768 --lz-interpret=entry=main -o /dev/null > %t.wide
// RUN: diff %t.before %t.wide
// RUN: leibniz-opt %s --lz-jam-steps=strip-bytes=4096 --lower-lz --lz-interpret=entry=main -o /dev/null > %t.lowered
// RUN: diff %t.before %t.lowered

// Elementwise loops run by strips of columns, each strip's loop over the
// steps inside, its states' elements carried as scalars: strips of the
// widest width over the columns, then of half that width and so on down to
// 8 columns over what remains, then one strip of 8 columns whose columns
// past the last compute the last again, where the loop runs a step and
// has at least two strips of the widest width; as it is (jammed)
// otherwise. Each element runs the same operations in the same order: the
// results are the same bit for bit, at 150 columns (2 x 64 + 16 + 6
// with 768 bytes, 18 x 8 + 6 with 64) and at 5 (no strips).

// With 64 bytes, a descent (one state of f64) runs strips of 8 columns.
// What does not depend on the step (`a`'s elements) is read before the
// steps.

// CHECK-LABEL: func.func @descent
// CHECK: %[[C16:.*]] = arith.constant 16 : index
// CHECK: %[[ENOUGH:.*]] = arith.cmpi sge, %{{.*}}, %[[C16]] : index
// CHECK: %[[ANY:.*]] = arith.cmpi sgt, %{{.*}}, %{{.*}} : index
// CHECK: %[[RUNS:.*]] = arith.andi %[[ANY]], %[[ENOUGH]] : i1
// CHECK: %[[IF:.*]] = scf.if %[[RUNS]] -> (tensor<?xf64>) {
// CHECK: %[[LAST:.*]] = arith.subi %[[N:.*]], %{{.*}} : index
// CHECK: %[[EMPTY:.*]] = tensor.empty(%[[N]]) : tensor<?xf64>
// CHECK: %[[FULL:.*]] = lz.loop %{{.*}} < %{{.*}} iter_args(%[[OUT:.*]] = %[[EMPTY]]) : tensor<?xf64> {
// CHECK-COUNT-8: lz.get %{{.*}}[%{{.*}}] : tensor<?xf64>
// CHECK: %[[STEPS:.*]]:8 = lz.loop %{{.*}} < %{{.*}} iter_args(%[[E0:[^ ]*]] = %{{.*}}) : f64, f64, f64, f64, f64, f64, f64, f64 {
// CHECK-NOT: lz.get
// CHECK: arith.mulf %{{.*}}, %[[E0]] : f64
// CHECK-NOT: lz.get
// CHECK: lz.yield %{{.*}} : f64, f64, f64, f64, f64, f64, f64, f64
// CHECK: tensor.insert %[[STEPS]]#0 into %[[OUT]]
// CHECK: %[[LEFT:.*]] = arith.cmpi ult, %{{.*}}, %[[N]] : index
// CHECK: %[[ONE:.*]] = arith.select %[[LEFT]]
// CHECK: lz.loop %{{.*}} < %[[ONE]] iter_args(%{{.*}} = %[[FULL]]) : tensor<?xf64> {
// CHECK-COUNT-8: arith.minsi %{{.*}}, %[[LAST]] : index
// CHECK: } else {
// CHECK: %[[GROUPS:.*]] = arith.divui %{{.*}}, %{{.*}} : index
// CHECK: lz.loop %{{.*}} < %[[GROUPS]] iter_args(%{{.*}} = %arg0) : tensor<?xf64> {
// CHECK: %[[REST:.*]] = lz.loop
// CHECK: scf.yield %[[REST]] : tensor<?xf64>
// CHECK: return %[[IF]]

// With 768 bytes, 64 columns (the widest strip) of the descent, and 32 of
// the sweep, whose three states take 24 bytes a column.

// WIDE-LABEL: func.func @descent
// WIDE: lz.loop %{{.*}} < %{{.*}} iter_args({{.*}}) : f64[[F64X62:(, f64){62}]], f64 {
// WIDE-LABEL: func.func @sweep
// WIDE: lz.loop %{{.*}} < %{{.*}} iter_args({{.*}}) : f64[[F64X94:(, f64){94}]], f64 {
// WIDE-NOT: lz.for
// WIDE: } else {
// WIDE-LABEL: func.func @forward

func.func @descent(%x0: tensor<?xf64>, %a: tensor<?xf64>, %lr: f64,
                   %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %one = arith.constant 1.0 : f64
  %r = lz.loop %t < %steps iter_args(%x = %x0) : tensor<?xf64> {
    %y = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %ai = lz.get %a[%i] : tensor<?xf64>
      %m = arith.mulf %ai, %xi : f64
      %d = arith.subf %m, %one : f64
      %s = arith.mulf %lr, %d : f64
      %z = arith.subf %xi, %s : f64
      lz.yield %z : f64
    }
    lz.yield %y : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// A reverse sweep: a row of a stack read at an index that the step
// computes, two traversals, one state kept and two swapped.

func.func @sweep(%stack: tensor<?x?xf64>, %u0: tensor<?xf64>,
                 %v1: tensor<?xf64>, %steps: index)
    -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %u0, %c0 : tensor<?xf64>
  %last = arith.subi %steps, %c1 : index
  // The states start with n elements: a traversal and a fill of n.
  %v0 = lz.for %i < %n : tensor<?xf64> {
    %vi = lz.get %v1[%i] : tensor<?xf64>
    lz.yield %vi : f64
  }
  %half = arith.constant 0.5 : f64
  %w0 = lz.fill %half, %n : tensor<?xf64>
  %r:3 = lz.loop %t < %steps iter_args(%u = %u0, %v = %v0, %w = %w0)
      : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> {
    %k = arith.subi %last, %t : index
    %row = lz.get %stack[%k] : tensor<?x?xf64>
    %p = lz.for %i < %n : tensor<?xf64> {
      %ui = lz.get %u[%i] : tensor<?xf64>
      %ri = lz.get %row[%i] : tensor<?xf64>
      %wi = lz.get %w[%i] : tensor<?xf64>
      %m = arith.mulf %ui, %ri : f64
      %s = arith.addf %m, %wi : f64
      lz.yield %s : f64
    }
    %q = lz.for %i < %n : tensor<?xf64> {
      %pi = lz.get %p[%i] : tensor<?xf64>
      %vi = lz.get %v[%i] : tensor<?xf64>
      %tf = arith.index_cast %t : index to i64
      %tt = arith.sitofp %tf : i64 to f64
      %s = arith.subf %vi, %pi : f64
      %z = arith.mulf %s, %tt : f64
      lz.yield %z : f64
    }
    lz.yield %q, %p, %w : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
  }
  return %r#0, %r#1, %r#2 : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
}

// A forward sweep: each step pushes its state and its new state as rows of
// two stacks; each strip writes its columns of the rows.

// CHECK-LABEL: func.func @forward
// CHECK: lz.loop %{{.*}} < %{{.*}} iter_args(%{{.*}} = %{{.*}}, %[[M:.*]] = %{{.*}}, %[[W:.*]] = %{{.*}}) : tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64> {
// CHECK: lz.loop %[[T:.*]] < %{{.*}} iter_args({{.*}}) : f64, f64, f64, f64, f64, f64, f64, f64, tensor<?x?xf64>, tensor<?x?xf64> {
// CHECK: %[[ROW:.*]] = arith.subi %{{.*}}, %[[T]] : index
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%[[ROW]], %{{.*}}] : tensor<?x?xf64>
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%[[T]], %{{.*}}] : tensor<?x?xf64>
func.func @forward(%x0: tensor<?xf64>, %a: tensor<?xf64>, %lr: f64,
                   %steps: index)
    -> (tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %last = arith.subi %steps, %c1 : index
  %m0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %n0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %r:3 = lz.loop %t < %steps iter_args(%x = %x0, %m = %m0, %w = %n0)
      : tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64> {
    %row = arith.subi %last, %t : index
    %m1 = tensor.insert_slice %x into %m[%row, 0] [1, %n] [1, 1]
        : tensor<?xf64> into tensor<?x?xf64>
    %y = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %ai = lz.get %a[%i] : tensor<?xf64>
      %p = arith.mulf %ai, %xi : f64
      %d = arith.subf %p, %one : f64
      %s = arith.mulf %lr, %d : f64
      %z = arith.subf %xi, %s : f64
      lz.yield %z : f64
    }
    %w1 = tensor.insert_slice %y into %w[%t, 0] [1, %n] [1, 1]
        : tensor<?xf64> into tensor<?x?xf64>
    lz.yield %y, %m1, %w1 : tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  }
  return %r#0, %r#1, %r#2 : tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
}

// A step that calls the math library is jammed instead: each lane's
// states would go to memory around every call.

// CHECK-LABEL: func.func @decay
// CHECK: %[[GROUPS:.*]] = arith.divui
// CHECK: lz.loop %{{.*}} < %[[GROUPS]] iter_args(%{{.*}} = %{{.*}}) : tensor<?xf64> {
// CHECK: lz.for
// CHECK-NOT: : f64, f64, f64
// CHECK: return
func.func @decay(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %r = lz.loop %t < %steps iter_args(%x = %x0) : tensor<?xf64> {
    %y = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %e = math.exp %xi : f64
      %h = arith.constant 0.5 : f64
      %z = arith.mulf %e, %h : f64
      lz.yield %z : f64
    }
    lz.yield %y : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// A loop whose state may start with another size than its traversals'
// runs by strips where it starts with theirs, and jammed otherwise (where
// it runs no step, or where it fails: a loop's state keeps its sizes).

// CHECK-LABEL: func.func @shrink
// CHECK: %[[ENOUGH:.*]] = arith.cmpi sge, %[[M:[^ ]*]], %{{.*}} : index
// CHECK: %[[ANY:.*]] = arith.cmpi sgt, %[[STEPS:[^ ]*]], %{{.*}} : index
// CHECK: %[[BOTH:.*]] = arith.andi %[[ANY]], %[[ENOUGH]] : i1
// CHECK: %[[SIZE:.*]] = tensor.dim %[[X0:[^ ]*]], %{{.*}} : tensor<?xf64>
// CHECK: %[[FITS:.*]] = arith.cmpi eq, %[[SIZE]], %[[M]] : index
// CHECK: %[[RUNS:.*]] = arith.andi %[[BOTH]], %[[FITS]] : i1
// CHECK: scf.if %[[RUNS]] -> (tensor<?xf64>) {
// CHECK: } else {
// CHECK: lz.loop %{{.*}} iter_args(%{{.*}} = %[[X0]]) : tensor<?xf64> {
// CHECK: lz.for %{{.*}} < %[[M]] : tensor<?xf64> {
// CHECK: %[[REST:.*]] = lz.loop
// CHECK: scf.yield %[[REST]] : tensor<?xf64>
func.func @shrink(%x0: tensor<?xf64>, %m: index, %steps: index)
    -> tensor<?xf64> {
  %r = lz.loop %t < %steps iter_args(%x = %x0) : tensor<?xf64> {
    %y = lz.for %i < %m : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %h = arith.constant 0.5 : f64
      %z = arith.mulf %xi, %h : f64
      lz.yield %z : f64
    }
    lz.yield %y : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

func.func @data(%n: index, %seed: f64) -> tensor<?xf64> {
  %v = lz.for %i < %n : tensor<?xf64> {
    %ii = arith.index_cast %i : index to i64
    %f = arith.sitofp %ii : i64 to f64
    %s = arith.mulf %f, %seed : f64
    %w = math.sin %s : f64
    lz.yield %w : f64
  }
  return %v : tensor<?xf64>
}

func.func @run(%n: index) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>) {
  %s1 = arith.constant 0.7 : f64
  %s2 = arith.constant 1.3 : f64
  %x = func.call @data(%n, %s1) : (index, f64) -> tensor<?xf64>
  %a0 = func.call @data(%n, %s2) : (index, f64) -> tensor<?xf64>
  %a = lz.for %i < %n : tensor<?xf64> {
    %ai = lz.get %a0[%i] : tensor<?xf64>
    %one = arith.constant 1.0 : f64
    %p = arith.addf %ai, %one : f64
    lz.yield %p : f64
  }
  %lr = arith.constant 0.1 : f64
  %c0 = arith.constant 0 : index
  %c7 = arith.constant 7 : index
  %d = func.call @descent(%x, %a, %lr, %c7) : (tensor<?xf64>, tensor<?xf64>, f64, index) -> tensor<?xf64>
  %stack = lz.for %r < %c7, %i < %n : tensor<?x?xf64> {
    %ri = arith.index_cast %r : index to i64
    %rf = arith.sitofp %ri : i64 to f64
    %xi = lz.get %x[%i] : tensor<?xf64>
    %e = arith.addf %rf, %xi : f64
    lz.yield %e : f64
  }
  %s:3 = func.call @sweep(%stack, %x, %a, %c7) : (tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, index) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>)
  %c4 = arith.constant 4 : index
  %f:3 = func.call @forward(%x, %a, %lr, %c4) : (tensor<?xf64>, tensor<?xf64>, f64, index) -> (tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>)
  %z = func.call @descent(%x, %a, %lr, %c0) : (tensor<?xf64>, tensor<?xf64>, f64, index) -> tensor<?xf64>
  %e = func.call @decay(%x, %c7) : (tensor<?xf64>, index) -> tensor<?xf64>
  %c3 = arith.constant 3 : index
  %h0 = func.call @shrink(%x, %c3, %c0) : (tensor<?xf64>, index, index) -> tensor<?xf64>
  %h3 = func.call @shrink(%x, %n, %c4) : (tensor<?xf64>, index, index) -> tensor<?xf64>
  return %d, %s#0, %s#1, %s#2, %f#0, %z, %f#1, %f#2, %e, %h0, %h3 : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
}

// The results' bits, compared exactly.
func.func @bits(%v: tensor<?xf64>) -> tensor<?xi64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %v, %c0 : tensor<?xf64>
  %b = lz.for %i < %n : tensor<?xi64> {
    %e = lz.get %v[%i] : tensor<?xf64>
    %w = arith.bitcast %e : f64 to i64
    lz.yield %w : i64
  }
  return %b : tensor<?xi64>
}

func.func @bits2(%m: tensor<?x?xf64>) -> tensor<?x?xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = tensor.dim %m, %c0 : tensor<?x?xf64>
  %n = tensor.dim %m, %c1 : tensor<?x?xf64>
  %b = lz.for %i < %r, %j < %n : tensor<?x?xi64> {
    %e = lz.get %m[%i, %j] : tensor<?x?xf64>
    %w = arith.bitcast %e : f64 to i64
    lz.yield %w : i64
  }
  return %b : tensor<?x?xi64>
}

func.func @main() -> (tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?x?xi64>, tensor<?x?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?x?xi64>, tensor<?x?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>) {
  %c150 = arith.constant 150 : index
  %c5 = arith.constant 5 : index
  %r:11 = func.call @run(%c150) : (index) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>)
  %rb0 = func.call @bits(%r#0) : (tensor<?xf64>) -> tensor<?xi64>
  %rb1 = func.call @bits(%r#1) : (tensor<?xf64>) -> tensor<?xi64>
  %rb2 = func.call @bits(%r#2) : (tensor<?xf64>) -> tensor<?xi64>
  %rb3 = func.call @bits(%r#3) : (tensor<?xf64>) -> tensor<?xi64>
  %rb4 = func.call @bits(%r#4) : (tensor<?xf64>) -> tensor<?xi64>
  %rb5 = func.call @bits(%r#5) : (tensor<?xf64>) -> tensor<?xi64>
  %rb6 = func.call @bits2(%r#6) : (tensor<?x?xf64>) -> tensor<?x?xi64>
  %rb7 = func.call @bits2(%r#7) : (tensor<?x?xf64>) -> tensor<?x?xi64>
  %rb8 = func.call @bits(%r#8) : (tensor<?xf64>) -> tensor<?xi64>
  %rb9 = func.call @bits(%r#9) : (tensor<?xf64>) -> tensor<?xi64>
  %rb10 = func.call @bits(%r#10) : (tensor<?xf64>) -> tensor<?xi64>
  %q:11 = func.call @run(%c5) : (index) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>)
  %qb0 = func.call @bits(%q#0) : (tensor<?xf64>) -> tensor<?xi64>
  %qb1 = func.call @bits(%q#1) : (tensor<?xf64>) -> tensor<?xi64>
  %qb2 = func.call @bits(%q#2) : (tensor<?xf64>) -> tensor<?xi64>
  %qb3 = func.call @bits(%q#3) : (tensor<?xf64>) -> tensor<?xi64>
  %qb4 = func.call @bits(%q#4) : (tensor<?xf64>) -> tensor<?xi64>
  %qb5 = func.call @bits(%q#5) : (tensor<?xf64>) -> tensor<?xi64>
  %qb6 = func.call @bits2(%q#6) : (tensor<?x?xf64>) -> tensor<?x?xi64>
  %qb7 = func.call @bits2(%q#7) : (tensor<?x?xf64>) -> tensor<?x?xi64>
  %qb8 = func.call @bits(%q#8) : (tensor<?xf64>) -> tensor<?xi64>
  %qb9 = func.call @bits(%q#9) : (tensor<?xf64>) -> tensor<?xi64>
  %qb10 = func.call @bits(%q#10) : (tensor<?xf64>) -> tensor<?xi64>
  return %rb0, %rb1, %rb2, %rb3, %rb4, %rb5, %rb6, %rb7, %rb8, %rb9, %rb10, %qb0, %qb1, %qb2, %qb3, %qb4, %qb5, %qb6, %qb7, %qb8, %qb9, %qb10 : tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?x?xi64>, tensor<?x?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?x?xi64>, tensor<?x?xi64>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>
}
