//===- ParserTest.cpp - The parser of the Leibniz language ----------------===//
//
// Part of Leibniz.
//
// Each construct of the language is parsed and its tree compared, as an
// S-expression dump, with the expected structure; malformed programs must
// give located errors, several per run where the parser can recover.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/Parser.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace leibniz::frontend;

namespace {

struct Parsed {
  std::string dump;
  std::vector<std::string> errors; // "line:col: message"
};

Parsed parse(llvm::StringRef source) {
  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, "test.lz"), llvm::SMLoc());
  Parsed result;
  std::optional<ModuleAST> module =
      parseModule(sourceMgr, id, [&](llvm::SMLoc loc, const llvm::Twine &m) {
        auto [line, col] = sourceMgr.getLineAndColumn(loc, id);
        result.errors.push_back(std::to_string(line) + ":" +
                                std::to_string(col) + ": " + m.str());
      });
  EXPECT_EQ(module.has_value(), result.errors.empty());
  if (module) {
    llvm::raw_string_ostream os(result.dump);
    dump(*module, os);
  }
  return result;
}

/// The dump of a program that must parse without errors.
std::string dumpOf(llvm::StringRef source) {
  Parsed parsed = parse(source);
  for (const std::string &error : parsed.errors)
    ADD_FAILURE() << error;
  return parsed.dump;
}

TEST(ParserTest, DefinitionsWithSizesAndScopes) {
  EXPECT_EQ(dumpOf("def matmul[m, k, n](A: f64[m, k], B: f64[k, n]) -> "
                   "f64[m, n] =\n"
                   "  for i, j. sum p. A[i, p] * B[p, j]\n"),
            "(def matmul [m k n] (A: f64[m, k], B: f64[k, n]) -> f64[m, n] "
            "(for (i) (j) (sum (p) (* (index A i p) (index B p j)))))\n");
  EXPECT_EQ(dumpOf("def conv3x3[c, h, w, f](X: f64[c, h + 2, w + 2], "
                   "K: f64[f, c, 3, 3]) -> f64[f, h, w] =\n"
                   "  for o, y, x. sum ci, r, s. X[ci, y + r, x + s] * "
                   "K[o, ci, r, s]"),
            "(def conv3x3 [c h w f] (X: f64[c, (+ h 2), (+ w 2)], "
            "K: f64[f, c, 3, 3]) -> f64[f, h, w] (for (o) (y) (x) (sum (ci) "
            "(r) (s) (* (index X ci (+ y r) (+ x s)) (index K o ci r s)))))\n");
}

TEST(ParserTest, ExplicitRangesStopAtComparisons) {
  EXPECT_EQ(dumpOf("def f(n: i64) = for i < n, j < 2 * n. i < j"),
            "(def f (n: i64) (for (i < n) (j < (* 2 n)) (< i j)))\n");
}

TEST(ParserTest, ADotAndASpaceEndTheRanges) {
  // After a space, a number is a scope's body, not a tuple index.
  EXPECT_EQ(dumpOf("def f() = (sum i < 2. 1, for j < 3. 2)"),
            "(def f () (tuple (sum (i < 2) 1) (for (j < 3) 2)))\n");
  EXPECT_EQ(dumpOf("def f(t: (i64, i64)) = sum i < 2. t.1"),
            "(def f (t: (i64 i64)) (sum (i < 2) (proj t 1)))\n");
}

TEST(ParserTest, OperatorPrecedence) {
  EXPECT_EQ(dumpOf("def f(a: f64, b: f64) = -a ^ 2 + b * a @ b - a / b"),
            "(def f (a: f64, b: f64) (- (+ (- (^ a 2)) (@ (* b a) b)) "
            "(/ a b)))\n");
  EXPECT_EQ(dumpOf("def f(a: bool, b: bool, x: f64) = !a && b || x >= 1.5"),
            "(def f (a: bool, b: bool, x: f64) (|| (&& (! a) b) "
            "(>= x 1.5)))\n");
  EXPECT_EQ(dumpOf("def f(x: f64) = 2 ^ -x ^ 2"),
            "(def f (x: f64) (^ 2 (- (^ x 2))))\n");
  EXPECT_EQ(dumpOf("def f(i: i64) = i + i % 3 * 2 - i / 2 % 4"),
            "(def f (i: i64) (- (+ i (* (% i 3) 2)) (% (/ i 2) 4)))\n");
}

TEST(ParserTest, BlocksLetsAndTuples) {
  EXPECT_EQ(dumpOf("def f(x: (f64, f64[3])) -> (f64, ()) {\n"
                   "  let (a, (b, c)) = (x.0, (1, 2))\n"
                   "  let d = x.1[0]; let e = t.0.1\n"
                   "  (a + b, ())\n"
                   "}\n"),
            "(def f (x: (f64 f64[3])) -> (f64 ()) (block (let (a (b c)) "
            "(tuple (proj x 0) (tuple 1 2))) (let d (index (proj x 1) 0)) "
            "(let e (proj (proj t 0) 1)) (tuple (+ a b) (tuple))))\n");
}

TEST(ParserTest, CallsLambdasAndNamedArguments) {
  EXPECT_EQ(dumpOf("def f(x: f64[n]) = minimize(fn(w) => loss(w, x), "
                   "zeros(3), adam(lr = 1e-3), steps = 100)"),
            "(def f (x: f64[n]) (call minimize (fn (w) (call loss w x)) "
            "(call zeros 3) (call adam lr=1e-3) steps=100))\n");
  EXPECT_EQ(dumpOf("def g(x: f64) = grad(f, mode = \"fwd\")(x)"),
            "(def g (x: f64) (call (call grad f mode=\"fwd\") x))\n");
  // `sum`, `max`, ... followed by `(` are the builtins, not scopes.
  EXPECT_EQ(dumpOf("def h(x: f64[n]) = sum(x) + max(x) + sum i. x[i]"),
            "(def h (x: f64[n]) (+ (+ (call sum x) (call max x)) "
            "(sum (i) (index x i))))\n");
}

TEST(ParserTest, ConditionalsAndLoops) {
  EXPECT_EQ(dumpOf("def f(x0: f64, d: i64) {\n"
                   "  let y = if x0 > 0\n    then x0\n    else -x0\n"
                   "  let (x, v) = loop (x, v) = (x0, zeros(d)) for t < 10 {\n"
                   "    (x - 0.1 * v, 0.9 * v + g(x))\n"
                   "  }\n"
                   "  loop z = x while norm(g(z)) > 1e-8 { z - 0.1 * g(z) }\n"
                   "}\n"),
            "(def f (x0: f64, d: i64) (block (let y (if (> x0 0) x0 (- x0))) "
            "(let (x v) (loop (x v) (tuple x0 (call zeros d)) (for t < 10) "
            "(block (tuple (- x (* 0.1 v)) (+ (* 0.9 v) (call g x)))))) "
            "(loop z x (while (> (call norm (call g z)) 1e-8)) "
            "(block (- z (* 0.1 (call g z)))))))\n");
}

TEST(ParserTest, LinesContinueInsideBracketsAndAfterOperators) {
  EXPECT_EQ(dumpOf("import \"lib.lz\"\n"
                   "def f(a: f64,\n      b: f64) {\n"
                   "  let s = a +\n    b\n"
                   "  g(s,\n    a)\n}\n"),
            "(import \"lib.lz\")\n(def f (a: f64, b: f64) (block (let s (+ a "
            "b)) (call g s a)))\n");
}

TEST(ParserTest, ErrorsAreLocatedAndSeveralAreReported) {
  Parsed parsed = parse("def f(x: f64) = (x + \n"
                        "def g(x) = x\n"
                        "def h(x: f64) { let y = x }\n"
                        "def k(x: f64) = a < b < c\n"
                        "def m(x: f64) = f(y = 1, 2)\n"
                        "def n(x: f64) = if x then 1\n"
                        "def p(x: f64) { x\n");
  std::vector<std::string> expected = {
      "2:1: expected an expression, got 'def'",
      "2:8: expected ':' and a type after parameter 'x'",
      "3:27: a block must end with an expression, its value",
      "4:23: comparisons do not chain; use '&&' to combine them",
      "5:26: positional argument after a named argument",
      "6:28: expected 'else' after the 'then' branch ('if' needs both "
      "branches), got end of line",
      "7:15: unterminated block: no '}' for this '{'"};
  EXPECT_EQ(parsed.errors, expected);
}

TEST(ParserTest, MoreErrors) {
  EXPECT_EQ(parse("x = 1").errors,
            std::vector<std::string>{
                "1:1: expected 'def' or 'import' at the top level, got 'x'"});
  EXPECT_EQ(parse("def f() = A[]").errors,
            std::vector<std::string>{"1:12: expected at least one index"});
  EXPECT_EQ(parse("def f() = for . 1").errors,
            std::vector<std::string>{
                "1:15: expected an index name after 'for', got '.'"});
  EXPECT_EQ(parse("def f() = loop x = 1 until 2 { x }").errors,
            std::vector<std::string>{"1:22: expected 'for' or 'while' after "
                                     "the initial state of 'loop', got "
                                     "'until'"});
  EXPECT_EQ(parse("import lib").errors,
            std::vector<std::string>{"1:8: expected a file name in quotes "
                                     "after 'import', got 'lib'"});
  EXPECT_EQ(parse("def f() = fn x => x").errors,
            std::vector<std::string>{"1:14: expected '(' after 'fn', got 'x'"});
}

} // namespace

namespace {

TEST(ParserTest, DeepNestingIsAnErrorNotAStackOverflow) {
  for (const char *open : {"(", "-", "{", "if x then ", "fn(a) => "}) {
    std::string source = "def f(x: f64) = ";
    for (int i = 0; i < 100000; ++i)
      source += open;
    Parsed parsed = parse(source);
    ASSERT_FALSE(parsed.errors.empty()) << open;
    EXPECT_NE(parsed.errors.front().find("nests deeper than 256 levels"),
              std::string::npos)
        << parsed.errors.front();
  }
  std::string type = "def f(x: ";
  for (int i = 0; i < 100000; ++i)
    type += "(";
  EXPECT_NE(parse(type).errors.front().find("nests deeper"), std::string::npos);
}

/// Deterministic mutations of valid programs: the parser must return (with
/// or without errors) on every one of them.
TEST(ParserTest, MutatedProgramsNeverCrash) {
  const char *seeds[] = {
      "def matmul[m, k, n](A: f64[m, k], B: f64[k, n]) -> f64[m, n] =\n"
      "  for i, j. sum p. A[i, p] * B[p, j]\n",
      "def f(x0: f64, d: i64) {\n  let (x, v) = loop (x, v) = (x0, zeros(d)) "
      "for t < 10 {\n    (x - 0.1 * v, 0.9 * v + g(x))\n  }\n"
      "  loop z = x while norm(g(z)) > 1e-8 { z - 0.1 * g(z) }\n}\n",
      "def g(x: f64[n]) = minimize(fn(w) => loss(w, x), zeros(3), "
      "adam(lr = 1e-3), steps = 100).0 ^ -2\n"};
  const char *pieces[] = {"(",   ")",   "[",    "]",    "{",    "}",   ",",
                          ".",   "=",   "=>",   "\n",   "def",  "let", "for",
                          "sum", "if",  "then", "else", "loop", "fn",  "x",
                          "1",   "\"s", "#",    ";"};
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  for (int run = 0; run < 3000; ++run) {
    std::string source = seeds[run % std::size(seeds)];
    for (int edits = 1 + next() % 4; edits > 0; --edits) {
      size_t at = next() % (source.size() + 1);
      switch (next() % 3) {
      case 0:
        source.insert(at, pieces[next() % std::size(pieces)]);
        break;
      case 1:
        source.erase(at, next() % 6);
        break;
      default:
        source.insert(at, source.substr(next() % source.size(), 8));
      }
    }
    parse(source); // Must return; the result does not matter.
  }
}

} // namespace
