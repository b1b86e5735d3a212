//===- Parser.h - The parser of the Leibniz language ------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_FRONTEND_PARSER_H
#define LEIBNIZ_FRONTEND_PARSER_H

#include "leibniz/Frontend/AST.h"
#include "leibniz/Frontend/Lexer.h"

#include <optional>

namespace leibniz::frontend {

/// Parses a source buffer into a module. Errors go to `emitError`; after an
/// error the parser skips to the next top-level `def` or `import`, so that
/// one run reports the errors of several definitions. Returns nullopt if
/// any error was reported.
std::optional<ModuleAST> parseModule(const llvm::SourceMgr &sourceMgr,
                                     unsigned bufferId,
                                     Lexer::ErrorFn emitError);

} // namespace leibniz::frontend

#endif // LEIBNIZ_FRONTEND_PARSER_H
