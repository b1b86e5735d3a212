//===- RuntimeValue.h - Values of the reference interpreter -----*- C++ -*-===//
//
// Part of Leibniz.
//
// The interpreter computes on concrete values: tensors of any rank (scalars
// are rank-0 tensors) and tuples. A tensor stores one `Scalar` per element; its
// MLIR element type says how to read it. Floats are held as doubles rounded to
// the element type's precision after every operation, so f32 arithmetic is
// exactly IEEE single precision for +, -, *, / and sqrt. Integers are held
// sign-extended from their bit width (i1 true is -1, read as 1 by unsigned
// operations).
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_INTERPRETER_RUNTIMEVALUE_H
#define LEIBNIZ_INTERPRETER_RUNTIMEVALUE_H

#include "mlir/IR/Types.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

namespace leibniz::interp {

/// One element; the element type of its tensor says which member is live.
union Scalar {
  double f;
  int64_t i;
};

/// The bit width the interpreter uses for an integer-like type (index is 64).
unsigned getIntegerWidth(mlir::Type type);

/// Rounds `value` to the precision of float type `type`.
double roundToFloatType(mlir::Type type, double value);

/// Truncates `value` to `width` bits and sign-extends it back.
int64_t wrapToWidth(unsigned width, int64_t value);

/// Reads `value` of integer width `width` as unsigned.
uint64_t asUnsigned(unsigned width, int64_t value);

/// An immutable n-dimensional array in row-major order. Copies share their
/// storage; the setters copy it first when it is shared, so a tensor never
/// changes under another value that holds it.
class Tensor {
public:
  /// The largest tensor the interpreter creates (2 GiB of elements).
  static constexpr int64_t kMaxElements = int64_t(1) << 28;
  /// The largest rank the interpreter handles.
  static constexpr int64_t kMaxRank = 64;

  /// The element count of `shape`, or nullopt when a size is negative, the
  /// count exceeds `kMaxElements` or the rank exceeds `kMaxRank`.
  static std::optional<int64_t> getElementCount(llvm::ArrayRef<int64_t> shape);

  Tensor() = default;
  /// A zero-filled tensor. `shape` must pass `getElementCount`; a shape that
  /// does not is a fatal error (every handler checks it first).
  Tensor(mlir::Type elementType, llvm::ArrayRef<int64_t> shape);

  static Tensor getScalar(mlir::Type type, Scalar value);
  static Tensor getFloat(mlir::Type type, double value);
  static Tensor getInt(mlir::Type type, int64_t value);

  mlir::Type getElementType() const { return elementType; }
  llvm::ArrayRef<int64_t> getShape() const { return shape; }
  int64_t getRank() const { return shape.size(); }
  int64_t getNumElements() const { return data ? data->size() : 0; }
  bool isFloat() const;

  Scalar get(int64_t flat) const { return (*data)[flat]; }
  double getFloat(int64_t flat) const { return (*data)[flat].f; }
  int64_t getInt(int64_t flat) const { return (*data)[flat].i; }
  /// The elements in row-major order (null for an empty tensor).
  const Scalar *getData() const { return data ? data->data() : nullptr; }
  /// Sets an element, rounding or wrapping it to the element type.
  void set(int64_t flat, Scalar value);
  void setFloat(int64_t flat, double value);
  void setInt(int64_t flat, int64_t value);

  /// The row-major offset of a full index; the caller checks bounds.
  int64_t getFlatIndex(llvm::ArrayRef<int64_t> index) const;
  /// Row-major strides of the shape.
  llvm::SmallVector<int64_t> getStrides() const;

  /// The same elements with another shape of the same element count.
  Tensor reshaped(llvm::ArrayRef<int64_t> newShape) const;

  /// Same element type, shape and elements, where float elements compare
  /// as values that tell -0 from +0 and NaN equals NaN: "the same result"
  /// for checking transformations.
  bool operator==(const Tensor &other) const;

private:
  void makeUnique();

  mlir::Type elementType;
  llvm::SmallVector<int64_t, 4> shape;
  std::shared_ptr<std::vector<Scalar>> data;
};

/// A tensor, a scalar (rank-0 tensor), or a tuple of values.
class RuntimeValue {
public:
  RuntimeValue() = default;
  RuntimeValue(Tensor tensor) : storage(std::move(tensor)) {}
  static RuntimeValue getTuple(std::vector<RuntimeValue> elements) {
    RuntimeValue value;
    value.storage = std::move(elements);
    return value;
  }

  bool isTuple() const {
    return std::holds_alternative<std::vector<RuntimeValue>>(storage);
  }
  const Tensor &getTensor() const { return std::get<Tensor>(storage); }
  const std::vector<RuntimeValue> &getElements() const {
    return std::get<std::vector<RuntimeValue>>(storage);
  }

  bool operator==(const RuntimeValue &other) const {
    return storage == other.storage;
  }

private:
  std::variant<Tensor, std::vector<RuntimeValue>> storage;
};

} // namespace leibniz::interp

#endif // LEIBNIZ_INTERPRETER_RUNTIMEVALUE_H
