//===- LzOps.h - lz dialect operations --------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_LZ_LZOPS_H
#define LEIBNIZ_DIALECT_LZ_LZOPS_H

#include "Lz/LzDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"

namespace leibniz::lz {
class YieldOp;

/// Fills the body of a scope given its index variables; a null builder
/// leaves the body empty for the caller to fill.
using ScopeBodyBuilder = llvm::function_ref<void(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange indices)>;
} // namespace leibniz::lz

#define GET_OP_CLASSES
#include "Lz/LzOps.h.inc"

namespace leibniz::lz {

/// True for the summation scopes: lz.sum, lz.prod, lz.max and lz.min.
bool isReductionOp(mlir::Operation *op);

/// The function attribute that lists the groups of [argument, dimension]
/// pairs whose sizes the function's types make equal (`f[n](x: f64[n],
/// y: f64[n])`), flattened into one `array<i64>` per group; every call and
/// every entry point checks them.
constexpr llvm::StringLiteral kEqualSizesAttrName = "lz.equal_sizes";

/// The first [argument, dimension] pair of the `lz.equal_sizes` group that
/// holds dimension `dim` of `arg`, an argument of a function's entry
/// block: a size that every size of the group equals. std::nullopt where
/// the pair is in no group or the group names no such dimension.
std::optional<std::pair<unsigned, unsigned>>
getEqualSizeLeader(mlir::BlockArgument arg, unsigned dim);

/// The values of `body` that depend on `variable`: the results of the
/// operations that use it or such a value, in their operands or in their
/// regions.
llvm::DenseSet<mlir::Value> getDependents(mlir::Block &body,
                                          mlir::Value variable);

/// The type of the value a scope yields at one point, for a result of type
/// `resultType` over `numIndices` scope variables: the element type when the
/// result has exactly `numIndices` dimensions, else the trailing sub-tensor.
mlir::Type getScopeElementType(mlir::RankedTensorType resultType,
                               unsigned numIndices);

/// The identity of reduction `op` (lz.sum, lz.prod, lz.max or lz.min) on
/// scalars of `elementType`: 0, 1, -inf / the smallest signed integer, and
/// +inf / the largest signed integer.
mlir::TypedAttr getReductionIdentity(mlir::Operation *op,
                                     mlir::Type elementType);

/// The leaves of a (nested) tuple type, in order; a type that is not a
/// tuple is its own leaf.
void getTupleLeafTypes(mlir::Type type,
                       llvm::SmallVectorImpl<mlir::Type> &leaves);

/// The leaves of `value`, projected out of its (nested) tuples in order; a
/// value that is not a tuple is its own leaf.
void buildTupleLeaves(mlir::OpBuilder &builder, mlir::Location loc,
                      mlir::Value value,
                      llvm::SmallVectorImpl<mlir::Value> &leaves);

/// Rebuilds a value of type `type` from the front of `leaves`, which it
/// consumes; the inverse of `buildTupleLeaves`.
mlir::Value buildTupleFromLeaves(mlir::OpBuilder &builder, mlir::Location loc,
                                 mlir::Type type, mlir::ValueRange &leaves);

} // namespace leibniz::lz

#endif // LEIBNIZ_DIALECT_LZ_LZOPS_H
