//===- Derivation.h - Derivation rules and the search -----------*- C++ -*-===//
//
// Part of Leibniz.
//
// The derivation rules of the tensor search (docs/search.md), each a
// function from a program to the programs it derives, the matching of
// stages to library operators, and the explorative search over the rules
// with fingerprint dedupe.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_SEARCH_DERIVATION_H
#define LEIBNIZ_SEARCH_DERIVATION_H

#include "leibniz/Search/Expr.h"

#include <functional>
#include <optional>

namespace leibniz::search {

/// A program derived by one rule application, and what was done.
struct Derived {
  Program program;
  std::string step;
};

/// Summation splitting: stage `stage`'s summation iterators `inner` (a
/// nonempty proper subset) move into a new stage before it, whose
/// traversal adds the remaining summation iterators; the stage sums the
/// new tensor over those.
std::optional<Derived> splitSummation(const Program &program, unsigned stage,
                                      llvm::ArrayRef<unsigned> inner);

/// Variable substitution with boundary tightening: in stage `stage` (not
/// the result's), the traversal part of the index `index` of read `read`
/// (its constant and traversal terms, in which the traversal iterator
/// `iterator` has coefficient 1 or -1; the summed terms stay in the index)
/// becomes a traversal iterator of its own, replacing `iterator`. Its range
/// is the part's, tightened to where the read can be inside the tensor
/// when the read is a factor of the summand (outside, the summand is 0);
/// the stage's readers read the new layout. Traversal iterators the
/// summand no longer uses then lose their dimensions.
std::optional<Derived> substituteIndex(const Program &program, unsigned stage,
                                       const Node *read, unsigned index,
                                       unsigned iterator);

/// Variable splitting with boundary relaxation: the summation iterator
/// `iterator` of stage `stage`, over [lo, hi), becomes `lo + factor * i1 +
/// i2` with i2 < factor, summed over both. Where `factor` does not divide
/// the range's size, the range first grows to the next multiple of it
/// (relaxation), by a quarter of its points at most, which requires the
/// summand to be 0 on the points gained: a factor of it reads outside its
/// tensor there, and it has no division or logarithm (which could make
/// another factor infinite there, and the product NaN).
std::optional<Derived> splitVariable(const Program &program, unsigned stage,
                                     unsigned iterator, int64_t factor);

/// Variable splitting of a traversal: the traversal iterator `iterator` of
/// stage `stage`, over [lo, hi) with `factor` dividing its size, becomes
/// `lo + factor * i1 + i2` with i2 < factor, and the stage's tensor's
/// dimension splits into two (a row-major view of the same elements; the
/// program's result keeps its shape as `resultShape`). Every reader must
/// read the dimension as `factor * q + r` with r < factor (see
/// splitDimension): it then reads `[q, r]`.
std::optional<Derived> splitTraversal(const Program &program, unsigned stage,
                                      unsigned iterator, int64_t factor);

/// Data layout transformation: where the index `dim` of `read` (in stage
/// `stage`) is `factor * q + r`, r one iterator over a range within
/// [0, factor) and `factor` dividing the dimension, a new stage copies the
/// read tensor with that dimension split into [size / factor, factor], and
/// the read becomes a read of the copy at `[q, r]`. The copy stage runs
/// first for an input, else after the tensor's stage.
std::optional<Derived> splitDimension(const Program &program, unsigned stage,
                                      const Node *read, unsigned dim,
                                      int64_t factor);

/// Data layout transformation, reordering: a new stage copies the tensor
/// that `read` (in stage `stage`) reads with its dimensions in the order
/// `order` (the copy's dimension d is the tensor's dimension order[d], a
/// permutation other than the identity), and the read becomes a read of
/// the copy at its indices in that order. A read outside the tensor is
/// outside the copy: its padding stays 0.
std::optional<Derived> reorderDimensions(const Program &program, unsigned stage,
                                         const Node *read,
                                         llvm::ArrayRef<unsigned> order);

/// Data layout transformation, merging: where `read` (in stage `stage`)
/// reads an input or a view of one, and its index `dim + 1` stays within
/// that dimension, the read becomes a read of the input's view with the
/// dimensions `dim` and `dim + 1` merged (Program::getView: the same
/// elements, row-major, so no copy) at `width * i + j`, for the indices i
/// and j and the inner dimension's width. A read outside the tensor is
/// outside the view. The inverse of a layout split of an input; a computed
/// tensor's dimensions merge by traversal merging instead.
std::optional<Derived> mergeDimensions(const Program &program, unsigned stage,
                                       const Node *read, unsigned dim);

/// The order of the dimensions of `read` that `stage` runs over: by the
/// first of the stage's iterators (traversal, then summation) that each
/// index uses, constant indices first, ties in their order. With
/// `layouts`, the search reorders a read of an input to it
/// (reorderDimensions), so that its innermost dimension is the one the
/// innermost loop walks.
llvm::SmallVector<unsigned, 4> getTraversalOrder(const Stage &stage,
                                                 const Node *read);

/// Stage merging: the one read of tensor `tensor` (computed by a stage
/// that is not the result's and that no other stage reads) in stage
/// `stage` is replaced by the summand that computes it, its summation
/// iterators joining the stage's; the inverse of summation splitting.
/// Where the computing stage sums, the read must be a factor of the
/// summand (products distribute over the sum), and it must stay within
/// the tensor (its padding is 0, the summand need not be). Expression
/// fusion: a stage that does not sum (memory-bound) is inlined into every
/// read of it in `stage`, however many.
std::optional<Derived> mergeStage(const Program &program, unsigned stage,
                                  unsigned tensor);

/// Expression splitting: the subexpression `node` of stage `stage`'s
/// summand (not a read or a constant) becomes a stage of its own before
/// it, traversing the iterators it uses (the stage's traversal ones
/// first), and the stage reads it there; the inverse of expression
/// fusion. The search splits the compound factors of a summand: `exp(A[i,
/// k]) * B[k, j]` becomes a product of a stage and B.
std::optional<Derived> splitExpression(const Program &program, unsigned stage,
                                       const Node *node);

/// Expression splitting of terms: stage `stage`, which sums `a + b` (or
/// `a - b`), becomes two stages before it that sum `a` and `b` over the
/// same iterators, and the stage adds (subtracts) their elements. Each
/// term can then match an operator of its own: two products, where the
/// sum of both matched none. The sum is reassociated (as summation
/// splitting reorders it).
std::optional<Derived> splitTerms(const Program &program, unsigned stage);

/// Traversal merging: the traversal iterators at `position` and the next
/// of stage `stage`, which its summand uses only together as `c * (width *
/// outer + inner)`, become one iterator over their product, and the two
/// dimensions of its tensor one (row-major, the same elements); readers
/// must read the inner dimension within it. The inverse of splitTraversal.
std::optional<Derived> mergeTraversal(const Program &program, unsigned stage,
                                      unsigned position);

/// Whether `node` divides or takes a logarithm, which is infinite at 0,
/// or reads a stage that does: then a factor that is 0 does not make the
/// product 0 (0 times infinity is NaN), and what relies on it does not
/// hold.
bool hasPole(const Program &program, const Node *node);

/// Every program one rule application derives from `program`; with
/// `layouts`, also, listed last, the reorderings of inputs into the order
/// in which the stages that sum over them run (reorderDimensions,
/// getTraversalOrder), and the merges of the dimensions of inputs that a
/// stage's adjacent traversal iterators index, as a pair, in every read
/// (mergeDimensions on each such read, one derivation). They are opt-in
/// (SearchOptions::layouts, `leibniz search --layouts`): every
/// misordered input doubles the states, and the analytic cost, which does
/// not see strides or loop counts, ranks neither cheaper.
std::vector<Derived> deriveAll(const Program &program, bool layouts = false);

/// A stage that a library operator computes.
struct OperatorMatch {
  enum Kind { Matmul } kind;
  /// Batch, rows, columns and reduction sizes.
  int64_t batch = 1, m = 1, n = 1, k = 1;
  std::string describe() const;
};

/// Matches `stage` to a (batched) matrix product by its iterator table:
/// the summand is the product of two reads whose indices are single
/// iterators over whole dimensions; the summation iterators index both
/// (the reduction), a traversal iterator indexes both (a batch), the
/// first only (a row) or the second only (a column). A layout
/// transformation of the operands and the result makes it a product.
std::optional<OperatorMatch> matchOperator(const Program &program,
                                           const Stage &stage);

/// A stage of the shape of an operator that Leibniz has no library for on
/// the CPU, which the search can derive towards: a convolution, or a banded
/// product (G2BMM, as in Longformer's dilated attention).
struct PatternMatch {
  enum Kind { Convolution, BandedProduct } kind;
  /// Convolution: the window's sizes, the output points (pixels and
  /// batch), and the input and output channels.
  llvm::SmallVector<int64_t, 2> window;
  int64_t points = 1, inChannels = 1, outChannels = 1;
  /// Banded product `Y[b, i, w] = Σk A[b, i, k] B[b, i + D·w + c, k]`:
  /// batch, rows, the band's width, the reduction and the dilation D.
  int64_t batch = 1, rows = 1, band = 1, k = 1, dilation = 1;
  /// `Conv3x3` (the window's sizes), `G2BMM` or `DilatedG2BMM`.
  std::string getName() const;
  std::string describe() const;
};

/// Matches `stage` to a pattern by its iterator table. A convolution is
/// the product of an input read, whose indices are single iterators or
/// windows `t + s` (t traversed, s summed, any offset), and a weight read
/// (any layout) that every summed iterator indexes; a traversal iterator
/// indexes one of them only. A banded product is the product of two reads
/// of single iterators over whole dimensions but for one index of the
/// second, `i + D·w + c`: i a row of the first, w traversed by the second
/// only; summed iterators index both.
std::optional<PatternMatch> matchPattern(const Program &program,
                                         const Stage &stage);

/// Writes `program` as a Leibniz definition `name` whose parameters are the
/// program's inputs (in order) and whose body computes its stages: each
/// matched stage as a product `@` of its operands laid out as matrices,
/// the others as `for` and `sum` scopes, with reads that may fall outside
/// an intermediate tensor guarded (0 outside, as in the search IR).
void printDefinition(llvm::raw_ostream &os, const Program &program,
                     llvm::StringRef name);

/// The analytic cost of `program`: the flops of each stage, those of a
/// matched operator at `libraryRate` times the speed of generated code,
/// plus one per element that a stage writes.
double estimateCost(const Program &program, double libraryRate = 8.0);

struct SearchOptions {
  unsigned maxDepth = 4;
  /// Stop after this many distinct states (0: no limit).
  size_t maxStates = 200000;
  /// Stop after this many seconds (0: no limit).
  double maxSeconds = 0;
  /// Where set, the search stops at the first state (the shallowest) that
  /// satisfies it and returns that state instead of the cheapest.
  std::function<bool(const Program &)> goal;
  /// How many candidates for a measured choice explore returns: the
  /// cheapest states with a stage that a library computes, by analytic
  /// cost, within `candidateSpread` times the cheapest's cost.
  unsigned candidates = 0;
  double candidateSpread = 4.0;
  /// Called after each depth with the depth and the distinct states so far.
  std::function<void(unsigned, size_t)> progress;
  /// Derive reorderings and merges of the inputs' layouts too (deriveAll's
  /// `layouts`).
  bool layouts = false;
};

/// A derived program and its derivation.
struct Candidate {
  Program program;
  std::vector<std::string> steps;
  std::vector<unsigned> path;
  double cost = 0;
};

struct SearchResult {
  /// The best program found and the steps from the original to it.
  Program best;
  std::vector<std::string> steps;
  double originalCost = 0, bestCost = 0;
  /// Distinct states (by fingerprint) per depth, and the derivations that
  /// reached an existing state.
  std::vector<size_t> statesPerDepth;
  size_t duplicates = 0;
  /// Whether a bound stopped the search: SearchOptions::maxStates
  /// (truncated) or maxSeconds (timedOut, which sets truncated too).
  bool truncated = false;
  bool timedOut = false;
  /// Whether a state satisfied SearchOptions::goal.
  bool reachedGoal = false;
  /// The best program's derivation as the position of each step among the
  /// derivations deriveAll lists (see replay).
  std::vector<unsigned> path;
  /// SearchOptions::candidates, cheapest first.
  std::vector<Candidate> candidates;
};

/// Whether a library computes a stage of `program` (matchOperator).
bool hasLibraryStage(const Program &program);

/// Breadth-first explorative derivation from `program` to `maxDepth`,
/// deduplicated by fingerprint; returns the lowest-cost state.
SearchResult explore(const Program &program, const SearchOptions &options);

/// What a search can stop at: a stage that a library computes (a matrix
/// product), or a stage of a pattern's shape (matchPattern).
struct Target {
  enum Kind { Matmul, Convolution, G2BMM, DilatedG2BMM } kind = Matmul;
  /// A convolution's window sizes.
  llvm::SmallVector<int64_t, 2> window;

  /// `Matmul`, `Conv3x3` (a window of positive sizes), `G2BMM` or
  /// `DilatedG2BMM`; none for another name.
  static std::optional<Target> parse(llvm::StringRef name);
  std::string getName() const;
  /// Whether `stage` has the target's shape.
  bool matches(const Program &program, const Stage &stage) const;
  /// Whether a stage of `program` has it.
  bool isReachedBy(const Program &program) const;
};

/// How far `program` is from a stage of `target`, by iterator tables: the
/// least, over the stages whose summand is the product of two reads, of
/// the derivation steps their indices still need (counted twice in the
/// result's stage, where substitution cannot reach them before a summation
/// splitting moves them into a stage of their own). For a product, an
/// index that is not one iterator needs one. For a convolution, a window
/// over a summed iterator of another size needs a variable splitting, a
/// summation splitting and a substitution; a window beside other summed
/// iterators needs the last two; one beside other traversal iterators,
/// the substitution. For a band, a dilation to remove needs a traversal
/// splitting and the layout split of each operand; an index `f * q + r`,
/// its layout split. 0 where a stage has the target, and unsigned's
/// maximum where no stage is a product of two reads.
unsigned getTargetDistance(const Program &program, const Target &target);

/// Guided derivation: best first by the distance to `target` (then depth),
/// deduplicated by fingerprint (a state seen again at a shallower depth is
/// explored again), within the depth and state bounds; stops at the first
/// state with a stage of the target and returns it (or the cheapest state
/// seen, where none is within the bounds). SearchOptions::goal is not
/// used: the target is the goal.
SearchResult guide(const Program &program, const SearchOptions &options,
                   const Target &target = Target());

/// The program that `path` (SearchResult::path) derives from `program`,
/// with or without `layouts` (the reorderings and merges come last); none
/// where a position is out of range.
std::optional<Program> replay(const Program &program,
                              llvm::ArrayRef<unsigned> path);

/// Compares `derived` with `original` on random inputs (seeded by `seed`)
/// at up to `samples` elements of the result (all where it has fewer),
/// first and last included; returns the largest difference relative to the
/// largest magnitude of the original's (at least 1).
double checkDerivation(const Program &original, const Program &derived,
                       unsigned samples = 256, unsigned seed = 0);

} // namespace leibniz::search

#endif // LEIBNIZ_SEARCH_DERIVATION_H
