//===- Expr.h - The tensor expression IR of the search ----------*- C++ -*-===//
//
// Part of Leibniz.
//
// The derivation-based tensor search (docs/search.md) works on its own
// compact IR: a program is a sequence of stages, each a scope
// `L<i:lo:hi, ...> Σ<k:lo:hi, ...> summand` that computes one tensor, the
// traversal iterators indexing its dimensions and the summation iterators
// summed over. Summands are hash-consed trees of constants, reads
// `T[index, ...]` with affine indices, and arithmetic; a read outside a
// tensor's shape is 0. The fingerprint of a program is invariant to the
// names of iterators and tensors, to the order of summation iterators and
// to the order of commutative operands: the search's dedupe key.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_SEARCH_EXPR_H
#define LEIBNIZ_SEARCH_EXPR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace leibniz::search {

/// An iterator: a variable over the half-open range [lo, hi).
struct Iterator {
  std::string name;
  int64_t lo = 0;
  int64_t hi = 0;

  int64_t size() const { return hi > lo ? hi - lo : 0; }
};

/// An affine index, `constant + Σ coefficient · iterator`, normalized: the
/// terms are sorted by iterator and have nonzero coefficients.
struct Affine {
  int64_t constant = 0;
  llvm::SmallVector<std::pair<unsigned, int64_t>, 2> terms;

  Affine(int64_t constant = 0) : constant(constant) {}
  static Affine getIterator(unsigned iterator);

  int64_t getCoefficient(unsigned iterator) const;
  bool isConstant() const { return terms.empty(); }
  /// The index with `iterator` replaced by `by`.
  Affine substitute(unsigned iterator, const Affine &by) const;

  Affine operator+(const Affine &other) const;
  Affine operator-(const Affine &other) const;
  Affine operator*(int64_t factor) const;
  bool operator==(const Affine &other) const {
    return constant == other.constant && terms == other.terms;
  }
  bool operator!=(const Affine &other) const { return !(*this == other); }
};

/// The operations of summands.
enum class Op {
  Constant,
  Read,
  Add,
  Sub,
  Mul,
  Div,
  Neg,
  Exp,
  Log,
  Tanh,
  Max,
};

/// How an arithmetic operation is written: the symbol of an infix or
/// prefix operation (`+`, `-`, `*`, `/`; `-` for negation) or the name of a
/// function (`exp`, `log`, `tanh`, `max`), the same in the IR's printing
/// and in Leibniz.
llvm::StringRef getSpelling(Op op);
/// Whether `op` is written between its operands.
inline bool isInfix(Op op) {
  return op == Op::Add || op == Op::Sub || op == Op::Mul || op == Op::Div;
}

/// A node of a summand. Nodes are unique in their Context: structurally
/// equal nodes are the same pointer.
struct Node {
  Op op;
  double value = 0.0;
  /// For reads: the tensor (an index into the program's tensors) and the
  /// index of each of its dimensions.
  unsigned tensor = 0;
  llvm::SmallVector<Affine, 4> indices;
  llvm::SmallVector<const Node *, 2> operands;

  bool isCommutative() const {
    return op == Op::Add || op == Op::Mul || op == Op::Max;
  }
};

/// Owns and uniques the nodes of every program built from it.
class Context {
public:
  Context();
  ~Context();
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;

  const Node *getConstant(double value);
  const Node *getRead(unsigned tensor, llvm::ArrayRef<Affine> indices);
  const Node *get(Op op, llvm::ArrayRef<const Node *> operands);

  /// The number of distinct nodes.
  size_t size() const;

private:
  const Node *unique(Node node);
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// A tensor of a program: an input, the result of a stage, or a view of an
/// input (the same elements, row-major, in another shape).
struct Tensor {
  std::string name;
  llvm::SmallVector<int64_t, 4> shape;
  /// The stage that computes it; -1 for an input or a view.
  int stage = -1;
  /// For a view: the input whose elements it is; -1 otherwise.
  int source = -1;

  bool isInput() const { return stage < 0 && source < 0; }
  bool isView() const { return source >= 0; }

  int64_t getNumElements() const {
    int64_t count = 1;
    for (int64_t extent : shape)
      count *= extent;
    return count;
  }
};

/// A scope `L<traversal> Σ<summation> summand` that computes the tensor
/// `output`: its element at position p (one coordinate per traversal
/// iterator) is the sum of the summand over the summation iterators, with
/// the traversal iterators at `p + lo`.
struct Stage {
  llvm::SmallVector<unsigned, 4> traversal;
  llvm::SmallVector<unsigned, 4> summation;
  const Node *summand = nullptr;
  unsigned output = 0;
};

/// A tensor expression program: stages in the order they run, the last
/// computing the result.
class Program {
public:
  explicit Program(Context &context) : context(&context) {}

  Context &getContext() const { return *context; }

  unsigned addIterator(llvm::StringRef name, int64_t lo, int64_t hi);

  /// The least and the greatest value of `index` over its iterators'
  /// ranges; none where one of them is empty (the index is never taken).
  std::optional<std::pair<int64_t, int64_t>>
  getRange(const Affine &index) const;
  /// Whether every value `index` takes lies in [0, size).
  bool isWithin(const Affine &index, int64_t size) const;
  unsigned addTensor(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                     int stage = -1);
  /// The view of input `input` (or of a view's input) in `shape`, of the
  /// same number of elements: an existing one, or a new one.
  unsigned getView(unsigned input, llvm::ArrayRef<int64_t> shape);

  std::vector<Iterator> iterators;
  std::vector<Tensor> tensors;
  std::vector<Stage> stages;

  /// The result's shape where a derivation split dimensions of its tensor
  /// (a row-major view of the same elements); empty: the tensor's shape.
  llvm::SmallVector<int64_t, 4> resultShape;

  const Stage &getResultStage() const { return stages.back(); }
  unsigned getResult() const { return stages.back().output; }
  llvm::ArrayRef<int64_t> getResultShape() const {
    return resultShape.empty()
               ? llvm::ArrayRef<int64_t>(tensors[getResult()].shape)
               : llvm::ArrayRef<int64_t>(resultShape);
  }

  /// The fingerprint of the result: invariant to names, to the order of
  /// summation iterators and of commutative operands, and to how stages
  /// that no one reads are arranged.
  uint64_t fingerprint() const;

  /// The floating-point operations of every stage, `points · summed
  /// points · operations of the summand`.
  double countFlops() const;
  double countFlops(const Stage &stage) const;

  /// Checks the structure: stages only read inputs and earlier stages,
  /// iterators are bound once per stage, ranges and shapes agree. Returns
  /// an empty string or what is wrong.
  std::string verify() const;

  void print(llvm::raw_ostream &os) const;
  /// Prints `view` as `A_6_4_5 = reshape(A, 6, 4, 5)`.
  void printView(llvm::raw_ostream &os, const Tensor &view) const;
  void printStage(llvm::raw_ostream &os, const Stage &stage) const;
  void printNode(llvm::raw_ostream &os, const Node *node) const;

private:
  Context *context;
};

/// Prints `index` as `2*i+j-1`, or with `spaced`, `2 * i + j - 1`; each
/// iterator by `printIterator`.
void printAffine(llvm::raw_ostream &os, const Affine &index,
                 llvm::function_ref<void(unsigned)> printIterator,
                 bool spaced = false);

/// Dense row-major values of the input tensors, by name.
using Inputs = std::map<std::string, std::vector<double>>;

/// Values uniform in [-1, 1) for every input of `program`, seeded.
Inputs makeRandomInputs(const Program &program, unsigned seed);

/// The reference semantics: evaluates `program` on `inputs` (one vector
/// per input tensor, row-major) and returns the result, row-major. Reads
/// outside a tensor's shape are 0.
std::vector<double> evaluate(const Program &program, const Inputs &inputs);

/// The elements of the result at the row-major `offsets`, computing only
/// the elements of intermediate tensors that they read: a check of a
/// large program at sampled points.
std::vector<double> evaluateAt(const Program &program, const Inputs &inputs,
                               llvm::ArrayRef<int64_t> offsets);

} // namespace leibniz::search

#endif // LEIBNIZ_SEARCH_EXPR_H
