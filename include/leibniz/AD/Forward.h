//===- Forward.h - Forward-mode differentiation -----------------*- C++ -*-===//
//
// Part of Leibniz.
//
// Forward mode pairs every value of a function with its tangent, so that a
// derivative program computes both (a dual number is a pair of values: the
// struct-of-arrays form, see docs/ad.md). The rules of the operations are
// the `jvp` methods of `DerivativeOpInterface`; `ForwardBuilder` is what
// they see of the transformation.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_AD_FORWARD_H
#define LEIBNIZ_AD_FORWARD_H

#include "AD/DerivativeInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"

#include <functional>
#include <memory>

namespace mlir {
class DialectRegistry;
class SymbolTable;
} // namespace mlir

namespace leibniz::ad {

class ForwardTransform;

/// What a derivative rule sees of the forward transformation: the values of
/// the derivative program that stand for the original ones, their tangents
/// (null where the tangent is zero), and helpers that build tangents.
class ForwardBuilder {
public:
  ForwardBuilder(ForwardTransform &transform, mlir::OpBuilder &builder)
      : transform(transform), builder(builder) {}

  mlir::OpBuilder &getBuilder() { return builder; }

  /// The value that stands for `original` in the derivative program.
  mlir::Value primal(mlir::Value original) const {
    return primals.lookupOrDefault(original);
  }
  /// The tangent of `original`, or null where it is zero.
  mlir::Value tangent(mlir::Value original) const {
    return tangents.lookup(original);
  }
  void setPrimal(mlir::Value original, mlir::Value value) {
    primals.map(original, value);
  }
  /// Records the tangent of `original`; values without tangents (integers)
  /// keep none.
  void setTangent(mlir::Value original, mlir::Value value);
  /// The tangent of `original`, materialized as zeros where it is zero.
  mlir::Value tangentOrZero(mlir::Value original);

  /// Zeros of the type of `value`, a value of the derivative program (its
  /// sizes come from it).
  mlir::Value zerosLike(mlir::Location loc, mlir::Value value);
  /// `a + b` for scalars, tensors and tuples; null operands are zero.
  mlir::Value add(mlir::Location loc, mlir::Value a, mlir::Value b);

  /// Whether a value that the regions of `op` use, defined outside them,
  /// has a tangent.
  bool capturesTangent(mlir::Operation *op) const;

  /// Transforms the operations of `block`, without its terminator, at the
  /// insertion point. The block's arguments must be mapped.
  mlir::LogicalResult transformOps(mlir::Block &block);
  /// Transforms one operation at the insertion point.
  mlir::LogicalResult transformOp(mlir::Operation *op);

  /// The derivative of `callee` with respect to the arguments marked in
  /// `active`: it takes the arguments followed by the tangents of the
  /// active ones, and returns the results followed by their tangents.
  mlir::FailureOr<mlir::func::FuncOp>
  getDerivative(mlir::func::FuncOp callee, llvm::ArrayRef<bool> active);
  /// The reverse derivative of `callee` (as ReverseBuilder::getDerivative),
  /// where the expansion has reverse mode too; the rules of implicit
  /// differentiation take forward derivatives of reverse ones.
  mlir::FailureOr<mlir::func::FuncOp>
  getReverseDerivative(mlir::Operation *user, mlir::func::FuncOp callee,
                       llvm::ArrayRef<bool> active);

private:
  ForwardTransform &transform;
  mlir::OpBuilder &builder;
  mlir::IRMapping primals;
  llvm::DenseMap<mlir::Value, mlir::Value> tangents;
};

/// Whether a value of `type` has a tangent: floats, float tensors, and
/// tuples with such an element.
bool hasTangent(mlir::Type type);

/// Attaches the derivative rules to the operations of lz, ad, arith, math,
/// tensor, scf and func.
void registerDerivativeModels(mlir::DialectRegistry &registry);

/// The expansion of forward-mode transformations, sharing the derivative
/// functions it creates.
class ForwardExpansion {
public:
  explicit ForwardExpansion(mlir::SymbolTable &symbols);
  ~ForwardExpansion();

  /// Expands `op` into plain lz IR if it is a forward-mode transformation;
  /// does nothing for the others.
  mlir::LogicalResult expand(mlir::Operation *op);

  /// The source of reverse derivatives for the rules that need them.
  using ReverseDerivatives = std::function<mlir::FailureOr<mlir::func::FuncOp>(
      mlir::func::FuncOp, llvm::ArrayRef<bool>)>;
  void setReverseDerivatives(ReverseDerivatives derivatives);

private:
  std::unique_ptr<ForwardTransform> transform;
  mlir::SymbolTable &symbols;
};

/// Whether `op` is a forward-mode transformation: `ad.jvp`, or an `ad`
/// operation in mode "fwd".
bool isForwardMode(mlir::Operation *op);

/// Expands every forward-mode transformation of `module` (`ad.jvp`,
/// `ad.jacobian` in mode "fwd", `ad.grad` and `ad.value_and_grad` in mode
/// "fwd") into plain lz IR. Errors are reported at the operation that
/// cannot be differentiated.
mlir::LogicalResult expandForwardMode(mlir::ModuleOp module);

/// The derivative of `func` with respect to the arguments marked in
/// `active`, created in `module` as by the expansion of an `ad.jvp`: it
/// takes the arguments followed by the tangents of the active ones and
/// returns the results followed by their tangents. `func` must not contain
/// forward-mode transformations; the rules that need reverse derivatives
/// (`ad.argmin`'s) get them from `buildReverseDerivative`.
mlir::FailureOr<mlir::func::FuncOp>
buildForwardDerivative(mlir::ModuleOp module, mlir::func::FuncOp func,
                       llvm::ArrayRef<bool> active);

} // namespace leibniz::ad

#endif // LEIBNIZ_AD_FORWARD_H
