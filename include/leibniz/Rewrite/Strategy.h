//===- Strategy.h - ELEVATE-style rewrite strategies ------------*- C++ -*-===//
//
// Part of Leibniz.
//
// A strategy is a function from a program point (an operation) to success,
// with the point that replaces it, or failure. The core is small: `id`,
// `fail`, sequence `s1 ; s2`, left choice `s1 <+ s2`, the one-level
// traversals `all`, `one` and `some` over an operation's children (the
// operations directly in its regions), the predicate combinators `not` and
// `if`, and named rules. Everything else (`try`, `repeat`, `topDown`,
// `normalize`, ...) is defined from the core in the strategy text language
// itself (StrategyLibrary's prelude), as are the named strategies of the
// pipelines. docs/rewriting.md describes the language.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_REWRITE_STRATEGY_H
#define LEIBNIZ_REWRITE_STRATEGY_H

#include "leibniz/Rewrite/Rule.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace leibniz::rewrite {

struct Definition;

/// A node of a strategy expression.
struct Strategy {
  enum class Kind {
    Id,
    Fail,
    Seq,
    Choice,
    All,
    One,
    Some,
    Not,
    If,
    Rule,
    Call,
    Param
  };
  Kind kind;
  /// The operands: two for `;` and `<+`, one for the traversals and `not`,
  /// three for `if`, the arguments of a call.
  std::vector<std::shared_ptr<const Strategy>> operands;
  const rewrite::Rule *rule = nullptr;
  const Definition *definition = nullptr;
  unsigned param = 0;
};
using StrategyRef = std::shared_ptr<const Strategy>;

/// `name(params) = body`, or `name = body` for a named strategy.
struct Definition {
  std::string name;
  std::vector<std::string> params;
  StrategyRef body;
  /// The definition as written.
  std::string text;
  /// Whether the prelude defines it (else, a named strategy).
  bool prelude;
};

/// A parse error: the message and the 1-based column in the text.
struct StrategyError {
  std::string message;
  unsigned column = 0;
};

/// The definitions that strategies may call: the prelude (try, repeat,
/// topDown, ...) and the named strategies (cleanup, fwd-ad-opt,
/// rev-ad-opt), over a set of rules.
class StrategyLibrary {
public:
  explicit StrategyLibrary(const RuleSet &rules);
  StrategyLibrary(StrategyLibrary &&) = default;
  ~StrategyLibrary();

  /// Parses a strategy expression.
  mlir::FailureOr<StrategyRef> parse(llvm::StringRef text,
                                     StrategyError &error) const;

  /// Parses and adds `name(params) = body` (a prelude definition) or
  /// `name = body` (a named strategy).
  mlir::LogicalResult define(llvm::StringRef text, bool prelude,
                             StrategyError &error);

  const Definition *lookup(llvm::StringRef name) const;
  llvm::ArrayRef<std::unique_ptr<Definition>> getDefinitions() const {
    return definitions;
  }
  const RuleSet &getRules() const { return rules; }

  /// The library of the `lz` rules with the prelude and the named
  /// strategies.
  static const StrategyLibrary &getLz();

private:
  const RuleSet &rules;
  std::vector<std::unique_ptr<Definition>> definitions;
  llvm::StringMap<Definition *> byName;
};

/// Prints a strategy expression in the text language.
std::string printStrategy(const Strategy &strategy,
                          llvm::ArrayRef<std::string> params = {});

/// Applies strategies to operations, counting the rules that fire.
class StrategyEngine {
public:
  explicit StrategyEngine(mlir::MLIRContext *context);
  ~StrategyEngine();

  /// Checks that `strategy` means what it means in ELEVATE when it runs in
  /// place: no left choice may fail after a change, and predicates must
  /// not change anything.
  static mlir::LogicalResult verify(const Strategy &strategy,
                                    std::string &error);

  /// Applies `strategy` at `point`. On success, returns the point that now
  /// stands where `point` stood (itself, its replacement, or null if it was
  /// erased). A failure leaves the IR unchanged unless the strategy can
  /// fail after a change (`rule ; fail`); within a strategy, such parts
  /// are rejected where a choice would have to undo them (verify), and
  /// the error is emitted at `point`.
  mlir::FailureOr<mlir::Operation *> apply(const Strategy &strategy,
                                           mlir::Operation *point);

  /// Runs `normalize` over a choice of rules as defined (restarting from
  /// the point after each rewrite) instead of with the worklist, which
  /// gives the same result faster.
  void setReferenceNormalize(bool reference);

  /// Whether an error was emitted while applying (a `repeat` that would
  /// not terminate, or the limit on rewrites reached).
  bool hasReportedError() const;

  /// Stops an application with an error when it makes more than `limit`
  /// rewrites (0: no limit): a strategy whose rules undo each other would
  /// otherwise run forever.
  void setMaxRewrites(uint64_t limit);

  /// How often each rule succeeded.
  const llvm::StringMap<unsigned> &getStatistics() const;

private:
  class Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace leibniz::rewrite

#endif // LEIBNIZ_REWRITE_STRATEGY_H
