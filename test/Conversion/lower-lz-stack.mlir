// RUN: leibniz-opt %s --lower-lz | FileCheck %s
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after

// A fill that starts the state of a counted loop with as many steps as it
// has rows, whose body writes a whole row of the state at every step (row
// `t` or `count - 1 - t`) and does nothing else with it, is never read: a
// stack of reverse mode. It lowers to an empty tensor, which the
// interpreter fills with NaN, so that the results above tell an element
// read before it was written.
// CHECK-LABEL: func.func @reversed(
// CHECK-NOT: linalg.fill
// CHECK: tensor.empty(%arg1, %{{.*}}) : tensor<?x?xf64>
// CHECK-NOT: linalg.fill
// CHECK: scf.for
// CHECK-LABEL: func.func @forward(
// CHECK-NOT: linalg.fill
// CHECK: tensor.empty() : tensor<4x2x3xf64>
// CHECK-NOT: linalg.fill
// CHECK: scf.for
// CHECK-LABEL: func.func @constant_count(
// CHECK-NOT: linalg.fill
// CHECK: tensor.empty() : tensor<3x2xf64>
// CHECK-NOT: linalg.fill
// CHECK: scf.for
func.func @reversed(%x0: tensor<?xf64>, %n: index) -> (tensor<?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack = lz.fill %zero, %n, %m : tensor<?x?xf64>
  %last = arith.subi %n, %c1 : index
  %r:2 = lz.loop %t < %n iter_args(%x = %x0, %s = %stack) : tensor<?xf64>, tensor<?x?xf64> {
    %row = arith.subi %last, %t : index
    %pushed = tensor.insert_slice %x into %s[%row, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    %next = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %x[%i] : tensor<?xf64>
      %d = arith.mulf %e, %e : f64
      lz.yield %d : f64
    }
    lz.yield %next, %pushed : tensor<?xf64>, tensor<?x?xf64>
  }
  return %r#0, %r#1 : tensor<?xf64>, tensor<?x?xf64>
}

func.func @forward(%x0: tensor<2x3xf64>) -> tensor<4x2x3xf64> {
  %c4 = arith.constant 4 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %one = arith.constant 1.0 : f64
  %stack = lz.fill %one : tensor<4x2x3xf64>
  %r:2 = lz.loop %t < %c4 iter_args(%x = %x0, %s = %stack) : tensor<2x3xf64>, tensor<4x2x3xf64> {
    %pushed = tensor.insert_slice %x into %s[%t, 0, 0] [1, 2, 3] [1, 1, 1] : tensor<2x3xf64> into tensor<4x2x3xf64>
    %next = lz.for %i < %c2, %j < %c3 : tensor<2x3xf64> {
      %e = lz.get %x[%i, %j] : tensor<2x3xf64>
      %d = arith.addf %e, %one : f64
      lz.yield %d : f64
    }
    lz.yield %next, %pushed : tensor<2x3xf64>, tensor<4x2x3xf64>
  }
  return %r#1 : tensor<4x2x3xf64>
}

func.func @constant_count(%x0: tensor<2xf64>) -> tensor<3x2xf64> {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %stack = lz.fill %zero : tensor<3x2xf64>
  %r:2 = lz.loop %t < %c3 iter_args(%x = %x0, %s = %stack) : tensor<2xf64>, tensor<3x2xf64> {
    %row = arith.subi %c2, %t : index
    %pushed = tensor.insert_slice %x into %s[%row, 0] [1, 2] [1, 1] : tensor<2xf64> into tensor<3x2xf64>
    %next = lz.for %i < %c2 : tensor<2xf64> {
      %e = lz.get %x[%i] : tensor<2xf64>
      %d = arith.addf %e, %e : f64
      lz.yield %d : f64
    }
    lz.yield %next, %pushed : tensor<2xf64>, tensor<3x2xf64>
  }
  return %r#1 : tensor<3x2xf64>
}

// Where an element may be read before it is written, the fill stays: the
// loop has fewer steps than the tensor has rows (@short), its rows are
// counted down from another size (@other_last), the body reads
// the state (@read), writes the same row at every step (@same_row), part
// of a row (@part), a row under a condition (@conditional), or the fill has
// another use (@shared).
// CHECK-LABEL: func.func @short(
// CHECK: linalg.fill
// CHECK-LABEL: func.func @other_last(
// CHECK: linalg.fill
// CHECK-LABEL: func.func @read(
// CHECK: linalg.fill
// CHECK-LABEL: func.func @same_row(
// CHECK: linalg.fill
// CHECK-LABEL: func.func @part(
// CHECK: linalg.fill
// CHECK-LABEL: func.func @conditional(
// CHECK: linalg.fill
// CHECK-LABEL: func.func @shared(
// CHECK: linalg.fill
// CHECK-LABEL: func.func @main(
func.func @short(%x0: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %rows = arith.addi %n, %c1 : index
  %stack = lz.fill %zero, %rows, %m : tensor<?x?xf64>
  %r = lz.loop %t < %n iter_args(%s = %stack) : tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x0 into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    lz.yield %pushed : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

func.func @other_last(%x0: tensor<?xf64>, %n: index, %k: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack = lz.fill %zero, %n, %m : tensor<?x?xf64>
  %last = arith.subi %k, %c1 : index
  %r = lz.loop %t < %n iter_args(%s = %stack) : tensor<?x?xf64> {
    %row = arith.subi %last, %t : index
    %pushed = tensor.insert_slice %x0 into %s[%row, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    lz.yield %pushed : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

func.func @read(%x0: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack = lz.fill %zero, %n, %m : tensor<?x?xf64>
  %r = lz.loop %t < %n iter_args(%s = %stack) : tensor<?x?xf64> {
    %first = lz.get %s[%c0] : tensor<?x?xf64>
    %row = lz.for %i < %m : tensor<?xf64> {
      %e = lz.get %first[%i] : tensor<?xf64>
      %f = lz.get %x0[%i] : tensor<?xf64>
      %d = arith.addf %e, %f : f64
      lz.yield %d : f64
    }
    %pushed = tensor.insert_slice %row into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    lz.yield %pushed : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

func.func @same_row(%x0: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack = lz.fill %zero, %n, %m : tensor<?x?xf64>
  %r = lz.loop %t < %n iter_args(%s = %stack) : tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x0 into %s[%c0, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    lz.yield %pushed : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

func.func @part(%x0: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %wide = arith.addi %m, %c1 : index
  %stack = lz.fill %zero, %n, %wide : tensor<?x?xf64>
  %r = lz.loop %t < %n iter_args(%s = %stack) : tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x0 into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    lz.yield %pushed : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

func.func @conditional(%x0: tensor<?xf64>, %n: index) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack = lz.fill %zero, %n, %m : tensor<?x?xf64>
  %r = lz.loop %t < %n iter_args(%s = %stack) : tensor<?x?xf64> {
    %odd = arith.andi %t, %c1 : index
    %skip = arith.cmpi eq, %odd, %c1 : index
    %next = scf.if %skip -> (tensor<?x?xf64>) {
      scf.yield %s : tensor<?x?xf64>
    } else {
      %pushed = tensor.insert_slice %x0 into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
      scf.yield %pushed : tensor<?x?xf64>
    }
    lz.yield %next : tensor<?x?xf64>
  }
  return %r : tensor<?x?xf64>
}

func.func @shared(%x0: tensor<?xf64>, %n: index) -> (tensor<?x?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %x0, %c0 : tensor<?xf64>
  %stack = lz.fill %zero, %n, %m : tensor<?x?xf64>
  %r = lz.loop %t < %n iter_args(%s = %stack) : tensor<?x?xf64> {
    %pushed = tensor.insert_slice %x0 into %s[%t, 0] [1, %m] [1, 1] : tensor<?xf64> into tensor<?x?xf64>
    lz.yield %pushed : tensor<?x?xf64>
  }
  return %r, %stack : tensor<?x?xf64>, tensor<?x?xf64>
}

func.func @main() -> (tensor<?xf64>, tensor<?x?xf64>, tensor<4x2x3xf64>, tensor<3x2xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c3f = arith.constant 3.0 : f64
  %x = lz.for %i < %c3 : tensor<?xf64> {
    %j = arith.index_cast %i : index to i64
    %f = arith.sitofp %j : i64 to f64
    %g = math.exp %f : f64
    lz.yield %g : f64
  }
  %y = lz.for %i < %c2, %j < %c3 : tensor<2x3xf64> {
    %k = arith.muli %i, %c3 : index
    %l = arith.addi %k, %j : index
    %m = arith.index_cast %l : index to i64
    %f = arith.sitofp %m : i64 to f64
    lz.yield %f : f64
  }
  %r:2 = func.call @reversed(%x, %c3) : (tensor<?xf64>, index) -> (tensor<?xf64>, tensor<?x?xf64>)
  %f = func.call @forward(%y) : (tensor<2x3xf64>) -> tensor<4x2x3xf64>
  %z = lz.fill %c3f : tensor<2xf64>
  %cc = func.call @constant_count(%z) : (tensor<2xf64>) -> tensor<3x2xf64>
  // Any other count than the rows' writes out of bounds: no step.
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %ol = func.call @other_last(%x, %c0, %c4) : (tensor<?xf64>, index, index) -> tensor<?x?xf64>
  %s = func.call @short(%x, %c3) : (tensor<?xf64>, index) -> tensor<?x?xf64>
  %d = func.call @read(%x, %c3) : (tensor<?xf64>, index) -> tensor<?x?xf64>
  %o = func.call @same_row(%x, %c3) : (tensor<?xf64>, index) -> tensor<?x?xf64>
  %p = func.call @part(%x, %c3) : (tensor<?xf64>, index) -> tensor<?x?xf64>
  %c = func.call @conditional(%x, %c3) : (tensor<?xf64>, index) -> tensor<?x?xf64>
  %h:2 = func.call @shared(%x, %c3) : (tensor<?xf64>, index) -> (tensor<?x?xf64>, tensor<?x?xf64>)
  return %r#0, %r#1, %f, %cc, %ol, %s, %d, %o, %p, %c, %h#0, %h#1 : tensor<?xf64>, tensor<?x?xf64>, tensor<4x2x3xf64>, tensor<3x2xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
}
