//===- Lexer.h - The lexer of the Leibniz language --------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_FRONTEND_LEXER_H
#define LEIBNIZ_FRONTEND_LEXER_H

#include "leibniz/Frontend/Token.h"

#include "llvm/Support/SourceMgr.h"

#include <functional>

namespace leibniz::frontend {

/// Splits a source buffer into tokens. Comments (`#` to the end of the line)
/// and blanks are skipped; line breaks become `newline` tokens, because they
/// separate statements in blocks (the parser ignores them where they do
/// not). A malformed token is reported through `emitError` and returned as
/// an `error` token, after which lexing continues.
class Lexer {
public:
  using ErrorFn = std::function<void(llvm::SMLoc, const llvm::Twine &)>;

  Lexer(const llvm::SourceMgr &sourceMgr, unsigned bufferId, ErrorFn emitError);

  Token lex();

private:
  /// Consumes the next character if it is `c`.
  bool consumeIf(char c) {
    if (curPtr == buffer.end() || *curPtr != c)
      return false;
    ++curPtr;
    return true;
  }
  Token formToken(Token::Kind kind, const char *start) {
    return Token(kind, llvm::StringRef(start, curPtr - start));
  }
  Token lexIdentifierOrKeyword(const char *start);
  Token lexNumber(const char *start);
  Token lexString(const char *start);
  Token emitError(const char *loc, const llvm::Twine &message);

  llvm::StringRef buffer;
  const char *curPtr;
  ErrorFn errorFn;
  /// The kind of the previous token: after a `.`, a number is a projection
  /// index (`t.0.1`), never a float.
  Token::Kind lastKind = Token::newline;
};

} // namespace leibniz::frontend

#endif // LEIBNIZ_FRONTEND_LEXER_H
