//===- CanonicalizeTest.cpp - lz folds and canonicalizations --------------===//
//
// Part of Leibniz.
//
// Every canonicalization must preserve meaning: each program is interpreted
// before and after `-canonicalize` on seeded random inputs and on inputs
// made of signed zeros, infinities and NaN, and the results must be
// identical (-0.0 differs from +0.0, NaN equals NaN). Each case also checks
// that its pattern fired: an op is gone, or the expected form is there.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "leibniz/Interpreter/ValueIO.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::interp;

namespace {

struct Case {
  const char *name;
  const char *source;
  /// An op name that canonicalization must remove from `@f`, or "".
  const char *removedOp;
  /// Text that the canonicalized module must contain, or "".
  const char *expectedText = "";
};

const Case kCases[] = {
    {"empty-sum", R"mlir(
      func.func @f(%x: tensor<4xf64>) -> f64 {
        %c0 = arith.constant 0 : index
        %s = lz.sum %i < %c0 : f64 {
          %e = lz.get %x[%i] : tensor<4xf64>
          lz.yield %e : f64
        }
        return %s : f64
      })mlir",
     "lz.sum"},
    {"empty-max-tensor", R"mlir(
      func.func @f(%x: tensor<4x2xf32>) -> tensor<2xf32> {
        %c0 = arith.constant 0 : index
        %s = lz.max %i < %c0 : tensor<2xf32> {
          %e = lz.get %x[%i] : tensor<4x2xf32>
          lz.yield %e : tensor<2xf32>
        }
        return %s : tensor<2xf32>
      })mlir",
     "lz.max"},
    {"unit-ranges", R"mlir(
      func.func @f(%x: tensor<1x5xf64>) -> f64 {
        %c1 = arith.constant 1 : index
        %c5 = arith.constant 5 : index
        %s = lz.prod %i < %c1, %j < %c5 : f64 {
          %e = lz.get %x[%i, %j] : tensor<1x5xf64>
          lz.yield %e : f64
        }
        return %s : f64
      })mlir",
     "", "lz.prod %k < %c5 : f64"},
    {"unit-range-sum", R"mlir(
      func.func @f(%x: tensor<1x2xf64>) -> tensor<2xf64> {
        %c1 = arith.constant 1 : index
        %s = lz.sum %i < %c1 : tensor<2xf64> {
          %e = lz.get %x[%i] : tensor<1x2xf64>
          lz.yield %e : tensor<2xf64>
        }
        return %s : tensor<2xf64>
      })mlir",
     "lz.sum"},
    {"all-unit-ranges", R"mlir(
      func.func @f(%x: tensor<1x1xi64>) -> i64 {
        %c1 = arith.constant 1 : index
        %s = lz.min %i < %c1, %j < %c1 : i64 {
          %e = lz.get %x[%i, %j] : tensor<1x1xi64>
          lz.yield %e : i64
        }
        return %s : i64
      })mlir",
     "lz.min"},
    {"empty-for", R"mlir(
      func.func @f(%x: tensor<3xf64>) -> tensor<0x3xf64> {
        %c0 = arith.constant 0 : index
        %c3 = arith.constant 3 : index
        %t = lz.for %i < %c0, %j < %c3 : tensor<0x3xf64> {
          %e = lz.get %x[%j] : tensor<3xf64>
          lz.yield %e : f64
        }
        return %t : tensor<0x3xf64>
      })mlir",
     "lz.for"},
    {"unused-for-results", R"mlir(
      func.func @f(%x: tensor<?xf64>) -> tensor<?xf64> {
        %c0 = arith.constant 0 : index
        %n = tensor.dim %x, %c0 : tensor<?xf64>
        %a, %b = lz.for %i < %n : tensor<?xf64>, tensor<?xf64> {
          %e = lz.get %x[%i] : tensor<?xf64>
          %s = math.sin %e : f64
          %c = math.cos %e : f64
          lz.yield %s, %c : f64, f64
        }
        return %b : tensor<?xf64>
      })mlir",
     "math.sin"},
    {"tuple-projection", R"mlir(
      func.func @f(%x: f64, %y: tensor<2xf64>) -> (tensor<2xf64>, tuple<f64, tensor<2xf64>>) {
        %t = lz.tuple(%x, %y : f64, tensor<2xf64>)
        %p = lz.proj %t[1] : tuple<f64, tensor<2xf64>>
        %a = lz.proj %t[0] : tuple<f64, tensor<2xf64>>
        %u = lz.tuple(%a, %p : f64, tensor<2xf64>)
        return %p, %u : tensor<2xf64>, tuple<f64, tensor<2xf64>>
      })mlir",
     "lz.proj"},
    {"fill-of-constant", R"mlir(
      func.func @f() -> tensor<2x3xf64> {
        %v = arith.constant 2.5 : f64
        %t = lz.fill %v : tensor<2x3xf64>
        return %t : tensor<2x3xf64>
      })mlir",
     "lz.fill"},
    {"get-without-indices", R"mlir(
      func.func @f(%x: tensor<3xf64>) -> tensor<3xf64> {
        %t = lz.get %x[] : tensor<3xf64>
        return %t : tensor<3xf64>
      })mlir",
     "lz.get"},
    {"negative-count-loop", R"mlir(
      func.func @f(%x: tensor<2xf64>) -> tensor<2xf64> {
        %n = arith.constant -3 : index
        %r = lz.loop %t < %n iter_args(%s = %x) : tensor<2xf64> {
          %d = arith.addf %s, %s : tensor<2xf64>
          lz.yield %d : tensor<2xf64>
        }
        return %r : tensor<2xf64>
      })mlir",
     "lz.loop"},
    {"zero-step-loop", R"mlir(
      func.func @f(%x: f64) -> f64 {
        %c0 = arith.constant 0 : index
        %r = lz.loop %t < %c0 iter_args(%s = %x) : f64 {
          %d = arith.addf %s, %s : f64
          lz.yield %d : f64
        }
        return %r : f64
      })mlir",
     "lz.loop"},
    {"get-of-constant-and-fill", R"mlir(
      func.func @f(%v: f64) -> (f64, f64) {
        %c1 = arith.constant 1 : index
        %n = arith.constant 3 : index
        %k = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf64>
        %a = lz.get %k[%c1, %c1] : tensor<2x2xf64>
        %f = lz.fill %v, %n : tensor<?x2xf64>
        %b = lz.get %f[%c1, %c1] : tensor<?x2xf64>
        return %a, %b : f64, f64
      })mlir",
     "lz.get"},
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

class CanonicalizeTest : public ::testing::TestWithParam<Case> {};

bool containsOp(ModuleOp module, StringRef name) {
  bool found = false;
  module.walk(
      [&](Operation *op) { found |= op->getName().getStringRef() == name; });
  return found;
}

TEST_P(CanonicalizeTest, PreservesResults) {
  const Case &c = GetParam();
  auto context = test::makeContext();
  auto module = test::parse(*context, c.source);
  ASSERT_TRUE(module);

  OwningOpRef<ModuleOp> copy = cast<ModuleOp>((*module)->clone());
  PassManager pm(context.get());
  pm.addPass(createCanonicalizerPass());
  ASSERT_TRUE(succeeded(pm.run(*copy)));
  if (*c.removedOp) {
    EXPECT_FALSE(containsOp(*copy, c.removedOp))
        << c.name << ": '" << c.removedOp << "' was not removed";
  }
  if (*c.expectedText) {
    std::string printed;
    llvm::raw_string_ostream os(printed);
    copy->print(os);
    EXPECT_NE(printed.find(c.expectedText), std::string::npos)
        << c.name << ": expected '" << c.expectedText << "' in\n"
        << printed;
  }
  // Three random inputs and three with special float values.
  test::expectSameResults(*module, *copy, "f", 6, c.name);
}

INSTANTIATE_TEST_SUITE_P(Lz, CanonicalizeTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           std::string name = info.param.name;
                           for (char &ch : name)
                             if (ch == '-')
                               ch = '_';
                           return name;
                         });

} // namespace
