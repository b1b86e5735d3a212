//===- Rule.h - Named rewrite rules -----------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
// A rule is one rewrite at one operation, registered under a name with a
// one-line description. Strategies (Strategy.h) combine rules; a rule that
// does not apply fails without changing anything. A predicate is a rule
// that never changes anything: it succeeds or fails.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_REWRITE_RULE_H
#define LEIBNIZ_REWRITE_RULE_H

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace leibniz::rewrite {

class Rule {
public:
  Rule(llvm::StringRef name, llvm::StringRef description,
       bool predicate = false)
      : name(name), description(description), predicate(predicate) {}
  virtual ~Rule();

  llvm::StringRef getName() const { return name; }
  llvm::StringRef getDescription() const { return description; }
  /// Whether the rule only tests: it never changes the IR.
  bool isPredicate() const { return predicate; }

  /// Rewrites `op` through `rewriter`, or fails without changing anything.
  virtual mlir::LogicalResult apply(mlir::Operation *op,
                                    mlir::PatternRewriter &rewriter) const = 0;

private:
  std::string name, description;
  bool predicate;
};

/// The rules by name, in the order they were added.
class RuleSet {
public:
  /// Adds `rule`; its name must be new.
  void add(std::unique_ptr<Rule> rule);
  const Rule *lookup(llvm::StringRef name) const;
  llvm::ArrayRef<std::unique_ptr<Rule>> getRules() const { return rules; }

private:
  std::vector<std::unique_ptr<Rule>> rules;
  llvm::StringMap<const Rule *> byName;
};

/// Adds the rules and predicates over `lz` (docs/rewriting.md).
void addLzRules(RuleSet &rules);

/// The rule set of the `lz` rules, built once.
const RuleSet &getLzRules();

} // namespace leibniz::rewrite

#endif // LEIBNIZ_REWRITE_RULE_H
