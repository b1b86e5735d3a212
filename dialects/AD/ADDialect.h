//===- ADDialect.h - The ad dialect -----------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_AD_ADDIALECT_H
#define LEIBNIZ_DIALECT_AD_ADDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "AD/ADDialect.h.inc"

#endif // LEIBNIZ_DIALECT_AD_ADDIALECT_H
