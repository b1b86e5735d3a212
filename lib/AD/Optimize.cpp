//===- Optimize.cpp - Optimizer loops -------------------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/AD/Optimize.h"

#include "Rules.h"

#include "AD/ADOps.h"
#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/Format.h"

#include <limits>
#include <numeric>
#include <optional>

using namespace mlir;
using namespace leibniz;

namespace {

/// A hyperparameter of an optimizer: its name in the configuration, and
/// its default (none: the user must give it).
struct Hyperparameter {
  StringRef name;
  std::optional<double> fallback;
  bool isBool = false;
};

/// An optimizer whose update is elementwise: the number of state values
/// per element (zero before the first step), and the hyperparameters in
/// the order of its rule's arguments. The defaults are OPTIMIZERS.md's.
struct OptimizerInfo {
  StringRef name;
  unsigned numState;
  SmallVector<Hyperparameter> hyperparameters;
  /// The states that start as the parameters rather than zero, by index.
  SmallVector<unsigned> fromParameters = {};
  /// The state that holds the parameters that the loop returns and whose
  /// loss it traces (schedule-free's average x), if not the parameters
  /// themselves.
  std::optional<unsigned> resultState = std::nullopt;
  /// Whether the step size is DoG's, from norms over all the parameters,
  /// passed to the rule as `lr`.
  bool distanceOverGradients = false;
  /// Whether the optimizer is Adafactor, whose states depend on the shape
  /// of each leaf (factored second moments) and whose update needs means
  /// over the leaf: it has no elementwise rule, the expansion builds it.
  bool factored = false;
  /// Whether the optimizer is L-BFGS, whose update combines all the leaves
  /// (its history's inner products, its line search): no rule either.
  bool quasiNewton = false;

  /// Whether the update is an elementwise rule of the library.
  bool hasRule() const { return !factored && !quasiNewton; }
};

ArrayRef<OptimizerInfo> getOptimizers() {
  static const OptimizerInfo optimizers[] = {
      {"sgd", 0, {{"lr", std::nullopt}}},
      {"momentum",
       1,
       {{"lr", std::nullopt}, {"beta", 0.9}, {"nesterov", 0.0, true}}},
      {"adam",
       2,
       {{"lr", std::nullopt},
        {"b1", 0.9},
        {"b2", 0.999},
        {"eps", 1e-8},
        {"eps_root", 0.0}}},
      {"adamw",
       2,
       {{"lr", std::nullopt},
        {"b1", 0.9},
        {"b2", 0.999},
        {"eps", 1e-8},
        {"wd", 1e-4},
        {"eps_root", 0.0}}},
      {"lion",
       1,
       {{"lr", std::nullopt}, {"b1", 0.9}, {"b2", 0.99}, {"wd", 1e-3}}},
      {"ademamix",
       3,
       {{"lr", std::nullopt},
        {"b1", 0.9},
        {"b2", 0.999},
        {"b3", 0.9999},
        {"alpha", 5.0},
        {"eps", 1e-8},
        {"wd", 0.0},
        {"t_alpha", 0.0},
        {"t_b3", 0.0},
        {"eps_root", 0.0}}},
      {"sf_sgd",
       4,
       {{"lr", 1.0}, {"beta", 0.9}, {"warmup", 0.0}, {"wd", 0.0}},
       {0, 1},
       1},
      {"sf_adamw",
       5,
       {{"lr", 0.0025},
        {"b1", 0.9},
        {"b2", 0.999},
        {"eps", 1e-8},
        {"warmup", 0.0},
        {"wd", 0.0},
        {"eps_root", 0.0}},
       {0, 1},
       1},
      {"dog",
       1,
       {{"lr", 1.0}, {"reps_rel", 1e-6}, {"eps", 1e-8}, {"wd", 0.0}},
       {0},
       std::nullopt,
       true},
      {"adafactor",
       0,
       {{"lr", 1.0},
        {"decay_rate", 0.8},
        {"decay_offset", 0.0},
        {"clip", 1.0},
        {"eps1", 1e-30},
        {"eps2", 1e-3},
        {"momentum", 0.0},
        {"wd", 0.0},
        {"min_dim", 128.0}},
       {},
       std::nullopt,
       false,
       true},
      {"lbfgs",
       0,
       {{"history", 10.0},
        {"line_search", 1.0, true},
        {"lr", 1.0},
        {"max_ls", 20.0},
        {"c1", 1e-4}},
       {},
       std::nullopt,
       false,
       false,
       true},
  };
  return optimizers;
}

/// What an optimizer loop runs: `ad.minimize`, or the solve of
/// `ad.argmin`, which stops updating once the gradient's norm is at most
/// `tol`.
struct OptimizerLoop {
  Operation *op;
  FlatSymbolRefAttr callee;
  Value init;
  ValueRange captures;
  Value steps;
  DictionaryAttr optimizer;
  /// The losses result of a traced `ad.minimize`, or null.
  Value losses;
  std::optional<double> tol;

  InFlightDiagnostic emitOpError(const Twine &message) {
    return op->emitOpError(message);
  }
  InFlightDiagnostic emitError(const Twine &message) {
    return op->emitError(message);
  }
};

/// The expansion of one optimizer loop.
class MinimizeExpansion {
public:
  MinimizeExpansion(OptimizerLoop op, SymbolTable &symbols)
      : op(op), symbols(symbols), builder(op.op), loc(op.op->getLoc()) {}

  /// The loop's final parameters.
  FailureOr<Value> expand();

private:
  /// Checks the configuration and the rule, and builds the hyperparameters'
  /// constants.
  LogicalResult prepare();
  /// The new value and states of a leaf of the parameters, by the rule
  /// with the hyperparameters `hyper`.
  SmallVector<Value> update(OpBuilder &b, Value x, Value g, ValueRange states,
                            Value t, Value stop, ValueRange hyper);
  /// The same for Adafactor, which has no elementwise rule.
  SmallVector<Value> updateAdafactor(OpBuilder &b, Value x, Value g,
                                     ValueRange states, Value t,
                                     ValueRange hyper);
  /// The means of the tensor `v` along `axis` as f64s: a scalar for a
  /// vector, else a tensor of `v`'s element type without that dimension.
  Value buildMean(OpBuilder &b, Value v, unsigned axis);
  /// The dimensions by which Adafactor factors the second moments of a
  /// leaf of type `type` (the second-largest and the largest), if it does.
  std::optional<std::pair<unsigned, unsigned>> getFactoredDims(Type type);
  /// The optimizer's states of a leaf before the first step.
  SmallVector<Value> buildInitialStates(Value leaf);
  /// The value of the hyperparameter `name`; none for a schedule.
  std::optional<double> getConstant(StringRef name) const {
    for (auto [h, value] : llvm::zip(info->hyperparameters, constants))
      if (h.name == name)
        return value;
    llvm_unreachable("no such hyperparameter");
  }
  /// Whether Adafactor has a momentum: a schedule, or a nonzero number.
  bool hasMomentum() const {
    std::optional<double> momentum = getConstant("momentum");
    return !momentum || *momentum != 0.0;
  }
  /// The same, masked as `cautious` masks the update.
  SmallVector<Value> updateCautiously(OpBuilder &b, Value x, Value g,
                                      ValueRange states, Value t, Value stop);
  /// The objective at the leaves `leaves` of the parameters.
  Value buildLoss(OpBuilder &b, ValueRange leaves);
  /// One step of L-BFGS from the leaves `xs` with gradients `gradients`
  /// and loss `loss`: the next leaves, then every leaf's next states.
  SmallVector<Value> stepLbfgs(OpBuilder &b, ValueRange xs,
                               ArrayRef<Value> gradients, Value loss,
                               ArrayRef<ValueRange> states, Value stop);
  /// The step size of L-BFGS along `direction` from `xs`: backtracking
  /// from lr until the Armijo condition holds, at most max_ls halvings.
  Value buildLineSearch(OpBuilder &b, ValueRange xs, ArrayRef<Value> direction,
                        Value loss, Value slope, Value stop);
  /// The function's value at `x` and the leaves of its gradient.
  std::pair<Value, SmallVector<Value>> buildValueAndGradient(Type lossType,
                                                             Value x) {
    auto valueAndGrad = ad::ValueAndGradOp::create(
        builder, loc, lossType, TypeRange{x.getType()}, op.callee,
        ValueRange{x}, op.captures, builder.getDenseI64ArrayAttr({0}),
        builder.getStringAttr("rev"));
    SmallVector<Value> gradients;
    lz::buildTupleLeaves(builder, loc, valueAndGrad.getGradients()[0],
                         gradients);
    return {valueAndGrad.getValue(), gradients};
  }
  /// Calls the rule on scalars, converting from and to `type`.
  SmallVector<Value> callRule(OpBuilder &b, Type type, Value x, Value g,
                              ValueRange states, Value t, ValueRange hyper);

  OptimizerLoop op;
  SymbolTable &symbols;
  OpBuilder builder;
  Location loc;
  const OptimizerInfo *info = nullptr;
  func::FuncOp rule;
  /// The hyperparameters' constants, null for a schedule, and their values.
  SmallVector<Value> hyperparameters;
  SmallVector<std::optional<double>> constants;
  /// The schedules: functions of the step t, by hyperparameter.
  SmallVector<std::pair<unsigned, func::FuncOp>> schedules;
  /// The hyperparameters of the current step, schedules evaluated.
  SmallVector<Value> stepHyperparameters;
  /// `cautious(opt)`: the update of `opt`, masked; its weight decay
  /// hyperparameter, which stays unmasked.
  bool cautious = false;
  std::optional<unsigned> weightDecay;
};

} // namespace

/// A leaf of `leaves[0]`'s type whose elements are `fn` of the elements of
/// `leaves` (all of that type): a scalar, or a tensor of any rank.
static Value mapElements(OpBuilder &b, Location loc, ValueRange leaves,
                         function_ref<Value(OpBuilder &, ValueRange)> fn) {
  Value first = leaves.front();
  auto tensor = dyn_cast<RankedTensorType>(first.getType());
  if (!tensor)
    return fn(b, leaves);
  auto readAll = [&](OpBuilder &inner, ValueRange indices) {
    SmallVector<Value> elements;
    for (Value leaf : leaves)
      elements.push_back(lz::GetOp::create(inner, loc, leaf, indices));
    return elements;
  };
  if (tensor.getRank() == 0)
    return lz::FillOp::create(b, loc, tensor, fn(b, readAll(b, {})),
                              ValueRange{});
  SmallVector<Value> ranges;
  for (int64_t d = 0; d < tensor.getRank(); ++d)
    ranges.push_back(tensor::DimOp::create(b, loc, first, d));
  return lz::ForOp::create(
             b, loc, TypeRange{tensor}, ranges,
             [&](OpBuilder &inner, Location loc, ValueRange indices) {
               lz::YieldOp::create(
                   inner, loc, ValueRange{fn(inner, readAll(inner, indices))});
             })
      .getResult(0);
}

/// √v for v ≥ 0, with finite derivatives in both modes at v = 0 (where
/// the derivative of √ is infinite and a zero tangent or cotangent times
/// it would be NaN): the square root of a positive stand-in, selected
/// away.
static Value buildNormSqrt(OpBuilder &b, Location loc, Value v) {
  Value zero = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0));
  Value one = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(1.0));
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v, zero);
  Value safe = arith::SelectOp::create(b, loc, positive, v, one);
  return arith::SelectOp::create(b, loc, positive,
                                 math::SqrtOp::create(b, loc, safe), zero);
}

/// The number of elements of a leaf, as an f64.
static Value countElements(OpBuilder &b, Location loc, Value leaf) {
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  if (auto tensor = dyn_cast<RankedTensorType>(leaf.getType()))
    for (int64_t d = 0; d < tensor.getRank(); ++d)
      count = arith::MulIOp::create(b, loc, count,
                                    tensor::DimOp::create(b, loc, leaf, d));
  return arith::UIToFPOp::create(
      b, loc, b.getF64Type(),
      arith::IndexCastUIOp::create(b, loc, b.getI64Type(), count));
}

/// A number as a diagnostic shows it: `%g`.
static std::string formatNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

LogicalResult MinimizeExpansion::prepare() {
  DictionaryAttr config = op.optimizer;
  auto name = config.getAs<StringAttr>("name");
  if (!name)
    return op.emitOpError("needs an optimizer configuration with a 'name'");
  if (name.getValue() == "cautious") {
    auto inner = config.getAs<DictionaryAttr>("opt");
    if (!inner)
      return op.emitError("the optimizer 'cautious' needs 'opt'");
    config = inner;
    name = config.getAs<StringAttr>("name");
    if (!name)
      return op.emitOpError("needs an optimizer configuration with a 'name'");
    cautious = true;
  }
  for (const OptimizerInfo &candidate : getOptimizers())
    if (candidate.name == name.getValue())
      info = &candidate;
  if (!info)
    return op.emitError("not supported yet: the optimizer '")
           << (cautious ? "cautious(" + name.getValue() + ")"
                        : name.getValue().str())
           << "' in '" << op.op->getName().stripDialect() << "'";
  if (cautious && (info->resultState || info->quasiNewton))
    return op.emitError("not supported yet: the optimizer 'cautious(")
           << name.getValue() << ")' ("
           << (info->quasiNewton ? "L-BFGS" : "a schedule-free optimizer")
           << " under cautious) in '" << op.op->getName().stripDialect() << "'";
  for (auto [index, h] : llvm::enumerate(info->hyperparameters))
    if (h.name == "wd")
      weightDecay = index;
  for (NamedAttribute entry : config) {
    if (entry.getName() == "name")
      continue;
    if (llvm::none_of(info->hyperparameters, [&](const Hyperparameter &h) {
          return h.name == entry.getName().getValue();
        }))
      return op.emitOpError("the optimizer '")
             << name.getValue() << "' has no hyperparameter '"
             << entry.getName().getValue() << "'";
  }

  Type f64 = builder.getF64Type(), i1 = builder.getI1Type();
  // Every optimizer but Adafactor and L-BFGS has an elementwise rule in the
  // library.
  if (info->hasRule()) {
    std::string sourceName = (name.getValue() + "_rule").str();
    std::string ruleName = ad::getStdSymbol(sourceName);
    rule = symbols.lookup<func::FuncOp>(ruleName);
    if (!rule || rule.isExternal())
      return op.emitOpError("needs the standard library's update rule '")
             << sourceName << "' (lib/Std/optimizers.lz), the function '@"
             << ruleName << "'";
    SmallVector<Type> inputs = {f64, f64};
    inputs.append(info->numState, f64);
    inputs.push_back(f64);
    for (const Hyperparameter &h : info->hyperparameters)
      inputs.push_back(h.isBool ? i1 : f64);
    SmallVector<Type> results(1 + info->numState, f64);
    Type result = info->numState == 0
                      ? f64
                      : Type(TupleType::get(builder.getContext(), results));
    auto type = FunctionType::get(builder.getContext(), inputs, result);
    if (rule.getFunctionType() != type)
      return op.emitOpError("the update rule '@")
             << ruleName << "' must have the type " << type << ", not "
             << rule.getFunctionType();
  }

  for (auto [index, h] : llvm::enumerate(info->hyperparameters)) {
    Attribute attr = config.get(h.name);
    std::optional<double> value = h.fallback;
    if (auto symbol = dyn_cast_if_present<FlatSymbolRefAttr>(attr);
        symbol && !h.isBool) {
      auto schedule = symbols.lookup<func::FuncOp>(symbol.getValue());
      if (!schedule ||
          schedule.getFunctionType() != builder.getFunctionType({f64}, {f64}))
        return op.emitOpError("the schedule '")
               << h.name << "' of '" << name.getValue()
               << "' must be a function (f64) -> f64";
      if (((info->distanceOverGradients || info->quasiNewton) &&
           h.name != "lr") ||
          (info->factored && h.name == "min_dim"))
        return op.emitError("the hyperparameter '")
               << h.name << "' of '" << name.getValue() << "' must be a number"
               << (info->factored ? ", not a schedule"
                                  : " (only 'lr' may be a schedule)");
      schedules.emplace_back(index, schedule);
      hyperparameters.push_back(Value());
      constants.push_back(std::nullopt);
      continue;
    }
    if (auto number = dyn_cast_if_present<FloatAttr>(attr))
      value = number.getValueAsDouble();
    else if (auto integer = dyn_cast_if_present<IntegerAttr>(attr))
      value = static_cast<double>(integer.getValue().getSExtValue());
    else if (auto flag = dyn_cast_if_present<BoolAttr>(attr))
      value = flag.getValue() ? 1.0 : 0.0;
    else if (attr)
      return op.emitOpError("the hyperparameter '")
             << h.name << "' of '" << name.getValue()
             << "' must be a number or a bool, not " << attr;
    if (!value)
      return op.emitError("the optimizer '")
             << name.getValue() << "' needs '" << h.name << "'";
    constants.push_back(value);
    if (h.isBool)
      hyperparameters.push_back(
          arith::ConstantIntOp::create(builder, loc, *value != 0.0, 1));
    else
      hyperparameters.push_back(arith::ConstantOp::create(
          builder, loc, f64, builder.getF64FloatAttr(*value)));
  }
  // L-BFGS's history is unrolled into the loop's body.
  if (info->quasiNewton) {
    double history = *getConstant("history"), maxLs = *getConstant("max_ls");
    if (history != std::floor(history) || history < 1 || history > 50)
      return op.emitError("the hyperparameter 'history' of 'lbfgs' must be "
                          "a whole number from 1 to 50, not ")
             << formatNumber(history);
    if (maxLs != std::floor(maxLs) || maxLs < 0 || maxLs > 100)
      return op.emitError("the hyperparameter 'max_ls' of 'lbfgs' must be "
                          "a whole number from 0 to 100, not ")
             << formatNumber(maxLs);
    std::optional<double> c1 = getConstant("c1"), lr = getConstant("lr");
    if (!(*c1 > 0 && *c1 < 1))
      return op.emitError("the hyperparameter 'c1' of 'lbfgs' must be "
                          "between 0 and 1, not ")
             << formatNumber(*c1);
    if (lr && !(*lr > 0))
      return op.emitError("the hyperparameter 'lr' of 'lbfgs' must be "
                          "positive, not ")
             << formatNumber(*lr);
  }
  if (info->factored) {
    std::optional<double> clip = getConstant("clip");
    if (clip && !(*clip > 0))
      return op.emitError("the hyperparameter 'clip' of 'adafactor' must be "
                          "positive, not ")
             << formatNumber(*clip);
  }
  return success();
}

SmallVector<Value> MinimizeExpansion::callRule(OpBuilder &b, Type type, Value x,
                                               Value g, ValueRange states,
                                               Value t, ValueRange hyper) {
  Type f64 = b.getF64Type();
  auto widen = [&](Value value) -> Value {
    return type == f64 ? value : arith::ExtFOp::create(b, loc, f64, value);
  };
  SmallVector<Value> operands = {widen(x), widen(g)};
  for (Value state : states)
    operands.push_back(widen(state));
  operands.push_back(t);
  llvm::append_range(operands, hyper);
  Value result = func::CallOp::create(b, loc, rule, operands).getResult(0);
  SmallVector<Value> values;
  if (info->numState == 0)
    values.push_back(result);
  else
    for (unsigned i = 0; i <= info->numState; ++i)
      values.push_back(lz::ProjOp::create(b, loc, result, i));
  if (type != f64)
    for (Value &value : values)
      value = arith::TruncFOp::create(b, loc, type, value);
  return values;
}

SmallVector<Value> MinimizeExpansion::update(OpBuilder &b, Value x, Value g,
                                             ValueRange states, Value t,
                                             Value stop, ValueRange hyper) {
  if (info->factored) {
    SmallVector<Value> values = updateAdafactor(b, x, g, states, t, hyper);
    if (!stop)
      return values;
    SmallVector<Value> old = {x};
    llvm::append_range(old, states);
    for (auto [value, previous] : llvm::zip(values, old))
      value = mapElements(b, loc, {previous, value},
                          [&](OpBuilder &inner, ValueRange e) -> Value {
                            return arith::SelectOp::create(inner, loc, stop,
                                                           e[0], e[1]);
                          });
    return values;
  }
  // The rule's results, or the old values where `stop` holds.
  auto apply = [&](OpBuilder &b, Type type, Value x, Value g,
                   ValueRange states) {
    SmallVector<Value> values = callRule(b, type, x, g, states, t, hyper);
    if (!stop)
      return values;
    SmallVector<Value> old = {x};
    llvm::append_range(old, states);
    for (auto [value, previous] : llvm::zip(values, old))
      value = arith::SelectOp::create(b, loc, stop, previous, value);
    return values;
  };
  auto tensor = dyn_cast<RankedTensorType>(x.getType());
  if (!tensor)
    return apply(b, x.getType(), x, g, states);
  Type element = tensor.getElementType();
  if (tensor.getRank() == 0) {
    auto read = [&](Value value) {
      return lz::GetOp::create(b, loc, value, ValueRange{}).getResult();
    };
    SmallVector<Value> scalars;
    for (Value state : states)
      scalars.push_back(read(state));
    SmallVector<Value> values = apply(b, element, read(x), read(g), scalars);
    for (Value &value : values)
      value = lz::FillOp::create(b, loc, tensor, value, ValueRange{});
    return values;
  }
  // One traversal of the leaf's elements computes its value and states.
  SmallVector<Value> ranges;
  for (int64_t d = 0; d < tensor.getRank(); ++d)
    ranges.push_back(tensor::DimOp::create(b, loc, x, d));
  SmallVector<Type> types(1 + states.size(), tensor);
  auto traversal = lz::ForOp::create(
      b, loc, types, ranges,
      [&](OpBuilder &inner, Location loc, ValueRange indices) {
        auto read = [&](Value value) {
          return lz::GetOp::create(inner, loc, value, indices).getResult();
        };
        SmallVector<Value> scalars;
        for (Value state : states)
          scalars.push_back(read(state));
        lz::YieldOp::create(inner, loc,
                            apply(inner, element, read(x), read(g), scalars));
      });
  return SmallVector<Value>(traversal.getResults());
}

/// The f64 value of a float.
static Value widenToF64(OpBuilder &b, Location loc, Value value) {
  Type f64 = b.getF64Type();
  return value.getType() == f64 ? value
                                : arith::ExtFOp::create(b, loc, f64, value);
}

/// An f64 value as a float of type `type`.
static Value narrowFromF64(OpBuilder &b, Location loc, Type type, Value value) {
  return type == value.getType()
             ? value
             : arith::TruncFOp::create(b, loc, type, value).getResult();
}

/// mapElements with `fn` computing in f64.
static Value mapElementsInF64(OpBuilder &b, Location loc, ValueRange leaves,
                              function_ref<Value(OpBuilder &, ValueRange)> fn) {
  Type element = getElementTypeOrSelf(leaves.front().getType());
  return mapElements(
      b, loc, leaves, [&](OpBuilder &inner, ValueRange elements) -> Value {
        SmallVector<Value> wide;
        for (Value e : elements)
          wide.push_back(widenToF64(inner, loc, e));
        return narrowFromF64(inner, loc, element, fn(inner, wide));
      });
}

/// `indices` without the positions in `drop` (ascending).
static SmallVector<Value> dropIndices(ValueRange indices,
                                      ArrayRef<unsigned> drop) {
  SmallVector<Value> kept;
  for (auto [d, index] : llvm::enumerate(indices))
    if (!llvm::is_contained(drop, d))
      kept.push_back(index);
  return kept;
}

std::optional<std::pair<unsigned, unsigned>>
MinimizeExpansion::getFactoredDims(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() < 2 || !tensor.hasStaticShape())
    return std::nullopt;
  // The largest dimension and the second-largest (the first of equals).
  SmallVector<unsigned> dims(tensor.getRank());
  std::iota(dims.begin(), dims.end(), 0);
  llvm::stable_sort(dims, [&](unsigned a, unsigned b) {
    return tensor.getDimSize(a) < tensor.getDimSize(b);
  });
  unsigned second = dims[dims.size() - 2], largest = dims.back();
  if (static_cast<double>(tensor.getDimSize(second)) < *getConstant("min_dim"))
    return std::nullopt;
  return std::make_pair(second, largest);
}

SmallVector<Value> MinimizeExpansion::buildInitialStates(Value leaf) {
  SmallVector<Value> states;
  // L-BFGS: the history's steps s and gradient changes y (zero: no
  // curvature, so they take no part), the previous parameters and the
  // previous gradient (zero: the first step adds no pair).
  if (info->quasiNewton) {
    auto history = static_cast<unsigned>(*getConstant("history"));
    for (unsigned i = 0; i < 2 * history; ++i)
      states.push_back(ad::detail::buildZeros(builder, loc, leaf));
    states.push_back(leaf);
    states.push_back(ad::detail::buildZeros(builder, loc, leaf));
    return states;
  }
  if (!info->factored) {
    for (unsigned s = 0; s < info->numState; ++s)
      states.push_back(llvm::is_contained(info->fromParameters, s)
                           ? leaf
                           : ad::detail::buildZeros(builder, loc, leaf));
    return states;
  }
  // Adafactor: the factored second moments (the means of the rows and of
  // the columns) or the full one, and the momentum if there is one.
  if (auto dims = getFactoredDims(leaf.getType())) {
    auto tensor = cast<RankedTensorType>(leaf.getType());
    Type element = tensor.getElementType();
    Value zero = arith::ConstantOp::create(builder, loc, element,
                                           builder.getZeroAttr(element));
    for (unsigned dim : {dims->second, dims->first}) {
      SmallVector<int64_t> shape(tensor.getShape());
      shape.erase(shape.begin() + dim);
      states.push_back(lz::FillOp::create(builder, loc,
                                          RankedTensorType::get(shape, element),
                                          zero, ValueRange{}));
    }
  } else {
    states.push_back(ad::detail::buildZeros(builder, loc, leaf));
  }
  if (hasMomentum())
    states.push_back(ad::detail::buildZeros(builder, loc, leaf));
  return states;
}

Value MinimizeExpansion::buildMean(OpBuilder &b, Value v, unsigned axis) {
  auto type = cast<RankedTensorType>(v.getType());
  Type f64 = b.getF64Type();
  int64_t size = type.getDimSize(axis);
  Value count = arith::ConstantOp::create(
      b, loc, b.getF64FloatAttr(static_cast<double>(size)));
  auto meanAt = [&](OpBuilder &outer, ValueRange indices) -> Value {
    Value range = arith::ConstantIndexOp::create(outer, loc, size);
    Value total = lz::SumOp::create(
        outer, loc, f64, ValueRange{range},
        [&](OpBuilder &inner, Location loc, ValueRange k) {
          SmallVector<Value> at(indices);
          at.insert(at.begin() + axis, k[0]);
          Value element = lz::GetOp::create(inner, loc, v, at);
          lz::YieldOp::create(inner, loc,
                              ValueRange{widenToF64(inner, loc, element)});
        });
    return arith::DivFOp::create(outer, loc, total, count);
  };
  if (type.getRank() == 1)
    return meanAt(b, {});
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + axis);
  SmallVector<Value> ranges;
  for (int64_t extent : shape)
    ranges.push_back(arith::ConstantIndexOp::create(b, loc, extent));
  Type element = type.getElementType();
  return lz::ForOp::create(
             b, loc, TypeRange{RankedTensorType::get(shape, element)}, ranges,
             [&](OpBuilder &inner, Location loc, ValueRange indices) {
               lz::YieldOp::create(
                   inner, loc,
                   ValueRange{narrowFromF64(inner, loc, element,
                                            meanAt(inner, indices))});
             })
      .getResult(0);
}

SmallVector<Value> MinimizeExpansion::updateAdafactor(OpBuilder &b, Value x,
                                                      Value g,
                                                      ValueRange states,
                                                      Value t,
                                                      ValueRange hyper) {
  Value lr = hyper[0], decayRate = hyper[1], decayOffset = hyper[2],
        clip = hyper[3], eps1 = hyper[4], eps2 = hyper[5], momentum = hyper[6],
        wd = hyper[7];
  auto constant = [&](OpBuilder &b, double value) -> Value {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
  };
  auto mul = [&](OpBuilder &b, Value lhs, Value rhs) -> Value {
    return arith::MulFOp::create(b, loc, lhs, rhs);
  };
  auto add = [&](OpBuilder &b, Value lhs, Value rhs) -> Value {
    return arith::AddFOp::create(b, loc, lhs, rhs);
  };
  auto sub = [&](OpBuilder &b, Value lhs, Value rhs) -> Value {
    return arith::SubFOp::create(b, loc, lhs, rhs);
  };
  // β̂ = 1 − (t − decay_offset)^(−decay_rate), zero at the first step (and
  // at the steps before the offset).
  Value shifted = arith::MaximumFOp::create(b, loc, sub(b, t, decayOffset),
                                            constant(b, 1.0));
  Value beta =
      sub(b, constant(b, 1.0),
          math::PowFOp::create(b, loc, shifted,
                               arith::NegFOp::create(b, loc, decayRate)));
  Value rest = sub(b, constant(b, 1.0), beta);
  auto average = [&](OpBuilder &b, Value old, Value value) {
    return add(b, mul(b, beta, old), mul(b, rest, value));
  };
  auto squared = [&](OpBuilder &b, Value gk) {
    return add(b, mul(b, gk, gk), eps1);
  };

  // The unscaled update u₀ = g / √v, with v factored as r cᵀ / mean(r).
  SmallVector<Value> next;
  Value direction;
  if (auto dims = getFactoredDims(x.getType())) {
    unsigned second = dims->first, largest = dims->second;
    Value moments = mapElementsInF64(
        b, loc, {g}, [&](OpBuilder &inner, ValueRange e) -> Value {
          return squared(inner, e[0]);
        });
    Value rows =
        mapElementsInF64(b, loc, {states[0], buildMean(b, moments, largest)},
                         [&](OpBuilder &inner, ValueRange e) -> Value {
                           return average(inner, e[0], e[1]);
                         });
    Value columns =
        mapElementsInF64(b, loc, {states[1], buildMean(b, moments, second)},
                         [&](OpBuilder &inner, ValueRange e) -> Value {
                           return average(inner, e[0], e[1]);
                         });
    Value rowMean = buildMean(b, rows, second > largest ? second - 1 : second);
    SmallVector<unsigned> both = {std::min(second, largest),
                                  std::max(second, largest)};
    auto tensor = cast<RankedTensorType>(x.getType());
    SmallVector<Value> ranges;
    for (int64_t extent : tensor.getShape())
      ranges.push_back(arith::ConstantIndexOp::create(b, loc, extent));
    direction =
        lz::ForOp::create(
            b, loc, TypeRange{tensor}, ranges,
            [&](OpBuilder &inner, Location loc, ValueRange indices) {
              auto read = [&](Value value, ArrayRef<unsigned> drop) {
                return widenToF64(
                    inner, loc,
                    lz::GetOp::create(inner, loc, value,
                                      dropIndices(indices, drop)));
              };
              Value mean = isa<RankedTensorType>(rowMean.getType())
                               ? read(rowMean, both)
                               : rowMean;
              Value row = arith::DivFOp::create(inner, loc,
                                                read(rows, {largest}), mean);
              Value scale = mul(
                  inner, math::RsqrtOp::create(inner, loc, row),
                  math::RsqrtOp::create(inner, loc, read(columns, {second})));
              lz::YieldOp::create(
                  inner, loc,
                  ValueRange{narrowFromF64(inner, loc, tensor.getElementType(),
                                           mul(inner, read(g, {}), scale))});
            })
            .getResult(0);
    next = {rows, columns};
  } else {
    Value moments = mapElementsInF64(
        b, loc, {states[0], g}, [&](OpBuilder &inner, ValueRange e) -> Value {
          return average(inner, e[0], squared(inner, e[1]));
        });
    direction = mapElementsInF64(
        b, loc, {g, moments}, [&](OpBuilder &inner, ValueRange e) -> Value {
          return mul(inner, e[0], math::RsqrtOp::create(inner, loc, e[1]));
        });
    next = {moments};
  }

  // Clipped to an RMS of at most `clip`, scaled by lr and by the
  // parameters' RMS (at least eps2).
  Value count = countElements(b, loc, x);
  auto rms = [&](Value leaf) {
    return buildNormSqrt(
        b, loc,
        arith::DivFOp::create(
            b, loc, ad::detail::buildLeafDot(b, loc, {leaf}, {leaf}), count));
  };
  Value clipping = arith::MaximumFOp::create(
      b, loc, constant(b, 1.0),
      arith::DivFOp::create(b, loc, rms(direction), clip));
  Value scale = arith::DivFOp::create(
      b, loc, mul(b, lr, arith::MaximumFOp::create(b, loc, eps2, rms(x))),
      clipping);
  // The momentum (an average of the scaled updates, not debiased), then
  // the weight decay, which lr does not scale.
  Value step;
  if (hasMomentum()) {
    step = mapElementsInF64(
        b, loc, {states.back(), direction},
        [&](OpBuilder &inner, ValueRange e) -> Value {
          Value scaled = mul(inner, e[1], scale);
          return add(
              inner, mul(inner, momentum, e[0]),
              mul(inner, sub(inner, constant(inner, 1.0), momentum), scaled));
        });
  } else {
    step = mapElementsInF64(b, loc, {direction},
                            [&](OpBuilder &inner, ValueRange e) -> Value {
                              return mul(inner, e[0], scale);
                            });
  }
  SmallVector<Value> values = {mapElementsInF64(
      b, loc, {x, step}, [&](OpBuilder &inner, ValueRange e) -> Value {
        return sub(inner, e[0], add(inner, e[1], mul(inner, wd, e[0])));
      })};
  llvm::append_range(values, next);
  if (hasMomentum())
    values.push_back(step);
  return values;
}

/// `a / b` where `valid`, else `fallback`; finite derivatives in both modes
/// where not valid (the division is of a stand-in 1).
static Value buildGuardedDiv(OpBuilder &b, Location loc, Value valid, Value a,
                             Value denominator, Value fallback) {
  Value one = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(1.0));
  Value safe = arith::SelectOp::create(b, loc, valid, denominator, one);
  return arith::SelectOp::create(
      b, loc, valid, arith::DivFOp::create(b, loc, a, safe), fallback);
}

/// The leaves `a` where `condition` holds, else `b`.
static SmallVector<Value> selectLeaves(OpBuilder &builder, Location loc,
                                       Value condition, ArrayRef<Value> a,
                                       ArrayRef<Value> b) {
  SmallVector<Value> results;
  for (auto [x, y] : llvm::zip(a, b))
    results.push_back(mapElements(
        builder, loc, {x, y}, [&](OpBuilder &inner, ValueRange e) -> Value {
          return arith::SelectOp::create(inner, loc, condition, e[0], e[1]);
        }));
  return results;
}

Value MinimizeExpansion::buildLineSearch(OpBuilder &b, ValueRange xs,
                                         ArrayRef<Value> direction, Value loss,
                                         Value slope, Value stop) {
  Value lr = stepHyperparameters[2];
  Value c1 = stepHyperparameters[4];
  auto maxLs = static_cast<int64_t>(*getConstant("max_ls"));
  if (maxLs == 0 || *getConstant("line_search") == 0.0)
    return lr;
  Type f64 = b.getF64Type(), i1 = b.getI1Type();
  Value widenedLoss = widenToF64(b, loc, loss);
  // A counted loop (so that minimize differentiates through it) that
  // evaluates f only until a step size is accepted.
  Value count = arith::ConstantIndexOp::create(b, loc, maxLs);
  // (A stopped solve's step, which changes nothing, evaluates nothing.)
  Value accepted0 = stop ? stop : arith::ConstantIntOp::create(b, loc, 0, 1);
  auto loop = lz::LoopOp::create(b, loc, TypeRange{f64, i1}, count,
                                 ValueRange{lr, accepted0});
  OpBuilder::InsertionGuard guard(b);
  Block *body = b.createBlock(&loop.getBody());
  body->addArgument(b.getIndexType(), loc);
  Value eta = body->addArgument(f64, loc);
  Value accepted = body->addArgument(i1, loc);
  auto ifOp = scf::IfOp::create(
      b, loc, accepted,
      [&](OpBuilder &inner, Location loc) {
        scf::YieldOp::create(inner, loc, ValueRange{eta, accepted});
      },
      [&](OpBuilder &inner, Location loc) {
        // f(x + η d) ≤ f(x) + c1 η gᵀd, else η/2.
        SmallVector<Value> trial =
            ad::detail::buildLeafAxpy(inner, loc, eta, direction, xs);
        Value value = widenToF64(inner, loc, buildLoss(inner, trial));
        Value bound = arith::AddFOp::create(
            inner, loc, widenedLoss,
            arith::MulFOp::create(
                inner, loc, arith::MulFOp::create(inner, loc, c1, eta), slope));
        Value ok = arith::CmpFOp::create(inner, loc, arith::CmpFPredicate::OLE,
                                         value, bound);
        Value half =
            arith::ConstantOp::create(inner, loc, inner.getF64FloatAttr(0.5));
        Value next = arith::SelectOp::create(
            inner, loc, ok, eta, arith::MulFOp::create(inner, loc, eta, half));
        scf::YieldOp::create(inner, loc, ValueRange{next, ok});
      });
  lz::YieldOp::create(b, loc, ifOp.getResults());
  b.setInsertionPointAfter(loop);
  return loop.getResult(0);
}

SmallVector<Value> MinimizeExpansion::stepLbfgs(OpBuilder &b, ValueRange xs,
                                                ArrayRef<Value> gradients,
                                                Value loss,
                                                ArrayRef<ValueRange> states,
                                                Value stop) {
  auto history = static_cast<unsigned>(*getConstant("history"));
  unsigned numLeaves = xs.size();
  auto constant = [&](double value) -> Value {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
  };
  auto dot = [&](ValueRange u, ValueRange v) {
    return ad::detail::buildLeafDot(b, loc, u, v);
  };
  auto axpy = [&](Value alpha, ValueRange u, ValueRange v) {
    return ad::detail::buildLeafAxpy(b, loc, alpha, u, v);
  };
  auto leavesOf = [&](unsigned index) {
    SmallVector<Value> leaves;
    for (ValueRange leafStates : states)
      leaves.push_back(leafStates[index]);
    return leaves;
  };
  Value zero = constant(0.0), one = constant(1.0);
  auto positive = [&](Value value) -> Value {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, value,
                                 zero);
  };

  // The newest pair s = x − x_prev, y = g − g_prev joins the history (the
  // oldest leaves it) when its curvature is positive, sᵀy > 1e-10 yᵀy
  // (relative, so that a tiny one does not give a huge ρ = 1/sᵀy).
  SmallVector<SmallVector<Value>> steps, changes;
  for (unsigned i = 0; i < history; ++i) {
    steps.push_back(leavesOf(i));
    changes.push_back(leavesOf(history + i));
  }
  SmallVector<Value> s = axpy(constant(-1.0), leavesOf(2 * history), xs);
  SmallVector<Value> y =
      axpy(constant(-1.0), leavesOf(2 * history + 1), gradients);
  Value curved = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OGT, dot(s, y),
      arith::MulFOp::create(b, loc, constant(1e-10), dot(y, y)));
  SmallVector<SmallVector<Value>> nextSteps, nextChanges;
  for (unsigned i = 0; i < history; ++i) {
    ArrayRef<Value> newerS = i + 1 < history ? steps[i + 1] : s;
    ArrayRef<Value> newerY = i + 1 < history ? changes[i + 1] : y;
    nextSteps.push_back(selectLeaves(b, loc, curved, newerS, steps[i]));
    nextChanges.push_back(selectLeaves(b, loc, curved, newerY, changes[i]));
  }

  // The two-loop recursion, newest pair first: d = −H g, with H₀ = γI,
  // γ = sᵀy/yᵀy of the newest pair. Pairs of zero curvature (the history
  // not yet filled) take no part: ρ = 0.
  SmallVector<Value> rho(history), alpha(history);
  SmallVector<Value> q(gradients);
  for (int i = history - 1; i >= 0; --i) {
    Value sy = dot(nextSteps[i], nextChanges[i]);
    rho[i] = buildGuardedDiv(b, loc, positive(sy), one, sy, zero);
    alpha[i] = arith::MulFOp::create(b, loc, rho[i], dot(nextSteps[i], q));
    q = axpy(arith::NegFOp::create(b, loc, alpha[i]), nextChanges[i], q);
  }
  Value newestSy = dot(nextSteps.back(), nextChanges.back());
  Value newestYy = dot(nextChanges.back(), nextChanges.back());
  Value gamma =
      buildGuardedDiv(b, loc, positive(newestSy), newestSy, newestYy, one);
  SmallVector<Value> r = axpy(gamma, q, {});
  for (unsigned i = 0; i < history; ++i) {
    Value beta = arith::MulFOp::create(b, loc, rho[i], dot(nextChanges[i], r));
    r = axpy(arith::SubFOp::create(b, loc, alpha[i], beta), nextSteps[i], r);
  }
  // Along −g where −r does not descend.
  SmallVector<Value> negated = axpy(constant(-1.0), r, {});
  SmallVector<Value> steepest = axpy(constant(-1.0), gradients, {});
  Value descends = positive(dot(gradients, r));
  SmallVector<Value> direction =
      selectLeaves(b, loc, descends, negated, steepest);
  Value slope = dot(gradients, direction);

  Value eta = buildLineSearch(b, xs, direction, loss, slope, stop);
  // The next leaves, then each leaf's states together.
  SmallVector<Value> result = axpy(eta, direction, xs);
  for (unsigned leaf = 0; leaf < numLeaves; ++leaf) {
    for (unsigned i = 0; i < history; ++i)
      result.push_back(nextSteps[i][leaf]);
    for (unsigned i = 0; i < history; ++i)
      result.push_back(nextChanges[i][leaf]);
    result.push_back(xs[leaf]);
    result.push_back(gradients[leaf]);
  }
  if (!stop)
    return result;
  // Where the solve has stopped, everything stays.
  SmallVector<Value> old(xs);
  for (ValueRange leafStates : states)
    llvm::append_range(old, leafStates);
  return selectLeaves(b, loc, stop, old, result);
}

SmallVector<Value> MinimizeExpansion::updateCautiously(OpBuilder &b, Value x,
                                                       Value g,
                                                       ValueRange states,
                                                       Value t, Value stop) {
  // The update u = x' − x of the optimizer without its weight decay, and
  // the decay's own part, which stays unmasked.
  // (Where the solve has stopped, the states and the parameters stay.)
  SmallVector<Value> full =
      update(b, x, g, states, t, stop, stepHyperparameters);
  SmallVector<Value> core = full;
  if (weightDecay) {
    SmallVector<Value> hyper(stepHyperparameters);
    hyper[*weightDecay] =
        arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0));
    core = update(b, x, g, states, t, Value(), hyper);
  }
  Type element = getElementTypeOrSelf(x.getType());
  auto zero = [&](OpBuilder &inner) -> Value {
    return arith::ConstantOp::create(inner, loc, element,
                                     inner.getZeroAttr(element));
  };
  // φ = 1[u·g < 0] (−u is the descent direction), normalized by its mean
  // over the leaf, at least 1e-3.
  auto isAligned = [&](OpBuilder &inner, Value u, Value gk) -> Value {
    return arith::CmpFOp::create(inner, loc, arith::CmpFPredicate::OLT,
                                 arith::MulFOp::create(inner, loc, u, gk),
                                 zero(inner));
  };
  Value mask = mapElements(
      b, loc, {x, core[0], g}, [&](OpBuilder &inner, ValueRange e) -> Value {
        Value u = arith::SubFOp::create(inner, loc, e[1], e[0]);
        Value one = arith::ConstantOp::create(inner, loc, element,
                                              inner.getFloatAttr(element, 1.0));
        return arith::SelectOp::create(inner, loc, isAligned(inner, u, e[2]),
                                       one, zero(inner));
      });
  SmallVector<Value> ones = {
      mapElements(b, loc, {x}, [&](OpBuilder &inner, ValueRange) -> Value {
        return arith::ConstantOp::create(inner, loc, element,
                                         inner.getFloatAttr(element, 1.0));
      })};
  Value mean = arith::DivFOp::create(
      b, loc, ad::detail::buildLeafDot(b, loc, {mask}, ones),
      countElements(b, loc, x));
  Value scale = arith::MaximumFOp::create(
      b, loc, mean, arith::ConstantOp::create(b, loc, b.getF64FloatAttr(1e-3)));
  if (element != b.getF64Type())
    scale = arith::TruncFOp::create(b, loc, element, scale);
  Value next = mapElements(
      b, loc, {x, core[0], full[0], mask},
      [&](OpBuilder &inner, ValueRange e) -> Value {
        Value u = arith::SubFOp::create(inner, loc, e[1], e[0]);
        Value decay = arith::SubFOp::create(inner, loc, e[2], e[1]);
        Value masked = arith::DivFOp::create(
            inner, loc, arith::MulFOp::create(inner, loc, u, e[3]), scale);
        Value value = arith::AddFOp::create(
            inner, loc, arith::AddFOp::create(inner, loc, e[0], masked), decay);
        return stop ? arith::SelectOp::create(inner, loc, stop, e[0], value)
                          .getResult()
                    : value;
      });
  SmallVector<Value> values = {next};
  llvm::append_range(values, ArrayRef(full).drop_front());
  return values;
}

Value MinimizeExpansion::buildLoss(OpBuilder &b, ValueRange leaves) {
  auto callee = symbols.lookup<func::FuncOp>(op.callee.getValue());
  SmallVector<Value> operands = {
      lz::buildTupleFromLeaves(b, loc, op.init.getType(), leaves)};
  llvm::append_range(operands, op.captures);
  for (auto [operand, type] :
       llvm::zip(operands, callee.getFunctionType().getInputs()))
    if (operand.getType() != type)
      operand = tensor::CastOp::create(b, loc, type, operand);
  return func::CallOp::create(b, loc, callee, operands).getResult(0);
}

FailureOr<Value> MinimizeExpansion::expand() {
  if (failed(prepare()))
    return failure();
  Value init = op.init;
  SmallVector<Type> leafTypes;
  lz::getTupleLeafTypes(init.getType(), leafTypes);
  for (Type type : leafTypes) {
    Type element = type;
    if (auto tensor = dyn_cast<RankedTensorType>(type))
      element = tensor.getElementType();
    if (!isa<FloatType>(element) || element.getIntOrFloatBitWidth() > 64)
      return op.emitError("'")
             << op.op->getName().stripDialect()
             << "' needs parameters that are floats, float tensors or tuples "
                "of those, not "
             << init.getType();
    // Whether Adafactor factors a leaf depends on its shape.
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (info->factored && tensor && tensor.getRank() >= 2 &&
        !tensor.hasStaticShape())
      return op.emitError("not supported yet: 'adafactor' on a parameter "
                          "of dynamic shape ")
             << type
             << " (whether it factors the second moments depends on the "
                "shape)";
  }

  auto callee = symbols.lookup<func::FuncOp>(op.callee.getValue());
  if (!callee || callee.getNumResults() != 1 ||
      !isa<FloatType>(callee.getResultTypes()[0]))
    return op.emitOpError("needs a function '")
           << op.callee << "' that returns a float scalar";
  Type lossType = callee.getResultTypes()[0];

  // The state: the parameters' leaves, each leaf's optimizer states (zero,
  // or the parameters), DoG's distance and sum of squared gradient norms,
  // and the losses.
  SmallVector<Value> leaves;
  lz::buildTupleLeaves(builder, loc, init, leaves);
  unsigned numLeaves = leaves.size();
  SmallVector<Value> inits(leaves);
  // Where each leaf's states begin in the loop's state, and how many.
  SmallVector<unsigned> stateBegin, stateCount;
  for (Value leaf : leaves) {
    SmallVector<Value> states = buildInitialStates(leaf);
    stateBegin.push_back(inits.size());
    stateCount.push_back(states.size());
    llvm::append_range(inits, states);
  }
  unsigned globalBegin = inits.size();
  auto constant = [&](double value) -> Value {
    return arith::ConstantOp::create(builder, loc,
                                     builder.getF64FloatAttr(value));
  };
  // DoG: r̄₀ = reps_rel (1 + ‖x₀‖), G₀ = eps.
  if (info->distanceOverGradients) {
    Value norm = buildNormSqrt(
        builder, loc, ad::detail::buildLeafDot(builder, loc, leaves, leaves));
    inits.push_back(arith::MulFOp::create(
        builder, loc, hyperparameters[1],
        arith::AddFOp::create(builder, loc, constant(1.0), norm)));
    inits.push_back(hyperparameters[2]);
  }
  if (op.losses) {
    auto type = cast<RankedTensorType>(op.losses.getType());
    Type element = type.getElementType();
    Value zero = arith::ConstantOp::create(builder, loc, element,
                                           builder.getZeroAttr(element));
    SmallVector<Value> sizes;
    if (type.isDynamicDim(0))
      sizes.push_back(op.steps);
    inits.push_back(lz::FillOp::create(builder, loc, type, zero, sizes));
  }
  SmallVector<Type> types;
  for (Value value : inits)
    types.push_back(value.getType());

  auto module = op.op->getParentOfType<ModuleOp>();
  bool traced = module && module->hasAttr("lz.trace");
  // A solve leaves its loop once converged: a while loop that also carries
  // the step and whether the last one stopped (it is never differentiated:
  // solves are expanded after differentiation).
  bool early = op.tol.has_value();
  SmallVector<Value> loopInits(inits);
  SmallVector<Type> loopTypes(types);
  if (early) {
    loopInits.push_back(arith::ConstantIndexOp::create(builder, loc, 0));
    loopInits.push_back(arith::ConstantIntOp::create(builder, loc, 0, 1));
    loopTypes.append({builder.getIndexType(), builder.getI1Type()});
  }
  auto loop = lz::LoopOp::create(builder, loc, loopTypes,
                                 early ? Value() : op.steps, loopInits);
  if (early) {
    OpBuilder::InsertionGuard guard(builder);
    Block *cond = builder.createBlock(&loop.getCond());
    for (Type type : loopTypes)
      cond->addArgument(type, loc);
    Value k = cond->getArgument(loopTypes.size() - 2);
    Value stopped = cond->getArgument(loopTypes.size() - 1);
    Value more = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::slt,
                                       k, op.steps);
    Value running =
        arith::XOrIOp::create(builder, loc, stopped,
                              arith::ConstantIntOp::create(builder, loc, 1, 1));
    lz::ConditionOp::create(builder, loc,
                            arith::AndIOp::create(builder, loc, more, running));
  }
  {
    OpBuilder::InsertionGuard guard(builder);
    Block *body = builder.createBlock(&loop.getBody());
    Value step;
    if (!early)
      step = body->addArgument(builder.getIndexType(), loc);
    for (Type type : loopTypes)
      body->addArgument(type, loc);
    ValueRange state = body->getArguments().drop_front(early ? 0 : 1);
    if (early) {
      step = state[state.size() - 2];
      state = state.drop_back(2);
    }
    ValueRange xs = state.take_front(numLeaves);
    ValueRange params = xs;
    Value x = lz::buildTupleFromLeaves(builder, loc, init.getType(), params);
    auto [loss, gradients] = buildValueAndGradient(lossType, x);
    // A solve stops where the gradient's norm is at most tol: the update
    // is skipped, and the loop ends.
    Value stop;
    if (op.tol) {
      Value norm = ad::detail::buildLeafDot(builder, loc, gradients, gradients);
      Value limit = arith::ConstantOp::create(
          builder, loc, builder.getF64FloatAttr(*op.tol * *op.tol));
      stop = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OLE,
                                   norm, limit);
    }
    // The loss of the parameters that the loop returns, for its trace.
    Value tracedLoss = loss;
    if (info->resultState && (op.losses || traced)) {
      SmallVector<Value> results;
      for (unsigned i = 0; i < numLeaves; ++i)
        results.push_back(state[stateBegin[i] + *info->resultState]);
      tracedLoss = buildLoss(builder, results);
    }
    // Under --trace, the loss of every step that updates.
    if (traced) {
      StringAttr what = builder.getStringAttr(op.op->getName().stripDialect());
      if (stop) {
        auto ifOp = scf::IfOp::create(builder, loc, stop,
                                      /*withElseRegion=*/true);
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(ifOp.elseBlock());
        lz::TraceLossOp::create(builder, loc, step, tracedLoss, what);
      } else {
        lz::TraceLossOp::create(builder, loc, step, tracedLoss, what);
      }
    }
    // t = step + 1, as a float.
    Value one = arith::ConstantIndexOp::create(builder, loc, 1);
    Value count = arith::AddIOp::create(builder, loc, step, one);
    Value t =
        arith::UIToFPOp::create(builder, loc, builder.getF64Type(),
                                arith::IndexCastUIOp::create(
                                    builder, loc, builder.getI64Type(), count));
    // The schedules' values at this step.
    stepHyperparameters = hyperparameters;
    for (auto [index, schedule] : schedules)
      stepHyperparameters[index] =
          func::CallOp::create(builder, loc, schedule, ValueRange{t})
              .getResult(0);
    // DoG: r̄ = max(r̄, ‖x − x₀‖), G = G + ‖g‖², and the step size
    // η = lr r̄ / √G in place of lr; norms over all the leaves.
    SmallVector<Value> nextGlobal;
    if (info->distanceOverGradients) {
      SmallVector<Value> x0s;
      for (unsigned i = 0; i < numLeaves; ++i)
        x0s.push_back(state[stateBegin[i]]);
      SmallVector<Value> moved =
          ad::detail::buildLeafAxpy(builder, loc, constant(-1.0), x0s, xs);
      Value distance = buildNormSqrt(
          builder, loc, ad::detail::buildLeafDot(builder, loc, moved, moved));
      Value rbar = state[globalBegin];
      Value sum = state[globalBegin + 1];
      Value nextRbar = arith::MaximumFOp::create(builder, loc, rbar, distance);
      Value nextSum = arith::AddFOp::create(
          builder, loc, sum,
          ad::detail::buildLeafDot(builder, loc, gradients, gradients));
      stepHyperparameters[0] = arith::DivFOp::create(
          builder, loc,
          arith::MulFOp::create(builder, loc, stepHyperparameters[0], nextRbar),
          math::SqrtOp::create(builder, loc, nextSum));
      if (stop) {
        nextRbar = arith::SelectOp::create(builder, loc, stop, rbar, nextRbar);
        nextSum = arith::SelectOp::create(builder, loc, stop, sum, nextSum);
      }
      nextGlobal = {nextRbar, nextSum};
    }
    SmallVector<Value> nextLeaves, nextStates;
    if (info->quasiNewton) {
      SmallVector<ValueRange> states;
      for (unsigned i = 0; i < numLeaves; ++i)
        states.push_back(state.slice(stateBegin[i], stateCount[i]));
      SmallVector<Value> values =
          stepLbfgs(builder, xs, gradients, loss, states, stop);
      nextLeaves.assign(values.begin(), values.begin() + numLeaves);
      nextStates.assign(values.begin() + numLeaves, values.end());
    }
    for (unsigned i = 0; i < numLeaves && !info->quasiNewton; ++i) {
      ValueRange states = state.slice(stateBegin[i], stateCount[i]);
      SmallVector<Value> values =
          cautious
              ? updateCautiously(builder, xs[i], gradients[i], states, t, stop)
              : update(builder, xs[i], gradients[i], states, t, stop,
                       stepHyperparameters);
      nextLeaves.push_back(values[0]);
      llvm::append_range(nextStates, ArrayRef(values).drop_front());
    }
    SmallVector<Value> yields(nextLeaves);
    llvm::append_range(yields, nextStates);
    llvm::append_range(yields, nextGlobal);
    if (op.losses)
      yields.push_back(tensor::InsertOp::create(builder, loc, tracedLoss,
                                                state.back(), step));
    if (early)
      yields.append({arith::AddIOp::create(builder, loc, step, one), stop});
    lz::YieldOp::create(builder, loc, yields);
  }
  SmallVector<Value> results(loop.getResults().take_front(numLeaves));
  if (info->resultState)
    for (unsigned i = 0; i < numLeaves; ++i)
      results[i] = loop.getResult(stateBegin[i] + *info->resultState);
  ValueRange resultLeaves = results;
  Value result =
      lz::buildTupleFromLeaves(builder, loc, init.getType(), resultLeaves);
  if (op.losses)
    op.losses.replaceAllUsesWith(loop.getResults().back());
  // A solve reports a gradient above its tolerance at the solution.
  if (op.tol) {
    SmallVector<Value> gradients =
        buildValueAndGradient(lossType, result).second;
    Value norm = math::SqrtOp::create(
        builder, loc,
        ad::detail::buildLeafDot(builder, loc, gradients, gradients));
    Value tol = arith::ConstantOp::create(builder, loc,
                                          builder.getF64FloatAttr(*op.tol));
    lz::CheckToleranceOp::create(
        builder, loc, norm, tol,
        builder.getStringAttr("the norm of the gradient at the solution of '" +
                              op.op->getName().stripDialect() + "'"));
  }
  return result;
}

/// The loop that `op`, an `ad.minimize` or `ad.argmin`, runs.
template <typename OpTy>
static OptimizerLoop getOptimizerLoop(OpTy op, Value losses,
                                      std::optional<double> tol) {
  return {op,
          op.getCalleeAttr(),
          op.getInit(),
          op.getCaptures(),
          op.getSteps(),
          op.getOptimizer(),
          losses,
          tol};
}

/// Replaces the operation of `loop` by its expansion.
static LogicalResult expandInPlace(OptimizerLoop loop, SymbolTable &symbols) {
  FailureOr<Value> result = MinimizeExpansion(loop, symbols).expand();
  if (failed(result))
    return failure();
  loop.op->getResult(0).replaceAllUsesWith(*result);
  loop.op->erase();
  return success();
}

/// Expands every `OpTy` of `module` with `expand`, reporting every failure
/// before failing.
template <typename OpTy>
static LogicalResult
expandEach(ModuleOp module,
           function_ref<LogicalResult(OpTy, SymbolTable &)> expand) {
  SmallVector<OpTy> ops;
  module.walk([&](OpTy op) { ops.push_back(op); });
  SymbolTable symbols(module);
  bool ok = true;
  for (OpTy op : ops)
    if (failed(expand(op, symbols)))
      ok = false;
  return success(ok);
}

LogicalResult leibniz::ad::expandOptimizerLoops(ModuleOp module) {
  return expandEach<ad::MinimizeOp>(
      module, [](ad::MinimizeOp op, SymbolTable &symbols) {
        return expandInPlace(getOptimizerLoop(op, op.getLosses(), std::nullopt),
                             symbols);
      });
}

/// A while `lz.loop` over the state `inits` that runs at most `maxSteps`
/// steps and ends after the step whose `body` says it is done: `body`
/// builds a step on the state with `builder` and returns the next state
/// and whether it is done. Returns the final state.
static ValueRange buildEarlyExitLoop(
    OpBuilder &builder, Location loc, Value maxSteps, ValueRange inits,
    function_ref<std::pair<SmallVector<Value>, Value>(ValueRange)> body) {
  SmallVector<Value> loopInits(inits);
  loopInits.push_back(arith::ConstantIndexOp::create(builder, loc, 0));
  loopInits.push_back(arith::ConstantIntOp::create(builder, loc, 0, 1));
  SmallVector<Type> types;
  for (Value init : loopInits)
    types.push_back(init.getType());
  auto loop = lz::LoopOp::create(builder, loc, types, Value(), loopInits);
  OpBuilder::InsertionGuard guard(builder);
  {
    Block *cond = builder.createBlock(&loop.getCond());
    for (Type type : types)
      cond->addArgument(type, loc);
    Value more =
        arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::slt,
                              cond->getArgument(types.size() - 2), maxSteps);
    Value running =
        arith::XOrIOp::create(builder, loc, cond->getArgument(types.size() - 1),
                              arith::ConstantIntOp::create(builder, loc, 1, 1));
    lz::ConditionOp::create(builder, loc,
                            arith::AndIOp::create(builder, loc, more, running));
  }
  Block *block = builder.createBlock(&loop.getBody());
  for (Type type : types)
    block->addArgument(type, loc);
  ValueRange state = block->getArguments();
  auto [next, done] = body(state.drop_back(2));
  next.push_back(
      arith::AddIOp::create(builder, loc, state[state.size() - 2],
                            arith::ConstantIndexOp::create(builder, loc, 1)));
  next.push_back(done);
  lz::YieldOp::create(builder, loc, next);
  return loop.getResults().drop_back(2);
}

/// A number of a solver's configuration, or `fallback`.
static double getConfigNumber(DictionaryAttr config, StringRef key,
                              double fallback) {
  if (auto value = config.getAs<FloatAttr>(key))
    return value.getValueAsDouble();
  if (auto value = config.getAs<IntegerAttr>(key))
    return static_cast<double>(value.getInt());
  return fallback;
}

/// The fixed point of `apply` from `init`, at most `iters` steps, by
/// Anderson acceleration (type II, as JAXopt's): each step mixes the
/// newest `m` iterates xᵢ and residuals fᵢ = T(xᵢ) − xᵢ as
/// x ← Σ αᵢ (xᵢ + beta fᵢ), with the weights α (Σ αᵢ = 1) that minimize
/// ‖Σ αᵢ fᵢ‖² + ridge·s‖α‖² (s: the mean of the ‖fᵢ‖²), by the dense
/// bordered system. It stops at ‖f‖ ≤ tol (1 + ‖x‖), with T(x).
static Value buildAndersonLoop(OpBuilder &builder, Location loc, Value init,
                               Value iters, unsigned m, double beta,
                               double ridge, double tol, func::FuncOp solveFn,
                               function_ref<Value(OpBuilder &, Value)> apply) {
  Type f64 = builder.getF64Type();
  auto constant = [&](double value) -> Value {
    return arith::ConstantOp::create(builder, loc,
                                     builder.getF64FloatAttr(value));
  };
  auto dot = [&](ValueRange a, ValueRange b) {
    return ad::detail::buildLeafDot(builder, loc, a, b);
  };
  auto axpy = [&](Value alpha, ValueRange a, ValueRange b) {
    return ad::detail::buildLeafAxpy(builder, loc, alpha, a, b);
  };
  Type type = init.getType();
  SmallVector<Value> leaves;
  lz::buildTupleLeaves(builder, loc, init, leaves);
  unsigned numLeaves = leaves.size();
  // The state: x, the iterates' and the residuals' histories (newest
  // last, zero until filled), and the number of pairs so far.
  SmallVector<Value> inits = {init};
  for (unsigned i = 0; i < 2 * m; ++i)
    for (Value leaf : leaves)
      inits.push_back(ad::detail::buildZeros(builder, loc, leaf));
  inits.push_back(constant(0.0));
  auto body = [&](ValueRange state) {
    Value x = state[0];
    auto slot = [&](unsigned first, unsigned i) {
      return state.slice(1 + (first + i) * numLeaves, numLeaves);
    };
    Value count = state.back();
    SmallVector<Value> xs, gs;
    lz::buildTupleLeaves(builder, loc, x, xs);
    Value g = apply(builder, x);
    lz::buildTupleLeaves(builder, loc, g, gs);
    SmallVector<Value> f = axpy(constant(-1.0), xs, gs);
    // Done once the residual is small: the step returns T(x).
    Value bound = arith::MulFOp::create(
        builder, loc, constant(tol),
        arith::AddFOp::create(builder, loc, constant(1.0),
                              math::SqrtOp::create(builder, loc, dot(xs, xs))));
    Value done = arith::CmpFOp::create(
        builder, loc, arith::CmpFPredicate::OLE, dot(f, f),
        arith::MulFOp::create(builder, loc, bound, bound));
    // The histories move by one; the newest pair enters.
    SmallVector<SmallVector<Value>> X, F;
    for (unsigned i = 0; i < m; ++i) {
      X.push_back(i + 1 < m ? SmallVector<Value>(slot(0, i + 1)) : xs);
      F.push_back(i + 1 < m ? SmallVector<Value>(slot(m, i + 1)) : f);
    }
    Value pairs = arith::MinimumFOp::create(
        builder, loc, arith::AddFOp::create(builder, loc, count, constant(1.0)),
        constant(m));
    // Slot i holds a pair when i ≥ m − pairs.
    SmallVector<Value> valid;
    for (unsigned i = 0; i < m; ++i)
      valid.push_back(arith::CmpFOp::create(
          builder, loc, arith::CmpFPredicate::OGE, constant(i),
          arith::SubFOp::create(builder, loc, constant(m), pairs)));
    // [0 vᵀ; v H] (α; μ) = e₀, with H the residuals' Gram matrix plus the
    // ridge on the pairs, and the identity (α = 0) on the empty slots.
    SmallVector<SmallVector<Value>> gram(m, SmallVector<Value>(m));
    Value trace = constant(0.0);
    for (unsigned i = 0; i < m; ++i)
      for (unsigned j = 0; j <= i; ++j) {
        gram[i][j] = gram[j][i] = dot(F[i], F[j]);
        if (i == j)
          trace = arith::AddFOp::create(builder, loc, trace, gram[i][i]);
      }
    Value scale = arith::MaximumFOp::create(
        builder, loc, arith::DivFOp::create(builder, loc, trace, pairs),
        constant(std::numeric_limits<double>::min()));
    Value shift = arith::MulFOp::create(builder, loc, constant(ridge), scale);
    auto matrixType = RankedTensorType::get({m + 1, m + 1}, f64);
    auto vectorType = RankedTensorType::get({m + 1}, f64);
    Value matrix = lz::FillOp::create(builder, loc, matrixType, constant(0.0),
                                      ValueRange{});
    auto insert = [&](Value into, Value value, ArrayRef<unsigned> at) {
      SmallVector<Value> indices;
      for (unsigned index : at)
        indices.push_back(arith::ConstantIndexOp::create(builder, loc, index));
      return tensor::InsertOp::create(builder, loc, value, into, indices)
          .getResult();
    };
    for (unsigned i = 0; i < m; ++i) {
      Value border = arith::SelectOp::create(builder, loc, valid[i],
                                             constant(1.0), constant(0.0));
      matrix = insert(matrix, border, {0, i + 1});
      matrix = insert(matrix, border, {i + 1, 0});
      for (unsigned j = 0; j < m; ++j) {
        Value entry = gram[i][j];
        if (i == j)
          entry = arith::AddFOp::create(builder, loc, entry, shift);
        Value both = arith::AndIOp::create(builder, loc, valid[i], valid[j]);
        matrix = insert(matrix,
                        arith::SelectOp::create(builder, loc, both, entry,
                                                constant(i == j ? 1.0 : 0.0)),
                        {i + 1, j + 1});
      }
    }
    Value rhs = insert(lz::FillOp::create(builder, loc, vectorType,
                                          constant(0.0), ValueRange{}),
                       constant(1.0), {0});
    auto inputs = solveFn.getFunctionType().getInputs();
    Value weights =
        func::CallOp::create(
            builder, loc, solveFn,
            ValueRange{tensor::CastOp::create(builder, loc, inputs[0], matrix),
                       tensor::CastOp::create(builder, loc, inputs[1], rhs)})
            .getResult(0);
    SmallVector<Value> mixed;
    for (unsigned i = 0; i < m; ++i) {
      Value alpha = lz::GetOp::create(
          builder, loc, weights,
          ValueRange{arith::ConstantIndexOp::create(builder, loc, i + 1)});
      // αᵢ (xᵢ + beta fᵢ)
      SmallVector<Value> term =
          axpy(alpha, axpy(constant(beta), F[i], X[i]), {});
      mixed = i == 0 ? term : axpy(constant(1.0), term, mixed);
    }
    SmallVector<Value> chosen = selectLeaves(builder, loc, done, gs, mixed);
    ValueRange chosenLeaves = chosen;
    SmallVector<Value> next = {
        lz::buildTupleFromLeaves(builder, loc, type, chosenLeaves)};
    for (auto &history : {X, F})
      for (unsigned i = 0; i < m; ++i)
        llvm::append_range(next, history[i]);
    next.push_back(arith::AddFOp::create(builder, loc, count, constant(1.0)));
    return std::make_pair(next, done);
  };
  return buildEarlyExitLoop(builder, loc, iters, inits, body).front();
}

/// Replaces `op` by applications of its map from its initial point, at
/// most `iters`, until one leaves x as it is (`iterate()`), or by Anderson
/// acceleration, and reports a result that is not a fixed point:
/// ‖T(x) − x‖ > max(1e-10, Anderson's tol) (1 + ‖x‖).
static LogicalResult expandFixedPoint(ad::FixedPointOp op,
                                      SymbolTable &symbols) {
  DictionaryAttr config = op.getSolver();
  auto solver = config.getAs<StringAttr>("name");
  StringRef kind = solver ? solver.getValue() : "";
  if (kind != "iterate" && kind != "anderson")
    return op.emitError("unknown fixed-point solver '") << kind << "'";
  auto map = symbols.lookup<func::FuncOp>(op.getCallee());
  if (!map)
    return op.emitOpError("needs a function '") << op.getCallee() << "'";
  OpBuilder builder(op);
  Location loc = op.getLoc();
  Type type = op.getResult().getType();
  auto apply = [&](OpBuilder &b, Value x) {
    SmallVector<Value> operands = {x};
    llvm::append_range(operands, op.getCaptures());
    for (auto [operand, input] :
         llvm::zip(operands, map.getFunctionType().getInputs()))
      if (operand.getType() != input)
        operand = tensor::CastOp::create(b, loc, input, operand);
    Value result = func::CallOp::create(b, loc, map, operands).getResult(0);
    if (result.getType() != type)
      result = tensor::CastOp::create(b, loc, type, result);
    return result;
  };
  auto constant = [&](double value) -> Value {
    return arith::ConstantOp::create(builder, loc,
                                     builder.getF64FloatAttr(value));
  };
  Value result;
  // The result is a fixed point to 1e-10 (1 + |x|), or to Anderson's tol
  // where that is larger.
  double checked = 1e-10;
  if (kind == "anderson") {
    double m = getConfigNumber(config, "m", 5),
           beta = getConfigNumber(config, "beta", 1.0),
           ridge = getConfigNumber(config, "ridge", 1e-10),
           tol = getConfigNumber(config, "tol", 1e-12);
    checked = std::max(checked, tol);
    if (m != std::floor(m) || m < 1 || m > 20)
      return op.emitError("the history 'm' of 'anderson' must be a whole "
                          "number from 1 to 20, not ")
             << formatNumber(m);
    if (!(beta > 0) || !(ridge >= 0) || !(tol >= 0))
      return op.emitError("'anderson' needs beta > 0, ridge >= 0 and tol >= 0");
    Type f64 = builder.getF64Type();
    auto matrixType = RankedTensorType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic}, f64);
    auto vectorType = RankedTensorType::get({ShapedType::kDynamic}, f64);
    auto solveFn = symbols.lookup<func::FuncOp>(ad::getStdSymbol("lu_solve"));
    if (!solveFn ||
        solveFn.getFunctionType() !=
            builder.getFunctionType({matrixType, vectorType}, {vectorType}))
      return op.emitError("the fixed-point solver 'anderson' needs the "
                          "standard library's 'lu_solve'");
    result = buildAndersonLoop(builder, loc, op.getInit(), op.getIters(),
                               static_cast<unsigned>(m), beta, ridge, tol,
                               solveFn, apply);
  } else {
    // The loop ends once an application of T leaves x as it is (bit for
    // bit: a fixed point of the floating-point map).
    result = buildEarlyExitLoop(
                 builder, loc, op.getIters(), ValueRange{op.getInit()},
                 [&](ValueRange state) {
                   Value next = apply(builder, state[0]);
                   SmallVector<Value> as, bs;
                   lz::buildTupleLeaves(builder, loc, next, as);
                   lz::buildTupleLeaves(builder, loc, state[0], bs);
                   SmallVector<Value> moved = ad::detail::buildLeafAxpy(
                       builder, loc, constant(-1.0), as, bs);
                   Value done = arith::CmpFOp::create(
                       builder, loc, arith::CmpFPredicate::OEQ,
                       ad::detail::buildLeafDot(builder, loc, moved, moved),
                       constant(0.0));
                   return std::make_pair(SmallVector<Value>{next}, done);
                 })
                 .front();
  }
  SmallVector<Value> xs, next;
  lz::buildTupleLeaves(builder, loc, result, xs);
  lz::buildTupleLeaves(builder, loc, apply(builder, result), next);
  Value minusOne =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(-1.0));
  SmallVector<Value> residual =
      ad::detail::buildLeafAxpy(builder, loc, minusOne, xs, next);
  Value norm = math::SqrtOp::create(
      builder, loc, ad::detail::buildLeafDot(builder, loc, residual, residual));
  Value size = math::SqrtOp::create(
      builder, loc, ad::detail::buildLeafDot(builder, loc, xs, xs));
  Value one =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(1.0));
  Value limit = arith::MulFOp::create(
      builder, loc, arith::AddFOp::create(builder, loc, one, size),
      arith::ConstantOp::create(builder, loc,
                                builder.getF64FloatAttr(checked)));
  lz::CheckToleranceOp::create(
      builder, loc, norm, limit,
      builder.getStringAttr("the residual |T(x) - x| of 'fixed_point'"));
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  return success();
}

/// `callee` called on `operands`, each cast to its input type where their
/// static sizes differ.
static func::CallOp buildCall(OpBuilder &builder, Location loc,
                              func::FuncOp callee, ValueRange operands) {
  SmallVector<Value> cast;
  for (auto [operand, type] :
       llvm::zip(operands, callee.getFunctionType().getInputs()))
    cast.push_back(operand.getType() == type
                       ? operand
                       : tensor::CastOp::create(builder, loc, type, operand));
  return func::CallOp::create(builder, loc, callee, cast);
}

namespace {

/// Newton's or Broyden's method for an `ad.root`. The iteration works on
/// the unknowns as one vector of f64 (`tensor<?xf64>`: the elements of all
/// their leaves) and solves its linear systems with the standard library's
/// dense `lu_solve`.
class RootExpansion {
public:
  RootExpansion(ad::RootOp op, SymbolTable &symbols)
      : op(op), symbols(symbols), builder(op), loc(op.getLoc()) {}

  LogicalResult expand();

private:
  /// The vector of a value of the parameters' type, and back.
  Value toVector(Value x);
  Value fromVector(Value v);
  /// F at the vector x.
  Value applyF(Value x);
  /// The Jacobian of F at the vector x, by forward mode.
  Value buildJacobian(Value x);
  /// The solution of J d = f.
  Value solve(Value jacobian, Value f);
  /// x + alpha y.
  Value axpy(double alpha, Value y, Value x);
  Value dot(Value a, Value b);
  Value constant(double value) {
    return arith::ConstantOp::create(builder, loc,
                                     builder.getF64FloatAttr(value));
  }

  ad::RootOp op;
  SymbolTable &symbols;
  OpBuilder builder;
  Location loc;
  func::FuncOp f, solveFn, updateFn;
  /// The leaves of the initial point: the unknowns' types and shapes.
  SmallVector<Value> unknowns;
  Type vectorType, matrixType;
};

} // namespace

Value RootExpansion::toVector(Value x) {
  SmallVector<Value> leaves;
  lz::buildTupleLeaves(builder, loc, x, leaves);
  return ad::detail::buildFlatten(builder, loc, leaves);
}

Value RootExpansion::fromVector(Value v) {
  SmallVector<Value> leaves =
      ad::detail::buildUnflatten(builder, loc, v, unknowns);
  ValueRange range = leaves;
  return lz::buildTupleFromLeaves(builder, loc, op.getResult().getType(),
                                  range);
}

Value RootExpansion::applyF(Value x) {
  SmallVector<Value> operands = {fromVector(x)};
  llvm::append_range(operands, op.getCaptures());
  return toVector(buildCall(builder, loc, f, operands).getResult(0));
}

Value RootExpansion::buildJacobian(Value x) {
  FunctionType type = f.getFunctionType();
  auto castTo = [&](Value value, Type to) -> Value {
    return value.getType() == to
               ? value
               : tensor::CastOp::create(builder, loc, to, value).getResult();
  };
  Value point = castTo(fromVector(x), type.getInput(0));
  SmallVector<Value> captures;
  for (auto [captured, input] :
       llvm::zip(op.getCaptures(), type.getInputs().drop_front()))
    captures.push_back(castTo(captured, input));
  // Column j is the tangent of F along the j-th unknown, by forward mode.
  return ad::detail::buildDenseMatrix(
      builder, loc, ad::detail::buildLeafCount(builder, loc, unknowns),
      [&](Value unit) {
        Value tangent = castTo(fromVector(unit), type.getInput(0));
        auto jvp = ad::JvpOp::create(
            builder, loc, type.getResult(0), type.getResult(0), f.getSymName(),
            ValueRange{point}, ValueRange{tangent}, captures);
        return toVector(jvp.getTangent());
      });
}

Value RootExpansion::solve(Value jacobian, Value f) {
  return buildCall(builder, loc, solveFn, {jacobian, f}).getResult(0);
}

Value RootExpansion::axpy(double alpha, Value y, Value x) {
  return ad::detail::buildLeafAxpy(builder, loc, constant(alpha), y,
                                   x ? ValueRange(x) : ValueRange())[0];
}

Value RootExpansion::dot(Value a, Value b) {
  return ad::detail::buildLeafDot(builder, loc, a, b);
}

LogicalResult RootExpansion::expand() {
  DictionaryAttr config = op.getSolver();
  auto name = config.getAs<StringAttr>("name");
  StringRef kind = name ? name.getValue() : "";
  if (kind != "newton" && kind != "broyden")
    return op.emitError("unknown root solver '") << kind << "'";
  bool broyden = kind == "broyden";
  double iters = getConfigNumber(config, "iters", 20),
         tol = getConfigNumber(config, "tol", 1e-10);
  if (!(iters >= 0) || !(tol >= 0))
    return op.emitError("the root solver '")
           << kind << "' needs iters >= 0 and tol >= 0";

  // The unknowns, whatever their structure (tuples, tensors, f32), are
  // solved for as one vector of f64.
  Type f64 = builder.getF64Type();
  lz::buildTupleLeaves(builder, loc, op.getInit(), unknowns);
  vectorType = RankedTensorType::get({ShapedType::kDynamic}, f64);
  matrixType =
      RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic}, f64);
  f = symbols.lookup<func::FuncOp>(op.getCallee());
  if (!f)
    return op.emitOpError("needs a function '") << op.getCallee() << "'";
  // The standard library's dense solver (lib/Std/linalg.lz), and
  // Broyden's update.
  auto lookup = [&](StringRef fnName, ArrayRef<Type> inputs,
                    Type result) -> func::FuncOp {
    auto fn = symbols.lookup<func::FuncOp>(ad::getStdSymbol(fnName));
    if (!fn || fn.getFunctionType() !=
                   builder.getFunctionType(inputs, TypeRange{result})) {
      op.emitError("the root solver '")
          << kind << "' needs the standard library's '" << fnName << "'";
      return {};
    }
    return fn;
  };
  solveFn = lookup("lu_solve", {matrixType, vectorType}, vectorType);
  if (!solveFn)
    return failure();
  if (broyden) {
    updateFn = lookup("broyden_update", {matrixType, vectorType, vectorType},
                      matrixType);
    if (!updateFn)
      return failure();
  }

  // Steps stop once |F(x)|^2 <= tol^2; Broyden carries F(x) and its
  // estimate of the Jacobian, starting from the Jacobian at x0.
  Value limit = constant(tol * tol);
  Value x0 = toVector(op.getInit());
  SmallVector<Value> inits = {x0};
  if (broyden) {
    inits.push_back(applyF(x0));
    inits.push_back(buildJacobian(x0));
  }
  Value count =
      arith::ConstantIndexOp::create(builder, loc, static_cast<int64_t>(iters));
  ValueRange results = buildEarlyExitLoop(
      builder, loc, count, inits, [&](ValueRange stateRange) {
        SmallVector<Value> state(stateRange);
        Value x = state[0];
        Value fx = broyden ? state[1] : applyF(x);
        Value done = arith::CmpFOp::create(
            builder, loc, arith::CmpFPredicate::OLE, dot(fx, fx), limit);
        auto step = scf::IfOp::create(
            builder, loc, done,
            [&](OpBuilder &b, Location loc) {
              scf::YieldOp::create(b, loc, state);
            },
            [&](OpBuilder &b, Location loc) {
              OpBuilder::InsertionGuard guard(builder);
              builder.setInsertionPoint(b.getInsertionBlock(),
                                        b.getInsertionPoint());
              Value jacobian = broyden ? state[2] : buildJacobian(x);
              Value stepValue = axpy(-1.0, solve(jacobian, fx), {});
              Value next = axpy(1.0, stepValue, x);
              SmallVector<Value> yields = {next};
              if (broyden) {
                Value fNext = applyF(next);
                yields.push_back(fNext);
                yields.push_back(
                    buildCall(builder, loc, updateFn,
                              {jacobian, stepValue, axpy(-1.0, fx, fNext)})
                        .getResult(0));
              }
              scf::YieldOp::create(builder, loc, yields);
            });
        return std::make_pair(SmallVector<Value>(step.getResults()), done);
      });
  Value solution = results.front();
  Value residual = applyF(solution);
  lz::CheckToleranceOp::create(
      builder, loc, math::SqrtOp::create(builder, loc, dot(residual, residual)),
      constant(tol), builder.getStringAttr("the residual |F(x)| of 'root'"));
  op.getResult().replaceAllUsesWith(fromVector(solution));
  op.erase();
  return success();
}

LogicalResult leibniz::ad::expandSolves(ModuleOp module) {
  if (failed(
          expandEach<ad::RootOp>(module,
                                 [](ad::RootOp op, SymbolTable &symbols) {
                                   return RootExpansion(op, symbols).expand();
                                 })) ||
      failed(expandEach<ad::FixedPointOp>(module, expandFixedPoint)))
    return failure();
  return expandEach<ad::ArgminOp>(module, [](ad::ArgminOp op,
                                             SymbolTable &symbols) {
    return expandInPlace(
        getOptimizerLoop(op, Value(), op.getTol().convertToDouble()), symbols);
  });
}
