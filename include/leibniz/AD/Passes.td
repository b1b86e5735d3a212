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

#endif // LEIBNIZ_AD_PASSES_TD
