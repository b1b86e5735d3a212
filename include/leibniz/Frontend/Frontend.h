//===- Frontend.h - Loading Leibniz programs --------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_FRONTEND_FRONTEND_H
#define LEIBNIZ_FRONTEND_FRONTEND_H

#include "leibniz/Frontend/AST.h"
#include "leibniz/Frontend/MLIRGen.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/SourceMgr.h"

#include <memory>
#include <vector>

namespace leibniz::frontend {

/// A program's parsed files: the standard library first, then every file
/// that the main file imports (transitively), then the main file.
struct LoadedProgram {
  std::vector<std::unique_ptr<ModuleAST>> asts;
  std::vector<SourceModule> modules;
};

struct LoadOptions {
  /// Puts the standard library in scope.
  bool withStdlib = true;
  /// Checks every definition of the standard library, used or not.
  bool checkStdlib = false;
  /// Loads the files that `import` names (off: parse the main file only).
  bool followImports = true;
};

/// Parses `filename` ("-" for standard input) and its imports into
/// `sourceMgr`. `import "path.lz"` is relative to the importing file; each
/// file is loaded once. Errors are reported through the context's
/// diagnostic handler.
mlir::FailureOr<LoadedProgram> loadProgram(mlir::MLIRContext &context,
                                           llvm::SourceMgr &sourceMgr,
                                           llvm::StringRef filename,
                                           const LoadOptions &options = {});

/// The names and sources of the embedded standard library files.
llvm::ArrayRef<std::pair<llvm::StringRef, llvm::StringRef>> getStdlibFiles();

} // namespace leibniz::frontend

#endif // LEIBNIZ_FRONTEND_FRONTEND_H
