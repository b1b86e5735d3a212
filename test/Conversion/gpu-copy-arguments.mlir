// RUN: leibniz-opt %s --lz-gpu-copy-arguments --split-input-file --verify-diagnostics | FileCheck %s

// The buffer arguments of an entry function (called from outside: marked
// llvm.emit_c_interface) are copied, at its entry, into buffers of its own,
// of the same type, which replace them; scalars, unused buffers and other
// functions are left.
// CHECK-LABEL: func.func @entry
// CHECK-SAME: (%[[A:.*]]: memref<?x3xf64>, %[[B:.*]]: memref<2xf32>, %[[S:.*]]: f64, %[[U:.*]]: memref<4xf64>)
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[D:.*]] = memref.dim %[[A]], %[[C0]]
// CHECK-NEXT: %[[ACOPY:.*]] = memref.alloc(%[[D]]) : memref<?x3xf64>
// CHECK-NEXT: memref.copy %[[A]], %[[ACOPY]]
// CHECK-NEXT: %[[BCOPY:.*]] = memref.alloc() : memref<2xf32>
// CHECK-NEXT: memref.copy %[[B]], %[[BCOPY]]
// CHECK-NOT: memref.alloc
// CHECK: memref.load %[[ACOPY]]
// CHECK: memref.load %[[BCOPY]]
// CHECK: return %[[ACOPY]]
func.func @entry(%a: memref<?x3xf64>, %b: memref<2xf32>, %s: f64, %u: memref<4xf64>) -> memref<?x3xf64> attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %x = memref.load %a[%c0, %c0] : memref<?x3xf64>
  %y = memref.load %b[%c0] : memref<2xf32>
  return %a : memref<?x3xf64>
}

// CHECK-LABEL: func.func @internal
// CHECK-NOT: memref.alloc
func.func @internal(%a: memref<4xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %x = memref.load %a[%c0] : memref<4xf64>
  return %x : f64
}

// -----

// The pipeline passes buffers with the identity layout; others are an
// error.
// expected-error @below {{lz-gpu-copy-arguments: argument 0 has a layout}}
func.func @strided(%a: memref<4xf64, strided<[2]>>) -> f64 attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %x = memref.load %a[%c0] : memref<4xf64, strided<[2]>>
  return %x : f64
}
