// RUN: leibniz-opt %s --lz-parallel-to-gpu=block-size=128 --split-input-file --verify-diagnostics | FileCheck %s
// RUN: not leibniz-opt %s --lz-parallel-to-gpu=block-size=2000 --split-input-file 2>&1 | FileCheck %s --check-prefix=SIZE

// SIZE: error: lz-parallel-to-gpu: block-size must be in 1..1024, got 2000

// A 2-D loop becomes one launch of ceil(N / 128) blocks of 128 threads,
// N the product of the trip counts, guarded by N > 0. Each thread takes the
// linear iteration blockIdx.x * 128 + threadIdx.x, returns past N, and
// recovers the induction variables row-major: the last dimension is the
// remainder by its trip count, the first the quotient; each is its lower
// bound plus its index times its step.
// CHECK-LABEL: func.func @twod
// CHECK-SAME: (%[[A:.*]]: memref<?x?xf64>, %[[N:.*]]: index, %[[M:.*]]: index)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[D0:.*]] = arith.subi %[[N]], %[[C1]]
// CHECK: %[[P0:.*]] = arith.maxsi %[[D0]]
// CHECK: %[[T0:.*]] = arith.ceildivui %[[P0]], %[[C1]]
// CHECK: %[[D1:.*]] = arith.subi %[[M]], %[[C0]]
// CHECK: %[[P1:.*]] = arith.maxsi %[[D1]]
// CHECK: %[[T1:.*]] = arith.ceildivui %[[P1]], %[[C2]]
// CHECK: %[[TOTAL:.*]] = arith.muli %{{.*}}, %[[T1]]
// CHECK-DAG: %[[B:.*]] = arith.constant 128 : index
// CHECK: %[[ANY:.*]] = arith.cmpi sgt, %[[TOTAL]]
// CHECK: scf.if %[[ANY]] {
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %[[TOTAL]], %[[B]]
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[BLOCKS]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[B]],
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %[[B]]
// CHECK: %[[ID:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ID]], %[[TOTAL]]
// CHECK: scf.if %[[IN]] {
// CHECK: %[[R:.*]] = arith.remui %[[ID]], %[[T1]]
// CHECK: %[[Q:.*]] = arith.divui %[[ID]], %[[T1]]
// CHECK: %[[S1:.*]] = arith.muli %[[R]], %[[C2]]
// CHECK: %[[J:.*]] = arith.addi %[[C0]], %[[S1]]
// CHECK: %[[S0:.*]] = arith.muli %[[Q]], %[[C1]]
// CHECK: %[[I:.*]] = arith.addi %[[C1]], %[[S0]]
// CHECK: memref.load %[[A]][%[[I]], %[[J]]]
// CHECK: memref.store %{{.*}}, %[[A]][%[[I]], %[[J]]]
// CHECK: }
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
func.func @twod(%a: memref<?x?xf64>, %n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.parallel (%i, %j) = (%c1, %c0) to (%n, %m) step (%c1, %c2) {
    %v = memref.load %a[%i, %j] : memref<?x?xf64>
    %w = arith.addf %v, %v : f64
    memref.store %w, %a[%i, %j] : memref<?x?xf64>
    scf.reduce
  }
  return
}

// -----

// Loops that call the host's runtime (a function without a body, or the
// LLVM dialect), copy or allocate buffers, or reduce, stay on the host.
// CHECK-LABEL: func.func @host
// CHECK-NOT: gpu.launch
// CHECK-COUNT-4: scf.parallel
// CHECK-NOT: gpu.launch
func.func private @print(f64)
func.func @host(%a: memref<?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %v = memref.load %a[%i] : memref<?xf64>
    func.call @print(%v) : (f64) -> ()
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %b = memref.alloc(%n) : memref<?xf64>
    memref.copy %a, %b : memref<?xf64> to memref<?xf64>
    memref.dealloc %b : memref<?xf64>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %v = memref.load %a[%i] : memref<?xf64>
    %s = llvm.mlir.addressof @message : !llvm.ptr
    scf.reduce
  }
  %sum = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f64 {
    %v = memref.load %a[%i] : memref<?xf64>
    scf.reduce(%v : f64) {
    ^bb0(%x: f64, %y: f64):
      %r = arith.addf %x, %y : f64
      scf.reduce.return %r : f64
    }
  }
  return %sum : f64
}
llvm.mlir.global internal constant @message("x") {addr_space = 0 : i32}

// -----

// Only the outermost parallel loop becomes a launch; the inner one runs in
// its thread, as does a call of a function with a body.
// CHECK-LABEL: func.func @nested
// CHECK: gpu.launch
// CHECK: scf.parallel
// CHECK: func.call @twice
// CHECK: gpu.terminator
func.func @twice(%x: f64) -> f64 {
  %y = arith.addf %x, %x : f64
  return %y : f64
}
func.func @nested(%a: memref<?x?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.parallel (%j) = (%c0) to (%n) step (%c1) {
      %v = memref.load %a[%i, %j] : memref<?x?xf64>
      %w = func.call @twice(%v) : (f64) -> f64
      memref.store %w, %a[%i, %j] : memref<?x?xf64>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// A function that a kernel calls runs in a thread: its own parallel loop
// stays a loop, also where the host calls it.
// CHECK-LABEL: func.func @inner
// CHECK-NOT: gpu.launch
// CHECK: scf.parallel
// CHECK-LABEL: func.func @outer
// CHECK: gpu.launch
// CHECK: func.call @inner
// CHECK: gpu.terminator
// CHECK: call @inner
func.func @inner(%a: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %x, %a[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
func.func @outer(%a: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    func.call @inner(%a, %n) : (memref<?xf64>, index) -> ()
    scf.reduce
  }
  func.call @inner(%a, %n) : (memref<?xf64>, index) -> ()
  return
}
