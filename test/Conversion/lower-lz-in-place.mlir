// RUN: leibniz-opt %s --lower-lz | FileCheck %s
// RUN: leibniz-opt %s --lower-lz=gpu=true | FileCheck %s --check-prefix=GPU
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after

// A traversal in a counted loop's body whose result the body yields as the
// next state, and which reads that state at its own point only, writes
// over the state in place: its output is the loop's state, whose elements
// it reads through the output. Here after another op read the state (a
// stack push), and for each of three results, which replace the states in
// another order. The arguments of public functions are not writable.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[X0:[^:]*]]: tensor<?xf64> {bufferization.writable = false}
// CHECK: scf.for {{.*}} iter_args(%[[X:[^ ]*]] = %[[X0]], %[[S:[^ ]*]] = %{{.*}})
// CHECK: tensor.insert_slice %[[X]] into %[[S]]
// CHECK-NOT: alloc_tensor
// CHECK: linalg.generic {{.*}} outs(%[[X]] : tensor<?xf64>)
// CHECK-NEXT: ^bb0(%[[OUT:.*]]: f64):
// CHECK-NOT: tensor.extract %[[X]]
// CHECK: arith.mulf %[[OUT]]
// GPU-LABEL: func.func @step(
// GPU-NOT: bufferization.writable
// GPU: tensor.generate
func.func @step(%x0: tensor<?xf64>, %n: index) -> (tensor<?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %half = arith.constant 0.5 : f64
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack = lz.fill %zero, %n, %m : tensor<?x?xf64>
  %r:2 = lz.loop %t < %n iter_args(%x = %x0, %s = %stack) : tensor<?xf64>, tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %next = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %h = arith.mulf %e, %half : f64
      lz.yield %h : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  return %r#0, %r#1 : tensor<?xf64>, tensor<?x?xf64>
}

// CHECK-LABEL: func.func @three(
// CHECK: scf.for {{.*}} iter_args(%[[A:[^ ]*]] = %{{.*}}, %[[B:[^ ]*]] = %{{.*}}, %[[C:[^ ]*]] = %{{.*}})
// CHECK: %[[R:.*]]:3 = linalg.generic {{.*}} outs(%[[C]], %[[A]], %[[B]] : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>)
// CHECK: scf.yield %[[R]]#1, %[[R]]#2, %[[R]]#0
func.func @three(%a0: tensor<?xf64>, %w: tensor<?xf64>, %n: index) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %a0, %c0 : tensor<?xf64>
  %b0 = lz.fill %zero, %m : tensor<?xf64>
  %c0s = lz.for %i < %m : tensor<?xf64> {
    %e = lz.get %w[%i] : tensor<?xf64>
    lz.yield %e : f64
  }
  %r:3 = lz.loop %t < %n iter_args(%a = %a0, %b = %b0, %c = %c0s) : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> {
    %f:3 = lz.for %i < %m : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> {
      %ea = lz.get %a[%i] : tensor<?xf64>
      %eb = lz.get %b[%i] : tensor<?xf64>
      %ec = lz.get %c[%i] : tensor<?xf64>
      %s1 = arith.addf %ea, %eb : f64
      %s2 = arith.mulf %eb, %ec : f64
      %s3 = arith.subf %ec, %ea : f64
      lz.yield %s3, %s1, %s2 : f64, f64, f64
    }
    lz.yield %f#1, %f#2, %f#0 : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
  }
  return %r#0, %r#1, %r#2 : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
}

// One output in place and one new, whose element arguments stay apart; a
// traversal over two ranges; a state whose size comes through a loop
// that fills it in a conditional (the size's induction); a size read
// before the traversal.
// CHECK-LABEL: func.func @mixed(
// CHECK: scf.for {{.*}} iter_args(%[[A:[^ ]*]] = %{{.*}}, %[[P:[^ ]*]] = %{{.*}})
// CHECK: %[[NEW:.*]] = bufferization.alloc_tensor
// CHECK: linalg.generic {{.*}} outs(%[[NEW]], %[[A]] : tensor<?x?xf64>, tensor<?x?xf64>)
// CHECK-NEXT: ^bb0(%[[FRESH:[^:]*]]: f64, %[[OLD:[^:]*]]: f64):
// CHECK-NOT: %[[FRESH]]
// CHECK: arith.mulf %[[OLD]], %[[OLD]]
func.func @mixed(%x0: tensor<?x?xf64>, %n: index, %flag: i1) -> (tensor<?x?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %r0 = tensor.dim %x0, %c0 : tensor<?x?xf64>
  %r1 = tensor.dim %x0, %c1 : tensor<?x?xf64>
  %z = lz.fill %zero, %r0, %r1 : tensor<?x?xf64>
  %filled = lz.loop %t < %n iter_args(%s = %z) : tensor<?x?xf64> {
    %c = scf.if %flag -> (tensor<?x?xf64>) {
      %in = tensor.insert %zero into %s[%c0, %c0] : tensor<?x?xf64>
      scf.yield %in : tensor<?x?xf64>
    } else {
      scf.yield %s : tensor<?x?xf64>
    }
    lz.yield %c : tensor<?x?xf64>
  }
  %r:2 = lz.loop %t < %n iter_args(%a = %filled, %p = %z) : tensor<?x?xf64>, tensor<?x?xf64> {
    %rows = tensor.dim %a, %c0 : tensor<?x?xf64>
    %f:2 = lz.for %i < %rows, %j < %r1 : tensor<?x?xf64>, tensor<?x?xf64> {
      %e = lz.get %a[%i, %j] : tensor<?x?xf64>
      %q = arith.mulf %e, %e : f64
      %h = arith.addf %q, %e : f64
      lz.yield %h, %q : f64, f64
    }
    lz.yield %f#1, %f#0 : tensor<?x?xf64>, tensor<?x?xf64>
  }
  return %r#0, %r#1 : tensor<?x?xf64>, tensor<?x?xf64>
}

// A step written as several scopes over the state: the traversal computes
// the cheap ones that only it reads, at its own points (which read the
// state too), and writes over the state.
// CHECK-LABEL: func.func @feeds(
// CHECK: scf.for {{.*}} iter_args(%[[X:[^ ]*]] = %{{.*}})
// CHECK-NOT: tensor.generate
// CHECK: linalg.generic {{.*}} outs(%[[X]] : tensor<?xf64>)
// CHECK-NEXT: ^bb0(%[[OUT:.*]]: f64):
// CHECK: %[[Q:.*]] = arith.mulf %[[OUT]], %[[OUT]]
// CHECK: arith.subf %[[OUT]], %[[Q]]

// New tensors where writing in place could be wrong or costly: the state
// is read after the traversal (@read_after), at another point
// (@neighbour), the traversal has another size than the state
// (@other_size), or a scope that reads the state feeds the traversal and
// has a scope in its body (@feeds_costly) or is yielded too (@feeds_shared:
// canonicalization would fold its reads into the traversal); the result
// is also yielded as another state (@twice); the loop is a while loop
// (@while).
// CHECK-LABEL: func.func @read_after(
// CHECK-NOT: outs(%arg
// CHECK-LABEL: func.func @neighbour(
// CHECK-NOT: outs(%arg
// CHECK-LABEL: func.func @other_size(
// CHECK-NOT: outs(%arg
// CHECK-LABEL: func.func @feeds_shared(
// CHECK-NOT: outs(%arg
// CHECK-LABEL: func.func @feeds_costly(
// CHECK-NOT: outs(%arg
// CHECK-LABEL: func.func @twice(
// CHECK-NOT: outs(%arg
// CHECK-LABEL: func.func @while(
// CHECK-NOT: outs(%arg
// CHECK-LABEL: func.func @main(
func.func @feeds(%x0: tensor<?xf64>, %n: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %r = lz.loop %t < %n iter_args(%x = %x0) : tensor<?xf64> {
    %sq = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %q = arith.mulf %e, %e : f64
      lz.yield %q : f64
    }
    %next = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %q = lz.get %sq[%i] : tensor<?xf64>
      %d = arith.subf %e, %q : f64
      lz.yield %d : f64
    }
    lz.yield %next : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

func.func @read_after(%x0: tensor<?xf64>, %n: index) -> (tensor<?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %r:2 = lz.loop %t < %n iter_args(%x = %x0, %acc = %zero) : tensor<?xf64>, f64 {
    %next:2 = lz.for %i < %m : tensor<?xf64>, tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %d = arith.addf %e, %e : f64
      lz.yield %d, %e : f64, f64
    }
    %first = lz.get %x[%c0] : tensor<?xf64>
    %acc1 = arith.addf %acc, %first : f64
    lz.yield %next#0, %acc1 : tensor<?xf64>, f64
  }
  return %r#0, %r#1 : tensor<?xf64>, f64
}

func.func @neighbour(%x0: tensor<?xf64>, %n: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %r = lz.loop %t < %n iter_args(%x = %x0) : tensor<?xf64> {
    %next:2 = lz.for %i < %m : tensor<?xf64>, tensor<?xf64> {
      %i1 = arith.addi %i, %c1 : index
      %j = arith.remui %i1, %m : index
      %e = lz.get %x[%j] : tensor<?xf64>
      lz.yield %e, %e : f64, f64
    }
    lz.yield %next#0 : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

func.func @other_size(%x0: tensor<?xf64>, %n: index, %k: index) -> tensor<?xf64> {
  %r = lz.loop %t < %n iter_args(%x = %x0) : tensor<?xf64> {
    %next = lz.for %i < %k : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      lz.yield %e : f64
    }
    lz.yield %next : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

func.func @feeds_shared(%x0: tensor<?xf64>, %n: index) -> (tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %r:2 = lz.loop %t < %n iter_args(%x = %x0, %y = %x0) : tensor<?xf64>, tensor<?xf64> {
    %sq = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %q = arith.mulf %e, %e : f64
      lz.yield %q : f64
    }
    %next = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %q = lz.get %sq[%i] : tensor<?xf64>
      %d = arith.subf %e, %q : f64
      lz.yield %d : f64
    }
    lz.yield %next, %sq : tensor<?xf64>, tensor<?xf64>
  }
  return %r#0, %r#1 : tensor<?xf64>, tensor<?xf64>
}

func.func @feeds_costly(%x0: tensor<?xf64>, %n: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %r = lz.loop %t < %n iter_args(%x = %x0) : tensor<?xf64> {
    %sq = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %s = lz.sum %k < %m : f64 {
        %f = lz.get %x[%k] : tensor<?xf64>
        %p = arith.mulf %e, %f : f64
        lz.yield %p : f64
      }
      lz.yield %s : f64
    }
    %next = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %q = lz.get %sq[%i] : tensor<?xf64>
      %d = arith.subf %e, %q : f64
      lz.yield %d : f64
    }
    lz.yield %next : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

func.func @twice(%x0: tensor<?xf64>, %n: index) -> (tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %r:2 = lz.loop %t < %n iter_args(%x = %x0, %y = %x0) : tensor<?xf64>, tensor<?xf64> {
    %next = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %d = arith.addf %e, %e : f64
      lz.yield %d : f64
    }
    lz.yield %next, %next : tensor<?xf64>, tensor<?xf64>
  }
  return %r#0, %r#1 : tensor<?xf64>, tensor<?xf64>
}

func.func @while(%x0: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %limit = arith.constant 100.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %r = lz.loop while (%x0) : tensor<?xf64> cond {
  ^bb0(%x: tensor<?xf64>):
    %e = lz.get %x[%c0] : tensor<?xf64>
    %small = arith.cmpf olt, %e, %limit : f64
    lz.condition %small
  } do {
  ^bb0(%x: tensor<?xf64>):
    %next = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %d = arith.addf %e, %e : f64
      lz.yield %d : f64
    }
    lz.yield %next : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

// The same values before and after the lowering.
func.func @main() -> (tensor<?xf64>, tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, f64, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %x = lz.for %i < %c3 : tensor<?xf64> {
    %j = arith.index_cast %i : index to i64
    %f = arith.sitofp %j : i64 to f64
    %g = math.exp %f : f64
    lz.yield %g : f64
  }
  %s:2 = func.call @step(%x, %c3) : (tensor<?xf64>, index) -> (tensor<?xf64>, tensor<?x?xf64>)
  %t:3 = func.call @three(%x, %x, %c3) : (tensor<?xf64>, tensor<?xf64>, index) -> (tensor<?xf64>, tensor<?xf64>, tensor<?xf64>)
  %u:2 = func.call @read_after(%x, %c2) : (tensor<?xf64>, index) -> (tensor<?xf64>, f64)
  %v = func.call @neighbour(%x, %c2) : (tensor<?xf64>, index) -> tensor<?xf64>
  %w = func.call @feeds(%x, %c2) : (tensor<?xf64>, index) -> tensor<?xf64>
  %ws:2 = func.call @feeds_shared(%x, %c2) : (tensor<?xf64>, index) -> (tensor<?xf64>, tensor<?xf64>)
  %wc = func.call @feeds_costly(%x, %c2) : (tensor<?xf64>, index) -> tensor<?xf64>
  %xx = lz.for %i < %c2, %j < %c3 : tensor<?x?xf64> {
    %e = lz.get %x[%j] : tensor<?xf64>
    %k = arith.index_cast %i : index to i64
    %f = arith.sitofp %k : i64 to f64
    %g = arith.addf %e, %f : f64
    lz.yield %g : f64
  }
  %true = arith.constant true
  %mx:2 = func.call @mixed(%xx, %c2, %true) : (tensor<?x?xf64>, index, i1) -> (tensor<?x?xf64>, tensor<?x?xf64>)
  %tw:2 = func.call @twice(%x, %c2) : (tensor<?xf64>, index) -> (tensor<?xf64>, tensor<?xf64>)
  %wh = func.call @while(%x) : (tensor<?xf64>) -> tensor<?xf64>
  return %s#0, %s#1, %t#0, %t#1, %t#2, %u#0, %u#1, %v, %w, %ws#0, %ws#1, %wc, %mx#0, %mx#1, %tw#0, %tw#1, %wh : tensor<?xf64>, tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, f64, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
}
