//===- Passes.h - AD passes -------------------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_AD_PASSES_H
#define LEIBNIZ_AD_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace leibniz::ad {

#define GEN_PASS_DECL
#include "leibniz/AD/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "leibniz/AD/Passes.h.inc"

} // namespace leibniz::ad

#endif // LEIBNIZ_AD_PASSES_H
