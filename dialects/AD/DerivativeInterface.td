//===- DerivativeInterface.td - Derivative rules of ops ----*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_AD_DERIVATIVEINTERFACE_TD
#define LEIBNIZ_DIALECT_AD_DERIVATIVEINTERFACE_TD

include "mlir/IR/OpBase.td"

def AD_DerivativeOpInterface : OpInterface<"DerivativeOpInterface"> {
  let cppNamespace = "::leibniz::ad";
  let description = [{
    The derivative rules of an operation. The `lz` operations and the
    upstream `arith`, `math`, `tensor`, `scf` and `func` operations that the
    frontend emits implement it as external models (`lib/AD`), registered
    by `leibniz::ad::registerDerivativeModels`.

    `jvp` is the forward-mode rule: given the tangents of the operands (a
    null tangent is zero), it emits the tangents of the results. For an
    operation without regions, the primal operation is already cloned when
    the rule runs; an operation with regions, and a call (which calls the
    callee's derivative instead), emits its primal as well, with the
    transformation's help for its bodies (`ForwardBuilder`).

    `vjp` is the reverse-mode rule, the transpose of the linear part of
    `jvp`: given the cotangents of the results (a null cotangent is zero),
    it adds the cotangents of its inputs: its operands and, for an operation
    with regions, the values its bodies use from outside. It runs in the
    reverse sweep, after the forward sweep has computed every primal value
    (`ReverseBuilder`).
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the forward-mode derivative of this operation with `builder`
        at its insertion point, and records the tangents of the results
        (and, for operations with regions, their primal values).
      }], "::mlir::LogicalResult", "jvp",
      (ins "::leibniz::ad::ForwardBuilder &":$builder)>,
    InterfaceMethod<[{
        Emits the reverse-mode derivative of this operation with `builder`
        at its insertion point: the cotangents of its inputs, given those of
        its results.
      }], "::mlir::LogicalResult", "vjp",
      (ins "::leibniz::ad::ReverseBuilder &":$builder)>,
  ];
}

#endif // LEIBNIZ_DIALECT_AD_DERIVATIVEINTERFACE_TD
