//===- TestUtils.cpp - Shared helpers of the unit tests -------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "leibniz/AD/Forward.h"
#include "leibniz/Interpreter/ValueIO.h"

#include "AD/ADDialect.h"
#include "Lz/LzDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <cmath>
#include <iterator>

using namespace mlir;
using namespace leibniz;

std::unique_ptr<MLIRContext> test::makeContext() {
  DialectRegistry registry;
  registry.insert<ad::ADDialect, lz::LzDialect, arith::ArithDialect,
                  func::FuncDialect, linalg::LinalgDialect, math::MathDialect,
                  scf::SCFDialect, tensor::TensorDialect>();
  leibniz::ad::registerDerivativeModels(registry);
  auto context = std::make_unique<MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

OwningOpRef<ModuleOp> test::parse(MLIRContext &context, StringRef source) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  EXPECT_TRUE(module) << "failed to parse:\n" << source.str();
  return module;
}

interp::Tensor test::makeTensor(Type elementType, ArrayRef<int64_t> shape,
                                ArrayRef<double> values) {
  interp::Tensor tensor(elementType, shape);
  EXPECT_EQ(static_cast<int64_t>(values.size()), tensor.getNumElements());
  for (auto [i, value] : llvm::enumerate(values)) {
    if (tensor.isFloat())
      tensor.setFloat(i, value);
    else
      tensor.setInt(i, static_cast<int64_t>(value));
  }
  return tensor;
}

std::vector<double> test::randomValues(std::mt19937_64 &rng, size_t count) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> values(count);
  for (double &value : values)
    value = dist(rng);
  return values;
}

SmallVector<interp::RuntimeValue>
test::run(interp::Interpreter &interpreter, StringRef name,
          ArrayRef<interp::RuntimeValue> args) {
  FailureOr<SmallVector<interp::RuntimeValue>> results =
      interpreter.call(name, args);
  EXPECT_TRUE(succeeded(results)) << "call to " << name.str() << " failed";
  if (failed(results))
    return {};
  return *results;
}

interp::RuntimeValue
leibniz::test::withSpecialFloats(const interp::RuntimeValue &value,
                                 unsigned &next, unsigned stride) {
  using interp::RuntimeValue;
  using interp::Tensor;
  static const double specials[] = {-0.0, 0.0, INFINITY, -INFINITY, NAN, -1.5};
  if (value.isTuple()) {
    std::vector<RuntimeValue> elements;
    for (const RuntimeValue &element : value.getElements())
      elements.push_back(withSpecialFloats(element, next, stride));
    return RuntimeValue::getTuple(std::move(elements));
  }
  Tensor tensor = value.getTensor();
  if (tensor.isFloat())
    for (int64_t i = 0, e = tensor.getNumElements(); i < e; ++i) {
      tensor.setFloat(i, specials[next % std::size(specials)]);
      next += stride;
    }
  return tensor;
}

/// Equal values up to rounding (a relative 1e-12, at least 1e-12 absolute),
/// so -0.0 equals +0.0 (and NaN equals NaN).
static bool equalInRealArithmetic(const interp::RuntimeValue &a,
                                  const interp::RuntimeValue &b) {
  if (a.isTuple() || b.isTuple()) {
    if (!a.isTuple() || !b.isTuple() ||
        a.getElements().size() != b.getElements().size())
      return false;
    return llvm::all_of(
        llvm::zip(a.getElements(), b.getElements()), [](auto pair) {
          return equalInRealArithmetic(std::get<0>(pair), std::get<1>(pair));
        });
  }
  const interp::Tensor &x = a.getTensor(), &y = b.getTensor();
  if (!x.isFloat())
    return x == y;
  if (x.getShape() != y.getShape())
    return false;
  for (int64_t i = 0; i < x.getNumElements(); ++i) {
    double u = x.getFloat(i), v = y.getFloat(i);
    if (!(std::abs(u - v) <=
              1e-12 * std::max({1.0, std::abs(u), std::abs(v)}) ||
          (std::isnan(u) && std::isnan(v))))
      return false;
  }
  return true;
}

void leibniz::test::expectSameResults(ModuleOp before, ModuleOp after,
                                      StringRef name, unsigned runs,
                                      StringRef what, bool realArithmetic) {
  auto func = before.lookupSymbol<func::FuncOp>(name);
  ASSERT_TRUE(func) << "no function " << name.str();
  for (uint64_t seed = 0; seed < runs; ++seed) {
    SmallVector<interp::RuntimeValue> args;
    // The special runs alternate between every float the same special
    // value (x - x, x + x on signed zeros and infinities), in turn each of
    // them, and sequences of them at varying strides (pairs of different
    // ones).
    unsigned special = seed / 2;
    unsigned next = special % 2 ? special : special / 2;
    unsigned stride = special % 2 ? 1 + special / 2 % 5 : 0;
    for (auto [pos, type] : llvm::enumerate(func.getArgumentTypes())) {
      std::string error;
      FailureOr<interp::RuntimeValue> arg =
          interp::makeRandomValue(type, seed * 100 + pos, 3, error);
      ASSERT_TRUE(succeeded(arg)) << error;
      args.push_back(seed % 2 || realArithmetic
                         ? *arg
                         : withSpecialFloats(*arg, next, stride));
    }
    interp::Interpreter original(before);
    auto expected = run(original, name, args);
    interp::Interpreter transformed(after);
    auto actual = run(transformed, name, args);
    ASSERT_EQ(actual.size(), expected.size());
    for (auto [a, e] : llvm::zip(actual, expected))
      EXPECT_TRUE(realArithmetic ? equalInRealArithmetic(a, e) : a == e)
          << what.str() << " changed a result (seed " << seed << ")";
  }
}
