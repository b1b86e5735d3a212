//===- ADOps.cpp - ad dialect operations ----------------------------------===//
//
// Part of Leibniz.
//
// The verifiers check each transformation against the type of the function
// it transforms; they run from `verifySymbolUses` because the callee is a
// symbol.
//
//===----------------------------------------------------------------------===//

#include "AD/ADOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace leibniz::ad;

bool leibniz::ad::isDifferentiableType(Type type) {
  if (isa<FloatType>(type))
    return true;
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return isa<FloatType>(tensor.getElementType());
  if (auto tuple = dyn_cast<TupleType>(type))
    return llvm::all_of(tuple.getTypes(), isDifferentiableType);
  return false;
}

static bool isFloatScalarOrTensor(Type type) {
  return isa<FloatType>(type) ||
         (isa<RankedTensorType>(type) &&
          isa<FloatType>(cast<RankedTensorType>(type).getElementType()));
}

/// Two types agree when they are equal up to dynamic dimensions.
static bool typesAgree(Type a, Type b) {
  if (a == b)
    return true;
  auto ta = dyn_cast<RankedTensorType>(a), tb = dyn_cast<RankedTensorType>(b);
  if (ta && tb)
    return ta.getElementType() == tb.getElementType() &&
           succeeded(verifyCompatibleShape(ta, tb));
  auto tupleA = dyn_cast<TupleType>(a), tupleB = dyn_cast<TupleType>(b);
  if (tupleA && tupleB && tupleA.size() == tupleB.size())
    return llvm::all_of(
        llvm::zip(tupleA.getTypes(), tupleB.getTypes()), [](auto pair) {
          return typesAgree(std::get<0>(pair), std::get<1>(pair));
        });
  return false;
}

/// Looks up `callee` and checks that `args` followed by `captures` match its
/// parameters and that it returns exactly one value; with `needsArgs`, that
/// there is an argument to differentiate.
static FailureOr<func::FuncOp>
verifyCallee(Operation *op, SymbolTableCollection &symbols,
             FlatSymbolRefAttr callee, ValueRange args, ValueRange captures,
             bool needsArgs = false) {
  if (needsArgs && args.empty())
    return op->emitOpError("needs an argument to differentiate");
  auto func = symbols.lookupNearestSymbolFrom<func::FuncOp>(op, callee);
  if (!func)
    return op->emitOpError("callee ") << callee << " does not name a function";
  FunctionType type = func.getFunctionType();
  if (type.getNumInputs() != args.size() + captures.size())
    return op->emitOpError("callee ")
           << callee << " takes " << type.getNumInputs() << " parameters but "
           << args.size() << " arguments and " << captures.size()
           << " captures are given";
  SmallVector<Value> operands(args);
  llvm::append_range(operands, captures);
  for (auto [i, operand, param] : llvm::enumerate(operands, type.getInputs()))
    if (!typesAgree(operand.getType(), param))
      return op->emitOpError("operand ")
             << i << " has type " << operand.getType() << " but parameter " << i
             << " of " << callee << " has type " << param;
  if (type.getNumResults() != 1)
    return op->emitOpError("callee ")
           << callee << " must return exactly one value";
  return func;
}

static LogicalResult expectType(Operation *op, StringRef what, Type actual,
                                Type expected) {
  if (typesAgree(actual, expected))
    return success();
  return op->emitOpError() << what << " has type " << actual << " but "
                           << expected << " is expected";
}

/// The type indexed by the dimensions of `outer` then those of `inner`.
static FailureOr<Type> getJacobianType(Operation *op, Type outer, Type inner) {
  if (!isFloatScalarOrTensor(outer) || !isFloatScalarOrTensor(inner))
    return op->emitOpError("a Jacobian needs float scalars or float tensors, "
                           "not ")
           << outer << " and " << inner;
  SmallVector<int64_t> shape;
  Type element = outer;
  if (auto tensor = dyn_cast<RankedTensorType>(outer)) {
    llvm::append_range(shape, tensor.getShape());
    element = tensor.getElementType();
  }
  if (auto tensor = dyn_cast<RankedTensorType>(inner))
    llvm::append_range(shape, tensor.getShape());
  if (shape.empty())
    return element;
  return Type(RankedTensorType::get(shape, element));
}

/// Checks the `wrt` list of a gradient and its results.
static LogicalResult verifyGradients(Operation *op, func::FuncOp func,
                                     ValueRange args, ArrayRef<int64_t> wrt,
                                     TypeRange gradients, StringRef mode) {
  if (mode != "rev" && mode != "fwd")
    return op->emitOpError("mode must be \"rev\" or \"fwd\", not \"")
           << mode << "\"";
  Type result = func.getFunctionType().getResult(0);
  if (!isa<FloatType>(result))
    return op->emitOpError("the gradient needs a function that returns a "
                           "float scalar, not ")
           << result;
  if (wrt.empty())
    return op->emitOpError("needs at least one argument to differentiate");
  if (wrt.size() != gradients.size())
    return op->emitOpError("has ") << gradients.size() << " gradients for "
                                   << wrt.size() << " differentiated arguments";
  for (auto [index, gradient] : llvm::zip(wrt, gradients)) {
    if (index < 0 || index >= static_cast<int64_t>(args.size()))
      return op->emitOpError("differentiates argument ")
             << index << " of " << args.size();
    if (llvm::count(wrt, index) > 1)
      return op->emitOpError("differentiates argument ") << index << " twice";
    Type argType = args[index].getType();
    if (!isDifferentiableType(argType))
      return op->emitOpError("cannot differentiate with respect to argument ")
             << index << " of type " << argType;
    if (failed(expectType(op, "gradient", gradient, argType)))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Derivatives
//===----------------------------------------------------------------------===//

LogicalResult GradOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<func::FuncOp> func =
      verifyCallee(*this, symbols, getCalleeAttr(), getArgs(), getCaptures());
  if (failed(func))
    return failure();
  return verifyGradients(*this, *func, getArgs(), getWrt(),
                         getGradients().getTypes(), getMode());
}

LogicalResult ValueAndGradOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<func::FuncOp> func =
      verifyCallee(*this, symbols, getCalleeAttr(), getArgs(), getCaptures());
  if (failed(func) ||
      failed(expectType(*this, "the value", getValue().getType(),
                        func->getFunctionType().getResult(0))))
    return failure();
  return verifyGradients(*this, *func, getArgs(), getWrt(),
                         getGradients().getTypes(), getMode());
}

LogicalResult JvpOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<func::FuncOp> func =
      verifyCallee(*this, symbols, getCalleeAttr(), getArgs(), getCaptures());
  if (failed(func))
    return failure();
  if (getTangents().size() != getArgs().size())
    return emitOpError("has ") << getTangents().size() << " tangents for "
                               << getArgs().size() << " arguments";
  for (auto [arg, tangent] : llvm::zip(getArgs(), getTangents())) {
    if (!isDifferentiableType(arg.getType()))
      return emitOpError("cannot differentiate with respect to an argument "
                         "of type ")
             << arg.getType();
    if (failed(
            expectType(*this, "a tangent", tangent.getType(), arg.getType())))
      return failure();
  }
  Type result = func->getFunctionType().getResult(0);
  if (!isDifferentiableType(result))
    return emitOpError("cannot differentiate a function that returns ")
           << result;
  if (failed(expectType(*this, "the value", getValue().getType(), result)))
    return failure();
  return expectType(*this, "the tangent", getTangent().getType(), result);
}

LogicalResult VjpOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<func::FuncOp> func =
      verifyCallee(*this, symbols, getCalleeAttr(), getArgs(), getCaptures());
  if (failed(func))
    return failure();
  Type result = func->getFunctionType().getResult(0);
  if (!isDifferentiableType(result))
    return emitOpError("cannot differentiate a function that returns ")
           << result;
  if (failed(expectType(*this, "the value", getValue().getType(), result)) ||
      failed(
          expectType(*this, "the cotangent", getCotangent().getType(), result)))
    return failure();
  if (getCotangents().size() != getArgs().size())
    return emitOpError("has ") << getCotangents().size() << " cotangents for "
                               << getArgs().size() << " arguments";
  for (auto [arg, cotangent] : llvm::zip(getArgs(), getCotangents())) {
    if (!isDifferentiableType(arg.getType()))
      return emitOpError("cannot differentiate with respect to an argument "
                         "of type ")
             << arg.getType();
    if (failed(expectType(*this, "a cotangent", cotangent.getType(),
                          arg.getType())))
      return failure();
  }
  return success();
}

LogicalResult JacobianOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (getMode() != "fwd" && getMode() != "rev")
    return emitOpError("mode must be \"fwd\" or \"rev\", not \"")
           << getMode() << "\"";
  FailureOr<func::FuncOp> func = verifyCallee(*this, symbols, getCalleeAttr(),
                                              getArgs(), getCaptures(), true);
  if (failed(func))
    return failure();
  FailureOr<Type> expected = getJacobianType(
      *this, func->getFunctionType().getResult(0), getArgs().front().getType());
  if (failed(expected))
    return failure();
  return expectType(*this, "the Jacobian", getJacobian().getType(), *expected);
}

LogicalResult HessianOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<func::FuncOp> func = verifyCallee(*this, symbols, getCalleeAttr(),
                                              getArgs(), getCaptures(), true);
  if (failed(func))
    return failure();
  Type result = func->getFunctionType().getResult(0);
  if (!isa<FloatType>(result))
    return emitOpError("the Hessian needs a function that returns a float "
                       "scalar, not ")
           << result;
  Type input = getArgs().front().getType();
  FailureOr<Type> expected = getJacobianType(*this, input, input);
  if (failed(expected))
    return failure();
  return expectType(*this, "the Hessian", getHessian().getType(), *expected);
}

LogicalResult HvpOp::verifySymbolUses(SymbolTableCollection &symbols) {
  FailureOr<func::FuncOp> func = verifyCallee(*this, symbols, getCalleeAttr(),
                                              getArgs(), getCaptures(), true);
  if (failed(func))
    return failure();
  if (!isa<FloatType>(func->getFunctionType().getResult(0)))
    return emitOpError("a Hessian-vector product needs a function that "
                       "returns a float scalar");
  Type input = getArgs().front().getType();
  if (!isDifferentiableType(input))
    return emitOpError("cannot differentiate with respect to an argument of "
                       "type ")
           << input;
  if (failed(expectType(*this, "the tangent", getTangent().getType(), input)))
    return failure();
  return expectType(*this, "the result", getResult().getType(), input);
}

//===----------------------------------------------------------------------===//
// Optimization and implicit differentiation
//===----------------------------------------------------------------------===//

/// Checks that a configuration dictionary names what it configures.
static LogicalResult verifyConfig(Operation *op, StringRef what,
                                  DictionaryAttr config) {
  if (!isa_and_nonnull<StringAttr>(config.get("name")))
    return op->emitOpError() << what << " must have a string 'name' entry";
  return success();
}

/// The checks shared by the solves: `@f(init, captures...)` returns `result`
/// (a float scalar for minimization, the parameters' type for root and
/// fixed-point problems) and the op returns the parameters' type.
static LogicalResult verifySolve(Operation *op, SymbolTableCollection &symbols,
                                 FlatSymbolRefAttr callee, Value init,
                                 ValueRange captures, Value result,
                                 bool scalarObjective) {
  FailureOr<func::FuncOp> func =
      verifyCallee(op, symbols, callee, init, captures);
  if (failed(func))
    return failure();
  if (!isDifferentiableType(init.getType()))
    return op->emitOpError("the parameters must be floats, float tensors or "
                           "tuples of those, not ")
           << init.getType();
  Type objective = func->getFunctionType().getResult(0);
  if (scalarObjective && !isa<FloatType>(objective))
    return op->emitOpError("the objective must return a float scalar, not ")
           << objective;
  if (!scalarObjective && failed(expectType(op, "the function's result",
                                            objective, init.getType())))
    return failure();
  return expectType(op, "the result", result.getType(), init.getType());
}

LogicalResult MinimizeOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (failed(verifySolve(*this, symbols, getCalleeAttr(), getInit(),
                         getCaptures(), getResult(), true)) ||
      failed(verifyConfig(*this, "the optimizer", getOptimizer())))
    return failure();
  if (getTrace() != static_cast<bool>(getLosses()))
    return emitOpError("has a loss history exactly when 'trace' is set");
  if (Value losses = getLosses()) {
    auto type = dyn_cast<RankedTensorType>(losses.getType());
    if (!type || type.getRank() != 1 ||
        type.getElementType() != getCalleeFunc().getResultTypes()[0])
      return emitOpError("the loss history must be a 1-d tensor of the "
                         "objective's type, not ")
             << losses.getType();
  }
  return success();
}

LogicalResult ArgminOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (failed(verifySolve(*this, symbols, getCalleeAttr(), getInit(),
                         getCaptures(), getResult(), true)) ||
      failed(verifyConfig(*this, "the optimizer", getOptimizer())) ||
      failed(verifyConfig(*this, "the implicit solver", getImplicit())))
    return failure();
  if (!(getTol().convertToDouble() >= 0))
    return emitOpError("the tolerance must be non-negative");
  return success();
}

LogicalResult RootOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (failed(verifySolve(*this, symbols, getCalleeAttr(), getInit(),
                         getCaptures(), getResult(), false)))
    return failure();
  return failure(
      failed(verifyConfig(*this, "the solver", getSolver())) ||
      failed(verifyConfig(*this, "the implicit solver", getImplicit())));
}

LogicalResult FixedPointOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (failed(verifySolve(*this, symbols, getCalleeAttr(), getInit(),
                         getCaptures(), getResult(), false)))
    return failure();
  return failure(
      failed(verifyConfig(*this, "the solver", getSolver())) ||
      failed(verifyConfig(*this, "the implicit solver", getImplicit())));
}

#define GET_OP_CLASSES
#include "AD/ADOps.cpp.inc"

// `getCalleeFunc` for every transformation.
#define AD_DEFINE_GET_CALLEE(Op)                                               \
  func::FuncOp Op::getCalleeFunc() {                                           \
    return SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(                 \
        *this, getCalleeAttr());                                               \
  }
AD_DEFINE_GET_CALLEE(GradOp)
AD_DEFINE_GET_CALLEE(ValueAndGradOp)
AD_DEFINE_GET_CALLEE(JvpOp)
AD_DEFINE_GET_CALLEE(VjpOp)
AD_DEFINE_GET_CALLEE(JacobianOp)
AD_DEFINE_GET_CALLEE(HessianOp)
AD_DEFINE_GET_CALLEE(HvpOp)
AD_DEFINE_GET_CALLEE(MinimizeOp)
AD_DEFINE_GET_CALLEE(ArgminOp)
AD_DEFINE_GET_CALLEE(RootOp)
AD_DEFINE_GET_CALLEE(FixedPointOp)
#undef AD_DEFINE_GET_CALLEE
