//===- FromLz.cpp - lz scopes as tensor expressions -----------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Search/FromLz.h"

#include "Lz/LzOps.h"

#include "leibniz/Search/Derivation.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

#include <numeric>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::search;

namespace {

class Converter {
public:
  Converter(Context &context, Program &program)
      : context(context), program(program) {}

  LogicalResult convertFunction(func::FuncOp func, ArrayRef<std::string> names);

private:
  /// An integer value as an affine index, or an error at `loc`.
  FailureOr<Affine> getIndex(Value value, Location loc);
  FailureOr<int64_t> getConstant(Value value, Location loc);
  FailureOr<const Node *> getNode(Value value, Location loc);
  LogicalResult convertOp(Operation *op);
  /// A stage for `scope` (lz.for or lz.sum) whose points are also those of
  /// `outer`, the traversal iterators of the enclosing traversal.
  FailureOr<unsigned> convertScope(Operation *scope, ArrayRef<unsigned> outer);
  std::string getIteratorName(bool traversal);

  Context &context;
  Program &program;
  /// `if guard then e else 0.0`, where the guard is the bounds of reads
  /// that are factors of `e`: `e`, those reads 0 outside their tensors.
  LogicalResult convertConditional(scf::IfOp ifOp);
  /// Converts the operations of `scope` that compute `value`.
  LogicalResult convertSlice(Value value, Operation *scope,
                             SmallPtrSetImpl<Operation *> &done);
  /// Solves the congruences `y % c == 0` that guard the summand of the sum
  /// `scope` for its variables: where `y` has a summed iterator over
  /// [0, c) with a coefficient prime to c, one value of it satisfies the
  /// congruence at each point, an affine function of the other iterators.
  /// The iterator is substituted by it in the scope's variables and leaves
  /// `stage`'s summation. A congruence that none satisfies this way, and
  /// that does not always hold, is an error. Returns whether one was
  /// solved.
  FailureOr<bool> solveCongruences(Operation *scope, Stage &stage);
  /// Whether `affine` is at least 0 at every point of the bound iterators.
  bool isNonNegative(const Affine &affine);
  /// The quotient and the remainder of `dividend` by `divisor` (> 0),
  /// rounded down, where both are affine over the bound iterators' ranges;
  /// with `truncating` (the language's `/` and `%`), the dividend must be
  /// at least 0, where truncating and rounding down agree, or a multiple
  /// of the divisor, which both divide exactly.
  FailureOr<std::pair<Affine, Affine>> divide(const Affine &dividend,
                                              int64_t divisor, bool truncating,
                                              Location loc);
  /// The same, rounded down, for any sign; none where they are not both
  /// affine.
  std::optional<std::pair<Affine, Affine>> divideFloor(const Affine &dividend,
                                                       int64_t divisor);
  /// The factor by which the variable `arg` of `scope`, over [0, size),
  /// splits: for the first `/` or `%` by a constant c in the scope, or read
  /// of a split tensor, whose index is affine with a coefficient a of `arg`
  /// such that c / gcd(a, c) is a proper divisor of `size`, that period;
  /// 1 for none.
  int64_t getSplitFactor(Operation *scope, BlockArgument arg, int64_t size);
  /// The tensor of a stage whose traversal is `traversal`, recording the
  /// dimensions that split iterators split.
  unsigned addStageTensor(ArrayRef<unsigned> traversal);

  DenseMap<Value, Affine> indices;
  DenseMap<Value, const Node *> nodes;
  /// A condition: `value` is the conjunction of `e >= 0` for each `e`.
  DenseMap<Value, SmallVector<Affine, 4>> conditions;
  /// The tensor of each scope's result.
  DenseMap<Value, unsigned> tensors;
  /// Iterators split on conversion (`i` as `factor * i1 + i2`, so that
  /// `i / factor` and `i % factor` are affine): the factor, by `i1`, whose
  /// `i2` is the next iterator.
  DenseMap<unsigned, int64_t> splits;
  /// The tensors of stages over split iterators: the factor of each of
  /// the scope's dimensions (1 where it is not split). A split dimension
  /// is two of the tensor's, row-major.
  DenseMap<unsigned, SmallVector<int64_t, 4>> splitDims;
  unsigned numTraversal = 0, numSummation = 0;
};

} // namespace

/// The coefficient of `arg` in `value`, an integer computed by `+`, `-`,
/// `*` by a constant and casts from constants and variables; none where
/// `value` is computed otherwise. `known` caches the values seen.
static std::optional<int64_t>
getCoefficient(Value value, BlockArgument arg,
               DenseMap<Value, std::optional<int64_t>> &known) {
  if (value == arg)
    return 1;
  if (isa<BlockArgument>(value))
    return 0;
  if (auto it = known.find(value); it != known.end())
    return it->second;
  std::optional<int64_t> result;
  Operation *op = value.getDefiningOp();
  APInt constant;
  if (matchPattern(value, m_ConstantInt(&constant))) {
    result = 0;
  } else if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(op)) {
    result = getCoefficient(op->getOperand(0), arg, known);
  } else if (isa<arith::AddIOp, arith::SubIOp>(op)) {
    std::optional<int64_t> a = getCoefficient(op->getOperand(0), arg, known);
    std::optional<int64_t> b = getCoefficient(op->getOperand(1), arg, known);
    if (a && b)
      result = isa<arith::AddIOp>(op) ? *a + *b : *a - *b;
  } else if (isa<arith::MulIOp>(op)) {
    for (unsigned i = 0; i < 2; ++i)
      if (matchPattern(op->getOperand(1 - i), m_ConstantInt(&constant)))
        if (std::optional<int64_t> c =
                getCoefficient(op->getOperand(i), arg, known))
          result = *c * constant.getSExtValue();
  }
  known[value] = result;
  return result;
}

int64_t Converter::getSplitFactor(Operation *scope, BlockArgument arg,
                                  int64_t size) {
  DenseMap<Value, std::optional<int64_t>> known;
  SmallVector<std::pair<Value, int64_t>> divided;
  scope->walk([&](Operation *op) {
    APInt divisor;
    if (isa<arith::DivSIOp, arith::RemSIOp>(op) &&
        matchPattern(op->getOperand(1), m_ConstantInt(&divisor)))
      divided.push_back({op->getOperand(0), divisor.getSExtValue()});
    // A read of a split tensor divides its index too.
    auto get = dyn_cast<lz::GetOp>(op);
    auto tensor = get ? tensors.find(get.getTensor()) : tensors.end();
    if (tensor == tensors.end())
      return;
    auto split = splitDims.find(tensor->second);
    if (split == splitDims.end() ||
        split->second.size() != get.getIndices().size())
      return;
    for (auto [index, factor] : llvm::zip(get.getIndices(), split->second))
      divided.push_back({index, factor});
  });
  // `a * arg` divided by c repeats with the period c / gcd(a, c).
  for (auto [dividend, c] : divided) {
    std::optional<int64_t> a = getCoefficient(dividend, arg, known);
    if (c <= 1 || !a || *a == 0)
      continue;
    int64_t period = c / std::gcd(std::abs(*a), c);
    if (period > 1 && period < size && size % period == 0)
      return period;
  }
  return 1;
}

std::string Converter::getIteratorName(bool traversal) {
  static const char *const kTraversal[] = {"i", "j", "k", "l", "m"};
  static const char *const kSummation[] = {"p", "q", "r", "s", "u", "v"};
  unsigned &count = traversal ? numTraversal : numSummation;
  unsigned n = traversal ? std::size(kTraversal) : std::size(kSummation);
  std::string name = traversal ? kTraversal[count % n] : kSummation[count % n];
  if (count >= n)
    name += std::to_string(count / n);
  ++count;
  return name;
}

FailureOr<Affine> Converter::getIndex(Value value, Location loc) {
  auto it = indices.find(value);
  if (it != indices.end())
    return it->second;
  return emitError(value.getLoc())
         << "the tensor search needs an index affine in the scope variables "
            "here";
}

FailureOr<int64_t> Converter::getConstant(Value value, Location loc) {
  FailureOr<Affine> index = getIndex(value, loc);
  if (failed(index))
    return failure();
  if (!index->isConstant())
    return emitError(loc) << "the tensor search needs constant ranges";
  return index->constant;
}

FailureOr<const Node *> Converter::getNode(Value value, Location loc) {
  auto it = nodes.find(value);
  if (it != nodes.end())
    return it->second;
  return emitError(loc) << "the tensor search does not handle this value "
                           "here (a float scalar computed in a scope is "
                           "needed)";
}

FailureOr<unsigned> Converter::convertScope(Operation *scope,
                                            ArrayRef<unsigned> outer) {
  Location loc = scope->getLoc();
  bool traversal = isa<lz::ForOp>(scope);
  if (scope->getNumResults() != 1)
    return emitError(loc) << "the tensor search needs one result per scope";
  Block &body = scope->getRegion(0).front();
  Stage stage;
  llvm::append_range(stage.traversal, outer);
  for (auto [range, arg] :
       llvm::zip(scope->getOperands(), body.getArguments())) {
    FailureOr<int64_t> size = getConstant(range, loc);
    if (failed(size))
      return failure();
    // Variable splitting: a variable that `/` or `%` divides by a factor of
    // its size becomes two, `factor * i1 + i2`.
    SmallVector<unsigned, 2> its;
    int64_t factor = getSplitFactor(scope, arg, *size);
    if (factor > 1) {
      its.push_back(
          program.addIterator(getIteratorName(traversal), 0, *size / factor));
      its.push_back(program.addIterator(getIteratorName(traversal), 0, factor));
      splits[its[0]] = factor;
      indices[arg] =
          Affine::getIterator(its[0]) * factor + Affine::getIterator(its[1]);
    } else {
      its.push_back(program.addIterator(getIteratorName(traversal), 0, *size));
      indices[arg] = Affine::getIterator(its[0]);
    }
    llvm::append_range(traversal ? stage.traversal : stage.summation, its);
  }
  bool solvedCongruence = false;
  if (!traversal) {
    FailureOr<bool> solved = solveCongruences(scope, stage);
    if (failed(solved))
      return failure();
    solvedCongruence = *solved;
  }
  // The body: nested sums are stages of their own over this one's
  // traversal iterators.
  for (Operation &op : body.without_terminator()) {
    if (isa<lz::SumOp>(op)) {
      if (!traversal)
        return op.emitError("the tensor search does not handle a sum in a "
                            "sum; write one sum over both");
      FailureOr<unsigned> inner = convertScope(&op, stage.traversal);
      if (failed(inner))
        return failure();
      SmallVector<Affine, 4> at;
      for (unsigned it : stage.traversal)
        at.push_back(Affine::getIterator(it));
      nodes[op.getResult(0)] = context.getRead(*inner, at);
      tensors[op.getResult(0)] = *inner;
      continue;
    }
    if (failed(convertOp(&op)))
      return failure();
  }
  Value yielded = body.getTerminator()->getOperand(0);
  if (!isa<FloatType>(yielded.getType()))
    return emitError(loc) << "the tensor search needs scopes that yield "
                             "float scalars";
  // A traversal that yields a sum is that sum's stage.
  if (auto sum = yielded.getDefiningOp<lz::SumOp>();
      sum && sum->getBlock() == &body) {
    unsigned inner = tensors.lookup(sum.getResult());
    tensors[scope->getResult(0)] = inner;
    return inner;
  }
  FailureOr<const Node *> summand = getNode(yielded, loc);
  if (failed(summand))
    return failure();
  // A solved congruence leaves out the points where it fails, at which the
  // summand is 0 only if no factor can be infinite.
  if (solvedCongruence && hasPole(program, *summand))
    return emitError(loc) << "the tensor search solves a congruence that "
                             "guards a summand only if it neither divides "
                             "nor takes a logarithm (0 times infinity is "
                             "NaN)";
  stage.summand = *summand;
  stage.output = addStageTensor(stage.traversal);
  unsigned output = stage.output;
  program.stages.push_back(std::move(stage));
  tensors[scope->getResult(0)] = output;
  return output;
}

unsigned Converter::addStageTensor(ArrayRef<unsigned> traversal) {
  SmallVector<int64_t> shape, factors;
  bool split = false;
  for (auto [position, it] : llvm::enumerate(traversal)) {
    shape.push_back(program.iterators[it].size());
    if (position > 0 && splits.count(traversal[position - 1]))
      continue;
    int64_t factor = splits.lookup(it);
    factors.push_back(factor > 1 ? factor : 1);
    split |= factor > 1;
  }
  std::string name = "t" + std::to_string(program.stages.size() + 1);
  unsigned tensor = program.addTensor(name, shape, program.stages.size());
  if (split)
    splitDims[tensor] = std::move(factors);
  return tensor;
}

FailureOr<std::pair<Affine, Affine>> Converter::divide(const Affine &dividend,
                                                       int64_t divisor,
                                                       bool truncating,
                                                       Location loc) {
  if (divisor <= 0)
    return emitError(loc) << "the tensor search needs '/' and '%' by a "
                             "positive constant";
  if (dividend.isConstant()) {
    int64_t a = dividend.constant;
    int64_t quotient =
        truncating ? a / divisor : llvm::divideFloorSigned(a, divisor);
    return std::make_pair(Affine(quotient), Affine(a - quotient * divisor));
  }
  // A multiple of the divisor divides exactly, whatever its sign.
  bool exact = dividend.constant % divisor == 0 &&
               llvm::all_of(dividend.terms, [&](auto term) {
                 return term.second % divisor == 0;
               });
  if (truncating && !exact && !isNonNegative(dividend))
    return emitError(loc) << "the tensor search needs '/' and '%' of an "
                             "index that is never negative";
  if (dividend.terms.size() > 8)
    return emitError(loc) << "the tensor search handles '/' and '%' of "
                             "indices of 8 variables at most";
  if (std::optional<std::pair<Affine, Affine>> result =
          divideFloor(dividend, divisor))
    return *result;
  return emitError(loc) << "the tensor search needs '/' and '%' whose "
                           "result is affine in the scope variables (a "
                           "variable they divide splits where their period "
                           "divides its range's size)";
}

std::optional<std::pair<Affine, Affine>>
Converter::divideFloor(const Affine &dividend, int64_t divisor) {
  // dividend = divisor * quotient + rest, each coefficient of the rest a
  // remainder of the term's, c mod divisor or that minus the divisor: the
  // first choice of those whose rest lies within one multiple of the
  // divisor and the next, which adds that multiple to the quotient.
  size_t numTerms = dividend.terms.size();
  if (numTerms > 8)
    return std::nullopt;
  for (unsigned choice = 0; choice < (1u << numTerms); ++choice) {
    Affine quotient, rest(dividend.constant);
    for (auto [t, term] : llvm::enumerate(dividend.terms)) {
      auto [it, c] = term;
      int64_t r = c - divisor * llvm::divideFloorSigned(c, divisor);
      if (r != 0 && (choice & (1u << t)))
        r -= divisor;
      quotient = quotient + Affine::getIterator(it) * ((c - r) / divisor);
      rest = rest + Affine::getIterator(it) * r;
    }
    std::optional<std::pair<int64_t, int64_t>> range = program.getRange(rest);
    int64_t offset = range ? llvm::divideFloorSigned(range->first, divisor) : 0;
    if (!range || offset == llvm::divideFloorSigned(range->second, divisor))
      return std::make_pair(quotient + Affine(offset),
                            rest - Affine(offset * divisor));
  }
  return std::nullopt;
}

bool Converter::isNonNegative(const Affine &affine) {
  std::optional<std::pair<int64_t, int64_t>> range = program.getRange(affine);
  return !range || range->first >= 0;
}

/// `e >= 0` as the same condition on integers, its coefficients divided by
/// their greatest common divisor.
static Affine normalizeCondition(const Affine &e) {
  int64_t g = 0;
  for (auto [it, c] : e.terms)
    g = std::gcd(g, std::abs(c));
  if (g <= 1)
    return e;
  Affine result(llvm::divideFloorSigned(e.constant, g));
  for (auto [it, c] : e.terms)
    result.terms.push_back({it, c / g});
  return result;
}

/// The reads that `node` is a multiple of: itself, or those of the factors
/// of a product or of a negation. (Not a quotient's dividend: 0 / 0 is not
/// 0.)
static void collectFactorReads(const Node *node,
                               SmallVectorImpl<const Node *> &reads) {
  switch (node->op) {
  case search::Op::Read:
    reads.push_back(node);
    return;
  case search::Op::Mul:
    for (const Node *operand : node->operands)
      collectFactorReads(operand, reads);
    return;
  case search::Op::Neg:
    collectFactorReads(node->operands[0], reads);
    return;
  default:
    return;
  }
}

/// `if guard then e else 0.0`, where the guard (a conjunction of
/// comparisons) says that reads which are factors of `e` are in bounds, is
/// `e` in the search IR, whose reads are 0 outside their tensors. Conditions
/// that always hold are left out, and a read whose bounds the guard takes
/// must have all of them taken or always true.
LogicalResult Converter::convertConditional(scf::IfOp ifOp) {
  Location loc = ifOp.getLoc();
  auto notPadding = [&]() {
    return ifOp.emitError("the tensor search handles a conditional only as "
                          "reads guarded by their bounds with 0 outside, "
                          "'if in bounds then T[...] * ... else 0.0', or "
                          "as a congruence 'y % c == 0' that fixes a "
                          "summed variable");
  };
  if (ifOp.getNumResults() != 1 || !ifOp.elseBlock() ||
      !ifOp.getResult(0).getType().isF64())
    return notPadding();
  auto guard = conditions.find(ifOp.getCondition());
  if (guard == conditions.end())
    return notPadding();
  for (Block *block : {ifOp.thenBlock(), ifOp.elseBlock()})
    for (Operation &inner : block->without_terminator())
      if (failed(convertOp(&inner)))
        return failure();
  FailureOr<const Node *> value = getNode(ifOp.thenYield().getOperand(0), loc);
  FailureOr<const Node *> zero = getNode(ifOp.elseYield().getOperand(0), loc);
  if (failed(value) || failed(zero))
    return failure();
  if ((*zero)->op != search::Op::Constant || (*zero)->value != 0.0)
    return notPadding();
  if (hasPole(program, *value))
    return ifOp.emitError("the tensor search reads a guarded product as 0 "
                          "where the guard fails only if it neither divides "
                          "nor takes a logarithm (0 times infinity is NaN)");
  SmallVector<Affine, 8> taken;
  for (const Affine &condition : guard->second)
    if (!isNonNegative(condition))
      taken.push_back(normalizeCondition(condition));
  // Each condition taken must be a bound of a factor read; the reads that
  // have one taken must have all of theirs taken or true everywhere.
  SmallVector<const Node *, 4> reads;
  collectFactorReads(*value, reads);
  SmallVector<bool, 8> covered(taken.size(), false);
  for (const Node *read : reads) {
    const Tensor &tensor = program.tensors[read->tensor];
    SmallVector<Affine, 8> bounds;
    for (auto [d, index] : llvm::enumerate(read->indices)) {
      bounds.push_back(index);
      bounds.push_back(Affine(tensor.shape[d] - 1) - index);
    }
    bool guarded = false;
    for (auto [condition, isCovered] : llvm::zip(taken, covered))
      for (const Affine &bound : bounds)
        if (normalizeCondition(bound) == condition)
          guarded = isCovered = true;
    if (!guarded)
      continue;
    for (const Affine &bound : bounds)
      if (!isNonNegative(bound) &&
          !llvm::is_contained(taken, normalizeCondition(bound)))
        return notPadding();
  }
  if (!llvm::all_of(covered, [](bool isCovered) { return isCovered; }))
    return notPadding();
  nodes[ifOp.getResult(0)] = *value;
  return success();
}

/// The conjuncts of `condition`, an `&&` of comparisons.
static void collectConjuncts(Value condition, SmallVectorImpl<Value> &into) {
  if (auto andOp = condition.getDefiningOp<arith::AndIOp>()) {
    collectConjuncts(andOp.getLhs(), into);
    collectConjuncts(andOp.getRhs(), into);
    return;
  }
  into.push_back(condition);
}

/// The conjuncts of the guards that `value`, a summand of `scope`, is 0
/// outside of: those of `if guard then e else 0.0` where `value` is that
/// conditional, or a product (or negation) of factors of which one is, and
/// those of `e`.
static void collectGuards(Value value, Operation *scope,
                          SmallVectorImpl<Value> &into) {
  Operation *op = value.getDefiningOp();
  if (!op || !scope->isProperAncestor(op))
    return;
  if (isa<arith::MulFOp, arith::NegFOp>(op)) {
    for (Value operand : op->getOperands())
      collectGuards(operand, scope, into);
    return;
  }
  auto ifOp = dyn_cast<scf::IfOp>(op);
  if (!ifOp || ifOp.getNumResults() != 1 || !ifOp.elseBlock() ||
      !matchPattern(ifOp.elseYield().getOperand(0), m_AnyZeroFloat()))
    return;
  collectConjuncts(ifOp.getCondition(), into);
  collectGuards(ifOp.thenYield().getOperand(0), scope, into);
}

LogicalResult Converter::convertSlice(Value value, Operation *scope,
                                      SmallPtrSetImpl<Operation *> &done) {
  Operation *op = value.getDefiningOp();
  if (!op || !scope->isProperAncestor(op) || !done.insert(op).second)
    return success();
  for (Value operand : op->getOperands())
    if (failed(convertSlice(operand, scope, done)))
      return failure();
  return convertOp(op);
}

namespace {
/// `y % c == 0` or `c * (y / c) == y`: y a multiple of c > 1.
struct Congruence {
  Value dividend;
  int64_t divisor;
  /// The `%` or `/`.
  Operation *op;
};
} // namespace

/// The congruence that `condition` is, either way round, if any.
static std::optional<Congruence> matchCongruence(Value condition) {
  auto cmp = condition.getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq)
    return std::nullopt;
  auto match = [](Value lhs, Value rhs) -> std::optional<Congruence> {
    APInt divisor;
    // `y % c == 0`.
    if (auto rem = lhs.getDefiningOp<arith::RemSIOp>();
        rem && matchPattern(rhs, m_Zero()) &&
        matchPattern(rem.getRhs(), m_ConstantInt(&divisor)))
      return Congruence{rem.getLhs(), divisor.getSExtValue(), rem};
    // `c * (y / c) == y`, the product either way round.
    auto mul = lhs.getDefiningOp<arith::MulIOp>();
    if (!mul)
      return std::nullopt;
    for (auto [factor, quotient] : {std::pair(mul.getLhs(), mul.getRhs()),
                                    std::pair(mul.getRhs(), mul.getLhs())}) {
      APInt c;
      auto div = quotient.getDefiningOp<arith::DivSIOp>();
      if (div && div.getLhs() == rhs &&
          matchPattern(factor, m_ConstantInt(&c)) &&
          matchPattern(div.getRhs(), m_ConstantInt(&divisor)) && c == divisor)
        return Congruence{rhs, divisor.getSExtValue(), div};
    }
    return std::nullopt;
  };
  std::optional<Congruence> result = match(cmp.getLhs(), cmp.getRhs());
  if (!result)
    result = match(cmp.getRhs(), cmp.getLhs());
  if (!result || result->divisor <= 1)
    return std::nullopt;
  return result;
}

FailureOr<bool> Converter::solveCongruences(Operation *scope, Stage &stage) {
  Block &body = scope->getRegion(0).front();
  SmallVector<Value, 8> guards;
  collectGuards(body.getTerminator()->getOperand(0), scope, guards);
  // The sum's iterators are the last allocated: their names are renamed
  // in order once one leaves.
  unsigned firstName = numSummation - stage.summation.size();
  bool solvedAny = false;
  for (Value guard : guards) {
    std::optional<Congruence> congruence = matchCongruence(guard);
    if (!congruence)
      continue;
    int64_t c = congruence->divisor;
    SmallPtrSet<Operation *, 16> done;
    if (failed(convertSlice(congruence->dividend, scope, done)))
      return failure();
    auto found = indices.find(congruence->dividend);
    if (found == indices.end())
      continue;
    Affine y = found->second;
    if (y.terms.size() > 8)
      return congruence->op->emitError(
          "the tensor search handles '/' and '%' of indices of 8 variables "
          "at most");
    // a * s + rest = 0 (mod c) gives s = -inverse(a) * rest (mod c).
    auto solve = [&](unsigned s) -> std::optional<Affine> {
      int64_t a = y.getCoefficient(s);
      a -= c * llvm::divideFloorSigned(a, c);
      const Iterator &iterator = program.iterators[s];
      if (iterator.lo != 0 || iterator.size() != c || std::gcd(a, c) != 1)
        return std::nullopt;
      int64_t inverse = 1;
      while (a * inverse % c != 1)
        ++inverse;
      std::optional<std::pair<Affine, Affine>> solution =
          divideFloor(y.substitute(s, Affine(0)) * -inverse, c);
      if (!solution)
        return std::nullopt;
      return solution->second;
    };
    std::optional<Affine> value;
    auto *it = llvm::find_if(stage.summation, [&](unsigned s) {
      value = solve(s);
      return value.has_value();
    });
    if (it == stage.summation.end()) {
      // Unless y is a multiple of c everywhere, the guard is a condition
      // the search IR cannot express.
      std::optional<std::pair<Affine, Affine>> exact = divideFloor(y, c);
      if (exact && exact->second == Affine(0))
        continue;
      return congruence->op->emitError(
          "the tensor search needs a congruence 'y % c == 0' to fix a "
          "summed variable: one over [0, c), or split by c, whose "
          "coefficient in y is prime to c and whose value is then affine "
          "in the others");
    }
    unsigned s = *it;
    for (BlockArgument arg : body.getArguments())
      indices[arg] = indices[arg].substitute(s, *value);
    stage.summation.erase(it);
    numSummation = firstName;
    for (unsigned left : stage.summation)
      program.iterators[left].name = getIteratorName(/*traversal=*/false);
    solvedAny = true;
  }
  return solvedAny;
}

LogicalResult Converter::convertOp(Operation *op) {
  Location loc = op->getLoc();
  auto binaryIndex = [&](auto fn) -> LogicalResult {
    FailureOr<Affine> a = getIndex(op->getOperand(0), loc);
    FailureOr<Affine> b = getIndex(op->getOperand(1), loc);
    if (failed(a) || failed(b))
      return failure();
    FailureOr<Affine> result = fn(*a, *b);
    if (failed(result))
      return failure();
    indices[op->getResult(0)] = *result;
    return success();
  };
  auto nodeOp = [&](search::Op kind) -> LogicalResult {
    SmallVector<const Node *, 2> operands;
    for (Value operand : op->getOperands()) {
      FailureOr<const Node *> node = getNode(operand, loc);
      if (failed(node))
        return failure();
      operands.push_back(*node);
    }
    nodes[op->getResult(0)] = context.get(kind, operands);
    return success();
  };
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](arith::ConstantOp constant) -> LogicalResult {
        if (auto attr = dyn_cast<IntegerAttr>(constant.getValue())) {
          indices[constant] = Affine(attr.getValue().getSExtValue());
          return success();
        }
        if (auto attr = dyn_cast<FloatAttr>(constant.getValue())) {
          nodes[constant] = context.getConstant(attr.getValueAsDouble());
          return success();
        }
        return constant.emitError(
            "the tensor search does not handle this constant");
      })
      .Case<arith::IndexCastOp, arith::IndexCastUIOp>(
          [&](Operation *cast) -> LogicalResult {
            FailureOr<Affine> index = getIndex(cast->getOperand(0), loc);
            if (failed(index))
              return failure();
            indices[cast->getResult(0)] = *index;
            return success();
          })
      .Case([&](arith::AddIOp) {
        return binaryIndex(
            [](const Affine &a, const Affine &b) -> FailureOr<Affine> {
              return a + b;
            });
      })
      .Case([&](arith::SubIOp) {
        return binaryIndex(
            [](const Affine &a, const Affine &b) -> FailureOr<Affine> {
              return a - b;
            });
      })
      .Case([&](arith::MulIOp) {
        return binaryIndex(
            [&](const Affine &a, const Affine &b) -> FailureOr<Affine> {
              if (a.isConstant())
                return b * a.constant;
              if (b.isConstant())
                return a * b.constant;
              return emitError(loc) << "the tensor search needs indices "
                                       "affine in the scope variables";
            });
      })
      .Case<arith::DivSIOp, arith::RemSIOp>([&](Operation *) {
        bool quotient = isa<arith::DivSIOp>(op);
        return binaryIndex(
            [&](const Affine &a, const Affine &b) -> FailureOr<Affine> {
              if (!b.isConstant())
                return emitError(loc) << "the tensor search needs '/' and "
                                         "'%' by a constant";
              auto result = divide(a, b.constant, /*truncating=*/true, loc);
              if (failed(result))
                return failure();
              return quotient ? result->first : result->second;
            });
      })
      .Case([&](arith::CmpIOp cmp) -> LogicalResult {
        FailureOr<Affine> a = getIndex(cmp.getLhs(), loc);
        FailureOr<Affine> b = getIndex(cmp.getRhs(), loc);
        if (failed(a) || failed(b))
          return failure();
        // As `e >= 0`.
        using P = arith::CmpIPredicate;
        switch (cmp.getPredicate()) {
        case P::sge:
          conditions[cmp] = {*a - *b};
          return success();
        case P::sgt:
          conditions[cmp] = {*a - *b - Affine(1)};
          return success();
        case P::sle:
          conditions[cmp] = {*b - *a};
          return success();
        case P::slt:
          conditions[cmp] = {*b - *a - Affine(1)};
          return success();
        case P::eq:
          conditions[cmp] = {*a - *b, *b - *a};
          return success();
        default:
          return cmp.emitError("the tensor search handles signed <, <=, >, "
                               ">= and == comparisons of indices only");
        }
      })
      .Case([&](arith::AndIOp andOp) -> LogicalResult {
        auto lhs = conditions.find(andOp.getLhs());
        auto rhs = conditions.find(andOp.getRhs());
        if (lhs == conditions.end() || rhs == conditions.end())
          return andOp.emitError("the tensor search handles '&&' of index "
                                 "comparisons only");
        SmallVector<Affine, 4> both(lhs->second);
        llvm::append_range(both, rhs->second);
        conditions[andOp] = std::move(both);
        return success();
      })
      .Case([&](scf::IfOp ifOp) { return convertConditional(ifOp); })
      .Case([&](tensor::DimOp dim) -> LogicalResult {
        auto type = cast<RankedTensorType>(dim.getSource().getType());
        std::optional<int64_t> d = dim.getConstantIndex();
        if (!d || type.isDynamicDim(*d))
          return dim.emitError("the tensor search needs static sizes");
        indices[dim] = Affine(type.getDimSize(*d));
        return success();
      })
      .Case([&](lz::GetOp get) -> LogicalResult {
        auto it = tensors.find(get.getTensor());
        if (it == tensors.end())
          return get.emitError("the tensor search reads arguments and "
                               "scopes only");
        // A split dimension is read at the quotient and the remainder of
        // its index.
        SmallVector<int64_t, 4> factors(
            program.tensors[it->second].shape.size(), 1);
        if (auto split = splitDims.find(it->second); split != splitDims.end())
          factors = split->second;
        if (get.getIndices().size() != factors.size())
          return get.emitError("the tensor search reads elements only");
        SmallVector<Affine, 4> at;
        for (auto [index, factor] : llvm::zip(get.getIndices(), factors)) {
          FailureOr<Affine> affine = getIndex(index, loc);
          if (failed(affine))
            return failure();
          if (factor == 1) {
            at.push_back(*affine);
            continue;
          }
          auto parts = divide(*affine, factor, /*truncating=*/false, loc);
          if (failed(parts))
            return failure();
          at.push_back(parts->first);
          at.push_back(parts->second);
        }
        nodes[get] = context.getRead(it->second, at);
        return success();
      })
      .Case([&](arith::AddFOp) { return nodeOp(search::Op::Add); })
      .Case([&](arith::SubFOp) { return nodeOp(search::Op::Sub); })
      .Case([&](arith::MulFOp) { return nodeOp(search::Op::Mul); })
      .Case([&](arith::DivFOp) { return nodeOp(search::Op::Div); })
      .Case([&](arith::NegFOp) { return nodeOp(search::Op::Neg); })
      .Case<arith::MaximumFOp, arith::MaxNumFOp>(
          [&](Operation *) { return nodeOp(search::Op::Max); })
      .Case([&](math::ExpOp) { return nodeOp(search::Op::Exp); })
      .Case([&](math::LogOp) { return nodeOp(search::Op::Log); })
      .Case([&](math::TanhOp) { return nodeOp(search::Op::Tanh); })
      .Default([&](Operation *other) {
        return other->emitError("the tensor search does not handle '")
               << other->getName() << "'";
      });
}

LogicalResult Converter::convertFunction(func::FuncOp func,
                                         ArrayRef<std::string> names) {
  Block &entry = func.getBody().front();
  for (BlockArgument arg : entry.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF64())
      return emitError(func.getLoc())
             << "the tensor search needs f64 tensor arguments of static "
                "shape; argument "
             << arg.getArgNumber() << " has type " << arg.getType();
    std::string name = arg.getArgNumber() < names.size()
                           ? names[arg.getArgNumber()]
                           : "in" + std::to_string(arg.getArgNumber());
    tensors[arg] = program.addTensor(name, type.getShape());
  }
  Value last;
  for (Operation &op : entry.without_terminator()) {
    if (isa<lz::ForOp, lz::SumOp>(op)) {
      if (failed(convertScope(&op, {})))
        return failure();
      last = op.getResult(0);
      continue;
    }
    if (failed(convertOp(&op)))
      return failure();
  }
  Operation *terminator = entry.getTerminator();
  if (terminator->getNumOperands() != 1 || !last ||
      terminator->getOperand(0) != last)
    return terminator->emitError("the tensor search needs a function that "
                                 "returns its last scope's value");
  if (tensors.lookup(last) != program.getResult())
    return terminator->emitError("the tensor search needs a function whose "
                                 "last scope computes its result");
  // Where variables split, the result is a row-major view of its tensor.
  if (splitDims.count(program.getResult()))
    program.resultShape.assign(
        cast<RankedTensorType>(last.getType()).getShape().begin(),
        cast<RankedTensorType>(last.getType()).getShape().end());
  std::string problem = program.verify();
  if (!problem.empty())
    return func.emitError("the tensor search built an invalid program: ")
           << problem;
  return success();
}

FailureOr<Program> search::fromFunction(func::FuncOp func, Context &context,
                                        ArrayRef<std::string> names) {
  Program program(context);
  Converter converter(context, program);
  if (failed(converter.convertFunction(func, names)))
    return failure();
  return program;
}

//===----------------------------------------------------------------------===//
// Back to lz
//===----------------------------------------------------------------------===//

/// `value`'s elements, row-major, in `shape`: a collapse to one dimension
/// and an expansion into `shape` (each a reshape, no copy).
static Value reshapeRowMajor(OpBuilder &builder, Location loc, Value value,
                             ArrayRef<int64_t> shape) {
  // A scalar (a result stage without traversal) has no other shape.
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getShape() == shape)
    return value;
  auto all = [](size_t rank) {
    ReassociationIndices group;
    for (size_t d = 0; d < rank; ++d)
      group.push_back(d);
    return SmallVector<ReassociationIndices>{group};
  };
  if (type.getRank() != 1)
    value = tensor::CollapseShapeOp::create(
        builder, loc,
        RankedTensorType::get({type.getNumElements()}, type.getElementType()),
        value, all(type.getRank()));
  if (shape.size() == 1)
    return value;
  return tensor::ExpandShapeOp::create(
      builder, loc, RankedTensorType::get(shape, type.getElementType()), value,
      all(shape.size()));
}

namespace {

class ProgramBuilder {
public:
  ProgramBuilder(OpBuilder &builder, Location loc, const Program &program)
      : b(builder), loc(loc), program(program) {}

  Value buildProgram(ValueRange arguments);

private:
  Value getIndexConstant(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  /// `index` at the builder, with each iterator's value its scope
  /// variable plus its range's start.
  Value buildIndex(const Affine &affine);
  Value buildNode(const Node *node);
  Value buildRead(const Node *node);
  Value buildStage(const Stage &stage);
  Value buildProduct(const Stage &stage);
  RankedTensorType getTensorType(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF64Type());
  }

  /// A stage's tensor kept as the product that computes it: the element
  /// at a stage position is at the product's flattened groups.
  struct ProductLayout {
    Value product;
    /// The stage's traversal positions of each product dimension, in
    /// order (batch first if any).
    SmallVector<SmallVector<unsigned, 4>, 3> dims;
  };
  /// The indices into `tensor`'s product for the stage indices `at`.
  SmallVector<Value> flattenIndices(unsigned tensor, ValueRange at);

  OpBuilder &b;
  Location loc;
  const Program &program;
  DenseMap<unsigned, Value> tensors;
  DenseMap<unsigned, ProductLayout> products;
  /// The value of each iterator in the scope being built.
  DenseMap<unsigned, Value> iterators;
};

} // namespace

Value ProgramBuilder::buildIndex(const Affine &affine) {
  int64_t constant = affine.constant;
  for (auto [it, c] : affine.terms)
    constant += c * program.iterators[it].lo;
  Value result = getIndexConstant(constant);
  for (auto [it, c] : affine.terms) {
    Value term = iterators.lookup(it);
    if (c != 1)
      term = arith::MulIOp::create(b, loc, term, getIndexConstant(c));
    result = arith::AddIOp::create(b, loc, result, term);
  }
  return result;
}

Value ProgramBuilder::buildRead(const Node *node) {
  const Tensor &tensor = program.tensors[node->tensor];
  SmallVector<Value> at;
  Value inside;
  for (auto [d, affine] : llvm::enumerate(node->indices)) {
    Value i = buildIndex(affine);
    at.push_back(i);
    if (program.isWithin(affine, tensor.shape[d]))
      continue;
    Value lower = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, i,
                                        getIndexConstant(0));
    Value upper = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, i,
                                        getIndexConstant(tensor.shape[d]));
    Value both = arith::AndIOp::create(b, loc, lower, upper);
    inside = inside ? arith::AndIOp::create(b, loc, inside, both) : both;
  }
  Value source = tensors.lookup(node->tensor);
  if (products.count(node->tensor)) {
    source = products[node->tensor].product;
    at = flattenIndices(node->tensor, at);
  }
  if (!inside)
    return lz::GetOp::create(b, loc, source, at);
  auto ifOp = scf::IfOp::create(
      b, loc, inside,
      [&](OpBuilder &tb, Location l) {
        scf::YieldOp::create(tb, l,
                             ValueRange{lz::GetOp::create(tb, l, source, at)});
      },
      [&](OpBuilder &eb, Location l) {
        scf::YieldOp::create(eb, l,
                             ValueRange{arith::ConstantOp::create(
                                 eb, l, eb.getF64FloatAttr(0))});
      });
  return ifOp.getResult(0);
}

Value ProgramBuilder::buildNode(const Node *node) {
  auto arg = [&](unsigned i) { return buildNode(node->operands[i]); };
  switch (node->op) {
  case search::Op::Constant:
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(node->value));
  case search::Op::Read:
    return buildRead(node);
  case search::Op::Add:
    return arith::AddFOp::create(b, loc, arg(0), arg(1));
  case search::Op::Sub:
    return arith::SubFOp::create(b, loc, arg(0), arg(1));
  case search::Op::Mul:
    return arith::MulFOp::create(b, loc, arg(0), arg(1));
  case search::Op::Div:
    return arith::DivFOp::create(b, loc, arg(0), arg(1));
  case search::Op::Neg:
    return arith::NegFOp::create(b, loc, arg(0));
  case search::Op::Exp:
    return math::ExpOp::create(b, loc, arg(0));
  case search::Op::Log:
    return math::LogOp::create(b, loc, arg(0));
  case search::Op::Tanh:
    return math::TanhOp::create(b, loc, arg(0));
  case search::Op::Max:
    return arith::MaximumFOp::create(b, loc, arg(0), arg(1));
  }
  return {};
}

Value ProgramBuilder::buildStage(const Stage &stage) {
  auto ranges = [&](ArrayRef<unsigned> list) {
    SmallVector<Value> result;
    for (unsigned it : list)
      result.push_back(getIndexConstant(program.iterators[it].size()));
    return result;
  };
  auto bind = [&](ArrayRef<unsigned> list, ValueRange values) {
    for (auto [it, value] : llvm::zip(list, values))
      iterators[it] = value;
  };
  auto summand = [&](OpBuilder &, Location, ValueRange indices) {
    bind(stage.summation, indices);
    lz::YieldOp::create(b, loc, ValueRange{buildNode(stage.summand)});
  };
  auto reduce = [&]() -> Value {
    if (stage.summation.empty())
      return buildNode(stage.summand);
    return lz::SumOp::create(
               b, loc, b.getF64Type(), ranges(stage.summation),
               [&](OpBuilder &inner, Location l, ValueRange indices) {
                 OpBuilder::InsertionGuard guard(b);
                 b.setInsertionPointToEnd(inner.getInsertionBlock());
                 summand(inner, l, indices);
               })
        .getResult();
  };
  if (stage.traversal.empty())
    return reduce();
  const Tensor &output = program.tensors[stage.output];
  return lz::ForOp::create(
             b, loc, TypeRange{getTensorType(output.shape)},
             ranges(stage.traversal),
             [&](OpBuilder &inner, Location l, ValueRange indices) {
               OpBuilder::InsertionGuard guard(b);
               b.setInsertionPointToEnd(inner.getInsertionBlock());
               bind(stage.traversal, indices);
               lz::YieldOp::create(b, l, ValueRange{reduce()});
             })
      .getResult(0);
}

SmallVector<Value> ProgramBuilder::flattenIndices(unsigned tensor,
                                                  ValueRange at) {
  const ProductLayout &layout = products[tensor];
  const Stage &stage = program.stages[program.tensors[tensor].stage];
  SmallVector<Value> flat;
  for (ArrayRef<unsigned> positions : layout.dims) {
    Value index = getIndexConstant(0);
    for (unsigned p : positions)
      index = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc, index,
              getIndexConstant(program.iterators[stage.traversal[p]].size())),
          at[p]);
    flat.push_back(index);
  }
  return flat;
}

/// A matched product `L<traversal> Σ<reduction> lhs[...] * rhs[...]`: the
/// operands as [batch,] rows x reduction and [batch,] reduction x columns
/// matrices (a reshape where an operand's dimensions are already in that
/// order, else a copy), in the orientation that copies less; then
/// lz.matmul or lz.batch_matmul. Later stages read the product directly;
/// only the result's stage is laid out as its tensor.
Value ProgramBuilder::buildProduct(const Stage &stage) {
  const Node *a = stage.summand->operands[0];
  const Node *c = stage.summand->operands[1];
  auto iteratorsOf = [](const Node *read) {
    SmallVector<unsigned, 4> its;
    for (const Affine &affine : read->indices)
      its.push_back(affine.terms[0].first);
    return its;
  };
  auto size = [&](ArrayRef<unsigned> group) {
    int64_t n = 1;
    for (unsigned it : group)
      n *= program.iterators[it].size();
    return n;
  };
  struct Orientation {
    const Node *lhs, *rhs;
    SmallVector<unsigned, 4> batch, rows, reduction, columns;
    bool lhsNatural, rhsNatural;
    int64_t copied;
  };
  auto orient = [&](const Node *lhs, const Node *rhs) {
    Orientation o{lhs, rhs, {}, {}, {}, {}, false, false, 0};
    SmallVector<unsigned, 4> left = iteratorsOf(lhs), right = iteratorsOf(rhs);
    for (unsigned it : left) {
      bool traversal = llvm::is_contained(stage.traversal, it);
      if (!traversal)
        o.reduction.push_back(it);
      else if (llvm::is_contained(right, it))
        o.batch.push_back(it);
      else
        o.rows.push_back(it);
    }
    for (unsigned it : right)
      if (llvm::is_contained(stage.traversal, it) &&
          !llvm::is_contained(left, it))
        o.columns.push_back(it);
    auto concat = [](std::initializer_list<ArrayRef<unsigned>> groups) {
      SmallVector<unsigned, 4> all;
      for (ArrayRef<unsigned> group : groups)
        llvm::append_range(all, group);
      return all;
    };
    // A tensor kept as a product is read through its layout: copied.
    o.lhsNatural = !products.count(lhs->tensor) &&
                   left == concat({o.batch, o.rows, o.reduction});
    o.rhsNatural = !products.count(rhs->tensor) &&
                   right == concat({o.batch, o.reduction, o.columns});
    if (!o.lhsNatural)
      o.copied += size(left);
    if (!o.rhsNatural)
      o.copied += size(right);
    return o;
  };
  Orientation forward = orient(a, c), backward = orient(c, a);
  const Orientation &o = backward.copied < forward.copied ? backward : forward;

  auto groupsWithBatch = [&](ArrayRef<unsigned> first,
                             ArrayRef<unsigned> second) {
    SmallVector<ArrayRef<unsigned>, 3> groups;
    if (!o.batch.empty())
      groups.push_back(o.batch);
    groups.push_back(first);
    groups.push_back(second);
    return groups;
  };
  // Binds each iterator of `group` from the group's flat index.
  auto unflatten = [&](ArrayRef<unsigned> group, Value flat) {
    int64_t stride = size(group);
    for (unsigned it : group) {
      int64_t extent = program.iterators[it].size();
      stride /= extent;
      Value value =
          arith::DivSIOp::create(b, loc, flat, getIndexConstant(stride));
      if (it != group.front())
        value = arith::RemSIOp::create(b, loc, value, getIndexConstant(extent));
      iterators[it] = value;
    }
  };
  auto layout = [&](const Node *read, bool natural, ArrayRef<unsigned> first,
                    ArrayRef<unsigned> second) -> Value {
    SmallVector<ArrayRef<unsigned>, 3> groups = groupsWithBatch(first, second);
    SmallVector<int64_t> shape;
    for (ArrayRef<unsigned> group : groups)
      shape.push_back(size(group));
    if (natural) {
      // The dimensions are in order: a reshape.
      SmallVector<ReassociationIndices> reassociation;
      int64_t next = 0;
      for (ArrayRef<unsigned> group : groups) {
        ReassociationIndices dims;
        for (size_t i = 0; i < group.size(); ++i)
          dims.push_back(next++);
        reassociation.push_back(dims);
      }
      return tensor::CollapseShapeOp::create(b, loc, getTensorType(shape),
                                             tensors.lookup(read->tensor),
                                             reassociation);
    }
    SmallVector<Value> sizes;
    for (int64_t extent : shape)
      sizes.push_back(getIndexConstant(extent));
    return lz::ForOp::create(
               b, loc, TypeRange{getTensorType(shape)}, sizes,
               [&](OpBuilder &inner, Location l, ValueRange indices) {
                 OpBuilder::InsertionGuard guard(b);
                 b.setInsertionPointToEnd(inner.getInsertionBlock());
                 for (auto [group, index] : llvm::zip(groups, indices))
                   unflatten(group, index);
                 lz::YieldOp::create(b, l, ValueRange{buildRead(read)});
               })
        .getResult(0);
  };
  Value left = layout(o.lhs, o.lhsNatural, o.rows, o.reduction);
  Value right = layout(o.rhs, o.rhsNatural, o.reduction, o.columns);
  SmallVector<ArrayRef<unsigned>, 3> resultGroups =
      groupsWithBatch(o.rows, o.columns);
  SmallVector<int64_t> shape;
  for (ArrayRef<unsigned> group : resultGroups)
    shape.push_back(size(group));
  Value product =
      o.batch.empty()
          ? lz::MatmulOp::create(b, loc, getTensorType(shape), left, right)
                .getResult()
          : lz::BatchMatmulOp::create(b, loc, getTensorType(shape), left, right)
                .getResult();
  ProductLayout kept{product, {}};
  for (ArrayRef<unsigned> group : resultGroups) {
    SmallVector<unsigned, 4> positions;
    for (unsigned it : group)
      positions.push_back(llvm::find(stage.traversal, it) -
                          stage.traversal.begin());
    kept.dims.push_back(positions);
  }
  products[stage.output] = kept;
  if (stage.output != program.getResult())
    return Value();
  // The result's stage: its tensor, read from the product.
  SmallVector<Value> ranges;
  for (unsigned it : stage.traversal)
    ranges.push_back(getIndexConstant(program.iterators[it].size()));
  return lz::ForOp::create(
             b, loc,
             TypeRange{getTensorType(program.tensors[stage.output].shape)},
             ranges,
             [&](OpBuilder &inner, Location l, ValueRange indices) {
               OpBuilder::InsertionGuard guard(b);
               b.setInsertionPointToEnd(inner.getInsertionBlock());
               lz::YieldOp::create(
                   b, l,
                   ValueRange{lz::GetOp::create(
                       b, l, product, flattenIndices(stage.output, indices))});
             })
      .getResult(0);
}

Value ProgramBuilder::buildProgram(ValueRange arguments) {
  unsigned next = 0;
  for (auto [i, tensor] : llvm::enumerate(program.tensors))
    if (tensor.isInput())
      tensors[i] = arguments[next++];
  for (auto [i, tensor] : llvm::enumerate(program.tensors))
    if (tensor.isView())
      tensors[i] =
          reshapeRowMajor(b, loc, tensors.lookup(tensor.source), tensor.shape);
  for (const Stage &stage : program.stages)
    tensors[stage.output] =
        matchOperator(program, stage) ? buildProduct(stage) : buildStage(stage);
  return tensors.lookup(program.getResult());
}

void search::replaceBody(func::FuncOp func, const Program &program) {
  Block &entry = func.getBody().front();
  Operation *terminator = entry.getTerminator();
  OpBuilder builder(terminator);
  ProgramBuilder build(builder, func.getLoc(), program);
  Value result = build.buildProgram(entry.getArguments());
  // Derivations may have split and merged the result's dimensions: the
  // same elements, row-major.
  result =
      reshapeRowMajor(builder, func.getLoc(), result, program.getResultShape());
  if (result.getType() != terminator->getOperand(0).getType())
    result = tensor::CastOp::create(
        builder, func.getLoc(), terminator->getOperand(0).getType(), result);
  terminator->setOperand(0, result);
  // What the old body computed is dead; scopes have no effects.
  SmallVector<Operation *> ops;
  for (Operation &op : entry.without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops))
    if (op->use_empty() && isMemoryEffectFree(op))
      op->erase();
}
