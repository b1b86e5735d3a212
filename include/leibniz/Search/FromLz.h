//===- FromLz.h - lz scopes as tensor expressions ---------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_SEARCH_FROMLZ_H
#define LEIBNIZ_SEARCH_FROMLZ_H

#include "leibniz/Search/Expr.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <optional>

namespace leibniz::search {

/// Converts `func` into a program: its tensor arguments (static shapes)
/// are the inputs, named by `names` where given; each `lz.for` and `lz.sum`
/// of its body and of the traversals' bodies is a stage, whose summand is
/// arithmetic of reads with affine indices. `/` and `%` by a constant
/// split the variable they divide (`i` as `c * i1 + i2`), so that the
/// quotient and remainder are affine too; a split traversal variable
/// splits its tensor's dimension. The function must return the last
/// stage's value. Anything else is an error at the operation.
mlir::FailureOr<Program> fromFunction(mlir::func::FuncOp func, Context &context,
                                      llvm::ArrayRef<std::string> names = {});

/// Replaces the body of `func`, from which `program` was converted (its
/// inputs are `func`'s arguments, in order), by `program`: each matched
/// stage as `lz.matmul` (or `lz.batch_matmul`) of its operands laid out
/// as matrices, the others as `lz.for` and `lz.sum` scopes, with reads
/// that may fall outside an intermediate tensor guarded by `scf.if` (0
/// outside).
void replaceBody(mlir::func::FuncOp func, const Program &program);

/// What the search did with a function.
enum class SearchOutcome {
  /// The search does not handle the function (see fromFunction).
  NotHandled,
  /// No derivation with a library operator was found, or none checked out.
  Unchanged,
  /// The body was replaced by the derived program.
  Replaced,
};

/// Times a function, a copy of the one searched in a module of its own with
/// its body replaced by a candidate: seconds per call, or none where it
/// cannot.
using MeasureFunction =
    std::function<std::optional<double>(mlir::func::FuncOp)>;

/// The pipeline's search (-O3, --search): if the search handles `func`, finds
/// its best derivation (or replays the one cached in `cacheDir` under the
/// expression's fingerprint, where `cacheDir` is not empty, and caches
/// what it finds there, the expression itself included), and replaces the
/// body by it when one of its stages is a library operator and it agrees
/// with the expression on random inputs (checkDerivation). The best is the
/// cheapest by analytic cost; with `measure`, the fastest as measured of
/// the few cheapest that use a library and the expression itself, where
/// its analytic cost is within their spread (SearchOptions), with a line
/// on `report` if given; measured choices are cached apart, under
/// `measureKey` (what the times depend on: the optimization level). Where
/// nothing could be timed, the analytic choice, uncached. Emits no
/// diagnostics.
SearchOutcome searchFunction(mlir::func::FuncOp func,
                             const struct SearchOptions &options,
                             llvm::StringRef cacheDir,
                             const MeasureFunction &measure = nullptr,
                             llvm::StringRef measureKey = "",
                             llvm::raw_ostream *report = nullptr);

} // namespace leibniz::search

#endif // LEIBNIZ_SEARCH_FROMLZ_H
