// RUN: leibniz-opt %s --lz-outline-parallel --canonicalize --split-input-file | FileCheck %s

// The body of an outermost parallel loop moves to a function of the values
// it uses and of an iteration range of its first dimension; constants are
// copied into it. The loop becomes a call of the launch declaration, over
// the trip count, with the estimated work of an iteration: that of the body
// (4 operations) times the inner trip count (4).
// CHECK-LABEL: func.func @scale
// CHECK-SAME: (%[[X:.*]]: memref<?x4xf64>, %[[Y:.*]]: memref<?x4xf64>, %[[A:.*]]: f64)
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[N:.*]] = memref.dim %[[X]], %[[C0]]
// CHECK: %[[TRIPS:.*]] = arith.maxsi %[[N]], %[[C0]]
// CHECK: call @scale__par__launch(%[[X]], %[[A]], %[[Y]], %[[C0]], %[[TRIPS]], %[[C16]])
// CHECK-NOT: scf.parallel
// CHECK: return
// CHECK: func.func private @scale__par__launch(memref<?x4xf64>, f64, memref<?x4xf64>, index, index, index)
// CHECK-SAME: leibniz.parallel_body = @scale__par
// CHECK: func.func private @scale__par(%[[BX:.*]]: memref<?x4xf64>, %[[BA:.*]]: f64, %[[BY:.*]]: memref<?x4xf64>, %[[BEGIN:.*]]: index, %[[END:.*]]: index)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = (%[[BEGIN]], %{{.*}}) to (%[[END]], %[[C4]])
// CHECK: memref.load %[[BX]][%[[I]], %[[J]]]
// CHECK: arith.mulf %{{.*}}, %[[BA]]
// CHECK: memref.store %{{.*}}, %[[BY]][%[[I]], %[[J]]]
func.func @scale(%x: memref<?x4xf64>, %y: memref<?x4xf64>, %a: f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %x, %c0 : memref<?x4xf64>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c4) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<?x4xf64>
    %w = arith.mulf %v, %a : f64
    memref.store %w, %y[%i, %j] : memref<?x4xf64>
    scf.reduce
  }
  return
}

// -----

// Loops nested in another loop stay, and so do loops that print, directly
// or through a call.
// CHECK-LABEL: func.func @nested
// CHECK: scf.for
// CHECK: scf.parallel
// CHECK-LABEL: func.func @prints
// CHECK: scf.parallel
// CHECK: call @show
// CHECK-NOT: __launch
func.func private @leibniz_print_f64(f64)
func.func @show(%v: f64) {
  call @leibniz_print_f64(%v) : (f64) -> ()
  return
}
func.func @nested(%x: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f64
  scf.for %k = %c0 to %n step %c1 {
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      memref.store %cst, %x[%i] : memref<?xf64>
      scf.reduce
    }
  }
  return
}
func.func @prints(%x: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %v = memref.load %x[%i] : memref<?xf64>
    func.call @show(%v) : (f64) -> ()
    scf.reduce
  }
  return
}

// -----

// The cost of an iteration is computed before the loop runs: a loop in the
// body whose bounds depend only on the induction variable and on values
// from outside counts its trip count at the first iteration (here m - 0)
// times the cost of its body (3: the load, the add and the yield), plus the
// other operations (the store and the terminator).
// CHECK-LABEL: func.func @rows
// CHECK-SAME: (%[[X:.*]]: memref<?x?xf64>, %[[S:.*]]: memref<?xf64>, %[[N:.*]]: index, %[[M:.*]]: index)
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[TRIPS:.*]] = arith.maxsi %[[N]], %[[C0]]
// CHECK: %[[INNER:.*]] = arith.maxsi %[[M]], %[[C0]]
// CHECK: %[[WORK:.*]] = arith.muli %[[INNER]], %[[C3]]
// CHECK: %[[COST:.*]] = arith.addi %[[WORK]], %[[C2]]
// CHECK: call @rows__par__launch(%[[X]], %[[M]], %[[S]], %[[C0]], %[[TRIPS]], %[[COST]])
func.func @rows(%x: memref<?x?xf64>, %s: memref<?xf64>, %n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %t = scf.for %j = %i to %m step %c1 iter_args(%acc = %zero) -> (f64) {
      %v = memref.load %x[%i, %j] : memref<?x?xf64>
      %a = arith.addf %acc, %v : f64
      scf.yield %a : f64
    }
    memref.store %t, %s[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// A loop in a branch counts with its trip count too; of two branches, the
// larger estimate counts.
// CHECK-LABEL: func.func @branches
// CHECK-SAME: (%{{.*}}: memref<?x?xf64>, %{{.*}}: memref<?xf64>, %{{.*}}: index, %[[M:.*]]: index, %{{.*}}: i1)
// CHECK: %[[INNER:.*]] = arith.maxsi %[[M]], %{{.*}}
// CHECK: %[[WORK:.*]] = arith.muli %[[INNER]], %{{.*}}
// CHECK: arith.maxsi %{{.*}}, %{{.*}}
// CHECK: call @branches__par__launch
func.func @branches(%x: memref<?x?xf64>, %s: memref<?xf64>, %n: index, %m: index, %c: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.if %c {
      %t = scf.for %j = %c0 to %m step %c1 iter_args(%acc = %zero) -> (f64) {
        %v = memref.load %x[%i, %j] : memref<?x?xf64>
        %a = arith.addf %acc, %v : f64
        scf.yield %a : f64
      }
      memref.store %t, %s[%i] : memref<?xf64>
    } else {
      memref.store %zero, %s[%i] : memref<?xf64>
    }
    scf.reduce
  }
  return
}

// -----

// A buffer that the function allocates, of which the body captures no
// other view, is reached by nothing else in the body: the aligned pointer
// of %y's descriptor is marked for `noalias`. It is the LLVM parameter 12:
// the captures are %x, %v, %a, %y and %w, in the order of their uses, and
// a 1-d memref is 5 parameters (allocated and aligned pointers, offset,
// size, stride). %w, of which the body also captures the view %v, and %x,
// a caller's buffer, are not marked.
// CHECK-LABEL: func.func @fresh
// CHECK: func.func private @fresh__par(
// CHECK-SAME: leibniz.noalias_params = array<i64: 12>
func.func @fresh(%x: memref<?xf64>, %a: f64, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = memref.alloc(%n) : memref<?xf64>
  %w = memref.alloc(%n) : memref<?xf64>
  %v = memref.subview %w[0] [%n] [1] : memref<?xf64> to memref<?xf64, strided<[1]>>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %p = memref.load %x[%i] : memref<?xf64>
    %q = memref.load %v[%i] : memref<?xf64, strided<[1]>>
    %r = arith.mulf %p, %a : f64
    %s = arith.addf %r, %q : f64
    memref.store %s, %y[%i] : memref<?xf64>
    memref.store %s, %w[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// No buffer is marked where a capture may be any buffer: %z, a
// conditional's result, may be %y.
// CHECK-LABEL: func.func @unknown
// CHECK: func.func private @unknown__par(%{{[^)]*}}) attributes {llvm.linkage = #llvm.linkage<internal>} {
func.func @unknown(%x: memref<?xf64>, %c: i1, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = memref.alloc(%n) : memref<?xf64>
  %z = scf.if %c -> (memref<?xf64>) {
    scf.yield %y : memref<?xf64>
  } else {
    scf.yield %x : memref<?xf64>
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %p = memref.load %z[%i] : memref<?xf64>
    memref.store %p, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// Nor where the body captures a cast of the buffer besides the buffer, nor
// where a capture's buffer is unknown (a transpose, which is no view op),
// nor where a captured integer may carry a buffer's address. An address
// that no capture carries (deallocation compares them) changes nothing:
// in @compared, %y is marked.
// CHECK-LABEL: func.func @cast
// CHECK: func.func private @cast__par(%{{[^)]*}}) attributes {llvm.linkage = #llvm.linkage<internal>} {
// CHECK-LABEL: func.func @transposed
// CHECK: func.func private @transposed__par(%{{[^)]*}}) attributes {llvm.linkage = #llvm.linkage<internal>} {
// CHECK-LABEL: func.func @address
// CHECK: func.func private @address__par(%{{[^)]*}}) attributes {llvm.linkage = #llvm.linkage<internal>} {
// CHECK-LABEL: func.func @compared
// CHECK: func.func private @compared__par(%{{[^)]*}}) attributes {leibniz.noalias_params = array<i64: 7>,
func.func @cast(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = memref.alloc(%n) : memref<?xf64>
  %z = memref.cast %y : memref<?xf64> to memref<?xf64, strided<[?], offset: ?>>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %p = memref.load %z[%i] : memref<?xf64, strided<[?], offset: ?>>
    memref.store %p, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
func.func @transposed(%x: memref<?x?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = memref.alloc(%n) : memref<?xf64>
  %t = memref.transpose %x (i, j) -> (j, i) : memref<?x?xf64> to memref<?x?xf64, strided<[1, ?]>>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %p = memref.load %t[%i, %i] : memref<?x?xf64, strided<[1, ?]>>
    memref.store %p, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
func.func @address(%x: memref<?xf64>, %n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = memref.alloc(%n) : memref<?xf64>
  %a = memref.extract_aligned_pointer_as_index %y : memref<?xf64> -> index
  %b = arith.remui %a, %n : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %p = memref.load %x[%b] : memref<?xf64>
    memref.store %p, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return %a : index
}
func.func @compared(%x: memref<?xf64>, %n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = memref.alloc(%n) : memref<?xf64>
  %a = memref.extract_aligned_pointer_as_index %y : memref<?xf64> -> index
  %m = arith.addi %n, %c1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %j = arith.remui %i, %m : index
    %p = memref.load %x[%j] : memref<?xf64>
    memref.store %p, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return %a : index
}
