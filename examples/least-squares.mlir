// Least-squares regression by gradient descent, in the lz dialect.
//
// The data are made inside the program: features X[i, j] = sin((i+1)(j+1))
// for 32 samples and 3 features, targets y = X w* with w* = (1.5, -2, 0.5).
// Starting from w = 0, 300 steps of
//   w <- w - lr * X^T (X w - y) / n
// recover w*. The gradient is written by hand: the language frontend and
// automatic differentiation, which will derive it, do not exist yet.
//
//   leibniz-opt least-squares.mlir --lz-interpret=entry=main

func.func @features(%n: index, %d: index) -> tensor<?x?xf64> {
  %X = lz.for %i < %n, %j < %d : tensor<?x?xf64> {
    %c1 = arith.constant 1 : index
    %i1 = arith.addi %i, %c1 : index
    %j1 = arith.addi %j, %c1 : index
    %s = arith.muli %i1, %j1 : index
    %si = arith.index_cast %s : index to i64
    %f = arith.sitofp %si : i64 to f64
    %x = math.sin %f : f64
    lz.yield %x : f64
  }
  return %X : tensor<?x?xf64>
}

// r = X w - y
func.func @residual(%X: tensor<?x?xf64>, %w: tensor<?xf64>, %y: tensor<?xf64>) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %X, %c0 : tensor<?x?xf64>
  %d = tensor.dim %X, %c1 : tensor<?x?xf64>
  %r = lz.for %i < %n : tensor<?xf64> {
    %p = lz.sum %j < %d : f64 {
      %x = lz.get %X[%i, %j] : tensor<?x?xf64>
      %wj = lz.get %w[%j] : tensor<?xf64>
      %xw = arith.mulf %x, %wj : f64
      lz.yield %xw : f64
    }
    %yi = lz.get %y[%i] : tensor<?xf64>
    %ri = arith.subf %p, %yi : f64
    lz.yield %ri : f64
  }
  return %r : tensor<?xf64>
}

// 0.5 * mean(r * r)
func.func @loss(%r: tensor<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %r, %c0 : tensor<?xf64>
  %ss = lz.sum %i < %n : f64 {
    %ri = lz.get %r[%i] : tensor<?xf64>
    %sq = arith.mulf %ri, %ri : f64
    lz.yield %sq : f64
  }
  %ni = arith.index_cast %n : index to i64
  %nf = arith.sitofp %ni : i64 to f64
  %two = arith.constant 2.0 : f64
  %den = arith.mulf %two, %nf : f64
  %l = arith.divf %ss, %den : f64
  return %l : f64
}

func.func @main() -> (tensor<?xf64>, f64) {
  %n = arith.constant 32 : index
  %d = arith.constant 3 : index
  %steps = arith.constant 300 : index
  %lr = arith.constant 0.5 : f64
  %nf = arith.constant 32.0 : f64
  %X = func.call @features(%n, %d) : (index, index) -> tensor<?x?xf64>
  %wtrue = arith.constant dense<[1.5, -2.0, 0.5]> : tensor<3xf64>
  %wt = tensor.cast %wtrue : tensor<3xf64> to tensor<?xf64>
  %zero = arith.constant 0.0 : f64
  %zy = lz.fill %zero, %n : tensor<?xf64>
  // y = X w* (the residual against zero targets)
  %y = func.call @residual(%X, %wt, %zy) : (tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
  %w0 = lz.fill %zero, %d : tensor<?xf64>
  %w = lz.loop %t < %steps iter_args(%w = %w0) : tensor<?xf64> {
    %r = func.call @residual(%X, %w, %y) : (tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
    // w - lr * X^T r / n
    %next = lz.for %j < %d : tensor<?xf64> {
      %g = lz.sum %i < %n : f64 {
        %x = lz.get %X[%i, %j] : tensor<?x?xf64>
        %ri = lz.get %r[%i] : tensor<?xf64>
        %xr = arith.mulf %x, %ri : f64
        lz.yield %xr : f64
      }
      %gn = arith.divf %g, %nf : f64
      %step = arith.mulf %lr, %gn : f64
      %wj = lz.get %w[%j] : tensor<?xf64>
      %wj1 = arith.subf %wj, %step : f64
      lz.yield %wj1 : f64
    }
    lz.yield %next : tensor<?xf64>
  }
  %r = func.call @residual(%X, %w, %y) : (tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
  %l = func.call @loss(%r) : (tensor<?xf64>) -> f64
  return %w, %l : tensor<?xf64>, f64
}
