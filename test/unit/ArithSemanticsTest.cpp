//===- ArithSemanticsTest.cpp - Interpreter vs C++ on integer corners -----===//
//
// Part of Leibniz.
//
// Every integer op of the interpreter, at widths 8 and 64, on operand pairs
// that include the corner cases (0, 1, -1, the extreme values), against the
// same operation computed in C++ on fixed-width types. Pairs where the op is
// undefined upstream must give a run-time error instead.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <limits>
#include <optional>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::interp;

namespace {

/// The ops under test, as `arith.<name>` on two operands of one type.
const char *const kBinaryOps[] = {
    "addi",       "subi",      "muli",  "divsi", "divui", "remsi", "remui",
    "floordivsi", "ceildivsi", "maxsi", "minsi", "maxui", "minui", "andi",
    "ori",        "xori",      "shli",  "shrsi", "shrui"};

std::string makeSource(StringRef type) {
  std::string source;
  for (StringRef op : kBinaryOps)
    source += ("func.func @" + op + "(%a: " + type + ", %b: " + type + ") -> " +
               type + " {\n  %r = arith." + op + " %a, %b : " + type +
               "\n  return %r : " + type + "\n}\n")
                  .str();
  return source;
}

/// The expected result of `op` on `a` and `b` of type `S` (signed) / `U`
/// (unsigned), or nullopt where upstream says undefined or poison.
template <typename S, typename U>
std::optional<S> expected(StringRef op, S a, S b) {
  constexpr int width = std::numeric_limits<U>::digits;
  U ua = static_cast<U>(a), ub = static_cast<U>(b);
  auto wrap = [](U value) { return static_cast<S>(value); };
  if (op == "addi")
    return wrap(ua + ub);
  if (op == "subi")
    return wrap(ua - ub);
  if (op == "muli")
    return wrap(static_cast<U>(ua * ub));
  if (op == "andi")
    return wrap(ua & ub);
  if (op == "ori")
    return wrap(ua | ub);
  if (op == "xori")
    return wrap(ua ^ ub);
  if (op == "maxsi")
    return std::max(a, b);
  if (op == "minsi")
    return std::min(a, b);
  if (op == "maxui")
    return wrap(std::max(ua, ub));
  if (op == "minui")
    return wrap(std::min(ua, ub));
  bool overflow = a == std::numeric_limits<S>::min() && b == -1;
  if (op == "divui" || op == "remui") {
    if (ub == 0)
      return std::nullopt;
    return wrap(op == "divui" ? ua / ub : ua % ub);
  }
  if (op == "remsi") {
    if (b == 0)
      return std::nullopt;
    return b == -1 ? 0 : static_cast<S>(a % b);
  }
  if (op == "divsi" || op == "floordivsi" || op == "ceildivsi") {
    if (b == 0 || overflow)
      return std::nullopt;
    S quotient = static_cast<S>(a / b), remainder = static_cast<S>(a % b);
    bool inexact = remainder != 0;
    bool negative = (remainder < 0) != (b < 0);
    if (op == "floordivsi" && inexact && negative)
      return static_cast<S>(quotient - 1);
    if (op == "ceildivsi" && inexact && !negative)
      return static_cast<S>(quotient + 1);
    return quotient;
  }
  if (ub >= static_cast<U>(width))
    return std::nullopt; // Shift amounts must be below the width.
  if (op == "shli")
    return wrap(static_cast<U>(ua << ub));
  if (op == "shrui")
    return wrap(static_cast<U>(ua >> ub));
  if (op == "shrsi")
    return static_cast<S>(a >> ub);
  ADD_FAILURE() << "no reference for " << op.str();
  return std::nullopt;
}

template <typename S, typename U> void checkWidth(StringRef typeName) {
  auto context = test::makeContext();
  Type type = IntegerType::get(context.get(), std::numeric_limits<U>::digits);
  auto module = test::parse(*context, makeSource(typeName));
  ASSERT_TRUE(module);
  // Undefined pairs report errors; keep them off the test output.
  ScopedDiagnosticHandler silence(context.get(),
                                  [](Diagnostic &) { return success(); });
  Interpreter interpreter(*module);
  const S values[] = {0,
                      1,
                      -1,
                      2,
                      -2,
                      3,
                      7,
                      -7,
                      static_cast<S>(std::numeric_limits<U>::digits - 1),
                      std::numeric_limits<S>::max(),
                      std::numeric_limits<S>::min(),
                      static_cast<S>(std::numeric_limits<S>::max() - 1),
                      static_cast<S>(std::numeric_limits<S>::min() + 1)};
  for (StringRef op : kBinaryOps)
    for (S a : values)
      for (S b : values) {
        std::optional<S> want = expected<S, U>(op, a, b);
        FailureOr<SmallVector<RuntimeValue>> got = interpreter.call(
            op, {Tensor::getInt(type, a), Tensor::getInt(type, b)});
        if (!want) {
          EXPECT_TRUE(failed(got)) << op.str() << "(" << int64_t(a) << ", "
                                   << int64_t(b) << ") should be an error";
          continue;
        }
        ASSERT_TRUE(succeeded(got)) << op.str() << "(" << int64_t(a) << ", "
                                    << int64_t(b) << ") failed";
        EXPECT_EQ((*got)[0].getTensor().getInt(0), static_cast<int64_t>(*want))
            << op.str() << "(" << int64_t(a) << ", " << int64_t(b) << ")";
      }
}

TEST(ArithSemanticsTest, IntegerOpsAtWidth8) {
  checkWidth<int8_t, uint8_t>("i8");
}

TEST(ArithSemanticsTest, IntegerOpsAtWidth64) {
  checkWidth<int64_t, uint64_t>("i64");
}

} // namespace
