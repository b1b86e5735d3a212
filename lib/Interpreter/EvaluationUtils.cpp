//===- EvaluationUtils.cpp - Helpers shared by the op handlers ------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "EvaluationUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace leibniz::interp;

double leibniz::interp::apFloatToDouble(const llvm::APFloat &value) {
  llvm::APFloat copy = value;
  bool losesInfo = false;
  copy.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
               &losesInfo);
  return copy.convertToDouble();
}

LogicalResult leibniz::interp::checkTensorShape(Interpreter &interp,
                                                Operation *op,
                                                ArrayRef<int64_t> shape) {
  if (Tensor::getElementCount(shape))
    return success();
  // Compiled code reports a negative size in the same words.
  for (int64_t size : shape)
    if (size < 0)
      return interp.emitError(op) << "size " << size << " is negative";
  InFlightDiagnostic diag = interp.emitError(op) << "a tensor of shape [";
  llvm::interleaveComma(shape, diag);
  return diag << "] has more than " << Tensor::kMaxElements << " elements";
}

FailureOr<SmallVector<int64_t>>
leibniz::interp::resolveShape(Interpreter &interp, Operation *op,
                              RankedTensorType type, ValueRange dynamicSizes) {
  SmallVector<int64_t> shape;
  unsigned next = 0;
  for (int64_t size : type.getShape()) {
    if (ShapedType::isDynamic(size))
      size = interp.lookupTensor(dynamicSizes[next++]).getInt(0);
    shape.push_back(size);
  }
  if (failed(checkTensorShape(interp, op, shape)))
    return failure();
  return shape;
}

LogicalResult leibniz::interp::evaluateSplat(Interpreter &interp, Operation *op,
                                             RankedTensorType type,
                                             ValueRange dynamicSizes,
                                             Scalar value) {
  FailureOr<SmallVector<int64_t>> shape =
      resolveShape(interp, op, type, dynamicSizes);
  if (failed(shape))
    return failure();
  Tensor result(type.getElementType(), *shape);
  for (int64_t i = 0, e = result.getNumElements(); i < e; ++i)
    result.set(i, value);
  interp.bind(op->getResult(0), std::move(result));
  return success();
}

std::optional<Scalar> leibniz::interp::getScalarFromAttr(Attribute attr) {
  if (auto floatAttr = dyn_cast<FloatAttr>(attr))
    return Scalar{apFloatToDouble(floatAttr.getValue())};
  if (auto intAttr = dyn_cast<IntegerAttr>(attr)) {
    if (intAttr.getValue().getBitWidth() > 64)
      return std::nullopt;
    Scalar s;
    s.i = intAttr.getValue().getSExtValue();
    return s;
  }
  return std::nullopt;
}

LogicalResult leibniz::interp::evaluateElementwise(Interpreter &interp,
                                                   Operation *op,
                                                   ElementFn fn) {
  SmallVector<const Tensor *> operands;
  ArrayRef<int64_t> shape;
  for (Value operand : op->getOperands()) {
    const Tensor &tensor = interp.lookupTensor(operand);
    operands.push_back(&tensor);
    if (tensor.getRank() > 0) {
      if (!shape.empty() && shape != tensor.getShape())
        return interp.emitError(op) << "operand shapes differ";
      shape = tensor.getShape();
    }
  }
  Type resultElement = getElementTypeOrSelf(op->getResult(0).getType());
  Tensor result(resultElement, shape);
  SmallVector<Scalar> elements(operands.size());
  std::string error;
  for (int64_t i = 0, e = result.getNumElements(); i < e; ++i) {
    for (auto [pos, operand] : llvm::enumerate(operands))
      elements[pos] = operand->get(operand->getRank() > 0 ? i : 0);
    std::optional<Scalar> value = fn(elements, error);
    if (!value)
      return interp.emitError(op) << error;
    result.set(i, *value);
  }
  interp.bind(op->getResult(0), std::move(result));
  return success();
}

int64_t leibniz::interp::readIndex(Interpreter &interp, OpFoldResult ofr) {
  if (auto attr = dyn_cast<Attribute>(ofr))
    return cast<IntegerAttr>(attr).getInt();
  return interp.lookupTensor(cast<Value>(ofr)).getInt(0);
}
