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
/// the result's), the index `index` of read `read` (an affine combination
/// of traversal iterators in which `iterator` has coefficient 1) becomes
/// a traversal iterator of its own, replacing `iterator`. Its range is the
/// index's, tightened to the read tensor's dimension where the read is a
/// factor of the summand (outside, the summand is 0); the stage's readers
/// read the new layout.
std::optional<Derived> substituteIndex(const Program &program, unsigned stage,
                                       const Node *read, unsigned index,
                                       unsigned iterator);

/// Stage merging: the one read of tensor `tensor` (computed by a stage
/// that is not the result's and that no other stage reads) in stage
/// `stage` is replaced by the summand that computes it, its summation
/// iterators joining the stage's; the inverse of summation splitting.
/// Where the computing stage sums, the read must be a factor of the
/// summand (products distribute over the sum), and it must stay within
/// the tensor (its padding is 0, the summand need not be).
std::optional<Derived> mergeStage(const Program &program, unsigned stage,
                                  unsigned tensor);

/// Every program one rule application derives from `program`.
std::vector<Derived> deriveAll(const Program &program);

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
  /// Called after each depth with the depth and the distinct states so far.
  std::function<void(unsigned, size_t)> progress;
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
  bool truncated = false;
  /// The best program's derivation as the position of each step among the
  /// derivations deriveAll lists (see replay).
  std::vector<unsigned> path;
};

/// Breadth-first explorative derivation from `program` to `maxDepth`,
/// deduplicated by fingerprint; returns the lowest-cost state.
SearchResult explore(const Program &program, const SearchOptions &options);

/// The program that `path` (SearchResult::path) derives from `program`;
/// none where a position is out of range.
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
