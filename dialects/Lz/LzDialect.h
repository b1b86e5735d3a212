//===- LzDialect.h - The lz dialect -----------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_LZ_LZDIALECT_H
#define LEIBNIZ_DIALECT_LZ_LZDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "Lz/LzDialect.h.inc"

#endif // LEIBNIZ_DIALECT_LZ_LZDIALECT_H
