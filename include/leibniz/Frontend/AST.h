//===- AST.h - The syntax tree of the Leibniz language ----------*- C++ -*-===//
//
// Part of Leibniz.
//
// Expressions form a class hierarchy with LLVM-style RTTI (`isa`, `cast`,
// `dyn_cast` on `ExprAST::getKind`). Types, patterns and definitions are
// plain structs. Every node records where it starts in the source.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_FRONTEND_AST_H
#define LEIBNIZ_FRONTEND_AST_H

#include "leibniz/Frontend/Token.h"

#include "llvm/Support/Casting.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace leibniz::frontend {

class ExprAST;
using ExprPtr = std::unique_ptr<ExprAST>;

/// `f64`, `f64[n, 2 * d]`, `(f64, i64[n])`, `()`.
struct TypeAST {
  llvm::SMLoc loc;
  bool isTuple = false;
  /// For a scalar or tensor: the element type name.
  std::string elementType;
  /// For a tensor: its sizes (expressions over size parameters).
  std::vector<ExprPtr> dims;
  bool isTensor = false;
  /// For a tuple: its elements.
  std::vector<TypeAST> elements;
};

/// `x` or `(a, (b, c))` on the left of `let` and `loop`.
struct PatternAST {
  llvm::SMLoc loc;
  std::string name;
  bool isTuple = false;
  std::vector<PatternAST> elements;
};

/// A parameter of a definition (typed) or of a lambda (type optional).
struct ParamAST {
  llvm::SMLoc loc;
  std::string name;
  std::optional<TypeAST> type;
};

class ExprAST {
public:
  enum Kind {
    Number,
    Bool,
    String,
    Var,
    Unary,
    Binary,
    Call,
    Index,
    Project,
    Tuple,
    If,
    Scope,
    Lambda,
    Block,
    Loop,
  };

  ExprAST(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}
  virtual ~ExprAST() = default;

  Kind getKind() const { return kind; }
  llvm::SMLoc getLoc() const { return loc; }

private:
  const Kind kind;
  llvm::SMLoc loc;
};

/// `3`, `3.0`, `1e-3`: the spelling is kept; sema gives it a type.
class NumberExprAST : public ExprAST {
public:
  NumberExprAST(llvm::SMLoc loc, std::string spelling, bool isFloat)
      : ExprAST(Number, loc), spelling(std::move(spelling)), isFloat(isFloat) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Number; }
  std::string spelling;
  bool isFloat;
};

class BoolExprAST : public ExprAST {
public:
  BoolExprAST(llvm::SMLoc loc, bool value) : ExprAST(Bool, loc), value(value) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Bool; }
  bool value;
};

/// `"fwd"` (named arguments of builtins).
class StringExprAST : public ExprAST {
public:
  StringExprAST(llvm::SMLoc loc, std::string value)
      : ExprAST(String, loc), value(std::move(value)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == String; }
  std::string value;
};

class VarExprAST : public ExprAST {
public:
  VarExprAST(llvm::SMLoc loc, std::string name)
      : ExprAST(Var, loc), name(std::move(name)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Var; }
  std::string name;
};

/// `-x`, `!c`.
class UnaryExprAST : public ExprAST {
public:
  UnaryExprAST(llvm::SMLoc loc, Token::Kind op, ExprPtr operand)
      : ExprAST(Unary, loc), op(op), operand(std::move(operand)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Unary; }
  Token::Kind op;
  ExprPtr operand;
};

/// `a + b`, `A @ B`, `x ^ 2`, `a < b`, `p && q`, ...
class BinaryExprAST : public ExprAST {
public:
  BinaryExprAST(llvm::SMLoc loc, Token::Kind op, ExprPtr lhs, ExprPtr rhs)
      : ExprAST(Binary, loc), op(op), lhs(std::move(lhs)), rhs(std::move(rhs)) {
  }
  static bool classof(const ExprAST *e) { return e->getKind() == Binary; }
  Token::Kind op;
  ExprPtr lhs, rhs;
};

/// `f(x, y)`, `adam(lr = 1e-3)`: positional then named arguments.
class CallExprAST : public ExprAST {
public:
  struct Arg {
    llvm::SMLoc loc;
    std::string name; // Empty for a positional argument.
    ExprPtr value;
  };
  CallExprAST(llvm::SMLoc loc, ExprPtr callee, std::vector<Arg> args)
      : ExprAST(Call, loc), callee(std::move(callee)), args(std::move(args)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Call; }
  ExprPtr callee;
  std::vector<Arg> args;
};

/// `A[i, j]`.
class IndexExprAST : public ExprAST {
public:
  IndexExprAST(llvm::SMLoc loc, ExprPtr base, std::vector<ExprPtr> indices)
      : ExprAST(Index, loc), base(std::move(base)),
        indices(std::move(indices)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Index; }
  ExprPtr base;
  std::vector<ExprPtr> indices;
};

/// `t.0`.
class ProjectExprAST : public ExprAST {
public:
  ProjectExprAST(llvm::SMLoc loc, ExprPtr base, int64_t index)
      : ExprAST(Project, loc), base(std::move(base)), index(index) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Project; }
  ExprPtr base;
  int64_t index;
};

/// `(a, b)`; `()` is the unit value.
class TupleExprAST : public ExprAST {
public:
  TupleExprAST(llvm::SMLoc loc, std::vector<ExprPtr> elements)
      : ExprAST(Tuple, loc), elements(std::move(elements)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Tuple; }
  std::vector<ExprPtr> elements;
};

/// `if c then a else b`.
class IfExprAST : public ExprAST {
public:
  IfExprAST(llvm::SMLoc loc, ExprPtr cond, ExprPtr thenExpr, ExprPtr elseExpr)
      : ExprAST(If, loc), cond(std::move(cond)), thenExpr(std::move(thenExpr)),
        elseExpr(std::move(elseExpr)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == If; }
  ExprPtr cond, thenExpr, elseExpr;
};

/// `for i, j < n. body`, `sum k. body`, and `prod`, `max`, `min`.
class ScopeExprAST : public ExprAST {
public:
  struct IndexVar {
    llvm::SMLoc loc;
    std::string name;
    ExprPtr range; // Null when the range is to be inferred.
  };
  ScopeExprAST(llvm::SMLoc loc, Token::Kind scope, std::vector<IndexVar> vars,
               ExprPtr body)
      : ExprAST(Scope, loc), scope(scope), vars(std::move(vars)),
        body(std::move(body)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Scope; }
  Token::Kind scope; // kw_for, kw_sum, kw_prod, kw_max or kw_min.
  std::vector<IndexVar> vars;
  ExprPtr body;
};

/// `fn(x, y) => body`.
class LambdaExprAST : public ExprAST {
public:
  LambdaExprAST(llvm::SMLoc loc, std::vector<ParamAST> params, ExprPtr body)
      : ExprAST(Lambda, loc), params(std::move(params)), body(std::move(body)) {
  }
  static bool classof(const ExprAST *e) { return e->getKind() == Lambda; }
  std::vector<ParamAST> params;
  ExprPtr body;
};

/// `{ let a = ...; let (b, c) = ...; result }`.
class BlockExprAST : public ExprAST {
public:
  struct Let {
    llvm::SMLoc loc;
    PatternAST pattern;
    ExprPtr value;
  };
  BlockExprAST(llvm::SMLoc loc, std::vector<Let> lets, ExprPtr result)
      : ExprAST(Block, loc), lets(std::move(lets)), result(std::move(result)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Block; }
  std::vector<Let> lets;
  ExprPtr result;
};

/// `loop (x, v) = init for t < T { body }` or
/// `loop x = init while cond { body }`.
class LoopExprAST : public ExprAST {
public:
  LoopExprAST(llvm::SMLoc loc, PatternAST state, ExprPtr init)
      : ExprAST(Loop, loc), state(std::move(state)), init(std::move(init)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Loop; }
  PatternAST state;
  ExprPtr init;
  /// The counted form: the step variable and the step count.
  std::string stepVar;
  llvm::SMLoc stepLoc;
  ExprPtr count;
  /// The while form: the condition (null in the counted form).
  ExprPtr cond;
  ExprPtr body;
};

/// `def name[n, d](x: T, ...) -> R = body`.
struct DefAST {
  llvm::SMLoc loc;
  std::string name;
  std::vector<ParamAST> sizeParams;
  std::vector<ParamAST> params;
  std::optional<TypeAST> returnType;
  ExprPtr body;
};

/// `import "path.lz"`.
struct ImportAST {
  llvm::SMLoc loc;
  std::string path;
};

struct ModuleAST {
  std::vector<ImportAST> imports;
  std::vector<DefAST> defs;
};

/// Prints the tree as S-expressions, for `--emit=ast` and tests.
void dump(const ModuleAST &module, llvm::raw_ostream &os);
void dump(const ExprAST &expr, llvm::raw_ostream &os);

} // namespace leibniz::frontend

#endif // LEIBNIZ_FRONTEND_AST_H
