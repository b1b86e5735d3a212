//===- AST.cpp - Printing the syntax tree ---------------------------------===//
//
// Part of Leibniz.
//
// The dump is one S-expression per definition: `(def name [sizes] (params)
// -> type body)`, with `(op lhs rhs)` for operators, `(call f args)`,
// `(index A i j)`, `(proj t 0)`, `(for (i < n) (j) body)`, and so on.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/AST.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"

using namespace leibniz::frontend;

namespace {

void dumpType(const TypeAST &type, llvm::raw_ostream &os);

void dumpExpr(const ExprAST &expr, llvm::raw_ostream &os);

void dumpList(llvm::ArrayRef<ExprPtr> exprs, llvm::raw_ostream &os) {
  for (const ExprPtr &expr : exprs) {
    os << ' ';
    dumpExpr(*expr, os);
  }
}

void dumpType(const TypeAST &type, llvm::raw_ostream &os) {
  if (type.isTuple) {
    os << '(';
    llvm::interleave(
        type.elements, os, [&](const TypeAST &t) { dumpType(t, os); }, " ");
    os << ')';
    return;
  }
  os << type.elementType;
  if (!type.isTensor)
    return;
  os << '[';
  llvm::interleave(
      type.dims, os, [&](const ExprPtr &dim) { dumpExpr(*dim, os); }, ", ");
  os << ']';
}

void dumpPattern(const PatternAST &pattern, llvm::raw_ostream &os) {
  if (!pattern.isTuple) {
    os << pattern.name;
    return;
  }
  os << '(';
  llvm::interleave(
      pattern.elements, os, [&](const PatternAST &p) { dumpPattern(p, os); },
      " ");
  os << ')';
}

void dumpParams(llvm::ArrayRef<ParamAST> params, llvm::raw_ostream &os) {
  os << '(';
  llvm::interleave(
      params, os,
      [&](const ParamAST &param) {
        os << param.name;
        if (param.type) {
          os << ": ";
          dumpType(*param.type, os);
        }
      },
      ", ");
  os << ')';
}

llvm::StringRef getOperatorSpelling(Token::Kind kind) {
  llvm::StringRef description = Token::getKindDescription(kind);
  return description.drop_front().drop_back(); // Drop the quotes.
}

void dumpExpr(const ExprAST &expr, llvm::raw_ostream &os) {
  if (auto *e = llvm::dyn_cast<NumberExprAST>(&expr)) {
    os << e->spelling;
  } else if (auto *e = llvm::dyn_cast<BoolExprAST>(&expr)) {
    os << (e->value ? "true" : "false");
  } else if (auto *e = llvm::dyn_cast<StringExprAST>(&expr)) {
    os << '"';
    os.write_escaped(e->value);
    os << '"';
  } else if (auto *e = llvm::dyn_cast<VarExprAST>(&expr)) {
    os << e->name;
  } else if (auto *e = llvm::dyn_cast<UnaryExprAST>(&expr)) {
    os << '(' << getOperatorSpelling(e->op) << ' ';
    dumpExpr(*e->operand, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<BinaryExprAST>(&expr)) {
    os << '(' << getOperatorSpelling(e->op) << ' ';
    dumpExpr(*e->lhs, os);
    os << ' ';
    dumpExpr(*e->rhs, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<CallExprAST>(&expr)) {
    os << "(call ";
    dumpExpr(*e->callee, os);
    for (const CallExprAST::Arg &arg : e->args) {
      os << ' ';
      if (!arg.name.empty())
        os << arg.name << '=';
      dumpExpr(*arg.value, os);
    }
    os << ')';
  } else if (auto *e = llvm::dyn_cast<IndexExprAST>(&expr)) {
    os << "(index ";
    dumpExpr(*e->base, os);
    dumpList(e->indices, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<ProjectExprAST>(&expr)) {
    os << "(proj ";
    dumpExpr(*e->base, os);
    os << ' ' << e->index << ')';
  } else if (auto *e = llvm::dyn_cast<TupleExprAST>(&expr)) {
    os << "(tuple";
    dumpList(e->elements, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<IfExprAST>(&expr)) {
    os << "(if ";
    dumpExpr(*e->cond, os);
    os << ' ';
    dumpExpr(*e->thenExpr, os);
    os << ' ';
    dumpExpr(*e->elseExpr, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<ScopeExprAST>(&expr)) {
    os << '(' << getOperatorSpelling(e->scope);
    for (const ScopeExprAST::IndexVar &var : e->vars) {
      os << " (" << var.name;
      if (var.range) {
        os << " < ";
        dumpExpr(*var.range, os);
      }
      os << ')';
    }
    os << ' ';
    dumpExpr(*e->body, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<LambdaExprAST>(&expr)) {
    os << "(fn ";
    dumpParams(e->params, os);
    os << ' ';
    dumpExpr(*e->body, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<BlockExprAST>(&expr)) {
    os << "(block";
    for (const BlockExprAST::Let &let : e->lets) {
      os << " (let ";
      dumpPattern(let.pattern, os);
      os << ' ';
      dumpExpr(*let.value, os);
      os << ')';
    }
    os << ' ';
    dumpExpr(*e->result, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<LoopExprAST>(&expr)) {
    os << "(loop ";
    dumpPattern(e->state, os);
    os << ' ';
    dumpExpr(*e->init, os);
    if (e->count) {
      os << " (for " << e->stepVar << " < ";
      dumpExpr(*e->count, os);
      os << ')';
    } else {
      os << " (while ";
      dumpExpr(*e->cond, os);
      os << ')';
    }
    os << ' ';
    dumpExpr(*e->body, os);
    os << ')';
  }
}

} // namespace

void leibniz::frontend::dump(const ExprAST &expr, llvm::raw_ostream &os) {
  dumpExpr(expr, os);
}

void leibniz::frontend::dump(const ModuleAST &module, llvm::raw_ostream &os) {
  for (const ImportAST &import : module.imports)
    os << "(import \"" << import.path << "\")\n";
  for (const DefAST &def : module.defs) {
    os << "(def " << def.name;
    if (!def.sizeParams.empty()) {
      os << " [";
      llvm::interleave(
          def.sizeParams, os, [&](const ParamAST &p) { os << p.name; }, " ");
      os << ']';
    }
    os << ' ';
    dumpParams(def.params, os);
    if (def.returnType) {
      os << " -> ";
      dumpType(*def.returnType, os);
    }
    os << ' ';
    dumpExpr(*def.body, os);
    os << ")\n";
  }
}
