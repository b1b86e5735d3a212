//===- Reverse.cpp - Reverse-mode differentiation -------------------------===//
//
// Part of Leibniz.
//
// The reverse transformation of a block runs on its unary form: a forward
// sweep clones every operation for its primal value, then a reverse sweep
// visits the nodes backwards. At each node, the cotangent of every result
// is the transpose of the result's sharing (the sum of the contributions
// its copies received; zero for a discard), and the node's rule turns the
// cotangents of its results into contributions to its input slots. The
// cotangents of a block's arguments and of its context come out of the
// same transposition at the end.
//
// A function's reverse derivative is a private function `@f__vjp_<mask>`
// that takes the arguments and the cotangents of the results, and returns
// the results and the cotangents of the arguments marked in the mask.
//
//===----------------------------------------------------------------------===//

#include "leibniz/AD/Reverse.h"

#include "Rules.h"

#include "AD/ADOps.h"
#include "Lz/LzOps.h"
#include "leibniz/AD/Forward.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::ad;

//===----------------------------------------------------------------------===//
// UnaryForm
//===----------------------------------------------------------------------===//

UnaryForm::UnaryForm(Block &block) : block(block) {
  auto isLocal = [&](Value value) {
    if (auto arg = dyn_cast<BlockArgument>(value))
      return arg.getOwner() == &block;
    return value.getDefiningOp()->getBlock() == &block;
  };
  for (Operation &op : block) {
    Node node{&op, SmallVector<Value>(op.getOperands()), op.getNumOperands()};
    if (op.getNumRegions() != 0) {
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(op.getRegions(), captured);
      node.inputs.append(captured.begin(), captured.end());
    }
    unsigned index = nodes.size();
    for (auto [slot, value] : llvm::enumerate(node.inputs)) {
      copies[value].push_back({index, static_cast<unsigned>(slot)});
      if (!isLocal(value))
        context.insert(value);
    }
    nodes.push_back(std::move(node));
  }
}

ArrayRef<UnaryForm::Copy> UnaryForm::getCopies(Value value) const {
  auto it = copies.find(value);
  if (it == copies.end())
    return {};
  return it->second;
}

void UnaryForm::print(llvm::raw_ostream &os) const {
  // Values are named by where they come from: the block's arguments a<i>,
  // the context c<i>, and the results of node n, v<n>.<i>.
  llvm::DenseMap<Value, std::string> names;
  for (BlockArgument arg : block.getArguments())
    names[arg] = "a" + std::to_string(arg.getArgNumber());
  for (auto [i, value] : llvm::enumerate(context))
    names[value] = "c" + std::to_string(i);
  for (auto [n, node] : llvm::enumerate(nodes))
    for (OpResult result : node.op->getResults())
      names[result] = "v" + std::to_string(n) + "." +
                      std::to_string(result.getResultNumber());
  auto printSharing = [&](Value value) {
    ArrayRef<Copy> uses = getCopies(value);
    os << "  " << names[value] << ": ";
    if (uses.empty()) {
      os << "discard\n";
      return;
    }
    os << (uses.size() == 1 ? "linear" : "dup") << " ->";
    for (Copy copy : uses)
      os << " " << copy.node << "." << copy.slot;
    os << "\n";
  };
  os << "unary form (" << block.getNumArguments() << " arguments, "
     << context.size() << " context values)\n";
  for (BlockArgument arg : block.getArguments())
    printSharing(arg);
  for (Value value : context)
    printSharing(value);
  for (auto [n, node] : llvm::enumerate(nodes)) {
    os << "node " << n << ": ";
    if (node.op->getNumResults() != 0) {
      llvm::interleaveComma(node.op->getResults(), os,
                            [&](Value result) { os << names[result]; });
      os << " = ";
    }
    os << node.op->getName() << " (";
    llvm::interleaveComma(ArrayRef(node.inputs).take_front(node.numOperands),
                          os, [&](Value input) { os << names[input]; });
    if (node.inputs.size() > node.numOperands) {
      os << " | captures ";
      llvm::interleaveComma(ArrayRef(node.inputs).drop_front(node.numOperands),
                            os, [&](Value input) { os << names[input]; });
    }
    os << ")\n";
    for (OpResult result : node.op->getResults())
      printSharing(result);
  }
}

//===----------------------------------------------------------------------===//
// Cotangents
//===----------------------------------------------------------------------===//

Cotangent Cotangent::getSparse(ValueRange indices, Value value, Value mask) {
  Cotangent result;
  result.sparse.push_back({SmallVector<Value>(indices), value, mask});
  return result;
}

Cotangent Cotangent::getElement(unsigned index, Cotangent element) {
  Cotangent result;
  if (!element.isZero())
    result.elements.push_back(
        {index, std::make_shared<Cotangent>(std::move(element))});
  return result;
}

namespace {

/// Adds `from` into `into`, emitting the additions of dense parts.
void merge(OpBuilder &builder, Location loc, Cotangent &into,
           const Cotangent &from) {
  into.dense = ad::detail::buildAdd(builder, loc, into.dense, from.dense);
  into.sparse.append(from.sparse.begin(), from.sparse.end());
  for (auto &[index, element] : from.elements) {
    const auto &key = index;
    auto it = llvm::find_if(into.elements,
                            [&](auto &entry) { return entry.first == key; });
    if (it == into.elements.end()) {
      into.elements.push_back({index, element});
      continue;
    }
    auto sum = std::make_shared<Cotangent>(*it->second);
    merge(builder, loc, *sum, *element);
    it->second = sum;
  }
}

} // namespace

Value ad::detail::materialize(OpBuilder &builder, Location loc,
                              Value primalValue, const Cotangent &cotangent) {
  if (cotangent.isZero())
    return Value();
  Value result = cotangent.dense;
  if (!cotangent.elements.empty()) {
    auto tuple = cast<TupleType>(primalValue.getType());
    SmallVector<Value> elements;
    for (unsigned i = 0; i < tuple.size(); ++i) {
      Value element = lz::ProjOp::create(builder, loc, primalValue, i);
      auto it = llvm::find_if(cotangent.elements,
                              [&](auto &entry) { return entry.first == i; });
      Value value;
      if (it != cotangent.elements.end())
        value = materialize(builder, loc, element, *it->second);
      elements.push_back(value ? value : buildZeros(builder, loc, element));
    }
    result = buildAdd(builder, loc, result,
                      lz::TupleOp::create(builder, loc, tuple, elements));
  }
  for (const Cotangent::SparseTerm &term : cotangent.sparse) {
    // One point that adds the term's value at its indices.
    auto type = cast<RankedTensorType>(primalValue.getType());
    SmallVector<Value> sizes;
    for (auto [i, size] : llvm::enumerate(type.getShape()))
      if (ShapedType::isDynamic(size))
        sizes.push_back(tensor::DimOp::create(builder, loc, primalValue, i));
    Value one = arith::ConstantIndexOp::create(builder, loc, 1);
    auto accumulate =
        lz::AccumulateOp::create(builder, loc, type, ValueRange{one}, sizes,
                                 [&](OpBuilder &b, Location loc, ValueRange) {
                                   SmallVector<Value> yields;
                                   if (term.mask)
                                     yields.push_back(term.mask);
                                   llvm::append_range(yields, term.indices);
                                   yields.push_back(term.value);
                                   lz::YieldOp::create(b, loc, yields);
                                 });
    accumulate.setMasked(static_cast<bool>(term.mask));
    result = buildAdd(builder, loc, result, accumulate.getResult());
  }
  return result;
}

//===----------------------------------------------------------------------===//
// The transformation of functions
//===----------------------------------------------------------------------===//

namespace leibniz::ad {

/// The reverse derivatives of one module, created on demand.
class ReverseTransform {
public:
  explicit ReverseTransform(SymbolTable &symbols) : symbols(symbols) {}
  ~ReverseTransform() {
    for (func::FuncOp copy : primalCopies)
      symbols.erase(copy);
  }

  FailureOr<func::FuncOp> getDerivative(func::FuncOp callee,
                                        ArrayRef<bool> active);

private:
  SymbolTable &symbols;
  ad::detail::DerivativeCache derivatives;
  /// The varied values of every derivative, which must outlive it.
  std::vector<std::unique_ptr<llvm::DenseSet<Value>>> variedSets;
  /// The copies of the differentiated functions, in the module while the
  /// transformation lives (their operations look up symbols).
  SmallVector<func::FuncOp> primalCopies;
};

} // namespace leibniz::ad

namespace {

/// The values of `func` that depend on the arguments marked in `active`
/// and have cotangents: a fixed point over the function, where loops carry
/// dependence through their state and `ad.stop_gradient` cuts it.
std::unique_ptr<llvm::DenseSet<Value>> computeVaried(func::FuncOp func,
                                                     ArrayRef<bool> active) {
  auto varied = std::make_unique<llvm::DenseSet<Value>>();
  bool changed = false;
  auto mark = [&](Value value) {
    if (hasTangent(value.getType()) && varied->insert(value).second)
      changed = true;
  };
  for (auto [arg, a] : llvm::zip(func.getArguments(), active))
    if (a)
      mark(arg);
  auto isVaried = [&](Value value) { return varied->contains(value); };
  do {
    changed = false;
    func.walk<WalkOrder::PostOrder>([&](Operation *op) {
      if (isa<StopGradientOp>(op))
        return;
      if (auto loop = dyn_cast<lz::LoopOp>(op)) {
        ValueRange next = loop.getYield().getValues();
        for (auto [i, init] : llvm::enumerate(loop.getInits())) {
          if (!isVaried(init) && !isVaried(next[i]))
            continue;
          mark(loop.getBodyStateArgs()[i]);
          if (!loop.getCond().empty())
            mark(loop.getCond().front().getArgument(i));
        }
      }
      bool in = llvm::any_of(op->getOperands(), isVaried);
      for (Region &region : op->getRegions())
        for (Block &block : region)
          if (block.mightHaveTerminator())
            in = in ||
                 llvm::any_of(block.getTerminator()->getOperands(), isVaried);
      if (in)
        for (Value result : op->getResults())
          mark(result);
    });
  } while (changed);
  return varied;
}

/// Rewrites each counted loop of `func` whose state holds tuples into a
/// loop over the tuples' leaves, which the body rebuilds into tuples: the
/// forward sweep then keeps one stack per leaf. The rewrite preserves the
/// function's meaning, and `tuple-proj` removes the tuples it builds.
void flattenLoopStates(func::FuncOp func) {
  SmallVector<lz::LoopOp> loops;
  func.walk([&](lz::LoopOp loop) {
    if (loop.isCounted() && llvm::any_of(loop.getInits(), [](Value init) {
          return isa<TupleType>(init.getType());
        }))
      loops.push_back(loop);
  });
  // Inner loops come first; rewriting one leaves its enclosing loop intact.
  for (lz::LoopOp loop : loops) {
    OpBuilder builder(loop);
    Location loc = loop.getLoc();
    SmallVector<Value> inits;
    for (Value init : loop.getInits())
      lz::buildTupleLeaves(builder, loc, init, inits);
    SmallVector<Type> types;
    for (Value init : inits)
      types.push_back(init.getType());
    auto newLoop =
        lz::LoopOp::create(builder, loc, types, loop.getCount(), inits);
    Block &body = loop.getBody().front();
    Block *newBody = builder.createBlock(&newLoop.getBody());
    body.getArgument(0).replaceAllUsesWith(
        newBody->addArgument(builder.getIndexType(), loc));
    for (Type type : types)
      newBody->addArgument(type, loc);
    ValueRange leaves = newBody->getArguments().drop_front();
    for (BlockArgument arg : body.getArguments().drop_front())
      arg.replaceAllUsesWith(
          lz::buildTupleFromLeaves(builder, loc, arg.getType(), leaves));
    newBody->getOperations().splice(newBody->end(), body.getOperations());
    lz::YieldOp yield = newLoop.getYield();
    builder.setInsertionPoint(yield);
    SmallVector<Value> next;
    for (Value value : yield.getValues())
      lz::buildTupleLeaves(builder, loc, value, next);
    yield->setOperands(next);
    builder.setInsertionPointAfter(newLoop);
    ValueRange results = newLoop.getResults();
    for (Value result : loop.getResults())
      result.replaceAllUsesWith(
          lz::buildTupleFromLeaves(builder, loc, result.getType(), results));
    loop.erase();
  }
}

/// Whether `op` is a scope that reduces over its points or holds such a
/// scope, a loop or a call: computing it once per point of an enclosing
/// scope costs more than a bounded number of operations.
bool isCostlyScope(Operation *op) {
  if (!isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
           lz::AccumulateOp>(op))
    return false;
  if (!isa<lz::ForOp>(op))
    return true;
  return op
      ->walk([](Operation *inner) {
        return isa<lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
                   lz::AccumulateOp, lz::LoopOp, func::CallOp>(inner)
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

/// The operations of `body` that `op`, an operation of `body`, depends on,
/// in order; fails where one of them has effects or costs more than a
/// bounded number of operations per evaluation, so that evaluating the
/// slice again elsewhere only repeats cheap work.
FailureOr<SmallVector<Operation *>> getCheapSlice(Operation *op, Block &body) {
  llvm::SetVector<Operation *> slice;
  SmallVector<Operation *> worklist = {op};
  while (!worklist.empty()) {
    Operation *current = worklist.pop_back_val();
    llvm::SetVector<Value> used;
    for (Region &region : current->getRegions())
      getUsedValuesDefinedAbove(region, used);
    used.insert(current->operand_begin(), current->operand_end());
    for (Value value : used) {
      Operation *def = value.getDefiningOp();
      if (!def || def->getBlock() != &body || slice.contains(def))
        continue;
      if (!isMemoryEffectFree(def) || isa<func::CallOp, lz::LoopOp>(def) ||
          isCostlyScope(def))
        return failure();
      slice.insert(def);
      worklist.push_back(def);
    }
  }
  SmallVector<Operation *> ordered(slice.begin(), slice.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ordered;
}

/// Replaces every read of one element of `forOp`, a traversal with one
/// result, by its body evaluated at the read's indices, and erases it;
/// fails, changing nothing, where it has another use.
LogicalResult inlineReads(lz::ForOp forOp) {
  if (forOp.getNumResults() != 1)
    return failure();
  Block &body = forOp.getBody().front();
  Value element = forOp.getYield().getOperand(0);
  SmallVector<lz::GetOp> reads;
  for (Operation *user : forOp.getResult(0).getUsers()) {
    auto read = dyn_cast<lz::GetOp>(user);
    if (!read || read.getIndices().size() != body.getNumArguments() ||
        read.getType() != element.getType())
      return failure();
    reads.push_back(read);
  }
  for (lz::GetOp read : reads) {
    OpBuilder builder(read);
    IRMapping mapping;
    mapping.map(body.getArguments(), read.getIndices());
    for (Operation &op : body.without_terminator())
      builder.clone(op, mapping);
    read.replaceAllUsesWith(mapping.lookupOrDefault(element));
    read.erase();
  }
  forOp.erase();
  return success();
}

/// Evaluates `inner`, a costly scope of the body of the scope `outer`, for
/// every point of `outer` in a traversal before it, and reads its value
/// there instead. Fails where nothing would change: `inner` is what the
/// traversal `outer` yields, or a value it depends on cannot be
/// recomputed cheaply.
LogicalResult hoistCostlyScope(Operation *outer, Operation *inner) {
  if (inner->getNumResults() != 1 ||
      isa<TupleType>(inner->getResult(0).getType()))
    return failure();
  Block &body = outer->getRegion(0).front();
  if (isa<lz::ForOp>(outer) &&
      llvm::is_contained(body.getTerminator()->getOperands(),
                         inner->getResult(0)))
    return failure();
  FailureOr<SmallVector<Operation *>> slice = getCheapSlice(inner, body);
  if (failed(slice))
    return failure();

  Location loc = inner->getLoc();
  OpBuilder builder(outer);
  // The ranges of an accumulation come before the sizes it adds into.
  ValueRange ranges = outer->getOperands().take_front(body.getNumArguments());
  SmallVector<int64_t> shape;
  for (Value range : ranges) {
    std::optional<int64_t> size = getConstantIntValue(range);
    shape.push_back(size ? *size : ShapedType::kDynamic);
  }
  Type type = inner->getResult(0).getType();
  Type element = getElementTypeOrSelf(type);
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    llvm::append_range(shape, tensor.getShape());
  // A traversal whose ranges are known before `outer` joins the table's
  // ranges: one traversal over both instead of a traversal per point.
  auto innerFor = dyn_cast<lz::ForOp>(inner);
  bool flatten =
      innerFor && llvm::all_of(innerFor.getRanges(), [&](Value v) {
        return !outer->isAncestor(v.getParentRegion()->getParentOp());
      });
  // Otherwise every point's value must have the same shape: a tensor of
  // dynamic sizes could differ from point to point.
  if (!flatten)
    if (auto tensor = dyn_cast<RankedTensorType>(type);
        tensor && !tensor.hasStaticShape())
      return failure();
  SmallVector<Value> allRanges(ranges);
  if (flatten)
    llvm::append_range(allRanges, innerFor.getRanges());
  auto table = lz::ForOp::create(
      builder, loc, TypeRange{RankedTensorType::get(shape, element)}, allRanges,
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        IRMapping mapping;
        mapping.map(body.getArguments(), indices.take_front(ranges.size()));
        for (Operation *op : *slice)
          b.clone(*op, mapping);
        if (!flatten) {
          Operation *copy = b.clone(*inner, mapping);
          lz::YieldOp::create(b, loc, copy->getResults());
        } else {
          Block &innerBody = innerFor.getBody().front();
          mapping.map(innerBody.getArguments(),
                      indices.drop_front(ranges.size()));
          for (Operation &op : innerBody.without_terminator())
            b.clone(op, mapping);
          lz::YieldOp::create(
              b, loc,
              mapping.lookupOrDefault(innerFor.getYield().getOperand(0)));
        }
        // The slice's traversals are read where they are needed: each
        // element costs a bounded amount, and the table's point would
        // otherwise build them whole.
        for (Operation *op : *slice)
          if (auto copy = dyn_cast<lz::ForOp>(mapping.lookup(op)))
            (void)inlineReads(copy);
      });
  builder.setInsertionPoint(inner);
  Value read = lz::GetOp::create(builder, loc, type, table.getResult(0),
                                 body.getArguments());
  inner->getResult(0).replaceAllUsesWith(read);
  inner->erase();
  return success();
}

/// Rewrites `func` so that no scope evaluates a costly scope (a reduction,
/// or a traversal holding one) at each of its points: each such scope is
/// evaluated once for every point in a traversal before the enclosing
/// scope, which reads the table (repeatedly, so that a nest of scopes
/// becomes a sequence of traversals). The rewrite preserves the
/// function's meaning and its cost; it makes the reverse sweep cheaper,
/// which recomputes a scope's body at every point to differentiate it and
/// now reads what the costly scopes computed instead of computing it
/// again.
void hoistCostlyScopes(func::FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    func.walk<WalkOrder::PreOrder>([&](Operation *outer) {
      if (!isa<lz::ForOp, lz::SumOp, lz::ProdOp, lz::MaxOp, lz::MinOp,
               lz::AccumulateOp>(outer))
        return WalkResult::advance();
      for (Operation &inner : outer->getRegion(0).front()) {
        if (isCostlyScope(&inner) &&
            succeeded(hoistCostlyScope(outer, &inner))) {
          changed = true;
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
  }
}

} // namespace

FailureOr<func::FuncOp> ReverseTransform::getDerivative(func::FuncOp callee,
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
  if (failed(ad::detail::checkDifferentiable(callee, "reverse")))
    return failure();

  FunctionType type = callee.getFunctionType();
  SmallVector<Type> inputs(type.getInputs());
  for (Type result : type.getResults())
    if (hasTangent(result))
      inputs.push_back(result);
  SmallVector<Type> results(type.getResults());
  for (auto [input, a] : llvm::zip(type.getInputs(), active))
    if (a)
      results.push_back(input);

  OpBuilder detached(callee.getContext());
  auto derivative = func::FuncOp::create(
      detached, callee.getLoc(), (callee.getName() + "__vjp_" + mask).str(),
      FunctionType::get(callee.getContext(), inputs, results));
  derivative.setPrivate();
  symbols.insert(derivative);
  derivatives.set(callee, active, derivative);

  // The transformation reads a copy of the callee, rewritten for the
  // reverse sweep, which lives as long as the transformation.
  func::FuncOp primal = callee.clone();
  primal.setPrivate();
  symbols.insert(primal);
  primalCopies.push_back(primal);
  flattenLoopStates(primal);
  hoistCostlyScopes(primal);
  variedSets.push_back(computeVaried(primal, active));
  Block &body = primal.getBody().front();
  Block *entry = derivative.addEntryBlock();
  OpBuilder builder = OpBuilder::atBlockBegin(entry);
  ReverseBuilder reverse(*this, builder, *variedSets.back());
  for (auto [i, arg] : llvm::enumerate(body.getArguments()))
    reverse.setPrimal(arg, entry->getArgument(i));
  ValueRange seeds = entry->getArguments().drop_front(body.getNumArguments());
  ReversedBlock reversed;
  auto seedFn = [&](ReverseBuilder &, OpBuilder &) {
    SmallVector<Value> values;
    auto next = seeds.begin();
    for (Value result : body.getTerminator()->getOperands())
      values.push_back(hasTangent(result.getType()) ? *next++ : Value());
    return values;
  };
  if (failed(reverse.run(body, seedFn, reversed))) {
    derivatives.set(callee, active, nullptr);
    symbols.erase(derivative);
    return failure();
  }
  Location loc = callee.getLoc();
  SmallVector<Value> values;
  for (Value v : body.getTerminator()->getOperands())
    values.push_back(reverse.primal(v));
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    if (!active[i])
      continue;
    Value cotangent =
        reverse.materialize(loc, arg, reversed.arguments[arg.getArgNumber()]);
    values.push_back(cotangent ? cotangent
                               : reverse.zerosLike(loc, reverse.primal(arg)));
  }
  func::ReturnOp::create(builder, loc, values);
  return derivative;
}

//===----------------------------------------------------------------------===//
// ReverseBuilder
//===----------------------------------------------------------------------===//

FailureOr<func::FuncOp> ReverseBuilder::getDerivative(func::FuncOp callee,
                                                      ArrayRef<bool> active) {
  return transform.getDerivative(callee, active);
}

Value ReverseBuilder::zerosLike(Location loc, Value value) {
  return ad::detail::buildZeros(builder, loc, value);
}

Value ReverseBuilder::add(Location loc, Value a, Value b) {
  return ad::detail::buildAdd(builder, loc, a, b);
}

Value ReverseBuilder::materialize(Location loc, Value original,
                                  const Cotangent &cotangent) {
  return ad::detail::materialize(builder, loc, primal(original), cotangent);
}

void ReverseBuilder::addCotangent(OpOperand &operand, Cotangent contribution) {
  if (!isVaried(operand.get()) || contribution.isZero())
    return;
  merge(builder, operand.getOwner()->getLoc(),
        contributions[currentNode][operand.getOperandNumber()], contribution);
}

void ReverseBuilder::addCaptureCotangent(Value captured,
                                         Cotangent contribution) {
  if (!isVaried(captured) || contribution.isZero())
    return;
  const UnaryForm::Node &node = form->getNodes()[currentNode];
  for (unsigned slot = node.numOperands; slot < node.inputs.size(); ++slot)
    if (node.inputs[slot] == captured) {
      merge(builder, node.op->getLoc(), contributions[currentNode][slot],
            contribution);
      return;
    }
  llvm_unreachable("not a capture of the current operation");
}

ArrayRef<Value> ReverseBuilder::getResiduals(Operation *op) const {
  auto it = residuals.find(op);
  if (it == residuals.end())
    return {};
  return it->second;
}

void ReverseBuilder::setResiduals(Operation *op, ArrayRef<Value> values) {
  residuals[op].assign(values.begin(), values.end());
}

Cotangent ReverseBuilder::transposeSharing(const UnaryForm &unary,
                                           Value value) {
  Cotangent sum;
  for (UnaryForm::Copy copy : unary.getCopies(value))
    merge(builder, value.getLoc(), sum, contributions[copy.node][copy.slot]);
  return sum;
}

LogicalResult ReverseBuilder::run(Block &block, SeedFn seeds,
                                  ReversedBlock &result) {
  UnaryForm unary(block);
  form = &unary;
  contributions.clear();
  for (const UnaryForm::Node &node : unary.getNodes())
    contributions.emplace_back(node.inputs.size());
  // The context keeps its values from the enclosing blocks.
  for (Value value : unary.getContext())
    if (!primals.contains(value))
      primals.map(value, primal(value));

  // The values whose cotangents can be nonzero: those that reach the
  // output through operations other than stop_gradient.
  ArrayRef<UnaryForm::Node> nodes = unary.getNodes();
  llvm::DenseSet<Value> reaching(nodes.back().inputs.begin(),
                                 nodes.back().inputs.end());
  for (const UnaryForm::Node &node : llvm::reverse(nodes.drop_back())) {
    if (isa<StopGradientOp>(node.op) ||
        llvm::none_of(node.op->getResults(),
                      [&](Value r) { return reaching.contains(r); }))
      continue;
    reaching.insert(node.inputs.begin(), node.inputs.end());
  }

  // The forward sweep: every primal value, and the residuals that loops
  // whose results reach the output keep for their reverse.
  for (const UnaryForm::Node &node : nodes.drop_back()) {
    Operation *op = node.op;
    auto loop = dyn_cast<lz::LoopOp>(op);
    if (loop && llvm::any_of(op->getResults(), [&](Value r) {
          return isVaried(r) && reaching.contains(r);
        })) {
      if (failed(ad::detail::buildLoopForwardSweep(*this, loop)))
        return failure();
      continue;
    }
    builder.clone(*op, primals);
  }

  // The output's cotangents.
  SmallVector<Value> outputs = seeds(*this, builder);
  for (auto [slot, value] : llvm::enumerate(outputs))
    if (value)
      contributions.back()[slot] = Cotangent(value);

  // The reverse sweep.
  for (unsigned n = nodes.size() - 1; n-- > 0;) {
    Operation *op = nodes[n].op;
    resultCotangents.clear();
    for (Value r : op->getResults()) {
      if (!isVaried(r))
        continue;
      Cotangent cotangent = transposeSharing(unary, r);
      if (Value dense = materialize(op->getLoc(), r, cotangent))
        resultCotangents[r] = dense;
    }
    if (resultCotangents.empty())
      continue;
    auto rule = dyn_cast<DerivativeOpInterface>(op);
    if (!rule)
      return ad::detail::emitNoRule(op, "reverse");
    currentNode = n;
    if (failed(rule.vjp(*this)))
      return failure();
  }

  for (BlockArgument arg : block.getArguments())
    result.arguments.push_back(isVaried(arg) ? transposeSharing(unary, arg)
                                             : Cotangent());
  for (Value value : unary.getContext()) {
    if (!isVaried(value))
      continue;
    Cotangent cotangent = transposeSharing(unary, value);
    if (!cotangent.isZero())
      result.context[value] = std::move(cotangent);
  }
  form = nullptr;
  return success();
}

FailureOr<ReversedBlock> ReverseBuilder::reverseBlock(Block &block,
                                                      SeedFn seeds) {
  ReversedBlock result;
  result.block = std::make_unique<Block>();
  OpBuilder innerBuilder(block.getParentOp()->getContext());
  innerBuilder.setInsertionPointToEnd(result.block.get());
  ReverseBuilder inner(*this, innerBuilder);
  for (BlockArgument arg : block.getArguments())
    inner.setPrimal(arg,
                    result.block->addArgument(arg.getType(), arg.getLoc()));
  if (failed(inner.run(block, seeds, result)))
    return failure();
  return result;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

FailureOr<func::FuncOp>
leibniz::ad::buildReverseDerivative(ModuleOp module, func::FuncOp func,
                                    ArrayRef<bool> active) {
  SymbolTable symbols(module);
  ReverseTransform transform(symbols);
  return transform.getDerivative(func, active);
}

//===----------------------------------------------------------------------===//
// Expansion of the transformations
//===----------------------------------------------------------------------===//

namespace {

/// Expands the reverse-mode transformations, sharing the derivative
/// functions it creates; `ad.hessian` and `ad.hvp` become forward-mode
/// transformations of a gradient function, which `forward` expands.
class ReverseExpansion {
public:
  ReverseExpansion(SymbolTable &symbols, ForwardExpansion &forward)
      : symbols(symbols), forward(forward), transform(symbols) {}

  LogicalResult expand(Operation *op);

  /// The reverse derivative of `callee` with respect to `active`.
  FailureOr<func::FuncOp> getDerivative(func::FuncOp callee,
                                        ArrayRef<bool> active) {
    return transform.getDerivative(callee, active);
  }

private:
  /// Calls the reverse derivative of `callee` with respect to `active` on
  /// `operands` and the result cotangents `seeds`.
  FailureOr<func::CallOp>
  callDerivative(OpBuilder &builder, Location loc, func::FuncOp callee,
                 ValueRange operands, ArrayRef<bool> active, ValueRange seeds);
  /// A private function with the signature of `callee` that returns its
  /// gradient with respect to its first argument.
  FailureOr<func::FuncOp> getGradientFunction(func::FuncOp callee,
                                              Location loc);

  SymbolTable &symbols;
  ForwardExpansion &forward;
  ReverseTransform transform;
  llvm::DenseMap<Operation *, func::FuncOp> gradientFunctions;
};

} // namespace

FailureOr<func::CallOp>
ReverseExpansion::callDerivative(OpBuilder &builder, Location loc,
                                 func::FuncOp callee, ValueRange operands,
                                 ArrayRef<bool> active, ValueRange seeds) {
  FailureOr<func::FuncOp> derivative = transform.getDerivative(callee, active);
  if (failed(derivative))
    return failure();
  SmallVector<Value> callOperands(operands);
  llvm::append_range(callOperands, seeds);
  // Values of more precise types than the function's (static sizes).
  for (auto [operand, type] :
       llvm::zip(callOperands, derivative->getFunctionType().getInputs()))
    if (operand.getType() != type)
      operand = tensor::CastOp::create(builder, loc, type, operand);
  return func::CallOp::create(builder, loc, *derivative, callOperands);
}

/// The constant 1 of `type`, a float type, or null for another type.
static Value buildOne(OpBuilder &builder, Location loc, Type type) {
  if (!isa<FloatType>(type))
    return Value();
  return arith::ConstantOp::create(builder, loc, type,
                                   builder.getFloatAttr(type, 1.0));
}

FailureOr<func::FuncOp>
ReverseExpansion::getGradientFunction(func::FuncOp callee, Location loc) {
  if (func::FuncOp existing = gradientFunctions.lookup(callee))
    return existing;
  FunctionType type = callee.getFunctionType();
  if (type.getNumResults() != 1 || !isa<FloatType>(type.getResult(0)))
    return emitError(loc, "'")
           << callee.getName() << "' must return one float scalar";
  OpBuilder detached(callee.getContext());
  auto gradient = func::FuncOp::create(
      detached, callee.getLoc(), (callee.getName() + "__grad").str(),
      FunctionType::get(callee.getContext(), type.getInputs(),
                        type.getInput(0)));
  gradient.setPrivate();
  symbols.insert(gradient);
  Block *entry = gradient.addEntryBlock();
  OpBuilder builder = OpBuilder::atBlockBegin(entry);
  SmallVector<bool> active(type.getNumInputs(), false);
  active[0] = true;
  Value one = buildOne(builder, loc, type.getResult(0));
  FailureOr<func::CallOp> call = callDerivative(
      builder, loc, callee, entry->getArguments(), active, ValueRange{one});
  if (failed(call)) {
    gradient.erase();
    return failure();
  }
  func::ReturnOp::create(builder, loc, call->getResult(1));
  gradientFunctions[callee] = gradient;
  return gradient;
}

LogicalResult ReverseExpansion::expand(Operation *op) {
  auto callee = symbols.lookup<func::FuncOp>(
      op->getAttrOfType<FlatSymbolRefAttr>("callee").getValue());
  OpBuilder builder(op);
  Location loc = op->getLoc();
  // A value cast to the type a function or the operation declares (they
  // may differ in static sizes).
  auto castTo = [&](Value value, Type type) -> Value {
    if (value.getType() == type)
      return value;
    return tensor::CastOp::create(builder, loc, type, value);
  };
  FunctionType type = callee.getFunctionType();
  auto operandsOf = [&](auto transformOp) {
    SmallVector<Value> operands(transformOp.getArgs());
    llvm::append_range(operands, transformOp.getCaptures());
    for (auto [operand, input] : llvm::zip(operands, type.getInputs()))
      operand = castTo(operand, input);
    return operands;
  };

  auto expandGradients = [&](auto grad, bool withValue) -> LogicalResult {
    SmallVector<Value> operands = operandsOf(grad);
    Value one = buildOne(builder, loc, type.getResult(0));
    if (!one)
      return grad.emitOpError("needs a function that returns a float scalar");
    SmallVector<bool> active(operands.size(), false);
    for (int64_t w : grad.getWrt())
      active[w] = true;
    FailureOr<func::CallOp> call =
        callDerivative(builder, loc, callee, operands, active, {one});
    if (failed(call))
      return failure();
    SmallVector<Value> results;
    if (withValue)
      results.push_back(
          castTo(call->getResult(0), grad->getResult(0).getType()));
    for (auto [w, expected] : llvm::zip(grad.getWrt(), grad.getGradients())) {
      unsigned position = llvm::count(ArrayRef(active).take_front(w), true);
      results.push_back(castTo(call->getResult(type.getNumResults() + position),
                               expected.getType()));
    }
    grad->replaceAllUsesWith(results);
    grad->erase();
    return success();
  };
  if (auto grad = dyn_cast<GradOp>(op))
    return expandGradients(grad, /*withValue=*/false);
  if (auto grad = dyn_cast<ValueAndGradOp>(op))
    return expandGradients(grad, /*withValue=*/true);

  if (auto vjp = dyn_cast<VjpOp>(op)) {
    SmallVector<Value> operands = operandsOf(vjp);
    SmallVector<bool> active(operands.size(), false);
    std::fill_n(active.begin(), vjp.getArgs().size(), true);
    SmallVector<Value> seeds;
    if (hasTangent(type.getResult(0)))
      seeds.push_back(vjp.getCotangent());
    FailureOr<func::CallOp> call =
        callDerivative(builder, loc, callee, operands, active, seeds);
    if (failed(call))
      return failure();
    SmallVector<Value> results = {
        castTo(call->getResult(0), vjp.getValue().getType())};
    for (auto [i, expected] : llvm::enumerate(vjp.getCotangents()))
      results.push_back(castTo(call->getResult(type.getNumResults() + i),
                               expected.getType()));
    vjp->replaceAllUsesWith(results);
    vjp.erase();
    return success();
  }

  if (auto jacobian = dyn_cast<JacobianOp>(op)) {
    SmallVector<Value> operands = operandsOf(jacobian);
    SmallVector<bool> active(operands.size(), false);
    active[0] = true;
    Type resultType = type.getResult(0);
    Value result;
    if (Value one = buildOne(builder, loc, resultType)) {
      FailureOr<func::CallOp> call =
          callDerivative(builder, loc, callee, operands, active, {one});
      if (failed(call))
        return failure();
      result = call->getResult(1);
    } else {
      auto outputType = dyn_cast<RankedTensorType>(resultType);
      if (!outputType || !isa<FloatType>(outputType.getElementType()))
        return jacobian.emitOpError(
            "needs a function that returns a float scalar or tensor");
      // One reverse pass per one-hot output cotangent, in one traversal
      // over the output's elements, indexed output first.
      Value output =
          func::CallOp::create(builder, loc, callee, operands).getResult(0);
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < outputType.getRank(); ++d)
        sizes.push_back(tensor::DimOp::create(builder, loc, output, d));
      Type inputType = operands[0].getType();
      SmallVector<int64_t> shape(outputType.getShape());
      Type element = inputType;
      if (auto input = dyn_cast<RankedTensorType>(inputType)) {
        llvm::append_range(shape, input.getShape());
        element = input.getElementType();
      }
      FailureOr<func::FuncOp> derivative =
          transform.getDerivative(callee, active);
      if (failed(derivative))
        return failure();
      auto directions = lz::ForOp::create(
          builder, loc, TypeRange{RankedTensorType::get(shape, element)}, sizes,
          [&](OpBuilder &b, Location loc, ValueRange point) {
            Value seed = ad::detail::buildOneHot(b, loc, output, point);
            SmallVector<Value> callOperands(operands);
            callOperands.push_back(seed);
            auto call = func::CallOp::create(b, loc, *derivative, callOperands);
            lz::YieldOp::create(b, loc, ValueRange{call.getResult(1)});
          });
      directions->setAttr(kDirectionsAttr, builder.getUnitAttr());
      result = directions.getResult(0);
    }
    jacobian.replaceAllUsesWith(castTo(result, jacobian.getType()));
    jacobian.erase();
    return success();
  }

  if (auto hessian = dyn_cast<HessianOp>(op)) {
    FailureOr<func::FuncOp> gradient = getGradientFunction(callee, loc);
    if (failed(gradient))
      return failure();
    SmallVector<Value> operands = operandsOf(hessian);
    unsigned numArgs = hessian.getArgs().size();
    auto jacobian = JacobianOp::create(
        builder, loc, hessian.getType(), gradient->getSymName(),
        ArrayRef(operands).take_front(numArgs),
        ArrayRef(operands).drop_front(numArgs), "fwd");
    hessian.replaceAllUsesWith(jacobian.getResult());
    hessian.erase();
    return forward.expand(jacobian);
  }

  if (auto hvp = dyn_cast<HvpOp>(op)) {
    FailureOr<func::FuncOp> gradient = getGradientFunction(callee, loc);
    if (failed(gradient))
      return failure();
    SmallVector<Value> operands = operandsOf(hvp);
    ArrayRef<Value> args = ArrayRef(operands).take_front(hvp.getArgs().size());
    SmallVector<Value> tangents = {castTo(hvp.getTangent(), type.getInput(0))};
    for (Value arg : args.drop_front())
      tangents.push_back(ad::detail::buildZeros(builder, loc, arg));
    Type gradType = type.getInput(0);
    auto jvp = JvpOp::create(builder, loc, gradType, gradType,
                             gradient->getSymName(), args, tangents,
                             ArrayRef(operands).drop_front(args.size()));
    hvp.replaceAllUsesWith(castTo(jvp.getTangent(), hvp.getType()));
    hvp.erase();
    return forward.expand(jvp);
  }
  return success();
}

LogicalResult leibniz::ad::expandDerivatives(ModuleOp module, bool forward,
                                             bool reverse) {
  SymbolTable symbols(module);
  ForwardExpansion forwardExpansion(symbols);
  ReverseExpansion reverseExpansion(symbols, forwardExpansion);
  if (reverse)
    forwardExpansion.setReverseDerivatives(
        [&](func::FuncOp callee, ArrayRef<bool> active) {
          return reverseExpansion.getDerivative(callee, active);
        });
  // A function's transformations are expanded after those of the functions
  // it calls or transforms, so that derivatives are taken of plain IR.
  llvm::DenseSet<Operation *> visited;
  std::function<LogicalResult(func::FuncOp)> expand =
      [&](func::FuncOp func) -> LogicalResult {
    if (!visited.insert(func).second)
      return success();
    SmallVector<Operation *> transformations;
    WalkResult walk = func.walk([&](Operation *op) {
      auto callee = op->getAttrOfType<FlatSymbolRefAttr>("callee");
      if (!callee)
        return WalkResult::advance();
      if (auto target = symbols.lookup<func::FuncOp>(callee.getValue()))
        if (failed(expand(target)))
          return WalkResult::interrupt();
      if (isa<ADDialect>(op->getDialect()))
        transformations.push_back(op);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    for (Operation *op : transformations) {
      bool isForward = isForwardMode(op);
      if (isForward && forward && failed(forwardExpansion.expand(op)))
        return failure();
      if (!isForward && reverse &&
          isa<GradOp, ValueAndGradOp, VjpOp, JacobianOp, HessianOp, HvpOp>(
              op) &&
          failed(reverseExpansion.expand(op)))
        return failure();
    }
    return success();
  };
  SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
  for (func::FuncOp func : functions)
    if (failed(expand(func)))
      return failure();
  return success();
}
