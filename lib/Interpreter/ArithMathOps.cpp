//===- ArithMathOps.cpp - Interpreting arith and math ---------------------===//
//
// Part of Leibniz.
//
// Scalar semantics follow the upstream op definitions. Where an op's result
// is poison or undefined behaviour (integer division by zero, signed
// overflow of a division, out-of-range shifts, float-to-integer conversions
// that do not fit), the interpreter reports a run-time error instead of
// inventing a value.
//
//===----------------------------------------------------------------------===//

#include "EvaluationUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace leibniz::interp;

namespace {

Scalar floatScalar(double value) { return Scalar{value}; }
Scalar intScalar(int64_t value) {
  Scalar s;
  s.i = value;
  return s;
}

/// Integer width of an op's first operand.
unsigned operandWidth(Operation *op) {
  return getIntegerWidth(getElementTypeOrSelf(op->getOperand(0).getType()));
}

/// A float op computed by `fn` in double, rounded to the result's type; on
/// f32, by `single` on floats where given: compiled code calls libm's float
/// function (`tanhf`, not `tanh` rounded), and the interpreter keeps its
/// rounding.
template <typename OpTy>
void addFloatUnary(OpHandlerRegistry &registry, double (*fn)(double),
                   float (*single)(float) = nullptr) {
  registry.add<OpTy>([fn, single](Interpreter &interp, OpTy op) {
    bool f32 =
        single && getElementTypeOrSelf(op->getResult(0).getType()).isF32();
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          double value = f32 ? single(static_cast<float>(x[0].f)) : fn(x[0].f);
          return std::optional<Scalar>(floatScalar(value));
        });
  });
}

template <typename OpTy>
void addFloatBinary(OpHandlerRegistry &registry, double (*fn)(double, double),
                    float (*single)(float, float) = nullptr) {
  registry.add<OpTy>([fn, single](Interpreter &interp, OpTy op) {
    bool f32 =
        single && getElementTypeOrSelf(op->getResult(0).getType()).isF32();
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          double value = f32 ? single(static_cast<float>(x[0].f),
                                      static_cast<float>(x[1].f))
                             : fn(x[0].f, x[1].f);
          return std::optional<Scalar>(floatScalar(value));
        });
  });
}

/// An integer op that is total: computes on the operands' values (signed
/// view, sign-extended from `width`) and wraps the result to the width.
template <typename OpTy>
void addIntBinary(OpHandlerRegistry &registry,
                  int64_t (*fn)(int64_t, int64_t, unsigned)) {
  registry.add<OpTy>([fn](Interpreter &interp, OpTy op) {
    unsigned width = operandWidth(op);
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          return std::optional<Scalar>(intScalar(fn(x[0].i, x[1].i, width)));
        });
  });
}

/// An integer op that is undefined for some operands: `fn` returns nullopt
/// and sets the error there.
template <typename OpTy>
void addPartialIntBinary(OpHandlerRegistry &registry,
                         std::optional<int64_t> (*fn)(int64_t, int64_t,
                                                      unsigned,
                                                      std::string &)) {
  registry.add<OpTy>([fn](Interpreter &interp, OpTy op) {
    unsigned width = operandWidth(op);
    return evaluateElementwise(
        interp, op,
        [&](ArrayRef<Scalar> x, std::string &error) -> std::optional<Scalar> {
          std::optional<int64_t> value = fn(x[0].i, x[1].i, width, error);
          if (!value)
            return std::nullopt;
          return intScalar(*value);
        });
  });
}

int64_t wrappingAdd(int64_t a, int64_t b, unsigned) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
int64_t wrappingSub(int64_t a, int64_t b, unsigned) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}
int64_t wrappingMul(int64_t a, int64_t b, unsigned) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                              static_cast<uint64_t>(b));
}

int64_t minSigned(unsigned width) {
  return wrapToWidth(width, int64_t(1) << (width - 1 < 63 ? width - 1 : 63));
}

std::optional<int64_t> checkedDivisor(int64_t a, int64_t b, unsigned width,
                                      std::string &error) {
  if (b == 0) {
    error = "integer division by zero";
    return std::nullopt;
  }
  if (a == minSigned(width) && b == -1) {
    error = "signed integer division overflows";
    return std::nullopt;
  }
  return b;
}

std::optional<int64_t> divSigned(int64_t a, int64_t b, unsigned width,
                                 std::string &error) {
  if (!checkedDivisor(a, b, width, error))
    return std::nullopt;
  return a / b;
}

std::optional<int64_t> remSigned(int64_t a, int64_t b, unsigned width,
                                 std::string &error) {
  if (b == 0) {
    error = "integer remainder by zero";
    return std::nullopt;
  }
  return b == -1 ? 0 : a % b;
}

std::optional<int64_t> floorDivSigned(int64_t a, int64_t b, unsigned width,
                                      std::string &error) {
  if (!checkedDivisor(a, b, width, error))
    return std::nullopt;
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::optional<int64_t> ceilDivSigned(int64_t a, int64_t b, unsigned width,
                                     std::string &error) {
  if (!checkedDivisor(a, b, width, error))
    return std::nullopt;
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}

std::optional<int64_t> divUnsigned(int64_t a, int64_t b, unsigned width,
                                   std::string &error) {
  uint64_t ua = asUnsigned(width, a), ub = asUnsigned(width, b);
  if (ub == 0) {
    error = "integer division by zero";
    return std::nullopt;
  }
  return static_cast<int64_t>(ua / ub);
}

std::optional<int64_t> ceilDivUnsigned(int64_t a, int64_t b, unsigned width,
                                       std::string &error) {
  std::optional<int64_t> quotient = divUnsigned(a, b, width, error);
  if (!quotient)
    return std::nullopt;
  bool inexact = asUnsigned(width, a) % asUnsigned(width, b) != 0;
  return *quotient + (inexact ? 1 : 0);
}

std::optional<int64_t> remUnsigned(int64_t a, int64_t b, unsigned width,
                                   std::string &error) {
  uint64_t ua = asUnsigned(width, a), ub = asUnsigned(width, b);
  if (ub == 0) {
    error = "integer remainder by zero";
    return std::nullopt;
  }
  return static_cast<int64_t>(ua % ub);
}

std::optional<int64_t> checkShift(int64_t b, unsigned width,
                                  std::string &error) {
  uint64_t amount = asUnsigned(width, b);
  if (amount >= width) {
    error = "shift amount " + std::to_string(amount) +
            " is not less than the bit width " + std::to_string(width);
    return std::nullopt;
  }
  return amount;
}

std::optional<int64_t> shiftLeft(int64_t a, int64_t b, unsigned width,
                                 std::string &error) {
  std::optional<int64_t> amount = checkShift(b, width, error);
  if (!amount)
    return std::nullopt;
  return static_cast<int64_t>(static_cast<uint64_t>(a) << *amount);
}

std::optional<int64_t> shiftRightSigned(int64_t a, int64_t b, unsigned width,
                                        std::string &error) {
  std::optional<int64_t> amount = checkShift(b, width, error);
  if (!amount)
    return std::nullopt;
  return a >> *amount;
}

std::optional<int64_t> shiftRightUnsigned(int64_t a, int64_t b, unsigned width,
                                          std::string &error) {
  std::optional<int64_t> amount = checkShift(b, width, error);
  if (!amount)
    return std::nullopt;
  return static_cast<int64_t>(asUnsigned(width, a) >> *amount);
}

/// IEEE 754-2019 maximum: NaN propagates, -0 < +0.
double maximumF(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<double>::quiet_NaN();
  if (a == b)
    return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
double minimumF(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<double>::quiet_NaN();
  if (a == b)
    return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
double maxNumF(double a, double b) { return std::fmax(a, b); }
double minNumF(double a, double b) { return std::fmin(a, b); }

double addF(double a, double b) { return a + b; }
double subF(double a, double b) { return a - b; }
double mulF(double a, double b) { return a * b; }
double divF(double a, double b) { return a / b; }
double remF(double a, double b) { return std::fmod(a, b); }
double negF(double a) { return -a; }
double rsqrtF(double a) { return 1.0 / std::sqrt(a); }
double roundF(double a) { return std::round(a); }
double roundEvenF(double a) { return std::nearbyint(a); }
double exp2F(double a) { return std::exp2(a); }

bool compareFloat(arith::CmpFPredicate predicate, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  using P = arith::CmpFPredicate;
  switch (predicate) {
  case P::AlwaysFalse:
    return false;
  case P::AlwaysTrue:
    return true;
  case P::OEQ:
    return !unordered && a == b;
  case P::OGT:
    return !unordered && a > b;
  case P::OGE:
    return !unordered && a >= b;
  case P::OLT:
    return !unordered && a < b;
  case P::OLE:
    return !unordered && a <= b;
  case P::ONE:
    return !unordered && a != b;
  case P::ORD:
    return !unordered;
  case P::UEQ:
    return unordered || a == b;
  case P::UGT:
    return unordered || a > b;
  case P::UGE:
    return unordered || a >= b;
  case P::ULT:
    return unordered || a < b;
  case P::ULE:
    return unordered || a <= b;
  case P::UNE:
    return unordered || a != b;
  case P::UNO:
    return unordered;
  }
  llvm_unreachable("unknown cmpf predicate");
}

bool compareInt(arith::CmpIPredicate predicate, int64_t a, int64_t b,
                unsigned width) {
  uint64_t ua = asUnsigned(width, a), ub = asUnsigned(width, b);
  using P = arith::CmpIPredicate;
  switch (predicate) {
  case P::eq:
    return a == b;
  case P::ne:
    return a != b;
  case P::slt:
    return a < b;
  case P::sle:
    return a <= b;
  case P::sgt:
    return a > b;
  case P::sge:
    return a >= b;
  case P::ult:
    return ua < ub;
  case P::ule:
    return ua <= ub;
  case P::ugt:
    return ua > ub;
  case P::uge:
    return ua >= ub;
  }
  llvm_unreachable("unknown cmpi predicate");
}

/// Converts a float to an integer of `width` bits, or fails when the
/// truncated value does not fit (the result is poison upstream).
std::optional<int64_t> floatToInt(double value, unsigned width, bool isSigned,
                                  std::string &error) {
  double truncated = std::trunc(value);
  double lo = isSigned ? -std::ldexp(1.0, width - 1) : 0.0;
  double hi = isSigned ? std::ldexp(1.0, width - 1) : std::ldexp(1.0, width);
  if (std::isnan(value) || truncated < lo || truncated >= hi) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.17g", value);
    error = "float value " + std::string(text) + " does not fit in " +
            (isSigned ? "a signed " : "an unsigned ") + std::to_string(width) +
            "-bit integer";
    return std::nullopt;
  }
  if (!isSigned && truncated >= std::ldexp(1.0, 63))
    return static_cast<int64_t>(static_cast<uint64_t>(truncated));
  return static_cast<int64_t>(truncated);
}

template <typename OpTy>
void addCast(OpHandlerRegistry &registry,
             std::optional<Scalar> (*fn)(Scalar, Type, Type, std::string &)) {
  registry.add<OpTy>([fn](Interpreter &interp, OpTy op) {
    Type from = getElementTypeOrSelf(op->getOperand(0).getType());
    Type to = getElementTypeOrSelf(op->getResult(0).getType());
    return evaluateElementwise(interp, op,
                               [&](ArrayRef<Scalar> x, std::string &error) {
                                 return fn(x[0], from, to, error);
                               });
  });
}

/// Converts an integer to float type `to` with one rounding (through
/// double first would round twice, e.g. i64 -> f32).
double integerToFloat(int64_t value, bool isSigned, Type to) {
  if (to.isF64())
    return isSigned ? static_cast<double>(value)
                    : static_cast<double>(static_cast<uint64_t>(value));
  llvm::APFloat result(cast<FloatType>(to).getFloatSemantics());
  result.convertFromAPInt(llvm::APInt(64, static_cast<uint64_t>(value)),
                          isSigned, llvm::APFloat::rmNearestTiesToEven);
  return apFloatToDouble(result);
}

std::optional<Scalar> signedToFloat(Scalar x, Type, Type to, std::string &) {
  return floatScalar(integerToFloat(x.i, /*isSigned=*/true, to));
}
std::optional<Scalar> unsignedToFloat(Scalar x, Type from, Type to,
                                      std::string &) {
  uint64_t value = asUnsigned(getIntegerWidth(from), x.i);
  return floatScalar(
      integerToFloat(static_cast<int64_t>(value), /*isSigned=*/false, to));
}
std::optional<Scalar> floatToSigned(Scalar x, Type, Type to,
                                    std::string &error) {
  std::optional<int64_t> value =
      floatToInt(x.f, getIntegerWidth(to), /*isSigned=*/true, error);
  return value ? std::optional<Scalar>(intScalar(*value)) : std::nullopt;
}
std::optional<Scalar> floatToUnsigned(Scalar x, Type, Type to,
                                      std::string &error) {
  std::optional<int64_t> value =
      floatToInt(x.f, getIntegerWidth(to), /*isSigned=*/false, error);
  return value ? std::optional<Scalar>(intScalar(*value)) : std::nullopt;
}
/// Float extension: exact; the result element type holds the value.
std::optional<Scalar> floatToFloat(Scalar x, Type, Type, std::string &) {
  return x;
}
/// Sign extension, truncation, index_cast: the stored value is already
/// sign-extended; the result element type wraps it.
std::optional<Scalar> signExtendOrTruncate(Scalar x, Type, Type,
                                           std::string &) {
  return x;
}
/// Zero extension and index_castui: reinterpret the source bits as unsigned.
std::optional<Scalar> zeroExtendOrTruncate(Scalar x, Type from, Type,
                                           std::string &) {
  return intScalar(
      static_cast<int64_t>(asUnsigned(getIntegerWidth(from), x.i)));
}
std::optional<Scalar> bitcastScalar(Scalar x, Type from, Type to,
                                    std::string &error) {
  unsigned width = from.getIntOrFloatBitWidth();
  uint64_t bits;
  if (from.isF64()) {
    std::memcpy(&bits, &x.f, sizeof(bits));
  } else if (from.isF32()) {
    float f = static_cast<float>(x.f);
    uint32_t b32;
    std::memcpy(&b32, &f, sizeof(b32));
    bits = b32;
  } else if (isa<IntegerType>(from)) {
    bits = asUnsigned(width, x.i);
  } else {
    error = "bitcast from this type is not supported";
    return std::nullopt;
  }
  if (to.isF64()) {
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    return floatScalar(d);
  }
  if (to.isF32()) {
    uint32_t b32 = static_cast<uint32_t>(bits);
    float f;
    std::memcpy(&f, &b32, sizeof(f));
    return floatScalar(f);
  }
  if (isa<IntegerType>(to))
    return intScalar(static_cast<int64_t>(bits));
  error = "bitcast to this type is not supported";
  return std::nullopt;
}

LogicalResult evaluateConstant(Interpreter &interp, arith::ConstantOp op) {
  Attribute value = op.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    auto type = cast<RankedTensorType>(dense.getType());
    if (failed(checkTensorShape(interp, op, type.getShape())))
      return failure();
    Tensor tensor(type.getElementType(), type.getShape());
    int64_t i = 0;
    if (tensor.isFloat()) {
      for (const APFloat &element : dense.getValues<APFloat>())
        tensor.setFloat(i++, apFloatToDouble(element));
    } else {
      if (getIntegerWidth(type.getElementType()) > 64)
        return interp.emitError(op) << "integers wider than 64 bits";
      for (const APInt &element : dense.getValues<APInt>())
        tensor.setInt(i++, element.getSExtValue());
    }
    interp.bind(op.getResult(), std::move(tensor));
    return success();
  }
  std::optional<Scalar> scalar = getScalarFromAttr(value);
  if (!scalar)
    return interp.emitError(op) << "unsupported constant " << value;
  interp.bind(op.getResult(), Tensor::getScalar(op.getType(), *scalar));
  return success();
}

} // namespace

void leibniz::interp::registerArithMathHandlers(OpHandlerRegistry &registry) {
  registry.add<arith::ConstantOp>(evaluateConstant);

  // Float arithmetic.
  addFloatBinary<arith::AddFOp>(registry, addF);
  addFloatBinary<arith::SubFOp>(registry, subF);
  addFloatBinary<arith::MulFOp>(registry, mulF);
  addFloatBinary<arith::DivFOp>(registry, divF);
  addFloatBinary<arith::RemFOp>(registry, remF);
  addFloatBinary<arith::MaximumFOp>(registry, maximumF);
  addFloatBinary<arith::MinimumFOp>(registry, minimumF);
  addFloatBinary<arith::MaxNumFOp>(registry, maxNumF);
  addFloatBinary<arith::MinNumFOp>(registry, minNumF);
  addFloatUnary<arith::NegFOp>(registry, negF);

  // Integer arithmetic.
  addIntBinary<arith::AddIOp>(registry, wrappingAdd);
  addIntBinary<arith::SubIOp>(registry, wrappingSub);
  addIntBinary<arith::MulIOp>(registry, wrappingMul);
  addPartialIntBinary<arith::DivSIOp>(registry, divSigned);
  addPartialIntBinary<arith::DivUIOp>(registry, divUnsigned);
  addPartialIntBinary<arith::RemSIOp>(registry, remSigned);
  addPartialIntBinary<arith::RemUIOp>(registry, remUnsigned);
  addPartialIntBinary<arith::FloorDivSIOp>(registry, floorDivSigned);
  addPartialIntBinary<arith::CeilDivSIOp>(registry, ceilDivSigned);
  addPartialIntBinary<arith::CeilDivUIOp>(registry, ceilDivUnsigned);
  addIntBinary<arith::MaxSIOp>(
      registry, [](int64_t a, int64_t b, unsigned) { return std::max(a, b); });
  addIntBinary<arith::MinSIOp>(
      registry, [](int64_t a, int64_t b, unsigned) { return std::min(a, b); });
  addIntBinary<arith::MaxUIOp>(registry, [](int64_t a, int64_t b, unsigned w) {
    return asUnsigned(w, a) >= asUnsigned(w, b) ? a : b;
  });
  addIntBinary<arith::MinUIOp>(registry, [](int64_t a, int64_t b, unsigned w) {
    return asUnsigned(w, a) <= asUnsigned(w, b) ? a : b;
  });
  addIntBinary<arith::AndIOp>(
      registry, [](int64_t a, int64_t b, unsigned) { return a & b; });
  addIntBinary<arith::OrIOp>(
      registry, [](int64_t a, int64_t b, unsigned) { return a | b; });
  addIntBinary<arith::XOrIOp>(
      registry, [](int64_t a, int64_t b, unsigned) { return a ^ b; });
  addPartialIntBinary<arith::ShLIOp>(registry, shiftLeft);
  addPartialIntBinary<arith::ShRSIOp>(registry, shiftRightSigned);
  addPartialIntBinary<arith::ShRUIOp>(registry, shiftRightUnsigned);

  // Comparisons and selection.
  registry.add<arith::CmpFOp>([](Interpreter &interp, arith::CmpFOp op) {
    arith::CmpFPredicate predicate = op.getPredicate();
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          return std::optional<Scalar>(
              intScalar(compareFloat(predicate, x[0].f, x[1].f)));
        });
  });
  registry.add<arith::CmpIOp>([](Interpreter &interp, arith::CmpIOp op) {
    arith::CmpIPredicate predicate = op.getPredicate();
    unsigned width = operandWidth(op);
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          return std::optional<Scalar>(
              intScalar(compareInt(predicate, x[0].i, x[1].i, width)));
        });
  });
  registry.add<arith::SelectOp>([](Interpreter &interp, arith::SelectOp op) {
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          return std::optional<Scalar>(x[0].i != 0 ? x[1] : x[2]);
        });
  });

  // Conversions.
  addCast<arith::SIToFPOp>(registry, signedToFloat);
  addCast<arith::UIToFPOp>(registry, unsignedToFloat);
  addCast<arith::FPToSIOp>(registry, floatToSigned);
  addCast<arith::FPToUIOp>(registry, floatToUnsigned);
  addCast<arith::ExtFOp>(registry, floatToFloat);
  registry.add<arith::TruncFOp>([](Interpreter &interp, arith::TruncFOp op) {
    // The source value is exact in double; round it once, in the op's mode.
    llvm::RoundingMode mode = llvm::RoundingMode::NearestTiesToEven;
    if (std::optional<arith::RoundingMode> opMode = op.getRoundingmode()) {
      switch (*opMode) {
      case arith::RoundingMode::to_nearest_even:
        break;
      case arith::RoundingMode::downward:
        mode = llvm::RoundingMode::TowardNegative;
        break;
      case arith::RoundingMode::upward:
        mode = llvm::RoundingMode::TowardPositive;
        break;
      case arith::RoundingMode::toward_zero:
        mode = llvm::RoundingMode::TowardZero;
        break;
      case arith::RoundingMode::to_nearest_away:
        mode = llvm::RoundingMode::NearestTiesToAway;
        break;
      }
    }
    const llvm::fltSemantics &semantics =
        cast<FloatType>(getElementTypeOrSelf(op.getType())).getFloatSemantics();
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          llvm::APFloat value(x[0].f);
          bool losesInfo = false;
          value.convert(semantics, mode, &losesInfo);
          return std::optional<Scalar>(floatScalar(apFloatToDouble(value)));
        });
  });
  addCast<arith::ExtSIOp>(registry, signExtendOrTruncate);
  addCast<arith::ExtUIOp>(registry, zeroExtendOrTruncate);
  addCast<arith::TruncIOp>(registry, signExtendOrTruncate);
  addCast<arith::IndexCastOp>(registry, signExtendOrTruncate);
  addCast<arith::IndexCastUIOp>(registry, zeroExtendOrTruncate);
  addCast<arith::BitcastOp>(registry, bitcastScalar);

  // Math.
  addFloatUnary<math::AbsFOp>(registry, [](double a) { return std::fabs(a); });
  addFloatUnary<math::CeilOp>(registry, [](double a) { return std::ceil(a); });
  addFloatUnary<math::FloorOp>(registry,
                               [](double a) { return std::floor(a); });
  addFloatUnary<math::RoundOp>(registry, roundF);
  addFloatUnary<math::RoundEvenOp>(registry, roundEvenF);
  addFloatUnary<math::TruncOp>(registry,
                               [](double a) { return std::trunc(a); });
  addFloatUnary<math::SqrtOp>(registry, [](double a) { return std::sqrt(a); });
  addFloatUnary<math::RsqrtOp>(registry, rsqrtF);
  addFloatUnary<math::CbrtOp>(
      registry, [](double a) { return std::cbrt(a); },
      [](float a) { return std::cbrt(a); });
  addFloatUnary<math::ExpOp>(
      registry, [](double a) { return std::exp(a); },
      [](float a) { return std::exp(a); });
  addFloatUnary<math::Exp2Op>(registry, exp2F,
                              [](float a) { return std::exp2(a); });
  addFloatUnary<math::ExpM1Op>(
      registry, [](double a) { return std::expm1(a); },
      [](float a) { return std::expm1(a); });
  addFloatUnary<math::LogOp>(
      registry, [](double a) { return std::log(a); },
      [](float a) { return std::log(a); });
  addFloatUnary<math::Log2Op>(
      registry, [](double a) { return std::log2(a); },
      [](float a) { return std::log2(a); });
  addFloatUnary<math::Log10Op>(
      registry, [](double a) { return std::log10(a); },
      [](float a) { return std::log10(a); });
  addFloatUnary<math::Log1pOp>(
      registry, [](double a) { return std::log1p(a); },
      [](float a) { return std::log1p(a); });
  addFloatUnary<math::SinOp>(
      registry, [](double a) { return std::sin(a); },
      [](float a) { return std::sin(a); });
  addFloatUnary<math::CosOp>(
      registry, [](double a) { return std::cos(a); },
      [](float a) { return std::cos(a); });
  addFloatUnary<math::TanOp>(
      registry, [](double a) { return std::tan(a); },
      [](float a) { return std::tan(a); });
  addFloatUnary<math::SinhOp>(
      registry, [](double a) { return std::sinh(a); },
      [](float a) { return std::sinh(a); });
  addFloatUnary<math::CoshOp>(
      registry, [](double a) { return std::cosh(a); },
      [](float a) { return std::cosh(a); });
  addFloatUnary<math::TanhOp>(
      registry, [](double a) { return std::tanh(a); },
      [](float a) { return std::tanh(a); });
  addFloatUnary<math::AsinOp>(
      registry, [](double a) { return std::asin(a); },
      [](float a) { return std::asin(a); });
  addFloatUnary<math::AcosOp>(
      registry, [](double a) { return std::acos(a); },
      [](float a) { return std::acos(a); });
  addFloatUnary<math::AtanOp>(
      registry, [](double a) { return std::atan(a); },
      [](float a) { return std::atan(a); });
  addFloatUnary<math::AsinhOp>(
      registry, [](double a) { return std::asinh(a); },
      [](float a) { return std::asinh(a); });
  addFloatUnary<math::AcoshOp>(
      registry, [](double a) { return std::acosh(a); },
      [](float a) { return std::acosh(a); });
  addFloatUnary<math::AtanhOp>(
      registry, [](double a) { return std::atanh(a); },
      [](float a) { return std::atanh(a); });
  addFloatUnary<math::ErfOp>(
      registry, [](double a) { return std::erf(a); },
      [](float a) { return std::erf(a); });
  addFloatUnary<math::ErfcOp>(
      registry, [](double a) { return std::erfc(a); },
      [](float a) { return std::erfc(a); });
  addFloatBinary<math::PowFOp>(
      registry, [](double a, double b) { return std::pow(a, b); },
      [](float a, float b) { return std::pow(a, b); });
  addFloatBinary<math::Atan2Op>(
      registry, [](double a, double b) { return std::atan2(a, b); },
      [](float a, float b) { return std::atan2(a, b); });
  addFloatBinary<math::CopySignOp>(
      registry, [](double a, double b) { return std::copysign(a, b); });
  // A fused multiply-add rounds once: on f32 in float (`fmaf`), as compiled
  // code does.
  registry.add<math::FmaOp>([](Interpreter &interp, math::FmaOp op) {
    bool f32 = getElementTypeOrSelf(op.getType()).isF32();
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          double value = f32 ? std::fma(static_cast<float>(x[0].f),
                                        static_cast<float>(x[1].f),
                                        static_cast<float>(x[2].f))
                             : std::fma(x[0].f, x[1].f, x[2].f);
          return std::optional<Scalar>(floatScalar(value));
        });
  });
  registry.add<math::FPowIOp>([](Interpreter &interp, math::FPowIOp op) {
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          return std::optional<Scalar>(
              floatScalar(std::pow(x[0].f, static_cast<double>(x[1].i))));
        });
  });
  addIntBinary<math::IPowIOp>(
      registry, [](int64_t base, int64_t exponent, unsigned) -> int64_t {
        if (exponent < 0)
          return base == 1 ? 1 : base == -1 ? (exponent % 2 ? -1 : 1) : 0;
        uint64_t result = 1, b = static_cast<uint64_t>(base);
        for (uint64_t e = static_cast<uint64_t>(exponent); e; e >>= 1, b *= b)
          if (e & 1)
            result *= b;
        return static_cast<int64_t>(result);
      });
  registry.add<math::AbsIOp>([](Interpreter &interp, math::AbsIOp op) {
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          uint64_t v = static_cast<uint64_t>(x[0].i);
          return std::optional<Scalar>(
              intScalar(static_cast<int64_t>(x[0].i < 0 ? 0 - v : v)));
        });
  });
  registry.add<math::IsNaNOp>([](Interpreter &interp, math::IsNaNOp op) {
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          return std::optional<Scalar>(intScalar(std::isnan(x[0].f)));
        });
  });
  registry.add<math::IsInfOp>([](Interpreter &interp, math::IsInfOp op) {
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          return std::optional<Scalar>(intScalar(std::isinf(x[0].f)));
        });
  });
  registry.add<math::IsFiniteOp>([](Interpreter &interp, math::IsFiniteOp op) {
    return evaluateElementwise(
        interp, op, [&](ArrayRef<Scalar> x, std::string &) {
          return std::optional<Scalar>(intScalar(std::isfinite(x[0].f)));
        });
  });
}
