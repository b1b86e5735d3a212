//===- DerivativeInterface.h - Derivative rules of ops ----------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_AD_DERIVATIVEINTERFACE_H
#define LEIBNIZ_DIALECT_AD_DERIVATIVEINTERFACE_H

#include "mlir/IR/OpDefinition.h"

namespace leibniz::ad {
class ForwardBuilder;
class ReverseBuilder;
} // namespace leibniz::ad

#include "AD/DerivativeInterface.h.inc"

#endif // LEIBNIZ_DIALECT_AD_DERIVATIVEINTERFACE_H
