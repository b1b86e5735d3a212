//===- Passes.h - Interpreter passes ----------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_INTERPRETER_PASSES_H
#define LEIBNIZ_INTERPRETER_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace leibniz::interp {

#define GEN_PASS_DECL
#include "leibniz/Interpreter/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "leibniz/Interpreter/Passes.h.inc"

} // namespace leibniz::interp

#endif // LEIBNIZ_INTERPRETER_PASSES_H
