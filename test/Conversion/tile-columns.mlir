// RUN: leibniz-opt %s --lz-tile-columns="cache-bytes=64 min-columns=8" | FileCheck %s
// RUN: leibniz-opt %s --lz-tile-columns=cache-bytes=0 | FileCheck %s --check-prefix=OFF
// RUN: leibniz-opt %s --lz-tile-columns=cache-bytes=64 | FileCheck %s --check-prefix=FEWEST
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lz-tile-columns="cache-bytes=64 min-columns=8" --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after
// RUN: leibniz-opt %s --lz-tile-columns=cache-bytes=64 --lz-interpret=entry=main -o /dev/null > %t.default
// RUN: diff %t.before %t.default
// RUN: leibniz-opt %s --lz-tile-columns="cache-bytes=64 min-columns=8" --lower-lz | FileCheck %s --check-prefix=LOWERED
// RUN: leibniz-opt %s --lz-tile-columns="cache-bytes=64 min-columns=8" --lower-lz --lz-interpret=entry=main -o /dev/null > %t.lowered
// RUN: diff %t.before %t.lowered

// A gradient through a loop of elementwise steps, as ad-reverse and
// rev-ad-opt build it: the forward sweep pushes every state on a stack,
// the reverse sweep reads it back. Everything from the inputs to the
// cotangents runs by blocks of columns (64 bytes: blocks of 8 columns, as
// the stack has 3 rows of f64); the sum over all columns stays after the
// loop over blocks.
// By default a block has at least 256 columns: narrower ones lose more to
// every step's loop control than the cache saves.
// FEWEST-LABEL: func.func @gradient(
// FEWEST: %[[FIT:.*]] = arith.muli %{{.*}}, %c8{{.*}} : index
// FEWEST: %[[C256:.*]] = arith.constant 256 : index
// FEWEST-NEXT: arith.maxui %[[FIT]], %[[C256]] : index

// CHECK-LABEL: func.func @gradient(
// CHECK-SAME: %[[X0:[^:]*]]: tensor<?xf64>, %[[A:[^:]*]]: tensor<?xf64>
// CHECK: %[[N:.*]] = tensor.dim %[[X0]]
// CHECK: %[[CEIL:.*]] = arith.ceildivui %[[N]], %[[COLUMNS:.*]] : index
// CHECK: %[[BLOCKS:.*]] = arith.maxui %[[CEIL]], %{{.*}} : index
// CHECK: %[[R:.*]]:3 = lz.loop %[[B:.*]] < %[[BLOCKS]] iter_args(%[[GX:[^ ]*]] = %{{.*}}, %[[GA:[^ ]*]] = %{{.*}}, %[[GL:[^ ]*]] = %{{.*}})
// CHECK: %[[OFFSET:.*]] = arith.muli %[[B]], %[[COLUMNS]]
// CHECK: %[[LEFT:.*]] = arith.subi %[[N]], %[[OFFSET]]
// CHECK: %[[COUNT:.*]] = arith.minui %[[COLUMNS]], %[[LEFT]]
// CHECK-DAG: %[[X0B:.*]] = tensor.extract_slice %[[X0]][%[[OFFSET]]] [%[[COUNT]]] [1]
// CHECK-DAG: %[[AB:.*]] = tensor.extract_slice %[[A]][%[[OFFSET]]] [%[[COUNT]]] [1]
// CHECK: lz.fill %{{.*}}, %{{.*}}, %[[COUNT]] : tensor<?x?xf64>
// CHECK: lz.loop {{.*}} iter_args(%{{.*}} = %[[X0B]],
// CHECK: lz.for %{{.*}} < %[[COUNT]]
// CHECK: lz.get %[[AB]]
// CHECK: lz.loop
// CHECK: tensor.insert_slice %{{.*}} into %[[GX]][%[[OFFSET]]] [%[[COUNT]]] [1]
// CHECK: tensor.insert_slice %{{.*}} into %[[GA]][%[[OFFSET]]] [%[[COUNT]]] [1]
// CHECK: tensor.insert_slice %{{.*}} into %[[GL]][%[[OFFSET]]] [%[[COUNT]]] [1]
// CHECK: lz.yield
// CHECK: lz.sum %{{.*}} < %[[N]]
// CHECK: lz.get %[[R]]#2
// The block's steps still write over their states (lower-lz knows the
// slice's size).
// LOWERED-LABEL: func.func @gradient(
// LOWERED: %[[SLICE:.*]] = tensor.extract_slice %arg0
// LOWERED: scf.for {{.*}} iter_args(%[[X:[^ ]*]] = %[[SLICE]],
// LOWERED: linalg.generic {{.*}} outs(%[[X]] : tensor<?xf64>)
// LOWERED: scf.for {{.*}} iter_args(%[[G:[^ ]*]] = %{{.*}}, %[[GA:[^ ]*]] = %{{.*}}, %[[GL:[^ ]*]] = %{{.*}})
// LOWERED: linalg.generic {{.*}} outs(%[[G]], %[[GA]], %[[GL]] :
// OFF-LABEL: func.func @gradient(
// OFF-NOT: ceildivui
func.func @gradient(%x0: tensor<?xf64>, %a: tensor<?xf64>, %lr: f64, %steps: index) -> (tensor<?xf64>, tensor<?xf64>, f64) attributes {lz.equal_sizes = [array<i64: 0, 0, 1, 0>]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  %zero = arith.constant 0.0 : f64
  %nzero = arith.constant -0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %last = arith.subi %steps, %c1 : index
  %stack0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %fwd:2 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0) : tensor<?xf64>, tensor<?x?xf64> {
    %row = arith.subi %last, %t : index
    %pushed = tensor.insert_slice %x into %stack[%row, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %ai = lz.get %a[%i] : tensor<?xf64>
      %p = arith.mulf %ai, %xi : f64
      %d = arith.subf %p, %one : f64
      %s = arith.mulf %lr, %d : f64
      %y = arith.subf %xi, %s : f64
      lz.yield %y : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  %seed = lz.for %i < %n : tensor<?xf64> {
    %xi = lz.get %fwd#0[%i] : tensor<?xf64>
    %d = arith.addf %xi, %xi : f64
    lz.yield %d : f64
  }
  %ga0 = lz.fill %zero, %n : tensor<?xf64>
  %gl0 = lz.fill %nzero, %n : tensor<?xf64>
  %rev:3 = lz.loop %t < %steps iter_args(%g = %seed, %ga = %ga0, %gl = %gl0) : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> {
    %xs = lz.get %fwd#1[%t] : tensor<?x?xf64>
    %next:3 = lz.for %i < %n : tensor<?xf64>, tensor<?xf64>, tensor<?xf64> {
      %ai = lz.get %a[%i] : tensor<?xf64>
      %xi = lz.get %xs[%i] : tensor<?xf64>
      %gi = lz.get %g[%i] : tensor<?xf64>
      %gai = lz.get %ga[%i] : tensor<?xf64>
      %gli = lz.get %gl[%i] : tensor<?xf64>
      %p = arith.mulf %ai, %xi : f64
      %d = arith.subf %p, %one : f64
      %ng = arith.negf %gi : f64
      %dl = arith.mulf %d, %ng : f64
      %gl1 = arith.addf %gli, %dl : f64
      %m = arith.mulf %lr, %ng : f64
      %am = arith.mulf %ai, %m : f64
      %g1 = arith.addf %am, %gi : f64
      %xm = arith.mulf %xi, %m : f64
      %ga1 = arith.addf %gai, %xm : f64
      lz.yield %g1, %ga1, %gl1 : f64, f64, f64
    }
    lz.yield %next#0, %next#1, %next#2 : tensor<?xf64>, tensor<?xf64>, tensor<?xf64>
  }
  %glr = lz.sum %k < %n : f64 {
    %e = lz.get %rev#2[%k] : tensor<?xf64>
    lz.yield %e : f64
  }
  return %rev#0, %rev#1, %glr : tensor<?xf64>, tensor<?xf64>, f64
}

// Left as they are: a step that reads a neighbour's element (@neighbour),
// a loop that also carries a sum over the columns (@reduction), an input
// that is also read at another point (@whole_read), a body that uses the
// number of columns (@uses_size), a region whose result something before
// its last op reads (@early_use), a loop without a stack (@no_stack), and
// a step that prints (@prints: once per block, it would print more). Each
// returns its final state, a vector of columns, as a tiled region may:
// without its defect, each would run by blocks.
// CHECK-LABEL: func.func @neighbour(
// CHECK-NOT: ceildivui
// CHECK-LABEL: func.func @reduction(
// CHECK-NOT: ceildivui
// CHECK-LABEL: func.func @whole_read(
// CHECK-NOT: ceildivui
// CHECK-LABEL: func.func @uses_size(
// CHECK-NOT: ceildivui
// CHECK-LABEL: func.func @early_use(
// CHECK-NOT: ceildivui
// CHECK-LABEL: func.func @no_stack(
// CHECK-NOT: ceildivui
// CHECK-LABEL: func.func @prints(
// CHECK-NOT: ceildivui
// CHECK-LABEL: func.func @bits(
// CHECK-LABEL: func.func @main(
func.func @neighbour(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %fwd:2 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0) : tensor<?xf64>, tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x into %stack[%t, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %next = lz.for %i < %n : tensor<?xf64> {
      %i1 = arith.addi %i, %c1 : index
      %j = arith.remui %i1, %n : index
      %xj = lz.get %x[%j] : tensor<?xf64>
      lz.yield %xj : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  return %fwd#0 : tensor<?xf64>
}

func.func @reduction(%x0: tensor<?xf64>, %steps: index) -> (tensor<?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %fwd:3 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0, %acc = %zero) : tensor<?xf64>, tensor<?x?xf64>, f64 {
    %pushed = tensor.insert_slice %x into %stack[%t, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %s = lz.sum %k < %n : f64 {
      %e = lz.get %x[%k] : tensor<?xf64>
      lz.yield %e : f64
    }
    %acc1 = arith.addf %acc, %s : f64
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %y = arith.mulf %xi, %xi : f64
      lz.yield %y : f64
    }
    lz.yield %next, %pushed, %acc1 : tensor<?xf64>, tensor<?x?xf64>, f64
  }
  return %fwd#0, %fwd#2 : tensor<?xf64>, f64
}

func.func @whole_read(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %fwd:2 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0) : tensor<?xf64>, tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x into %stack[%t, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %first = lz.get %x0[%c0] : tensor<?xf64>
      %y = arith.mulf %xi, %first : f64
      lz.yield %y : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  return %fwd#0 : tensor<?xf64>
}

func.func @uses_size(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %fwd:2 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0) : tensor<?xf64>, tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x into %stack[%t, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %ni = arith.index_cast %n : index to i64
      %nf = arith.sitofp %ni : i64 to f64
      %y = arith.divf %xi, %nf : f64
      lz.yield %y : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  return %fwd#0 : tensor<?xf64>
}

func.func @early_use(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %fwd:2 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0) : tensor<?xf64>, tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x into %stack[%t, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %y = arith.mulf %xi, %xi : f64
      lz.yield %y : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  %first = lz.get %fwd#0[%c0] : tensor<?xf64>
  %scaled = lz.for %i < %n : tensor<?xf64> {
    %xi = lz.get %fwd#0[%i] : tensor<?xf64>
    %y = arith.mulf %xi, %first : f64
    lz.yield %y : f64
  }
  return %scaled : tensor<?xf64>
}

func.func @no_stack(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %r = lz.loop %t < %steps iter_args(%x = %x0) : tensor<?xf64> {
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %y = arith.mulf %xi, %xi : f64
      lz.yield %y : f64
    }
    lz.yield %next : tensor<?xf64>
  }
  return %r : tensor<?xf64>
}

func.func @prints(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %fwd:2 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0) : tensor<?xf64>, tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x into %stack[%t, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %ti = arith.index_cast %t : index to i64
    %shown = lz.print %ti : i64
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %y = arith.mulf %xi, %xi : f64
      lz.yield %y : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  return %fwd#0 : tensor<?xf64>
}

// A vector's bits, which the interpreter prints exactly.
func.func @bits(%v: tensor<?xf64>) -> tensor<?xi64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %v, %c0 : tensor<?xf64>
  %b = lz.for %i < %n : tensor<?xi64> {
    %e = lz.get %v[%i] : tensor<?xf64>
    %x = arith.bitcast %e : f64 to i64
    lz.yield %x : i64
  }
  return %b : tensor<?xi64>
}

// The same values before and after, bit for bit: 20 columns, in blocks of
// 8, 8 and 4.
func.func @main() -> (tensor<?xi64>, tensor<?xi64>, f64, tensor<?xf64>, tensor<?xf64>, f64, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xi64>) {
  %c3 = arith.constant 3 : index
  %c20 = arith.constant 20 : index
  %lr = arith.constant 0.125 : f64
  %x = lz.for %i < %c20 : tensor<?xf64> {
    %j = arith.index_cast %i : index to i64
    %f = arith.sitofp %j : i64 to f64
    %g = math.sin %f : f64
    lz.yield %g : f64
  }
  %a = lz.for %i < %c20 : tensor<?xf64> {
    %j = arith.index_cast %i : index to i64
    %f = arith.sitofp %j : i64 to f64
    %g = math.cos %f : f64
    lz.yield %g : f64
  }
  %g:3 = func.call @gradient(%x, %a, %lr, %c3) : (tensor<?xf64>, tensor<?xf64>, f64, index) -> (tensor<?xf64>, tensor<?xf64>, f64)
  %gx = func.call @bits(%g#0) : (tensor<?xf64>) -> tensor<?xi64>
  %ga = func.call @bits(%g#1) : (tensor<?xf64>) -> tensor<?xi64>
  %nb = func.call @neighbour(%x, %c3) : (tensor<?xf64>, index) -> tensor<?xf64>
  %rd:2 = func.call @reduction(%x, %c3) : (tensor<?xf64>, index) -> (tensor<?xf64>, f64)
  %wr = func.call @whole_read(%x, %c3) : (tensor<?xf64>, index) -> tensor<?xf64>
  %us = func.call @uses_size(%x, %c3) : (tensor<?xf64>, index) -> tensor<?xf64>
  %eu = func.call @early_use(%x, %c3) : (tensor<?xf64>, index) -> tensor<?xf64>
  %ns = func.call @no_stack(%x, %c3) : (tensor<?xf64>, index) -> tensor<?xf64>
  %c5 = arith.constant 5 : index
  %ck = func.call @checkpointed(%x, %c5) : (tensor<?xf64>, index) -> tensor<?xf64>
  %ckb = func.call @bits(%ck) : (tensor<?xf64>) -> tensor<?xi64>
  return %gx, %ga, %g#2, %nb, %rd#0, %rd#1, %wr, %us, %eu, %ns, %ckb : tensor<?xi64>, tensor<?xi64>, f64, tensor<?xf64>, tensor<?xf64>, f64, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xf64>, tensor<?xi64>
}

// A checkpointed forward sweep pushes its state under a conditional, every
// other step; the reverse sweep reads the checkpoints back. The
// conditional runs by blocks too, unless a branch prints (@prints_in_if).
// CHECK-LABEL: func.func @checkpointed(
// CHECK: %[[N:.*]] = tensor.dim
// CHECK: %[[CEIL:.*]] = arith.ceildivui %[[N]], %[[COLUMNS:.*]] : index
// CHECK: lz.loop %{{.*}} < %{{.*}} iter_args
// CHECK: %[[COUNT:.*]] = arith.minui %[[COLUMNS]]
// CHECK: lz.loop
// CHECK: scf.if
// CHECK: tensor.insert_slice %{{.*}} [1, %[[COUNT]]] [1, 1]
// CHECK: lz.for %{{.*}} < %[[COUNT]]
// CHECK-LABEL: func.func @prints_in_if(
// CHECK-NOT: ceildivui
// CHECK: return
func.func @checkpointed(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %entries = arith.ceildivsi %steps, %c2 : index
  %stack0 = lz.fill %zero, %entries, %n : tensor<?x?xf64>
  %fwd:2 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0) : tensor<?xf64>, tensor<?x?xf64> {
    %r = arith.remsi %t, %c2 : index
    %kept = arith.cmpi eq, %r, %c0 : index
    %row = arith.divsi %t, %c2 : index
    %pushed = scf.if %kept -> (tensor<?x?xf64>) {
      %p = tensor.insert_slice %x into %stack[%row, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
      scf.yield %p : tensor<?x?xf64>
    } else {
      scf.yield %stack : tensor<?x?xf64>
    }
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %y = math.sin %xi : f64
      lz.yield %y : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  %acc0 = lz.fill %zero, %n : tensor<?xf64>
  %rev = lz.loop %t < %entries iter_args(%acc = %acc0) : tensor<?xf64> {
    %xs = lz.get %fwd#1[%t] : tensor<?x?xf64>
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %xs[%i] : tensor<?xf64>
      %ai = lz.get %acc[%i] : tensor<?xf64>
      %y = arith.addf %ai, %xi : f64
      lz.yield %y : f64
    }
    lz.yield %next : tensor<?xf64>
  }
  return %rev : tensor<?xf64>
}

func.func @prints_in_if(%x0: tensor<?xf64>, %steps: index) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %n = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack0 = lz.fill %zero, %steps, %n : tensor<?x?xf64>
  %fwd:2 = lz.loop %t < %steps iter_args(%x = %x0, %stack = %stack0) : tensor<?xf64>, tensor<?x?xf64> {
    %first = arith.cmpi eq, %t, %c0 : index
    %pushed = scf.if %first -> (tensor<?x?xf64>) {
      %ti = arith.index_cast %t : index to i64
      %shown = lz.print %ti : i64
      %p = tensor.insert_slice %x into %stack[%t, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
      scf.yield %p : tensor<?x?xf64>
    } else {
      %p = tensor.insert_slice %x into %stack[%t, 0] [1, %n] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
      scf.yield %p : tensor<?x?xf64>
    }
    %next = lz.for %i < %n : tensor<?xf64> {
      %xi = lz.get %x[%i] : tensor<?xf64>
      %y = arith.mulf %xi, %xi : f64
      lz.yield %y : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  return %fwd#0 : tensor<?xf64>
}
