//===- Passes.h - Rewrite passes --------------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_REWRITE_PASSES_H
#define LEIBNIZ_REWRITE_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace leibniz::rewrite {

#define GEN_PASS_DECL
#include "leibniz/Rewrite/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "leibniz/Rewrite/Passes.h.inc"

/// Handles leibniz-opt's --list-rules and --print-strategy=NAME: prints
/// and returns true if one of them is among the arguments (`status` is
/// then the exit status). Removes --lz-rewrite-stats from the arguments,
/// which makes every lz-rewrite pass print its statistics.
bool handleRewriteOptions(int &argc, char **argv, int &status);

} // namespace leibniz::rewrite

#endif // LEIBNIZ_REWRITE_PASSES_H
