//===- LexerTest.cpp - The lexer of the Leibniz language ------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/Lexer.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace leibniz::frontend;

namespace {

struct Lexed {
  std::vector<Token::Kind> kinds;
  std::vector<std::string> spellings;
  /// "line:col: message" per error.
  std::vector<std::string> errors;
};

Lexed lexAll(llvm::StringRef source) {
  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, "test.lz"), llvm::SMLoc());
  Lexed result;
  Lexer lexer(sourceMgr, id, [&](llvm::SMLoc loc, const llvm::Twine &message) {
    auto [line, col] = sourceMgr.getLineAndColumn(loc, id);
    result.errors.push_back(std::to_string(line) + ":" + std::to_string(col) +
                            ": " + message.str());
  });
  for (int guard = 0; guard < 10000; ++guard) {
    Token token = lexer.lex();
    result.kinds.push_back(token.getKind());
    result.spellings.push_back(token.getSpelling().str());
    if (token.is(Token::eof))
      break;
  }
  return result;
}

TEST(LexerTest, DefinitionWithComprehension) {
  Lexed lexed = lexAll("def matmul[m, n](A: f64[m, k]) -> f64 = # comment\n"
                       "  for i, j. sum p. A[i, p] * 2.5e+4\n");
  std::vector<std::string> expected = {
      "def", "matmul", "[", "m", ",", "n", "]",      "(",  "A",   ":",
      "f64", "[",      "m", ",", "k", "]", ")",      "->", "f64", "=",
      "\n",  "for",    "i", ",", "j", ".", "sum",    "p",  ".",   "A",
      "[",   "i",      ",", "p", "]", "*", "2.5e+4", "\n", ""};
  EXPECT_EQ(lexed.spellings, expected);
  EXPECT_TRUE(lexed.errors.empty());
  EXPECT_EQ(lexed.kinds[0], Token::kw_def);
  EXPECT_EQ(lexed.kinds[1], Token::identifier);
  EXPECT_EQ(lexed.kinds[21], Token::kw_for);
  EXPECT_EQ(lexed.kinds[26], Token::kw_sum);
  EXPECT_EQ(lexed.kinds[36], Token::floating);
}

TEST(LexerTest, OperatorsTakeTheLongestMatch) {
  Lexed lexed = lexAll("a<=b>=c==d!=e=>f->g&&h||!i<j>k=l-m@n^o/p%q");
  std::vector<Token::Kind> operators;
  for (Token::Kind kind : lexed.kinds)
    if (kind != Token::identifier && kind != Token::eof)
      operators.push_back(kind);
  std::vector<Token::Kind> expected = {Token::less_equal,  Token::greater_equal,
                                       Token::equal_equal, Token::bang_equal,
                                       Token::fat_arrow,   Token::arrow,
                                       Token::amp_amp,     Token::pipe_pipe,
                                       Token::bang,        Token::less,
                                       Token::greater,     Token::equal,
                                       Token::minus,       Token::at,
                                       Token::caret,       Token::slash,
                                       Token::percent};
  EXPECT_EQ(operators, expected);
}

TEST(LexerTest, NumbersAndProjections) {
  // A number right after `.` is a projection index, not a float.
  Lexed lexed = lexAll("t.0.1 3.0 1e-3 7 for i < 3. x");
  std::vector<std::string> expected = {"t",   ".",    "0", ".",   "1",
                                       "3.0", "1e-3", "7", "for", "i",
                                       "<",   "3",    ".", "x",   ""};
  EXPECT_EQ(lexed.spellings, expected);
  EXPECT_EQ(lexed.kinds[2], Token::integer);
  EXPECT_EQ(lexed.kinds[4], Token::integer);
  EXPECT_EQ(lexed.kinds[5], Token::floating);
  EXPECT_EQ(lexed.kinds[6], Token::floating);
  EXPECT_EQ(lexed.kinds[11], Token::integer);
}

TEST(LexerTest, TokenValues) {
  llvm::StringRef source = "9223372036854775807 9223372036854775808 2.5 "
                           "\"a\\\"b\\n\"";
  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(source, "test.lz"), llvm::SMLoc());
  Lexer lexer(sourceMgr, id, [](llvm::SMLoc, const llvm::Twine &) {
    ADD_FAILURE() << "unexpected lexer error";
  });
  EXPECT_EQ(lexer.lex().getIntegerValue(), INT64_MAX);
  EXPECT_EQ(lexer.lex().getIntegerValue(), std::nullopt);
  EXPECT_EQ(lexer.lex().getFloatingValue(), 2.5);
  Token string = lexer.lex();
  EXPECT_EQ(string.getKind(), Token::string);
  EXPECT_EQ(string.getStringValue(), "a\"b\n");
  EXPECT_EQ(lexer.lex().getKind(), Token::eof);
}

TEST(LexerTest, ErrorsAreLocatedAndLexingContinues) {
  Lexed lexed = lexAll("x & y\n1e+ z\n\"open\nw $ 2abc\n\x01");
  std::vector<std::string> expected = {
      "1:3: unexpected '&'; did you mean '&&'?",
      "2:2: expected digits in the exponent",
      "3:1: unterminated string",
      "4:3: unexpected character '$'",
      "4:6: unexpected 'a' after a number",
      "5:1: unexpected byte 0x1 in the source"};
  EXPECT_EQ(lexed.errors, expected);
  // Lexing went on to the end: the identifiers after the errors are there.
  EXPECT_EQ(lexed.kinds.back(), Token::eof);
  EXPECT_NE(std::find(lexed.spellings.begin(), lexed.spellings.end(), "w"),
            lexed.spellings.end());
  EXPECT_NE(std::find(lexed.spellings.begin(), lexed.spellings.end(), "abc"),
            lexed.spellings.end());
}

TEST(LexerTest, KindDescriptionsForDiagnostics) {
  EXPECT_EQ(Token::getKindDescription(Token::l_paren), "'('");
  EXPECT_EQ(Token::getKindDescription(Token::kw_def), "'def'");
  EXPECT_EQ(Token::getKindDescription(Token::identifier), "identifier");
  EXPECT_EQ(Token::getKindDescription(Token::eof), "end of file");
}

} // namespace
