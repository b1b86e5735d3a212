//===- Token.h - Tokens of the Leibniz language -----------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_FRONTEND_TOKEN_H
#define LEIBNIZ_FRONTEND_TOKEN_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <optional>

namespace leibniz::frontend {

class Token {
public:
  enum Kind {
#define TOK_MARKER(NAME) NAME,
#define TOK_LITERAL(NAME) NAME,
#define TOK_KEYWORD(SPELLING) kw_##SPELLING,
#define TOK_PUNCTUATION(NAME, SPELLING) NAME,
#include "leibniz/Frontend/TokenKinds.def"
  };

  Token(Kind kind, llvm::StringRef spelling) : kind(kind), spelling(spelling) {}

  Kind getKind() const { return kind; }
  bool is(Kind k) const { return kind == k; }
  bool isAny(std::initializer_list<Kind> kinds) const {
    for (Kind k : kinds)
      if (kind == k)
        return true;
    return false;
  }
  bool isKeyword() const;

  /// The source text of the token; for a string, with its quotes.
  llvm::StringRef getSpelling() const { return spelling; }
  llvm::SMLoc getLoc() const {
    return llvm::SMLoc::getFromPointer(spelling.data());
  }
  /// One past the last character of the token.
  llvm::SMLoc getEndLoc() const {
    return llvm::SMLoc::getFromPointer(spelling.data() + spelling.size());
  }

  /// The value of an integer token; nullopt if it does not fit in int64.
  std::optional<int64_t> getIntegerValue() const;
  /// The value of an integer or floating token as a double.
  std::optional<double> getFloatingValue() const;
  /// The contents of a string token, without quotes and escapes resolved.
  std::string getStringValue() const;

  /// A description of a token kind for diagnostics: "'('", "identifier".
  static llvm::StringRef getKindDescription(Kind kind);

private:
  Kind kind;
  llvm::StringRef spelling;
};

} // namespace leibniz::frontend

#endif // LEIBNIZ_FRONTEND_TOKEN_H
