// RUN: leibniz-opt %s --lower-lz-print | FileCheck %s

// Scalars go to leibniz_print_<type>, tensors as unranked tensors (of a
// copy) to leibniz_print_tensor_<type> (with a C interface); the value flows
// on.

// CHECK-LABEL: func.func @f
// CHECK: call @leibniz_print_f64(%arg0) : (f64) -> ()
// CHECK: %[[C:.*]] = bufferization.alloc_tensor() copy(%arg1) : tensor<?x3xi1>
// CHECK: %[[U:.*]] = tensor.cast %[[C]] : tensor<?x3xi1> to tensor<*xi1>
// CHECK: call @leibniz_print_tensor_i1(%[[U]]) : (tensor<*xi1>) -> ()
// CHECK: return %arg0, %arg1
// CHECK: func.func private @leibniz_print_f64(f64)
// CHECK: func.func private @leibniz_print_tensor_i1(tensor<*xi1>) attributes {llvm.emit_c_interface}
func.func @f(%x: f64, %m: tensor<?x3xi1>) -> (f64, tensor<?x3xi1>) {
  %a = lz.print %x : f64
  %b = lz.print %m : tensor<?x3xi1>
  return %a, %b : f64, tensor<?x3xi1>
}
