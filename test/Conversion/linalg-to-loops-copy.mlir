// RUN: leibniz-opt %s --lz-linalg-to-loops | FileCheck %s
// RUN: leibniz-opt %s --lz-linalg-to-loops=parallel-in-loops=true | FileCheck %s --check-prefix=GPU

// On the CPU, a copy in a loop's body (a stack's row, pushed at every
// step) runs as a loop there, not as a call of the runtime's copy for any
// layout; a copy outside loops stays a memref.copy (a memcpy). The CUDA
// pipeline's (parallel-in-loops) keeps its copies.
// CHECK-LABEL: func.func @push(
// CHECK: memref.copy %arg0, %{{.*}} : memref<?xf64> to memref<?xf64>
// CHECK: scf.for
// CHECK-NOT: memref.copy
// CHECK: %[[ROW:.*]] = memref.subview
// CHECK-NOT: memref.copy
// CHECK: scf.for %[[I:[^ ]*]] =
// CHECK: %[[J:.*]] = affine.apply #{{.*}}(%[[I]])
// CHECK: %[[E:.*]] = memref.load %arg0[%[[J]]]
// CHECK: memref.store %[[E]], %[[ROW]]
// GPU-LABEL: func.func @push(
// GPU: scf.for
// GPU: memref.copy %arg0, %{{.*}} : memref<?xf64> to memref<?xf64, strided<[1], offset: ?>>
func.func @push(%x: memref<?xf64>, %stack: memref<?x?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = memref.dim %x, %c0 : memref<?xf64>
  %all = memref.alloc(%m) : memref<?xf64>
  memref.copy %x, %all : memref<?xf64> to memref<?xf64>
  scf.for %t = %c0 to %n step %c1 {
    %row = memref.subview %stack[%t, 0] [1, %m] [1, 1] : memref<?x?xf64> to memref<?xf64, strided<[1], offset: ?>>
    memref.copy %x, %row : memref<?xf64> to memref<?xf64, strided<[1], offset: ?>>
  }
  memref.dealloc %all : memref<?xf64>
  return
}
