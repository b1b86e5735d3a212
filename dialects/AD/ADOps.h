//===- ADOps.h - ad dialect operations --------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_AD_ADOPS_H
#define LEIBNIZ_DIALECT_AD_ADOPS_H

#include "AD/ADDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "AD/ADOps.h.inc"

namespace leibniz::ad {

/// True for the types that can be differentiated: float scalars, ranked
/// tensors of floats, and tuples of those.
bool isDifferentiableType(mlir::Type type);

/// The attribute that marks a traversal over the directions of a forward
/// gradient or Jacobian: its body evaluates the function's derivative
/// along one direction, so what it computes without the direction is the
/// function's own evaluation, which a derivative presupposes.
inline constexpr llvm::StringLiteral kDirectionsAttr = "ad.directions";

} // namespace leibniz::ad

#endif // LEIBNIZ_DIALECT_AD_ADOPS_H
