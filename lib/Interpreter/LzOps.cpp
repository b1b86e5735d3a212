//===- LzOps.cpp - Interpreting the lz dialect ----------------------------===//
//
// Part of Leibniz.
//
// Scopes visit their iteration space in row-major order of the index
// variables; reductions fold the points in that order, starting from the
// first point's value, rounding after every step (so a float sum is the
// sequential sum, as NumPy's add.reduce). Only an empty iteration space gives
// the identity.
//
//===----------------------------------------------------------------------===//

#include "EvaluationUtils.h"

#include "Lz/LzOps.h"
#include "leibniz/Interpreter/ValueIO.h"
#include "leibniz/Runtime/Philox.h"
#include "leibniz/Runtime/Runtime.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::interp;

namespace {

/// Reads the ranges of a scope, failing on a negative one.
FailureOr<SmallVector<int64_t>> readRanges(Interpreter &interp, Operation *op,
                                           ValueRange ranges) {
  SmallVector<int64_t> sizes;
  for (Value range : ranges) {
    int64_t size = interp.lookupTensor(range).getInt(0);
    if (size < 0)
      return interp.emitError(op) << "range " << size << " is negative";
    sizes.push_back(size);
  }
  return sizes;
}

/// Calls `fn` with every point of the iteration space `sizes` in row-major
/// order, as index values; stops at the first failure.
LogicalResult
forEachPoint(ArrayRef<int64_t> sizes,
             llvm::function_ref<LogicalResult(ArrayRef<RuntimeValue>)> fn,
             MLIRContext *context) {
  for (int64_t size : sizes)
    if (size == 0)
      return success();
  Type indexType = IndexType::get(context);
  SmallVector<int64_t> point(sizes.size(), 0);
  SmallVector<RuntimeValue> indices;
  do {
    indices.clear();
    for (int64_t i : point)
      indices.push_back(Tensor::getInt(indexType, i));
    if (failed(fn(indices)))
      return failure();
  } while (advancePoint(point, sizes));
  return success();
}

/// Checks a computed shape against the static sizes of `type`.
LogicalResult checkShape(Interpreter &interp, Operation *op,
                         RankedTensorType type, ArrayRef<int64_t> shape) {
  for (auto [dim, size] : llvm::enumerate(shape))
    if (!type.isDynamicDim(dim) && type.getDimSize(dim) != size)
      return interp.emitError(op)
             << "result has size " << size << " in dimension " << dim
             << " but its type " << type << " says " << type.getDimSize(dim);
  return success();
}

LogicalResult evaluateFor(Interpreter &interp, lz::ForOp op) {
  FailureOr<SmallVector<int64_t>> sizes =
      readRanges(interp, op, op.getRanges());
  if (failed(sizes))
    return failure();
  int64_t numPoints = 1;
  for (int64_t size : *sizes)
    numPoints *= size;

  unsigned numResults = op.getNumResults();
  // The yielded shape of each result, known from the first point (or from
  // the type, with dynamic sizes 0, when there is no point).
  SmallVector<SmallVector<int64_t>> innerShapes(numResults);
  SmallVector<Tensor> results(numResults);
  auto createResults = [&]() -> LogicalResult {
    for (unsigned r = 0; r < numResults; ++r) {
      auto type = cast<RankedTensorType>(op.getResult(r).getType());
      SmallVector<int64_t> shape(*sizes);
      llvm::append_range(shape, innerShapes[r]);
      if (failed(checkShape(interp, op, type, shape)) ||
          failed(checkTensorShape(interp, op, shape)))
        return failure();
      results[r] = Tensor(type.getElementType(), shape);
    }
    return success();
  };

  if (numPoints == 0) {
    for (unsigned r = 0; r < numResults; ++r) {
      auto type = cast<RankedTensorType>(op.getResult(r).getType());
      for (int64_t size : type.getShape().drop_front(sizes->size()))
        innerShapes[r].push_back(ShapedType::isDynamic(size) ? 0 : size);
    }
    if (failed(createResults()))
      return failure();
  }

  int64_t point = 0;
  LogicalResult status = forEachPoint(
      *sizes,
      [&](ArrayRef<RuntimeValue> indices) -> LogicalResult {
        FailureOr<SmallVector<RuntimeValue>> yielded =
            interp.runRegion(op.getBody(), indices);
        if (failed(yielded))
          return failure();
        for (unsigned r = 0; r < numResults; ++r) {
          const Tensor &element = (*yielded)[r].getTensor();
          if (point == 0)
            innerShapes[r].assign(element.getShape().begin(),
                                  element.getShape().end());
          else if (element.getShape() != ArrayRef(innerShapes[r]))
            return interp.emitError(op)
                   << "the points of the scope yield tensors of different "
                      "shapes";
        }
        if (point == 0 && failed(createResults()))
          return failure();
        for (unsigned r = 0; r < numResults; ++r) {
          const Tensor &element = (*yielded)[r].getTensor();
          int64_t count = element.getNumElements();
          for (int64_t i = 0; i < count; ++i)
            results[r].set(point * count + i, element.get(i));
        }
        ++point;
        return success();
      },
      op.getContext());
  if (failed(status))
    return failure();
  for (unsigned r = 0; r < numResults; ++r)
    interp.bind(op.getResult(r), std::move(results[r]));
  return success();
}

/// Combines two elements of a reduction of kind `op`.
Scalar combine(Operation *op, Type elementType, Scalar acc, Scalar value) {
  Scalar result;
  if (isa<FloatType>(elementType)) {
    double a = acc.f, b = value.f;
    if (isa<lz::SumOp>(op))
      result.f = a + b;
    else if (isa<lz::ProdOp>(op))
      result.f = a * b;
    else if (std::isnan(a) || std::isnan(b))
      result.f = std::numeric_limits<double>::quiet_NaN();
    else if (isa<lz::MaxOp>(op))
      result.f = a == b ? (std::signbit(a) ? b : a) : std::max(a, b);
    else
      result.f = a == b ? (std::signbit(a) ? a : b) : std::min(a, b);
    return result;
  }
  uint64_t a = static_cast<uint64_t>(acc.i), b = static_cast<uint64_t>(value.i);
  if (isa<lz::SumOp>(op))
    result.i = static_cast<int64_t>(a + b);
  else if (isa<lz::ProdOp>(op))
    result.i = static_cast<int64_t>(a * b);
  else if (isa<lz::MaxOp>(op))
    result.i = std::max(acc.i, value.i);
  else
    result.i = std::min(acc.i, value.i);
  return result;
}

LogicalResult evaluateReduction(Interpreter &interp, Operation *op,
                                ValueRange ranges, Region &body) {
  FailureOr<SmallVector<int64_t>> sizes = readRanges(interp, op, ranges);
  if (failed(sizes))
    return failure();
  Type resultType = op->getResult(0).getType();
  Type elementType = getElementTypeOrSelf(resultType);
  std::optional<Scalar> identity =
      getScalarFromAttr(lz::getReductionIdentity(op, elementType));
  if (!identity)
    return interp.emitError(op) << "no identity for " << elementType;

  std::optional<Tensor> acc;
  auto type = dyn_cast<RankedTensorType>(resultType);
  LogicalResult status = forEachPoint(
      *sizes,
      [&](ArrayRef<RuntimeValue> indices) -> LogicalResult {
        FailureOr<SmallVector<RuntimeValue>> yielded =
            interp.runRegion(body, indices);
        if (failed(yielded))
          return failure();
        const Tensor &value = (*yielded)[0].getTensor();
        // The first point starts the accumulation (so a reduction over one
        // point is exactly that point's value, -0.0 included).
        if (!acc) {
          acc = value;
          return success();
        }
        if (acc->getShape() != value.getShape())
          return interp.emitError(op)
                 << "the points of the scope yield tensors of different "
                    "shapes";
        for (int64_t i = 0, e = acc->getNumElements(); i < e; ++i)
          acc->set(i, combine(op, elementType, acc->get(i), value.get(i)));
        return success();
      },
      op->getContext());
  if (failed(status))
    return failure();
  if (!acc) {
    // Empty iteration space: the identity, shaped like the result type.
    SmallVector<int64_t> shape;
    if (type)
      for (int64_t size : type.getShape())
        shape.push_back(ShapedType::isDynamic(size) ? 0 : size);
    if (failed(checkTensorShape(interp, op, shape)))
      return failure();
    acc = Tensor(elementType, shape);
    for (int64_t i = 0, e = acc->getNumElements(); i < e; ++i)
      acc->set(i, *identity);
  }
  if (type && failed(checkShape(interp, op, type, acc->getShape())))
    return failure();
  interp.bind(op->getResult(0), std::move(*acc));
  return success();
}

template <typename OpTy> void addReduction(OpHandlerRegistry &registry) {
  registry.add<OpTy>([](Interpreter &interp, OpTy op) {
    return evaluateReduction(interp, op, op.getRanges(), op.getBody());
  });
}

/// Zeros of the result type, then every point's value added at its indices
/// in row-major order of the points (those whose mask is true, when
/// masked).
LogicalResult evaluateAccumulate(Interpreter &interp, lz::AccumulateOp op) {
  FailureOr<SmallVector<int64_t>> ranges =
      readRanges(interp, op, op.getRanges());
  if (failed(ranges))
    return failure();
  auto type = cast<RankedTensorType>(op.getType());
  SmallVector<int64_t> shape;
  auto sizes = op.getSizes().begin();
  for (int64_t size : type.getShape()) {
    shape.push_back(ShapedType::isDynamic(size)
                        ? interp.lookupTensor(*sizes++).getInt(0)
                        : size);
    if (shape.back() < 0)
      return interp.emitError(op) << "size " << shape.back() << " is negative";
  }
  if (failed(checkTensorShape(interp, op, shape)))
    return failure();
  Type elementType = type.getElementType();
  bool isFloat = isa<FloatType>(elementType);
  Tensor result(elementType, shape);
  unsigned numIndices = op.getTargetIndices().size();
  ArrayRef<int64_t> innerShape = ArrayRef(shape).drop_front(numIndices);
  LogicalResult status = forEachPoint(
      *ranges,
      [&](ArrayRef<RuntimeValue> indices) -> LogicalResult {
        FailureOr<SmallVector<RuntimeValue>> yielded =
            interp.runRegion(op.getBody(), indices);
        if (failed(yielded))
          return failure();
        unsigned first = op.getMasked() ? 1 : 0;
        if (first && (*yielded)[0].getTensor().getInt(0) == 0)
          return success();
        SmallVector<int64_t> target;
        for (unsigned d = 0; d < numIndices; ++d) {
          int64_t i = (*yielded)[first + d].getTensor().getInt(0);
          if (i < 0 || i >= shape[d])
            return interp.emitError(op)
                   << "index " << i << " is out of bounds for dimension " << d
                   << " of size " << shape[d];
          target.push_back(i);
        }
        const Tensor &value = yielded->back().getTensor();
        if (value.getShape() != innerShape)
          return interp.emitError(op)
                 << "a point yields a value of a shape other than the "
                    "trailing dimensions of the result";
        target.resize(shape.size(), 0);
        int64_t offset = result.getFlatIndex(target);
        for (int64_t e = 0, n = value.getNumElements(); e < n; ++e) {
          Scalar acc = result.get(offset + e), x = value.get(e);
          if (isFloat)
            acc.f = acc.f + x.f;
          else
            acc.i = static_cast<int64_t>(static_cast<uint64_t>(acc.i) +
                                         static_cast<uint64_t>(x.i));
          result.set(offset + e, acc);
        }
        return success();
      },
      op.getContext());
  if (failed(status))
    return failure();
  interp.bind(op.getResult(), std::move(result));
  return success();
}

LogicalResult evaluateGet(Interpreter &interp, lz::GetOp op) {
  const Tensor &tensor = interp.lookupTensor(op.getTensor());
  ArrayRef<int64_t> shape = tensor.getShape();
  SmallVector<int64_t> index;
  for (auto [dim, operand] : llvm::enumerate(op.getIndices())) {
    int64_t i = interp.lookupTensor(operand).getInt(0);
    if (i < 0 || i >= shape[dim])
      return interp.emitError(op)
             << "index " << i << " is out of bounds for "
             << "dimension " << dim << " of size " << shape[dim];
    index.push_back(i);
  }
  ArrayRef<int64_t> innerShape = shape.drop_front(index.size());
  Tensor result(tensor.getElementType(), innerShape);
  int64_t count = result.getNumElements();
  index.resize(shape.size(), 0);
  int64_t offset = tensor.getFlatIndex(index);
  for (int64_t i = 0; i < count; ++i)
    result.set(i, tensor.get(offset + i));
  interp.bind(op.getResult(), std::move(result));
  return success();
}

LogicalResult evaluateFill(Interpreter &interp, lz::FillOp op) {
  return evaluateSplat(interp, op, op.getResult().getType(), op.getSizes(),
                       interp.lookupTensor(op.getValue()).get(0));
}

LogicalResult evaluateIota(Interpreter &interp, lz::IotaOp op) {
  auto type = cast<RankedTensorType>(op.getResult().getType());
  int64_t size = op.getSize() ? interp.lookupTensor(op.getSize()).getInt(0)
                              : type.getDimSize(0);
  if (failed(checkTensorShape(interp, op, {size})))
    return failure();
  Tensor result(type.getElementType(), {size});
  for (int64_t i = 0; i < size; ++i) {
    if (result.isFloat())
      result.setFloat(i, static_cast<double>(i));
    else
      result.setInt(i, i);
  }
  interp.bind(op.getResult(), std::move(result));
  return success();
}

/// Element `e` (in C order) of the result is Philox-4x32-10 of counter `e`
/// under the seed as key.
LogicalResult evaluateRandom(Interpreter &interp, lz::RandomOp op) {
  RankedTensorType type = op.getResult().getType();
  SmallVector<int64_t> shape;
  auto sizes = op.getSizes().begin();
  for (int64_t dim : type.getShape())
    shape.push_back(ShapedType::isDynamic(dim)
                        ? interp.lookupTensor(*sizes++).getInt(0)
                        : dim);
  if (failed(checkTensorShape(interp, op, shape)))
    return failure();
  auto seed =
      static_cast<uint64_t>(interp.lookupTensor(op.getSeed()).getInt(0));
  bool normal = op.getDistribution() == "normal";
  Tensor result(type.getElementType(), shape);
  for (int64_t e = 0, n = result.getNumElements(); e < n; ++e)
    result.setFloat(e, normal ? runtime::philoxNormal(e, seed)
                              : runtime::philoxUniform(e, seed));
  interp.bind(op.getResult(), std::move(result));
  return success();
}

/// Prints the value to standard output, then returns it.
LogicalResult evaluatePrint(Interpreter &interp, lz::PrintOp op) {
  const RuntimeValue &value = interp.lookup(op.getInput());
  printValue(llvm::outs(), value, op.getInput().getType());
  llvm::outs() << "\n";
  interp.bind(op.getResult(), value);
  return success();
}

/// Records an optimizer step's loss with the runtime, as compiled code
/// does.
LogicalResult evaluateTraceLoss(Interpreter &interp, lz::TraceLossOp op) {
  std::string location = "<unknown>";
  op.getLoc()->walk([&](Location inner) {
    if (auto file = dyn_cast<FileLineColLoc>(inner)) {
      location = (file.getFilename().getValue() + ":" + Twine(file.getLine()) +
                  ":" + Twine(file.getColumn()))
                     .str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  int64_t step = interp.lookupTensor(op.getStep()).getInt(0);
  double loss = interp.lookupTensor(op.getLoss()).getFloat(0);
  leibniz_trace_loss(location.c_str(), op.getWhat().str().c_str(), step, loss);
  return success();
}

/// A value above its tolerance: a warning, or under the module's
/// `lz.strict_tolerances`, a run-time error.
LogicalResult evaluateCheckTolerance(Interpreter &interp,
                                     lz::CheckToleranceOp op) {
  double value = interp.lookupTensor(op.getValue()).getFloat(0);
  double limit = interp.lookupTensor(op.getLimit()).getFloat(0);
  if (value <= limit)
    return success();
  std::string message;
  llvm::raw_string_ostream os(message);
  os << op.getWhat() << " is " << llvm::format("%.3g", value)
     << ", above the tolerance " << llvm::format("%.3g", limit);
  auto module = op->getParentOfType<ModuleOp>();
  if (module && module->hasAttr("lz.strict_tolerances"))
    return interp.emitError(op) << message;
  op->emitWarning(message);
  return success();
}

/// `C[b, i, j] = sum_k A[b, i, k] * B[b, k, j]`, with the rounding of the
/// equivalent lz.sum: the product and every partial sum are rounded, and the
/// first product starts the sum.
LogicalResult evaluateMatmul(Interpreter &interp, Operation *op) {
  const Tensor &lhs = interp.lookupTensor(op->getOperand(0));
  const Tensor &rhs = interp.lookupTensor(op->getOperand(1));
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  bool batched = lhs.getRank() == 3;
  int64_t batch = batched ? lhs.getShape()[0] : 1;
  ArrayRef<int64_t> l = lhs.getShape().take_back(2),
                    r = rhs.getShape().take_back(2);
  if (l[1] != r[0] || (batched && rhs.getShape()[0] != batch))
    return interp.emitError(op) << "operand shapes do not match";
  int64_t m = l[0], k = l[1], n = r[1];
  SmallVector<int64_t> shape;
  if (batched)
    shape.push_back(batch);
  shape.append({m, n});
  if (failed(checkShape(interp, op, type, shape)) ||
      failed(checkTensorShape(interp, op, shape)))
    return failure();

  Tensor result(type.getElementType(), shape);
  Tensor acc(type.getElementType(), {});
  bool isFloat = result.isFloat();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        if (isFloat)
          acc.setFloat(0, 0.0);
        else
          acc.setInt(0, 0);
        for (int64_t p = 0; p < k; ++p) {
          Scalar a = lhs.get((b * m + i) * k + p);
          Scalar c = rhs.get((b * k + p) * n + j);
          if (isFloat) {
            double product = roundToFloatType(type.getElementType(), a.f * c.f);
            acc.setFloat(0, p == 0 ? product : acc.getFloat(0) + product);
          } else {
            acc.setInt(
                0, static_cast<int64_t>(static_cast<uint64_t>(acc.getInt(0)) +
                                        static_cast<uint64_t>(a.i) *
                                            static_cast<uint64_t>(c.i)));
          }
        }
        result.set((b * m + i) * n + j, acc.get(0));
      }
    }
  }
  interp.bind(op->getResult(0), std::move(result));
  return success();
}

/// A loop's tensor state keeps its sizes from step to step (rewrite rules
/// read them from the initial value): a step that changes them is an error.
LogicalResult checkStateSizes(Interpreter &interp, lz::LoopOp op,
                              ArrayRef<RuntimeValue> initial,
                              ArrayRef<RuntimeValue> next) {
  for (auto [i, pair] : llvm::enumerate(llvm::zip(initial, next))) {
    auto [before, after] = pair;
    if (before.isTuple() || after.isTuple() ||
        before.getTensor().getShape() == after.getTensor().getShape())
      continue;
    auto printShape = [](llvm::raw_ostream &os, ArrayRef<int64_t> shape) {
      os << "[";
      llvm::interleaveComma(shape, os);
      os << "]";
    };
    InFlightDiagnostic diag = interp.emitError(op);
    diag << "the loop's state " << i << " changes its sizes from ";
    std::string text;
    llvm::raw_string_ostream os(text);
    printShape(os, before.getTensor().getShape());
    os << " to ";
    printShape(os, after.getTensor().getShape());
    return diag << text << "; a loop's tensor state keeps its sizes";
  }
  return success();
}

LogicalResult evaluateLoop(Interpreter &interp, lz::LoopOp op) {
  SmallVector<RuntimeValue> state;
  for (Value init : op.getInits())
    state.push_back(interp.lookup(init));
  SmallVector<RuntimeValue> initial = state;

  if (op.isCounted()) {
    int64_t count = interp.lookupTensor(op.getCount()).getInt(0);
    Type indexType = IndexType::get(op.getContext());
    for (int64_t step = 0; step < count; ++step) {
      SmallVector<RuntimeValue> args{Tensor::getInt(indexType, step)};
      llvm::append_range(args, state);
      FailureOr<SmallVector<RuntimeValue>> next =
          interp.runRegion(op.getBody(), args);
      if (failed(next) || failed(checkStateSizes(interp, op, initial, *next)))
        return failure();
      state = std::move(*next);
    }
  } else {
    while (true) {
      FailureOr<SmallVector<RuntimeValue>> cond =
          interp.runRegion(op.getCond(), state);
      if (failed(cond))
        return failure();
      if ((*cond)[0].getTensor().getInt(0) == 0)
        break;
      FailureOr<SmallVector<RuntimeValue>> next =
          interp.runRegion(op.getBody(), state);
      if (failed(next) || failed(checkStateSizes(interp, op, initial, *next)))
        return failure();
      state = std::move(*next);
    }
  }
  for (auto [result, value] : llvm::zip(op.getResults(), state))
    interp.bind(result, value);
  return success();
}

} // namespace

void leibniz::interp::registerLzHandlers(OpHandlerRegistry &registry) {
  registry.add<lz::ForOp>(evaluateFor);
  addReduction<lz::SumOp>(registry);
  addReduction<lz::ProdOp>(registry);
  addReduction<lz::MaxOp>(registry);
  addReduction<lz::MinOp>(registry);
  registry.add<lz::AccumulateOp>(evaluateAccumulate);
  registry.add<lz::GetOp>(evaluateGet);
  registry.add<lz::FillOp>(evaluateFill);
  registry.add<lz::IotaOp>(evaluateIota);
  registry.add<lz::RandomOp>(evaluateRandom);
  registry.add<lz::PrintOp>(evaluatePrint);
  registry.add<lz::CheckToleranceOp>(evaluateCheckTolerance);
  registry.add<lz::TraceLossOp>(evaluateTraceLoss);
  registry.add<lz::MatmulOp>([](Interpreter &interp, lz::MatmulOp op) {
    return evaluateMatmul(interp, op);
  });
  registry.add<lz::BatchMatmulOp>(
      [](Interpreter &interp, lz::BatchMatmulOp op) {
        return evaluateMatmul(interp, op);
      });
  registry.add<lz::TupleOp>([](Interpreter &interp, lz::TupleOp op) {
    std::vector<RuntimeValue> elements;
    for (Value element : op.getElements())
      elements.push_back(interp.lookup(element));
    interp.bind(op.getResult(), RuntimeValue::getTuple(std::move(elements)));
    return success();
  });
  registry.add<lz::ProjOp>([](Interpreter &interp, lz::ProjOp op) {
    interp.bind(op.getResult(),
                interp.lookup(op.getTuple()).getElements()[op.getIndex()]);
    return success();
  });
  registry.add<lz::LoopOp>(evaluateLoop);
}
