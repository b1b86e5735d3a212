// RUN: leibniz-opt %s --lz-lower-parallel-launch --split-input-file --verify-diagnostics | FileCheck %s

// A launch (captured values, iteration range, cost) stores the captured
// values into a struct allocated on the caller's entry and passes it, with
// the task that unpacks it, the iteration range and the cost, to the
// runtime.
// CHECK-LABEL: llvm.func @f
// CHECK-SAME: (%[[P:.*]]: !llvm.ptr, %[[A:.*]]: f64, %[[N:.*]]: i64, %[[COST:.*]]: i64)
// CHECK: %[[FRAME:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(ptr, f64)>
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i64)
// CHECK: %[[F0:.*]] = llvm.getelementptr %[[FRAME]][0, 0]
// CHECK: llvm.store %[[P]], %[[F0]]
// CHECK: %[[F1:.*]] = llvm.getelementptr %[[FRAME]][0, 1]
// CHECK: llvm.store %[[A]], %[[F1]]
// CHECK: %[[TASK:.*]] = llvm.mlir.addressof @f__par__task
// CHECK: llvm.call @leibniz_parallel_for(%[[TASK]], %[[FRAME]], %[[ZERO]], %[[N]], %[[COST]])
// CHECK-NOT: f__par__launch
// CHECK: llvm.func internal @f__par__task(%[[CTX:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: %[[G0:.*]] = llvm.getelementptr %[[CTX]][0, 0]
// CHECK: %[[L0:.*]] = llvm.load %[[G0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[G1:.*]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK: %[[L1:.*]] = llvm.load %[[G1]] : !llvm.ptr -> f64
// CHECK: llvm.call @f__par(%[[L0]], %[[L1]], %[[B]], %[[E]])
// CHECK: llvm.func @leibniz_parallel_for(!llvm.ptr, !llvm.ptr, i64, i64, i64)
llvm.func @f(%p: !llvm.ptr, %a: f64, %n: i64, %cost: i64) {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  llvm.call @f__par__launch(%p, %a, %c0, %n, %cost) : (!llvm.ptr, f64, i64, i64, i64) -> ()
  llvm.return
}
llvm.func @f__par__launch(!llvm.ptr, f64, i64, i64, i64) attributes {leibniz.parallel_body = @f__par}
llvm.func internal @f__par(%p: !llvm.ptr, %a: f64, %b: i64, %e: i64) {
  llvm.return
}

// -----

// expected-error @below {{malformed parallel launch declaration}}
llvm.func @g__par__launch(!llvm.ptr, i64, i64, i64) attributes {leibniz.parallel_body = @missing}

// -----

// The body must take the launch's operands but the cost.
llvm.func internal @h__par(%p: !llvm.ptr, %b: i64, %e: i64, %c: i64) {
  llvm.return
}
// expected-error @below {{malformed parallel launch declaration}}
llvm.func @h__par__launch(!llvm.ptr, i64, i64, i64) attributes {leibniz.parallel_body = @h__par}

// -----

// The parameters that lz-outline-parallel marks become `noalias`.
// CHECK-LABEL: llvm.func internal @n__par(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: i64, %{{.*}}: i64)
// CHECK-NOT: leibniz.noalias_params
llvm.func @n(%p: !llvm.ptr, %q: !llvm.ptr, %count: i64, %cost: i64) {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  llvm.call @n__par__launch(%p, %q, %c0, %count, %cost) : (!llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
  llvm.return
}
llvm.func @n__par__launch(!llvm.ptr, !llvm.ptr, i64, i64, i64) attributes {leibniz.parallel_body = @n__par}
llvm.func internal @n__par(%p: !llvm.ptr, %q: !llvm.ptr, %b: i64, %e: i64) attributes {leibniz.noalias_params = array<i64: 1>} {
  llvm.return
}

// -----

// expected-error @below {{malformed leibniz.noalias_params}}
llvm.func internal @m__par(%p: !llvm.ptr, %a: f64, %b: i64, %e: i64) attributes {leibniz.noalias_params = array<i64: 1>} {
  llvm.return
}
llvm.func @m__par__launch(!llvm.ptr, f64, i64, i64, i64) attributes {leibniz.parallel_body = @m__par}
