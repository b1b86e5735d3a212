//===- Strategy.cpp - The strategy text language --------------------------===//
//
// Part of Leibniz.
//
// strategy   ::= sequence ('<+' strategy)?
// sequence   ::= primary (';' sequence)?
// primary    ::= name ('(' strategy (',' strategy)* ')')? | '(' strategy ')'
// definition ::= name ('(' name (',' name)* ')')? '=' strategy
//
// `;` binds tighter than `<+` (as in Stratego); both associate to the
// right. A name is a parameter, a core combinator (id, fail, all, one,
// some, not, if), a definition, or a rule, in that order.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Rewrite/Strategy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace leibniz::rewrite;

namespace {

/// The core combinators and their arities.
std::optional<std::pair<Strategy::Kind, unsigned>> getCore(StringRef name) {
  using K = Strategy::Kind;
  return llvm::StringSwitch<std::optional<std::pair<K, unsigned>>>(name)
      .Case("id", std::make_pair(K::Id, 0u))
      .Case("fail", std::make_pair(K::Fail, 0u))
      .Case("all", std::make_pair(K::All, 1u))
      .Case("one", std::make_pair(K::One, 1u))
      .Case("some", std::make_pair(K::Some, 1u))
      .Case("not", std::make_pair(K::Not, 1u))
      .Case("if", std::make_pair(K::If, 3u))
      .Default(std::nullopt);
}

bool isNameStart(char c) { return llvm::isAlpha(c) || c == '_'; }
bool isNameChar(char c) { return llvm::isAlnum(c) || c == '_' || c == '-'; }

class Parser {
public:
  Parser(StringRef text, const RuleSet &rules,
         const llvm::StringMap<Definition *> &definitions,
         ArrayRef<std::string> params, StrategyError &error)
      : text(text), rules(rules), definitions(definitions), params(params),
        error(error) {}

  FailureOr<StrategyRef> parseAll() {
    FailureOr<StrategyRef> result = parseStrategy();
    if (failed(result))
      return failure();
    skipSpace();
    if (pos != text.size())
      return fail("expected ';', '<+' or the end of the strategy");
    return result;
  }

  /// `name`, `name(p, q)`, then '='; leaves the position after '='.
  LogicalResult parseHead(std::string &name, std::vector<std::string> &names) {
    skipSpace();
    if (failed(parseName(name)))
      return failure();
    skipSpace();
    if (consume('(')) {
      do {
        skipSpace();
        std::string param;
        size_t start = pos;
        if (failed(parseName(param)))
          return failure();
        if (llvm::is_contained(names, param)) {
          pos = start;
          return fail("parameter '" + param + "' is declared twice");
        }
        names.push_back(param);
        skipSpace();
      } while (consume(','));
      if (!consume(')'))
        return fail("expected ',' or ')' after a parameter");
      skipSpace();
    }
    if (!consume('='))
      return fail("expected '=' after the name of the definition");
    return success();
  }

  size_t getPosition() const { return pos; }
  void setParams(ArrayRef<std::string> names) { params = names; }

private:
  /// The deepest nesting of choices, sequences, calls and parentheses that
  /// the parser (and the engine, which recurses over the strategy) takes.
  static constexpr unsigned kMaxDepth = 1000;

  /// Counts a level of nesting for as long as it lives.
  struct Nesting {
    explicit Nesting(unsigned &depth) : depth(++depth) {}
    ~Nesting() { --depth; }
    unsigned &depth;
  };

  FailureOr<StrategyRef> parseStrategy() {
    Nesting nesting(depth);
    if (failed(checkDepth()))
      return failure();
    FailureOr<StrategyRef> lhs = parseSequence();
    if (failed(lhs))
      return failure();
    skipSpace();
    if (!text.substr(pos).starts_with("<+"))
      return lhs;
    pos += 2;
    FailureOr<StrategyRef> rhs = parseStrategy();
    if (failed(rhs))
      return failure();
    return make(Strategy::Kind::Choice, {*lhs, *rhs});
  }

  FailureOr<StrategyRef> parseSequence() {
    Nesting nesting(depth);
    if (failed(checkDepth()))
      return failure();
    FailureOr<StrategyRef> lhs = parsePrimary();
    if (failed(lhs))
      return failure();
    skipSpace();
    if (!consume(';'))
      return lhs;
    FailureOr<StrategyRef> rhs = parseSequence();
    if (failed(rhs))
      return failure();
    return make(Strategy::Kind::Seq, {*lhs, *rhs});
  }

  FailureOr<StrategyRef> parsePrimary() {
    skipSpace();
    if (consume('(')) {
      FailureOr<StrategyRef> inner = parseStrategy();
      if (failed(inner))
        return failure();
      skipSpace();
      if (!consume(')'))
        return fail("expected ')'");
      return inner;
    }
    size_t start = pos;
    std::string name;
    if (failed(parseName(name)))
      return failure();
    // An unknown name is reported before its arguments are parsed.
    if (llvm::find(params, name) == params.end() && !getCore(name) &&
        !definitions.lookup(name) && !rules.lookup(name)) {
      pos = start;
      return fail("unknown rule or strategy '" + name + "'");
    }
    // Arguments.
    std::vector<StrategyRef> args;
    skipSpace();
    bool hasArgs = consume('(');
    if (hasArgs) {
      do {
        FailureOr<StrategyRef> arg = parseStrategy();
        if (failed(arg))
          return failure();
        args.push_back(*arg);
        skipSpace();
      } while (consume(','));
      if (!consume(')'))
        return fail("expected ',' or ')' after an argument");
    }
    auto arity = [&](unsigned expected) -> LogicalResult {
      if (args.size() == expected)
        return success();
      pos = start;
      return fail("'" + name + "' takes " + std::to_string(expected) +
                  " argument" + (expected == 1 ? "" : "s") + ", not " +
                  std::to_string(args.size()));
    };

    if (const auto *param = llvm::find(params, name); param != params.end()) {
      if (failed(arity(0)))
        return failure();
      auto node = std::make_shared<Strategy>();
      node->kind = Strategy::Kind::Param;
      node->param = param - params.begin();
      return StrategyRef(node);
    }
    if (auto core = getCore(name)) {
      if (failed(arity(core->second)))
        return failure();
      return make(core->first, args);
    }
    if (Definition *definition = definitions.lookup(name)) {
      if (failed(arity(definition->params.size())))
        return failure();
      auto node = std::make_shared<Strategy>();
      node->kind = Strategy::Kind::Call;
      node->definition = definition;
      node->operands = std::move(args);
      return StrategyRef(node);
    }
    if (const Rule *rule = rules.lookup(name)) {
      if (failed(arity(0)))
        return failure();
      auto node = std::make_shared<Strategy>();
      node->kind = Strategy::Kind::Rule;
      node->rule = rule;
      return StrategyRef(node);
    }
    llvm_unreachable("the name was looked up above");
  }

  LogicalResult parseName(std::string &name) {
    if (pos >= text.size() || !isNameStart(text[pos]))
      return fail(pos >= text.size() ? "expected a strategy, got the end"
                                     : "expected a name");
    size_t start = pos;
    while (pos < text.size() && isNameChar(text[pos]))
      ++pos;
    name = text.slice(start, pos).str();
    return success();
  }

  LogicalResult checkDepth() {
    if (depth <= kMaxDepth)
      return success();
    return fail("the strategy nests deeper than " + std::to_string(kMaxDepth) +
                " levels of choices, sequences, calls and parentheses");
  }

  StrategyRef make(Strategy::Kind kind, std::vector<StrategyRef> operands) {
    auto node = std::make_shared<Strategy>();
    node->kind = kind;
    node->operands = std::move(operands);
    return node;
  }

  void skipSpace() {
    while (pos < text.size() && llvm::isSpace(text[pos]))
      ++pos;
  }

  bool consume(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  LogicalResult fail(const std::string &message) {
    error.message = message;
    error.column = pos + 1;
    return failure();
  }

  StringRef text;
  const RuleSet &rules;
  const llvm::StringMap<Definition *> &definitions;
  ArrayRef<std::string> params;
  StrategyError &error;
  size_t pos = 0;
  unsigned depth = 0;
};

/// The prelude: everything beyond the core, in the text language.
const char *const kPrelude[] = {
    "try(s) = s <+ id",
    "repeat(s) = try(s ; repeat(s))",
    "topDown(s) = s <+ one(topDown(s))",
    "bottomUp(s) = one(bottomUp(s)) <+ s",
    "allTopDown(s) = s ; all(allTopDown(s))",
    "allBottomUp(s) = all(allBottomUp(s)) ; s",
    "tryAll(s) = all(tryAll(try(s))) ; try(s)",
    "normalize(s) = repeat(topDown(s))",
    "outermost(p, s) = topDown(p ; s)",
    "innermost(p, s) = bottomUp(p ; s)",
    "contains(p) = topDown(p)",
};

/// The named strategies of the pipelines.
///
/// fwd-ad-opt optimizes forward-mode derivatives (docs/ad.md): first the
/// derivatives are inlined and split from the primal computation, which
/// floats out of the traversals over directions; then the one-hot seeds
/// are fused into their reads, pushed through arithmetic into their
/// conditionals, and collapsed by the ring rules and sum-onehot.
///
/// rev-ad-opt optimizes reverse-mode derivatives: the derivatives are
/// inlined and the primal computation shared; then the accumulations of
/// cotangents merge across nested scopes and become traversals where their
/// indices are the scope's variables, zero cotangents vanish by the ring
/// rules, and what each copy of a reversed body does not need is removed;
/// once the loops' bodies are simplified, their scalar sum states become
/// partial sums, and the traversals fuse.
const char *const kNamed[] = {
    "cleanup = normalize(tuple-proj <+ fuse-for-get <+ for-size <+ add-zero "
    "<+ mul-one <+ mul-zero-int <+ sum-onehot <+ if-constant <+ cse <+ "
    "hoist-invariant <+ loop-dead-state <+ dce)",
    "fwd-ad-split = normalize(inline-call <+ tuple-proj <+ for-size <+ "
    "for-fission <+ cse <+ dce <+ hoist-invariant)",
    "fwd-ad-onehot = normalize(fuse-cheap-for-get <+ matmul-to-scopes <+ "
    "tuple-proj <+ for-size <+ if-constant <+ if-same-condition <+ "
    "if-equal-branches <+ mul-one <+ mul-zero-int <+ mul-zero-real <+ "
    "add-zero <+ add-zero-real <+ add-neg <+ mul-neg <+ push-into-if <+ "
    "sum-onehot <+ "
    "sum-zero <+ sum-onehot-split <+ sum-factor <+ sink-into-if <+ cse <+ "
    "hoist-invariant <+ for-fission <+ "
    "loop-dead-state <+ dce)",
    "fwd-ad-opt = fwd-ad-split ; fwd-ad-onehot",
    "rev-ad-split = normalize(inline-call <+ tuple-proj <+ for-size <+ "
    "dim-equal <+ cse <+ dce <+ hoist-invariant)",
    "rev-ad-fuse = normalize(fuse-local-for-get <+ for-identity <+ "
    "accumulate-to-for <+ sum-accumulate <+ accumulate-sum-read <+ "
    "accumulate-matmul-rows <+ accumulate-outer-products <+ "
    "for-sum-products <+ "
    "tuple-proj <+ for-size <+ "
    "if-constant <+ if-equal-branches <+ mul-one <+ mul-zero-int <+ "
    "mul-zero-real <+ add-zero <+ add-zero-real <+ add-neg <+ sum-onehot <+ "
    "sum-zero <+ cse <+ hoist-invariant <+ loop-dead-state <+ "
    "dce) ; "
    "normalize(loop-sum-state <+ for-fusion <+ cse <+ dce) ; "
    "normalize(nested-for-fusion <+ for-flatten <+ cse <+ dce) ; "
    "normalize(tabulate-shared-sum <+ reuse-for-element <+ cse <+ dce) ; "
    "normalize(add-neg <+ mul-neg <+ cse <+ dce) ; "
    "normalize(accumulate-inner-sum <+ cse <+ dce)",
    "rev-ad-opt = rev-ad-split ; rev-ad-fuse",
};

} // namespace

StrategyLibrary::StrategyLibrary(const RuleSet &rules) : rules(rules) {}
StrategyLibrary::~StrategyLibrary() = default;

FailureOr<StrategyRef> StrategyLibrary::parse(StringRef text,
                                              StrategyError &error) const {
  Parser parser(text, rules, byName, {}, error);
  return parser.parseAll();
}

LogicalResult StrategyLibrary::define(StringRef text, bool prelude,
                                      StrategyError &error) {
  auto definition = std::make_unique<Definition>();
  Parser head(text, rules, byName, {}, error);
  if (failed(head.parseHead(definition->name, definition->params)))
    return failure();
  if (byName.count(definition->name) || getCore(definition->name) ||
      rules.lookup(definition->name)) {
    error.message = "'" + definition->name + "' is already defined";
    error.column = 1;
    return failure();
  }
  definition->text = text.str();
  definition->prelude = prelude;
  // Registered before its body is parsed, so that it may recurse.
  Definition *raw = definition.get();
  byName[raw->name] = raw;
  size_t bodyStart = head.getPosition();
  Parser body(text.substr(bodyStart), rules, byName, raw->params, error);
  FailureOr<StrategyRef> parsed = body.parseAll();
  if (failed(parsed)) {
    byName.erase(raw->name);
    error.column += bodyStart;
    return failure();
  }
  raw->body = *parsed;
  definitions.push_back(std::move(definition));
  return success();
}

const Definition *StrategyLibrary::lookup(StringRef name) const {
  return byName.lookup(name);
}

const StrategyLibrary &StrategyLibrary::getLz() {
  static const StrategyLibrary library = [] {
    StrategyLibrary lib(getLzRules());
    StrategyError error;
    for (const char *text : kPrelude)
      if (failed(lib.define(text, /*prelude=*/true, error)))
        llvm::report_fatal_error("malformed prelude definition");
    for (const char *text : kNamed)
      if (failed(lib.define(text, /*prelude=*/false, error)))
        llvm::report_fatal_error("malformed named strategy");
    return lib;
  }();
  return library;
}

std::string leibniz::rewrite::printStrategy(const Strategy &strategy,
                                            ArrayRef<std::string> params) {
  using K = Strategy::Kind;
  auto operand = [&](unsigned i) {
    return printStrategy(*strategy.operands[i], params);
  };
  auto call = [&](StringRef name) {
    std::string text = name.str() + "(";
    for (unsigned i = 0; i < strategy.operands.size(); ++i)
      text += (i ? ", " : "") + operand(i);
    return text + ")";
  };
  switch (strategy.kind) {
  case K::Id:
    return "id";
  case K::Fail:
    return "fail";
  case K::Seq:
  case K::Choice: {
    // Parenthesize a choice inside a sequence, and a left operand of the
    // same kind (both associate to the right).
    auto side = [&](unsigned i) {
      const Strategy &child = *strategy.operands[i];
      bool paren = (strategy.kind == K::Seq && child.kind == K::Choice) ||
                   (i == 0 && child.kind == strategy.kind);
      std::string text = operand(i);
      return paren ? "(" + text + ")" : text;
    };
    return side(0) + (strategy.kind == K::Seq ? " ; " : " <+ ") + side(1);
  }
  case K::All:
    return call("all");
  case K::One:
    return call("one");
  case K::Some:
    return call("some");
  case K::Not:
    return call("not");
  case K::If:
    return call("if");
  case K::Rule:
    return strategy.rule->getName().str();
  case K::Call:
    if (strategy.operands.empty())
      return strategy.definition->name;
    return call(strategy.definition->name);
  case K::Param:
    return strategy.param < params.size()
               ? params[strategy.param]
               : "$" + std::to_string(strategy.param);
  }
  llvm_unreachable("unknown strategy kind");
}
