// RUN: leibniz-opt %s --pass-pipeline='builtin.module(func.func(lz-gpu-launch-to-loops))' --split-input-file --verify-diagnostics | FileCheck %s

// A launch becomes a parallel loop over its blocks, then its threads (x,
// y, z), with its body inside: the ids are the induction variables and the
// sizes the bounds.
// CHECK-LABEL: func.func @launch
// CHECK-SAME: (%[[A:.*]]: memref<?xf64>, %[[G:.*]]: index)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: scf.parallel (%[[BX:.*]], %{{.*}}, %{{.*}}, %[[TX:.*]], %{{.*}}, %{{.*}}) = (%[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]]) to (%[[G]], %[[C1]], %[[C1]], %[[C64]], %[[C1]], %[[C1]]) step (
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %[[C64]]
// CHECK: %[[ID:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: memref.store %{{.*}}, %[[A]][%[[ID]]]
// CHECK-NOT: gpu.
func.func @launch(%a: memref<?xf64>, %g: index) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %x = arith.constant 1.0 : f64
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %g, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %id = arith.addi %base, %tx : index
    memref.store %x, %a[%id] : memref<?xf64>
    gpu.terminator
  }
  return
}

// -----

func.func @async(%g: index) {
  %t = gpu.wait async
  // expected-error @below {{lz-gpu-launch-to-loops: only synchronous launches of one block and no shared memory run on the host}}
  %d = gpu.launch async [%t] blocks(%bx, %by, %bz) in (%gx = %g, %gy = %g, %gz = %g)
             threads(%tx, %ty, %tz) in (%sx = %g, %sy = %g, %sz = %g) {
    gpu.terminator
  }
  return
}
