// accumulate-inner-sum moves the variables of a stencil's scatter-add that
// are in no index of its target into a sum in its body, where its reads
// are contiguous in a variable of the target's last index: a
// convolution's gradient with respect to its input (@conv) adds, at each
// point of the image and the window, the sum over the output channels.
// The rule leaves scatter-adds whose variables are all in the target
// (@all), whose last index is not a sum of two variables (@plain), whose
// reads are not contiguous in such a variable (@strided), whose value
// multiplies by a float that stays outside the sum (@outside), and masked
// ones (@masked).
// RUN: leibniz-opt %s --lz-rewrite='normalize(accumulate-inner-sum)' | FileCheck %s

// CHECK-LABEL: func.func @conv
// CHECK: lz.accumulate %[[Y:.*]] < %{{.*}}, %[[X:.*]] < %{{.*}}, %[[CI:.*]] < %{{.*}}, %[[R:.*]] < %c3, %[[S:.*]] < %c3 into
// CHECK-DAG: %[[YR:.*]] = arith.addi %[[Y]], %[[R]] : index
// CHECK-DAG: %[[XS:.*]] = arith.addi %[[X]], %[[S]] : index
// CHECK: %[[SUM:.*]] = lz.sum %[[O:.*]] < %{{.*}} : f64 {
// CHECK-NEXT: %[[KV:.*]] = lz.get %{{.*}}[%[[O]], %[[CI]], %[[R]], %[[S]]]
// CHECK-NEXT: %[[GV:.*]] = lz.get %{{.*}}[%[[O]], %[[Y]], %[[X]]]
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[KV]], %[[GV]] : f64
// CHECK-NEXT: lz.yield %[[P]] : f64
// CHECK: lz.yield %[[CI]], %[[YR]], %[[XS]], %[[SUM]] : index, index, index, f64
func.func @conv(%k: tensor<?x?x3x3xf64>, %g: tensor<?x?x?xf64>) -> tensor<?x?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %f = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %h = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %w = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %c = tensor.dim %k, %c1 : tensor<?x?x3x3xf64>
  %h2 = arith.addi %h, %c2 : index
  %w2 = arith.addi %w, %c2 : index
  %a = lz.accumulate %o < %f, %y < %h, %x < %w, %ci < %c, %r < %c3, %s < %c3 into (%c, %h2, %w2) : tensor<?x?x?xf64> {
    %yr = arith.addi %y, %r : index
    %xs = arith.addi %x, %s : index
    %kv = lz.get %k[%o, %ci, %r, %s] : tensor<?x?x3x3xf64>
    %gv = lz.get %g[%o, %y, %x] : tensor<?x?x?xf64>
    %p = arith.mulf %kv, %gv : f64
    lz.yield %ci, %yr, %xs, %p : index, index, index, f64
  }
  return %a : tensor<?x?x?xf64>
}

// CHECK-LABEL: func.func @all
// CHECK-NOT: lz.sum
// CHECK: return
func.func @all(%g: tensor<?x?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %h = tensor.dim %g, %c0 : tensor<?x?xf64>
  %w = tensor.dim %g, %c1 : tensor<?x?xf64>
  %a = lz.accumulate %y < %h, %x < %w, %s < %c3 into (%h, %n) : tensor<?x?xf64> {
    %xs = arith.addi %x, %s : index
    %gv = lz.get %g[%y, %x] : tensor<?x?xf64>
    lz.yield %y, %xs, %gv : index, index, f64
  }
  return %a : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @plain
// CHECK-NOT: lz.sum
// CHECK: return
func.func @plain(%g: tensor<?x?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %f = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %h = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %w = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %a = lz.accumulate %o < %f, %y < %h, %x < %w into (%h, %w) : tensor<?x?xf64> {
    %gv = lz.get %g[%o, %y, %x] : tensor<?x?x?xf64>
    lz.yield %y, %x, %gv : index, index, f64
  }
  return %a : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @strided
// CHECK-NOT: lz.sum
// CHECK: return
func.func @strided(%g: tensor<?x?x?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %f = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %h = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %a = lz.accumulate %o < %f, %y < %h, %x < %h, %s < %c3 into (%h, %n) : tensor<?x?xf64> {
    %xs = arith.addi %x, %s : index
    %gv = lz.get %g[%o, %x, %y] : tensor<?x?x?xf64>
    lz.yield %y, %xs, %gv : index, index, f64
  }
  return %a : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @outside
// CHECK-NOT: lz.sum
// CHECK: return
func.func @outside(%g: tensor<?x?x?xf64>, %b: tensor<?x?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %f = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %h = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %w = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %a = lz.accumulate %o < %f, %y < %h, %x < %w, %s < %c3 into (%h, %n) : tensor<?x?xf64> {
    %xs = arith.addi %x, %s : index
    %bv = lz.get %b[%y, %x] : tensor<?x?xf64>
    %gv = lz.get %g[%o, %y, %x] : tensor<?x?x?xf64>
    %p = arith.mulf %bv, %gv : f64
    lz.yield %y, %xs, %p : index, index, f64
  }
  return %a : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @masked
// CHECK-NOT: lz.sum
// CHECK: return
func.func @masked(%g: tensor<?x?x?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %f = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %h = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %w = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %a = lz.accumulate %o < %f, %y < %h, %x < %w, %s < %c3 into (%h, %n) : tensor<?x?xf64> {
    %xs = arith.addi %x, %s : index
    %in = arith.cmpi ult, %xs, %n : index
    %gv = lz.get %g[%o, %y, %x] : tensor<?x?x?xf64>
    lz.yield %in, %y, %xs, %gv : i1, index, index, f64
  } attributes {masked}
  return %a : tensor<?x?xf64>
}
