//===- Token.cpp - Tokens of the Leibniz language -------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/Token.h"

#include <cstdlib>
#include <string>

using namespace leibniz::frontend;

bool Token::isKeyword() const {
  switch (kind) {
#define TOK_KEYWORD(SPELLING) case kw_##SPELLING:
#include "leibniz/Frontend/TokenKinds.def"
    return true;
  default:
    return false;
  }
}

std::optional<int64_t> Token::getIntegerValue() const {
  int64_t value;
  if (spelling.getAsInteger(10, value))
    return std::nullopt;
  return value;
}

std::optional<double> Token::getFloatingValue() const {
  std::string text = spelling.str();
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size())
    return std::nullopt;
  return value;
}

std::string Token::getStringValue() const {
  std::string result;
  llvm::StringRef body = spelling.drop_front().drop_back();
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\\' && i + 1 < body.size()) {
      char next = body[++i];
      result.push_back(next == 'n' ? '\n' : next == 't' ? '\t' : next);
      continue;
    }
    result.push_back(c);
  }
  return result;
}

llvm::StringRef Token::getKindDescription(Kind kind) {
  switch (kind) {
  case eof:
    return "end of file";
  case error:
    return "invalid token";
  case newline:
    return "end of line";
  case identifier:
    return "identifier";
  case integer:
    return "integer";
  case floating:
    return "number";
  case string:
    return "string";
#define TOK_KEYWORD(SPELLING)                                                  \
  case kw_##SPELLING:                                                          \
    return "'" #SPELLING "'";
#define TOK_PUNCTUATION(NAME, SPELLING)                                        \
  case NAME:                                                                   \
    return "'" SPELLING "'";
#include "leibniz/Frontend/TokenKinds.def"
  }
  return "token";
}
