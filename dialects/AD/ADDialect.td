//===- ADDialect.td - The ad dialect definition ------------*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_AD_ADDIALECT_TD
#define LEIBNIZ_DIALECT_AD_ADDIALECT_TD

include "mlir/IR/OpBase.td"

def AD_Dialect : Dialect {
  let name = "ad";
  let cppNamespace = "::leibniz::ad";
  let summary = "Differentiation and optimization transformations";
  let description = [{
    `ad` holds the operations that transform functions: derivatives in
    forward and reverse mode (`ad.grad`, `ad.jvp`, `ad.vjp`, ...), optimizer
    loops (`ad.minimize`) and solves that are differentiated implicitly
    (`ad.argmin`, `ad.root`, `ad.fixed_point`).

    Every transformation names the function it transforms by symbol. A
    lambda of the source program becomes a private function whose trailing
    parameters are the values it captures; the transformation passes them as
    its `captures` operands. Captures are never differentiated by the
    transformation that receives them, but they are ordinary operands, so an
    enclosing transformation differentiates through them.

    After AD expansion no `ad` operation remains.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

#endif // LEIBNIZ_DIALECT_AD_ADDIALECT_TD
