// RUN: leibniz-opt %s --pass-pipeline="builtin.module(lz-lower-matmul)" | FileCheck %s --check-prefix=LOOPS
// RUN: leibniz-opt %s --pass-pipeline="builtin.module(lz-lower-matmul{blas=true})" | FileCheck %s --check-prefix=BLAS
// RUN: leibniz-opt %s --pass-pipeline="builtin.module(lz-lower-matmul{blas=true parallel=true blas-library=cuda})" | FileCheck %s --check-prefix=CUDA
// RUN: not leibniz-opt %s --pass-pipeline="builtin.module(lz-lower-matmul{blas=true blas-library=mkl})" 2>&1 | FileCheck %s --check-prefix=BADLIB
// BADLIB: error: lz-lower-matmul: blas-library must be cblas or cuda, not 'mkl'

// Without a BLAS, loops over tiles of C: blocks of 4 rows, and in them of
// 8 columns, whose loop over k carries the tile's 32 elements, each adding
// its products in k's order; then narrower tiles, down to single elements.
// LOOPS-LABEL: func.func @product
// LOOPS: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %c4{{(_[0-9]+)?}} {
// LOOPS: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %c8{{(_[0-9]+)?}} {
// LOOPS: %[[C:.*]] = memref.load %arg2[%[[I]], %[[J]]]
// LOOPS: %[[T:.*]]:32 = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:[^ ]*]] = %[[C]],
// LOOPS-NEXT: %[[A:.*]] = memref.load %arg0[%[[I]], %[[K]]]
// LOOPS: %[[B:.*]] = memref.load %arg1[%[[K]], %[[J]]]
// LOOPS: %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f64
// LOOPS-NEXT: %[[S:.*]] = arith.addf %[[ACC]], %[[P]] : f64
// LOOPS: scf.yield %[[S]],
// LOOPS: memref.store %[[T]]#0, %arg2[%[[I]], %[[J]]]
// LOOPS: scf.for %{{.*}} iter_args(%{{.*}}) -> (f64) {
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
// BLAS: scf.for %[[BATCH:.*]] = %{{.*}} to %{{.*}} step
// BLAS: scf.for %[[K:.*]] = {{.*}} iter_args
// BLAS: memref.load %arg0[%[[BATCH]], %{{.*}}, %[[K]]]
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

// For the CUDA target: the runtime's cuBLAS calls where cuBLAS loaded, else
// the product as a parallel loop (one thread per element); a product in a
// parallel loop stays there, in its kernel.
// CUDA-DAG: func.func private @leibniz_cuda_dgemm(i32, i32, i32, i32, i32, i32, f64, !llvm.ptr, i32, !llvm.ptr, i32, f64, !llvm.ptr, i32)
// CUDA-DAG: func.func private @leibniz_cuda_blas_available() -> i32
// CUDA-LABEL: func.func @product
// Only a large product asks whether cuBLAS loaded: the question loads it.
// CUDA: %[[LARGE:.*]] = arith.cmpi sge, %{{.*}}, %c32768
// CUDA: %[[USE:.*]] = scf.if %[[LARGE]] -> (i1) {
// CUDA: %[[LOADED:.*]] = func.call @leibniz_cuda_blas_available() : () -> i32
// CUDA: %[[AVAILABLE:.*]] = arith.cmpi ne, %[[LOADED]], %{{.*}} : i32
// CUDA: scf.yield %[[AVAILABLE]] : i1
// CUDA: } else {
// CUDA: scf.yield %[[LARGE]] : i1
// CUDA: scf.if %[[USE]] {
// CUDA: call @leibniz_cuda_dgemm(%c101_i32, %c111_i32, %c111_i32
// CUDA: } else {
// CUDA: scf.parallel
// CUDA-LABEL: func.func @fresh
// CUDA-NOT: linalg.fill
// CUDA: scf.if
// CUDA: call @leibniz_cuda_dgemm
// CUDA: } else {
// CUDA-NEXT: linalg.fill
// CUDA-LABEL: func.func @in_kernel
// CUDA-NOT: leibniz_cuda
// CUDA: return
func.func @in_kernel(%a: memref<?x?x?xf64>, %b: memref<?x?xf64>, %c: memref<?x?x?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%t) = (%c0) to (%n) step (%c1) {
    %at = memref.subview %a[%t, 0, 0] [1, 20, 41] [1, 1, 1] : memref<?x?x?xf64> to memref<20x41xf64, strided<[?, 1], offset: ?>>
    %ct = memref.subview %c[%t, 0, 0] [1, 20, 40] [1, 1, 1] : memref<?x?x?xf64> to memref<20x40xf64, strided<[?, 1], offset: ?>>
    linalg.matmul ins(%at, %b : memref<20x41xf64, strided<[?, 1], offset: ?>>, memref<?x?xf64>) outs(%ct : memref<20x40xf64, strided<[?, 1], offset: ?>>)
    scf.reduce
  }
  return
}

// A product in a function called from a parallel loop runs in that loop's
// kernel too.
// CUDA-LABEL: func.func @called_in_kernel
// CUDA-NOT: leibniz_cuda
// CUDA: return
func.func @called_in_kernel(%a: memref<20x41xf64>, %b: memref<41x40xf64>, %c: memref<20x40xf64>) {
  linalg.matmul ins(%a, %b : memref<20x41xf64>, memref<41x40xf64>) outs(%c : memref<20x40xf64>)
  return
}
// CUDA-LABEL: func.func @calls_in_kernel
// CUDA-NOT: leibniz_cuda
// CUDA: return
func.func @calls_in_kernel(%a: memref<20x41xf64>, %b: memref<41x40xf64>, %c: memref<20x40xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%t) = (%c0) to (%n) step (%c1) {
    func.call @called_in_kernel(%a, %b, %c) : (memref<20x41xf64>, memref<41x40xf64>, memref<20x40xf64>) -> ()
    scf.reduce
  }
  return
}
