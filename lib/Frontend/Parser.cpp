//===- Parser.cpp - The parser of the Leibniz language --------------------===//
//
// Part of Leibniz.
//
// A recursive-descent parser; the grammar of each construct is in the
// comment above its parse function. Line breaks end statements in blocks;
// inside `( )` and `[ ]`, after an operator or a comma, and before the
// keyword that must come next (`then`, `else`, `for`, `while`, `{`) they are
// ignored, so long expressions can span lines.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/Parser.h"

#include "llvm/ADT/Twine.h"

using namespace leibniz::frontend;
using llvm::SMLoc;

namespace {

class Parser {
public:
  Parser(const llvm::SourceMgr &sourceMgr, unsigned bufferId,
         Lexer::ErrorFn errorFn)
      : lexer(sourceMgr, bufferId,
              [this](SMLoc loc, const llvm::Twine &m) {
                hadError = true;
                this->errorFn(loc, m);
              }),
        errorFn(std::move(errorFn)) {}

  std::optional<ModuleAST> parseModule();

private:
  //===--------------------------------------------------------------------===//
  // Tokens
  //===--------------------------------------------------------------------===//

  /// The current token. Line breaks are skipped while inside `( )` or
  /// `[ ]` (innermost bracket), and kept inside `{ }` and at top level.
  const Token &cur() {
    if (!newlinesSignificant())
      skipNewlines();
    return tokenAt(pos);
  }
  /// The token at `index`, lexed on demand so that lexer and parser errors
  /// come out in source order.
  const Token &tokenAt(size_t index) {
    while (tokens.size() <= index) {
      if (!tokens.empty() && tokens.back().is(Token::eof))
        return tokens.back();
      tokens.push_back(lexer.lex());
    }
    return tokens[index];
  }
  bool newlinesSignificant() const {
    return bracketStack.empty() || bracketStack.back();
  }
  void skipNewlines() {
    while (tokenAt(pos).is(Token::newline))
      ++pos;
  }
  /// The kind of the first token after the current one and any line breaks.
  Token::Kind peekPastNewlines() {
    size_t p = pos;
    while (tokenAt(p).is(Token::newline))
      ++p;
    return tokenAt(p).getKind();
  }
  /// Skips line breaks if the next real token is `kind`.
  void skipNewlinesBefore(Token::Kind kind) {
    if (peekPastNewlines() == kind)
      skipNewlines();
  }
  Token consume() {
    Token token = cur();
    if (!token.is(Token::eof))
      ++pos;
    return token;
  }
  bool consumeIf(Token::Kind kind) {
    if (!cur().is(kind))
      return false;
    consume();
    return true;
  }
  /// Consumes a token of `kind` or reports "expected <kind> <context>".
  bool expect(Token::Kind kind, llvm::StringRef context) {
    if (consumeIf(kind))
      return true;
    return error(cur().getLoc(), "expected " + Token::getKindDescription(kind) +
                                     " " + context + ", got " +
                                     describe(cur()));
  }
  static std::string describe(const Token &token) {
    if (token.isAny({Token::eof, Token::newline, Token::error}))
      return Token::getKindDescription(token.getKind()).str();
    return "'" + token.getSpelling().str() + "'";
  }
  bool error(SMLoc loc, const llvm::Twine &message) {
    hadError = true;
    // The lexer has already reported a malformed token: one error is enough.
    if (!tokenAt(pos).is(Token::error))
      errorFn(loc, message);
    return false;
  }
  /// Reports an error where an expression was being parsed.
  std::nullptr_t fail(SMLoc loc, const llvm::Twine &message) {
    error(loc, message);
    return nullptr;
  }

  /// Bounds the nesting of the recursive descent, so that no input can
  /// overflow the stack: `enter` fails past kMaxDepth.
  static constexpr unsigned kMaxDepth = 256;
  struct DepthGuard {
    explicit DepthGuard(Parser &parser) : parser(parser) { ++parser.depth; }
    ~DepthGuard() { --parser.depth; }
    Parser &parser;
  };
  bool tooDeep() {
    if (depth <= kMaxDepth)
      return false;
    if (!reportedDepth)
      error(cur().getLoc(), "the program nests deeper than " +
                                llvm::Twine(kMaxDepth) + " levels here");
    reportedDepth = true;
    hadError = true;
    return true;
  }

  /// Brackets change whether line breaks matter until they close.
  struct BracketScope {
    BracketScope(Parser &parser, bool significant) : parser(parser) {
      parser.bracketStack.push_back(significant);
    }
    ~BracketScope() { parser.bracketStack.pop_back(); }
    Parser &parser;
  };

  //===--------------------------------------------------------------------===//
  // Grammar
  //===--------------------------------------------------------------------===//

  bool parseImport(ModuleAST &module);
  bool parseDef(ModuleAST &module);
  std::optional<TypeAST> parseType();
  std::optional<PatternAST> parsePattern();
  bool parseParams(std::vector<ParamAST> &params, bool typesRequired);
  ExprPtr parseExpr();
  ExprPtr parseBinary(int minPrecedence);
  ExprPtr parseUnary();
  ExprPtr parsePower();
  ExprPtr parsePostfix();
  ExprPtr parsePrimary();
  ExprPtr parseParenthesized();
  ExprPtr parseBlock();
  ExprPtr parseScope();
  ExprPtr parseIf();
  ExprPtr parseLambda();
  ExprPtr parseLoop();
  bool parseExprList(Token::Kind close, std::vector<ExprPtr> &exprs,
                     llvm::StringRef context);

  Lexer lexer;
  std::vector<Token> tokens;
  size_t pos = 0;
  std::vector<bool> bracketStack;
  Lexer::ErrorFn errorFn;
  bool hadError = false;
  unsigned depth = 0;
  bool reportedDepth = false;
};

/// module ::= (import | def | newline)* eof
std::optional<ModuleAST> Parser::parseModule() {
  ModuleAST module;
  while (!cur().is(Token::eof)) {
    if (consumeIf(Token::newline) || consumeIf(Token::semicolon))
      continue;
    bool ok;
    if (cur().is(Token::kw_import)) {
      ok = parseImport(module);
    } else if (cur().is(Token::kw_def)) {
      ok = parseDef(module);
    } else {
      ok = error(cur().getLoc(),
                 "expected 'def' or 'import' at the top level, got " +
                     describe(cur()));
    }
    if (ok)
      continue;
    // Recover: skip to the next line that starts a definition (which may
    // be where the error was found).
    bracketStack.clear();
    while (!cur().is(Token::eof)) {
      if (cur().isAny({Token::kw_def, Token::kw_import}) && pos > 0 &&
          tokenAt(pos - 1).is(Token::newline))
        break;
      Token token = consume();
      if (token.is(Token::newline) &&
          cur().isAny({Token::kw_def, Token::kw_import}))
        break;
    }
  }
  if (hadError)
    return std::nullopt;
  return module;
}

/// import ::= `import` string
bool Parser::parseImport(ModuleAST &module) {
  SMLoc loc = consume().getLoc();
  if (!cur().is(Token::string))
    return error(cur().getLoc(), "expected a file name in quotes after "
                                 "'import', got " +
                                     describe(cur()));
  module.imports.push_back({loc, consume().getStringValue()});
  return true;
}

/// def ::= `def` identifier (`[` identifier (`,` identifier)* `]`)?
///         `(` params? `)` (`->` type)? (`=` expr | block)
bool Parser::parseDef(ModuleAST &module) {
  DefAST def;
  def.loc = consume().getLoc();
  if (!cur().is(Token::identifier))
    return error(cur().getLoc(), "expected the name of the definition after "
                                 "'def', got " +
                                     describe(cur()));
  def.name = consume().getSpelling().str();
  if (cur().is(Token::l_square)) {
    BracketScope scope(*this, /*significant=*/false);
    consume();
    do {
      if (!cur().is(Token::identifier))
        return error(cur().getLoc(),
                     "expected a size parameter name, got " + describe(cur()));
      Token name = consume();
      def.sizeParams.push_back({name.getLoc(), name.getSpelling().str(), {}});
    } while (consumeIf(Token::comma));
    if (!expect(Token::r_square, "after the size parameters"))
      return false;
  }
  if (!expect(Token::l_paren, "before the parameters of '" + def.name + "'"))
    return false;
  {
    BracketScope scope(*this, /*significant=*/false);
    if (!cur().is(Token::r_paren) &&
        !parseParams(def.params, /*typesRequired=*/true))
      return false;
    if (!expect(Token::r_paren, "after the parameters"))
      return false;
  }
  if (consumeIf(Token::arrow)) {
    def.returnType = parseType();
    if (!def.returnType)
      return false;
  }
  skipNewlinesBefore(Token::l_brace);
  if (cur().is(Token::l_brace)) {
    def.body = parseBlock();
  } else if (consumeIf(Token::equal)) {
    skipNewlines();
    def.body = parseExpr();
  } else {
    return error(cur().getLoc(), "expected '=' or '{' before the body of '" +
                                     def.name + "', got " + describe(cur()));
  }
  if (!def.body)
    return false;
  module.defs.push_back(std::move(def));
  return true;
}

/// params ::= param (`,` param)*
/// param ::= identifier (`:` type)?      (the type is required in defs)
bool Parser::parseParams(std::vector<ParamAST> &params, bool typesRequired) {
  do {
    if (!cur().is(Token::identifier))
      return error(cur().getLoc(),
                   "expected a parameter name, got " + describe(cur()));
    Token name = consume();
    ParamAST param{name.getLoc(), name.getSpelling().str(), std::nullopt};
    if (consumeIf(Token::colon)) {
      param.type = parseType();
      if (!param.type)
        return false;
    } else if (typesRequired) {
      return error(cur().getLoc(), "expected ':' and a type after parameter '" +
                                       param.name + "'");
    }
    params.push_back(std::move(param));
  } while (consumeIf(Token::comma));
  return true;
}

/// type ::= identifier (`[` expr (`,` expr)* `]`)?
///        | `(` (type (`,` type)*)? `)`
std::optional<TypeAST> Parser::parseType() {
  DepthGuard guard(*this);
  if (tooDeep())
    return std::nullopt;
  TypeAST type;
  type.loc = cur().getLoc();
  if (cur().is(Token::l_paren)) {
    BracketScope scope(*this, /*significant=*/false);
    consume();
    type.isTuple = true;
    if (!cur().is(Token::r_paren)) {
      do {
        std::optional<TypeAST> element = parseType();
        if (!element)
          return std::nullopt;
        type.elements.push_back(std::move(*element));
      } while (consumeIf(Token::comma));
    }
    if (!expect(Token::r_paren, "after the tuple type"))
      return std::nullopt;
    return type;
  }
  if (!cur().is(Token::identifier)) {
    error(cur().getLoc(), "expected a type, got " + describe(cur()));
    return std::nullopt;
  }
  type.elementType = consume().getSpelling().str();
  if (cur().is(Token::l_square)) {
    BracketScope scope(*this, /*significant=*/false);
    consume();
    type.isTensor = true;
    if (!parseExprList(Token::r_square, type.dims, "after the sizes"))
      return std::nullopt;
  }
  return type;
}

/// pattern ::= identifier | `(` pattern (`,` pattern)* `)`
std::optional<PatternAST> Parser::parsePattern() {
  DepthGuard guard(*this);
  if (tooDeep())
    return std::nullopt;
  PatternAST pattern;
  pattern.loc = cur().getLoc();
  if (cur().is(Token::identifier)) {
    pattern.name = consume().getSpelling().str();
    return pattern;
  }
  if (!cur().is(Token::l_paren)) {
    error(cur().getLoc(),
          "expected a name or a tuple of names, got " + describe(cur()));
    return std::nullopt;
  }
  BracketScope scope(*this, /*significant=*/false);
  consume();
  pattern.isTuple = true;
  do {
    std::optional<PatternAST> element = parsePattern();
    if (!element)
      return std::nullopt;
    pattern.elements.push_back(std::move(*element));
  } while (consumeIf(Token::comma));
  if (!expect(Token::r_paren, "after the tuple pattern"))
    return std::nullopt;
  return pattern;
}

/// expr-list ::= (expr (`,` expr)*)? close
bool Parser::parseExprList(Token::Kind close, std::vector<ExprPtr> &exprs,
                           llvm::StringRef context) {
  if (!cur().is(close)) {
    do {
      ExprPtr expr = parseExpr();
      if (!expr)
        return false;
      exprs.push_back(std::move(expr));
    } while (consumeIf(Token::comma));
  }
  return expect(close, context);
}

/// expr ::= or-expr
ExprPtr Parser::parseExpr() { return parseBinary(0); }

/// The binary operators by precedence, loosest first; all associate to the
/// left except that comparisons do not chain.
static int getPrecedence(Token::Kind kind) {
  switch (kind) {
  case Token::pipe_pipe:
    return 1;
  case Token::amp_amp:
    return 2;
  case Token::equal_equal:
  case Token::bang_equal:
  case Token::less:
  case Token::less_equal:
  case Token::greater:
  case Token::greater_equal:
    return 3;
  case Token::plus:
  case Token::minus:
    return 4;
  case Token::star:
  case Token::slash:
  case Token::percent:
  case Token::at:
    return 5;
  default:
    return -1;
  }
}

/// or-expr ::= and-expr (`||` and-expr)*
/// and-expr ::= cmp-expr (`&&` cmp-expr)*
/// cmp-expr ::= add-expr (cmp-op add-expr)?
/// add-expr ::= mul-expr ((`+` | `-`) mul-expr)*
/// mul-expr ::= unary ((`*` | `/` | `%` | `@`) unary)*
ExprPtr Parser::parseBinary(int minPrecedence) {
  ExprPtr lhs = parseUnary();
  if (!lhs)
    return nullptr;
  while (true) {
    Token op = cur();
    int precedence = getPrecedence(op.getKind());
    if (precedence < 0 || precedence < minPrecedence)
      return lhs;
    consume();
    skipNewlines(); // An operator at the end of a line continues it.
    ExprPtr rhs = parseBinary(precedence + 1);
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExprAST>(op.getLoc(), op.getKind(),
                                          std::move(lhs), std::move(rhs));
    if (precedence == 3 && getPrecedence(cur().getKind()) == 3)
      return error(cur().getLoc(),
                   "comparisons do not chain; use '&&' to combine them"),
             nullptr;
  }
}

/// unary ::= (`-` | `!`) unary | power
ExprPtr Parser::parseUnary() {
  DepthGuard guard(*this);
  if (tooDeep())
    return nullptr;
  if (cur().isAny({Token::minus, Token::bang})) {
    Token op = consume();
    ExprPtr operand = parseUnary();
    if (!operand)
      return nullptr;
    return std::make_unique<UnaryExprAST>(op.getLoc(), op.getKind(),
                                          std::move(operand));
  }
  return parsePower();
}

/// power ::= postfix (`^` unary)?        (so -x^2 is -(x^2), 2^-1 works)
ExprPtr Parser::parsePower() {
  ExprPtr base = parsePostfix();
  if (!base || !cur().is(Token::caret))
    return base;
  Token op = consume();
  skipNewlines();
  ExprPtr exponent = parseUnary();
  if (!exponent)
    return nullptr;
  return std::make_unique<BinaryExprAST>(op.getLoc(), Token::caret,
                                         std::move(base), std::move(exponent));
}

/// postfix ::= primary (`(` args `)` | `[` expr-list `]` | `.` integer)*
/// args ::= (arg (`,` arg)*)?
/// arg ::= (identifier `=`)? expr
ExprPtr Parser::parsePostfix() {
  ExprPtr expr = parsePrimary();
  while (expr) {
    SMLoc loc = cur().getLoc();
    if (cur().is(Token::l_paren)) {
      BracketScope scope(*this, /*significant=*/false);
      consume();
      std::vector<CallExprAST::Arg> args;
      if (!cur().is(Token::r_paren)) {
        do {
          CallExprAST::Arg arg;
          arg.loc = cur().getLoc();
          if (cur().is(Token::identifier) &&
              tokenAt(pos + 1).is(Token::equal)) {
            arg.name = consume().getSpelling().str();
            consume();
          } else if (!args.empty() && !args.back().name.empty()) {
            return fail(arg.loc, "positional argument after a named "
                                 "argument");
          }
          arg.value = parseExpr();
          if (!arg.value)
            return nullptr;
          args.push_back(std::move(arg));
        } while (consumeIf(Token::comma));
      }
      if (!expect(Token::r_paren, "after the arguments"))
        return nullptr;
      expr =
          std::make_unique<CallExprAST>(loc, std::move(expr), std::move(args));
    } else if (cur().is(Token::l_square)) {
      BracketScope scope(*this, /*significant=*/false);
      consume();
      std::vector<ExprPtr> indices;
      if (!parseExprList(Token::r_square, indices, "after the indices"))
        return nullptr;
      if (indices.empty())
        return fail(loc, "expected at least one index");
      expr = std::make_unique<IndexExprAST>(loc, std::move(expr),
                                            std::move(indices));
    } else if (cur().is(Token::dot) && tokenAt(pos + 1).is(Token::integer) &&
               tokenAt(pos + 1).getSpelling().data() ==
                   cur().getSpelling().end()) {
      // A projection: the index directly after the `.` (`t.0`); after a
      // space, the `.` ends a scope's ranges (`sum i < 2. 1`).
      consume();
      Token index = consume();
      std::optional<int64_t> value = index.getIntegerValue();
      if (!value)
        return fail(index.getLoc(), "tuple index is too large");
      expr = std::make_unique<ProjectExprAST>(loc, std::move(expr), *value);
    } else {
      return expr;
    }
  }
  return nullptr;
}

/// primary ::= number | `true` | `false` | string | identifier
///           | `(` ... `)` | block | scope | if | lambda | loop
/// `sum`, `prod`, `max` and `min` followed by `(` are the builtin functions
/// of those names, not scopes.
ExprPtr Parser::parsePrimary() {
  const Token &token = cur();
  SMLoc loc = token.getLoc();
  switch (token.getKind()) {
  case Token::integer:
  case Token::floating: {
    Token number = consume();
    return std::make_unique<NumberExprAST>(loc, number.getSpelling().str(),
                                           number.is(Token::floating));
  }
  case Token::kw_true:
  case Token::kw_false:
    return std::make_unique<BoolExprAST>(loc, consume().is(Token::kw_true));
  case Token::string:
    return std::make_unique<StringExprAST>(loc, consume().getStringValue());
  case Token::identifier:
    return std::make_unique<VarExprAST>(loc, consume().getSpelling().str());
  case Token::l_paren:
    return parseParenthesized();
  case Token::l_brace:
    return parseBlock();
  case Token::kw_sum:
  case Token::kw_prod:
  case Token::kw_max:
  case Token::kw_min:
    if (tokenAt(pos + 1).is(Token::l_paren))
      return std::make_unique<VarExprAST>(loc, consume().getSpelling().str());
    return parseScope();
  case Token::kw_for:
    return parseScope();
  case Token::kw_if:
    return parseIf();
  case Token::kw_fn:
    return parseLambda();
  case Token::kw_loop:
    return parseLoop();
  default:
    return fail(loc, "expected an expression, got " + describe(token));
  }
}

/// parenthesized ::= `(` `)` | `(` expr `)` | `(` expr (`,` expr)+ `,`? `)`
ExprPtr Parser::parseParenthesized() {
  BracketScope scope(*this, /*significant=*/false);
  SMLoc loc = consume().getLoc();
  std::vector<ExprPtr> elements;
  bool trailingComma = false;
  while (!cur().is(Token::r_paren)) {
    ExprPtr element = parseExpr();
    if (!element)
      return nullptr;
    elements.push_back(std::move(element));
    trailingComma = consumeIf(Token::comma);
    if (!trailingComma)
      break;
  }
  if (!expect(Token::r_paren,
              elements.size() > 1 ? "after the tuple" : "to close '('"))
    return nullptr;
  if (elements.size() == 1 && !trailingComma)
    return std::move(elements.front());
  return std::make_unique<TupleExprAST>(loc, std::move(elements));
}

/// block ::= `{` (`let` pattern `=` expr sep)* expr sep* `}`
/// sep ::= newline | `;`
ExprPtr Parser::parseBlock() {
  BracketScope scope(*this, /*significant=*/true);
  SMLoc loc = consume().getLoc();
  std::vector<BlockExprAST::Let> lets;
  auto skipSeparators = [&] {
    while (cur().isAny({Token::newline, Token::semicolon}))
      consume();
  };
  skipSeparators();
  while (cur().is(Token::kw_let)) {
    BlockExprAST::Let let;
    let.loc = consume().getLoc();
    std::optional<PatternAST> pattern = parsePattern();
    if (!pattern)
      return nullptr;
    let.pattern = std::move(*pattern);
    if (!expect(Token::equal, "after the name bound by 'let'"))
      return nullptr;
    skipNewlines();
    let.value = parseExpr();
    if (!let.value)
      return nullptr;
    if (cur().is(Token::r_brace))
      return fail(cur().getLoc(), "a block must end with an expression, its "
                                  "value");
    if (!cur().isAny({Token::newline, Token::semicolon}))
      return fail(cur().getLoc(), "expected the end of the line after the "
                                  "'let' binding, got " +
                                      describe(cur()));
    lets.push_back(std::move(let));
    skipSeparators();
  }
  if (cur().is(Token::r_brace))
    return fail(cur().getLoc(), "a block must end with an expression, its "
                                "value");
  ExprPtr result = parseExpr();
  if (!result)
    return nullptr;
  skipSeparators();
  if (!cur().is(Token::r_brace)) {
    if (cur().is(Token::eof))
      return fail(loc, "unterminated block: no '}' for this '{'");
    return fail(cur().getLoc(), "expected '}' after the value of the block, "
                                "got " +
                                    describe(cur()));
  }
  consume();
  return std::make_unique<BlockExprAST>(loc, std::move(lets),
                                        std::move(result));
}

/// scope ::= (`for` | `sum` | `prod` | `max` | `min`)
///           index-var (`,` index-var)* `.` expr
/// index-var ::= identifier (`<` add-expr)?
ExprPtr Parser::parseScope() {
  Token keyword = consume();
  std::vector<ScopeExprAST::IndexVar> vars;
  do {
    skipNewlines();
    if (!cur().is(Token::identifier))
      return fail(cur().getLoc(), "expected an index name after " +
                                      describe(keyword) + ", got " +
                                      describe(cur()));
    Token name = consume();
    ScopeExprAST::IndexVar var{name.getLoc(), name.getSpelling().str(),
                               nullptr};
    if (consumeIf(Token::less)) {
      // The range is an additive expression: comparisons stop it.
      var.range = parseBinary(/*minPrecedence=*/4);
      if (!var.range)
        return nullptr;
    }
    vars.push_back(std::move(var));
  } while (consumeIf(Token::comma));
  if (!expect(Token::dot, "after the index variables"))
    return nullptr;
  skipNewlines();
  ExprPtr body = parseExpr();
  if (!body)
    return nullptr;
  return std::make_unique<ScopeExprAST>(keyword.getLoc(), keyword.getKind(),
                                        std::move(vars), std::move(body));
}

/// if ::= `if` expr `then` expr `else` expr
ExprPtr Parser::parseIf() {
  SMLoc loc = consume().getLoc();
  ExprPtr cond = parseExpr();
  if (!cond)
    return nullptr;
  skipNewlinesBefore(Token::kw_then);
  if (!expect(Token::kw_then, "after the condition of 'if'"))
    return nullptr;
  skipNewlines();
  ExprPtr thenExpr = parseExpr();
  if (!thenExpr)
    return nullptr;
  skipNewlinesBefore(Token::kw_else);
  if (!expect(Token::kw_else, "after the 'then' branch ('if' needs both "
                              "branches)"))
    return nullptr;
  skipNewlines();
  ExprPtr elseExpr = parseExpr();
  if (!elseExpr)
    return nullptr;
  return std::make_unique<IfExprAST>(loc, std::move(cond), std::move(thenExpr),
                                     std::move(elseExpr));
}

/// lambda ::= `fn` `(` params? `)` `=>` expr
ExprPtr Parser::parseLambda() {
  SMLoc loc = consume().getLoc();
  std::vector<ParamAST> params;
  if (!expect(Token::l_paren, "after 'fn'"))
    return nullptr;
  {
    BracketScope scope(*this, /*significant=*/false);
    if (!cur().is(Token::r_paren) &&
        !parseParams(params, /*typesRequired=*/false))
      return nullptr;
    if (!expect(Token::r_paren, "after the lambda's parameters"))
      return nullptr;
  }
  if (!expect(Token::fat_arrow, "after the lambda's parameters"))
    return nullptr;
  skipNewlines();
  ExprPtr body = parseExpr();
  if (!body)
    return nullptr;
  return std::make_unique<LambdaExprAST>(loc, std::move(params),
                                         std::move(body));
}

/// loop ::= `loop` pattern `=` expr
///          (`for` identifier `<` add-expr | `while` expr) block
ExprPtr Parser::parseLoop() {
  SMLoc loc = consume().getLoc();
  std::optional<PatternAST> state = parsePattern();
  if (!state)
    return nullptr;
  if (!expect(Token::equal, "after the state of 'loop'"))
    return nullptr;
  skipNewlines();
  // The initial state stops before `for` or `while`.
  ExprPtr init = parseExpr();
  if (!init)
    return nullptr;
  auto loop =
      std::make_unique<LoopExprAST>(loc, std::move(*state), std::move(init));
  skipNewlines();
  if (consumeIf(Token::kw_for)) {
    if (!cur().is(Token::identifier))
      return fail(cur().getLoc(), "expected the step variable after 'for', "
                                  "got " +
                                      describe(cur()));
    Token step = consume();
    loop->stepVar = step.getSpelling().str();
    loop->stepLoc = step.getLoc();
    if (!expect(Token::less, "and the number of steps after the step "
                             "variable"))
      return nullptr;
    loop->count = parseBinary(/*minPrecedence=*/4);
    if (!loop->count)
      return nullptr;
  } else if (consumeIf(Token::kw_while)) {
    loop->cond = parseExpr();
    if (!loop->cond)
      return nullptr;
  } else {
    return fail(cur().getLoc(), "expected 'for' or 'while' after the "
                                "initial state of 'loop', got " +
                                    describe(cur()));
  }
  skipNewlinesBefore(Token::l_brace);
  if (!cur().is(Token::l_brace))
    return fail(cur().getLoc(),
                "expected '{' and the loop body, got " + describe(cur()));
  loop->body = parseBlock();
  if (!loop->body)
    return nullptr;
  return loop;
}

} // namespace

std::optional<ModuleAST>
leibniz::frontend::parseModule(const llvm::SourceMgr &sourceMgr,
                               unsigned bufferId, Lexer::ErrorFn emitError) {
  return Parser(sourceMgr, bufferId, std::move(emitError)).parseModule();
}
