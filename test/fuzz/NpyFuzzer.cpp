//===- NpyFuzzer.cpp - libFuzzer target for the .npy reader ---------------===//
//
// Part of Leibniz.
//
// Feeds arbitrary bytes to the .npy reader. Every input must be read or
// rejected with a message, without a crash, a hang or a sanitizer report;
// an array that is read must have as many bytes as its shape says, and
// writing it and reading it back must give the same array.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/Npy.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace leibniz::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view contents(reinterpret_cast<const char *>(data), size);
  NpyArray array;
  std::string error;
  if (!parseNpy(contents, array, error, /*maxRank=*/8,
                /*maxElements=*/1 << 20)) {
    if (error.empty())
      std::abort(); // A rejection says why.
    return 0;
  }
  int64_t elements = 1;
  for (int64_t size : array.shape) {
    if (size < 0)
      std::abort();
    elements *= size;
  }
  if (array.getNumElements() != elements ||
      array.data.size() != elements * getDTypeSize(array.dtype))
    std::abort();
  // What is read is written and read back unchanged.
  std::string written =
      serializeNpy(array.dtype, array.shape, array.data.data());
  NpyArray again;
  if (!parseNpy(written, again, error, 8, 1 << 20) ||
      again.dtype != array.dtype || again.shape != array.shape ||
      again.data != array.data)
    std::abort();
  return 0;
}
