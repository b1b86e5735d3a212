//===- Reverse.h - Reverse-mode differentiation -----------------*- C++ -*-===//
//
// Part of Leibniz.
//
// Reverse mode is a purely functional transformation defined on the unary
// form of a block (docs/ad.md): every operation is a node that takes one
// tuple of inputs (its operands, then the values its regions use from
// outside), and sharing is explicit: a value used k times is duplicated
// into k copies, a value never used is discarded. The transformation runs
// a forward sweep that computes every primal value, then visits the nodes
// backwards: each node's rule (the `vjp` method of DerivativeOpInterface)
// turns the cotangents of its results into cotangents of its inputs, the
// transpose of a duplication adds the cotangents of the copies, and the
// transpose of a discard is zero. The output is plain lz IR: cotangents
// are values, and cotangents of tensor elements are accumulated by
// `lz.accumulate`.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_AD_REVERSE_H
#define LEIBNIZ_AD_REVERSE_H

#include "AD/DerivativeInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

#include <memory>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace leibniz::ad {

class ReverseTransform;

//===----------------------------------------------------------------------===//
// Unary form
//===----------------------------------------------------------------------===//

/// The unary form of a block. Node `i` is the block's operation `i`, whose
/// one input is the tuple of its operands followed by its captures (the
/// values its regions use from outside it); the last node is the
/// terminator, the block's output. The sharing of every value the block
/// uses (its arguments, the results of its operations and its context, the
/// values it uses from outside) is explicit: the list of input slots that
/// receive a copy of it. No copy is a discard, two or more a duplication.
class UnaryForm {
public:
  explicit UnaryForm(mlir::Block &block);

  struct Node {
    mlir::Operation *op;
    /// The operands, then the captures.
    llvm::SmallVector<mlir::Value> inputs;
    unsigned numOperands;
  };
  /// One copy of a shared value: input `slot` of node `node`.
  struct Copy {
    unsigned node;
    unsigned slot;
  };

  mlir::Block &getBlock() const { return block; }
  llvm::ArrayRef<Node> getNodes() const { return nodes; }
  /// The copies of `value` in the order of the nodes: empty for a discard.
  llvm::ArrayRef<Copy> getCopies(mlir::Value value) const;
  /// The values that the block uses from outside, in order of first use.
  llvm::ArrayRef<mlir::Value> getContext() const {
    return context.getArrayRef();
  }

  /// Prints the form, one node per line, with each value's sharing.
  void print(llvm::raw_ostream &os) const;

private:
  mlir::Block &block;
  llvm::SmallVector<Node> nodes;
  llvm::DenseMap<mlir::Value, llvm::SmallVector<Copy, 1>> copies;
  llvm::SetVector<mlir::Value> context;
};

//===----------------------------------------------------------------------===//
// Cotangents
//===----------------------------------------------------------------------===//

/// A contribution to the cotangent of one value: a dense value, plus sparse
/// terms that each add `value` at `indices` of a tensor (the cotangents of
/// `lz.get`, kept sparse until they leave the scope that computes them),
/// plus, for a tuple, the contributions to some of its elements. An empty
/// cotangent is zero.
struct Cotangent {
  struct SparseTerm {
    llvm::SmallVector<mlir::Value> indices;
    mlir::Value value;
    /// An i1 without which the term adds nothing (null: always), and where
    /// it is false the indices need not be valid: the condition of the
    /// branch that read the tensor.
    mlir::Value mask;
  };

  mlir::Value dense;
  llvm::SmallVector<SparseTerm, 1> sparse;
  /// For tuples: element `i`'s contribution (absent elements are zero).
  llvm::SmallVector<std::pair<unsigned, std::shared_ptr<Cotangent>>, 0>
      elements;

  Cotangent() = default;
  explicit Cotangent(mlir::Value dense) : dense(dense) {}
  static Cotangent getSparse(mlir::ValueRange indices, mlir::Value value,
                             mlir::Value mask = nullptr);
  static Cotangent getElement(unsigned index, Cotangent element);

  bool isZero() const { return !dense && sparse.empty() && elements.empty(); }
};

//===----------------------------------------------------------------------===//
// ReverseBuilder
//===----------------------------------------------------------------------===//

/// The reverse of one block, built in a block of its own: the forward sweep
/// and the reverse sweep, without a terminator. Its cotangents are values
/// of that block (or of enclosing ones).
struct ReversedBlock {
  std::unique_ptr<mlir::Block> block;
  /// The cotangent of each argument of the original block.
  llvm::SmallVector<Cotangent> arguments;
  /// The cotangents of the values the original block uses from outside
  /// (only the nonzero ones), in order of first use.
  llvm::MapVector<mlir::Value, Cotangent> context;
};

/// What a reverse rule sees of the transformation: the primal values of
/// the forward sweep, the cotangents of the current operation's results,
/// and the contributions the rule makes to the cotangents of its inputs.
class ReverseBuilder {
public:
  /// A builder for the body of a derivative function, where the values in
  /// `varied` depend on the differentiated arguments.
  ReverseBuilder(ReverseTransform &transform, mlir::OpBuilder &builder,
                 const llvm::DenseSet<mlir::Value> &varied)
      : transform(transform), builder(builder), varied(varied) {}
  /// A builder for a body nested in `parent`'s block.
  ReverseBuilder(const ReverseBuilder &parent, mlir::OpBuilder &builder)
      : transform(parent.transform), builder(builder), varied(parent.varied),
        parent(&parent) {}

  mlir::OpBuilder &getBuilder() { return builder; }

  /// The value of the derivative program that stands for `original`.
  mlir::Value primal(mlir::Value original) const {
    if (mlir::Value value = primals.lookupOrNull(original))
      return value;
    return parent ? parent->primal(original) : original;
  }
  void setPrimal(mlir::Value original, mlir::Value value) {
    primals.map(original, value);
  }

  /// Whether `original` depends on a differentiated argument and has a
  /// cotangent (a float, a float tensor or a tuple with one).
  bool isVaried(mlir::Value original) const {
    return varied.contains(original);
  }

  /// The cotangent of a result of the current operation, or null for zero.
  mlir::Value cotangent(mlir::Value result) const {
    return resultCotangents.lookup(result);
  }

  /// Adds `contribution` to the cotangent of operand `operand` of the
  /// current operation.
  void addCotangent(mlir::OpOperand &operand, Cotangent contribution);
  void addCotangent(mlir::OpOperand &operand, mlir::Value dense) {
    addCotangent(operand, Cotangent(dense));
  }
  /// Adds `contribution` to the cotangent of `captured`, a value that a
  /// region of the current operation uses from outside.
  void addCaptureCotangent(mlir::Value captured, Cotangent contribution);

  /// Zeros shaped like `value`, a value of the derivative program.
  mlir::Value zerosLike(mlir::Location loc, mlir::Value value);
  /// `a + b` for scalars, tensors and tuples; null operands are zero.
  mlir::Value add(mlir::Location loc, mlir::Value a, mlir::Value b);
  /// The dense value of a cotangent of `original` (null for zero), built at
  /// the insertion point.
  mlir::Value materialize(mlir::Location loc, mlir::Value original,
                          const Cotangent &cotangent);

  /// The cotangents of the operands of the terminator of a block, given
  /// the builder of the block's reverse after its forward sweep; null
  /// values are zero.
  using SeedFn = llvm::function_ref<llvm::SmallVector<mlir::Value>(
      ReverseBuilder &inner, mlir::OpBuilder &builder)>;
  /// Reverses `block`, a body of the current operation, into a new block
  /// whose arguments stand for the block's; `seeds` gives the cotangents of
  /// its output.
  mlir::FailureOr<ReversedBlock> reverseBlock(mlir::Block &block, SeedFn seeds);

  /// Runs the forward sweep and the reverse sweep of `block` at the
  /// insertion point; the block's arguments must be mapped. The results
  /// are as those of reverseBlock (without the block).
  mlir::LogicalResult run(mlir::Block &block, SeedFn seeds,
                          ReversedBlock &result);

  /// The residual values that the forward sweep kept for `op` (the stacks
  /// of a loop's states).
  llvm::ArrayRef<mlir::Value> getResiduals(mlir::Operation *op) const;
  void setResiduals(mlir::Operation *op, llvm::ArrayRef<mlir::Value> values);

  /// The reverse derivative of `callee` with respect to the arguments
  /// marked in `active`: it takes the arguments followed by the cotangents
  /// of the results that have cotangents, and returns the results followed
  /// by the cotangents of the active arguments.
  mlir::FailureOr<mlir::func::FuncOp>
  getDerivative(mlir::func::FuncOp callee, llvm::ArrayRef<bool> active);

  ReverseTransform &getTransform() { return transform; }

private:
  Cotangent transposeSharing(const UnaryForm &form, mlir::Value value);

  ReverseTransform &transform;
  mlir::OpBuilder &builder;
  const llvm::DenseSet<mlir::Value> &varied;
  const ReverseBuilder *parent = nullptr;
  mlir::IRMapping primals;
  /// The cotangents of the current operation's results.
  llvm::DenseMap<mlir::Value, mlir::Value> resultCotangents;
  /// The contributions to every input slot of every node of the block
  /// being reversed.
  llvm::SmallVector<llvm::SmallVector<Cotangent>> contributions;
  const UnaryForm *form = nullptr;
  unsigned currentNode = 0;
  llvm::DenseMap<mlir::Operation *, llvm::SmallVector<mlir::Value>> residuals;
};

/// Expands the transformations of `module` into plain lz IR, those of the
/// functions a function calls or transforms before its own: with
/// `forward`, the forward-mode ones; with `reverse`, the reverse-mode ones
/// (`ad.grad`, `ad.value_and_grad` and `ad.jacobian` in mode "rev",
/// `ad.vjp`) and `ad.hessian` and `ad.hvp`, forward over reverse. Errors
/// are reported at the operation that cannot be differentiated.
mlir::LogicalResult expandDerivatives(mlir::ModuleOp module, bool forward,
                                      bool reverse);

/// The reverse derivative of `func` with respect to the arguments marked
/// in `active`, created in `module` as by ReverseBuilder::getDerivative.
mlir::FailureOr<mlir::func::FuncOp>
buildReverseDerivative(mlir::ModuleOp module, mlir::func::FuncOp func,
                       llvm::ArrayRef<bool> active);

} // namespace leibniz::ad

#endif // LEIBNIZ_AD_REVERSE_H
