// RUN: leibniz-opt %s --pass-pipeline='builtin.module(func.func(lz-unroll-jam))' | FileCheck %s
// RUN: leibniz-opt %s --pass-pipeline='builtin.module(func.func(lz-unroll-jam{lanes=1}))' | FileCheck %s --check-prefix=ONE
// RUN: leibniz-opt %s --pass-pipeline='builtin.module(func.func(lz-unroll-jam),lz-outline-parallel,canonicalize)' | FileCheck %s --check-prefix=COST

// lz-outline-parallel's estimate of an iteration's work, which decides the
// threads, looks into the full block: the product's sums count with their
// trip count k.
// COST-LABEL: func.func @product(
// COST-SAME: %[[K:arg[0-9]+]]: index) {
// COST: arith.maxsi %[[K]]
// COST: call @product__par__launch

// A matrix product's parallel loop: the columns step by 4, a full block
// runs the 4 sums in one loop (A's element loaded once for the 4), the
// last partial block one column after another.
// CHECK-LABEL: func.func @product
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[STEP:.*]] = arith.muli %{{.*}}, %[[C4]] : index
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = {{.*}} step (%{{.*}}, %[[STEP]])
// CHECK: %[[LAST:.*]] = arith.addi %[[J]], %{{.*}} : index
// CHECK: %[[FULL:.*]] = arith.cmpi slt, %[[LAST]], %{{.*}} : index
// CHECK: scf.if %[[FULL]] {
// CHECK: %[[SUMS:.*]]:4 = scf.for %[[K:.*]] = {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f64, f64, f64, f64) {
// CHECK: memref.load %{{.*}}[%[[I]], %[[K]]]
// CHECK-NOT: memref.load %{{.*}}[%[[I]], %[[K]]]
// CHECK-COUNT-4: arith.addf
// CHECK: scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64, f64
// CHECK-COUNT-4: memref.store
// CHECK: } else {
// CHECK: scf.for %[[REST:.*]] = %[[J]] to
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I]], %[[REST]]]
// ONE-LABEL: func.func @product
// ONE-NOT: scf.if
func.func @product(%a: memref<?x?xf64>, %b: memref<?x?xf64>, %c: memref<?x?xf64>,
                   %n: index, %m: index, %k: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant -0.0 : f64
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %m) step (%c1, %c1) {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) {
      %x = memref.load %a[%i, %p] : memref<?x?xf64>
      %y = memref.load %b[%p, %j] : memref<?x?xf64>
      %xy = arith.mulf %x, %y : f64
      %next = arith.addf %acc, %xy : f64
      scf.yield %next : f64
    }
    memref.store %s, %c[%i, %j] : memref<?x?xf64>
    scf.reduce
  }
  return
}

// A sum of functions of sums: the outer loop runs 4 inner sums side by
// side and their tanh, then adds those to its own sum in the order of the
// points;
// the points after the last block of 4 run in the loop itself.
// CHECK-LABEL: func.func @sum_of_sums
// CHECK: %[[END:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[JAMMED:.*]] = scf.for %[[X:.*]] = %{{.*}} to %[[END]] step %{{.*}} iter_args(%[[OUTER:.*]] = %{{.*}}) -> (f64) {
// CHECK: %[[INNER:.*]]:4 = scf.for
// CHECK: scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64, f64
// CHECK: %[[T0:.*]] = math.tanh %[[INNER]]#0
// CHECK: %[[T1:.*]] = math.tanh %[[INNER]]#1
// CHECK: %[[T2:.*]] = math.tanh %[[INNER]]#2
// CHECK: %[[T3:.*]] = math.tanh %[[INNER]]#3
// CHECK: %[[S0:.*]] = arith.addf %[[OUTER]], %[[T0]]
// CHECK: %[[S1:.*]] = arith.addf %[[S0]], %[[T1]]
// CHECK: %[[S2:.*]] = arith.addf %[[S1]], %[[T2]]
// CHECK: %[[S3:.*]] = arith.addf %[[S2]], %[[T3]]
// CHECK: scf.yield %[[S3]] : f64
// CHECK: %[[REST:.*]] = scf.for %{{.*}} = %[[END]] to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[JAMMED]]) -> (f64) {
// CHECK: return %[[REST]]
func.func @sum_of_sums(%a: memref<?x?xf64>, %n: index, %k: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant -0.0 : f64
  %total = scf.for %x = %c0 to %n step %c1 iter_args(%outer = %zero) -> (f64) {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) {
      %v = memref.load %a[%x, %p] : memref<?x?xf64>
      %next = arith.addf %acc, %v : f64
      scf.yield %next : f64
    }
    %t = math.tanh %s : f64
    %o = arith.addf %outer, %t : f64
    scf.yield %o : f64
  }
  return %total : f64
}

// The inner sum continues the outer one: one chain, nothing to overlap.
// CHECK-LABEL: func.func @chained
// CHECK-NOT: iter_args(%{{.*}}, %{{.*}})
// CHECK-NOT: scf.if
// CHECK: return
func.func @chained(%a: memref<?x?xf64>, %n: index, %k: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant -0.0 : f64
  %total = scf.for %x = %c0 to %n step %c1 iter_args(%outer = %zero) -> (f64) {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %outer) -> (f64) {
      %v = memref.load %a[%x, %p] : memref<?x?xf64>
      %next = arith.addf %acc, %v : f64
      scf.yield %next : f64
    }
    scf.yield %s : f64
  }
  return %total : f64
}

// A sequential loop that writes memory keeps its order.
// CHECK-LABEL: func.func @writes
// CHECK-COUNT-1: arith.addf
// CHECK-NOT: arith.addf
// CHECK: return
func.func @writes(%a: memref<?x?xf64>, %out: memref<?xf64>, %n: index,
                  %k: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant -0.0 : f64
  %total = scf.for %x = %c0 to %n step %c1 iter_args(%outer = %zero) -> (f64) {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) {
      %v = memref.load %a[%x, %p] : memref<?x?xf64>
      %next = arith.addf %acc, %v : f64
      scf.yield %next : f64
    }
    memref.store %s, %out[%x] : memref<?xf64>
    scf.yield %s : f64
  }
  return %total : f64
}

// Too few iterations in the innermost dimension for 4 lanes: the outer
// one is unrolled. A sum whose bounds come from the dimension (a
// triangle) keeps it from being unrolled.
// CHECK-LABEL: func.func @short_and_triangular
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = {{.*}} step (%[[OUTER:.*]], %c1)
// CHECK: scf.parallel (%[[ROW:.*]]) = {{.*}} step (%c1)
// CHECK-NOT: scf.if
// CHECK: scf.for %{{.*}} = %c0 to %[[ROW]]
// CHECK: return
func.func @short_and_triangular(%a: memref<?x3xf64>, %c: memref<?x3xf64>,
                                %r: memref<?xf64>, %n: index, %k: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant -0.0 : f64
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c3) step (%c1, %c1) {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) {
      %x = memref.load %a[%p, %j] : memref<?x3xf64>
      %next = arith.addf %acc, %x : f64
      scf.yield %next : f64
    }
    memref.store %s, %c[%i, %j] : memref<?x3xf64>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %s = scf.for %p = %c0 to %i step %c1 iter_args(%acc = %zero) -> (f64) {
      %x = memref.load %a[%p, %c0] : memref<?x3xf64>
      %next = arith.addf %acc, %x : f64
      scf.yield %next : f64
    }
    memref.store %s, %r[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// Calls have effects the pass does not know: the loop stays.
// CHECK-LABEL: func.func @calls
// CHECK-NOT: scf.if
// CHECK: return
func.func private @opaque(f64) -> f64
func.func @calls(%a: memref<?x?xf64>, %c: memref<?xf64>, %n: index,
                 %k: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant -0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) {
      %x = memref.load %a[%i, %p] : memref<?x?xf64>
      %y = func.call @opaque(%x) : (f64) -> f64
      %next = arith.addf %acc, %y : f64
      scf.yield %next : f64
    }
    memref.store %s, %c[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// Temporaries of each iteration: each lane writes and reads its own, and a
// read after the lanes' writes is made in every lane, even where its
// indices do not depend on the lane.
// CHECK-LABEL: func.func @temporaries
// CHECK: scf.if
// CHECK-COUNT-4: memref.alloca
// CHECK: scf.for
// CHECK-COUNT-4: memref.store
// CHECK: scf.yield
// CHECK-COUNT-4: memref.load %{{.*}}[%c0]
// CHECK: } else {
func.func @temporaries(%a: memref<?x?xf64>, %c: memref<?xf64>, %n: index,
                       %k: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant -0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %t = memref.alloca() : memref<1xf64>
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) {
      %x = memref.load %a[%i, %p] : memref<?x?xf64>
      memref.store %x, %t[%c0] : memref<1xf64>
      %next = arith.addf %acc, %x : f64
      scf.yield %next : f64
    }
    %last = memref.load %t[%c0] : memref<1xf64>
    %r = arith.addf %s, %last : f64
    memref.store %r, %c[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// Induction variables of an integer type, or compared unsigned: the loop
// is not unrolled (the last full block's bounds are computed in index
// arithmetic); an inner loop compared unsigned runs per lane.
// CHECK-LABEL: func.func @integer_induction
// CHECK-NOT: -> (f64, f64
// CHECK-LABEL: func.func @unsigned_inner
// CHECK: scf.if
// CHECK-COUNT-4: scf.for unsigned
// CHECK: } else {
func.func @integer_induction(%a: memref<?x?xf64>, %n: i32, %k: i32) -> f64 {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %zero = arith.constant -0.0 : f64
  %total = scf.for %x = %c0 to %n step %c1 iter_args(%outer = %zero) -> (f64) : i32 {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) : i32 {
      %xi = arith.index_cast %x : i32 to index
      %pi = arith.index_cast %p : i32 to index
      %v = memref.load %a[%xi, %pi] : memref<?x?xf64>
      %next = arith.addf %acc, %v : f64
      scf.yield %next : f64
    }
    %o = arith.addf %outer, %s : f64
    scf.yield %o : f64
  }
  return %total : f64
}
func.func @unsigned_inner(%a: memref<?x?xf64>, %c: memref<?xf64>, %n: index,
                          %k: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant -0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) {
      %x = memref.load %a[%i, %p] : memref<?x?xf64>
      %next = arith.addf %acc, %x : f64
      scf.yield %next : f64
    }
    %u = scf.for unsigned %p = %c0 to %k step %c1 iter_args(%acc = %s) -> (f64) {
      %x = memref.load %a[%p, %i] : memref<?x?xf64>
      %next = arith.addf %acc, %x : f64
      scf.yield %next : f64
    }
    memref.store %u, %c[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// A constant step whose multiple by the lanes overflows: not unrolled.
// CHECK-LABEL: func.func @huge_step
// CHECK-NOT: scf.if
// CHECK: return
func.func @huge_step(%a: memref<?x?xf64>, %c: memref<?xf64>, %n: index,
                     %k: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %big = arith.constant 4611686018427387904 : index
  %zero = arith.constant -0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%big) {
    %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> (f64) {
      %x = memref.load %a[%i, %p] : memref<?x?xf64>
      %next = arith.addf %acc, %x : f64
      scf.yield %next : f64
    }
    memref.store %s, %c[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
