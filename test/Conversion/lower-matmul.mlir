// RUN: leibniz-opt %s --pass-pipeline="builtin.module(lz-lower-matmul)" | FileCheck %s --check-prefix=LOOPS
// RUN: leibniz-opt %s --pass-pipeline="builtin.module(lz-lower-matmul{blas=true})" | FileCheck %s --check-prefix=BLAS

// Without a BLAS, loops i, k, j, accumulating into C in k's order.
// LOOPS-LABEL: func.func @product
// LOOPS: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// LOOPS-NEXT: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// LOOPS-NEXT: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// LOOPS-NEXT: %[[A:.*]] = memref.load %arg0[%[[I]], %[[K]]]
// LOOPS-NEXT: %[[B:.*]] = memref.load %arg1[%[[K]], %[[J]]]
// LOOPS-NEXT: %[[C:.*]] = memref.load %arg2[%[[I]], %[[J]]]
// LOOPS-NEXT: %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f64
// LOOPS-NEXT: %[[S:.*]] = arith.addf %[[C]], %[[P]] : f64
// LOOPS-NEXT: memref.store %[[S]], %arg2[%[[I]], %[[J]]]
// LOOPS-NOT: linalg.matmul

// With a BLAS, cblas_dgemm above the threshold, the loops below it.
// BLAS: func.func private @cblas_dgemm(i32, i32, i32, i32, i32, i32, f64, !llvm.ptr, i32, !llvm.ptr, i32, f64, !llvm.ptr, i32)
// BLAS-LABEL: func.func @product
// BLAS: %[[LARGE:.*]] = arith.cmpi sge, %{{.*}}, %c32768
// BLAS: scf.if %[[LARGE]] {
// BLAS: call @cblas_dgemm(%c101_i32, %c111_i32, %c111_i32{{.*}}) : (i32, i32, i32, i32, i32, i32, f64, !llvm.ptr, i32, !llvm.ptr, i32, f64, !llvm.ptr, i32) -> ()
// BLAS: } else {
// BLAS: scf.for
func.func @product(%a: memref<?x?xf64>, %b: memref<?x?xf64>, %c: memref<?x?xf64>) {
  linalg.matmul ins(%a, %b : memref<?x?xf64>, memref<?x?xf64>) outs(%c : memref<?x?xf64>)
  return
}

// Integers never go to BLAS; batches loop over the batch dimension first.
// BLAS-LABEL: func.func @batched
// BLAS-NOT: cblas
// BLAS: scf.for
// BLAS-NEXT: scf.for
// BLAS-NEXT: scf.for
// BLAS-NEXT: scf.for
// BLAS: arith.muli
// BLAS: arith.addi
func.func @batched(%a: memref<2x3x4xi64>, %b: memref<2x4x5xi64>, %c: memref<2x3x5xi64>) {
  linalg.batch_matmul ins(%a, %b : memref<2x3x4xi64>, memref<2x4x5xi64>) outs(%c : memref<2x3x5xi64>)
  return
}

// A product into zeros: BLAS overwrites the result (beta = 0), and the
// zeros are written in the loops' branch only.
// BLAS-LABEL: func.func @fresh
// BLAS-NOT: linalg.fill
// BLAS: scf.if
// BLAS: %[[BETA:.*]] = arith.constant 0.000000e+00 : f64
// BLAS: call @cblas_dgemm({{.*}}, %[[BETA]], %{{.*}}, %{{.*}})
// BLAS: } else {
// BLAS-NEXT: linalg.fill
// BLAS: scf.for
func.func @fresh(%a: memref<?x?xf64>, %b: memref<?x?xf64>, %c: memref<?x?xf64>) {
  %zero = arith.constant -0.0 : f64
  linalg.fill ins(%zero : f64) outs(%c : memref<?x?xf64>)
  linalg.matmul ins(%a, %b : memref<?x?xf64>, memref<?x?xf64>) outs(%c : memref<?x?xf64>)
  return
}
