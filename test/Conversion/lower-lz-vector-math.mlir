// With `vector-math` (the CPU pipeline at -O3, where LLVM calls libmvec's
// vector math functions), a scatter-add whose value calls a math function
// computes its values in a traversal of its own first: the scatter's loop
// adds into elements that its points choose, so it is not vectorized, and
// neither are the math functions in it; the traversal's loop is. The values
// and their order of addition are the same: the results do not change.

// RUN: leibniz-opt %s --lower-lz=vector-math=true | FileCheck %s
// RUN: leibniz-opt %s --lower-lz | FileCheck %s --check-prefix=PLAIN
// RUN: leibniz-opt %s --lower-lz="vector-math=true extended-vector-math=true" | FileCheck %s --check-prefix=EXTENDED
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz=vector-math=true --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after
// RUN: FileCheck %s --input-file=%t.after --check-prefix=VALUES

// 5 cos(0.5), 2.5 cos(1); exp(0.5) (1 + 2 + 2), exp(1) 2 (w > x[idx]
// except at the last point).
// VALUES: [4.38791281 1.35075576 0.        ]
// VALUES-NEXT: [8.24360635 5.43656366 0.        ]

// CHECK-LABEL: func.func @scatter
// CHECK-SAME: (%[[X:.*]]: tensor<?xf64>, %[[IDX:.*]]: tensor<?xi64>, %[[W:.*]]: tensor<?xf64>)
// CHECK: %[[N:.*]] = tensor.dim %[[IDX]]
// CHECK: %[[VALS:.*]] = tensor.generate %[[N]] {
// CHECK: ^bb0(%[[K:.*]]: index):
// CHECK:   %[[I:.*]] = tensor.extract %[[IDX]][%[[K]]]
// CHECK:   %[[AT:.*]] = arith.index_cast %[[I]]
// CHECK:   %[[XI:.*]] = tensor.extract %[[X]][%[[AT]]]
// CHECK:   %[[C:.*]] = math.cos %[[XI]]
// CHECK:   %[[WK:.*]] = tensor.extract %[[W]][%[[K]]]
// CHECK:   %[[V:.*]] = arith.mulf %[[C]], %[[WK]]
// CHECK:   tensor.yield %[[V]]
// CHECK: %[[COPY:.*]] = bufferization.alloc_tensor() copy(%[[VALS]])
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK-NOT: math.cos
// CHECK:   %[[J:.*]] = tensor.extract %[[IDX]][%[[P]]]
// CHECK:   %[[JAT:.*]] = arith.index_cast %[[J]]
// CHECK:   %[[VP:.*]] = tensor.extract %[[COPY]][%[[P]]]
// CHECK:   %[[OLD:.*]] = tensor.extract %[[ACC]][%[[JAT]]]
// CHECK:   %[[NEW:.*]] = arith.addf %[[OLD]], %[[VP]]
// CHECK:   tensor.insert %[[NEW]] into %[[ACC]][%[[JAT]]]
// CHECK-NOT: math.cos
// CHECK: return
// PLAIN-LABEL: func.func @scatter
// PLAIN-NOT: tensor.generate
// PLAIN: scf.for
// PLAIN: math.cos
func.func @scatter(%x: tensor<?xf64>, %idx: tensor<?xi64>, %w: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %r = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
    %i = lz.get %idx[%k] : tensor<?xi64>
    %at = arith.index_cast %i : i64 to index
    %xi = lz.get %x[%at] : tensor<?xf64>
    %c = math.cos %xi : f64
    %wk = lz.get %w[%k] : tensor<?xf64>
    %v = arith.mulf %c, %wk : f64
    lz.yield %at, %v : index, f64
  }
  return %r : tensor<?xf64>
}

// Not where the value calls no math function, nor in a scope or in a
// function called there (the values would be a tensor per point of the
// scope), nor over a constant range below 16, nor over several ranges
// (whose points may be many more than the elements of the result and the
// inputs), nor where the body has effects.
// CHECK-LABEL: func.func @cheap
// CHECK-NOT: tensor.generate
// CHECK-LABEL: func.func @in_scope
// CHECK-NOT: tensor.generate
// CHECK-LABEL: func.func @called
// CHECK-NOT: tensor.generate
// CHECK-LABEL: func.func @few
// CHECK-NOT: tensor.generate
// CHECK-LABEL: func.func @two_ranges
// CHECK-NOT: tensor.generate
// CHECK-LABEL: func.func @effects
// CHECK-NOT: tensor.generate
// CHECK-LABEL: func.func @masked
func.func @cheap(%x: tensor<?xf64>, %idx: tensor<?xi64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %r = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
    %i = lz.get %idx[%k] : tensor<?xi64>
    %at = arith.index_cast %i : i64 to index
    %xi = lz.get %x[%at] : tensor<?xf64>
    %v = arith.mulf %xi, %xi : f64
    lz.yield %at, %v : index, f64
  }
  return %r : tensor<?xf64>
}
func.func @in_scope(%x: tensor<?xf64>, %idx: tensor<?xi64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %r = lz.for %j < %n : tensor<?x?xf64> {
    %row = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
      %i = lz.get %idx[%k] : tensor<?xi64>
      %at = arith.index_cast %i : i64 to index
      %xi = lz.get %x[%at] : tensor<?xf64>
      %v = math.sin %xi : f64
      lz.yield %at, %v : index, f64
    }
    lz.yield %row : tensor<?xf64>
  }
  return %r : tensor<?x?xf64>
}
func.func @called(%x: tensor<?xf64>, %idx: tensor<?xi64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %r = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
    %i = lz.get %idx[%k] : tensor<?xi64>
    %at = arith.index_cast %i : i64 to index
    %xi = lz.get %x[%at] : tensor<?xf64>
    %v = math.sin %xi : f64
    lz.yield %at, %v : index, f64
  }
  return %r : tensor<?xf64>
}
func.func @calls_in_scope(%x: tensor<?xf64>, %idx: tensor<?xi64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %r = lz.for %j < %n : tensor<?x?xf64> {
    %row = func.call @called(%x, %idx) : (tensor<?xf64>, tensor<?xi64>) -> tensor<?xf64>
    lz.yield %row : tensor<?xf64>
  }
  return %r : tensor<?x?xf64>
}
func.func @few(%x: tensor<?xf64>, %idx: tensor<?xi64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %r = lz.accumulate %k < %c4 into (%m) : tensor<?xf64> {
    %i = lz.get %idx[%k] : tensor<?xi64>
    %at = arith.index_cast %i : i64 to index
    %xi = lz.get %x[%at] : tensor<?xf64>
    %v = math.exp %xi : f64
    lz.yield %at, %v : index, f64
  }
  return %r : tensor<?xf64>
}

func.func @two_ranges(%x: tensor<?x?xf64>, %idx: tensor<?xi64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %m = tensor.dim %x, %c0 : tensor<?x?xf64>
  %d = tensor.dim %x, %c1 : tensor<?x?xf64>
  %r = lz.accumulate %k < %n, %j < %d into (%m, %d) : tensor<?x?xf64> {
    %i = lz.get %idx[%k] : tensor<?xi64>
    %at = arith.index_cast %i : i64 to index
    %xi = lz.get %x[%at, %j] : tensor<?x?xf64>
    %v = math.exp %xi : f64
    lz.yield %at, %j, %v : index, index, f64
  }
  return %r : tensor<?x?xf64>
}
func.func private @opaque(f64) -> f64
func.func @effects(%x: tensor<?xf64>, %idx: tensor<?xi64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %r = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
    %i = lz.get %idx[%k] : tensor<?xi64>
    %at = arith.index_cast %i : i64 to index
    %xi = lz.get %x[%at] : tensor<?xf64>
    %e = math.exp %xi : f64
    %v = func.call @opaque(%e) : (f64) -> f64
    lz.yield %at, %v : index, f64
  }
  return %r : tensor<?xf64>
}

// A masked scatter-add: the values of the points whose mask is false are
// computed too, as the body computes them at every point, and not added.
// What the mask and the value share (the read of x) is in both.
// CHECK: %[[MVALS:.*]] = tensor.generate
// CHECK:   math.exp
// CHECK: %[[MCOPY:.*]] = bufferization.alloc_tensor() copy(%[[MVALS]])
// CHECK: scf.for %[[MP:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[MACC:.*]] = %{{.*}})
// CHECK-NOT: math.exp
// CHECK:   %[[MASK:.*]] = arith.cmpf ogt
// CHECK:   %[[MV:.*]] = tensor.extract %[[MCOPY]][%[[MP]]]
// CHECK:   scf.if %[[MASK]]
// CHECK:     arith.addf %{{.*}}, %[[MV]]
// CHECK-NOT: math.exp
// CHECK: return
func.func @masked(%x: tensor<?xf64>, %idx: tensor<?xi64>, %w: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %r = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
    %i = lz.get %idx[%k] : tensor<?xi64>
    %at = arith.index_cast %i : i64 to index
    %xi = lz.get %x[%at] : tensor<?xf64>
    %wk = lz.get %w[%k] : tensor<?xf64>
    %positive = arith.cmpf ogt, %wk, %xi : f64
    %e = math.exp %xi : f64
    %v = arith.mulf %e, %wk : f64
    lz.yield %positive, %at, %v : i1, index, f64
  } attributes {masked}
  return %r : tensor<?xf64>
}

// tanh is not in LLVM's own table of libmvec: split only with
// extended-vector-math (glibc 2.35's functions, which the driver adds).
// CHECK-LABEL: func.func @tanh
// CHECK-NOT: tensor.generate
// CHECK: return
// EXTENDED-LABEL: func.func @tanh
// EXTENDED: tensor.generate
// EXTENDED: math.tanh
// EXTENDED: bufferization.alloc_tensor() copy
func.func @tanh(%x: tensor<?xf64>, %idx: tensor<?xi64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %idx, %c0 : tensor<?xi64>
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %r = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
    %i = lz.get %idx[%k] : tensor<?xi64>
    %at = arith.index_cast %i : i64 to index
    %xi = lz.get %x[%at] : tensor<?xf64>
    %v = math.tanh %xi : f64
    lz.yield %at, %v : index, f64
  }
  return %r : tensor<?xf64>
}

func.func @main() -> (tensor<?xf64>, tensor<?xf64>) {
  %x = arith.constant dense<[0.5, 1.0, 2.0]> : tensor<3xf64>
  %idx = arith.constant dense<[0, 0, 1, 0, 1]> : tensor<5xi64>
  %w = arith.constant dense<[1.0, 2.0, 2.0, 2.0, 0.5]> : tensor<5xf64>
  %xd = tensor.cast %x : tensor<3xf64> to tensor<?xf64>
  %id = tensor.cast %idx : tensor<5xi64> to tensor<?xi64>
  %wd = tensor.cast %w : tensor<5xf64> to tensor<?xf64>
  %a = func.call @scatter(%xd, %id, %wd) : (tensor<?xf64>, tensor<?xi64>, tensor<?xf64>) -> tensor<?xf64>
  %b = func.call @masked(%xd, %id, %wd) : (tensor<?xf64>, tensor<?xi64>, tensor<?xf64>) -> tensor<?xf64>
  return %a, %b : tensor<?xf64>, tensor<?xf64>
}
