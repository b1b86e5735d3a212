//===- Diagnostics.h - Frontend source locations for MLIR -------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_FRONTEND_DIAGNOSTICS_H
#define LEIBNIZ_FRONTEND_DIAGNOSTICS_H

#include "mlir/IR/Location.h"
#include "llvm/Support/SourceMgr.h"

namespace leibniz::frontend {

/// The MLIR location (file, line, column) of a position in a buffer of
/// `sourceMgr`, so that frontend errors print through MLIR's
/// SourceMgrDiagnosticHandler like every other diagnostic.
mlir::Location getLocation(mlir::MLIRContext *context,
                           const llvm::SourceMgr &sourceMgr, llvm::SMLoc loc);

} // namespace leibniz::frontend

#endif // LEIBNIZ_FRONTEND_DIAGNOSTICS_H
