//===- Lexer.cpp - The lexer of the Leibniz language ----------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace leibniz::frontend;

Lexer::Lexer(const llvm::SourceMgr &sourceMgr, unsigned bufferId,
             ErrorFn emitError)
    : buffer(sourceMgr.getMemoryBuffer(bufferId)->getBuffer()),
      curPtr(buffer.begin()), errorFn(emitError) {}

Token Lexer::emitError(const char *loc, const llvm::Twine &message) {
  errorFn(llvm::SMLoc::getFromPointer(loc), message);
  return formToken(Token::error, loc);
}

Token Lexer::lex() {
  Token token = [&]() -> Token {
    while (true) {
      const char *start = curPtr;
      if (curPtr == buffer.end())
        return formToken(Token::eof, start);
      char c = *curPtr++;
      switch (c) {
      case ' ':
      case '\t':
      case '\r':
        continue;
      case '\n':
        return formToken(Token::newline, start);
      case '#':
        while (curPtr != buffer.end() && *curPtr != '\n')
          ++curPtr;
        continue;
      case '(':
        return formToken(Token::l_paren, start);
      case ')':
        return formToken(Token::r_paren, start);
      case '[':
        return formToken(Token::l_square, start);
      case ']':
        return formToken(Token::r_square, start);
      case '{':
        return formToken(Token::l_brace, start);
      case '}':
        return formToken(Token::r_brace, start);
      case ',':
        return formToken(Token::comma, start);
      case ';':
        return formToken(Token::semicolon, start);
      case ':':
        return formToken(Token::colon, start);
      case '.':
        return formToken(Token::dot, start);
      case '+':
        return formToken(Token::plus, start);
      case '*':
        return formToken(Token::star, start);
      case '/':
        return formToken(Token::slash, start);
      case '%':
        return formToken(Token::percent, start);
      case '^':
        return formToken(Token::caret, start);
      case '@':
        return formToken(Token::at, start);
      case '-':
        return consumeIf('>') ? formToken(Token::arrow, start)
                              : formToken(Token::minus, start);
      case '=':
        if (consumeIf('='))
          return formToken(Token::equal_equal, start);
        return consumeIf('>') ? formToken(Token::fat_arrow, start)
                              : formToken(Token::equal, start);
      case '!':
        return consumeIf('=') ? formToken(Token::bang_equal, start)
                              : formToken(Token::bang, start);
      case '<':
        return consumeIf('=') ? formToken(Token::less_equal, start)
                              : formToken(Token::less, start);
      case '>':
        return consumeIf('=') ? formToken(Token::greater_equal, start)
                              : formToken(Token::greater, start);
      case '&':
        return consumeIf('&')
                   ? formToken(Token::amp_amp, start)
                   : emitError(start, "unexpected '&'; did you mean '&&'?");
      case '|':
        return consumeIf('|')
                   ? formToken(Token::pipe_pipe, start)
                   : emitError(start, "unexpected '|'; did you mean '||'?");
      case '"':
        return lexString(start);
      default:
        if (llvm::isAlpha(c) || c == '_')
          return lexIdentifierOrKeyword(start);
        if (llvm::isDigit(c))
          return lexNumber(start);
        if (llvm::isPrint(c))
          return emitError(start, "unexpected character '" +
                                      llvm::StringRef(start, 1) + "'");
        return emitError(start, "unexpected byte 0x" +
                                    llvm::utohexstr(static_cast<uint8_t>(c)) +
                                    " in the source");
      }
    }
  }();
  lastKind = token.getKind();
  return token;
}

/// identifier ::= [A-Za-z_][A-Za-z0-9_]*
Token Lexer::lexIdentifierOrKeyword(const char *start) {
  while (curPtr != buffer.end() && (llvm::isAlnum(*curPtr) || *curPtr == '_'))
    ++curPtr;
  llvm::StringRef spelling(start, curPtr - start);
  Token::Kind kind = llvm::StringSwitch<Token::Kind>(spelling)
#define TOK_KEYWORD(SPELLING) .Case(#SPELLING, Token::kw_##SPELLING)
#include "leibniz/Frontend/TokenKinds.def"
                         .Default(Token::identifier);
  return formToken(kind, start);
}

/// number ::= digit+ (`.` digit+)? ([eE] [+-]? digit+)?
/// Directly after a `.` (no space between) only digit+ is read: `t.0.1`
/// projects twice, while `for i < 3. 1.0` has the body `1.0`.
Token Lexer::lexNumber(const char *start) {
  auto digits = [&] {
    while (curPtr != buffer.end() && llvm::isDigit(*curPtr))
      ++curPtr;
  };
  digits();
  if (lastKind == Token::dot && start != buffer.begin() && start[-1] == '.')
    return formToken(Token::integer, start);

  bool isFloat = false;
  if (curPtr + 1 < buffer.end() && *curPtr == '.' && llvm::isDigit(curPtr[1])) {
    ++curPtr;
    digits();
    isFloat = true;
  }
  if (curPtr != buffer.end() && (*curPtr == 'e' || *curPtr == 'E')) {
    const char *exponent = curPtr++;
    if (curPtr != buffer.end() && (*curPtr == '+' || *curPtr == '-'))
      ++curPtr;
    if (curPtr == buffer.end() || !llvm::isDigit(*curPtr))
      return emitError(exponent, "expected digits in the exponent");
    digits();
    isFloat = true;
  }
  if (curPtr != buffer.end() && (llvm::isAlpha(*curPtr) || *curPtr == '_'))
    return emitError(curPtr, "unexpected '" + llvm::StringRef(curPtr, 1) +
                                 "' after a number");
  return formToken(isFloat ? Token::floating : Token::integer, start);
}

/// string ::= `"` ([^"\\\n] | `\` .)* `"`
Token Lexer::lexString(const char *start) {
  while (true) {
    if (curPtr == buffer.end() || *curPtr == '\n')
      return emitError(start, "unterminated string");
    char c = *curPtr++;
    if (c == '"')
      return formToken(Token::string, start);
    if (c == '\\' && curPtr != buffer.end() && *curPtr != '\n')
      ++curPtr;
  }
}
