//===- Passes.h - Conversion passes -----------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_CONVERSION_PASSES_H
#define LEIBNIZ_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace leibniz::conversion {

#define GEN_PASS_DECL
#include "leibniz/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "leibniz/Conversion/Passes.h.inc"

/// The leaves of a (nested) tuple type, in order, as tuple decomposition
/// passes them; a type that is not a tuple is its own leaf.
void flattenTupleType(mlir::Type type,
                      llvm::SmallVectorImpl<mlir::Type> &leaves);

} // namespace leibniz::conversion

#endif // LEIBNIZ_CONVERSION_PASSES_H
