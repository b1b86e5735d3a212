//===- Format.h - NumPy-style printing of values ----------------*- C++ -*-===//
//
// Part of Leibniz.
//
// The one implementation of how Leibniz prints values: the interpreter, the
// JIT and compiled libraries all print through it, so that they print the
// same text. Plain C++, no LLVM: compiled libraries link it.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_RUNTIME_FORMAT_H
#define LEIBNIZ_RUNTIME_FORMAT_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace leibniz::runtime {

/// The element types that values have at run time.
enum class DType : uint8_t { F64, F32, I64, I32, I1 };

/// The byte size of an element in a buffer of compiled code (`i1` takes a
/// byte).
size_t getDTypeSize(DType dtype);

/// Whether elements of `dtype` are floats.
inline bool isFloat(DType dtype) {
  return dtype == DType::F64 || dtype == DType::F32;
}

/// `value` rounded to the precision of a float `dtype`.
double roundToDType(DType dtype, double value);

/// A strided array to print. The element at index (i0, ..., ik) lies at
/// element offset sum(i_d * strides[d]) from `data`. `wide` elements are
/// stored as `double` (floats) or `int64_t` (integers) whatever `dtype`
/// says, as the interpreter stores them; otherwise they have the C type of
/// `dtype` (`bool` for `I1`).
struct ArrayView {
  DType dtype;
  const void *data;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  bool wide = false;
  /// Rounds a double to the precision of the elements, for float types
  /// other than f64 and f32 (the interpreter's f16, bf16); null: `dtype`'s.
  std::function<double(double)> roundToPrecision = nullptr;

  double getFloat(int64_t offset) const;
  int64_t getInt(int64_t offset) const;
};

/// Python's repr of a scalar: `0.1`, `1e-05`, `3`, `True`.
std::string formatScalar(DType dtype, double floatValue, int64_t intValue);

/// NumPy's `print` of an array: a scalar for rank 0, `[]` for an array
/// without elements, otherwise nested brackets with aligned elements,
/// wrapped at 75 columns, summarized with `...` past 1000 elements.
std::string formatArray(const ArrayView &array);

} // namespace leibniz::runtime

#endif // LEIBNIZ_RUNTIME_FORMAT_H
