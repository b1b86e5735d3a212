//===- ForwardTest.cpp - Derivative rules against finite differences ------===//
//
// Part of Leibniz.
//
// Every scalar operation with derivative rules, differentiated with
// respect to each operand at several points (edge cases included) in both
// modes: the forward rule against central finite differences in f64, and
// the reverse rule against the forward one (<ȳ, J ẋ> = <Jᵀ ȳ, ẋ> for a
// cotangent ȳ and one-hot tangents ẋ). Where the derivative is not defined
// the table gives the documented convention instead, which both modes
// follow. The rules of the structural operations (reads, scopes, loops,
// conditionals, calls, tuples, products) are checked by test/AD against
// finite differences and against each other through `leibniz gradcheck`;
// the last test makes sure no operation with rules is left out of both.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Reverse.h"
#include "leibniz/Interpreter/Interpreter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include "gtest/gtest.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace leibniz;

namespace {

/// A point and, where finite differences do not give the derivative, the
/// convention for the partial derivatives.
struct Point {
  std::vector<double> x;
  std::optional<std::vector<double>> convention = std::nullopt;
};

struct ScalarCase {
  const char *op;
  unsigned arity;
  std::vector<Point> points;
};

const ScalarCase kScalarCases[] = {
    {"arith.addf", 2, {{{0.3, -1.2}}, {{-2.0, 5.0}}}},
    {"arith.subf", 2, {{{0.3, -1.2}}, {{-2.0, 5.0}}}},
    {"arith.mulf", 2, {{{0.3, -1.2}}, {{0.0, 5.0}}}},
    {"arith.divf", 2, {{{0.3, -1.2}}, {{-2.0, 0.5}}}},
    {"arith.negf", 1, {{{0.3}}, {{-2.0}}}},
    {"arith.maximumf",
     2,
     {{{0.3, -1.2}}, {{-2.0, 5.0}}, {{1.0, 1.0}, {{0.5, 0.5}}}}},
    {"arith.minimumf",
     2,
     {{{0.3, -1.2}}, {{-2.0, 5.0}}, {{1.0, 1.0}, {{0.5, 0.5}}}}},
    {"math.exp", 1, {{{0.3}}, {{-2.0}}}},
    {"math.exp2", 1, {{{0.3}}, {{-2.0}}}},
    {"math.expm1", 1, {{{0.3}}, {{-1e-3}}}},
    {"math.log", 1, {{{0.3}}, {{20.0}}}},
    {"math.log1p", 1, {{{0.3}}, {{-0.5}}}},
    {"math.log2", 1, {{{0.3}}, {{20.0}}}},
    {"math.sqrt", 1, {{{0.3}}, {{20.0}}}},
    {"math.rsqrt", 1, {{{0.3}}, {{20.0}}}},
    {"math.sin", 1, {{{0.3}}, {{-2.0}}}},
    {"math.cos", 1, {{{0.3}}, {{-2.0}}}},
    {"math.tan", 1, {{{0.3}}, {{-1.2}}}},
    {"math.tanh", 1, {{{0.3}}, {{-2.0}}}},
    {"math.atan", 1, {{{0.3}}, {{-2.0}}}},
    {"math.erf", 1, {{{0.3}}, {{-2.0}}}},
    {"math.absf", 1, {{{0.3}}, {{-2.0}}, {{0.0}, {{0.0}}}}},
    {"math.powf", 2, {{{0.3, 2.5}}, {{2.0, -1.5}}, {{1.7, 3.0}}}},
    {"math.copysign",
     2,
     {{{0.3, -2.0}, {{-1.0, 0.0}}}, {{-2.0, 1.0}, {{-1.0, 0.0}}}}},
    {"math.floor", 1, {{{0.3}}, {{2.0}, {{0.0}}}}},
    {"math.ceil", 1, {{{0.3}}, {{2.0}, {{0.0}}}}},
    {"math.round", 1, {{{0.3}}, {{2.5}, {{0.0}}}}},
    {"math.trunc", 1, {{{0.3}}, {{-2.0}, {{0.0}}}}},
};

/// The operations whose rules test/AD checks through programs.
const char *const kStructuralOps[] = {
    "arith.select",
    "arith.extf",
    "arith.truncf",
    "lz.get",
    "lz.fill",
    "lz.matmul",
    "lz.batch_matmul",
    "lz.print",
    "lz.tuple",
    "lz.proj",
    "lz.for",
    "lz.sum",
    "lz.prod",
    "lz.max",
    "lz.min",
    "lz.loop",
    "lz.iota",
    "lz.random",
    "scf.if",
    "func.call",
    "tensor.cast",
    "ad.stop_gradient",
    "lz.accumulate",
    "tensor.insert",
    "tensor.insert_slice",
    "tensor.extract",
    "tensor.extract_slice",
    // Both modes by the implicit function theorem (test/Optimizers/).
    "ad.argmin",
    "ad.fixed_point",
    "ad.root",
};

std::string buildSource(const ScalarCase &c) {
  std::string params, operands, types;
  for (unsigned i = 0; i < c.arity; ++i) {
    params += (i ? ", %a" : "%a") + std::to_string(i) + ": f64";
    operands += (i ? ", %a" : "%a") + std::to_string(i);
    types += i ? ", f64" : "f64";
  }
  return "func.func @f(" + params + ") -> f64 {\n  %r = \"" + c.op + "\"(" +
         operands + ") : (" + types + ") -> f64\n  return %r : f64\n}\n";
}

interp::RuntimeValue scalar(MLIRContext &context, double value) {
  return interp::Tensor::getFloat(Float64Type::get(&context), value);
}

double evaluate(interp::Interpreter &interpreter, StringRef name,
                ArrayRef<interp::RuntimeValue> args, unsigned result) {
  SmallVector<interp::RuntimeValue> results =
      test::run(interpreter, name, args);
  if (results.size() <= result)
    return std::nan("");
  return results[result].getTensor().getFloat(0);
}

class ScalarJvpTest : public ::testing::TestWithParam<ScalarCase> {};

TEST_P(ScalarJvpTest, MatchesFiniteDifferences) {
  const ScalarCase &c = GetParam();
  auto context = test::makeContext();
  auto module = test::parse(*context, buildSource(c));
  ASSERT_TRUE(module);
  auto f = module->lookupSymbol<func::FuncOp>("f");
  SmallVector<bool> active(c.arity, true);
  FailureOr<func::FuncOp> derivative =
      ad::buildForwardDerivative(*module, f, active);
  ASSERT_TRUE(succeeded(derivative));
  ASSERT_TRUE(succeeded(mlir::verify(*module)));
  StringRef name = derivative->getName();
  interp::Interpreter interpreter(*module);
  for (const Point &point : c.points) {
    for (unsigned wrt = 0; wrt < c.arity; ++wrt) {
      SmallVector<interp::RuntimeValue> args;
      for (double x : point.x)
        args.push_back(scalar(*context, x));
      for (unsigned i = 0; i < c.arity; ++i)
        args.push_back(scalar(*context, i == wrt ? 1.0 : 0.0));
      double jvp = evaluate(interpreter, name, args, 1);
      double expected;
      if (point.convention) {
        expected = (*point.convention)[wrt];
      } else {
        double h = 1e-6 * std::max(1.0, std::abs(point.x[wrt]));
        auto at = [&](double shift) {
          SmallVector<interp::RuntimeValue> shifted;
          for (auto [i, x] : llvm::enumerate(point.x))
            shifted.push_back(scalar(*context, i == wrt ? x + shift : x));
          return evaluate(interpreter, "f", shifted, 0);
        };
        expected = (at(h) - at(-h)) / (2 * h);
      }
      EXPECT_NEAR(jvp, expected, 1e-6 * std::max(1.0, std::abs(expected)))
          << c.op << " with respect to operand " << wrt << " at point "
          << ::testing::PrintToString(point.x);
    }
  }
}

/// The reverse rule is the transpose of the forward one: for the cotangent
/// ȳ, the cotangent of operand i is ȳ times the tangent along the one-hot
/// direction e_i.
TEST_P(ScalarJvpTest, ReverseIsTransposeOfForward) {
  const ScalarCase &c = GetParam();
  auto context = test::makeContext();
  auto module = test::parse(*context, buildSource(c));
  ASSERT_TRUE(module);
  auto f = module->lookupSymbol<func::FuncOp>("f");
  SmallVector<bool> active(c.arity, true);
  FailureOr<func::FuncOp> forward =
      ad::buildForwardDerivative(*module, f, active);
  ASSERT_TRUE(succeeded(forward));
  FailureOr<func::FuncOp> reverse =
      ad::buildReverseDerivative(*module, f, active);
  ASSERT_TRUE(succeeded(reverse));
  ASSERT_TRUE(succeeded(mlir::verify(*module)));
  StringRef forwardName = forward->getName();
  StringRef reverseName = reverse->getName();
  interp::Interpreter interpreter(*module);
  const double cotangent = -0.7;
  for (const Point &point : c.points) {
    SmallVector<interp::RuntimeValue> args;
    for (double x : point.x)
      args.push_back(scalar(*context, x));
    SmallVector<interp::RuntimeValue> reverseArgs(args);
    reverseArgs.push_back(scalar(*context, cotangent));
    for (unsigned wrt = 0; wrt < c.arity; ++wrt) {
      SmallVector<interp::RuntimeValue> forwardArgs(args);
      for (unsigned i = 0; i < c.arity; ++i)
        forwardArgs.push_back(scalar(*context, i == wrt ? 1.0 : 0.0));
      double jvp = evaluate(interpreter, forwardName, forwardArgs, 1);
      double vjp = evaluate(interpreter, reverseName, reverseArgs, 1 + wrt);
      EXPECT_NEAR(vjp, cotangent * jvp,
                  1e-15 * std::max(1.0, std::abs(cotangent * jvp)))
          << c.op << " with respect to operand " << wrt << " at point "
          << ::testing::PrintToString(point.x);
      if (point.convention) {
        EXPECT_EQ(vjp, cotangent * (*point.convention)[wrt])
            << c.op << " does not follow its convention in reverse mode";
      }
    }
    // The value is the function's.
    EXPECT_EQ(evaluate(interpreter, reverseName, reverseArgs, 0),
              evaluate(interpreter, "f", args, 0));
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, ScalarJvpTest, ::testing::ValuesIn(kScalarCases),
                         [](const ::testing::TestParamInfo<ScalarCase> &info) {
                           std::string name = info.param.op;
                           for (char &ch : name)
                             if (ch == '.')
                               ch = '_';
                           return name;
                         });

/// Every operation with a forward-mode rule is tested: by the table above
/// or through programs.
TEST(ScalarJvpTest, EveryRuleIsTested) {
  auto context = test::makeContext();
  unsigned withRules = 0;
  for (RegisteredOperationName name : context->getRegisteredOperations()) {
    if (!name.hasInterface<ad::DerivativeOpInterface>())
      continue;
    ++withRules;
    StringRef op = name.getStringRef();
    bool tested =
        llvm::any_of(kScalarCases,
                     [&](const ScalarCase &c) { return op == c.op; }) ||
        llvm::is_contained(kStructuralOps, op);
    EXPECT_TRUE(tested) << "no test of the derivative rules of " << op.str();
  }
  EXPECT_EQ(withRules, std::size(kScalarCases) + std::size(kStructuralOps));
}

} // namespace
