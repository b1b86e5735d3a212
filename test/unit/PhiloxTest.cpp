//===- PhiloxTest.cpp - The counter-based random numbers ------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/Philox.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace leibniz::runtime;

namespace {

// The known-answer vectors of Philox-4x32-10 from the Random123 reference
// implementation (Salmon et al., SC 2011).
TEST(PhiloxTest, KnownAnswers) {
  using Words = std::array<uint32_t, 4>;
  EXPECT_EQ(philox4x32(Words{0, 0, 0, 0}, {0, 0}),
            (Words{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32(Words{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                       {0xffffffff, 0xffffffff}),
            (Words{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32(Words{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                       {0xa4093822, 0x299f31d0}),
            (Words{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(PhiloxTest, ElementStreams) {
  // Element e of seed s is the counter (e, 0, 0, 0) under the key s.
  EXPECT_EQ(philox4x32(uint64_t(5) | uint64_t(7) << 32, 9),
            philox4x32(std::array<uint32_t, 4>{5, 7, 0, 0}, {9, 0}));
  EXPECT_NE(philox4x32(0, 1), philox4x32(1, 1));
  EXPECT_NE(philox4x32(0, 1), philox4x32(0, 2));
}

TEST(PhiloxTest, Distributions) {
  // Uniform in [0, 1) and standard normal, checked by their moments over
  // many elements.
  const int n = 100000;
  double sumU = 0, sumN = 0, sumN2 = 0;
  for (int e = 0; e < n; ++e) {
    double u = philoxUniform(e, 42);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sumU += u;
    double z = philoxNormal(e, 42);
    ASSERT_TRUE(std::isfinite(z));
    sumN += z;
    sumN2 += z * z;
  }
  EXPECT_NEAR(sumU / n, 0.5, 0.005);
  EXPECT_NEAR(sumN / n, 0.0, 0.01);
  EXPECT_NEAR(sumN2 / n, 1.0, 0.02);
}

} // namespace
