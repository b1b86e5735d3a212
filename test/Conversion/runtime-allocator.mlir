// RUN: leibniz-opt %s --lz-runtime-allocator --split-input-file --verify-diagnostics | FileCheck %s

// The allocations and deallocations of finalize-memref-to-llvm call the
// runtime's functions, which reuse freed buffers. A buffer returned aliases
// no other, as LLVM knows of `aligned_alloc`'s by its name.
// CHECK-LABEL: llvm.func @leibniz_aligned_alloc(i64, i64) -> (!llvm.ptr {llvm.noalias})
// CHECK: llvm.func @leibniz_free(!llvm.ptr)
// CHECK-LABEL: llvm.func @f
// CHECK: %[[P:.*]] = llvm.call @leibniz_aligned_alloc(%{{.*}}, %{{.*}}) : (i64, i64) -> !llvm.ptr
// CHECK: llvm.call @leibniz_free(%[[P]]) : (!llvm.ptr) -> ()
// CHECK-NOT: @aligned_alloc
// CHECK-NOT: @free
llvm.func @aligned_alloc(i64, i64) -> !llvm.ptr
llvm.func @free(!llvm.ptr)
llvm.func @f(%n: i64) {
  %a = llvm.mlir.constant(64 : i64) : i64
  %p = llvm.call @aligned_alloc(%a, %n) : (i64, i64) -> !llvm.ptr
  llvm.call @free(%p) : (!llvm.ptr) -> ()
  llvm.return
}

// -----

// A module that declares the runtime's function already keeps that
// declaration.
// CHECK-LABEL: llvm.func @leibniz_free(!llvm.ptr)
// CHECK-NOT: llvm.func @free
// CHECK-LABEL: llvm.func @g
// CHECK: llvm.call @leibniz_free(%{{.*}})
llvm.func @leibniz_free(!llvm.ptr)
llvm.func @free(!llvm.ptr)
llvm.func @g(%p: !llvm.ptr) {
  llvm.call @free(%p) : (!llvm.ptr) -> ()
  llvm.return
}

// -----

// expected-error @+1 {{'leibniz_free' is declared with another type}}
llvm.func @free(!llvm.ptr)
llvm.func @leibniz_free(i64)
