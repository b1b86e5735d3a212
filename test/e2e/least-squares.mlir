// The README's demo program: gradient descent recovers w* = (1.5, -2, 0.5)
// and drives the loss to zero, before and after canonicalization.

// RUN: leibniz-opt %leibniz_src_root/examples/least-squares.mlir --lz-interpret=entry=main -o /dev/null | FileCheck %s --match-full-lines
// RUN: leibniz-opt %leibniz_src_root/examples/least-squares.mlir --canonicalize --lz-interpret=entry=main -o /dev/null | FileCheck %s --match-full-lines

// CHECK:      [ 1.5 -2.   0.5]
// CHECK-NEXT: {{[0-9.]+}}e-{{[3-9][0-9]}}
