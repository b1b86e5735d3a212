//===- ValueIOTest.cpp - Printing and parsing of runtime values -----------===//
//
// Part of Leibniz.
//
// The expected strings are what NumPy 1.24 prints for the same arrays.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "leibniz/Interpreter/ValueIO.h"

#include "mlir/IR/BuiltinTypes.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::interp;

namespace {

class ValueIOTest : public ::testing::Test {
protected:
  ValueIOTest() : context(test::makeContext()), b(context.get()) {}

  std::string print(const Tensor &tensor) {
    Type type =
        tensor.getRank() == 0
            ? tensor.getElementType()
            : RankedTensorType::get(tensor.getShape(), tensor.getElementType());
    std::string text;
    llvm::raw_string_ostream os(text);
    printValue(os, tensor, type);
    return text;
  }

  std::vector<double> range(int64_t n) {
    std::vector<double> values(n);
    for (int64_t i = 0; i < n; ++i)
      values[i] = static_cast<double>(i);
    return values;
  }

  std::unique_ptr<MLIRContext> context;
  Builder b;
};

TEST_F(ValueIOTest, FloatScalarsPrintShortestRoundTrip) {
  EXPECT_EQ(print(Tensor::getFloat(b.getF64Type(), 0.1)), "0.1");
  EXPECT_EQ(print(Tensor::getFloat(b.getF64Type(), 1.0)), "1.0");
  EXPECT_EQ(print(Tensor::getFloat(b.getF64Type(), 0.1 + 0.2)),
            "0.30000000000000004");
  EXPECT_EQ(print(Tensor::getFloat(b.getF64Type(), 1e16)), "1e+16");
  EXPECT_EQ(print(Tensor::getFloat(b.getF64Type(), -1.5e-5)), "-1.5e-05");
  EXPECT_EQ(print(Tensor::getFloat(b.getF64Type(), 123456789.0)),
            "123456789.0");
  EXPECT_EQ(print(Tensor::getFloat(b.getF64Type(), NAN)), "nan");
  EXPECT_EQ(print(Tensor::getFloat(b.getF64Type(), -INFINITY)), "-inf");
  // f32 values print with the shortest digits that round-trip as f32.
  EXPECT_EQ(print(Tensor::getFloat(b.getF32Type(), 0.1)), "0.1");
}

TEST_F(ValueIOTest, IntegerAndBoolScalars) {
  EXPECT_EQ(print(Tensor::getInt(b.getI64Type(), -42)), "-42");
  EXPECT_EQ(print(Tensor::getInt(b.getI1Type(), 1)), "True");
  EXPECT_EQ(print(Tensor::getInt(b.getI1Type(), 0)), "False");
}

TEST_F(ValueIOTest, FloatArraysAlignLikeNumPy) {
  Type f64 = b.getF64Type();
  EXPECT_EQ(print(test::makeTensor(f64, {3}, {0.5, 1.0, 2.25})),
            "[0.5  1.   2.25]");
  EXPECT_EQ(print(test::makeTensor(f64, {2, 2}, {1, -2, 3, 4})),
            "[[ 1. -2.]\n [ 3.  4.]]");
  EXPECT_EQ(print(test::makeTensor(f64, {2}, {0.1 + 0.2, 1.0 / 3})),
            "[0.3        0.33333333]");
  EXPECT_EQ(print(test::makeTensor(f64, {3}, {NAN, 1.5, -INFINITY})),
            "[ nan  1.5 -inf]");
}

TEST_F(ValueIOTest, NarrowFloatsPrintTheirOwnShortestDigits) {
  EXPECT_EQ(print(test::makeTensor(b.getF32Type(), {2}, {0.3, 0.1})),
            "[0.3 0.1]");
  EXPECT_EQ(print(test::makeTensor(b.getF16Type(), {2}, {0.1, 0.2})),
            "[0.1 0.2]");
  EXPECT_EQ(print(test::makeTensor(b.getF32Type(), {2}, {1.0 / 3, 2.0})),
            "[0.33333334 2.        ]");
  EXPECT_EQ(print(test::makeTensor(b.getF32Type(), {2}, {1e-5, 1.0})),
            "[1.e-05 1.e+00]");
  EXPECT_EQ(print(test::makeTensor(b.getF64Type(), {2}, {0.1 + 0.2, 1.0})),
            "[0.3 1. ]");
}

TEST_F(ValueIOTest, EmptyAndZeroDimensionalArrays) {
  EXPECT_EQ(print(test::makeTensor(b.getF64Type(), {2, 0}, {})), "[]");
  EXPECT_EQ(print(test::makeTensor(b.getF64Type(), {0}, {})), "[]");
  // A rank-0 tensor prints like NumPy's 0-d array: as a scalar.
  std::string text;
  llvm::raw_string_ostream os(text);
  printValue(os, Tensor::getFloat(b.getF64Type(), 1e-20),
             RankedTensorType::get({}, b.getF64Type()));
  EXPECT_EQ(text, "1e-20");
}

TEST_F(ValueIOTest, F32LiteralsRoundOnce) {
  // 1 + 2^-24 + 1e-28 is just above the midpoint between two f32 values:
  // rounding it to f32 directly goes up, through double it would go down.
  std::string error;
  FailureOr<RuntimeValue> value =
      parseLiteral("1.0000000596046447753906250001", b.getF32Type(), error);
  ASSERT_TRUE(succeeded(value)) << error;
  EXPECT_EQ(value->getTensor().getFloat(0),
            static_cast<double>(std::nextafter(1.0f, 2.0f)));
}

TEST_F(ValueIOTest, ScientificWhenMagnitudesDiffer) {
  Type f64 = b.getF64Type();
  EXPECT_EQ(print(test::makeTensor(f64, {2}, {1e-5, 1.0})), "[1.e-05 1.e+00]");
  EXPECT_EQ(print(test::makeTensor(f64, {2}, {1.5e-5, 1.0})),
            "[1.5e-05 1.0e+00]");
  EXPECT_EQ(print(test::makeTensor(f64, {2}, {1e8, 1.0})), "[1.e+08 1.e+00]");
}

TEST_F(ValueIOTest, LongRowsWrapAt75Columns) {
  EXPECT_EQ(print(test::makeTensor(b.getF64Type(), {30}, range(30))),
            "[ 0.  1.  2.  3.  4.  5.  6.  7.  8.  9. 10. 11. 12. 13. 14. 15. "
            "16. 17.\n 18. 19. 20. 21. 22. 23. 24. 25. 26. 27. 28. 29.]");
}

TEST_F(ValueIOTest, LargeArraysAreSummarized) {
  EXPECT_EQ(print(test::makeTensor(b.getF64Type(), {2000}, range(2000))),
            "[0.000e+00 1.000e+00 2.000e+00 ... 1.997e+03 1.998e+03 "
            "1.999e+03]");
  EXPECT_EQ(print(test::makeTensor(b.getI64Type(), {2, 1000}, range(2000))),
            "[[   0    1    2 ...  997  998  999]\n"
            " [1000 1001 1002 ... 1997 1998 1999]]");
}

TEST_F(ValueIOTest, HigherRanksSeparateBlocksByBlankLines) {
  EXPECT_EQ(print(test::makeTensor(b.getF64Type(), {2, 2, 2},
                                   std::vector<double>(8, 0.0))),
            "[[[0. 0.]\n  [0. 0.]]\n\n [[0. 0.]\n  [0. 0.]]]");
  EXPECT_EQ(print(test::makeTensor(b.getI1Type(), {2}, {1, 0})),
            "[ True False]");
}

TEST_F(ValueIOTest, TuplesPrintInParentheses) {
  Type f64 = b.getF64Type();
  auto vec = RankedTensorType::get({2}, f64);
  Type type = TupleType::get(context.get(), {f64, vec});
  RuntimeValue value = RuntimeValue::getTuple(
      {Tensor::getFloat(f64, 2.5), test::makeTensor(f64, {2}, {1, 2})});
  std::string text;
  llvm::raw_string_ostream os(text);
  printValue(os, value, type);
  EXPECT_EQ(text, "(2.5, [1. 2.])");
}

TEST_F(ValueIOTest, ParsesLiteralsOfTheExpectedType) {
  std::string error;
  auto matrix =
      RankedTensorType::get({ShapedType::kDynamic, 2}, b.getF64Type());
  FailureOr<RuntimeValue> value =
      parseLiteral("[[1, 2.5], [-3e2, 4]]", matrix, error);
  ASSERT_TRUE(succeeded(value)) << error;
  EXPECT_EQ(value->getTensor(),
            test::makeTensor(b.getF64Type(), {2, 2}, {1, 2.5, -300, 4}));

  Type tuple = TupleType::get(context.get(), {b.getI64Type(), b.getI1Type()});
  value = parseLiteral("(7, true)", tuple, error);
  ASSERT_TRUE(succeeded(value)) << error;
  EXPECT_EQ(value->getElements()[0].getTensor().getInt(0), 7);
  EXPECT_NE(value->getElements()[1].getTensor().getInt(0), 0);
}

TEST_F(ValueIOTest, RejectsMalformedLiterals) {
  std::string error;
  auto vector = RankedTensorType::get({3}, b.getF64Type());
  EXPECT_TRUE(failed(parseLiteral("[1, 2]", vector, error)));
  EXPECT_NE(error.find("expected a value of type"), std::string::npos);
  EXPECT_TRUE(failed(parseLiteral("[1, 2, 3", vector, error)));
  EXPECT_NE(error.find("expected ',' or ']'"), std::string::npos);
  EXPECT_TRUE(failed(parseLiteral("[1, x, 3]", vector, error)));
  EXPECT_NE(error.find("expected a number"), std::string::npos);
  auto matrix = RankedTensorType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic}, b.getF64Type());
  EXPECT_TRUE(failed(parseLiteral("[[1, 2], [3]]", matrix, error)));
  EXPECT_NE(error.find("ragged"), std::string::npos);
  EXPECT_TRUE(failed(parseLiteral("2.5", b.getI64Type(), error)));
  EXPECT_NE(error.find("expected an integer"), std::string::npos);
  EXPECT_TRUE(failed(parseLiteral("300", b.getI8Type(), error)));
  EXPECT_NE(error.find("does not fit"), std::string::npos);
  EXPECT_TRUE(failed(parseLiteral("1 2", b.getF64Type(), error)));
}

TEST_F(ValueIOTest, RandomValuesAreSeededAndInRange) {
  std::string error;
  auto type = RankedTensorType::get({ShapedType::kDynamic, 3}, b.getF64Type());
  FailureOr<RuntimeValue> a = makeRandomValue(type, 7, 5, error);
  FailureOr<RuntimeValue> again = makeRandomValue(type, 7, 5, error);
  FailureOr<RuntimeValue> other = makeRandomValue(type, 8, 5, error);
  ASSERT_TRUE(succeeded(a) && succeeded(again) && succeeded(other));
  EXPECT_EQ(*a, *again);
  EXPECT_FALSE(*a == *other);
  const Tensor &tensor = a->getTensor();
  EXPECT_EQ(tensor.getShape(), ArrayRef<int64_t>({5, 3}));
  for (int64_t i = 0; i < tensor.getNumElements(); ++i) {
    EXPECT_GE(tensor.getFloat(i), -1.0);
    EXPECT_LT(tensor.getFloat(i), 1.0);
  }
}

} // namespace
