//===- Rules.h - Shared parts of the derivative rules -----------*- C++ -*-===//
//
// Part of Leibniz.
//
// What the forward rules (JVPRules.cpp) and the reverse rules
// (VJPRules.cpp) share: scalar functions declared once by their partial
// derivatives, and the tables of rules by operation name that the external
// models of DerivativeOpInterface dispatch to.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_LIB_AD_RULES_H
#define LEIBNIZ_LIB_AD_RULES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <map>
#include <optional>
#include <string>

namespace leibniz::ad {

class ForwardBuilder;
class ReverseBuilder;
struct Cotangent;

namespace detail {

/// Builds the partial derivatives of a scalar operation from its operands
/// `x` and its result `y`, all values of the derivative program.
struct Partials {
  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::ValueRange x;
  mlir::Value y;

  mlir::Value c(double value) {
    return mlir::arith::ConstantOp::create(b, loc, y.getType(),
                                           b.getFloatAttr(y.getType(), value));
  }
  mlir::Value add(mlir::Value l, mlir::Value r) {
    return mlir::arith::AddFOp::create(b, loc, l, r);
  }
  mlir::Value sub(mlir::Value l, mlir::Value r) {
    return mlir::arith::SubFOp::create(b, loc, l, r);
  }
  mlir::Value mul(mlir::Value l, mlir::Value r) {
    return mlir::arith::MulFOp::create(b, loc, l, r);
  }
  mlir::Value div(mlir::Value l, mlir::Value r) {
    return mlir::arith::DivFOp::create(b, loc, l, r);
  }
  mlir::Value neg(mlir::Value v) {
    return mlir::arith::NegFOp::create(b, loc, v);
  }
  mlir::Value cmp(mlir::arith::CmpFPredicate predicate, mlir::Value l,
                  mlir::Value r) {
    return mlir::arith::CmpFOp::create(b, loc, predicate, l, r);
  }
  mlir::Value select(mlir::Value condition, mlir::Value t, mlir::Value f) {
    return mlir::arith::SelectOp::create(b, loc, condition, t, f);
  }
  /// The sign of `v`, with 0 at 0.
  mlir::Value sign(mlir::Value v) {
    mlir::Value zero = c(0.0);
    return select(
        cmp(mlir::arith::CmpFPredicate::OGT, v, zero), c(1.0),
        select(cmp(mlir::arith::CmpFPredicate::OLT, v, zero), c(-1.0), zero));
  }
};

/// The partial derivatives of a scalar operation with respect to each
/// operand; a null partial is zero.
using PartialsFn = llvm::SmallVector<mlir::Value, 2> (*)(Partials &);

/// The scalar operations' partial derivatives, by operation name.
llvm::StringMap<PartialsFn> &getScalarRules();

using ForwardRuleFn = mlir::LogicalResult (*)(mlir::Operation *,
                                              ForwardBuilder &);
using ReverseRuleFn = mlir::LogicalResult (*)(mlir::Operation *,
                                              ReverseBuilder &);

/// The forward and reverse rules, by operation name.
llvm::StringMap<ForwardRuleFn> &getForwardRules();
llvm::StringMap<ReverseRuleFn> &getReverseRules();

/// The set of differentiated arguments as a string of 0s and 1s, as in the
/// names of derivative functions.
std::string getMask(llvm::ArrayRef<bool> active);

/// Σ over the leaves `a` and `b` (scalars and tensors, as tuple leaves) of
/// the sums of their elementwise products, in f64.
mlir::Value buildLeafDot(mlir::OpBuilder &builder, mlir::Location loc,
                         mlir::ValueRange a, mlir::ValueRange b);
/// alpha a + y leaf by leaf (alpha a where `y` is empty); `alpha` is an
/// f64 scalar.
llvm::SmallVector<mlir::Value>
buildLeafAxpy(mlir::OpBuilder &builder, mlir::Location loc, mlir::Value alpha,
              mlir::ValueRange a, mlir::ValueRange y);

/// Stacks of `size` entries (tensors indexed first by the entry) for values
/// of the types and shapes of `values`, zero-filled.
llvm::SmallVector<mlir::Value> buildStacks(mlir::OpBuilder &builder,
                                           mlir::Location loc,
                                           mlir::ValueRange values,
                                           mlir::Value size);
/// `value` pushed into its `stack` at `index`: a scalar by tensor.insert, a
/// tensor as a slice.
mlir::Value buildPush(mlir::OpBuilder &builder, mlir::Location loc,
                      mlir::Value value, mlir::Value stack, mlir::Value index);

/// The number of elements of the leaves (floats and float tensors), as an
/// index.
mlir::Value buildLeafCount(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::ValueRange leaves);
/// The elements of the leaves, in order and each row-major, as one vector
/// of f64 (`tensor<?xf64>`): the dense form of a solve's unknowns.
mlir::Value buildFlatten(mlir::OpBuilder &builder, mlir::Location loc,
                         mlir::ValueRange leaves);
/// The leaves of the types and shapes of `like` whose elements are those of
/// `vector`, the inverse of buildFlatten.
llvm::SmallVector<mlir::Value> buildUnflatten(mlir::OpBuilder &builder,
                                              mlir::Location loc,
                                              mlir::Value vector,
                                              mlir::ValueRange like);

/// The n × n matrix (`tensor<?x?xf64>`) whose column j is `column` of the
/// j-th unit vector (both `tensor<?xf64>` of n elements), built at the
/// builder's insertion point (where `column` builds too).
mlir::Value
buildDenseMatrix(mlir::OpBuilder &builder, mlir::Location loc, mlir::Value n,
                 llvm::function_ref<mlir::Value(mlir::Value)> column);

/// The reverse rule of `ad.argmin`, by the implicit function theorem
/// (Implicit.cpp).
mlir::LogicalResult argminVjp(mlir::Operation *op, ReverseBuilder &reverse);
/// The forward rule of `ad.argmin`, by the implicit function theorem.
mlir::LogicalResult argminJvp(mlir::Operation *op, ForwardBuilder &forward);
/// The rules of `ad.fixed_point`, by the implicit function theorem.
mlir::LogicalResult fixedPointVjp(mlir::Operation *op, ReverseBuilder &reverse);
mlir::LogicalResult fixedPointJvp(mlir::Operation *op, ForwardBuilder &forward);
/// The rules of `ad.root`, by the implicit function theorem.
mlir::LogicalResult rootVjp(mlir::Operation *op, ReverseBuilder &reverse);
mlir::LogicalResult rootJvp(mlir::Operation *op, ForwardBuilder &forward);

/// The error for an operation without a derivative rule in `mode` ("forward"
/// or "reverse"); the solves whose implicit derivatives are not built yet
/// say so.
mlir::LogicalResult emitNoRule(mlir::Operation *op, llvm::StringRef mode);

/// Checks that `callee` can be differentiated: it has one block, and every
/// value is a float, an integer, an index, a tensor of those or a tuple of
/// those. Errors name `mode` ("forward" or "reverse").
mlir::LogicalResult checkDifferentiable(mlir::func::FuncOp callee,
                                        llvm::StringRef mode);

/// The derivative functions that a transformation created, by function and
/// set of differentiated arguments.
class DerivativeCache {
public:
  /// The derivative of `callee` for `active` if one was begun: the
  /// function, or null where it failed; std::nullopt where none was.
  std::optional<mlir::func::FuncOp> lookup(mlir::func::FuncOp callee,
                                           llvm::ArrayRef<bool> active) const;
  void set(mlir::func::FuncOp callee, llvm::ArrayRef<bool> active,
           mlir::func::FuncOp derivative);

private:
  std::map<std::pair<mlir::Operation *, std::string>, mlir::func::FuncOp>
      derivatives;
};

/// The sizes of every dimension of `value`, a ranked tensor.
llvm::SmallVector<mlir::Value> getSizes(mlir::OpBuilder &builder,
                                        mlir::Location loc, mlir::Value value);

/// `fn` at every element of `like`, a float or a ranked tensor of floats: a
/// value of `like`'s type (an `lz.for` over its shape for a tensor). `fn`
/// gets the element's indices (none for a scalar).
mlir::Value buildElementwise(
    mlir::OpBuilder &builder, mlir::Location loc, mlir::Value like,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::ValueRange)> fn);

/// The element of `value` (a float, or a ranked tensor read at `indices`).
mlir::Value readElement(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::Value value, mlir::ValueRange indices);

/// Fills the table of reverse rules (VJPRules.cpp).
void registerReverseRules();

/// The reverse rule of the scalar operations declared by their partial
/// derivatives.
mlir::LogicalResult scalarVjp(mlir::Operation *op, ReverseBuilder &reverse);

/// The forward sweep of a counted loop whose state depends on the
/// differentiated arguments: the loop, extended to keep each step's state
/// in stacks (tensors indexed by the step), which it records as the loop's
/// residuals for its reverse rule.
mlir::LogicalResult buildLoopForwardSweep(ReverseBuilder &reverse,
                                          mlir::Operation *loop);

/// Zeros shaped like `value`: scalars, tensors (sizes from `value`) and
/// tuples.
mlir::Value buildZeros(mlir::OpBuilder &builder, mlir::Location loc,
                       mlir::Value value);
/// `a + b` for scalars, tensors and tuples; null operands are zero.
mlir::Value buildAdd(mlir::OpBuilder &builder, mlir::Location loc,
                     mlir::Value a, mlir::Value b);
/// The one-hot tensor shaped like `value` with a one at `point`.
mlir::Value buildOneHot(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::Value value, mlir::ValueRange point);
/// The dense value of `cotangent`, the cotangent of `primalValue` (a value
/// of the derivative program); null for zero.
mlir::Value materialize(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::Value primalValue, const Cotangent &cotangent);

} // namespace detail
} // namespace leibniz::ad

#endif // LEIBNIZ_LIB_AD_RULES_H
