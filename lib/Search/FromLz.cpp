//===- FromLz.cpp - lz scopes as tensor expressions -----------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Search/FromLz.h"

#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

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
  DenseMap<Value, Affine> indices;
  DenseMap<Value, const Node *> nodes;
  /// The tensor of each scope's result.
  DenseMap<Value, unsigned> tensors;
  unsigned numTraversal = 0, numSummation = 0;
};

} // namespace

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
  SmallVector<int64_t> shape;
  for (unsigned it : outer) {
    stage.traversal.push_back(it);
    shape.push_back(program.iterators[it].size());
  }
  for (auto [range, arg] :
       llvm::zip(scope->getOperands(), body.getArguments())) {
    FailureOr<int64_t> size = getConstant(range, loc);
    if (failed(size))
      return failure();
    unsigned it = program.addIterator(getIteratorName(traversal), 0, *size);
    indices[arg] = Affine::getIterator(it);
    if (traversal) {
      stage.traversal.push_back(it);
      shape.push_back(*size);
    } else {
      stage.summation.push_back(it);
    }
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
  stage.summand = *summand;
  std::string name = "t" + std::to_string(program.stages.size() + 1);
  stage.output = program.addTensor(name, shape, program.stages.size());
  unsigned output = stage.output;
  program.stages.push_back(std::move(stage));
  tensors[scope->getResult(0)] = output;
  return output;
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
        if (get.getIndices().size() != program.tensors[it->second].shape.size())
          return get.emitError("the tensor search reads elements only");
        SmallVector<Affine, 4> at;
        for (Value index : get.getIndices()) {
          FailureOr<Affine> affine = getIndex(index, loc);
          if (failed(affine))
            return failure();
          at.push_back(*affine);
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
    if (!type)
      continue;
    if (!type.hasStaticShape() || !isa<FloatType>(type.getElementType()))
      return emitError(func.getLoc())
             << "the tensor search needs float tensor arguments of static "
                "shape; argument "
             << arg.getArgNumber() << " has type " << type;
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
