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
#include "llvm/ADT/SetVector.h"

#include <functional>
#include <map>
#include <set>

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

/// Records what happens to operations while a rule rewrites and, for the
/// worklist of `normalize`, the operations whose rules may now apply
/// differently: new and modified operations, the users of replaced
/// results, the producers of the operands of new, replaced and erased
/// operations (which may have become dead, or gained a use), the one user
/// left of an erased operation's operand, the producers of replacement
/// values, and the other users of a moved operation's operands (which it
/// may now dominate).
struct Tracker : public RewriterBase::Listener {
  void notifyOperationInserted(Operation *op,
                               OpBuilder::InsertPoint previous) override {
    erased.erase(op);
    if (!affected)
      return;
    affected->insert(op);
    // The producers of its operands have a new user; a moved operation may
    // now dominate operations equal to it, which use the same operands.
    for (Value operand : op->getOperands()) {
      if (Operation *def = operand.getDefiningOp())
        affected->insert(def);
      if (previous.isSet())
        for (Operation *user : operand.getUsers())
          affected->insert(user);
    }
    // A moved operation: where it was, its enclosing operation changed,
    // and the worklist's order is no longer valid.
    if (previous.isSet()) {
      moved = true;
      if (Operation *parent = previous.getBlock()->getParentOp())
        affected->insert(parent);
    }
  }
  void notifyBlockInserted(Block *block, Region *previous,
                           Region::iterator) override {
    // A moved block moves its operations.
    if (previous)
      moved = true;
    if (affected && block->getParentOp())
      affected->insert(block->getParentOp());
  }
  void notifyOperationModified(Operation *op) override {
    if (affected)
      affected->insert(op);
  }
  void notifyOperationReplaced(Operation *op, ValueRange values) override {
    Operation *replacement = nullptr;
    for (Value value : values)
      if (Operation *def = value.getDefiningOp()) {
        replacement = def;
        break;
      }
    for (Watch *watch : watches)
      if (watch->op == op)
        watch->op = replacement;
    if (affected) {
      for (Operation *user : op->getUsers())
        affected->insert(user);
      for (Value value : values)
        if (Operation *def = value.getDefiningOp())
          affected->insert(def);
    }
  }
  void notifyOperationErased(Operation *op) override {
    erased.insert(op);
    for (Watch *watch : watches)
      if (watch->op == op)
        watch->op = nullptr;
    for (llvm::DenseSet<Operation *> *set : liveSets)
      set->erase(op);
    if (!affected)
      return;
    affected->remove(op);
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (!def)
        continue;
      affected->insert(def);
      // A value left with one use: rules at that user may depend on it
      // (a negation or a conditional used only there).
      Operation *only = nullptr;
      unsigned others = 0;
      for (Operation *user : operand.getUsers()) {
        if (user == op)
          continue;
        only = user;
        if (++others > 1)
          break;
      }
      if (others == 1)
        affected->insert(only);
    }
    if (onErase)
      onErase(op);
  }

  /// What became of an operation: itself, the operation defining the first
  /// value that replaced it, or null once erased. Unlike `erased`, this is
  /// not confused by a new operation at the address of an erased one.
  struct Watch {
    Watch(Tracker &tracker, Operation *op) : tracker(tracker), op(op) {
      tracker.watches.push_back(this);
    }
    ~Watch() { llvm::erase(tracker.watches, this); }
    Tracker &tracker;
    Operation *op;
  };

  /// A set of operations from which erased ones are removed, while this
  /// lives.
  struct LiveSet {
    LiveSet(Tracker &tracker, llvm::DenseSet<Operation *> &set)
        : tracker(tracker) {
      tracker.liveSets.push_back(&set);
    }
    ~LiveSet() { tracker.liveSets.pop_back(); }
    Tracker &tracker;
  };

  llvm::DenseSet<Operation *> erased;
  SmallVector<Watch *> watches;
  SmallVector<llvm::DenseSet<Operation *> *> liveSets;
  llvm::SetVector<Operation *> *affected = nullptr;
  std::function<void(Operation *)> onErase;
  /// Whether an operation moved since this was last reset.
  bool moved = false;
};

/// Whether `a` comes before `b` in pre-order.
bool precedes(Operation *a, Operation *b) {
  if (a == b)
    return false;
  // The paths from the outermost ancestor down to each.
  auto path = [](Operation *op) {
    SmallVector<Operation *> ops;
    for (; op; op = op->getParentOp())
      ops.push_back(op);
    std::reverse(ops.begin(), ops.end());
    return ops;
  };
  SmallVector<Operation *> pa = path(a), pb = path(b);
  size_t i = 0;
  while (i < pa.size() && i < pb.size() && pa[i] == pb[i])
    ++i;
  if (i == pa.size())
    return true; // `a` encloses `b`.
  if (i == pb.size())
    return false;
  Operation *x = pa[i], *y = pb[i];
  // Operations in different trees (one not inserted yet): a fixed order.
  if (i == 0)
    return std::less<Operation *>()(x, y);
  if (x->getBlock() == y->getBlock())
    return x->isBeforeInBlock(y);
  if (x->getParentRegion() != y->getParentRegion())
    return x->getParentRegion()->getRegionNumber() <
           y->getParentRegion()->getRegionNumber();
  for (Block &block : *x->getParentRegion()) {
    if (&block == x->getBlock())
      return true;
    if (&block == y->getBlock())
      return false;
  }
  llvm_unreachable("blocks of a region not found in it");
}

struct PreOrder {
  bool operator()(Operation *a, Operation *b) const { return precedes(a, b); }
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
    // After an error (past the limit on rewrites, a `repeat` that would not
    // terminate), everything fails: the error is reported.
    if (stopped)
      return failure();
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
      if (definition.prelude && definition.name == "normalize" && !reference) {
        SmallVector<const Rule *> rules;
        if (collectRules(args->front(), rules))
          return normalize(rules, point);
      }
      if (definition.prelude && definition.name == "repeat") {
        // try(s ; repeat(s)), as a loop.
        const Closure &s = args->front();
        for (;;) {
          uint64_t before = changes;
          FailureOr<Operation *> next =
              apply(*s.strategy, point, s.environment);
          if (stopped)
            return failure();
          if (failed(next))
            return point;
          if (changes == before) {
            // ELEVATE's repeat(s) diverges here; report it instead.
            reportError(point, "'repeat' would not terminate: its strategy "
                               "succeeded without changing the program");
            return failure();
          }
          point = *next;
        }
      }
      return apply(*definition.body, point, args);
    }
    }
    llvm_unreachable("unknown strategy kind");
  }

  llvm::StringMap<unsigned> statistics;
  /// Whether `normalize` runs as defined instead of with the worklist.
  bool reference = false;
  bool errorReported = false;
  /// The most rewrites one application may make (0: no limit), the
  /// rewrites of the current application, and whether it made too many.
  uint64_t maxRewrites = 0;
  uint64_t rewrites = 0;
  bool stopped = false;

private:
  /// Reports an error at `point` and stops the application: everything
  /// fails from here on, so that the error is reported once.
  void reportError(Operation *point, const Twine &message) {
    errorReported = true;
    stopped = true;
    emitError(point ? point->getLoc() : UnknownLoc::get(rewriter.getContext()),
              message);
  }

  /// The rules of a left choice of rules (r1 <+ r2 <+ ...), through
  /// parameters; false for any other strategy.
  bool collectRules(const Closure &closure,
                    SmallVectorImpl<const Rule *> &rules) {
    const Strategy &strategy = *closure.strategy;
    switch (strategy.kind) {
    case Strategy::Kind::Rule:
      if (strategy.rule->isPredicate())
        return false;
      rules.push_back(strategy.rule);
      return true;
    case Strategy::Kind::Choice:
      return collectRules({strategy.operands[0].get(), closure.environment},
                          rules) &&
             collectRules({strategy.operands[1].get(), closure.environment},
                          rules);
    case Strategy::Kind::Param:
      return collectRules((*closure.environment)[strategy.param], rules);
    default:
      return false;
    }
  }

  /// normalize(r1 <+ r2 <+ ...) with a worklist: the rules apply at the
  /// first operation in pre-order where one applies, the first that applies
  /// there, until none applies anywhere, exactly as the definition
  /// (repeat(topDown(...)), restarting from the point) does. Only the
  /// operations that a rewrite may have affected are tried again.
  FailureOr<Operation *> normalize(ArrayRef<const Rule *> rules,
                                   Operation *point) {
    if (!point)
      return point;
    std::set<Operation *, PreOrder> candidates;
    auto addAll = [&](Operation *root) {
      root->walk<WalkOrder::PreOrder>(
          [&](Operation *op) { candidates.insert(op); });
    };
    addAll(point);
    // A rule may replace or erase the point itself; normalize then goes on
    // at its replacement, as repeat(topDown(...)) does.
    Tracker::Watch watch(tracker, point);
    llvm::SetVector<Operation *> affected;
    tracker.affected = &affected;
    // While the order is valid, erased operations leave the worklist as
    // they go; after a move, it is rebuilt once the rule is done.
    tracker.onErase = [&](Operation *op) {
      if (!tracker.moved)
        candidates.erase(op);
    };
    while (!candidates.empty() && !stopped) {
      Operation *op = *candidates.begin();
      bool fired = false;
      for (const Rule *rule : rules) {
        affected.clear();
        tracker.moved = false;
        if (succeeded(applyRule(*rule, op))) {
          fired = true;
          break;
        }
      }
      if (!fired) {
        candidates.erase(candidates.begin());
        continue;
      }
      if (watch.op != point) {
        point = watch.op;
        candidates.clear();
        tracker.moved = false;
        if (!point)
          break;
        addAll(point);
        continue;
      }
      if (tracker.moved) {
        // Erased operations are gone; moved ones may have left the point.
        std::vector<Operation *> kept;
        for (Operation *candidate : candidates)
          if (!tracker.erased.contains(candidate) &&
              point->isAncestor(candidate))
            kept.push_back(candidate);
        candidates.clear();
        candidates.insert(kept.begin(), kept.end());
        tracker.moved = false;
      }
      for (Operation *changed : affected) {
        // Operations outside the point are not normalize's to rewrite.
        if (tracker.erased.contains(changed) || !point->isAncestor(changed))
          continue;
        // Rules at an enclosing operation may depend on what it holds
        // (whether it is dead).
        for (Operation *op = changed; op != point; op = op->getParentOp())
          candidates.insert(op);
        candidates.insert(point);
      }
    }
    tracker.affected = nullptr;
    tracker.onErase = nullptr;
    return point;
  }

  FailureOr<Operation *> applyRule(const Rule &rule, Operation *point) {
    if (!point)
      return failure();
    rewriter.setInsertionPoint(point);
    // The rule may erase the point: its location is kept for the error.
    Location loc = point->getLoc();
    Tracker::Watch watch(tracker, point);
    if (failed(rule.apply(point, rewriter)))
      return failure();
    if (!rule.isPredicate()) {
      ++statistics[rule.getName()];
      ++changes;
      if (maxRewrites && ++rewrites > maxRewrites) {
        stopped = true;
        errorReported = true;
        emitError(loc, "the strategy made more than " + Twine(maxRewrites) +
                           " rewrites (--max-rewrites); its rules may "
                           "rewrite each other's results forever");
      }
    }
    return watch.op;
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
    // The children not erased yet: a new operation at an erased one's
    // address is not one of them.
    llvm::DenseSet<Operation *> live(children.begin(), children.end());
    Tracker::LiveSet registration(tracker, live);
    bool any = false;
    for (Operation *child : children) {
      if (!live.contains(child))
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
  /// The number of rewrites so far.
  uint64_t changes = 0;
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
  // The limit on rewrites is per application.
  impl->rewrites = 0;
  impl->stopped = false;
  return impl->apply(strategy, point, std::make_shared<std::vector<Closure>>());
}

void StrategyEngine::setReferenceNormalize(bool reference) {
  impl->reference = reference;
}

bool StrategyEngine::hasReportedError() const { return impl->errorReported; }

void StrategyEngine::setMaxRewrites(uint64_t limit) {
  impl->maxRewrites = limit;
}

const llvm::StringMap<unsigned> &StrategyEngine::getStatistics() const {
  return impl->statistics;
}
