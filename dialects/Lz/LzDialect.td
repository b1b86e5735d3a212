//===- LzDialect.td - The lz dialect definition ------------*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_LZ_LZDIALECT_TD
#define LEIBNIZ_DIALECT_LZ_LZDIALECT_TD

include "mlir/IR/OpBase.td"

def Lz_Dialect : Dialect {
  let name = "lz";
  let cppNamespace = "::leibniz::lz";
  let summary = "The functional array core of Leibniz";
  let description = [{
    `lz` is the purely functional array language that Leibniz programs are
    compiled to before differentiation and optimization. Values are immutable:
    builtin ranked tensors, builtin scalars and builtin tuples. Arrays are
    built by index comprehensions (`lz.for`), reduced by summation scopes
    (`lz.sum`, `lz.prod`, `lz.max`, `lz.min`) and read element-wise
    (`lz.get`); state is carried through loops (`lz.loop`) by value.

    Scalar arithmetic is upstream `arith` and `math`; functions and calls are
    upstream `func`. The scope ops are exactly the traversal and summation
    scopes of derivation-based tensor optimizers, so that the rewrite engine,
    the automatic differentiation and the tensor search all work on the same
    representation.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let hasConstantMaterializer = 1;
}

#endif // LEIBNIZ_DIALECT_LZ_LZDIALECT_TD
