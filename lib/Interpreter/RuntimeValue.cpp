//===- RuntimeValue.cpp - Values of the reference interpreter -------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Interpreter/RuntimeValue.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/ErrorHandling.h"

#include <cmath>

using namespace mlir;
using namespace leibniz::interp;

unsigned leibniz::interp::getIntegerWidth(Type type) {
  if (type.isIndex())
    return 64;
  return type.getIntOrFloatBitWidth();
}

double leibniz::interp::roundToFloatType(Type type, double value) {
  if (type.isF64())
    return value;
  if (type.isF32())
    return static_cast<double>(static_cast<float>(value));
  // Other float types go through APFloat, rounding to nearest even.
  auto floatType = cast<FloatType>(type);
  llvm::APFloat apValue(value);
  bool losesInfo = false;
  apValue.convert(floatType.getFloatSemantics(),
                  llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  apValue.convert(llvm::APFloat::IEEEdouble(),
                  llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  return apValue.convertToDouble();
}

int64_t leibniz::interp::wrapToWidth(unsigned width, int64_t value) {
  if (width >= 64)
    return value;
  uint64_t mask = (uint64_t(1) << width) - 1;
  uint64_t bits = static_cast<uint64_t>(value) & mask;
  uint64_t sign = uint64_t(1) << (width - 1);
  return static_cast<int64_t>((bits ^ sign) - sign);
}

uint64_t leibniz::interp::asUnsigned(unsigned width, int64_t value) {
  if (width >= 64)
    return static_cast<uint64_t>(value);
  return static_cast<uint64_t>(value) & ((uint64_t(1) << width) - 1);
}

std::optional<int64_t> Tensor::getElementCount(ArrayRef<int64_t> shape) {
  if (static_cast<int64_t>(shape.size()) > kMaxRank)
    return std::nullopt;
  int64_t count = 1;
  for (int64_t size : shape) {
    if (size < 0)
      return std::nullopt;
    if (size == 0)
      return 0;
  }
  for (int64_t size : shape)
    if (__builtin_mul_overflow(count, size, &count) || count > kMaxElements)
      return std::nullopt;
  return count;
}

Tensor::Tensor(Type elementType, ArrayRef<int64_t> shape)
    : elementType(elementType), shape(shape.begin(), shape.end()) {
  std::optional<int64_t> elementCount = getElementCount(shape);
  if (!elementCount)
    llvm::report_fatal_error("interpreter tensor of an unchecked shape");
  int64_t count = *elementCount;
  data = std::make_shared<std::vector<Scalar>>(count, Scalar{0.0});
  if (!isFloat())
    for (Scalar &s : *data)
      s.i = 0;
}

Tensor Tensor::getScalar(Type type, Scalar value) {
  Tensor tensor(type, {});
  tensor.set(0, value);
  return tensor;
}

Tensor Tensor::getFloat(Type type, double value) {
  Tensor tensor(type, {});
  tensor.setFloat(0, value);
  return tensor;
}

Tensor Tensor::getInt(Type type, int64_t value) {
  Tensor tensor(type, {});
  tensor.setInt(0, value);
  return tensor;
}

bool Tensor::isFloat() const { return isa<FloatType>(elementType); }

void Tensor::makeUnique() {
  if (data.use_count() > 1)
    data = std::make_shared<std::vector<Scalar>>(*data);
}

void Tensor::set(int64_t flat, Scalar value) {
  if (isFloat())
    setFloat(flat, value.f);
  else
    setInt(flat, value.i);
}

void Tensor::setFloat(int64_t flat, double value) {
  makeUnique();
  (*data)[flat].f = roundToFloatType(elementType, value);
}

void Tensor::setInt(int64_t flat, int64_t value) {
  makeUnique();
  (*data)[flat].i = wrapToWidth(getIntegerWidth(elementType), value);
}

SmallVector<int64_t> Tensor::getStrides() const {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

int64_t Tensor::getFlatIndex(ArrayRef<int64_t> index) const {
  int64_t flat = 0;
  for (auto [size, i] : llvm::zip(shape, index))
    flat = flat * size + i;
  return flat;
}

Tensor Tensor::reshaped(ArrayRef<int64_t> newShape) const {
  Tensor result = *this;
  result.shape.assign(newShape.begin(), newShape.end());
  return result;
}

bool Tensor::operator==(const Tensor &other) const {
  if (elementType != other.elementType || shape != other.shape)
    return false;
  for (int64_t i = 0, e = getNumElements(); i < e; ++i) {
    if (!isFloat()) {
      if (getInt(i) != other.getInt(i))
        return false;
      continue;
    }
    double a = getFloat(i), b = other.getFloat(i);
    if (std::isnan(a) && std::isnan(b))
      continue;
    if (a != b || std::signbit(a) != std::signbit(b))
      return false;
  }
  return true;
}
