//===- Npy.h - Reading and writing .npy files -------------------*- C++ -*-===//
//
// Part of Leibniz.
//
// NumPy's .npy format (versions 1 to 3), for arrays of f64, f32, i64, i32
// and bool in C order, on little-endian hosts. Malformed, truncated and
// unsupported files are errors with a message, never a crash. Plain C++,
// no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_RUNTIME_NPY_H
#define LEIBNIZ_RUNTIME_NPY_H

#include "leibniz/Runtime/Format.h"

#include <string>
#include <string_view>
#include <vector>

namespace leibniz::runtime {

/// An array read from a .npy file: its elements packed in C order, each
/// with the C type of `dtype` (`bool` for `I1`).
struct NpyArray {
  DType dtype = DType::F64;
  std::vector<int64_t> shape;
  std::vector<char> data;

  int64_t getNumElements() const {
    return static_cast<int64_t>(data.size() / getDTypeSize(dtype));
  }
};

/// Parses the contents of a .npy file into `array`. Arrays of more than
/// `maxRank` dimensions or `maxElements` elements are rejected. On failure
/// returns false and sets `error`.
bool parseNpy(std::string_view contents, NpyArray &array, std::string &error,
              int64_t maxRank, int64_t maxElements);

/// The contents of a version 1.0 .npy file holding `shape` elements of
/// `dtype` packed at `data`.
std::string serializeNpy(DType dtype, const std::vector<int64_t> &shape,
                         const void *data);

} // namespace leibniz::runtime

#endif // LEIBNIZ_RUNTIME_NPY_H
