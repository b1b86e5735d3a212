//===- RuntimeTest.cpp - Tests of the run-time support --------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/Runtime.h"
#include "leibniz/Runtime/Format.h"
#include "leibniz/Runtime/Npy.h"

#include "gtest/gtest.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace leibniz::runtime;

namespace {

std::string npyWithHeader(const std::string &header, size_t dataBytes) {
  std::string text = header;
  text.append((64 - (10 + text.size() + 1) % 64) % 64, ' ');
  text += '\n';
  std::string file = "\x93NUMPY";
  file += '\x01';
  file += '\x00';
  file += static_cast<char>(text.size() & 0xff);
  file += static_cast<char>(text.size() >> 8);
  return file + text + std::string(dataBytes, '\0');
}

std::string parseError(const std::string &contents) {
  NpyArray array;
  std::string error;
  EXPECT_FALSE(parseNpy(contents, array, error, 8, 1 << 20));
  return error;
}

TEST(NpyTest, RoundTripsEveryElementType) {
  double f64[] = {1.5, -0.0, 3e300};
  float f32[] = {0.1f, 2.0f};
  int64_t i64[] = {-1, INT64_MAX};
  int32_t i32[] = {7, -8, 9};
  bool i1[] = {true, false};
  struct Case {
    DType dtype;
    std::vector<int64_t> shape;
    const void *data;
  } cases[] = {{DType::F64, {3}, f64},
               {DType::F32, {1, 2}, f32},
               {DType::I64, {2}, i64},
               {DType::I32, {3, 1}, i32},
               {DType::I1, {2}, i1}};
  for (const Case &c : cases) {
    std::string file = serializeNpy(c.dtype, c.shape, c.data);
    NpyArray array;
    std::string error;
    ASSERT_TRUE(parseNpy(file, array, error, 8, 100)) << error;
    EXPECT_EQ(array.dtype, c.dtype);
    EXPECT_EQ(array.shape, c.shape);
    ASSERT_EQ(array.data.size(),
              array.getNumElements() * getDTypeSize(c.dtype));
    EXPECT_EQ(std::memcmp(array.data.data(), c.data, array.data.size()), 0);
  }
}

TEST(NpyTest, HeadersAlignTo64Bytes) {
  double value = 1;
  std::string file = serializeNpy(DType::F64, {}, &value);
  EXPECT_EQ((file.size() - 8) % 64, 0u);
}

TEST(NpyTest, ReportsEveryMalformedFile) {
  EXPECT_EQ(parseError("PK\x03\x04"), "not a .npy file (bad magic string)");
  EXPECT_EQ(parseError(std::string("\x93NUMPY\x04\x00", 8)),
            "unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)");
  EXPECT_EQ(parseError(std::string("\x93NUMPY\x01\x05", 8)),
            "unsupported .npy format version 1.5 (expected 1.0, 2.0 or 3.0)");
  EXPECT_EQ(parseError(std::string("\x93NUMPY\x01\x00\x50", 9)),
            "truncated .npy header");
  EXPECT_EQ(parseError(std::string("\x93NUMPY\x01\x00\x50\x00{'descr'", 17)),
            "truncated .npy header");
  EXPECT_EQ(
      parseError(npyWithHeader(
          "{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", 16)),
      "Fortran-order .npy files are not supported; save the array in "
      "C order");
  EXPECT_EQ(
      parseError(npyWithHeader(
          "{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", 32)),
      "unsupported .npy element type '<c16'; expected little-endian "
      "f8, f4, i8, i4 or b1");
  EXPECT_EQ(
      parseError(npyWithHeader(
          "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 16)),
      "unsupported .npy element type '>f8'; expected little-endian "
      "f8, f4, i8, i4 or b1");
  EXPECT_EQ(
      parseError(npyWithHeader(
          "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 8)),
      "the .npy file has 8 bytes of data but its header needs 16 "
      "(truncated or corrupt)");
  EXPECT_EQ(
      parseError(npyWithHeader(
          "{'descr': '<f8', 'fortran_order': False, 'shape': (x,), }", 8)),
      "malformed .npy header: 'shape' must be a tuple of integers, such as "
      "(3,) or (2, 3) at column 51: {'descr': '<f8', 'fortran_order': "
      "False, 'shape': (x,), }");
  EXPECT_EQ(parseError(npyWithHeader(
                "{'descr': '<f8', 'fortran_order': False, 'shape': "
                "(99999999999, 99999999999), }",
                0)),
            "the .npy array has a dimension of 99999999999, more than the "
            "1048576 elements an array may have");
  EXPECT_EQ(parseError(npyWithHeader("{'descr': '<f8', 'fortran_order': "
                                     "False, 'shape': (2048, 2048), }",
                                     0)),
            "the .npy array is too large");
  EXPECT_EQ(parseError(npyWithHeader("{'descr': '<f8'}", 0)),
            "malformed .npy header: missing the key 'fortran_order': "
            "{'descr': '<f8'}");
  // What NumPy itself rejects: a shape that is no tuple, keys twice or
  // unknown, fortran_order a string; other bytes print as escapes.
  EXPECT_EQ(
      parseError(npyWithHeader(
          "{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", 24)),
      "malformed .npy header: 'shape' must be a tuple of integers, such "
      "as (3,) or (2, 3) at column 51: {'descr': '<f8', "
      "'fortran_order': False, 'shape': (3), }");
  EXPECT_EQ(parseError(npyWithHeader("{'descr': '<f8', 'fortran_order': "
                                     "False, 'shape': (3,), 'shape': (4,)}",
                                     24)),
            "malformed .npy header: the key 'shape' appears twice at column "
            "57: {'descr': '<f8', 'fortran_order': False, 'shape': (3,), "
            "'shape': (4,)}");
  EXPECT_EQ(parseError(npyWithHeader("{'descr': '<f8', 'fortran_order': "
                                     "'False', 'shape': (3,)}",
                                     24)),
            "malformed .npy header: 'fortran_order' must be True or False at "
            "column 35: {'descr': '<f8', 'fortran_order': 'False', 'shape': "
            "(3,)}");
  EXPECT_EQ(parseError(npyWithHeader("{'descr': '<f8', 'fortran_order': "
                                     "False, 'shape': (3,), 'x" +
                                         std::string(1, '\0') + "': 1}",
                                     24)),
            "malformed .npy header: unexpected key 'x\\x00' (expected "
            "'descr', 'fortran_order' and 'shape') at column 57: {'descr': "
            "'<f8', 'fortran_order': False, 'shape': (3,), 'x\\x00': 1}");
  // What NumPy writes: no, one or several dimensions, a trailing comma.
  for (const char *shape : {"()", "(3,)", "(1, 3)", "(1, 3,)", "( 1 ,3 )"}) {
    NpyArray array;
    std::string error;
    size_t bytes = std::string(shape) == "()" ? 8 : 24;
    EXPECT_TRUE(parseNpy(npyWithHeader("{'descr': '<f8', 'fortran_order': "
                                       "False, 'shape': " +
                                           std::string(shape) + ", }",
                                       bytes),
                         array, error, 8, 100))
        << shape << ": " << error;
  }
  std::string bools = npyWithHeader(
      "{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", 1);
  bools.back() = 2;
  EXPECT_EQ(parseError(bools),
            "the .npy file holds a bool that is neither 0 nor 1");
}

TEST(FormatTest, PrintsPackedBuffersOfEveryType) {
  float f32[] = {1.0f / 3, 2.0f};
  ArrayView view{DType::F32, f32, {2}, {1}};
  EXPECT_EQ(formatArray(view), "[0.33333334 2.        ]");
  int32_t i32[] = {1, -20, 3, 4};
  // A transposed view: strides pick the column-major order.
  ArrayView transposed{DType::I32, i32, {2, 2}, {1, 2}};
  EXPECT_EQ(formatArray(transposed), "[[  1   3]\n [-20   4]]");
  bool i1[] = {true, false};
  EXPECT_EQ(formatArray(ArrayView{DType::I1, i1, {2}, {1}}), "[ True False]");
  EXPECT_EQ(formatScalar(DType::F64, 1e-5, 0), "1e-05");
  EXPECT_EQ(formatScalar(DType::F32, 0.1f, 0), "0.1");
  EXPECT_EQ(formatScalar(DType::I64, 0, -3), "-3");
}

/// A rank-2 descriptor {allocated, aligned, offset, sizes, strides}.
struct Descriptor2 {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
};

TEST(RuntimeTest, MemrefCopyFollowsStrides) {
  double source[6] = {0, 1, 2, 3, 4, 5}; // a 2x3 matrix
  double dest[6] = {};
  // Copy its transpose view (3x2, strides 1, 3) into a contiguous 3x2.
  Descriptor2 from{source, source, 0, {3, 2}, {1, 3}};
  Descriptor2 to{dest, dest, 0, {3, 2}, {2, 1}};
  LeibnizUnrankedMemRef fromRef{2, &from}, toRef{2, &to};
  memrefCopy(sizeof(double), &fromRef, &toRef);
  double expected[6] = {0, 3, 1, 4, 2, 5};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(dest[i], expected[i]);
}

void failingEntry(void **arguments) {
  *static_cast<int *>(arguments[0]) = 1;
  leibniz_bounds_failed("prog.lz:3:7", 5, 1, 4);
}

void succeedingEntry(void **arguments) {
  *static_cast<int *>(arguments[0]) = 2;
}

TEST(RuntimeTest, FailedChecksReturnToTheGuard) {
  int reached = 0;
  void *arguments[] = {&reached};
  EXPECT_EQ(leibniz_call_guarded(failingEntry, arguments), 1);
  EXPECT_EQ(reached, 1);
  EXPECT_STREQ(leibniz_last_error(),
               "prog.lz:3:7: error: index 5 is out of bounds for dimension 1 "
               "of size 4");
  EXPECT_EQ(leibniz_call_guarded(succeedingEntry, arguments), 0);
  EXPECT_EQ(reached, 2);
}

/// Counts the visits of each iteration; iterations at or above `failFrom`
/// fail a bounds check reporting their index.
struct Visits {
  std::vector<std::atomic<int>> counts;
  int64_t failFrom;
  std::atomic<int> nestedCalls{0};
  explicit Visits(int64_t n, int64_t failFrom = INT64_MAX)
      : counts(n), failFrom(failFrom) {}
};

void visitRange(void *context, int64_t begin, int64_t end) {
  auto *visits = static_cast<Visits *>(context);
  for (int64_t i = begin; i < end; ++i) {
    if (i >= visits->failFrom)
      leibniz_bounds_failed("prog.lz:1:1", i, 0, visits->failFrom);
    ++visits->counts[i];
  }
}

void parallelEntry(void **arguments) {
  auto *visits = static_cast<Visits *>(arguments[0]);
  leibniz_parallel_for(visitRange, visits, 0, visits->counts.size(),
                       /*cost=*/1 << 20);
}

TEST(ParallelTest, VisitsEveryIterationOnce) {
  for (int64_t threads : {1, 2, 3, 8}) {
    leibniz_set_num_threads(threads);
    EXPECT_EQ(leibniz_get_num_threads(), threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      Visits visits(n);
      void *arguments[] = {&visits};
      ASSERT_EQ(leibniz_call_guarded(parallelEntry, arguments), 0);
      for (int64_t i = 0; i < n; ++i)
        EXPECT_EQ(visits.counts[i].load(), 1) << "iteration " << i;
    }
  }
}

void nestedRange(void *context, int64_t begin, int64_t end) {
  auto *visits = static_cast<Visits *>(context);
  ++visits->nestedCalls;
  // A loop started from inside a parallel loop runs on the calling thread:
  // one call covering its whole range.
  Visits inner(16);
  leibniz_parallel_for(visitRange, &inner, 0, 16, 1 << 20);
  for (int64_t i = 0; i < 16; ++i)
    EXPECT_EQ(inner.counts[i].load(), 1);
  visitRange(context, begin, end);
}

TEST(ParallelTest, NestedLoopsRunOnTheirThread) {
  leibniz_set_num_threads(4);
  Visits visits(64);
  leibniz_parallel_for(nestedRange, &visits, 0, 64, 1 << 20);
  for (int64_t i = 0; i < 64; ++i)
    EXPECT_EQ(visits.counts[i].load(), 1);
  // Split into chunks, so the body ran more than once.
  EXPECT_GT(visits.nestedCalls.load(), 1);
}

TEST(ParallelTest, SmallLoopsRunOnTheCallingThread) {
  leibniz_set_num_threads(4);
  Visits visits(64);
  leibniz_parallel_for(nestedRange, &visits, 0, 64, /*cost=*/1);
  EXPECT_EQ(visits.nestedCalls.load(), 1);
}

TEST(ParallelTest, ReportsTheFirstFailingIteration) {
  for (int64_t threads : {1, 2, 4}) {
    leibniz_set_num_threads(threads);
    Visits visits(1000, /*failFrom=*/337);
    void *arguments[] = {&visits};
    EXPECT_EQ(leibniz_call_guarded(parallelEntry, arguments), 1);
    EXPECT_STREQ(leibniz_last_error(),
                 "prog.lz:1:1: error: index 337 is out of bounds for "
                 "dimension 0 of size 337");
    // Every iteration before the failure ran.
    for (int64_t i = 0; i < 337; ++i)
      EXPECT_EQ(visits.counts[i].load(), 1) << "iteration " << i;
  }
}

bool isCachingBuffers() {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return false;
#endif
#endif
#if defined(__GLIBC__)
  return true;
#else
  return false;
#endif
}

TEST(AllocTest, ReusesTheLastFreedBufferThatFits) {
  if (!isCachingBuffers())
    GTEST_SKIP() << "no buffer cache under AddressSanitizer or without glibc";
  void *a = leibniz_aligned_alloc(64, 8192);
  void *b = leibniz_aligned_alloc(64, 8192);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  std::memset(a, 1, 8192);
  leibniz_free(a);
  leibniz_free(b);
  // The most recent first.
  EXPECT_EQ(leibniz_aligned_alloc(64, 8192), b);
  EXPECT_EQ(leibniz_aligned_alloc(64, 8192), a);
  // A buffer much larger than the request is not handed out for it, nor
  // one too small.
  void *large = leibniz_aligned_alloc(64, 1 << 16);
  leibniz_free(large);
  void *small = leibniz_aligned_alloc(64, 8192);
  EXPECT_NE(small, large);
  void *larger = leibniz_aligned_alloc(64, 1 << 17);
  EXPECT_NE(larger, large);
  EXPECT_EQ(leibniz_aligned_alloc(64, 1 << 16), large);
  // Buffers that leave the cache are malloc's.
  std::free(a);
  std::free(b);
  std::free(small);
  std::free(larger);
  std::free(large);
}

TEST(AllocTest, KeepsAtMostSixteenBuffers) {
  if (!isCachingBuffers())
    GTEST_SKIP() << "no buffer cache under AddressSanitizer or without glibc";
  std::vector<void *> buffers;
  for (int i = 0; i < 20; ++i)
    buffers.push_back(leibniz_aligned_alloc(64, 4096 * 4));
  for (void *buffer : buffers)
    leibniz_free(buffer);
  // The four oldest went back to malloc; the others come back, newest
  // first.
  for (int i = 19; i >= 4; --i)
    EXPECT_EQ(leibniz_aligned_alloc(64, 4096 * 4), buffers[i]) << i;
  for (int i = 4; i < 20; ++i)
    std::free(buffers[i]);
}

TEST(AllocTest, ReusesSmallBuffers) {
  if (!isCachingBuffers())
    GTEST_SKIP() << "no buffer cache under AddressSanitizer or without glibc";
  // A tensor made at every point of a scope: glibc's aligned_alloc has no
  // per-thread cache of its own.
  void *small = leibniz_aligned_alloc(64, 64);
  ASSERT_TRUE(small);
  leibniz_free(small);
  EXPECT_EQ(leibniz_aligned_alloc(64, 64), small);
  std::free(small);
}

void doubleFreeEntry(void **arguments) {
  void *buffer = leibniz_aligned_alloc(64, 8192);
  *static_cast<void **>(arguments[0]) = buffer;
  leibniz_free(buffer);
  leibniz_free(buffer);
}

TEST(AllocTest, ReportsABufferFreedTwice) {
  if (!isCachingBuffers())
    GTEST_SKIP() << "no buffer cache under AddressSanitizer or without glibc";
  void *buffer = nullptr;
  void *arguments[] = {&buffer};
  EXPECT_EQ(leibniz_call_guarded(doubleFreeEntry, arguments), 1);
  EXPECT_NE(std::strstr(leibniz_last_error(), "a buffer is freed twice"),
            nullptr)
      << leibniz_last_error();
  // The buffer is cached once, and handed out once.
  EXPECT_EQ(leibniz_aligned_alloc(64, 8192), buffer);
  void *other = leibniz_aligned_alloc(64, 8192);
  EXPECT_NE(other, buffer);
  std::free(buffer);
  std::free(other);
}

TEST(AllocTest, AlignsEveryBuffer) {
  // A cached buffer that is not aligned enough is not handed out.
  void *buffer = leibniz_aligned_alloc(64, 8192);
  leibniz_free(buffer);
  void *aligned = leibniz_aligned_alloc(4096, 8192);
  ASSERT_TRUE(aligned);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % 4096, 0u);
  leibniz_free(aligned);
  leibniz_free(nullptr);
}

} // namespace
