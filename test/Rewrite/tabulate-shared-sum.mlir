// tabulate-shared-sum computes a sum's costly summand in a traversal
// before the sum where a later scope computes it too, and
// reuse-for-element then reads it there: softmax's exponentials (@softmax)
// and a row's (@rows) are computed once. The rule leaves a sum whose
// summand no later scope computes (@alone, @other: another shift) and one
// whose summand costs no more than reading it back (@cheap).
// RUN: leibniz-opt %s --lz-rewrite='normalize(tabulate-shared-sum <+ reuse-for-element <+ cse <+ dce)' | FileCheck %s

// CHECK-LABEL: func.func @softmax
// CHECK: %[[T:.*]] = lz.for %[[I:.*]] < %{{.*}} : tensor<?xf64> {
// CHECK: %[[E:.*]] = math.exp
// CHECK-NEXT: lz.yield %[[E]] : f64
// CHECK: %[[S:.*]] = lz.sum %[[K:.*]] < %{{.*}} : f64 {
// CHECK-NEXT: %[[X:.*]] = lz.get %[[T]][%[[K]]]
// CHECK-NEXT: lz.yield %[[X]] : f64
// CHECK: lz.for
// CHECK-NOT: math.exp
// CHECK: lz.get %[[T]]
// CHECK-NOT: math.exp
// CHECK: return
func.func @softmax(%z: tensor<?xf64>, %m: f64) -> (f64, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %z, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %z[%k] : tensor<?xf64>
    %d = arith.subf %e, %m : f64
    %x = math.exp %d : f64
    lz.yield %x : f64
  }
  %p = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %z[%i] : tensor<?xf64>
    %d = arith.subf %e, %m : f64
    %x = math.exp %d : f64
    %q = arith.divf %x, %s : f64
    lz.yield %q : f64
  }
  return %s, %p : f64, tensor<?xf64>
}

// CHECK-LABEL: func.func @rows
// CHECK: %[[T:.*]] = lz.for %{{.*}} < %{{.*}}, %{{.*}} < %{{.*}} : tensor<?x?xf64> {
// CHECK: math.exp
// CHECK: lz.for %[[I:.*]] < %{{.*}} : tensor<?xf64> {
// CHECK: lz.sum %[[K:.*]] < %{{.*}} : f64 {
// CHECK-NEXT: lz.get %[[T]][%[[I]], %[[K]]]
// CHECK-NOT: math.exp
// CHECK: return
func.func @rows(%x: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = tensor.dim %x, %c0 : tensor<?x?xf64>
  %c = tensor.dim %x, %c1 : tensor<?x?xf64>
  %sums = lz.for %i < %r : tensor<?xf64> {
    %row = lz.get %x[%i] : tensor<?x?xf64>
    %t = lz.sum %k < %c : f64 {
      %e = lz.get %row[%k] : tensor<?xf64>
      %y = math.exp %e : f64
      lz.yield %y : f64
    }
    lz.yield %t : f64
  }
  %w = lz.for %i < %r, %j < %c : tensor<?x?xf64> {
    %row = lz.get %x[%i] : tensor<?x?xf64>
    %e = lz.get %row[%j] : tensor<?xf64>
    %y = math.exp %e : f64
    %t = lz.get %sums[%i] : tensor<?xf64>
    %q = arith.divf %y, %t : f64
    lz.yield %q : f64
  }
  return %w : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @alone
// CHECK-NOT: lz.for
// CHECK: return
func.func @alone(%z: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %z, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %z[%k] : tensor<?xf64>
    %x = math.exp %e : f64
    lz.yield %x : f64
  }
  return %s : f64
}

// CHECK-LABEL: func.func @other
// CHECK: lz.sum
// CHECK-NEXT: lz.get %arg0
// CHECK: return
func.func @other(%z: tensor<?xf64>, %m: f64) -> (f64, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %z, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %z[%k] : tensor<?xf64>
    %x = math.exp %e : f64
    lz.yield %x : f64
  }
  %p = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %z[%i] : tensor<?xf64>
    %d = arith.subf %e, %m : f64
    %x = math.exp %d : f64
    lz.yield %x : f64
  }
  return %s, %p : f64, tensor<?xf64>
}

// CHECK-LABEL: func.func @cheap
// CHECK: lz.sum
// CHECK-NEXT: lz.get %arg0
// CHECK: return
func.func @cheap(%z: tensor<?xf64>, %m: f64) -> (f64, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %z, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %z[%k] : tensor<?xf64>
    %d = arith.subf %e, %m : f64
    lz.yield %d : f64
  }
  %p = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %z[%i] : tensor<?xf64>
    %d = arith.subf %e, %m : f64
    lz.yield %d : f64
  }
  return %s, %p : f64, tensor<?xf64>
}
