//===- Forward.cpp - Forward-mode differentiation -------------------------===//
//
// Part of Leibniz.
//
// The forward transformation of a function pairs each value with its
// tangent: every operation is cloned for its primal value and followed by
// the operations its `jvp` rule emits for the tangent. Tangents that are
// zero are not materialized (a null tangent), so a value that does not
// depend on the differentiated arguments costs nothing extra.
//
// The transformations of the `ad` dialect expand into calls of derivative
// functions: `ad.jvp` calls the derivative once; gradients and Jacobians
// evaluate it along every one-hot direction of an argument, in one
// traversal over the directions (marked `ad.directions`), which the
// rewrite strategy fwd-ad-opt then optimizes.
//
//===----------------------------------------------------------------------===//

#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Reverse.h"

#include "Rules.h"

#include "AD/ADOps.h"
#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::ad;

bool leibniz::ad::hasTangent(Type type) {
  if (isa<FloatType>(type))
    return true;
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return isa<FloatType>(tensor.getElementType());
  if (auto tuple = dyn_cast<TupleType>(type))
    return llvm::any_of(tuple.getTypes(), hasTangent);
  return false;
}

//===----------------------------------------------------------------------===//
// Zeros and sums of tangents and cotangents
//===----------------------------------------------------------------------===//

Value ad::detail::buildZeros(OpBuilder &builder, Location loc, Value value) {
  Type type = value.getType();
  if (isa<FloatType, IntegerType, IndexType>(type))
    return arith::ConstantOp::create(builder, loc, type,
                                     builder.getZeroAttr(type));
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    Type element = tensor.getElementType();
    Value zero = arith::ConstantOp::create(builder, loc, element,
                                           builder.getZeroAttr(element));
    SmallVector<Value> sizes;
    for (auto [i, size] : llvm::enumerate(tensor.getShape()))
      if (ShapedType::isDynamic(size))
        sizes.push_back(tensor::DimOp::create(builder, loc, value, i));
    return lz::FillOp::create(builder, loc, type, zero, sizes);
  }
  auto tuple = cast<TupleType>(type);
  SmallVector<Value> elements;
  for (unsigned i = 0; i < tuple.size(); ++i) {
    Value element = lz::ProjOp::create(builder, loc, value, i);
    elements.push_back(buildZeros(builder, loc, element));
  }
  return lz::TupleOp::create(builder, loc, type, elements);
}

Value ad::detail::buildAdd(OpBuilder &builder, Location loc, Value lhs,
                           Value rhs) {
  if (!lhs)
    return rhs;
  if (!rhs)
    return lhs;
  Type type = lhs.getType();
  if (isa<FloatType>(type))
    return arith::AddFOp::create(builder, loc, lhs, rhs);
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    if (!isa<FloatType>(tensor.getElementType()))
      return lhs;
    if (tensor.getRank() == 0) {
      Value x = lz::GetOp::create(builder, loc, lhs, ValueRange{});
      Value y = lz::GetOp::create(builder, loc, rhs, ValueRange{});
      Value z = arith::AddFOp::create(builder, loc, x, y);
      return lz::FillOp::create(builder, loc, type, z, ValueRange{});
    }
    SmallVector<Value> ranges;
    for (int64_t i = 0; i < tensor.getRank(); ++i)
      ranges.push_back(tensor::DimOp::create(builder, loc, lhs, i));
    auto sum =
        lz::ForOp::create(builder, loc, TypeRange{type}, ranges,
                          [&](OpBuilder &b, Location loc, ValueRange indices) {
                            Value x = lz::GetOp::create(b, loc, lhs, indices);
                            Value y = lz::GetOp::create(b, loc, rhs, indices);
                            Value z = arith::AddFOp::create(b, loc, x, y);
                            lz::YieldOp::create(b, loc, ValueRange{z});
                          });
    return sum.getResult(0);
  }
  if (auto tuple = dyn_cast<TupleType>(type)) {
    SmallVector<Value> elements;
    for (unsigned i = 0; i < tuple.size(); ++i) {
      Value x = lz::ProjOp::create(builder, loc, lhs, i);
      Value y = lz::ProjOp::create(builder, loc, rhs, i);
      elements.push_back(buildAdd(builder, loc, x, y));
    }
    return lz::TupleOp::create(builder, loc, type, elements);
  }
  // Integers have no tangent: theirs are zeros.
  return lhs;
}

//===----------------------------------------------------------------------===//
// The transformation of functions
//===----------------------------------------------------------------------===//

SmallVector<Value> ad::detail::getSizes(OpBuilder &builder, Location loc,
                                        Value value) {
  SmallVector<Value> sizes;
  auto type = cast<RankedTensorType>(value.getType());
  for (int64_t i = 0; i < type.getRank(); ++i)
    sizes.push_back(tensor::DimOp::create(builder, loc, value, i));
  return sizes;
}

Value ad::detail::buildElementwise(
    OpBuilder &builder, Location loc, Value like,
    function_ref<Value(OpBuilder &, ValueRange)> fn) {
  auto tensor = dyn_cast<RankedTensorType>(like.getType());
  if (!tensor)
    return fn(builder, {});
  if (tensor.getRank() == 0)
    return lz::FillOp::create(builder, loc, tensor, fn(builder, {}),
                              ValueRange{});
  return lz::ForOp::create(
             builder, loc, TypeRange{tensor}, getSizes(builder, loc, like),
             [&](OpBuilder &b, Location loc, ValueRange indices) {
               lz::YieldOp::create(b, loc, ValueRange{fn(b, indices)});
             })
      .getResult(0);
}

Value ad::detail::readElement(OpBuilder &builder, Location loc, Value value,
                              ValueRange indices) {
  if (!isa<RankedTensorType>(value.getType()))
    return value;
  return lz::GetOp::create(builder, loc, value, indices);
}

std::optional<func::FuncOp>
ad::detail::DerivativeCache::lookup(func::FuncOp callee,
                                    ArrayRef<bool> active) const {
  auto it = derivatives.find({callee, getMask(active)});
  if (it == derivatives.end())
    return std::nullopt;
  return it->second;
}

void ad::detail::DerivativeCache::set(func::FuncOp callee,
                                      ArrayRef<bool> active,
                                      func::FuncOp derivative) {
  derivatives[{callee, getMask(active)}] = derivative;
}

std::string ad::detail::getMask(ArrayRef<bool> active) {
  std::string mask;
  for (bool a : active)
    mask += a ? '1' : '0';
  return mask;
}

LogicalResult ad::detail::emitNoRule(Operation *op, StringRef mode) {
  return op->emitError("cannot differentiate '")
         << op->getName() << "' in " << mode << " mode";
}

LogicalResult ad::detail::checkDifferentiable(func::FuncOp callee,
                                              StringRef mode) {
  if (callee.isExternal())
    return callee.emitError("cannot differentiate '")
           << callee.getName() << "': it has no body";
  if (!callee.getBody().hasOneBlock())
    return callee.emitError("cannot differentiate '")
           << callee.getName() << "': it has several blocks";
  // The values the transformations can give derivatives or zeros.
  std::function<bool(Type)> supported = [&](Type type) {
    if (isa<FloatType, IntegerType, IndexType>(type))
      return true;
    if (auto tensor = dyn_cast<RankedTensorType>(type))
      return supported(tensor.getElementType());
    if (auto tuple = dyn_cast<TupleType>(type))
      return llvm::all_of(tuple.getTypes(), supported);
    return false;
  };
  // The first value of an unsupported type, or null.
  auto findUnsupported = [&](ValueRange values) -> Value {
    for (Value v : values)
      if (!supported(v.getType()))
        return v;
    return Value();
  };
  WalkResult walk = callee.walk([&](Operation *op) {
    Value bad = findUnsupported(op->getResults());
    for (Region &region : op->getRegions())
      for (Block &block : region)
        if (!bad)
          bad = findUnsupported(block.getArguments());
    if (!bad)
      return WalkResult::advance();
    op->emitError("cannot differentiate a value of type ")
        << bad.getType() << " in " << mode << " mode";
    return WalkResult::interrupt();
  });
  return failure(walk.wasInterrupted());
}

namespace leibniz::ad {

/// The derivative functions of one module, created on demand.
class ForwardTransform {
public:
  explicit ForwardTransform(SymbolTable &symbols) : symbols(symbols) {}

  FailureOr<func::FuncOp> getDerivative(func::FuncOp callee,
                                        ArrayRef<bool> active);

  /// Reverse derivatives, where the expansion has reverse mode.
  ForwardExpansion::ReverseDerivatives reverseDerivatives;

private:
  SymbolTable &symbols;
  ad::detail::DerivativeCache derivatives;
};

} // namespace leibniz::ad

FailureOr<func::FuncOp> ForwardTransform::getDerivative(func::FuncOp callee,
                                                        ArrayRef<bool> active) {
  // A derivative that is being built (for a recursive call) is known; a
  // null one failed.
  if (std::optional<func::FuncOp> known = derivatives.lookup(callee, active)) {
    if (!*known)
      return failure();
    return *known;
  }
  derivatives.set(callee, active, nullptr);
  std::string mask = ad::detail::getMask(active);
  if (failed(ad::detail::checkDifferentiable(callee, "forward")))
    return failure();

  FunctionType type = callee.getFunctionType();
  SmallVector<Type> inputs(type.getInputs());
  for (auto [input, a] : llvm::zip(type.getInputs(), active))
    if (a)
      inputs.push_back(input);
  SmallVector<Type> results(type.getResults());
  llvm::append_range(results, type.getResults());

  // Created outside the module: inserting it makes its name unique.
  OpBuilder detached(callee.getContext());
  auto derivative = func::FuncOp::create(
      detached, callee.getLoc(), (callee.getName() + "__jvp_" + mask).str(),
      FunctionType::get(callee.getContext(), inputs, results));
  derivative.setPrivate();
  symbols.insert(derivative);
  derivatives.set(callee, active, derivative);

  Block &body = callee.getBody().front();
  Block *entry = derivative.addEntryBlock();
  OpBuilder builder = OpBuilder::atBlockBegin(entry);
  ForwardBuilder forward(*this, builder);
  unsigned next = body.getNumArguments();
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    forward.setPrimal(arg, entry->getArgument(i));
    if (active[i])
      forward.setTangent(arg, entry->getArgument(next++));
  }
  if (failed(forward.transformOps(body)))
    return failure();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  SmallVector<Value> values;
  for (Value v : ret.getOperands())
    values.push_back(forward.primal(v));
  for (Value v : ret.getOperands())
    values.push_back(forward.tangentOrZero(v));
  func::ReturnOp::create(builder, ret.getLoc(), values);
  return derivative;
}

//===----------------------------------------------------------------------===//
// ForwardBuilder
//===----------------------------------------------------------------------===//

FailureOr<func::FuncOp>
ForwardBuilder::getReverseDerivative(Operation *user, func::FuncOp callee,
                                     ArrayRef<bool> active) {
  if (!transform.reverseDerivatives)
    return user->emitError("needs reverse mode for its forward derivative "
                           "(run ad-reverse, or the driver, rather than "
                           "ad-forward alone)");
  return transform.reverseDerivatives(callee, active);
}

FailureOr<func::FuncOp> ForwardBuilder::getDerivative(func::FuncOp callee,
                                                      ArrayRef<bool> active) {
  return transform.getDerivative(callee, active);
}

void ForwardBuilder::setTangent(Value original, Value value) {
  if (value && hasTangent(original.getType()))
    tangents[original] = value;
}

Value ForwardBuilder::tangentOrZero(Value original) {
  if (Value t = tangent(original))
    return t;
  return zerosLike(original.getLoc(), primal(original));
}

Value ForwardBuilder::zerosLike(Location loc, Value value) {
  return ad::detail::buildZeros(builder, loc, value);
}

Value ForwardBuilder::add(Location loc, Value lhs, Value rhs) {
  return ad::detail::buildAdd(builder, loc, lhs, rhs);
}

bool ForwardBuilder::capturesTangent(Operation *op) const {
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(op->getRegions(), used);
  return llvm::any_of(used, [&](Value v) { return tangent(v) != nullptr; });
}

LogicalResult ForwardBuilder::transformOps(Block &block) {
  for (Operation &op : block.without_terminator())
    if (failed(transformOp(&op)))
      return failure();
  return success();
}

LogicalResult ForwardBuilder::transformOp(Operation *op) {
  bool active = llvm::any_of(op->getOperands(),
                             [&](Value v) { return tangent(v) != nullptr; }) ||
                (op->getNumRegions() != 0 && capturesTangent(op));
  active = active && llvm::any_of(op->getResultTypes(), hasTangent);
  if (!active) {
    builder.clone(*op, primals);
    return success();
  }
  auto rule = dyn_cast<DerivativeOpInterface>(op);
  if (!rule)
    return ad::detail::emitNoRule(op, "forward");
  // Operations with regions, and calls (which call the derivative), emit
  // their primal themselves.
  if (op->getNumRegions() == 0 && !isa<func::CallOp>(op))
    builder.clone(*op, primals);
  return rule.jvp(*this);
}

//===----------------------------------------------------------------------===//
// Expansion of the transformations
//===----------------------------------------------------------------------===//

namespace {

/// A float leaf of an argument: the path of tuple projections to it.
using Path = SmallVector<unsigned, 2>;

void collectLeaves(Type type, Path &path, SmallVectorImpl<Path> &leaves) {
  if (auto tuple = dyn_cast<TupleType>(type)) {
    for (auto [i, element] : llvm::enumerate(tuple.getTypes())) {
      path.push_back(i);
      collectLeaves(element, path, leaves);
      path.pop_back();
    }
    return;
  }
  if (hasTangent(type))
    leaves.push_back(path);
}

Value project(OpBuilder &builder, Location loc, Value value,
              ArrayRef<unsigned> path) {
  for (unsigned i : path)
    value = lz::ProjOp::create(builder, loc, value, i);
  return value;
}

/// The tangent of `value` that is `seed` at the leaf `path` and zero
/// elsewhere.
Value buildTangent(ForwardBuilder &forward, Location loc, Value value,
                   ArrayRef<unsigned> path, Value seed) {
  if (path.empty())
    return seed;
  OpBuilder &builder = forward.getBuilder();
  auto tuple = cast<TupleType>(value.getType());
  SmallVector<Value> elements;
  for (unsigned i = 0; i < tuple.size(); ++i) {
    Value element = lz::ProjOp::create(builder, loc, value, i);
    elements.push_back(i == path.front() ? buildTangent(forward, loc, element,
                                                        path.drop_front(), seed)
                                         : forward.zerosLike(loc, element));
  }
  return lz::TupleOp::create(builder, loc, tuple, elements);
}

/// The derivative of `callee` along the one-hot directions of the leaf
/// `path` of argument `argIndex`: a scalar leaf gives the derivative
/// itself, a tensor leaf a traversal over its directions, indexed by the
/// leaf's dimensions first and the result's after them.
FailureOr<Value> buildDirectionalDerivatives(ForwardBuilder &forward,
                                             Location loc, func::FuncOp callee,
                                             ValueRange operands,
                                             unsigned argIndex,
                                             ArrayRef<unsigned> path) {
  OpBuilder &builder = forward.getBuilder();
  Type resultType = callee.getFunctionType().getResult(0);
  Value arg = operands[argIndex];
  Value leaf = project(builder, loc, arg, path);
  if (auto tensor = dyn_cast<RankedTensorType>(leaf.getType());
      tensor && tensor.getRank() == 0)
    return emitError(loc, "forward-mode gradients and Jacobians with respect "
                          "to a tensor of rank 0 are not supported");
  SmallVector<bool> active(operands.size(), false);
  active[argIndex] = true;
  FailureOr<func::FuncOp> derivative = forward.getDerivative(callee, active);
  if (failed(derivative))
    return failure();
  auto evaluate = [&](OpBuilder &b, Value seed) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(b.getInsertionBlock(), b.getInsertionPoint());
    SmallVector<Value> callOperands(operands);
    callOperands.push_back(buildTangent(forward, loc, arg, path, seed));
    auto call = func::CallOp::create(builder, loc, *derivative, callOperands);
    return call.getResult(1);
  };
  if (isa<FloatType>(leaf.getType())) {
    Value one =
        arith::ConstantOp::create(builder, loc, leaf.getType(),
                                  builder.getFloatAttr(leaf.getType(), 1.0));
    return evaluate(builder, one);
  }
  auto leafType = cast<RankedTensorType>(leaf.getType());
  if (!isa<FloatType>(resultType) && !isa<RankedTensorType>(resultType))
    return emitError(loc, "a Jacobian needs a float scalar or tensor result");
  SmallVector<int64_t> shape(leafType.getShape());
  Type element = resultType;
  if (auto result = dyn_cast<RankedTensorType>(resultType)) {
    llvm::append_range(shape, result.getShape());
    element = result.getElementType();
  }
  auto directions = lz::ForOp::create(
      builder, loc, TypeRange{RankedTensorType::get(shape, element)},
      ad::detail::getSizes(builder, loc, leaf),
      [&](OpBuilder &b, Location loc, ValueRange point) {
        Value seed = ad::detail::buildOneHot(b, loc, leaf, point);
        lz::YieldOp::create(b, loc, ValueRange{evaluate(b, seed)});
      });
  directions->setAttr(kDirectionsAttr, builder.getUnitAttr());
  return directions.getResult(0);
}

/// A tensor indexed by the input's dimensions first and the output's after
/// them, reindexed output first.
Value transposeJacobian(OpBuilder &builder, Location loc, Value jacobian,
                        unsigned inputRank, Type resultType) {
  auto type = cast<RankedTensorType>(jacobian.getType());
  unsigned rank = type.getRank();
  if (inputRank == 0 || inputRank == rank)
    return jacobian;
  SmallVector<Value> sizes = ad::detail::getSizes(builder, loc, jacobian);
  SmallVector<Value> ranges(sizes.begin() + inputRank, sizes.end());
  ranges.append(sizes.begin(), sizes.begin() + inputRank);
  auto forOp = lz::ForOp::create(
      builder, loc, TypeRange{resultType}, ranges,
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        SmallVector<Value> read(indices.take_back(inputRank));
        llvm::append_range(read, indices.drop_back(inputRank));
        Value element = lz::GetOp::create(b, loc, jacobian, read);
        lz::YieldOp::create(b, loc, ValueRange{element});
      });
  return forOp.getResult(0);
}

/// The gradient of `callee` with respect to argument `argIndex`, of that
/// argument's type.
FailureOr<Value> buildGradient(ForwardBuilder &forward, Location loc,
                               func::FuncOp callee, ValueRange operands,
                               unsigned argIndex) {
  OpBuilder &builder = forward.getBuilder();
  Value arg = operands[argIndex];
  Path path;
  SmallVector<Path> leaves;
  collectLeaves(arg.getType(), path, leaves);
  // Every float leaf of the argument; the others (integers) are zeros.
  std::function<FailureOr<Value>(Value, Path &)> build =
      [&](Value value, Path &at) -> FailureOr<Value> {
    if (auto tuple = dyn_cast<TupleType>(value.getType())) {
      SmallVector<Value> elements;
      for (unsigned i = 0; i < tuple.size(); ++i) {
        at.push_back(i);
        FailureOr<Value> element =
            build(lz::ProjOp::create(builder, loc, value, i).getResult(), at);
        at.pop_back();
        if (failed(element))
          return failure();
        elements.push_back(*element);
      }
      return lz::TupleOp::create(builder, loc, tuple, elements).getResult();
    }
    if (!hasTangent(value.getType()))
      return forward.zerosLike(loc, value);
    return buildDirectionalDerivatives(forward, loc, callee, operands, argIndex,
                                       at);
  };
  return build(arg, path);
}

/// Expands one forward-mode transformation; returns success without
/// changing anything for the others.
LogicalResult expandOp(ForwardTransform &transform, Operation *op,
                       SymbolTable &symbols) {
  auto callee = symbols.lookup<func::FuncOp>(
      op->getAttrOfType<FlatSymbolRefAttr>("callee").getValue());
  OpBuilder builder(op);
  ForwardBuilder forward(transform, builder);
  Location loc = op->getLoc();
  if (auto jvp = dyn_cast<JvpOp>(op)) {
    SmallVector<Value> operands(jvp.getArgs());
    llvm::append_range(operands, jvp.getCaptures());
    SmallVector<bool> active(operands.size(), false);
    std::fill_n(active.begin(), jvp.getArgs().size(), true);
    FailureOr<func::FuncOp> derivative = forward.getDerivative(callee, active);
    if (failed(derivative))
      return failure();
    llvm::append_range(operands, jvp.getTangents());
    auto call = func::CallOp::create(builder, loc, *derivative, operands);
    jvp.replaceAllUsesWith(call.getResults());
    jvp.erase();
    return success();
  }
  auto operandsOf = [](auto transformOp) {
    SmallVector<Value> operands(transformOp.getArgs());
    llvm::append_range(operands, transformOp.getCaptures());
    return operands;
  };
  if (auto jacobian = dyn_cast<JacobianOp>(op)) {
    if (jacobian.getMode() != "fwd")
      return success();
    SmallVector<Value> operands = operandsOf(jacobian);
    FailureOr<Value> result =
        buildDirectionalDerivatives(forward, loc, callee, operands, 0, {});
    if (failed(result))
      return failure();
    Value input = operands[0];
    unsigned inputRank = isa<RankedTensorType>(input.getType())
                             ? cast<RankedTensorType>(input.getType()).getRank()
                             : 0;
    Value value =
        transposeJacobian(builder, loc, *result, inputRank, jacobian.getType());
    if (value.getType() != jacobian.getType())
      value = tensor::CastOp::create(builder, loc, jacobian.getType(), value);
    jacobian.replaceAllUsesWith(value);
    jacobian.erase();
    return success();
  }
  auto expandGradients = [&](auto grad, Value value) -> LogicalResult {
    SmallVector<Value> operands = operandsOf(grad);
    SmallVector<Value> results;
    if (value)
      results.push_back(value);
    for (auto [index, expected] :
         llvm::zip(grad.getWrt(), grad.getGradients())) {
      FailureOr<Value> gradient =
          buildGradient(forward, loc, callee, operands, index);
      if (failed(gradient))
        return failure();
      Value result = *gradient;
      if (result.getType() != expected.getType())
        result =
            tensor::CastOp::create(builder, loc, expected.getType(), result);
      results.push_back(result);
    }
    grad->replaceAllUsesWith(results);
    grad->erase();
    return success();
  };
  if (auto grad = dyn_cast<GradOp>(op)) {
    if (grad.getMode() != "fwd")
      return success();
    return expandGradients(grad, Value());
  }
  if (auto grad = dyn_cast<ValueAndGradOp>(op)) {
    if (grad.getMode() != "fwd")
      return success();
    auto call = func::CallOp::create(builder, loc, callee, operandsOf(grad));
    return expandGradients(grad, call.getResult(0));
  }
  return success();
}

} // namespace

/// The one-hot tensor shaped like `value` with a one at `point`:
/// for i. if i == point then 1 else 0.
Value ad::detail::buildOneHot(OpBuilder &builder, Location loc, Value value,
                              ValueRange point) {
  auto type = cast<RankedTensorType>(value.getType());
  Type element = type.getElementType();
  auto forOp = lz::ForOp::create(
      builder, loc, TypeRange{type}, ad::detail::getSizes(builder, loc, value),
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        Value condition;
        for (auto [i, p] : llvm::zip(indices, point)) {
          Value equal =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, i, p);
          condition = condition
                          ? arith::AndIOp::create(b, loc, condition, equal)
                          : equal;
        }
        auto ifOp = scf::IfOp::create(b, loc, TypeRange{element}, condition,
                                      /*withElseRegion=*/true);
        b.setInsertionPointToStart(ifOp.thenBlock());
        Value one = arith::ConstantOp::create(b, loc, element,
                                              b.getFloatAttr(element, 1.0));
        scf::YieldOp::create(b, loc, one);
        b.setInsertionPointToStart(ifOp.elseBlock());
        Value zero = arith::ConstantOp::create(b, loc, element,
                                               b.getFloatAttr(element, 0.0));
        scf::YieldOp::create(b, loc, zero);
        b.setInsertionPointAfter(ifOp);
        lz::YieldOp::create(b, loc, ifOp.getResults());
      });
  return forOp.getResult(0);
}

ForwardExpansion::ForwardExpansion(SymbolTable &symbols)
    : transform(std::make_unique<ForwardTransform>(symbols)), symbols(symbols) {
}

ForwardExpansion::~ForwardExpansion() = default;

void ForwardExpansion::setReverseDerivatives(ReverseDerivatives derivatives) {
  transform->reverseDerivatives = std::move(derivatives);
}

LogicalResult ForwardExpansion::expand(Operation *op) {
  return expandOp(*transform, op, symbols);
}

bool leibniz::ad::isForwardMode(Operation *op) {
  if (isa<JvpOp>(op))
    return true;
  auto mode = op->getAttrOfType<StringAttr>("mode");
  return isa<ADDialect>(op->getDialect()) && mode && mode.getValue() == "fwd";
}

LogicalResult leibniz::ad::expandForwardMode(ModuleOp module) {
  return expandDerivatives(module, /*forward=*/true, /*reverse=*/false);
}

FailureOr<func::FuncOp>
leibniz::ad::buildForwardDerivative(ModuleOp module, func::FuncOp func,
                                    ArrayRef<bool> active) {
  SymbolTable symbols(module);
  ForwardTransform transform(symbols);
  // The forward rules that need reverse derivatives (argmin's) get them.
  transform.reverseDerivatives = [&](func::FuncOp callee, ArrayRef<bool> wrt) {
    return buildReverseDerivative(module, callee, wrt);
  };
  return transform.getDerivative(func, active);
}
