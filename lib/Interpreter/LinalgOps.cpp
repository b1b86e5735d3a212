//===- LinalgOps.cpp - Interpreting linalg structured ops -----------------===//
//
// Part of Leibniz.
//
// One handler evaluates every op of the linalg structured-op interface on
// tensors (linalg.generic and the named ops, whose bodies are regions too):
// loop ranges come from the operand shapes through the op's
// shapes-to-loops map, and at every point of the iteration space, in
// row-major loop order, the body runs on the input elements and the current
// output elements and its yield is written back. Outputs start as the `outs`
// tensors, so reductions accumulate into them as upstream defines.
//
//===----------------------------------------------------------------------===//

#include "EvaluationUtils.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineExpr.h"

using namespace mlir;
using namespace leibniz::interp;

namespace {

/// Evaluates an affine expression at concrete dimension values; fails on a
/// division by zero.
std::optional<int64_t> evaluateAffine(AffineExpr expr, ArrayRef<int64_t> dims) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dims[dim.getPosition()];
  if (auto constant = dyn_cast<AffineConstantExpr>(expr))
    return constant.getValue();
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return std::nullopt;
  std::optional<int64_t> lhs = evaluateAffine(binary.getLHS(), dims);
  std::optional<int64_t> rhs = evaluateAffine(binary.getRHS(), dims);
  if (!lhs || !rhs)
    return std::nullopt;
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return *lhs + *rhs;
  case AffineExprKind::Mul:
    return *lhs * *rhs;
  case AffineExprKind::Mod:
    if (*rhs <= 0)
      return std::nullopt;
    return ((*lhs % *rhs) + *rhs) % *rhs;
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv: {
    if (*rhs == 0)
      return std::nullopt;
    int64_t q = *lhs / *rhs, r = *lhs % *rhs;
    bool inexact = r != 0;
    bool negative = (*lhs < 0) != (*rhs < 0);
    if (expr.getKind() == AffineExprKind::FloorDiv)
      return inexact && negative ? q - 1 : q;
    return inexact && !negative ? q + 1 : q;
  }
  default:
    return std::nullopt;
  }
}

/// Applies `map` to `dims`; fails when a result cannot be evaluated.
FailureOr<SmallVector<int64_t>> applyMap(AffineMap map,
                                         ArrayRef<int64_t> dims) {
  SmallVector<int64_t> results;
  for (AffineExpr expr : map.getResults()) {
    std::optional<int64_t> value = evaluateAffine(expr, dims);
    if (!value)
      return failure();
    results.push_back(*value);
  }
  return results;
}

LogicalResult evaluateStructured(Interpreter &interp,
                                 linalg::LinalgOp linalgOp) {
  Operation *op = linalgOp.getOperation();
  if (!linalgOp.hasPureTensorSemantics())
    return interp.emitError(op) << "the interpreter runs linalg ops on "
                                   "tensors only";
  if (op->getNumRegions() != 1 || !op->getRegion(0).hasOneBlock())
    return interp.emitError(op) << "linalg op without a body";

  // Loop ranges from the operand shapes.
  SmallVector<int64_t> operandDims;
  for (OpOperand &operand : op->getOpOperands())
    if (auto type = dyn_cast<ShapedType>(operand.get().getType()))
      llvm::append_range(operandDims,
                         interp.lookupTensor(operand.get()).getShape());
  AffineMap shapesToLoops = linalgOp.getShapesToLoopsMap();
  if (!shapesToLoops)
    return interp.emitError(op) << "cannot derive the loop ranges";
  FailureOr<SmallVector<int64_t>> ranges = applyMap(shapesToLoops, operandDims);
  if (failed(ranges))
    return interp.emitError(op) << "cannot derive the loop ranges";

  SmallVector<AffineMap> maps = linalgOp.getIndexingMapsArray();
  // Operand dimensions indexed by a plain loop variable must span its range
  // exactly (upstream leaves a mismatch undefined); other reads are
  // bounds-checked at every point.
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<ShapedType>(operand.get().getType()))
      continue;
    unsigned pos = operand.getOperandNumber();
    ArrayRef<int64_t> shape = interp.lookupTensor(operand.get()).getShape();
    for (auto [dim, expr] : llvm::enumerate(maps[pos].getResults())) {
      auto loop = dyn_cast<AffineDimExpr>(expr);
      if (loop && shape[dim] != (*ranges)[loop.getPosition()])
        return interp.emitError(op)
               << "operand #" << pos << " has size " << shape[dim]
               << " in dimension " << dim << ", but loop d"
               << loop.getPosition() << " has range "
               << (*ranges)[loop.getPosition()];
    }
  }
  SmallVector<Tensor> outputs;
  for (Value init : linalgOp.getDpsInits())
    outputs.push_back(interp.lookupTensor(init));

  // Reads the element of operand `pos` at loop point `point`.
  auto readOperand = [&](unsigned pos, ArrayRef<int64_t> point,
                         const Tensor &tensor) -> FailureOr<Scalar> {
    if (!isa<ShapedType>(op->getOperand(pos).getType()))
      return tensor.get(0);
    FailureOr<SmallVector<int64_t>> index = applyMap(maps[pos], point);
    if (failed(index))
      return interp.emitError(op) << "cannot evaluate indexing map #" << pos;
    for (auto [dim, i] : llvm::enumerate(*index))
      if (i < 0 || i >= tensor.getShape()[dim])
        return interp.emitError(op)
               << "operand #" << pos << " is read out of bounds: index " << i
               << " in dimension " << dim << " of size "
               << tensor.getShape()[dim];
    return tensor.get(tensor.getFlatIndex(*index));
  };

  Block &body = op->getRegion(0).front();
  unsigned numInputs = linalgOp.getNumDpsInputs();
  bool empty = llvm::any_of(*ranges, [](int64_t r) { return r <= 0; });
  SmallVector<int64_t> point(ranges->size(), 0);
  if (!empty) {
    do {
      interp.setIterationPoint(op, point);
      SmallVector<RuntimeValue> args;
      for (unsigned i = 0; i < numInputs; ++i) {
        Value input = op->getOperand(i);
        FailureOr<Scalar> element =
            readOperand(i, point, interp.lookupTensor(input));
        if (failed(element))
          return failure();
        args.push_back(
            Tensor::getScalar(body.getArgument(i).getType(), *element));
      }
      for (auto [o, output] : llvm::enumerate(outputs)) {
        FailureOr<Scalar> element = readOperand(numInputs + o, point, output);
        if (failed(element))
          return failure();
        args.push_back(Tensor::getScalar(
            body.getArgument(numInputs + o).getType(), *element));
      }
      FailureOr<SmallVector<RuntimeValue>> yielded =
          interp.runRegion(op->getRegion(0), args);
      if (failed(yielded))
        return failure();
      for (auto [o, output] : llvm::enumerate(outputs)) {
        FailureOr<SmallVector<int64_t>> index =
            applyMap(maps[numInputs + o], point);
        if (failed(index))
          return failure();
        output.set(output.getFlatIndex(*index),
                   (*yielded)[o].getTensor().get(0));
      }
    } while (advancePoint(point, *ranges));
  }
  for (auto [result, output] : llvm::zip(op->getResults(), outputs))
    interp.bind(result, std::move(output));
  return success();
}

LogicalResult evaluateIndex(Interpreter &interp, linalg::IndexOp op) {
  auto parent = op->getParentOfType<linalg::LinalgOp>();
  ArrayRef<int64_t> point =
      parent ? interp.getIterationPoint(parent) : ArrayRef<int64_t>();
  if (op.getDim() >= point.size())
    return interp.emitError(op)
           << "no enclosing loop dimension " << op.getDim();
  interp.bind(op.getResult(), Tensor::getInt(op.getType(), point[op.getDim()]));
  return success();
}

} // namespace

void leibniz::interp::registerLinalgHandlers(OpHandlerRegistry &registry) {
  registry.add<linalg::IndexOp>(evaluateIndex);
  registry.addInterface<linalg::LinalgOp>(evaluateStructured);
}
