// RUN: leibniz-opt %s --lz-canonicalize | FileCheck %s

// A generator read once is folded into the read; one read several times
// stays, so that its element is computed once.
// CHECK-LABEL: func.func @once
// CHECK-NOT: tensor.generate
// CHECK: math.exp
// CHECK-NOT: math.exp
func.func @once(%n: index, %i: index) -> f64 {
  %t = tensor.generate %n {
  ^bb0(%k: index):
    %c = arith.index_cast %k : index to i64
    %f = arith.sitofp %c : i64 to f64
    %e = math.exp %f : f64
    tensor.yield %e : f64
  } : tensor<?xf64>
  %x = tensor.extract %t[%i] : tensor<?xf64>
  return %x : f64
}

// CHECK-LABEL: func.func @twice
// CHECK: tensor.generate
// CHECK: math.exp
// CHECK-NOT: math.exp
// CHECK: tensor.extract
// CHECK: tensor.extract
func.func @twice(%n: index, %i: index, %j: index) -> f64 {
  %t = tensor.generate %n {
  ^bb0(%k: index):
    %c = arith.index_cast %k : index to i64
    %f = arith.sitofp %c : i64 to f64
    %e = math.exp %f : f64
    tensor.yield %e : f64
  } : tensor<?xf64>
  %x = tensor.extract %t[%i] : tensor<?xf64>
  %y = tensor.extract %t[%j] : tensor<?xf64>
  %s = arith.addf %x, %y : f64
  return %s : f64
}

// A read in another generator's body runs once per element of that one: a
// costly element (a reduction, a math function) stays a tensor computed
// once (@costly_repeated); a cheap one is folded (@cheap_repeated), as is
// a costly one read in a conditional only (@costly_in_if).
// CHECK-LABEL: func.func @costly_repeated
// CHECK: tensor.generate
// CHECK: scf.for
// CHECK: tensor.generate
// CHECK-NOT: scf.for
// CHECK: tensor.extract
// CHECK: return
func.func @costly_repeated(%x: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %sums = tensor.generate %n {
  ^bb0(%i: index):
    %s = scf.for %k = %c0 to %m step %c1 iter_args(%a = %zero) -> f64 {
      %e = tensor.extract %x[%i, %k] : tensor<?x?xf64>
      %b = arith.addf %a, %e : f64
      scf.yield %b : f64
    }
    tensor.yield %s : f64
  } : tensor<?xf64>
  %r = tensor.generate %n, %m {
  ^bb0(%i: index, %j: index):
    %s = tensor.extract %sums[%i] : tensor<?xf64>
    %e = tensor.extract %x[%i, %j] : tensor<?x?xf64>
    %q = arith.divf %e, %s : f64
    tensor.yield %q : f64
  } : tensor<?x?xf64>
  return %r : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @cheap_repeated
// CHECK: tensor.generate
// CHECK-NOT: tensor.generate
// CHECK: return
func.func @cheap_repeated(%x: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %sq = tensor.generate %m {
  ^bb0(%i: index):
    %e = tensor.extract %x[%i] : tensor<?xf64>
    %s = arith.mulf %e, %e : f64
    tensor.yield %s : f64
  } : tensor<?xf64>
  %r = tensor.generate %n, %m {
  ^bb0(%i: index, %j: index):
    %s = tensor.extract %sq[%j] : tensor<?xf64>
    tensor.yield %s : f64
  } : tensor<?x?xf64>
  return %r : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @costly_in_if
// CHECK-NOT: tensor.generate
// CHECK: scf.if
// CHECK: math.exp
// CHECK: return
func.func @costly_in_if(%x: tensor<?xf64>, %c: i1, %i: index) -> f64 {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %ex = tensor.generate %m {
  ^bb0(%k: index):
    %e = tensor.extract %x[%k] : tensor<?xf64>
    %s = math.exp %e : f64
    tensor.yield %s : f64
  } : tensor<?xf64>
  %r = scf.if %c -> f64 {
    %s = tensor.extract %ex[%i] : tensor<?xf64>
    scf.yield %s : f64
  } else {
    scf.yield %zero : f64
  }
  return %r : f64
}

// A loop that writes every row of a filled tensor, row t at step t, and
// reads nothing of it: reverse mode's stack of a loop's states. The loop
// starts from the unfilled tensor.
// CHECK-LABEL: func.func @stack
// CHECK-NOT: linalg.fill
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[E]])
func.func @stack(%x: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %i = tensor.insert_slice %x into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// Row n - 1 - t at step t (reverse mode's stacks hold the last step's
// state first), with n - 1 as arith writes it either way: every row too.
// CHECK-LABEL: func.func @reversed_stack
// CHECK-NOT: linalg.fill
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[E]])
// CHECK-LABEL: func.func @reversed_scalar_stack
// CHECK-NOT: linalg.fill
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[E]])
func.func @reversed_stack(%x: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %last = arith.subi %n, %c1 : index
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %row = arith.subi %last, %t : index
    %i = tensor.insert_slice %x into %s[%row, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}
func.func @reversed_scalar_stack(%x: f64, %n: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cm1 = arith.constant -1 : index
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty(%n) : tensor<?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?xf64>) -> tensor<?xf64>
  %last = arith.addi %n, %cm1 : index
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?xf64> {
    %row = arith.subi %last, %t : index
    %i = tensor.insert %x into %s[%row] : tensor<?xf64>
    scf.yield %i : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// A constant count folds n - 1 into a constant: every row still.
// CHECK-LABEL: func.func @reversed_constant_stack
// CHECK-NOT: linalg.fill
// CHECK: scf.for
func.func @reversed_constant_stack(%x: tensor<?xf64>) -> tensor<5x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%m) : tensor<5x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<5x?xf64>) -> tensor<5x?xf64>
  %r = scf.for %t = %c0 to %c5 step %c1 iter_args(%s = %f) -> tensor<5x?xf64> {
    %row = arith.subi %c4, %t : index
    %i = tensor.insert_slice %x into %s[%row, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<5x?xf64>
    scf.yield %i : tensor<5x?xf64>
  }
  return %r : tensor<5x?xf64>
}

// Row n - 2 - t leaves row n - 1 unwritten: the fill stays, also with
// constants.
// CHECK-LABEL: func.func @reversed_constant_short
// CHECK: linalg.fill
func.func @reversed_constant_short(%x: tensor<?xf64>) -> tensor<5x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%m) : tensor<5x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<5x?xf64>) -> tensor<5x?xf64>
  %r = scf.for %t = %c0 to %c5 step %c1 iter_args(%s = %f) -> tensor<5x?xf64> {
    %row = arith.subi %c3, %t : index
    %i = tensor.insert_slice %x into %s[%row, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<5x?xf64>
    scf.yield %i : tensor<5x?xf64>
  }
  return %r : tensor<5x?xf64>
}

// CHECK-LABEL: func.func @reversed_short
// CHECK: linalg.fill
func.func @reversed_short(%x: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %last = arith.subi %n, %c2 : index
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %row = arith.subi %last, %t : index
    %i = tensor.insert_slice %x into %s[%row, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// The fill stays where a row may stay unwritten: the loop starts at 1
// (@from_one), runs fewer steps than there are rows (@fewer_steps), writes
// part of a row (@part_row) or another row than the step's (@shifted); or
// where the fill is read: in the loop (@read).
// CHECK-LABEL: func.func @from_one
// CHECK: linalg.fill
func.func @from_one(%x: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c1 to %n step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %i = tensor.insert_slice %x into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @fewer_steps
// CHECK: linalg.fill
func.func @fewer_steps(%x: tensor<?xf64>, %n: index, %k: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c0 to %k step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %i = tensor.insert_slice %x into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @part_row
// CHECK: linalg.fill
func.func @part_row(%x: tensor<?xf64>, %n: index, %m: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %p = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %i = tensor.insert_slice %x into %s[%t, 0] [1, %p] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @shifted
// CHECK: linalg.fill
func.func @shifted(%x: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %u = arith.divui %t, %n : index
    %i = tensor.insert_slice %x into %s[%u, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @read
// CHECK: linalg.fill
func.func @read(%x: tensor<?xf64>, %n: index) -> (tensor<?x?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r:2 = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f, %a = %zero) -> (tensor<?x?xf64>, f64) {
    %i = tensor.insert_slice %x into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %l = arith.subi %n, %c1 : index
    %v = tensor.extract %i[%l, %c0] : tensor<?x?xf64>
    %b = arith.addf %a, %v : f64
    scf.yield %i, %b : tensor<?x?xf64>, f64
  }
  return %r#0, %r#1 : tensor<?x?xf64>, f64
}

// A stack of scalars, written element by element, starts unfilled too.
// CHECK-LABEL: func.func @scalar_stack
// CHECK-NOT: linalg.fill
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[E]])
func.func @scalar_stack(%x: f64, %n: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty(%n) : tensor<?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?xf64>) -> tensor<?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?xf64> {
    %i = tensor.insert %x into %s[%t] : tensor<?xf64>
    scf.yield %i : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// A fill with another use stays for that use; the loop starts from a new
// tensor of the same sizes.
// CHECK-LABEL: func.func @fill_shared
// CHECK: %[[F:.*]] = linalg.fill
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: %[[R:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[E]])
// CHECK: return %[[R]], %[[F]]
func.func @fill_shared(%x: tensor<?xf64>, %n: index) -> (tensor<?x?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %i = tensor.insert_slice %x into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r, %f : tensor<?x?xf64>, tensor<?x?xf64>
}

// Every other row only: the fill stays.
// CHECK-LABEL: func.func @step_two
// CHECK: linalg.fill
func.func @step_two(%x: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %e = tensor.empty(%n, %m) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c0 to %n step %c2 iter_args(%s = %f) -> tensor<?x?xf64> {
    %i = tensor.insert_slice %x into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    scf.yield %i : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// A costly generator read once, but in a loop, stays a tensor.
// CHECK-LABEL: func.func @costly_in_loop
// CHECK: tensor.generate
// CHECK: math.exp
// CHECK: scf.for
// CHECK-NOT: math.exp
// CHECK: return
func.func @costly_in_loop(%x: tensor<?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %ex = tensor.generate %m {
  ^bb0(%k: index):
    %e = tensor.extract %x[%k] : tensor<?xf64>
    %s = math.exp %e : f64
    tensor.yield %s : f64
  } : tensor<?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%a = %zero) -> f64 {
    %s = tensor.extract %ex[%c0] : tensor<?xf64>
    %b = arith.addf %a, %s : f64
    scf.yield %b : f64
  }
  return %r : f64
}

// Reverse mode's stack of every k-th state, with checkpoints: step t
// pushes where t % k == 0, into row t / k or m - 1 - t / k of the
// m = ceil(n / k) rows (@every_kth, @every_kth_constant): every row, so
// the loop starts from the unfilled tensor.
// CHECK-LABEL: func.func @every_kth
// CHECK-NOT: linalg.fill
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[E]])
func.func @every_kth(%x: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %p = tensor.dim %x, %c0 : tensor<?xf64>
  %rows = arith.ceildivsi %n, %c3 : index
  %last = arith.subi %rows, %c1 : index
  %e = tensor.empty(%rows, %p) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %m, %c0 : index
    %q = arith.divsi %t, %c3 : index
    %row = arith.subi %last, %q : index
    %v = scf.if %due -> tensor<?x?xf64> {
      %i = tensor.insert_slice %x into %s[%row, 0] [1, %p] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
      scf.yield %i : tensor<?x?xf64>
    } else {
      scf.yield %s : tensor<?x?xf64>
    }
    scf.yield %v : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// CHECK-LABEL: func.func @every_kth_constant
// CHECK-NOT: linalg.fill
// CHECK: scf.for
func.func @every_kth_constant(%x: f64) -> tensor<4xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<4xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  %r = scf.for %t = %c0 to %c10 step %c1 iter_args(%s = %f) -> tensor<4xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %c0, %m : index
    %q = arith.divsi %t, %c3 : index
    %v = scf.if %due -> tensor<4xf64> {
      %i = tensor.insert %x into %s[%q] : tensor<4xf64>
      scf.yield %i : tensor<4xf64>
    } else {
      scf.yield %s : tensor<4xf64>
    }
    scf.yield %v : tensor<4xf64>
  }
  return %r : tensor<4xf64>
}

// The fill stays where a row may stay unwritten: 10 steps push 4 rows of
// 5 (@every_kth_more_rows), or the row's period is not the condition's
// (@every_kth_other_period); or where the carried stack is read
// (@every_kth_read).
// CHECK-LABEL: func.func @every_kth_more_rows
// CHECK: linalg.fill
func.func @every_kth_more_rows(%x: f64) -> tensor<5xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<5xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<5xf64>) -> tensor<5xf64>
  %r = scf.for %t = %c0 to %c10 step %c1 iter_args(%s = %f) -> tensor<5xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %m, %c0 : index
    %q = arith.divsi %t, %c3 : index
    %v = scf.if %due -> tensor<5xf64> {
      %i = tensor.insert %x into %s[%q] : tensor<5xf64>
      scf.yield %i : tensor<5xf64>
    } else {
      scf.yield %s : tensor<5xf64>
    }
    scf.yield %v : tensor<5xf64>
  }
  return %r : tensor<5xf64>
}

// CHECK-LABEL: func.func @every_kth_other_period
// CHECK: linalg.fill
func.func @every_kth_other_period(%x: f64, %n: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %rows = arith.ceildivsi %n, %c3 : index
  %e = tensor.empty(%rows) : tensor<?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?xf64>) -> tensor<?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %m, %c0 : index
    %q = arith.divsi %t, %c2 : index
    %v = scf.if %due -> tensor<?xf64> {
      %i = tensor.insert %x into %s[%q] : tensor<?xf64>
      scf.yield %i : tensor<?xf64>
    } else {
      scf.yield %s : tensor<?xf64>
    }
    scf.yield %v : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// CHECK-LABEL: func.func @every_kth_read
// CHECK: linalg.fill
func.func @every_kth_read(%n: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %rows = arith.ceildivsi %n, %c3 : index
  %e = tensor.empty(%rows) : tensor<?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?xf64>) -> tensor<?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %m, %c0 : index
    %q = arith.divsi %t, %c3 : index
    %v = scf.if %due -> tensor<?xf64> {
      %old = tensor.extract %s[%c0] : tensor<?xf64>
      %i = tensor.insert %old into %s[%q] : tensor<?xf64>
      scf.yield %i : tensor<?xf64>
    } else {
      scf.yield %s : tensor<?xf64>
    }
    scf.yield %v : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// With a constant step count, canonicalization makes the stack static
// first and casts the branches' values: the same stack.
// CHECK-LABEL: func.func @every_kth_folded
// CHECK-NOT: linalg.fill
// CHECK: scf.for
func.func @every_kth_folded(%x: tensor<?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f64
  %p = tensor.dim %x, %c0 : tensor<?xf64>
  %rows = arith.ceildivsi %c10, %c3 : index
  %last = arith.subi %rows, %c1 : index
  %e = tensor.empty(%rows, %p) : tensor<?x?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = scf.for %t = %c0 to %c10 step %c1 iter_args(%s = %f) -> tensor<?x?xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %m, %c0 : index
    %q = arith.divsi %t, %c3 : index
    %row = arith.subi %last, %q : index
    %v = scf.if %due -> tensor<?x?xf64> {
      %i = tensor.insert_slice %x into %s[%row, 0] [1, %p] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
      scf.yield %i : tensor<?x?xf64>
    } else {
      scf.yield %s : tensor<?x?xf64>
    }
    scf.yield %v : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

// The fill stays where the push reads the carried stack as well
// (@every_kth_self: a copy of the filled rows onto themselves), the rows
// are counted with another period (@every_kth_other_count), or the push
// writes another tensor (@every_kth_elsewhere).
// CHECK-LABEL: func.func @every_kth_self
// CHECK: linalg.fill
func.func @every_kth_self() -> tensor<1x5xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<1x5xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<1x5xf64>) -> tensor<1x5xf64>
  %r = scf.for %t = %c0 to %c3 step %c1 iter_args(%s = %f) -> tensor<1x5xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %m, %c0 : index
    %q = arith.divsi %t, %c3 : index
    %v = scf.if %due -> tensor<1x5xf64> {
      %i = tensor.insert_slice %s into %s[%q, 0] [1, 5] [1, 1] : tensor<1x5xf64> into tensor<1x5xf64>
      scf.yield %i : tensor<1x5xf64>
    } else {
      scf.yield %s : tensor<1x5xf64>
    }
    scf.yield %v : tensor<1x5xf64>
  }
  return %r : tensor<1x5xf64>
}

// CHECK-LABEL: func.func @every_kth_other_count
// CHECK: linalg.fill
func.func @every_kth_other_count(%x: f64, %n: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %rows = arith.ceildivsi %n, %c2 : index
  %e = tensor.empty(%rows) : tensor<?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?xf64>) -> tensor<?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %m, %c0 : index
    %q = arith.divsi %t, %c3 : index
    %v = scf.if %due -> tensor<?xf64> {
      %i = tensor.insert %x into %s[%q] : tensor<?xf64>
      scf.yield %i : tensor<?xf64>
    } else {
      scf.yield %s : tensor<?xf64>
    }
    scf.yield %v : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// CHECK-LABEL: func.func @every_kth_elsewhere
// CHECK: linalg.fill
func.func @every_kth_elsewhere(%x: f64, %n: index, %other: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %rows = arith.ceildivsi %n, %c3 : index
  %e = tensor.empty(%rows) : tensor<?xf64>
  %f = linalg.fill ins(%zero : f64) outs(%e : tensor<?xf64>) -> tensor<?xf64>
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%s = %f) -> tensor<?xf64> {
    %m = arith.remsi %t, %c3 : index
    %due = arith.cmpi eq, %m, %c0 : index
    %q = arith.divsi %t, %c3 : index
    %v = scf.if %due -> tensor<?xf64> {
      %i = tensor.insert %x into %other[%q] : tensor<?xf64>
      scf.yield %i : tensor<?xf64>
    } else {
      scf.yield %s : tensor<?xf64>
    }
    scf.yield %v : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}
