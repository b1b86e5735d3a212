//===- Passes.td - AD passes -------------------------------*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_AD_PASSES_TD
#define LEIBNIZ_AD_PASSES_TD

include "mlir/Pass/PassBase.td"

def ADForward : Pass<"ad-forward", "mlir::ModuleOp"> {
  let summary = "Expands the forward-mode transformations into lz IR";
  let description = [{
    Replaces `ad.jvp`, and `ad.jacobian`, `ad.grad` and `ad.value_and_grad`
    in mode `"fwd"`, by calls of derivative functions: for each function
    and set of differentiated arguments, a private function `@f__jvp_<mask>`
    that takes the arguments followed by the tangents of the differentiated
    ones and returns the results followed by their tangents. Each operation
    is differentiated by its rule (`DerivativeOpInterface`); tangents that
    are zero are not computed.

    A gradient or Jacobian evaluates the derivative along every one-hot
    direction of the argument, in one `lz.for` over the directions marked
    `ad.directions`:

    ```mlir
    %g = lz.for %p < %n : tensor<?xf64> {      // {ad.directions}
      %seed = lz.for %i < %n { scf.if (%i == %p) 1.0 else 0.0 }
      %y, %dy = func.call @f__jvp_1(%x, %seed)
      lz.yield %dy : f64
    }
    ```

    The result is correct but costs a whole evaluation per direction;
    the rewrite strategy `fwd-ad-opt` (docs/ad.md) makes it efficient.
    Reverse-mode transformations are left as they are.
  }];
  let dependentDialects = ["::leibniz::lz::LzDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ADReverse : Pass<"ad-reverse", "mlir::ModuleOp"> {
  let summary = "Expands the reverse-mode transformations into lz IR";
  let description = [{
    Replaces `ad.grad`, `ad.value_and_grad` and `ad.jacobian` in mode
    `"rev"`, and `ad.vjp`, by calls of reverse derivative functions: for
    each function and set of differentiated arguments, a private function
    `@f__vjp_<mask>` that takes the arguments followed by the cotangents of
    the results, and returns the results followed by the cotangents of the
    differentiated arguments. `ad.hessian` and `ad.hvp` become forward
    mode applied to a gradient function `@f__grad` (forward over reverse),
    expanded here too.

    The transformation is purely functional and runs on the unary form of
    each body (docs/ad.md): a forward sweep computes the primal values, a
    reverse sweep applies each operation's transpose rule
    (`DerivativeOpInterface::vjp`); the cotangents of shared values are
    sums, the cotangents of tensor elements are accumulated with
    `lz.accumulate`, and counted loops keep their states in stacks
    (tensors indexed by the step). The result is correct but recomputes
    scope bodies once per cotangent it accumulates; the rewrite strategy
    `rev-ad-opt` makes it efficient. Forward-mode transformations are left
    as they are, except those that `ad.hessian` and `ad.hvp` create.
  }];
  let dependentDialects = ["::leibniz::lz::LzDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ADMinimize : Pass<"ad-minimize", "mlir::ModuleOp"> {
  let summary = "Expands the optimizer loops of ad.minimize";
  let description = [{
    Replaces every `ad.minimize` by an `lz.loop` over its steps. The loop
    carries the leaves of the parameters (tensors and scalars, out of any
    nested tuples), the optimizer's state for each leaf (zeros at first),
    and with `trace` the losses. Each step takes the function's value and
    gradient (`ad.value_and_grad`, expanded by `ad-reverse`) and applies
    the optimizer's update rule `@std$<name>_rule` (lib/Std/optimizers.lz) to
    every element of every leaf, with the 1-based step number and the
    hyperparameters of the configuration (the defaults of
    docs/optimization.md for those it does not give):

    ```mlir
    %r:3 = lz.loop %k < %T iter_args(%x = %x0, %m = %zeros, %v = %zeros) {
      %loss, %g = ad.value_and_grad @f(%x) {wrt = array<i64: 0>}
      %new:3 = lz.for %i < %n { func.call @std$adam_rule(x[i], g[i], m[i],
                                                     v[i], t, lr, ...) }
      lz.yield %new#0, %new#1, %new#2
    }
    ```
  }];
  let dependentDialects = ["::leibniz::lz::LzDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ADSolve : Pass<"ad-solve", "mlir::ModuleOp"> {
  let summary = "Expands the solves of ad.argmin, ad.root and ad.fixed_point";
  let description = [{
    Replaces every `ad.argmin` by the loop of `ad-minimize` as a while
    loop that ends once the norm of the gradient is at most `tol` (that
    step updates nothing) or after `steps` steps, every `ad.root`
    by Newton's or Broyden's method (the Jacobian by `ad.jacobian` in
    forward mode, the linear systems by the standard library's
    `lu_solve`), and every `ad.fixed_point` by applications of its map
    (at most `iters`, until one leaves the point as it is); all of them are while loops that end once converged, and
    each reports, with `lz.check_tolerance`, a result that misses its
    tolerance. Run after `ad-reverse`, which differentiates the solves by
    the implicit function theorem rather than through their loops; the
    `ad.value_and_grad` and `ad.jacobian` of the loops it creates are then
    expanded by `ad-forward` and `ad-reverse` again.
  }];
  let dependentDialects = ["::leibniz::lz::LzDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ADPrintUnaryForm : Pass<"ad-print-unary-form", "mlir::ModuleOp"> {
  let summary = "Prints the unary form of every function body";
  let description = [{
    Prints, for every function with a body, the unary form that reverse
    mode runs on: the nodes of the body with their inputs (operands, then
    the values their regions capture), and the sharing of every value
    (`discard`, `linear`, or `dup` with the input slots of its copies).
    For debugging and tests; the IR is unchanged.
  }];
}

#endif // LEIBNIZ_AD_PASSES_TD
