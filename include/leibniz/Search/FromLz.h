//===- FromLz.h - lz scopes as tensor expressions ---------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_SEARCH_FROMLZ_H
#define LEIBNIZ_SEARCH_FROMLZ_H

#include "leibniz/Search/Expr.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace leibniz::search {

/// Converts `func` into a program: its tensor arguments (static shapes)
/// are the inputs, named by `names` where given; each `lz.for` and `lz.sum`
/// of its body and of the traversals' bodies is a stage, whose summand is
/// arithmetic of reads with affine indices. The function must return the
/// last stage's value. Anything else is an error at the operation.
mlir::FailureOr<Program> fromFunction(mlir::func::FuncOp func, Context &context,
                                      llvm::ArrayRef<std::string> names = {});

} // namespace leibniz::search

#endif // LEIBNIZ_SEARCH_FROMLZ_H
