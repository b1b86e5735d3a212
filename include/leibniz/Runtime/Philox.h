//===- Philox.h - Counter-based random numbers ------------------*- C++ -*-===//
//
// Part of Leibniz.
//
// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC 2011): a bijection of a 128-bit counter under a 64-bit key. Element
// `e` of a random tensor with seed `s` is computed from the counter `e` and
// the key `s` alone, so every engine (interpreter, compiled code, GPU) gives
// the same numbers in any order of evaluation. Header-only and free of
// dependencies so that generated code's runtime can use it.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_RUNTIME_PHILOX_H
#define LEIBNIZ_RUNTIME_PHILOX_H

#include <array>
#include <cmath>
#include <cstdint>

namespace leibniz::runtime {

/// Philox-4x32-10 of a 128-bit counter under a 64-bit key.
inline std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> c,
                                          std::array<uint32_t, 2> k) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(kMul0) * c[0], p1 = uint64_t(kMul1) * c[2];
    c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k[0],
         static_cast<uint32_t>(p1),
         static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k[1],
         static_cast<uint32_t>(p0)};
    k[0] += kWeyl0;
    k[1] += kWeyl1;
  }
  return c;
}

/// The four 32-bit words for element `counter` of the stream `key`: the
/// counter's low and high words, then zeros; the key's low and high words.
inline std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t key) {
  return philox4x32(
      {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0,
       0},
      {static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)});
}

/// A double uniform in [0, 1): the top 53 bits of the first 64-bit output.
inline double philoxUniform(uint64_t counter, uint64_t key) {
  std::array<uint32_t, 4> w = philox4x32(counter, key);
  uint64_t bits = (uint64_t(w[1]) << 32) | w[0];
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

/// A standard normal double by the Box-Muller transform of both 64-bit
/// outputs (the first mapped to (0, 1] so that the logarithm is finite).
inline double philoxNormal(uint64_t counter, uint64_t key) {
  std::array<uint32_t, 4> w = philox4x32(counter, key);
  uint64_t a = (uint64_t(w[1]) << 32) | w[0];
  uint64_t b = (uint64_t(w[3]) << 32) | w[2];
  double u1 = static_cast<double>((a >> 11) + 1) * 0x1.0p-53;
  double u2 = static_cast<double>(b >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

} // namespace leibniz::runtime

#endif // LEIBNIZ_RUNTIME_PHILOX_H
