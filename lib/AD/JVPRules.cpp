//===- JVPRules.cpp - Forward-mode rules of the operations ----------------===//
//
// Part of Leibniz.
//
// The `jvp` rules of DerivativeOpInterface, attached as external models.
// Scalar functions are declared by their partial derivatives (one line
// each); linear operations apply themselves to the tangents; scopes, loops,
// conditionals and calls transform their bodies.
//
// Conventions where the derivative is not defined: `abs` has derivative 0
// at 0; `maximumf`/`minimumf` split a tie evenly (the tangent is the mean
// of both operands' tangents), and so do the `lz.max`/`lz.min` scopes over
// all points that attain the extremum; `floor`, `ceil`, `round` and `trunc`
// have derivative 0 everywhere.
//
//===----------------------------------------------------------------------===//

#include "Rules.h"

#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Reverse.h"

#include "AD/ADOps.h"
#include "Lz/LzDialect.h"
#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Matchers.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::ad;
using namespace leibniz::ad::detail;

llvm::StringMap<PartialsFn> &leibniz::ad::detail::getScalarRules() {
  static llvm::StringMap<PartialsFn> rules;
  return rules;
}

llvm::StringMap<ForwardRuleFn> &leibniz::ad::detail::getForwardRules() {
  static llvm::StringMap<ForwardRuleFn> rules;
  return rules;
}

llvm::StringMap<ReverseRuleFn> &leibniz::ad::detail::getReverseRules() {
  static llvm::StringMap<ReverseRuleFn> rules;
  return rules;
}

namespace {

//===----------------------------------------------------------------------===//
// Scalar functions by their partial derivatives
//===----------------------------------------------------------------------===//

/// The tangent of a scalar operation: the sum of its partial derivatives
/// times the tangents of its operands.
LogicalResult scalarJvp(Operation *op, ForwardBuilder &forward) {
  OpBuilder &b = forward.getBuilder();
  SmallVector<Value> x;
  for (Value operand : op->getOperands())
    x.push_back(forward.primal(operand));
  Partials partials{b, op->getLoc(), x, forward.primal(op->getResult(0))};
  PartialsFn fn = getScalarRules().lookup(op->getName().getStringRef());
  SmallVector<Value, 2> derivatives = fn(partials);
  Value tangent;
  for (auto [operand, derivative] : llvm::zip(op->getOperands(), derivatives)) {
    Value dx = forward.tangent(operand);
    if (!dx || !derivative)
      continue;
    Value term = partials.mul(derivative, dx);
    tangent = tangent ? partials.add(tangent, term) : term;
  }
  forward.setTangent(op->getResult(0), tangent);
  return success();
}

//===----------------------------------------------------------------------===//
// Rules that apply the operation to the tangents
//===----------------------------------------------------------------------===//

LogicalResult addJvp(Operation *op, ForwardBuilder &forward) {
  Value a = forward.tangent(op->getOperand(0));
  Value b = forward.tangent(op->getOperand(1));
  OpBuilder &builder = forward.getBuilder();
  Location loc = op->getLoc();
  Value t;
  if (isa<arith::AddFOp>(op))
    t = forward.add(loc, a, b);
  else if (!b)
    t = a;
  else if (!a)
    t = arith::NegFOp::create(builder, loc, b);
  else
    t = arith::SubFOp::create(builder, loc, a, b);
  forward.setTangent(op->getResult(0), t);
  return success();
}

LogicalResult negJvp(Operation *op, ForwardBuilder &forward) {
  forward.setTangent(op->getResult(0),
                     arith::NegFOp::create(forward.getBuilder(), op->getLoc(),
                                           forward.tangent(op->getOperand(0))));
  return success();
}

LogicalResult selectJvp(Operation *op, ForwardBuilder &forward) {
  auto select = cast<arith::SelectOp>(op);
  forward.setTangent(
      select.getResult(),
      arith::SelectOp::create(forward.getBuilder(), op->getLoc(),
                              forward.primal(select.getCondition()),
                              forward.tangentOrZero(select.getTrueValue()),
                              forward.tangentOrZero(select.getFalseValue())));
  return success();
}

/// Float conversions and casts: the same operation on the tangent.
LogicalResult castJvp(Operation *op, ForwardBuilder &forward) {
  Value t = forward.tangent(op->getOperand(0));
  OperationState state(op->getLoc(), op->getName());
  state.addOperands(t);
  state.addTypes(op->getResultTypes());
  state.addAttributes(op->getAttrs());
  forward.setTangent(op->getResult(0),
                     forward.getBuilder().create(state)->getResult(0));
  return success();
}

/// Operations whose result is its operand for differentiation.
LogicalResult identityJvp(Operation *op, ForwardBuilder &forward) {
  forward.setTangent(op->getResult(0), forward.tangent(op->getOperand(0)));
  return success();
}

LogicalResult zeroJvp(Operation *, ForwardBuilder &) { return success(); }

LogicalResult getJvp(Operation *op, ForwardBuilder &forward) {
  auto get = cast<lz::GetOp>(op);
  Value t = forward.tangent(get.getTensor());
  if (!t)
    return success();
  SmallVector<Value> indices;
  for (Value index : get.getIndices())
    indices.push_back(forward.primal(index));
  forward.setTangent(
      get.getResult(),
      lz::GetOp::create(forward.getBuilder(), op->getLoc(), t, indices));
  return success();
}

LogicalResult fillJvp(Operation *op, ForwardBuilder &forward) {
  auto fill = cast<lz::FillOp>(op);
  Value t = forward.tangent(fill.getValue());
  if (!t)
    return success();
  SmallVector<Value> sizes;
  for (Value size : fill.getSizes())
    sizes.push_back(forward.primal(size));
  forward.setTangent(fill.getResult(),
                     lz::FillOp::create(forward.getBuilder(), op->getLoc(),
                                        fill.getType(), t, sizes));
  return success();
}

/// Bilinear products: d(A B) = dA B + A dB.
LogicalResult productJvp(Operation *op, ForwardBuilder &forward) {
  Value a = forward.primal(op->getOperand(0));
  Value b = forward.primal(op->getOperand(1));
  Value da = forward.tangent(op->getOperand(0));
  Value db = forward.tangent(op->getOperand(1));
  OpBuilder &builder = forward.getBuilder();
  auto product = [&](Value l, Value r) -> Value {
    OperationState state(op->getLoc(), op->getName());
    state.addOperands({l, r});
    state.addTypes(op->getResultTypes());
    return builder.create(state)->getResult(0);
  };
  Value t;
  if (da)
    t = product(da, b);
  if (db)
    t = forward.add(op->getLoc(), t, product(a, db));
  forward.setTangent(op->getResult(0), t);
  return success();
}

LogicalResult tupleJvp(Operation *op, ForwardBuilder &forward) {
  auto tuple = cast<lz::TupleOp>(op);
  SmallVector<Value> elements;
  for (Value element : tuple.getElements())
    elements.push_back(forward.tangentOrZero(element));
  forward.setTangent(tuple.getResult(),
                     lz::TupleOp::create(forward.getBuilder(), op->getLoc(),
                                         tuple.getType(), elements));
  return success();
}

LogicalResult projJvp(Operation *op, ForwardBuilder &forward) {
  auto proj = cast<lz::ProjOp>(op);
  Value t = forward.tangent(proj.getTuple());
  if (!t)
    return success();
  forward.setTangent(proj.getResult(),
                     lz::ProjOp::create(forward.getBuilder(), op->getLoc(), t,
                                        proj.getIndex()));
  return success();
}

//===----------------------------------------------------------------------===//
// Scopes, loops, conditionals and calls
//===----------------------------------------------------------------------===//

/// A copy of `block`'s arguments in a new block, mapped for `forward`.
std::unique_ptr<Block> mapArguments(ForwardBuilder &forward, Block &block) {
  auto copy = std::make_unique<Block>();
  for (BlockArgument arg : block.getArguments())
    forward.setPrimal(arg, copy->addArgument(arg.getType(), arg.getLoc()));
  return copy;
}

/// A copy of `block` with its operations, in `region`.
Block *cloneBlockInto(MLIRContext *context, Block &block, Region &region,
                      IRMapping &mapping) {
  Block *copy = new Block();
  region.push_back(copy);
  for (BlockArgument arg : block.getArguments())
    mapping.map(arg, copy->addArgument(arg.getType(), arg.getLoc()));
  // The region may not belong to an operation yet.
  OpBuilder builder(context);
  builder.setInsertionPointToEnd(copy);
  for (Operation &op : block)
    builder.clone(op, mapping);
  return copy;
}

/// Creates an operation like `op` (a scope) with `results` and `ranges`,
/// whose body is a copy of `body` ending in what `finish` yields.
Operation *
createScope(OpBuilder &builder, Operation *op, ValueRange ranges,
            TypeRange results, Block &body,
            function_ref<SmallVector<Value>(OpBuilder &, IRMapping &)> finish) {
  OperationState state(op->getLoc(), op->getName());
  state.addOperands(ranges);
  state.addTypes(results);
  state.addAttributes(op->getAttrs());
  Region *region = state.addRegion();
  IRMapping mapping;
  Block *block = cloneBlockInto(op->getContext(), body, *region, mapping);
  OpBuilder inner(op->getContext());
  inner.setInsertionPointToEnd(block);
  lz::YieldOp::create(inner, op->getLoc(), finish(inner, mapping));
  return builder.create(state);
}

/// Records the results of `newOp` as the values of `op`'s results,
/// followed by the tangents of the results listed in `active`.
void mapResults(ForwardBuilder &forward, Operation *op, Operation *newOp,
                ArrayRef<unsigned> active) {
  unsigned n = op->getNumResults();
  for (unsigned i = 0; i < n; ++i)
    forward.setPrimal(op->getResult(i), newOp->getResult(i));
  for (auto [k, i] : llvm::enumerate(active))
    forward.setTangent(op->getResult(i), newOp->getResult(n + k));
}

/// lz.for: one traversal of the primal values and the tangents, for the
/// results whose elements have tangents.
LogicalResult forJvp(Operation *op, ForwardBuilder &forward) {
  auto forOp = cast<lz::ForOp>(op);
  OpBuilder &builder = forward.getBuilder();
  Block &body = forOp.getBody().front();
  std::unique_ptr<Block> block = mapArguments(forward, body);
  SmallVector<Value> yields;
  SmallVector<Type> types(forOp.getResultTypes());
  SmallVector<unsigned> active;
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(block.get());
    if (failed(forward.transformOps(body)))
      return failure();
    for (Value v : forOp.getYield().getOperands())
      yields.push_back(forward.primal(v));
    for (auto [i, v] : llvm::enumerate(forOp.getYield().getOperands()))
      if (Value t = forward.tangent(v)) {
        yields.push_back(t);
        types.push_back(forOp.getResult(i).getType());
        active.push_back(i);
      }
  }
  SmallVector<Value> ranges;
  for (Value range : forOp.getRanges())
    ranges.push_back(forward.primal(range));
  Operation *newOp = createScope(
      builder, op, ranges, types, *block, [&](OpBuilder &, IRMapping &mapping) {
        SmallVector<Value> mapped;
        for (Value v : yields)
          mapped.push_back(mapping.lookupOrDefault(v));
        return mapped;
      });
  mapResults(forward, op, newOp, active);
  return success();
}

/// The reductions: `sum` is linear (the sum of the tangents); `max` and
/// `min` take the mean tangent of the points that attain the extremum;
/// `prod` sums, over every point, the product with that point's factor
/// replaced by its tangent (exact with zeros, quadratic in the points).
LogicalResult reductionJvp(Operation *op, ForwardBuilder &forward) {
  OpBuilder &builder = forward.getBuilder();
  Location loc = op->getLoc();
  Region &region = op->getRegion(0);
  Block &body = region.front();
  std::unique_ptr<Block> block = mapArguments(forward, body);
  Value yielded = body.getTerminator()->getOperand(0);
  Value e, de;
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(block.get());
    if (failed(forward.transformOps(body)))
      return failure();
    e = forward.primal(yielded);
    de = forward.tangent(yielded);
  }
  SmallVector<Value> ranges;
  for (Value range : op->getOperands())
    ranges.push_back(forward.primal(range));
  Type type = op->getResult(0).getType();
  auto mapped = [](IRMapping &mapping, Value v) {
    return SmallVector<Value>{mapping.lookupOrDefault(v)};
  };
  Operation *primal =
      createScope(builder, op, ranges, type, *block,
                  [&](OpBuilder &, IRMapping &m) { return mapped(m, e); });
  forward.setPrimal(op->getResult(0), primal->getResult(0));
  if (!de)
    return success();
  if (isa<lz::SumOp>(op)) {
    Operation *tangent =
        createScope(builder, op, ranges, type, *block,
                    [&](OpBuilder &, IRMapping &m) { return mapped(m, de); });
    forward.setTangent(op->getResult(0), tangent->getResult(0));
    return success();
  }
  Type element = getElementTypeOrSelf(type);
  if (!isa<FloatType>(element))
    return op->emitError("cannot differentiate '")
           << op->getName() << "' of integers in forward mode";
  Value extremum = primal->getResult(0);
  auto at = [&](OpBuilder &b, Value value, ValueRange indices) {
    return readElement(b, loc, value, indices);
  };
  auto makeSum = [&](Block &sumBody, auto &&finish) {
    OperationState state(loc, lz::SumOp::getOperationName());
    state.addOperands(ranges);
    state.addTypes(type);
    Region *sumRegion = state.addRegion();
    IRMapping mapping;
    Block *copy =
        cloneBlockInto(op->getContext(), sumBody, *sumRegion, mapping);
    OpBuilder inner(op->getContext());
    inner.setInsertionPointToEnd(copy);
    lz::YieldOp::create(inner, loc, finish(inner, mapping, copy));
    return builder.create(state)->getResult(0);
  };
  auto constant = [&](OpBuilder &b, double value) {
    return arith::ConstantOp::create(b, loc, element,
                                     b.getFloatAttr(element, value))
        .getResult();
  };
  // Over tensors, each element is its own reduction.
  if (isa<lz::MaxOp, lz::MinOp>(op)) {
    auto ties = [&](bool tangent) {
      return makeSum(*block, [&](OpBuilder &b, IRMapping &m, Block *) {
        Value ek = m.lookupOrDefault(e), dek = m.lookupOrDefault(de);
        return buildElementwise(
            b, loc, ek, [&](OpBuilder &eb, ValueRange s) -> Value {
              Value attains =
                  arith::CmpFOp::create(eb, loc, arith::CmpFPredicate::OEQ,
                                        at(eb, ek, s), at(eb, extremum, s));
              Value value = tangent ? at(eb, dek, s) : constant(eb, 1.0);
              return arith::SelectOp::create(eb, loc, attains, value,
                                             constant(eb, 0.0));
            });
      });
    };
    Value numerator = ties(true);
    Value count = ties(false);
    // Over no points the extremum is a constant (an infinity).
    forward.setTangent(
        op->getResult(0),
        buildElementwise(
            builder, loc, extremum, [&](OpBuilder &b, ValueRange s) -> Value {
              Value n = at(b, count, s);
              Value zero = constant(b, 0.0);
              Value none = arith::CmpFOp::create(
                  b, loc, arith::CmpFPredicate::OEQ, n, zero);
              Value mean =
                  arith::DivFOp::create(b, loc, at(b, numerator, s), n);
              return arith::SelectOp::create(b, loc, none, zero, mean);
            }));
    return success();
  }
  assert(isa<lz::ProdOp>(op) && "unknown reduction");
  // sum k. prod j. (j == k ? de(j) : e(j))
  Block outer;
  for (BlockArgument arg : body.getArguments())
    outer.addArgument(arg.getType(), arg.getLoc());
  Value tangent =
      makeSum(outer, [&](OpBuilder &b, IRMapping &, Block *sumBlock) {
        OperationState state(loc, lz::ProdOp::getOperationName());
        state.addOperands(ranges);
        state.addTypes(type);
        Region *prodRegion = state.addRegion();
        IRMapping mapping;
        Block *inner =
            cloneBlockInto(op->getContext(), *block, *prodRegion, mapping);
        OpBuilder ib(op->getContext());
        ib.setInsertionPointToEnd(inner);
        Value same;
        for (auto [j, k] :
             llvm::zip(inner->getArguments(), sumBlock->getArguments())) {
          Value equal =
              arith::CmpIOp::create(ib, loc, arith::CmpIPredicate::eq, j, k);
          same = same ? arith::AndIOp::create(ib, loc, same, equal) : equal;
        }
        Value ej = mapping.lookupOrDefault(e),
              dej = mapping.lookupOrDefault(de);
        Value factor = buildElementwise(
            ib, loc, ej, [&](OpBuilder &eb, ValueRange s) -> Value {
              return arith::SelectOp::create(eb, loc, same, at(eb, dej, s),
                                             at(eb, ej, s));
            });
        lz::YieldOp::create(ib, loc, factor);
        return b.create(state)->getResult(0);
      });
  forward.setTangent(op->getResult(0), tangent);
  return success();
}

/// The tensor operations that reverse mode's loops emit (tensor.insert,
/// tensor.insert_slice, tensor.extract, tensor.extract_slice) are linear in
/// their leading `n` operands (the values moved; the others are indices):
/// the same operation on the tangents, zeros standing for zero tangents.
template <unsigned n>
LogicalResult linearJvp(Operation *op, ForwardBuilder &forward) {
  bool any = false;
  for (unsigned i = 0; i < n; ++i)
    any = any || forward.tangent(op->getOperand(i));
  if (!any)
    return success();
  IRMapping mapping;
  for (Value operand : op->getOperands())
    mapping.map(operand, forward.primal(operand));
  for (unsigned i = 0; i < n; ++i)
    mapping.map(op->getOperand(i), forward.tangentOrZero(op->getOperand(i)));
  Operation *tangent = forward.getBuilder().clone(*op, mapping);
  forward.setTangent(op->getResult(0), tangent->getResult(0));
  return success();
}

/// lz.accumulate is linear in the values it adds: the tangent accumulates
/// their tangents at the same indices.
LogicalResult accumulateJvp(Operation *op, ForwardBuilder &forward) {
  auto accumulate = cast<lz::AccumulateOp>(op);
  OpBuilder &builder = forward.getBuilder();
  Block &body = accumulate.getBody().front();
  std::unique_ptr<Block> block = mapArguments(forward, body);
  SmallVector<Value> primalYield, tangentYield;
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(block.get());
    if (failed(forward.transformOps(body)))
      return failure();
    for (Value v : accumulate.getYield().getValues())
      primalYield.push_back(forward.primal(v));
    Value t = forward.tangent(accumulate.getTargetValue());
    if (t) {
      tangentYield.assign(primalYield.begin(), primalYield.end() - 1);
      tangentYield.push_back(t);
    }
  }
  SmallVector<Value> ranges, sizes;
  for (Value range : accumulate.getRanges())
    ranges.push_back(forward.primal(range));
  for (Value size : accumulate.getSizes())
    sizes.push_back(forward.primal(size));
  auto build = [&](ArrayRef<Value> yields) {
    auto newOp =
        lz::AccumulateOp::create(builder, op->getLoc(), accumulate.getType(),
                                 ranges, sizes, lz::ScopeBodyBuilder());
    newOp.setMasked(accumulate.getMasked());
    IRMapping mapping;
    Block &newBody = newOp.getBody().front();
    mapping.map(block->getArguments(), newBody.getArguments());
    OpBuilder inner = OpBuilder::atBlockEnd(&newBody);
    for (Operation &nested : *block)
      inner.clone(nested, mapping);
    SmallVector<Value> mapped;
    for (Value v : yields)
      mapped.push_back(mapping.lookupOrDefault(v));
    lz::YieldOp::create(inner, op->getLoc(), mapped);
    return newOp.getResult();
  };
  forward.setPrimal(accumulate.getResult(), build(primalYield));
  if (!tangentYield.empty())
    forward.setTangent(accumulate.getResult(), build(tangentYield));
  return success();
}

/// lz.loop: the state carries the tangents of its float values.
LogicalResult loopJvp(Operation *op, ForwardBuilder &forward) {
  auto loop = cast<lz::LoopOp>(op);
  OpBuilder &builder = forward.getBuilder();
  Location loc = op->getLoc();
  SmallVector<unsigned> active;
  for (auto [i, init] : llvm::enumerate(loop.getInits()))
    if (hasTangent(init.getType()))
      active.push_back(i);
  SmallVector<Value> inits;
  SmallVector<Type> types(loop.getResultTypes());
  for (Value init : loop.getInits())
    inits.push_back(forward.primal(init));
  for (unsigned i : active) {
    inits.push_back(forward.tangentOrZero(loop.getInits()[i]));
    types.push_back(loop.getResult(i).getType());
  }
  Value count = loop.getCount() ? forward.primal(loop.getCount()) : Value();
  auto newLoop = lz::LoopOp::create(builder, loc, types, count, inits);
  unsigned numState = loop.getInits().size();
  // Maps the state arguments of `from` (after `skip` leading ones) to new
  // arguments in `to`, with tangents for the active ones.
  auto mapState = [&](Block &from, Block &to, unsigned skip) {
    for (unsigned i = 0; i < skip; ++i)
      forward.setPrimal(from.getArgument(i),
                        to.addArgument(from.getArgument(i).getType(), loc));
    for (unsigned i = 0; i < numState; ++i)
      forward.setPrimal(from.getArgument(skip + i),
                        to.addArgument(types[i], loc));
    for (unsigned i : active)
      forward.setTangent(from.getArgument(skip + i),
                         to.addArgument(types[i], loc));
  };
  OpBuilder::InsertionGuard guard(builder);
  if (!loop.getCond().empty()) {
    Block &cond = loop.getCond().front();
    Block *newCond = builder.createBlock(&newLoop.getCond());
    mapState(cond, *newCond, 0);
    if (failed(forward.transformOps(cond)))
      return failure();
    lz::ConditionOp::create(
        builder, loc, forward.primal(cond.getTerminator()->getOperand(0)));
  }
  Block &body = loop.getBody().front();
  Block *newBody = builder.createBlock(&newLoop.getBody());
  mapState(body, *newBody, loop.isCounted() ? 1 : 0);
  if (failed(forward.transformOps(body)))
    return failure();
  SmallVector<Value> yields;
  ValueRange next = loop.getYield().getOperands();
  for (Value v : next)
    yields.push_back(forward.primal(v));
  for (unsigned i : active)
    yields.push_back(forward.tangentOrZero(next[i]));
  lz::YieldOp::create(builder, loc, yields);
  mapResults(forward, op, newLoop, active);
  return success();
}

/// scf.if: both branches yield the tangents of the float results.
LogicalResult ifJvp(Operation *op, ForwardBuilder &forward) {
  auto ifOp = cast<scf::IfOp>(op);
  OpBuilder &builder = forward.getBuilder();
  Location loc = op->getLoc();
  SmallVector<unsigned> active;
  SmallVector<Type> types(ifOp.getResultTypes());
  for (auto [i, type] : llvm::enumerate(ifOp.getResultTypes()))
    if (hasTangent(type)) {
      active.push_back(i);
      types.push_back(type);
    }
  auto newIf = scf::IfOp::create(builder, loc, types,
                                 forward.primal(ifOp.getCondition()),
                                 /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(builder);
  for (auto [from, to] :
       {std::pair(&ifOp.getThenRegion(), &newIf.getThenRegion()),
        std::pair(&ifOp.getElseRegion(), &newIf.getElseRegion())}) {
    Block &block = from->front();
    Block &newBlock = to->front();
    builder.setInsertionPointToStart(&newBlock);
    // The builder may have put a terminator in an empty branch.
    if (!newBlock.empty())
      builder.setInsertionPoint(&newBlock.back());
    if (failed(forward.transformOps(block)))
      return failure();
    SmallVector<Value> yields;
    ValueRange values = block.getTerminator()->getOperands();
    for (Value v : values)
      yields.push_back(forward.primal(v));
    for (unsigned i : active)
      yields.push_back(forward.tangentOrZero(values[i]));
    if (!newBlock.empty() && isa<scf::YieldOp>(newBlock.back()))
      newBlock.back().erase();
    builder.setInsertionPointToEnd(&newBlock);
    scf::YieldOp::create(builder, loc, yields);
  }
  mapResults(forward, op, newIf, active);
  return success();
}

/// func.call: a call of the callee's derivative.
LogicalResult callJvp(Operation *op, ForwardBuilder &forward) {
  auto call = cast<func::CallOp>(op);
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      op, call.getCalleeAttr());
  if (!callee)
    return op->emitError("cannot differentiate a call of an unknown function");
  SmallVector<bool> active;
  SmallVector<Value> operands;
  SmallVector<Value> tangents;
  for (Value operand : call.getOperands()) {
    operands.push_back(forward.primal(operand));
    Value t = forward.tangent(operand);
    active.push_back(t != nullptr);
    if (t)
      tangents.push_back(t);
  }
  FailureOr<func::FuncOp> derivative = forward.getDerivative(callee, active);
  if (failed(derivative))
    return failure();
  llvm::append_range(operands, tangents);
  auto newCall = func::CallOp::create(forward.getBuilder(), op->getLoc(),
                                      *derivative, operands);
  unsigned n = call.getNumResults();
  for (unsigned i = 0; i < n; ++i) {
    forward.setPrimal(call.getResult(i), newCall.getResult(i));
    forward.setTangent(call.getResult(i), newCall.getResult(n + i));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

template <typename OpTy>
struct RuleModel
    : public DerivativeOpInterface::ExternalModel<RuleModel<OpTy>, OpTy> {
  LogicalResult jvp(Operation *op, ForwardBuilder &forward) const {
    return getForwardRules().lookup(op->getName().getStringRef())(op, forward);
  }
  LogicalResult vjp(Operation *op, ReverseBuilder &reverse) const {
    StringRef name = op->getName().getStringRef();
    ReverseRuleFn rule = getReverseRules().lookup(name);
    if (!rule && getScalarRules().count(name))
      rule = scalarVjp;
    if (!rule)
      return op->emitError("cannot differentiate '")
             << op->getName() << "' in reverse mode";
    return rule(op, reverse);
  }
};

template <typename OpTy> void attach(MLIRContext *context, ForwardRuleFn rule) {
  getForwardRules()[OpTy::getOperationName()] = rule;
  OpTy::template attachInterface<RuleModel<OpTy>>(*context);
}

template <typename OpTy>
void attachScalar(MLIRContext *context, PartialsFn partials) {
  getScalarRules()[OpTy::getOperationName()] = partials;
  attach<OpTy>(context, scalarJvp);
}

using P = SmallVector<Value, 2>;

/// The partial derivatives of max(a, b) (or min): 1 for the operand that is
/// larger (smaller), a half each at a tie.
template <bool isMax> SmallVector<Value, 2> extremumPartials(Partials &p) {
  Value half = p.c(0.5);
  Value first =
      p.cmp(isMax ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT,
            p.x[0], p.x[1]);
  Value second =
      p.cmp(isMax ? arith::CmpFPredicate::OLT : arith::CmpFPredicate::OGT,
            p.x[0], p.x[1]);
  Value a = p.select(first, p.c(1.0), p.select(second, p.c(0.0), half));
  Value b = p.select(first, p.c(0.0), p.select(second, p.c(1.0), half));
  return {a, b};
}

void attachArith(MLIRContext *context) {
  attach<arith::AddFOp>(context, addJvp);
  attach<arith::SubFOp>(context, addJvp);
  attach<arith::NegFOp>(context, negJvp);
  attach<arith::SelectOp>(context, selectJvp);
  attach<arith::ExtFOp>(context, castJvp);
  attach<arith::TruncFOp>(context, castJvp);
  attachScalar<arith::MulFOp>(context, [](Partials &p) {
    return P{p.x[1], p.x[0]};
  });
  // d(a / b) = da / b - (a / b) db / b
  attachScalar<arith::DivFOp>(context, [](Partials &p) {
    Value inverse = p.div(p.c(1.0), p.x[1]);
    return P{inverse, p.neg(p.mul(p.y, inverse))};
  });
  // Ties split evenly.
  attachScalar<arith::MaximumFOp>(context, extremumPartials<true>);
  attachScalar<arith::MinimumFOp>(context, extremumPartials<false>);
}

void attachMath(MLIRContext *context) {
  attachScalar<math::ExpOp>(context, [](Partials &p) { return P{p.y}; });
  attachScalar<math::Exp2Op>(context, [](Partials &p) {
    return P{p.mul(p.y, p.c(llvm::numbers::ln2))};
  });
  attachScalar<math::ExpM1Op>(
      context, [](Partials &p) { return P{p.add(p.y, p.c(1.0))}; });
  attachScalar<math::LogOp>(
      context, [](Partials &p) { return P{p.div(p.c(1.0), p.x[0])}; });
  attachScalar<math::Log1pOp>(context, [](Partials &p) {
    return P{p.div(p.c(1.0), p.add(p.c(1.0), p.x[0]))};
  });
  attachScalar<math::Log2Op>(context, [](Partials &p) {
    return P{p.div(p.c(1.0 / llvm::numbers::ln2), p.x[0])};
  });
  attachScalar<math::SqrtOp>(
      context, [](Partials &p) { return P{p.div(p.c(0.5), p.y)}; });
  attachScalar<math::RsqrtOp>(context, [](Partials &p) {
    return P{p.mul(p.c(-0.5), p.div(p.y, p.x[0]))};
  });
  attachScalar<math::SinOp>(context, [](Partials &p) {
    return P{math::CosOp::create(p.b, p.loc, p.x[0]).getResult()};
  });
  attachScalar<math::CosOp>(context, [](Partials &p) {
    return P{p.neg(math::SinOp::create(p.b, p.loc, p.x[0]))};
  });
  attachScalar<math::TanOp>(
      context, [](Partials &p) { return P{p.add(p.c(1.0), p.mul(p.y, p.y))}; });
  attachScalar<math::TanhOp>(
      context, [](Partials &p) { return P{p.sub(p.c(1.0), p.mul(p.y, p.y))}; });
  attachScalar<math::AtanOp>(context, [](Partials &p) {
    return P{p.div(p.c(1.0), p.add(p.c(1.0), p.mul(p.x[0], p.x[0])))};
  });
  // erf'(x) = 2 / sqrt(pi) exp(-x^2)
  attachScalar<math::ErfOp>(context, [](Partials &p) {
    Value e = math::ExpOp::create(p.b, p.loc, p.neg(p.mul(p.x[0], p.x[0])));
    return P{p.mul(p.c(2.0 / std::sqrt(llvm::numbers::pi)), e)};
  });
  attachScalar<math::AbsFOp>(context,
                             [](Partials &p) { return P{p.sign(p.x[0])}; });
  // d(a^b) = b a^(b-1) da + a^b log(a) db; with a constant exponent c,
  // c a^(c-1) da, where a^1 is a.
  attachScalar<math::PowFOp>(context, [](Partials &p) {
    FloatAttr exponent;
    if (matchPattern(p.x[1], m_Constant(&exponent))) {
      double c = exponent.getValueAsDouble();
      if (c == 0.0)
        return P{Value(), Value()};
      Value lower = c == 2.0
                        ? p.x[0]
                        : math::PowFOp::create(p.b, p.loc, p.x[0], p.c(c - 1.0))
                              .getResult();
      return P{p.mul(p.x[1], lower), Value()};
    }
    Value lower =
        math::PowFOp::create(p.b, p.loc, p.x[0], p.sub(p.x[1], p.c(1.0)));
    Value log = math::LogOp::create(p.b, p.loc, p.x[0]);
    return P{p.mul(p.x[1], lower), p.mul(p.y, log)};
  });
  attachScalar<math::CopySignOp>(context, [](Partials &p) {
    // copysign(a, b) = ±a: the sign of a times that of the result.
    return P{p.mul(p.sign(p.x[0]), p.sign(p.y)), Value()};
  });
  attach<math::FloorOp>(context, zeroJvp);
  attach<math::CeilOp>(context, zeroJvp);
  attach<math::RoundOp>(context, zeroJvp);
  attach<math::TruncOp>(context, zeroJvp);
}

} // namespace

void leibniz::ad::registerDerivativeModels(DialectRegistry &registry) {
  registerReverseRules();
  registry.addExtension(+[](MLIRContext *context, arith::ArithDialect *) {
    attachArith(context);
  });
  registry.addExtension(
      +[](MLIRContext *context, math::MathDialect *) { attachMath(context); });
  registry.addExtension(+[](MLIRContext *context, lz::LzDialect *) {
    attach<lz::GetOp>(context, getJvp);
    attach<lz::FillOp>(context, fillJvp);
    attach<lz::MatmulOp>(context, productJvp);
    attach<lz::BatchMatmulOp>(context, productJvp);
    attach<lz::PrintOp>(context, identityJvp);
    attach<lz::TupleOp>(context, tupleJvp);
    attach<lz::ProjOp>(context, projJvp);
    attach<lz::ForOp>(context, forJvp);
    attach<lz::SumOp>(context, reductionJvp);
    attach<lz::ProdOp>(context, reductionJvp);
    attach<lz::MaxOp>(context, reductionJvp);
    attach<lz::MinOp>(context, reductionJvp);
    attach<lz::LoopOp>(context, loopJvp);
    attach<lz::AccumulateOp>(context, accumulateJvp);
    // Constructors of constants: no operand has a tangent.
    attach<lz::IotaOp>(context, zeroJvp);
    attach<lz::RandomOp>(context, zeroJvp);
  });
  registry.addExtension(+[](MLIRContext *context, ADDialect *) {
    attach<StopGradientOp>(context, zeroJvp);
    attach<ArgminOp>(context, ad::detail::argminJvp);
    attach<FixedPointOp>(context, ad::detail::fixedPointJvp);
    attach<RootOp>(context, ad::detail::rootJvp);
  });
  registry.addExtension(+[](MLIRContext *context, tensor::TensorDialect *) {
    attach<tensor::CastOp>(context, castJvp);
    attach<tensor::InsertOp>(context, linearJvp<2>);
    attach<tensor::InsertSliceOp>(context, linearJvp<2>);
    attach<tensor::ExtractOp>(context, linearJvp<1>);
    attach<tensor::ExtractSliceOp>(context, linearJvp<1>);
  });
  registry.addExtension(+[](MLIRContext *context, scf::SCFDialect *) {
    attach<scf::IfOp>(context, ifJvp);
  });
  registry.addExtension(+[](MLIRContext *context, func::FuncDialect *) {
    attach<func::CallOp>(context, callJvp);
  });
}
