//===- TensorOps.cpp - Interpreting the tensor dialect --------------------===//
//
// Part of Leibniz.
//
// tensor.empty has undefined contents upstream; the interpreter fills float
// tensors with NaN (and integer tensors with 0) so that a program that reads
// them shows it.
//
//===----------------------------------------------------------------------===//

#include "EvaluationUtils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace leibniz::interp;

namespace {

/// Reads full indices and checks them against `shape`.
FailureOr<int64_t> readFlatIndex(Interpreter &interp, Operation *op,
                                 const Tensor &tensor, ValueRange indices) {
  SmallVector<int64_t> index;
  for (auto [dim, operand] : llvm::enumerate(indices)) {
    int64_t i = interp.lookupTensor(operand).getInt(0);
    if (i < 0 || i >= tensor.getShape()[dim])
      return interp.emitError(op)
             << "index " << i << " is out of bounds for dimension " << dim
             << " of size " << tensor.getShape()[dim];
    index.push_back(i);
  }
  return tensor.getFlatIndex(index);
}

/// Calls `fn(source flat index, slice flat index)` for every element of a
/// strided slice; fails if the slice leaves the source bounds.
LogicalResult
forEachSliceElement(Interpreter &interp, Operation *op,
                    ArrayRef<int64_t> sourceShape, ArrayRef<int64_t> offsets,
                    ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides,
                    llvm::function_ref<void(int64_t, int64_t)> fn) {
  for (auto [dim, offset, size, stride] :
       llvm::enumerate(offsets, sizes, strides)) {
    if (size == 0)
      return success();
    int64_t span, last;
    bool overflow = __builtin_mul_overflow(size - 1, stride, &span) ||
                    __builtin_add_overflow(offset, span, &last);
    if (overflow || offset < 0 || size < 0 || last < 0 ||
        last >= sourceShape[dim])
      return interp.emitError(op)
             << "slice [" << offset << ", size " << size << ", stride "
             << stride << "] is out of bounds for dimension " << dim
             << " of size " << sourceShape[dim];
  }
  SmallVector<int64_t> point(sizes.size(), 0);
  int64_t sliceFlat = 0;
  do {
    int64_t sourceFlat = 0;
    for (auto [dim, i] : llvm::enumerate(point))
      sourceFlat =
          sourceFlat * sourceShape[dim] + offsets[dim] + i * strides[dim];
    fn(sourceFlat, sliceFlat++);
  } while (advancePoint(point, sizes));
  return success();
}

/// The contents of a new tensor: NaN for floats, 0 for integers.
Scalar getUndefined(RankedTensorType type) {
  Scalar undefined;
  if (isa<FloatType>(type.getElementType()))
    undefined.f = std::numeric_limits<double>::quiet_NaN();
  else
    undefined.i = 0;
  return undefined;
}

LogicalResult evaluateEmpty(Interpreter &interp, tensor::EmptyOp op) {
  return evaluateSplat(interp, op, op.getType(), op.getDynamicSizes(),
                       getUndefined(op.getType()));
}

/// bufferization.alloc_tensor, which the lowering of scopes creates: a new
/// tensor like tensor.empty, or with `copy` (the GPU's split reductions,
/// the values of scatter-adds with vector math), a tensor equal to the
/// copied one.
LogicalResult evaluateAllocTensor(Interpreter &interp,
                                  bufferization::AllocTensorOp op) {
  if (op.getCopy()) {
    Tensor copy = interp.lookupTensor(op.getCopy());
    interp.bind(op.getResult(), std::move(copy));
    return success();
  }
  return evaluateSplat(interp, op, op.getType(), op.getDynamicSizes(),
                       getUndefined(op.getType()));
}

LogicalResult evaluateExtract(Interpreter &interp, tensor::ExtractOp op) {
  const Tensor &tensor = interp.lookupTensor(op.getTensor());
  FailureOr<int64_t> flat = readFlatIndex(interp, op, tensor, op.getIndices());
  if (failed(flat))
    return failure();
  interp.bind(op.getResult(),
              Tensor::getScalar(op.getType(), tensor.get(*flat)));
  return success();
}

LogicalResult evaluateInsert(Interpreter &interp, tensor::InsertOp op) {
  Tensor result = interp.lookupTensor(op.getDest());
  FailureOr<int64_t> flat = readFlatIndex(interp, op, result, op.getIndices());
  if (failed(flat))
    return failure();
  result.set(*flat, interp.lookupTensor(op.getScalar()).get(0));
  interp.bind(op.getResult(), std::move(result));
  return success();
}

LogicalResult evaluateGenerate(Interpreter &interp, tensor::GenerateOp op) {
  RankedTensorType type = op.getType();
  FailureOr<SmallVector<int64_t>> shape =
      resolveShape(interp, op, type, op.getDynamicExtents());
  if (failed(shape))
    return failure();
  Tensor result(type.getElementType(), *shape);
  if (result.getNumElements() > 0) {
    Type indexType = IndexType::get(op.getContext());
    SmallVector<int64_t> point(shape->size(), 0);
    int64_t flat = 0;
    do {
      SmallVector<RuntimeValue> indices;
      for (int64_t i : point)
        indices.push_back(Tensor::getInt(indexType, i));
      FailureOr<SmallVector<RuntimeValue>> yielded =
          interp.runRegion(op.getBody(), indices);
      if (failed(yielded))
        return failure();
      result.set(flat++, (*yielded)[0].getTensor().get(0));
    } while (advancePoint(point, *shape));
  }
  interp.bind(op.getResult(), std::move(result));
  return success();
}

LogicalResult evaluateDim(Interpreter &interp, tensor::DimOp op) {
  const Tensor &tensor = interp.lookupTensor(op.getSource());
  int64_t dim = interp.lookupTensor(op.getIndex()).getInt(0);
  if (dim < 0 || dim >= tensor.getRank())
    return interp.emitError(op)
           << "dimension " << dim << " is out of range for rank "
           << tensor.getRank();
  interp.bind(op.getResult(),
              Tensor::getInt(op.getType(), tensor.getShape()[dim]));
  return success();
}

LogicalResult evaluateFromElements(Interpreter &interp,
                                   tensor::FromElementsOp op) {
  RankedTensorType type = op.getType();
  Tensor result(type.getElementType(), type.getShape());
  for (auto [i, element] : llvm::enumerate(op.getElements()))
    result.set(i, interp.lookupTensor(element).get(0));
  interp.bind(op.getResult(), std::move(result));
  return success();
}

/// Rebinds the operand with a new type after checking its static sizes.
LogicalResult evaluateReshapeTo(Interpreter &interp, Operation *op,
                                const Tensor &source, ArrayRef<int64_t> shape) {
  std::optional<int64_t> count = Tensor::getElementCount(shape);
  if (!count || *count != source.getNumElements()) {
    InFlightDiagnostic diag = interp.emitError(op)
                              << "cannot reshape " << source.getNumElements()
                              << " elements to shape [";
    llvm::interleaveComma(shape, diag);
    return diag << "]";
  }
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  for (auto [dim, size] : llvm::enumerate(shape))
    if (!type.isDynamicDim(dim) && type.getDimSize(dim) != size)
      return interp.emitError(op) << "size " << size << " in dimension " << dim
                                  << " does not match " << type;
  interp.bind(op->getResult(0), source.reshaped(shape));
  return success();
}

LogicalResult evaluateCast(Interpreter &interp, tensor::CastOp op) {
  const Tensor &source = interp.lookupTensor(op.getSource());
  return evaluateReshapeTo(interp, op, source, source.getShape());
}

LogicalResult evaluateCollapseShape(Interpreter &interp,
                                    tensor::CollapseShapeOp op) {
  const Tensor &source = interp.lookupTensor(op.getSrc());
  SmallVector<int64_t> shape;
  for (const ReassociationIndices &group : op.getReassociationIndices()) {
    int64_t size = 1;
    for (int64_t dim : group)
      size *= source.getShape()[dim];
    shape.push_back(size);
  }
  return evaluateReshapeTo(interp, op, source, shape);
}

LogicalResult evaluateExpandShape(Interpreter &interp,
                                  tensor::ExpandShapeOp op) {
  const Tensor &source = interp.lookupTensor(op.getSrc());
  SmallVector<int64_t> shape;
  for (OpFoldResult size : op.getMixedOutputShape())
    shape.push_back(readIndex(interp, size));
  return evaluateReshapeTo(interp, op, source, shape);
}

LogicalResult evaluateTensorSplat(Interpreter &interp, tensor::SplatOp op) {
  return evaluateSplat(interp, op, op.getType(), op.getDynamicSizes(),
                       interp.lookupTensor(op.getInput()).get(0));
}

/// The offsets, sizes and strides of a slice operation.
struct Slice {
  SmallVector<int64_t> offsets, sizes, strides;
};
Slice readSlice(Interpreter &interp, OffsetSizeAndStrideOpInterface op) {
  Slice slice;
  for (OpFoldResult ofr : op.getMixedOffsets())
    slice.offsets.push_back(readIndex(interp, ofr));
  for (OpFoldResult ofr : op.getMixedSizes())
    slice.sizes.push_back(readIndex(interp, ofr));
  for (OpFoldResult ofr : op.getMixedStrides())
    slice.strides.push_back(readIndex(interp, ofr));
  return slice;
}

LogicalResult evaluateExtractSlice(Interpreter &interp,
                                   tensor::ExtractSliceOp op) {
  const Tensor &source = interp.lookupTensor(op.getSource());
  auto [offsets, sizes, strides] = readSlice(interp, op);
  if (failed(checkTensorShape(interp, op, sizes)))
    return failure();
  Tensor slice(source.getElementType(), sizes);
  if (failed(forEachSliceElement(
          interp, op, source.getShape(), offsets, sizes, strides,
          [&](int64_t from, int64_t to) { slice.set(to, source.get(from)); })))
    return failure();
  // Rank-reducing slices drop unit dimensions.
  SmallVector<int64_t> resultShape;
  llvm::SmallBitVector dropped = op.getDroppedDims();
  for (auto [dim, size] : llvm::enumerate(sizes))
    if (!dropped.test(dim))
      resultShape.push_back(size);
  return evaluateReshapeTo(interp, op, slice, resultShape);
}

LogicalResult evaluateInsertSlice(Interpreter &interp,
                                  tensor::InsertSliceOp op) {
  Tensor result = interp.lookupTensor(op.getDest());
  if (failed(
          insertSlice(interp, op, interp.lookupTensor(op.getSource()), result)))
    return failure();
  interp.bind(op.getResult(), std::move(result));
  return success();
}

LogicalResult evaluateConcat(Interpreter &interp, tensor::ConcatOp op) {
  int64_t dim = op.getDim();
  SmallVector<const Tensor *> inputs;
  SmallVector<int64_t> shape;
  for (Value input : op.getInputs()) {
    const Tensor &tensor = interp.lookupTensor(input);
    inputs.push_back(&tensor);
    if (shape.empty()) {
      shape.assign(tensor.getShape().begin(), tensor.getShape().end());
      shape[dim] = 0;
    }
    for (auto [d, size] : llvm::enumerate(tensor.getShape()))
      if (static_cast<int64_t>(d) != dim && size != shape[d])
        return interp.emitError(op) << "inputs differ in dimension " << d;
    shape[dim] += tensor.getShape()[dim];
  }
  if (failed(checkTensorShape(interp, op, shape)))
    return failure();
  Tensor result(op.getType().getElementType(), shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= shape[d];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(shape.size()); ++d)
    inner *= shape[d];
  int64_t out = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor *tensor : inputs) {
      int64_t chunk = tensor->getShape()[dim] * inner;
      for (int64_t i = 0; i < chunk; ++i)
        result.set(out++, tensor->get(o * chunk + i));
    }
  return evaluateReshapeTo(interp, op, result, shape);
}

} // namespace

LogicalResult leibniz::interp::insertSlice(Interpreter &interp,
                                           OffsetSizeAndStrideOpInterface op,
                                           const Tensor &source, Tensor &dest) {
  auto [offsets, sizes, strides] = readSlice(interp, op);
  std::optional<int64_t> count = Tensor::getElementCount(sizes);
  if (!count || *count != source.getNumElements())
    return interp.emitError(op)
           << "the slice sizes do not match the " << source.getNumElements()
           << " elements of the source";
  return forEachSliceElement(
      interp, op, dest.getShape(), offsets, sizes, strides,
      [&](int64_t to, int64_t from) { dest.set(to, source.get(from)); });
}

void leibniz::interp::registerTensorHandlers(OpHandlerRegistry &registry) {
  registry.add<tensor::EmptyOp>(evaluateEmpty);
  registry.add<bufferization::AllocTensorOp>(evaluateAllocTensor);
  registry.add<tensor::ExtractOp>(evaluateExtract);
  registry.add<tensor::InsertOp>(evaluateInsert);
  registry.add<tensor::GenerateOp>(evaluateGenerate);
  registry.add<tensor::DimOp>(evaluateDim);
  registry.add<tensor::FromElementsOp>(evaluateFromElements);
  registry.add<tensor::CastOp>(evaluateCast);
  registry.add<tensor::CollapseShapeOp>(evaluateCollapseShape);
  registry.add<tensor::ExpandShapeOp>(evaluateExpandShape);
  registry.add<tensor::SplatOp>(evaluateTensorSplat);
  registry.add<tensor::ExtractSliceOp>(evaluateExtractSlice);
  registry.add<tensor::InsertSliceOp>(evaluateInsertSlice);
  registry.add<tensor::ConcatOp>(evaluateConcat);
}
