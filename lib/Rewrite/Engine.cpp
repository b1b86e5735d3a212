//===- Engine.cpp - Applying strategies -----------------------------------===//
//
// Part of Leibniz.
//
// Strategies run on the IR in place. ELEVATE's semantics assume that a
// failing strategy leaves its input unchanged; in place, that holds for
// strategies that cannot fail after a change (a rule, `id`, `try(s)`,
// `repeat(s)`, `topDown(s)` of such `s`, ...). Before a strategy runs, a
// small analysis finds, for every instantiated subexpression, whether it
// can fail, whether it can change the IR, and whether it can fail after a
// change; a left choice whose left side can fail after a change, and a
// predicate (`not`, the condition of `if`) that can change the IR, are
// rejected with an error, so that every accepted strategy means what it
// means in ELEVATE.
//
// `repeat` runs as a loop rather than as its recursive definition, which
// is the same but needs no stack.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Rewrite/Strategy.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/ScopeExit.h"

#include <map>

using namespace mlir;
using namespace leibniz::rewrite;

namespace {

/// What a strategy may do.
struct Effects {
  bool canFail = false;
  bool canChange = false;
  /// It may fail after it changed the IR.
  bool canFailAfterChange = false;

  bool operator==(const Effects &other) const {
    return canFail == other.canFail && canChange == other.canChange &&
           canFailAfterChange == other.canFailAfterChange;
  }
  bool operator<(const Effects &other) const {
    return std::make_tuple(canFail, canChange, canFailAfterChange) <
           std::make_tuple(other.canFail, other.canChange,
                           other.canFailAfterChange);
  }
};

/// The analysis of a strategy with its parameters' effects bound.
class EffectAnalysis {
public:
  /// The effects of `strategy` under `params`; records the first error.
  Effects analyze(const Strategy &strategy, ArrayRef<Effects> params) {
    using K = Strategy::Kind;
    auto sub = [&](unsigned i) {
      return analyze(*strategy.operands[i], params);
    };
    switch (strategy.kind) {
    case K::Id:
      return {};
    case K::Fail:
      return {true, false, false};
    case K::Rule:
      return {true, !strategy.rule->isPredicate(), false};
    case K::Param:
      return strategy.param < params.size() ? params[strategy.param]
                                            : Effects{true, true, true};
    case K::Seq: {
      Effects a = sub(0), b = sub(1);
      return {a.canFail || b.canFail, a.canChange || b.canChange,
              a.canFailAfterChange || (a.canChange && b.canFail) ||
                  b.canFailAfterChange};
    }
    case K::Choice: {
      Effects a = sub(0), b = sub(1);
      if (a.canFailAfterChange)
        setError(strategy, "the left side of '<+' may fail after it changed "
                           "the program, which cannot be undone");
      return {a.canFail && b.canFail, a.canChange || b.canChange,
              b.canFailAfterChange};
    }
    case K::All: {
      Effects s = sub(0);
      return {s.canFail, s.canChange,
              s.canFailAfterChange || (s.canChange && s.canFail)};
    }
    case K::One:
    case K::Some: {
      Effects s = sub(0);
      return {true, s.canChange, s.canFailAfterChange};
    }
    case K::Not: {
      if (sub(0).canChange)
        setError(strategy, "the argument of 'not' must not change the "
                           "program (a predicate)");
      return {true, false, false};
    }
    case K::If: {
      Effects p = sub(0), t = sub(1), e = sub(2);
      if (p.canChange)
        setError(strategy, "the condition of 'if' must not change the "
                           "program (a predicate)");
      return {t.canFail || e.canFail, t.canChange || e.canChange,
              t.canFailAfterChange || e.canFailAfterChange};
    }
    case K::Call: {
      std::vector<Effects> args;
      for (unsigned i = 0; i < strategy.operands.size(); ++i)
        args.push_back(sub(i));
      return analyzeCall(*strategy.definition, args);
    }
    }
    llvm_unreachable("unknown strategy kind");
  }

  const std::string &getError() const { return error; }

private:
  /// A definition's effects for arguments' effects: the least fixed point,
  /// starting from "nothing" for recursive calls.
  Effects analyzeCall(const Definition &definition,
                      const std::vector<Effects> &args) {
    auto key = std::make_pair(&definition, args);
    auto it = memo.find(key);
    if (it != memo.end())
      return it->second;
    memo[key] = Effects{};
    const Definition *outer = current;
    current = &definition;
    llvm::scope_exit restore([&] { current = outer; });
    for (;;) {
      Effects result = analyze(*definition.body, args);
      if (result == memo[key])
        return result;
      memo[key] = result;
    }
  }

  void setError(const Strategy &strategy, const std::string &message) {
    if (!error.empty())
      return;
    error = message + ": ";
    if (current)
      error += "in '" + current->name + "', ";
    error +=
        printStrategy(strategy, current ? ArrayRef<std::string>(current->params)
                                        : ArrayRef<std::string>());
  }

  /// The definition being analyzed, for the messages.
  const Definition *current = nullptr;

  std::map<std::pair<const Definition *, std::vector<Effects>>, Effects> memo;
  std::string error;
};

/// Records what happens to operations while a rule rewrites.
struct Tracker : public RewriterBase::Listener {
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    erased.erase(op);
  }
  void notifyOperationReplaced(Operation *op, ValueRange values) override {
    for (Value value : values)
      if (Operation *def = value.getDefiningOp()) {
        replacements[op] = def;
        return;
      }
    replacements[op] = nullptr;
  }
  void notifyOperationErased(Operation *op) override { erased.insert(op); }

  llvm::DenseSet<Operation *> erased;
  llvm::DenseMap<Operation *, Operation *> replacements;
};

/// A strategy with the environment of its parameters.
struct Closure;
using Environment = std::shared_ptr<std::vector<Closure>>;
struct Closure {
  const Strategy *strategy;
  Environment environment;
};

} // namespace

class StrategyEngine::Impl {
public:
  explicit Impl(MLIRContext *context) : rewriter(context) {
    rewriter.setListener(&tracker);
  }

  FailureOr<Operation *> apply(const Strategy &strategy, Operation *point,
                               const Environment &env) {
    using K = Strategy::Kind;
    switch (strategy.kind) {
    case K::Id:
      return point;
    case K::Fail:
      return failure();
    case K::Seq: {
      FailureOr<Operation *> first = apply(*strategy.operands[0], point, env);
      if (failed(first))
        return failure();
      return apply(*strategy.operands[1], *first, env);
    }
    case K::Choice: {
      FailureOr<Operation *> first = apply(*strategy.operands[0], point, env);
      if (succeeded(first))
        return first;
      return apply(*strategy.operands[1], point, env);
    }
    case K::All:
    case K::One:
    case K::Some:
      return applyToChildren(strategy, point, env);
    case K::Not: {
      if (succeeded(apply(*strategy.operands[0], point, env)))
        return failure();
      return point;
    }
    case K::If: {
      bool holds = succeeded(apply(*strategy.operands[0], point, env));
      return apply(*strategy.operands[holds ? 1 : 2], point, env);
    }
    case K::Rule:
      return applyRule(*strategy.rule, point);
    case K::Param: {
      const Closure &closure = (*env)[strategy.param];
      return apply(*closure.strategy, point, closure.environment);
    }
    case K::Call: {
      auto args = std::make_shared<std::vector<Closure>>();
      for (const StrategyRef &operand : strategy.operands)
        args->push_back({operand.get(), env});
      const Definition &definition = *strategy.definition;
      if (definition.prelude && definition.name == "repeat") {
        // try(s ; repeat(s)), as a loop.
        const Closure &s = args->front();
        for (;;) {
          FailureOr<Operation *> next =
              apply(*s.strategy, point, s.environment);
          if (failed(next))
            return point;
          point = *next;
        }
      }
      return apply(*definition.body, point, args);
    }
    }
    llvm_unreachable("unknown strategy kind");
  }

  llvm::StringMap<unsigned> statistics;

private:
  FailureOr<Operation *> applyRule(const Rule &rule, Operation *point) {
    if (!point)
      return failure();
    tracker.replacements.clear();
    rewriter.setInsertionPoint(point);
    if (failed(rule.apply(point, rewriter)))
      return failure();
    if (!rule.isPredicate())
      ++statistics[rule.getName()];
    if (!tracker.erased.contains(point))
      return point;
    return tracker.replacements.lookup(point);
  }

  /// all / one / some over the operations directly in the point's regions.
  FailureOr<Operation *> applyToChildren(const Strategy &strategy,
                                         Operation *point,
                                         const Environment &env) {
    using K = Strategy::Kind;
    if (!point) {
      if (strategy.kind == K::All)
        return point;
      return failure();
    }
    SmallVector<Operation *> children;
    for (Region &region : point->getRegions())
      for (Block &block : region)
        for (Operation &op : block)
          children.push_back(&op);
    bool any = false;
    for (Operation *child : children) {
      if (tracker.erased.contains(child))
        continue;
      bool ok = succeeded(apply(*strategy.operands[0], child, env));
      if (strategy.kind == K::All && !ok)
        return failure();
      if (strategy.kind == K::One && ok)
        return point;
      any |= ok;
    }
    if (strategy.kind == K::All || any)
      return point;
    return failure();
  }

  Tracker tracker;
  PatternRewriter rewriter;
};

StrategyEngine::StrategyEngine(MLIRContext *context)
    : impl(std::make_unique<Impl>(context)) {}
StrategyEngine::~StrategyEngine() = default;

LogicalResult StrategyEngine::verify(const Strategy &strategy,
                                     std::string &error) {
  EffectAnalysis analysis;
  analysis.analyze(strategy, {});
  error = analysis.getError();
  return success(error.empty());
}

FailureOr<Operation *> StrategyEngine::apply(const Strategy &strategy,
                                             Operation *point) {
  std::string error;
  if (failed(verify(strategy, error)))
    return emitError(point->getLoc(), "invalid strategy: ") << error;
  return impl->apply(strategy, point, std::make_shared<std::vector<Closure>>());
}

const llvm::StringMap<unsigned> &StrategyEngine::getStatistics() const {
  return impl->statistics;
}
