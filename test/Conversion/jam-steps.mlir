// RUN: leibniz-opt %s --lz-jam-steps | FileCheck %s
// RUN: leibniz-opt %s --lz-jam-steps=steps=1 | FileCheck %s --check-prefix=OFF
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lz-jam-steps --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after
// RUN: leibniz-opt %s --lz-jam-steps=steps=3 --lz-interpret=entry=main -o /dev/null > %t.three
// RUN: diff %t.before %t.three
// RUN: leibniz-opt %s --lz-jam-steps --lower-lz --lz-interpret=entry=main -o /dev/null > %t.lowered
// RUN: diff %t.before %t.lowered

// A gradient descent: two steps per traversal, the state's elements passed
// from one to the next as scalars, then a loop of the remaining step.

// CHECK-LABEL: func.func @descent
// CHECK: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[COUNT:.*]] = arith.maxsi %{{.*}}, %{{.*}} : index
// CHECK: %[[GROUPS:.*]] = arith.divui %[[COUNT]], %[[C2]] : index
// CHECK: %[[DONE:.*]] = arith.muli %[[GROUPS]], %[[C2]] : index
// CHECK: %[[REST:.*]] = arith.subi %[[COUNT]], %[[DONE]] : index
// CHECK: %[[JAMMED:.*]] = lz.loop %{{.*}} < %[[GROUPS]] iter_args(%[[S:.*]] = %{{.*}})
// CHECK: lz.for %{{.*}} < %{{.*}} : tensor<?xf64> {
// CHECK: lz.get %[[S]]
// CHECK: arith.subf
// CHECK: arith.subf
// CHECK-NOT: lz.get %[[S]]
// CHECK: arith.subf
// CHECK: %[[X2:.*]] = arith.subf
// CHECK-NEXT: lz.yield %[[X2]] : f64
// CHECK: lz.loop %{{.*}} < %[[REST]] iter_args(%{{.*}} = %[[JAMMED]])
// OFF-LABEL: func.func @descent
// OFF-NOT: arith.divui
func.func @descent(%x0: tensor<?xf64>, %a: tensor<?xf64>, %lr: f64,
                   %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %one = arith.constant 1.0 : f64
  %r = lz.loop %t < %steps iter_args(%x = %x0) : tensor<?xf64> {
    %y = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %ai = lz.get %a[%i] : tensor<?xf64>
      %m = arith.mulf %ai, %xi : f64
      %d = arith.subf %m, %one : f64
      %s = arith.mulf %lr, %d : f64
      %z = arith.subf %xi, %s : f64
      lz.yield %z : f64
    }
    lz.yield %y : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// A reverse sweep: each step reads a row of a stack at an index that the
// step computes (before the traversal, for both steps), has two
// traversals, the second reading the first's results at its index, keeps
// one state as it is and swaps two.

// CHECK-LABEL: func.func @sweep
// CHECK: lz.loop %[[T:.*]] < %{{.*}} iter_args(%[[U:.*]] = %{{.*}}, %[[V:.*]] = %{{.*}}, %[[W:.*]] = %{{.*}})
// CHECK: %[[FIRST:.*]] = arith.muli %[[T]]
// CHECK: arith.subi %{{.*}}, %[[FIRST]]
// CHECK: %[[ROW0:.*]] = lz.get %{{.*}}[%{{.*}}] : tensor<?x?xf64>
// CHECK: %[[SECOND:.*]] = arith.addi %[[FIRST]]
// CHECK: arith.subi %{{.*}}, %[[SECOND]]
// CHECK: %[[ROW1:.*]] = lz.get %{{.*}}[%{{.*}}] : tensor<?x?xf64>
// CHECK: %[[R:.*]]:2 = lz.for %[[I:.*]] < %{{.*}} : tensor<?xf64>, tensor<?xf64> {
// CHECK-DAG: lz.get %[[ROW0]][%[[I]]]
// CHECK-DAG: lz.get %[[ROW1]][%[[I]]]
// CHECK: lz.yield %[[R]]#0, %[[R]]#1, %[[W]]
func.func @sweep(%stack: tensor<?x?xf64>, %u0: tensor<?xf64>,
                 %v0: tensor<?xf64>, %w0: tensor<?xf64>, %steps: index)
    -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %u0, %c0 : tensor<?xf64>
  %last = arith.subi %steps, %c1 : index
  %r:3 = lz.loop %t < %steps iter_args(%u = %u0, %v = %v0, %w = %w0)
      : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> {
    %k = arith.subi %last, %t : index
    %row = lz.get %stack[%k] : tensor<?x?xf64>
    %p = lz.for %i < %n : tensor<?xf64> {
      %ui = lz.get %u[%i] : tensor<?xf64>
      %ri = lz.get %row[%i] : tensor<?xf64>
      %wi = lz.get %w[%i] : tensor<?xf64>
      %m = arith.mulf %ui, %ri : f64
      %s = arith.addf %m, %wi : f64
      lz.yield %s : f64
    }
    %q = lz.for %i < %n : tensor<?xf64> {
      %pi = lz.get %p[%i] : tensor<?xf64>
      %vi = lz.get %v[%i] : tensor<?xf64>
      %tf = arith.index_cast %t : index to i64
      %tt = arith.sitofp %tf : i64 to f64
      %s = arith.subf %vi, %pi : f64
      %z = arith.mulf %s, %tt : f64
      lz.yield %z : f64
    }
    lz.yield %q, %p, %w : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
  }
  return %r#0, %r#1, %r#2 : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
}

// Loops whose steps are not elementwise, or have effects, or run fewer
// steps than a group, stay as they are.

// CHECK-LABEL: func.func @neighbour
// CHECK-NOT: arith.divui
// CHECK: return
func.func @neighbour(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %m = arith.subi %n, %c1 : index
  %r = lz.loop %t < %steps iter_args(%x = %x0) : tensor<?xf64> {
    %y = lz.for %i < %m : tensor<?xf64> {
      %j = arith.addi %i, %c1 : index
      %xj = lz.get %x[%j] : tensor<?xf64>
      lz.yield %xj : f64
    }
    lz.yield %y : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// CHECK-LABEL: func.func @printing
// CHECK-NOT: arith.divui
// CHECK: return
func.func @printing(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %r = lz.loop %t < %steps iter_args(%x = %x0) : tensor<?xf64> {
    %y = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %h = arith.constant 0.5 : f64
      %z = arith.mulf %xi, %h : f64
      lz.yield %z : f64
    }
    lz.print %y : tensor<?xf64>
    lz.yield %y : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// CHECK-LABEL: func.func @one_step
// CHECK-NOT: arith.divui
// CHECK: return
func.func @one_step(%x0: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %r = lz.loop %t < %c1 iter_args(%x = %x0) : tensor<?xf64> {
    %y = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %z = arith.mulf %xi, %xi : f64
      lz.yield %z : f64
    }
    lz.yield %y : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// A forward sweep: each step pushes its state as a row of a stack (from
// the last row up) and its new state as a row of another (from the first
// row down). Every row of both is written, so they need no values. The
// traversal yields the pushed rows too, one step per traversal: the pushes
// follow it, and no steps remain.

// CHECK-LABEL: func.func @forward
// CHECK: %[[EMPTY:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf64>
// CHECK: %[[EMPTY2:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf64>
// CHECK: lz.loop %[[T:.*]] < %{{.*}} iter_args(%[[X:.*]] = %{{.*}}, %[[M:.*]] = %[[EMPTY]], %[[N:.*]] = %[[EMPTY2]])
// CHECK: %[[ROW:.*]] = arith.subi %{{.*}}, %[[T]] : index
// CHECK: %[[R:.*]]:3 = lz.for %[[I:.*]] < %{{.*}} : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> {
// CHECK: arith.subf
// CHECK: %[[Y:.*]] = arith.subf
// CHECK: %[[XI:.*]] = lz.get %[[X]][%[[I]]]
// CHECK: lz.yield %[[Y]], %[[XI]], %[[Y]] : f64, f64, f64
// CHECK: %[[M1:.*]] = tensor.insert_slice %[[R]]#1 into %[[M]][%[[ROW]], 0]
// CHECK: %[[N1:.*]] = tensor.insert_slice %[[R]]#2 into %[[N]][%[[T]], 0]
// CHECK: lz.yield %[[R]]#0, %[[M1]], %[[N1]]
// CHECK-NOT: lz.loop
// CHECK: return
func.func @forward(%x0: tensor<?xf64>, %a: tensor<?xf64>, %lr: f64,
                   %steps: index)
    -> (tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %last = arith.subi %steps, %c1 : index
  %m0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %n0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %r:3 = lz.loop %t < %steps iter_args(%x = %x0, %m = %m0, %w = %n0)
      : tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64> {
    %row = arith.subi %last, %t : index
    %m1 = tensor.insert_slice %x into %m[%row, 0] [1, %n] [1, 1]
        : tensor<?xf64> into tensor<?x?xf64>
    %y = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %ai = lz.get %a[%i] : tensor<?xf64>
      %p = arith.mulf %ai, %xi : f64
      %d = arith.subf %p, %one : f64
      %s = arith.mulf %lr, %d : f64
      %z = arith.subf %xi, %s : f64
      lz.yield %z : f64
    }
    %w1 = tensor.insert_slice %y into %w[%t, 0] [1, %n] [1, 1]
        : tensor<?xf64> into tensor<?x?xf64>
    lz.yield %y, %m1, %w1 : tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
  }
  return %r#0, %r#1, %r#2 : tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
}

func.func @main() -> (tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<4x5xf64>, tensor<4x5xf64>) {
  %x0 = arith.constant dense<[0.5, -1.0, 2.0, 0.25, 3.0]> : tensor<5xf64>
  %a = arith.constant dense<[1.5, 0.5, 0.75, 2.0, 0.1]> : tensor<5xf64>
  %x = tensor.cast %x0 : tensor<5xf64> to tensor<?xf64>
  %av = tensor.cast %a : tensor<5xf64> to tensor<?xf64>
  %lr = arith.constant 0.1 : f64
  %c0 = arith.constant 0 : index
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %c7 = arith.constant 7 : index
  %d5 = func.call @descent(%x, %av, %lr, %c5) : (tensor<?xf64>, tensor<?xf64>, f64, index) -> tensor<?xf64>
  %d6 = func.call @descent(%x, %av, %lr, %c6) : (tensor<?xf64>, tensor<?xf64>, f64, index) -> tensor<?xf64>
  %d0 = func.call @descent(%x, %av, %lr, %c0) : (tensor<?xf64>, tensor<?xf64>, f64, index) -> tensor<?xf64>
  %stack = lz.for %r < %c7, %i < %c5 : tensor<?x?xf64> {
    %ri = arith.index_cast %r : index to i64
    %rf = arith.sitofp %ri : i64 to f64
    %xi = tensor.extract %x0[%i] : tensor<5xf64>
    %e = arith.addf %rf, %xi : f64
    lz.yield %e : f64
  }
  %c4 = arith.constant 4 : index
  %f:3 = func.call @forward(%x, %av, %lr, %c4) : (tensor<?xf64>, tensor<?xf64>, f64, index) -> (tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>)
  %r6 = tensor.cast %f#0 : tensor<?xf64> to tensor<5xf64>
  %r7 = tensor.cast %f#1 : tensor<?x?xf64> to tensor<4x5xf64>
  %r8 = tensor.cast %f#2 : tensor<?x?xf64> to tensor<4x5xf64>
  %s:3 = func.call @sweep(%stack, %x, %av, %x, %c7) : (tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, index) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>)
  %r0 = tensor.cast %d5 : tensor<?xf64> to tensor<5xf64>
  %r1 = tensor.cast %d6 : tensor<?xf64> to tensor<5xf64>
  %r2 = tensor.cast %d0 : tensor<?xf64> to tensor<5xf64>
  %r3 = tensor.cast %s#0 : tensor<?xf64> to tensor<5xf64>
  %r4 = tensor.cast %s#1 : tensor<?xf64> to tensor<5xf64>
  %r5 = tensor.cast %s#2 : tensor<?xf64> to tensor<5xf64>
  return %r0, %r1, %r2, %r3, %r4, %r5, %r6, %r7, %r8 : tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<4x5xf64>, tensor<4x5xf64>
}
