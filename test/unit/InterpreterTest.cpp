//===- InterpreterTest.cpp - The reference interpreter --------------------===//
//
// Part of Leibniz.
//
// Programs in lz IR are run by the interpreter and compared with the same
// computation written as plain C++ loops, on random data. Float results are
// compared exactly: the interpreter rounds after every operation, in the
// documented order, just as the C++ loops do.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::interp;

namespace {

class InterpreterTest : public ::testing::Test {
protected:
  InterpreterTest() : context(test::makeContext()), b(context.get()) {}

  std::unique_ptr<MLIRContext> context;
  Builder b;
  std::mt19937_64 rng{20261129};
};

constexpr const char *kMatmulSource = R"mlir(
func.func @scopes(%A: tensor<?x?xT>, %B: tensor<?x?xT>) -> tensor<?x?xT> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %A, %c0 : tensor<?x?xT>
  %k = tensor.dim %A, %c1 : tensor<?x?xT>
  %n = tensor.dim %B, %c1 : tensor<?x?xT>
  %C = lz.for %i < %m, %j < %n : tensor<?x?xT> {
    %s = lz.sum %p < %k : T {
      %a = lz.get %A[%i, %p] : tensor<?x?xT>
      %b = lz.get %B[%p, %j] : tensor<?x?xT>
      %ab = arith.mulf %a, %b : T
      lz.yield %ab : T
    }
    lz.yield %s : T
  }
  return %C : tensor<?x?xT>
}
func.func @library(%A: tensor<?x?xT>, %B: tensor<?x?xT>) -> tensor<?x?xT> {
  %C = lz.matmul %A, %B : tensor<?x?xT>, tensor<?x?xT> -> tensor<?x?xT>
  return %C : tensor<?x?xT>
}
func.func @linalg(%A: tensor<?x?xT>, %B: tensor<?x?xT>) -> tensor<?x?xT> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %A, %c0 : tensor<?x?xT>
  %n = tensor.dim %B, %c1 : tensor<?x?xT>
  %zero = arith.constant 0.0 : T
  %e = tensor.empty(%m, %n) : tensor<?x?xT>
  %init = linalg.fill ins(%zero : T) outs(%e : tensor<?x?xT>) -> tensor<?x?xT>
  %C = linalg.matmul ins(%A, %B : tensor<?x?xT>, tensor<?x?xT>)
                     outs(%init : tensor<?x?xT>) -> tensor<?x?xT>
  return %C : tensor<?x?xT>
}
)mlir";

/// `kMatmulSource` with element type `T` replaced by `type`.
std::string matmulSource(StringRef type) {
  std::string source = kMatmulSource;
  for (size_t pos = source.find('T'); pos != std::string::npos;
       pos = source.find('T', pos + type.size())) {
    // The element type is the only lone capital T in the source.
    source.replace(pos, 1, type.str());
  }
  return source;
}

template <typename Real>
void checkMatmul(MLIRContext &context, Type elementType, StringRef typeName,
                 std::mt19937_64 &rng) {
  auto module = test::parse(context, matmulSource(typeName));
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1},
                         {3, 4, 5},
                         {7, 2, 6},
                         {8, 8, 8}}) {
    std::vector<double> a = test::randomValues(rng, m * k);
    std::vector<double> bv = test::randomValues(rng, k * n);
    Tensor A = test::makeTensor(elementType, {m, k}, a);
    Tensor B = test::makeTensor(elementType, {k, n}, bv);

    // The same computation in C++, rounding as the IR does.
    std::vector<Real> expected(m * n);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        Real acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += static_cast<Real>(A.getFloat(i * k + p)) *
                 static_cast<Real>(B.getFloat(p * n + j));
        expected[i * n + j] = acc;
      }

    for (StringRef fn : {"scopes", "library", "linalg"}) {
      auto results = test::run(interpreter, fn, {A, B});
      ASSERT_EQ(results.size(), 1u);
      const Tensor &C = results[0].getTensor();
      ASSERT_EQ(C.getShape(), ArrayRef<int64_t>({m, n}));
      for (int64_t i = 0; i < m * n; ++i)
        EXPECT_EQ(C.getFloat(i), static_cast<double>(expected[i]))
            << fn.str() << " element " << i << " of " << m << "x" << k << "x"
            << n;
    }
  }
}

TEST_F(InterpreterTest, MatmulScopesEqualCppLoopsF64) {
  checkMatmul<double>(*context, b.getF64Type(), "f64", rng);
}

TEST_F(InterpreterTest, MatmulScopesEqualCppLoopsF32) {
  // f32 must be exactly single precision, not double rounded at the end.
  checkMatmul<float>(*context, b.getF32Type(), "f32", rng);
}

TEST_F(InterpreterTest, MatmulCountsOperations) {
  auto module = test::parse(*context, matmulSource("f64"));
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Type f64 = b.getF64Type();
  Tensor A = test::makeTensor(f64, {3, 4}, test::randomValues(rng, 12));
  Tensor B = test::makeTensor(f64, {4, 5}, test::randomValues(rng, 20));
  test::run(interpreter, "scopes", {A, B});
  EXPECT_EQ(interpreter.getOpCounts().lookup("arith.mulf"), 3u * 4u * 5u);
  EXPECT_EQ(interpreter.getOpCounts().lookup("lz.get"), 2u * 3u * 4u * 5u);
  EXPECT_EQ(interpreter.getOpCounts().lookup("lz.sum"), 3u * 5u);
}

TEST_F(InterpreterTest, BatchMatmulEqualsCppLoops) {
  auto module = test::parse(*context, R"mlir(
    func.func @f(%A: tensor<2x3x4xf64>, %B: tensor<2x4x5xf64>) -> tensor<2x3x5xf64> {
      %C = lz.batch_matmul %A, %B : tensor<2x3x4xf64>, tensor<2x4x5xf64> -> tensor<2x3x5xf64>
      return %C : tensor<2x3x5xf64>
    })mlir");
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Type f64 = b.getF64Type();
  Tensor A = test::makeTensor(f64, {2, 3, 4}, test::randomValues(rng, 24));
  Tensor B = test::makeTensor(f64, {2, 4, 5}, test::randomValues(rng, 40));
  auto results = test::run(interpreter, "f", {A, B});
  ASSERT_EQ(results.size(), 1u);
  const Tensor &C = results[0].getTensor();
  for (int64_t q = 0; q < 2; ++q)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < 4; ++p)
          acc +=
              A.getFloat((q * 3 + i) * 4 + p) * B.getFloat((q * 4 + p) * 5 + j);
        EXPECT_EQ(C.getFloat((q * 3 + i) * 5 + j), acc);
      }
}

TEST_F(InterpreterTest, ReductionsEqualSequentialCpp) {
  auto module = test::parse(*context, R"mlir(
    func.func @f(%x: tensor<?xf64>) -> (f64, f64, f64, f64) {
      %c0 = arith.constant 0 : index
      %n = tensor.dim %x, %c0 : tensor<?xf64>
      %s = lz.sum %i < %n : f64 {
        %e = lz.get %x[%i] : tensor<?xf64>
        lz.yield %e : f64
      }
      %p = lz.prod %i < %n : f64 {
        %e = lz.get %x[%i] : tensor<?xf64>
        lz.yield %e : f64
      }
      %hi = lz.max %i < %n : f64 {
        %e = lz.get %x[%i] : tensor<?xf64>
        lz.yield %e : f64
      }
      %lo = lz.min %i < %n : f64 {
        %e = lz.get %x[%i] : tensor<?xf64>
        lz.yield %e : f64
      }
      return %s, %p, %hi, %lo : f64, f64, f64, f64
    })mlir");
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Type f64 = b.getF64Type();
  for (int64_t n : {0, 1, 2, 5, 17}) {
    std::vector<double> x = test::randomValues(rng, n);
    if (n == 2)
      x = {-0.0, -0.0}; // A sum of -0.0 is -0.0; starting from +0 is not.
    // Fold from the first element; the identities only for no element.
    double sum = 0, prod = 1, hi = -INFINITY, lo = INFINITY;
    for (auto [i, v] : llvm::enumerate(x)) {
      sum = i == 0 ? v : sum + v;
      prod = i == 0 ? v : prod * v;
      hi = i == 0 ? v : std::max(hi, v);
      lo = i == 0 ? v : std::min(lo, v);
    }
    auto results = test::run(interpreter, "f", {test::makeTensor(f64, {n}, x)});
    ASSERT_EQ(results.size(), 4u);
    // Tensor equality tells -0.0 from +0.0.
    EXPECT_EQ(results[0].getTensor(), Tensor::getFloat(f64, sum)) << n;
    EXPECT_EQ(results[1].getTensor(), Tensor::getFloat(f64, prod)) << n;
    EXPECT_EQ(results[2].getTensor(), Tensor::getFloat(f64, hi)) << n;
    EXPECT_EQ(results[3].getTensor(), Tensor::getFloat(f64, lo)) << n;
  }
}

TEST_F(InterpreterTest, TensorValuedSumAccumulatesElementwise) {
  // Column sums of a matrix as a sum over rows of row tensors.
  auto module = test::parse(*context, R"mlir(
    func.func @f(%A: tensor<?x3xi64>) -> tensor<3xi64> {
      %c0 = arith.constant 0 : index
      %m = tensor.dim %A, %c0 : tensor<?x3xi64>
      %s = lz.sum %i < %m : tensor<3xi64> {
        %row = lz.get %A[%i] : tensor<?x3xi64>
        lz.yield %row : tensor<3xi64>
      }
      return %s : tensor<3xi64>
    })mlir");
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Tensor A = test::makeTensor(b.getI64Type(), {4, 3},
                              {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto results = test::run(interpreter, "f", {A});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].getTensor(),
            test::makeTensor(b.getI64Type(), {3}, {22, 26, 30}));
}

TEST_F(InterpreterTest, CountedAndWhileLoopsEqualCpp) {
  auto module = test::parse(*context, R"mlir(
    // Fibonacci numbers by a counted loop.
    func.func @fib(%n: index) -> i64 {
      %a0 = arith.constant 0 : i64
      %b0 = arith.constant 1 : i64
      %r:2 = lz.loop %t < %n iter_args(%a = %a0, %b = %b0) : i64, i64 {
        %c = arith.addi %a, %b : i64
        lz.yield %b, %c : i64, i64
      }
      return %r#0 : i64
    }
    // Newton's iteration for sqrt(a) until the residual is small.
    func.func @sqrt(%a: f64) -> (f64, i64) {
      %tol = arith.constant 1.0e-12 : f64
      %half = arith.constant 0.5 : f64
      %one = arith.constant 1 : i64
      %zero = arith.constant 0 : i64
      %r:2 = lz.loop while (%a, %zero) : f64, i64 cond {
      ^bb0(%x: f64, %k: i64):
        %xx = arith.mulf %x, %x : f64
        %res = arith.subf %xx, %a : f64
        %abs = math.absf %res : f64
        %c = arith.cmpf ogt, %abs, %tol : f64
        lz.condition %c
      } do {
      ^bb0(%x: f64, %k: i64):
        %q = arith.divf %a, %x : f64
        %s = arith.addf %x, %q : f64
        %x1 = arith.mulf %half, %s : f64
        %k1 = arith.addi %k, %one : i64
        lz.yield %x1, %k1 : f64, i64
      }
      return %r#0, %r#1 : f64, i64
    })mlir");
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Type index = b.getIndexType();
  for (int64_t n : {0, 1, 2, 10, 50}) {
    int64_t a = 0, c = 1;
    for (int64_t t = 0; t < n; ++t) {
      int64_t next = a + c;
      a = c;
      c = next;
    }
    auto results = test::run(interpreter, "fib", {Tensor::getInt(index, n)});
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].getTensor().getInt(0), a) << "n = " << n;
  }
  for (double value : {2.0, 10.0, 0.25}) {
    double x = value;
    int64_t steps = 0;
    while (std::fabs(x * x - value) > 1e-12) {
      x = 0.5 * (x + value / x);
      ++steps;
    }
    auto results = test::run(interpreter, "sqrt",
                             {Tensor::getFloat(b.getF64Type(), value)});
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].getTensor().getFloat(0), x);
    EXPECT_EQ(results[1].getTensor().getInt(0), steps);
    EXPECT_GT(steps, 0);
  }
}

TEST_F(InterpreterTest, ScfLoopsAndConditionalsEqualCpp) {
  auto module = test::parse(*context, R"mlir(
    // Sum of |x[i]| over even i, by scf.for with an scf.if.
    func.func @f(%x: tensor<?xf64>) -> f64 {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      %zero = arith.constant 0.0 : f64
      %n = tensor.dim %x, %c0 : tensor<?xf64>
      %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> f64 {
        %rem = arith.remui %i, %c2 : index
        %even = arith.cmpi eq, %rem, %c0 : index
        %next = scf.if %even -> f64 {
          %e = tensor.extract %x[%i] : tensor<?xf64>
          %a = math.absf %e : f64
          %s = arith.addf %acc, %a : f64
          scf.yield %s : f64
        } else {
          scf.yield %acc : f64
        }
        scf.yield %next : f64
      }
      return %r : f64
    })mlir");
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  std::vector<double> x = test::randomValues(rng, 11);
  double expected = 0;
  for (size_t i = 0; i < x.size(); i += 2)
    expected += std::fabs(x[i]);
  auto results =
      test::run(interpreter, "f", {test::makeTensor(b.getF64Type(), {11}, x)});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].getTensor().getFloat(0), expected);
}

/// Runs `name` of `source` expecting a run-time error mentioning `message`.
void expectRunTimeError(MLIRContext &context, StringRef source, StringRef name,
                        ArrayRef<RuntimeValue> args, StringRef message,
                        InterpreterOptions options = InterpreterOptions()) {
  auto module = test::parse(context, source);
  ASSERT_TRUE(module);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    diagnostics += diag.str() + "\n";
    return success();
  });
  Interpreter interpreter(*module, options);
  EXPECT_TRUE(failed(interpreter.call(name, args)));
  EXPECT_NE(diagnostics.find(message.str()), std::string::npos)
      << "diagnostics were: " << diagnostics;
}

TEST_F(InterpreterTest, OutOfBoundsReadIsAnErrorNotACrash) {
  expectRunTimeError(*context, R"mlir(
    func.func @f(%x: tensor<?xf64>, %i: index) -> f64 {
      %e = lz.get %x[%i] : tensor<?xf64>
      return %e : f64
    })mlir",
                     "f",
                     {test::makeTensor(b.getF64Type(), {3}, {1, 2, 3}),
                      Tensor::getInt(b.getIndexType(), 3)},
                     "index 3 is out of bounds for dimension 0 of size 3");
}

TEST_F(InterpreterTest, IntegerDivisionByZeroIsAnError) {
  expectRunTimeError(
      *context, R"mlir(
    func.func @f(%a: i64, %b: i64) -> i64 {
      %q = arith.divsi %a, %b : i64
      return %q : i64
    })mlir",
      "f",
      {Tensor::getInt(b.getI64Type(), 7), Tensor::getInt(b.getI64Type(), 0)},
      "integer division by zero");
}

TEST_F(InterpreterTest, UnboundedRecursionIsAnError) {
  expectRunTimeError(*context, R"mlir(
    func.func @f(%a: i64) -> i64 {
      %r = func.call @f(%a) : (i64) -> i64
      return %r : i64
    })mlir",
                     "f", {Tensor::getInt(b.getI64Type(), 1)},
                     "recursion too deep (more than 10000 nested calls)");
}

TEST_F(InterpreterTest, DeeplyNestedScopesStopBeforeTheStackOverflows) {
  // Each call nests a sum scope and a counted loop. With no practical call
  // depth limit, the stack budget is what runs out.
  InterpreterOptions options;
  options.maxCallDepth = 1u << 30;
  options.stackBudget = 1u << 20;
  expectRunTimeError(*context, R"mlir(
    func.func @f(%a: i64) -> i64 {
      %c1 = arith.constant 1 : index
      %s = lz.sum %i < %c1 : i64 {
        %r = lz.loop %t < %c1 iter_args(%x = %a) : i64 {
          %y = func.call @f(%x) : (i64) -> i64
          lz.yield %y : i64
        }
        lz.yield %r : i64
      }
      return %s : i64
    })mlir",
                     "f", {Tensor::getInt(b.getI64Type(), 1)},
                     "the interpreter's stack budget of 1048576 bytes is used "
                     "up",
                     options);
}

TEST_F(InterpreterTest, ArgumentsAreCheckedAgainstTheSignature) {
  expectRunTimeError(
      *context, R"mlir(
    func.func @f(%x: tensor<3xf64>) -> tensor<3xf64> {
      return %x : tensor<3xf64>
    })mlir",
      "f", {test::makeTensor(b.getF64Type(), {2}, {1, 2})},
      "expected a value of type 'tensor<3xf64>', got 'tensor<2xf64>'");
}

TEST_F(InterpreterTest, SlicesAndConcatenation) {
  auto module = test::parse(*context, R"mlir(
    func.func @f(%x: tensor<6xf64>, %y: tensor<2xf64>) -> (tensor<3xf64>, tensor<6xf64>, tensor<8xf64>) {
      %s = tensor.extract_slice %x[1] [3] [2] : tensor<6xf64> to tensor<3xf64>
      %i = tensor.insert_slice %y into %x[4] [2] [1] : tensor<2xf64> into tensor<6xf64>
      %c = tensor.concat dim(0) %y, %x : (tensor<2xf64>, tensor<6xf64>) -> tensor<8xf64>
      return %s, %i, %c : tensor<3xf64>, tensor<6xf64>, tensor<8xf64>
    })mlir");
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Type f64 = b.getF64Type();
  Tensor x = test::makeTensor(f64, {6}, {0, 1, 2, 3, 4, 5});
  Tensor y = test::makeTensor(f64, {2}, {10, 11});
  auto results = test::run(interpreter, "f", {x, y});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].getTensor(), test::makeTensor(f64, {3}, {1, 3, 5}));
  EXPECT_EQ(results[1].getTensor(),
            test::makeTensor(f64, {6}, {0, 1, 2, 3, 10, 11}));
  EXPECT_EQ(results[2].getTensor(),
            test::makeTensor(f64, {8}, {10, 11, 0, 1, 2, 3, 4, 5}));
  // The inputs are values: inserting into x did not change it.
  EXPECT_EQ(x, test::makeTensor(f64, {6}, {0, 1, 2, 3, 4, 5}));
}

} // namespace
