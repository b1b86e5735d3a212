//===- Builtins.cpp - The builtin functions of the Leibniz language -------===//
//
// Part of Leibniz.
//
// Every builtin declares its parameter names, so that arguments can be
// given by position or by name (`full(v = 1.0, 3)`), and gets them in
// declaration order. The differentiation and optimization builtins produce
// `ad` operations on lifted functions; optimizer and solver constructors
// produce compile-time configurations.
//
//===----------------------------------------------------------------------===//

#include "MLIRGenImpl.h"

#include "AD/ADOps.h"
#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::frontend;
using llvm::SMLoc;

namespace {

/// The arguments of a builtin call, by parameter.
struct Args {
  SmallVector<std::optional<Val>, 4> slots;
  /// Arguments beyond the declared parameters of a variadic builtin.
  SmallVector<Val, 2> rest;

  bool has(unsigned i) const { return slots[i].has_value(); }
  const Val &operator[](unsigned i) const { return *slots[i]; }
};

using Handler = std::function<FailureOr<Val>(MLIRGenerator &, SMLoc, StringRef,
                                             const Args &)>;

struct BuiltinInfo {
  std::vector<StringRef> params;
  unsigned numRequired;
  /// Takes any number of further (size) arguments.
  bool variadic;
  Handler handler;
};

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

FailureOr<TValue> expectData(MLIRGenerator &gen, SMLoc loc, StringRef builtin,
                             const Val &value, StringRef what) {
  if (value.kind != Val::Data) {
    gen.emitError(loc) << "'" << builtin << "' needs data for " << what
                       << ", not " << gen.describe(value);
    return failure();
  }
  return value.data;
}

/// An array operand whose weak literals stay weak, to be unified with
/// another operand.
FailureOr<TValue> expectArrayOperand(MLIRGenerator &gen, SMLoc loc,
                                     StringRef builtin, const Val &value,
                                     StringRef what) {
  FailureOr<TValue> data = expectData(gen, loc, builtin, value, what);
  if (failed(data))
    return failure();
  if (!data->type.isArray()) {
    gen.emitError(loc) << "'" << builtin << "' needs a scalar or a tensor for "
                       << what << ", not " << gen.describe(data->type);
    return failure();
  }
  return data;
}

/// An array operand (scalar or tensor); weak literals become `weakKind`
/// (float literals stay floats).
FailureOr<TValue> expectArray(MLIRGenerator &gen, SMLoc loc, StringRef builtin,
                              const Val &value, StringRef what,
                              ScalarKind weakKind = ScalarKind::F64) {
  FailureOr<TValue> data = expectArrayOperand(gen, loc, builtin, value, what);
  if (failed(data) || !data->weak)
    return data;
  bool floatLiteral = data->type.scalar == ScalarKind::F64;
  return gen.coerce(loc, *data,
                    floatLiteral && isInteger(weakKind) ? ScalarKind::F64
                                                        : weakKind);
}

/// Unifies two operands and gives the weak literals left their default
/// type.
LogicalResult unifyOperands(MLIRGenerator &gen, SMLoc loc, StringRef builtin,
                            TValue &lhs, TValue &rhs) {
  if (failed(gen.unifyScalars(loc, lhs, rhs, ("'" + builtin + "'").str())))
    return failure();
  if (lhs.weak)
    lhs = *gen.coerce(loc, lhs, lhs.type.scalar);
  if (rhs.weak)
    rhs = *gen.coerce(loc, rhs, rhs.type.scalar);
  return success();
}

FailureOr<TValue> expectFloat(MLIRGenerator &gen, SMLoc loc, StringRef builtin,
                              const Val &value, StringRef what) {
  FailureOr<TValue> data = expectArray(gen, loc, builtin, value, what);
  if (failed(data))
    return failure();
  if (!isFloat(data->type.scalar)) {
    gen.emitError(loc) << "'" << builtin << "' needs floats for " << what
                       << ", not " << gen.describe(data->type)
                       << "; convert with f64(...)";
    return failure();
  }
  return data;
}

FailureOr<TValue> expectTensor(MLIRGenerator &gen, SMLoc loc, StringRef builtin,
                               const Val &value, StringRef what,
                               unsigned minRank = 1) {
  FailureOr<TValue> data = expectArray(gen, loc, builtin, value, what);
  if (failed(data))
    return failure();
  if (data->type.getRank() < minRank) {
    gen.emitError(loc) << "'" << builtin << "' needs a tensor of rank at least "
                       << minRank << " for " << what << ", not "
                       << gen.describe(data->type);
    return failure();
  }
  return data;
}

FailureOr<TValue> expectInteger(MLIRGenerator &gen, SMLoc loc,
                                StringRef builtin, const Val &value,
                                StringRef what) {
  FailureOr<TValue> data = expectData(gen, loc, builtin, value, what);
  if (failed(data))
    return failure();
  if (!data->type.isScalar() || !isInteger(data->type.scalar)) {
    gen.emitError(loc) << "'" << builtin << "' needs an integer for " << what
                       << ", not " << gen.describe(data->type);
    return failure();
  }
  if (data->weak)
    return gen.coerce(loc, *data, ScalarKind::I64);
  return data;
}

/// A compile-time integer constant.
FailureOr<int64_t> expectConstantInt(MLIRGenerator &gen, SMLoc loc,
                                     StringRef builtin, const Val &value,
                                     StringRef what) {
  FailureOr<TValue> data = expectInteger(gen, loc, builtin, value, what);
  if (failed(data))
    return failure();
  if (!data->literal) {
    gen.emitError(loc) << "'" << builtin << "' needs a constant integer for "
                       << what;
    return failure();
  }
  return static_cast<int64_t>(*data->literal);
}

FailureOr<std::string> expectString(MLIRGenerator &gen, SMLoc loc,
                                    StringRef builtin, const Val &value,
                                    StringRef what) {
  if (value.kind != Val::String) {
    gen.emitError(loc) << "'" << builtin << "' needs a string for " << what
                       << ", not " << gen.describe(value);
    return failure();
  }
  return value.str;
}

FailureOr<std::shared_ptr<const FnValue>>
expectFunction(MLIRGenerator &gen, SMLoc loc, StringRef builtin,
               const Val &value, StringRef what) {
  if (value.kind != Val::Function) {
    gen.emitError(loc) << "'" << builtin << "' needs a function for " << what
                       << ", not " << gen.describe(value);
    return failure();
  }
  return value.fn;
}

/// The `dtype` argument of a constructor: a float type name.
FailureOr<ScalarKind> getDtype(MLIRGenerator &gen, SMLoc loc, StringRef builtin,
                               const Args &args, unsigned slot,
                               ScalarKind fallback, bool floatOnly) {
  if (!args.has(slot))
    return fallback;
  FailureOr<std::string> name =
      expectString(gen, loc, builtin, args[slot], "'dtype'");
  if (failed(name))
    return failure();
  std::optional<ScalarKind> kind = parseScalarName(*name);
  if (!kind || (floatOnly && !isFloat(*kind))) {
    gen.emitError(loc) << "'" << builtin << "': unknown dtype \"" << *name
                       << "\"; expected "
                       << (floatOnly ? "\"f32\" or \"f64\""
                                     : "\"f32\", \"f64\", \"i32\", \"i64\" or "
                                       "\"bool\"");
    return failure();
  }
  return *kind;
}

/// Sizes from integer arguments.
FailureOr<SmallVector<SizeExpr>> getSizes(MLIRGenerator &gen, SMLoc loc,
                                          StringRef builtin,
                                          ArrayRef<Val> values) {
  SmallVector<SizeExpr> sizes;
  for (auto [i, value] : llvm::enumerate(values)) {
    FailureOr<TValue> size = expectInteger(gen, loc, builtin, value, "a size");
    if (failed(size))
      return failure();
    if (size->literal && *size->literal < 0) {
      gen.emitError(loc) << "'" << builtin << "': size "
                         << static_cast<int64_t>(*size->literal)
                         << " is negative";
      return failure();
    }
    SizeExpr expr = gen.toSize(*size, "size" + std::to_string(i));
    if (std::optional<int64_t> constant = expr.getConstantValue();
        constant && *constant < 0) {
      gen.emitError(loc) << "'" << builtin << "': size " << *constant
                         << " is negative";
      return failure();
    }
    sizes.push_back(expr);
  }
  return sizes;
}

/// The dynamic sizes among `dims`, as `index` values.
SmallVector<Value> getDynamicSizes(MLIRGenerator &gen,
                                   ArrayRef<SizeExpr> dims) {
  SmallVector<Value> sizes;
  for (const SizeExpr &dim : dims) {
    std::optional<int64_t> value = dim.getConstantValue();
    if (!value || *value < 0)
      sizes.push_back(gen.materializeSize(dim));
  }
  return sizes;
}

Val dataVal(TValue value) { return Val::getData(std::move(value)); }

FailureOr<Val> toVal(FailureOr<TValue> value) {
  if (failed(value))
    return failure();
  return Val::getData(*value);
}

/// Reduces every element of `x` with `kind`.
FailureOr<TValue> reduceAll(MLIRGenerator &gen, Token::Kind kind,
                            const TValue &x) {
  if (x.type.isScalar())
    return x;
  return gen.buildReduction(kind, x.type.dims,
                            [&](ArrayRef<TValue> indices) -> FailureOr<TValue> {
                              return gen.getElement(x, indices);
                            });
}

/// The number of elements of `x` as a float of kind `kind`.
Value elementCount(MLIRGenerator &gen, const TValue &x, ScalarKind kind) {
  SizeExpr count = SizeExpr::getConstant(1);
  for (const SizeExpr &dim : x.type.dims)
    count = count * dim;
  Value index = gen.materializeSize(count);
  return gen.scalarConvert(gen.toI64(index), ScalarKind::I64, kind);
}

//===----------------------------------------------------------------------===//
// Elementwise math
//===----------------------------------------------------------------------===//

template <typename OpTy>
Value createUnary(OpBuilder &builder, Location loc, Value x) {
  return OpTy::create(builder, loc, x);
}

Value buildUnaryMath(MLIRGenerator &gen, StringRef name, ScalarKind kind,
                     Value x) {
  OpBuilder &b = gen.builder;
  Location loc = gen.currentLoc;
  bool fp = isFloat(kind);
  auto zero = [&] { return gen.scalarConstant(kind, 0); };
  auto one = [&] { return gen.scalarConstant(kind, 1); };
  using Builder = Value (*)(OpBuilder &, Location, Value);
  if (Builder simple = llvm::StringSwitch<Builder>(name)
                           .Case("exp", createUnary<math::ExpOp>)
                           .Case("log", createUnary<math::LogOp>)
                           .Case("sqrt", createUnary<math::SqrtOp>)
                           .Case("sin", createUnary<math::SinOp>)
                           .Case("cos", createUnary<math::CosOp>)
                           .Case("tan", createUnary<math::TanOp>)
                           .Case("tanh", createUnary<math::TanhOp>)
                           .Case("erf", createUnary<math::ErfOp>)
                           .Case("floor", createUnary<math::FloorOp>)
                           .Case("ceil", createUnary<math::CeilOp>)
                           .Default(nullptr))
    return simple(b, loc, x);
  if (name == "sigmoid") {
    // 1 / (1 + exp(-x))
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, one(),
                                 arith::AddFOp::create(b, loc, one(), e));
  }
  if (name == "softplus") {
    // max(x, 0) + log1p(exp(-|x|)), which does not overflow.
    Value abs = math::AbsFOp::create(b, loc, x);
    Value tail = math::Log1pOp::create(
        b, loc,
        math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, abs)));
    Value relu = arith::MaximumFOp::create(b, loc, x, zero());
    return arith::AddFOp::create(b, loc, relu, tail);
  }
  if (name == "abs")
    return fp ? math::AbsFOp::create(b, loc, x).getResult()
              : math::AbsIOp::create(b, loc, x).getResult();
  if (name == "relu")
    return fp ? arith::MaximumFOp::create(b, loc, x, zero()).getResult()
              : arith::MaxSIOp::create(b, loc, x, zero()).getResult();
  // sign: 1, -1, or x itself for zeros (keeping -0) and NaN.
  assert(name == "sign" && "unknown unary builtin");
  Value positive = gen.scalarBinary(Token::greater, kind, x, zero());
  Value negative = gen.scalarBinary(Token::less, kind, x, zero());
  Value minusOne = gen.scalarConstant(kind, -1);
  Value inner =
      arith::SelectOp::create(b, loc, negative, minusOne, fp ? x : zero());
  return arith::SelectOp::create(b, loc, positive, one(), inner);
}

FailureOr<Val> unaryMath(MLIRGenerator &gen, SMLoc loc, StringRef name,
                         const Args &args) {
  bool integerToo = name == "abs" || name == "relu" || name == "sign";
  FailureOr<TValue> x =
      integerToo ? expectArray(gen, loc, name, args[0], "its argument",
                               ScalarKind::F64)
                 : expectFloat(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  ScalarKind kind = x->type.scalar;
  if (kind == ScalarKind::Bool) {
    gen.emitError(loc) << "'" << name << "' needs numbers, not bool";
    return failure();
  }
  return toVal(gen.elementwise(
      loc, *x, kind, ("'" + name + "'").str(), [&](ArrayRef<Value> operands) {
        return buildUnaryMath(gen, name, kind, operands[0]);
      }));
}

/// `min(a, b)`, `max(a, b)`, `pow(a, b)` elementwise; `min(x)`, `max(x)`
/// over all elements.
FailureOr<Val> minMaxPow(MLIRGenerator &gen, SMLoc loc, StringRef name,
                         const Args &args) {
  if (!args.has(1)) {
    if (name == "pow") {
      gen.emitError(loc) << "'pow' takes 2 arguments";
      return failure();
    }
    FailureOr<TValue> x = expectArray(gen, loc, name, args[0], "its argument");
    if (failed(x))
      return failure();
    if (x->type.scalar == ScalarKind::Bool) {
      gen.emitError(loc) << "'" << name << "' needs numbers, not bool";
      return failure();
    }
    return toVal(
        reduceAll(gen, name == "max" ? Token::kw_max : Token::kw_min, *x));
  }
  FailureOr<TValue> a =
      expectArrayOperand(gen, loc, name, args[0], "argument 1");
  FailureOr<TValue> b =
      succeeded(a) ? expectArrayOperand(gen, loc, name, args[1], "argument 2")
                   : FailureOr<TValue>(failure());
  if (failed(a) || failed(b))
    return failure();
  TValue lhs = *a, rhs = *b;
  if (failed(unifyOperands(gen, loc, name, lhs, rhs)))
    return failure();
  ScalarKind kind = lhs.type.scalar;
  if (kind == ScalarKind::Bool ||
      (name == "pow" && !isFloat(kind) && !isInteger(kind))) {
    gen.emitError(loc) << "'" << name << "' needs numbers, not bool";
    return failure();
  }
  return toVal(gen.elementwise(
      loc, {lhs, rhs}, kind, ("'" + name + "'").str(),
      [&](ArrayRef<Value> x) -> Value {
        OpBuilder &b = gen.builder;
        Location l = gen.currentLoc;
        bool fp = isFloat(kind);
        if (name == "pow")
          return gen.scalarBinary(Token::caret, kind, x[0], x[1]);
        if (name == "max")
          return fp ? arith::MaximumFOp::create(b, l, x[0], x[1]).getResult()
                    : arith::MaxSIOp::create(b, l, x[0], x[1]).getResult();
        return fp ? arith::MinimumFOp::create(b, l, x[0], x[1]).getResult()
                  : arith::MinSIOp::create(b, l, x[0], x[1]).getResult();
      }));
}

FailureOr<Val> castBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                           const Args &args) {
  ScalarKind to = *parseScalarName(name);
  FailureOr<TValue> x = expectData(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  if (!x->type.isArray()) {
    gen.emitError(loc) << "'" << name << "' converts scalars and tensors, not "
                       << gen.describe(x->type);
    return failure();
  }
  // Literals convert at compile time, where the conversion is defined.
  if (x->literal && !(isInteger(to) && !(std::abs(*x->literal) < 0x1p31))) {
    double value = *x->literal;
    if (isInteger(to))
      value = std::trunc(value);
    return dataVal(gen.makeLiteral(value, to, false));
  }
  ScalarKind from = x->type.scalar;
  return toVal(gen.elementwise(
      loc, *x, to, ("'" + name + "'").str(), [&](ArrayRef<Value> operands) {
        return gen.scalarConvert(operands[0], from, to);
      }));
}

FailureOr<Val> selectBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                             const Args &args) {
  FailureOr<TValue> cond =
      expectArray(gen, loc, name, args[0], "the condition");
  if (failed(cond))
    return failure();
  if (cond->type.scalar != ScalarKind::Bool) {
    gen.emitError(loc) << "the condition of 'select' must be bool, not "
                       << gen.describe(cond->type);
    return failure();
  }
  FailureOr<TValue> a = expectData(gen, loc, name, args[1], "argument 2");
  FailureOr<TValue> b = succeeded(a)
                            ? expectData(gen, loc, name, args[2], "argument 3")
                            : FailureOr<TValue>(failure());
  if (failed(a) || failed(b))
    return failure();
  TValue lhs = *a, rhs = *b;
  if (!lhs.type.isArray() || !rhs.type.isArray()) {
    gen.emitError(loc) << "'select' chooses between scalars or tensors; use "
                          "'if' for tuples";
    return failure();
  }
  if (failed(unifyOperands(gen, loc, name, lhs, rhs)))
    return failure();
  return toVal(gen.elementwise(loc, {*cond, lhs, rhs}, lhs.type.scalar,
                               "'select'", [&](ArrayRef<Value> x) {
                                 return arith::SelectOp::create(
                                            gen.builder, gen.currentLoc, x[0],
                                            x[1], x[2])
                                     .getResult();
                               }));
}

//===----------------------------------------------------------------------===//
// Whole-tensor builtins
//===----------------------------------------------------------------------===//

FailureOr<Val> reductionBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                                const Args &args) {
  FailureOr<TValue> x =
      name == "sum" || name == "prod"
          ? expectArray(gen, loc, name, args[0], "its argument",
                        ScalarKind::I64)
          : expectFloat(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  if (x->type.scalar == ScalarKind::Bool) {
    gen.emitError(loc) << "'" << name << "' needs numbers, not bool";
    return failure();
  }
  ScalarKind kind = x->type.scalar;
  if (name == "sum" || name == "prod")
    return toVal(
        reduceAll(gen, name == "sum" ? Token::kw_sum : Token::kw_prod, *x));
  if (name == "mean") {
    FailureOr<TValue> total = reduceAll(gen, Token::kw_sum, *x);
    if (failed(total))
      return failure();
    Value mean = gen.scalarBinary(Token::slash, kind, gen.materialize(*total),
                                  elementCount(gen, *x, kind));
    return dataVal(gen.makeValue(Ty::getScalar(kind), mean));
  }
  // norm: the L2 norm of all elements.
  FailureOr<TValue> squares = gen.buildReduction(
      Token::kw_sum, x->type.dims,
      [&](ArrayRef<TValue> indices) -> FailureOr<TValue> {
        Value e = gen.materialize(gen.getElement(*x, indices));
        return gen.makeValue(Ty::getScalar(kind),
                             gen.scalarBinary(Token::star, kind, e, e));
      });
  if (failed(squares))
    return failure();
  Value norm = math::SqrtOp::create(gen.builder, gen.currentLoc,
                                    gen.materialize(*squares));
  return dataVal(gen.makeValue(Ty::getScalar(kind), norm));
}

FailureOr<Val> dotBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                          const Args &args) {
  FailureOr<TValue> a = expectTensor(gen, loc, name, args[0], "argument 1");
  FailureOr<TValue> b =
      succeeded(a) ? expectTensor(gen, loc, name, args[1], "argument 2")
                   : FailureOr<TValue>(failure());
  if (failed(a) || failed(b))
    return failure();
  if (a->type.getRank() != 1 || b->type.getRank() != 1) {
    gen.emitError(loc) << "'dot' takes two vectors, not "
                       << gen.describe(a->type) << " and "
                       << gen.describe(b->type) << " (use '@' for matrices)";
    return failure();
  }
  TValue lhs = *a, rhs = *b;
  if (failed(gen.unifyScalars(loc, lhs, rhs, "'dot'")))
    return failure();
  if (lhs.type.dims != rhs.type.dims) {
    gen.emitError(loc) << "shape mismatch in 'dot': " << gen.describe(lhs.type)
                       << " and " << gen.describe(rhs.type);
    return failure();
  }
  ScalarKind kind = lhs.type.scalar;
  return toVal(gen.buildReduction(
      Token::kw_sum, lhs.type.dims,
      [&](ArrayRef<TValue> k) -> FailureOr<TValue> {
        Value x = gen.materialize(gen.getElement(lhs, k));
        Value y = gen.materialize(gen.getElement(rhs, k));
        return gen.makeValue(Ty::getScalar(kind),
                             gen.scalarBinary(Token::star, kind, x, y));
      }));
}

FailureOr<Val> transposeBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                                const Args &args) {
  FailureOr<TValue> x = expectTensor(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  // NumPy's default: reverse the order of all axes.
  SmallVector<SizeExpr> dims(llvm::reverse(x->type.dims));
  return toVal(gen.buildFor(dims, [&](ArrayRef<TValue> indices) {
    SmallVector<TValue, 2> reversed(llvm::reverse(indices));
    return FailureOr<TValue>(gen.getElement(*x, reversed));
  }));
}

FailureOr<Val> reshapeBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                              const Args &args) {
  FailureOr<TValue> x = expectArray(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  FailureOr<SmallVector<SizeExpr>> dims = getSizes(gen, loc, name, args.rest);
  if (failed(dims))
    return failure();
  SizeExpr from = SizeExpr::getConstant(1), to = SizeExpr::getConstant(1);
  for (const SizeExpr &dim : x->type.dims)
    from = from * dim;
  for (const SizeExpr &dim : *dims)
    to = to * dim;
  Ty resultType = Ty::getTensor(x->type.scalar, *dims);
  if (from != to) {
    gen.emitError(loc) << "cannot reshape " << gen.describe(x->type) << " ("
                       << gen.describe(from) << " elements) to "
                       << gen.describe(resultType) << " (" << gen.describe(to)
                       << " elements)";
    return failure();
  }
  if (x->type.isScalar() && dims->empty())
    return dataVal(*x);
  return toVal(gen.buildFor(*dims, [&](ArrayRef<TValue> indices) {
    // The position in C order, then the source indices.
    OpBuilder &b = gen.builder;
    Location l = gen.currentLoc;
    Value linear = gen.getIndexConstant(0);
    for (auto [index, dim] : llvm::zip(indices, *dims)) {
      linear = arith::MulIOp::create(b, l, linear, gen.materializeSize(dim));
      linear = arith::AddIOp::create(b, l, linear,
                                     gen.toIndex(gen.materialize(index)));
    }
    SmallVector<TValue, 2> source(x->type.getRank());
    for (int d = x->type.getRank() - 1; d >= 0; --d) {
      Value size = gen.materializeSize(x->type.dims[d]);
      source[d] =
          gen.makeValue(Ty::getScalar(ScalarKind::I64),
                        gen.toI64(arith::RemUIOp::create(b, l, linear, size)));
      linear = arith::DivUIOp::create(b, l, linear, size);
    }
    return FailureOr<TValue>(gen.getElement(*x, source));
  }));
}

FailureOr<Val> concatBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                             const Args &args) {
  FailureOr<TValue> a = expectTensor(gen, loc, name, args[0], "argument 1");
  FailureOr<TValue> b =
      succeeded(a) ? expectTensor(gen, loc, name, args[1], "argument 2")
                   : FailureOr<TValue>(failure());
  if (failed(a) || failed(b))
    return failure();
  TValue lhs = *a, rhs = *b;
  if (failed(gen.unifyScalars(loc, lhs, rhs, "'concat'")))
    return failure();
  if (lhs.type.getRank() != rhs.type.getRank() ||
      ArrayRef(lhs.type.dims).drop_front() !=
          ArrayRef(rhs.type.dims).drop_front()) {
    gen.emitError(loc) << "'concat' joins tensors along their first "
                          "dimension; the other dimensions differ: "
                       << gen.describe(lhs.type) << " and "
                       << gen.describe(rhs.type);
    return failure();
  }
  SizeExpr n1 = lhs.type.dims[0];
  Ty rowType =
      Ty::getTensor(lhs.type.scalar, ArrayRef(lhs.type.dims).drop_front());
  Type rowIR = rowType.getMLIRType(&gen.context);
  return toVal(gen.buildFor({n1 + rhs.type.dims[0]}, [&](ArrayRef<TValue> i) {
    OpBuilder &b = gen.builder;
    Location l = gen.currentLoc;
    Value index = gen.toIndex(gen.materialize(i[0]));
    Value first = gen.materializeSize(n1);
    Value inFirst =
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, index, first);
    auto ifOp = scf::IfOp::create(b, l, TypeRange{rowIR}, inFirst, true, true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      scf::YieldOp::create(b, l, gen.materialize(gen.getElement(lhs, i[0])));
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      Value shifted = arith::SubIOp::create(b, l, index, first);
      TValue j =
          gen.makeValue(Ty::getScalar(ScalarKind::I64), gen.toI64(shifted));
      scf::YieldOp::create(b, l, gen.materialize(gen.getElement(rhs, j)));
    }
    return FailureOr<TValue>(gen.makeValue(rowType, ifOp.getResult(0)));
  }));
}

FailureOr<Val> sliceBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                            const Args &args) {
  FailureOr<TValue> x = expectTensor(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  FailureOr<TValue> lo = expectInteger(gen, loc, name, args[1], "'lo'");
  FailureOr<TValue> hi = succeeded(lo)
                             ? expectInteger(gen, loc, name, args[2], "'hi'")
                             : FailureOr<TValue>(failure());
  if (failed(lo) || failed(hi))
    return failure();
  std::optional<int64_t> n = x->type.dims[0].getConstantValue();
  if (lo->literal && hi->literal) {
    auto l = static_cast<int64_t>(*lo->literal),
         h = static_cast<int64_t>(*hi->literal);
    if (l < 0 || l > h || (n && h > *n)) {
      gen.emitError(loc) << "slice [" << l << ", " << h
                         << ") is out of bounds for " << gen.describe(x->type);
      return failure();
    }
  }
  SizeExpr loSize = gen.toSize(*lo, "lo");
  SizeExpr hiSize = gen.toSize(*hi, "hi");
  TValue start = *lo;
  return toVal(gen.buildFor({hiSize - loSize}, [&](ArrayRef<TValue> i) {
    Value index =
        arith::AddIOp::create(gen.builder, gen.currentLoc,
                              gen.materialize(i[0]), gen.materialize(start));
    TValue j = gen.makeValue(Ty::getScalar(ScalarKind::I64), index);
    return FailureOr<TValue>(gen.getElement(*x, j));
  }));
}

/// Softmax of a vector.
FailureOr<TValue> softmaxVector(MLIRGenerator &gen, const TValue &x) {
  ScalarKind kind = x.type.scalar;
  FailureOr<TValue> max = reduceAll(gen, Token::kw_max, x);
  if (failed(max))
    return failure();
  // The shift cancels: no derivative flows through the maximum.
  Value m = ad::StopGradientOp::create(gen.builder, gen.currentLoc,
                                       gen.materialize(*max));
  FailureOr<TValue> e = gen.buildFor(x.type.dims, [&](ArrayRef<TValue> i) {
    Value xi = gen.materialize(gen.getElement(x, i));
    Value shifted = gen.scalarBinary(Token::minus, kind, xi, m);
    return FailureOr<TValue>(gen.makeValue(
        Ty::getScalar(kind),
        math::ExpOp::create(gen.builder, gen.currentLoc, shifted)));
  });
  if (failed(e))
    return failure();
  FailureOr<TValue> total = reduceAll(gen, Token::kw_sum, *e);
  if (failed(total))
    return failure();
  Value s = gen.materialize(*total);
  return gen.buildFor(x.type.dims, [&](ArrayRef<TValue> i) {
    Value ei = gen.materialize(gen.getElement(*e, i));
    return FailureOr<TValue>(gen.makeValue(
        Ty::getScalar(kind), gen.scalarBinary(Token::slash, kind, ei, s)));
  });
}

FailureOr<Val> softmaxBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                              const Args &args) {
  FailureOr<TValue> x = expectFloat(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  if (x->type.getRank() == 0) {
    gen.emitError(loc) << "'softmax' needs a tensor, not "
                       << gen.describe(x->type);
    return failure();
  }
  if (x->type.getRank() == 1)
    return toVal(softmaxVector(gen, *x));
  // Along the last axis, as jax.nn.softmax.
  ArrayRef<SizeExpr> leading = ArrayRef(x->type.dims).drop_back();
  return toVal(gen.buildFor(leading, [&](ArrayRef<TValue> indices) {
    return softmaxVector(gen, gen.getElement(*x, indices));
  }));
}

FailureOr<Val> logsumexpBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                                const Args &args) {
  FailureOr<TValue> x = expectFloat(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  if (x->type.isScalar())
    return dataVal(*x);
  ScalarKind kind = x->type.scalar;
  OpBuilder &b = gen.builder;
  Location l = gen.currentLoc;
  FailureOr<TValue> max = reduceAll(gen, Token::kw_max, *x);
  if (failed(max))
    return failure();
  // Shift by the maximum unless it is infinite (all -inf, or some +inf).
  // The shift cancels: no derivative flows through it (as in JAX), which
  // spares the gradient a pass over the arguments to find the maximum's.
  Value m = gen.materialize(*max);
  Value inf = gen.scalarConstant(kind, std::numeric_limits<double>::infinity());
  Value finite = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT,
                                       math::AbsFOp::create(b, l, m), inf);
  Value shift = ad::StopGradientOp::create(
      b, l,
      arith::SelectOp::create(b, l, finite, m, gen.scalarConstant(kind, 0))
          .getResult());
  FailureOr<TValue> total =
      gen.buildReduction(Token::kw_sum, x->type.dims, [&](ArrayRef<TValue> i) {
        Value xi = gen.materialize(gen.getElement(*x, i));
        Value e = math::ExpOp::create(
            gen.builder, l, gen.scalarBinary(Token::minus, kind, xi, shift));
        return FailureOr<TValue>(gen.makeValue(Ty::getScalar(kind), e));
      });
  if (failed(total))
    return failure();
  Value log = math::LogOp::create(b, l, gen.materialize(*total));
  return dataVal(gen.makeValue(Ty::getScalar(kind),
                               arith::AddFOp::create(b, l, shift, log)));
}

FailureOr<Val> sizeBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                           const Args &args) {
  FailureOr<TValue> x = expectTensor(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  FailureOr<int64_t> dim =
      expectConstantInt(gen, loc, name, args[1], "the dimension");
  if (failed(dim))
    return failure();
  if (*dim < 0 || *dim >= x->type.getRank()) {
    gen.emitError(loc) << "dimension " << *dim << " is out of range for "
                       << gen.describe(x->type);
    return failure();
  }
  TValue result;
  result.type = Ty::getScalar(ScalarKind::I64);
  result.owner = gen.current;
  result.size = x->type.dims[*dim];
  if (std::optional<int64_t> constant = result.size->getConstantValue())
    result.literal = static_cast<double>(*constant);
  return dataVal(result);
}

//===----------------------------------------------------------------------===//
// Constructors
//===----------------------------------------------------------------------===//

TValue fill(MLIRGenerator &gen, ScalarKind kind, ArrayRef<SizeExpr> dims,
            Value value) {
  Ty type = Ty::getTensor(kind, dims);
  if (type.isScalar())
    return gen.makeValue(type, value);
  Value result = lz::FillOp::create(gen.builder, gen.currentLoc,
                                    type.getMLIRType(&gen.context), value,
                                    getDynamicSizes(gen, dims));
  return gen.makeValue(type, result);
}

FailureOr<Val> zerosOnes(MLIRGenerator &gen, SMLoc loc, StringRef name,
                         const Args &args) {
  FailureOr<ScalarKind> kind =
      getDtype(gen, loc, name, args, 0, ScalarKind::F64, false);
  FailureOr<SmallVector<SizeExpr>> dims =
      succeeded(kind) ? getSizes(gen, loc, name, args.rest)
                      : FailureOr<SmallVector<SizeExpr>>(failure());
  if (failed(dims))
    return failure();
  return dataVal(fill(gen, *kind, *dims,
                      gen.scalarConstant(*kind, name == "ones" ? 1 : 0)));
}

FailureOr<Val> fullBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                           const Args &args) {
  FailureOr<TValue> value = expectData(gen, loc, name, args[0], "the value");
  if (failed(value))
    return failure();
  if (!value->type.isScalar()) {
    gen.emitError(loc) << "'full' needs a scalar value, not "
                       << gen.describe(value->type);
    return failure();
  }
  FailureOr<ScalarKind> kind =
      getDtype(gen, loc, name, args, 1,
               value->weak ? ScalarKind::F64 : value->type.scalar, false);
  if (failed(kind))
    return failure();
  FailureOr<TValue> coerced =
      gen.coerceTo(loc, *value, Ty::getScalar(*kind), "the value of 'full'");
  FailureOr<SmallVector<SizeExpr>> dims =
      succeeded(coerced) ? getSizes(gen, loc, name, args.rest)
                         : FailureOr<SmallVector<SizeExpr>>(failure());
  if (failed(dims))
    return failure();
  return dataVal(fill(gen, *kind, *dims, gen.materialize(*coerced)));
}

FailureOr<Val> iotaBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                           const Args &args) {
  FailureOr<SmallVector<SizeExpr>> dims = getSizes(gen, loc, name, {args[0]});
  FailureOr<ScalarKind> kind =
      succeeded(dims)
          ? getDtype(gen, loc, name, args, 1, ScalarKind::F64, false)
          : FailureOr<ScalarKind>(failure());
  if (failed(kind))
    return failure();
  if (*kind == ScalarKind::Bool) {
    gen.emitError(loc) << "'iota' makes numbers, not bool";
    return failure();
  }
  Ty type = Ty::getTensor(*kind, *dims);
  SmallVector<Value> sizes = getDynamicSizes(gen, *dims);
  Value result = lz::IotaOp::create(gen.builder, gen.getLoc(loc),
                                    type.getMLIRType(&gen.context),
                                    sizes.empty() ? Value() : sizes.front());
  return dataVal(gen.makeValue(type, result));
}

FailureOr<Val> eyeBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                          const Args &args) {
  FailureOr<SmallVector<SizeExpr>> dims = getSizes(gen, loc, name, {args[0]});
  FailureOr<ScalarKind> kind =
      succeeded(dims)
          ? getDtype(gen, loc, name, args, 1, ScalarKind::F64, false)
          : FailureOr<ScalarKind>(failure());
  if (failed(kind))
    return failure();
  SizeExpr n = (*dims)[0];
  return toVal(gen.buildFor({n, n}, [&](ArrayRef<TValue> ij) {
    Value same =
        gen.scalarBinary(Token::equal_equal, ScalarKind::I64,
                         gen.materialize(ij[0]), gen.materialize(ij[1]));
    Value value = gen.scalarConvert(same, ScalarKind::Bool, *kind);
    return FailureOr<TValue>(gen.makeValue(Ty::getScalar(*kind), value));
  }));
}

FailureOr<Val> randomBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                             const Args &args) {
  FailureOr<TValue> seed = expectInteger(gen, loc, name, args[0], "the seed");
  if (failed(seed))
    return failure();
  FailureOr<ScalarKind> kind =
      getDtype(gen, loc, name, args, 1, ScalarKind::F64, true);
  FailureOr<SmallVector<SizeExpr>> dims =
      succeeded(kind) ? getSizes(gen, loc, name, args.rest)
                      : FailureOr<SmallVector<SizeExpr>>(failure());
  if (failed(dims))
    return failure();
  Ty type = Ty::getTensor(*kind, *dims);
  Value seedValue = gen.scalarConvert(gen.materialize(*seed), seed->type.scalar,
                                      ScalarKind::I64);
  if (type.isScalar()) {
    // A scalar is the first element of a one-element tensor.
    Ty one = Ty::getTensor(*kind, {SizeExpr::getConstant(1)});
    Value tensor = lz::RandomOp::create(
        gen.builder, gen.getLoc(loc), one.getMLIRType(&gen.context),
        name == "randn" ? "normal" : "uniform", seedValue, ValueRange());
    TValue zero = gen.makeLiteral(0, ScalarKind::I64, false);
    return dataVal(gen.getElement(gen.makeValue(one, tensor), zero));
  }
  Value result = lz::RandomOp::create(gen.builder, gen.getLoc(loc),
                                      type.getMLIRType(&gen.context),
                                      name == "randn" ? "normal" : "uniform",
                                      seedValue, getDynamicSizes(gen, *dims));
  return dataVal(gen.makeValue(type, result));
}

FailureOr<Val> printBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                            const Args &args) {
  FailureOr<TValue> x = expectData(gen, loc, name, args[0], "its argument");
  if (failed(x))
    return failure();
  TValue value = *x;
  if (value.weak)
    value = *gen.coerce(loc, value, value.type.scalar);
  Value input = gen.materialize(value);
  Operation *op =
      name == "print"
          ? lz::PrintOp::create(gen.builder, gen.getLoc(loc), input)
                .getOperation()
          : ad::StopGradientOp::create(gen.builder, gen.getLoc(loc), input)
                .getOperation();
  return dataVal(gen.makeValue(value.type, op->getResult(0)));
}

//===----------------------------------------------------------------------===//
// Higher-order builtins
//===----------------------------------------------------------------------===//

FailureOr<TValue> applyData(MLIRGenerator &gen, SMLoc loc, const FnValue &fn,
                            ArrayRef<Val> args) {
  FailureOr<Val> result = gen.apply(loc, fn, args, {});
  if (failed(result))
    return failure();
  if (result->kind != Val::Data) {
    gen.emitError(loc) << "the function must return data, not "
                       << gen.describe(*result);
    return failure();
  }
  return result->data;
}

FailureOr<Val> mapBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                          const Args &args) {
  auto fn = expectFunction(gen, loc, name, args[0], "argument 1");
  if (failed(fn))
    return failure();
  bool zip = name == "zip_with";
  FailureOr<TValue> xs = expectTensor(gen, loc, name, args[1], "argument 2");
  if (failed(xs))
    return failure();
  FailureOr<TValue> ys =
      zip ? expectTensor(gen, loc, name, args[2], "argument 3") : xs;
  if (failed(ys))
    return failure();
  if (zip && xs->type.dims[0] != ys->type.dims[0]) {
    gen.emitError(loc) << "'zip_with' needs equal first dimensions, not "
                       << gen.describe(xs->type) << " and "
                       << gen.describe(ys->type);
    return failure();
  }
  return toVal(gen.buildFor({xs->type.dims[0]}, [&](ArrayRef<TValue> i) {
    SmallVector<Val, 2> elements = {dataVal(gen.getElement(*xs, i))};
    if (zip)
      elements.push_back(dataVal(gen.getElement(*ys, i)));
    return applyData(gen, loc, **fn, elements);
  }));
}

FailureOr<Val> reduceBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                             const Args &args) {
  auto fn = expectFunction(gen, loc, name, args[0], "argument 1");
  if (failed(fn))
    return failure();
  FailureOr<TValue> init = expectArray(gen, loc, name, args[1],
                                       "the initial "
                                       "value");
  FailureOr<TValue> xs =
      succeeded(init) ? expectTensor(gen, loc, name, args[2], "argument 3")
                      : FailureOr<TValue>(failure());
  if (failed(xs))
    return failure();
  OpBuilder &b = gen.builder;
  Location l = gen.getLoc(loc);
  Type stateType = init->type.getMLIRType(&gen.context);
  Value count = gen.materializeSize(xs->type.dims[0]);
  Value initValue = gen.materialize(*init);
  // The body of a counted lz.loop: step, accumulator.
  auto *body = new Block();
  Value step = body->addArgument(b.getIndexType(), l);
  Value acc = body->addArgument(stateType, l);
  OpBuilder::InsertPoint saved = b.saveInsertionPoint();
  b.setInsertionPointToStart(body);
  ++gen.depth;
  TValue element = gen.getElement(
      *xs, gen.makeValue(Ty::getScalar(ScalarKind::I64), gen.toI64(step)));
  FailureOr<TValue> next =
      applyData(gen, loc, **fn,
                {dataVal(gen.makeValue(init->type, acc)), dataVal(element)});
  if (succeeded(next))
    next = gen.coerceTo(loc, *next, init->type,
                        "the result of the reducing function");
  if (succeeded(next))
    lz::YieldOp::create(b, l, gen.castValue(gen.materialize(*next), stateType));
  --gen.depth;
  b.restoreInsertionPoint(saved);
  if (failed(next)) {
    body->dropAllDefinedValueUses();
    delete body;
    return failure();
  }
  auto loop = lz::LoopOp::create(b, l, TypeRange{stateType}, count,
                                 ValueRange{initValue});
  loop.getBody().push_back(body);
  return dataVal(gen.makeValue(init->type, loop.getResult(0)));
}

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

/// The `wrt` argument of `grad`: an argument number or a tuple of them.
LogicalResult parseWrt(MLIRGenerator &gen, SMLoc loc, StringRef name,
                       const Args &args, unsigned slot, FnValue &fn) {
  fn.wrt = {0};
  if (!args.has(slot))
    return success();
  const Val &value = args[slot];
  auto fail = [&] {
    gen.emitError(loc) << "'wrt' of '" << name
                       << "' must be an argument number or a tuple of "
                          "argument numbers, like 1 or (0, 2)";
    return failure();
  };
  if (value.kind != Val::Data)
    return fail();
  const TValue &data = value.data;
  auto isIndex = [](const TValue &v) {
    return v.literal && v.type.isScalar() && isInteger(v.type.scalar) &&
           *v.literal >= 0;
  };
  if (data.type.isTuple()) {
    if (data.elements.empty() || !llvm::all_of(data.elements, isIndex))
      return fail();
    fn.wrt.clear();
    for (const TValue &element : data.elements)
      fn.wrt.push_back(static_cast<int64_t>(*element.literal));
    fn.wrtTuple = true;
    return success();
  }
  if (!isIndex(data))
    return fail();
  fn.wrt = {static_cast<int64_t>(*data.literal)};
  return success();
}

FailureOr<Val> transformBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                                const Args &args) {
  auto inner = expectFunction(gen, loc, name, args[0], "the function");
  if (failed(inner))
    return failure();
  auto fn = std::make_shared<FnValue>();
  fn->kind = FnValue::Transform;
  fn->name = name.str();
  fn->inner = *inner;
  if (name == "grad" || name == "value_and_grad") {
    if (failed(parseWrt(gen, loc, name, args, 1, *fn)))
      return failure();
    fn->mode = "rev";
    if (args.has(2)) {
      FailureOr<std::string> mode =
          expectString(gen, loc, name, args[2], "'mode'");
      if (failed(mode))
        return failure();
      if (*mode != "rev" && *mode != "fwd") {
        gen.emitError(loc) << "'mode' of '" << name
                           << "' must be \"rev\" or \"fwd\", not \"" << *mode
                           << "\"";
        return failure();
      }
      fn->mode = *mode;
    }
  } else if (name == "jacfwd" || name == "jacrev") {
    fn->mode = name == "jacfwd" ? "fwd" : "rev";
  }
  return Val::getFunction(std::move(fn));
}

/// The arguments of the function that `name` transforms, which must be
/// data. A number literal becomes an f64, unless `adapting`: then it stays
/// a literal that takes the type of its parameter (a definition's, which
/// the call checks; a lambda's parameters take the arguments' types).
FailureOr<SmallVector<TValue, 2>> dataArgs(MLIRGenerator &gen, SMLoc loc,
                                           StringRef name, ArrayRef<Val> args,
                                           bool adapting = false) {
  SmallVector<TValue, 2> values;
  for (auto [i, arg] : llvm::enumerate(args)) {
    if (arg.kind != Val::Data) {
      gen.emitError(loc) << "argument " << i + 1 << " of the function that '"
                         << name << "' transforms must be data, not "
                         << gen.describe(arg);
      return failure();
    }
    TValue value = arg.data;
    if (value.weak && !adapting)
      value = *gen.coerce(loc, value, ScalarKind::F64);
    values.push_back(value);
  }
  return values;
}

bool isDifferentiable(const Ty &type) {
  if (type.isTuple())
    return llvm::all_of(type.elements, isDifferentiable);
  return isFloat(type.scalar);
}

/// Lifts `fn` for `args`, checks the arguments against it and returns the
/// signature, the result type and the operands (arguments cast to the
/// parameter types).
struct Lifted {
  const Signature *signature;
  Ty result;
  SmallVector<Value> operands;
  SmallVector<Value> captures;
};

FailureOr<Lifted> lift(MLIRGenerator &gen, SMLoc loc, const FnValue &fn,
                       SmallVectorImpl<TValue> &args) {
  FailureOr<const Signature *> signature = gen.liftFunction(loc, fn, args);
  if (failed(signature))
    return failure();
  Lifted lifted;
  lifted.signature = *signature;
  FailureOr<Ty> result = gen.unifyCall(loc, **signature, args);
  if (failed(result))
    return failure();
  lifted.result = *result;
  for (auto [arg, param] : llvm::zip(args, (*signature)->params))
    lifted.operands.push_back(
        gen.castValue(gen.materialize(arg), param.getMLIRType(&gen.context)));
  if (FunctionState *state = (*signature)->state)
    for (Value captured : state->captured)
      lifted.captures.push_back(gen.use(captured, state->parent));
  return lifted;
}

FailureOr<Val> transformError(MLIRGenerator &gen, SMLoc loc,
                              const Twine &message) {
  gen.emitError(loc) << message;
  return failure();
}

/// The type indexed by the dimensions of `outer` then those of `inner`.
Ty jacobianType(const Ty &outer, const Ty &inner) {
  SmallVector<SizeExpr> dims(outer.dims);
  dims.append(inner.dims.begin(), inner.dims.end());
  return Ty::getTensor(outer.scalar, dims);
}

} // namespace

FailureOr<Val> MLIRGenerator::applyTransform(SMLoc loc, const FnValue &fn,
                                             ArrayRef<Val> args) {
  FailureOr<SmallVector<TValue, 2>> values = dataArgs(
      *this, loc, fn.name, args, /*adapting=*/fn.inner->kind == FnValue::Def);
  if (failed(values))
    return failure();
  FailureOr<Lifted> lifted = lift(*this, loc, *fn.inner, *values);
  if (failed(lifted))
    return failure();
  const Ty &result = lifted->result;
  Location irLoc = getLoc(loc);
  auto callee = FlatSymbolRefAttr::get(lifted->signature->func);
  if (values->empty())
    return transformError(*this, loc,
                          "'" + fn.name +
                              "' needs a function of at least one argument");

  if (fn.name == "grad" || fn.name == "value_and_grad") {
    if (!result.isScalar() || !isFloat(result.scalar))
      return transformError(*this, loc,
                            "'" + fn.name +
                                "' needs a function that returns a float "
                                "scalar, not " +
                                describe(result));
    SmallVector<Type> gradTypes;
    for (int64_t index : fn.wrt) {
      if (index >= static_cast<int64_t>(values->size()))
        return transformError(*this, loc,
                              "'" + fn.name + "' differentiates argument " +
                                  Twine(index) + " but the function gets " +
                                  Twine(values->size()) + " argument" +
                                  (values->size() == 1 ? "" : "s"));
      if (llvm::count(fn.wrt, index) > 1)
        return transformError(
            *this, loc, "'wrt' lists argument " + Twine(index) + " twice");
      if (!isDifferentiable((*values)[index].type))
        return transformError(
            *this, loc,
            "cannot differentiate with respect to argument " + Twine(index) +
                " of type " + describe((*values)[index].type) +
                "; only floats, float tensors and tuples of those are "
                "differentiable");
      gradTypes.push_back(lifted->operands[index].getType());
    }
    Operation *op;
    ValueRange grads;
    Value value;
    if (fn.name == "grad") {
      auto grad = ad::GradOp::create(
          builder, irLoc, gradTypes, callee, lifted->operands, lifted->captures,
          builder.getDenseI64ArrayAttr(fn.wrt), builder.getStringAttr(fn.mode));
      op = grad;
      grads = grad.getGradients();
    } else {
      auto vg = ad::ValueAndGradOp::create(
          builder, irLoc, result.getMLIRType(&context), gradTypes, callee,
          lifted->operands, lifted->captures,
          builder.getDenseI64ArrayAttr(fn.wrt), builder.getStringAttr(fn.mode));
      op = vg;
      grads = vg.getGradients();
      value = vg.getValue();
    }
    (void)op;
    SmallVector<TValue, 2> gradValues;
    for (auto [index, grad] : llvm::zip(fn.wrt, grads)) {
      const Ty &type = (*values)[index].type;
      gradValues.push_back(
          makeValue(type, castValue(grad, type.getMLIRType(&context))));
    }
    TValue gradient = fn.wrtTuple ? makeTuple(gradValues) : gradValues.front();
    if (fn.name == "grad")
      return Val::getData(gradient);
    return Val::getData(makeTuple({makeLocalValue(result, value), gradient}));
  }

  const Ty &input = (*values)[0].type;
  if (fn.name == "jacfwd" || fn.name == "jacrev" || fn.name == "hessian") {
    if (!input.isArray() || !isFloat(input.scalar))
      return transformError(*this, loc,
                            "'" + fn.name +
                                "' needs a float scalar or tensor as the "
                                "first argument, not " +
                                describe(input));
    Ty type;
    if (fn.name == "hessian") {
      if (!result.isScalar() || !isFloat(result.scalar))
        return transformError(*this, loc,
                              "'hessian' needs a function that returns a "
                              "float scalar, not " +
                                  describe(result));
      type = jacobianType(input, input);
    } else {
      if (!result.isArray() || !isFloat(result.scalar))
        return transformError(*this, loc,
                              "'" + fn.name +
                                  "' needs a function that returns a float "
                                  "scalar or tensor, not " +
                                  describe(result));
      type = jacobianType(result, input);
    }
    Type irType = type.getMLIRType(&context);
    Value op = fn.name == "hessian"
                   ? ad::HessianOp::create(builder, irLoc, irType, callee,
                                           lifted->operands, lifted->captures)
                         .getResult()
                   : ad::JacobianOp::create(builder, irLoc, irType, callee,
                                            lifted->operands, lifted->captures,
                                            builder.getStringAttr(fn.mode))
                         .getResult();
    return Val::getData(makeLocalValue(type, op));
  }
  llvm_unreachable("unknown transformation");
}

namespace {

/// `jvp(f, primals, tangents)`, `vjp(f, primals, cotangent)` and
/// `hvp(f, x, v)`.
FailureOr<Val> directTransform(MLIRGenerator &gen, SMLoc loc, StringRef name,
                               const Args &args) {
  auto fn = expectFunction(gen, loc, name, args[0], "the function");
  if (failed(fn))
    return failure();
  // Primals (and tangents) are tuples of the arguments; a non-tuple is a
  // single argument.
  auto spread = [&](const Val &value,
                    StringRef what) -> FailureOr<SmallVector<Val, 2>> {
    FailureOr<TValue> data = expectData(gen, loc, name, value, what);
    if (failed(data))
      return failure();
    SmallVector<Val, 2> elements;
    if (data->type.isTuple() && name != "hvp")
      for (unsigned i = 0; i < data->type.elements.size(); ++i)
        elements.push_back(Val::getData(gen.project(*data, i)));
    else
      elements.push_back(Val::getData(*data));
    return elements;
  };
  FailureOr<SmallVector<Val, 2>> primals = spread(args[1], "the primals");
  if (failed(primals))
    return failure();
  FailureOr<SmallVector<TValue, 2>> values = dataArgs(gen, loc, name, *primals);
  if (failed(values))
    return failure();
  if (values->empty()) {
    gen.emitError(loc) << "'" << name << "' needs at least one primal";
    return failure();
  }
  for (const TValue &value : *values)
    if (!isDifferentiable(value.type)) {
      gen.emitError(loc) << "'" << name
                         << "' cannot differentiate with respect to "
                         << gen.describe(value.type)
                         << "; only floats, float tensors and tuples of "
                            "those are differentiable";
      return failure();
    }
  FailureOr<Lifted> lifted = lift(gen, loc, **fn, *values);
  if (failed(lifted))
    return failure();
  const Ty &result = lifted->result;
  Location irLoc = gen.getLoc(loc);
  auto callee = FlatSymbolRefAttr::get(lifted->signature->func);
  Type resultIR = result.getMLIRType(&gen.context);

  if (name == "jvp") {
    FailureOr<SmallVector<Val, 2>> tangents = spread(args[2], "the tangents");
    if (failed(tangents))
      return failure();
    if (tangents->size() != values->size()) {
      gen.emitError(loc) << "'jvp' has " << values->size() << " primals but "
                         << tangents->size() << " tangents";
      return failure();
    }
    if (!isDifferentiable(result)) {
      gen.emitError(loc) << "'jvp' needs a function with a float result, not "
                         << gen.describe(result);
      return failure();
    }
    SmallVector<Value> tangentValues;
    for (auto [i, tangent] : llvm::enumerate(*tangents)) {
      FailureOr<TValue> coerced =
          tangent.kind == Val::Data
              ? gen.coerceTo(loc, tangent.data, (*values)[i].type,
                             "tangent " + std::to_string(i + 1))
              : FailureOr<TValue>(failure());
      if (failed(coerced)) {
        if (tangent.kind != Val::Data)
          gen.emitError(loc) << "a tangent must be data";
        return failure();
      }
      tangentValues.push_back(gen.castValue(gen.materialize(*coerced),
                                            lifted->operands[i].getType()));
    }
    auto op =
        ad::JvpOp::create(gen.builder, irLoc, resultIR, resultIR, callee,
                          lifted->operands, tangentValues, lifted->captures);
    return Val::getData(
        gen.makeTuple({gen.makeLocalValue(result, op.getValue()),
                       gen.makeLocalValue(result, op.getTangent())}));
  }

  if (name == "vjp") {
    if (!isDifferentiable(result)) {
      gen.emitError(loc) << "'vjp' needs a function with a float result, not "
                         << gen.describe(result);
      return failure();
    }
    FailureOr<TValue> ct = expectData(gen, loc, name, args[2], "the cotangent");
    if (failed(ct))
      return failure();
    FailureOr<TValue> coerced = gen.coerceTo(loc, *ct, result, "the cotangent");
    if (failed(coerced))
      return failure();
    SmallVector<Type> types;
    for (Value operand : lifted->operands)
      types.push_back(operand.getType());
    auto op = ad::VjpOp::create(
        gen.builder, irLoc, resultIR, types, callee, lifted->operands,
        gen.castValue(gen.materialize(*coerced), resultIR), lifted->captures);
    SmallVector<TValue, 2> cotangents;
    for (auto [value, cotangent] : llvm::zip(*values, op.getCotangents()))
      cotangents.push_back(gen.makeValue(
          value.type,
          gen.castValue(cotangent, value.type.getMLIRType(&gen.context))));
    return Val::getData(
        gen.makeTuple({gen.makeLocalValue(result, op.getValue()),
                       gen.makeTuple(cotangents)}));
  }

  // hvp
  if (!result.isScalar() || !isFloat(result.scalar)) {
    gen.emitError(loc) << "'hvp' needs a function that returns a float "
                          "scalar, not "
                       << gen.describe(result);
    return failure();
  }
  FailureOr<TValue> v = expectData(gen, loc, name, args[2], "the vector");
  if (failed(v))
    return failure();
  FailureOr<TValue> coerced =
      gen.coerceTo(loc, *v, (*values)[0].type, "the vector of 'hvp'");
  if (failed(coerced))
    return failure();
  Type inputIR = lifted->operands[0].getType();
  auto op = ad::HvpOp::create(
      gen.builder, irLoc, inputIR, callee, lifted->operands,
      gen.castValue(gen.materialize(*coerced), inputIR), lifted->captures);
  const Ty &type = (*values)[0].type;
  return Val::getData(gen.makeValue(
      type, gen.castValue(op.getResult(), type.getMLIRType(&gen.context))));
}

//===----------------------------------------------------------------------===//
// Optimizers and solvers
//===----------------------------------------------------------------------===//

enum class ConfigKind { Optimizer, RootSolver, FixedPointSolver, LinearSolver };

struct ConfigInfo {
  ConfigKind kind;
  std::vector<StringRef> params;
};

const llvm::StringMap<ConfigInfo> &getConfigs() {
  static const llvm::StringMap<ConfigInfo> configs = {
      {"sgd", {ConfigKind::Optimizer, {"lr"}}},
      {"momentum", {ConfigKind::Optimizer, {"lr", "beta", "nesterov"}}},
      {"adam", {ConfigKind::Optimizer, {"lr", "b1", "b2", "eps", "eps_root"}}},
      {"adamw",
       {ConfigKind::Optimizer, {"lr", "b1", "b2", "eps", "wd", "eps_root"}}},
      {"lion", {ConfigKind::Optimizer, {"lr", "b1", "b2", "wd"}}},
      {"adafactor",
       {ConfigKind::Optimizer,
        {"lr", "decay_rate", "decay_offset", "clip", "eps1", "eps2", "momentum",
         "wd", "min_dim"}}},
      {"ademamix",
       {ConfigKind::Optimizer,
        {"lr", "b1", "b2", "b3", "alpha", "eps", "wd", "t_alpha", "t_b3",
         "eps_root"}}},
      {"sf_sgd", {ConfigKind::Optimizer, {"lr", "beta", "warmup", "wd"}}},
      {"sf_adamw",
       {ConfigKind::Optimizer,
        {"lr", "b1", "b2", "eps", "warmup", "wd", "eps_root"}}},
      {"dog", {ConfigKind::Optimizer, {"lr", "reps_rel", "eps", "wd"}}},
      {"cautious", {ConfigKind::Optimizer, {"opt"}}},
      {"lbfgs",
       {ConfigKind::Optimizer,
        {"history", "line_search", "lr", "max_ls", "c1"}}},
      {"newton", {ConfigKind::RootSolver, {"iters", "tol"}}},
      {"broyden", {ConfigKind::RootSolver, {"iters", "tol"}}},
      {"iterate", {ConfigKind::FixedPointSolver, {}}},
      {"anderson",
       {ConfigKind::FixedPointSolver, {"m", "beta", "ridge", "tol"}}},
      {"cg", {ConfigKind::LinearSolver, {"iters", "tol"}}},
      {"gmres", {ConfigKind::LinearSolver, {"iters", "restart", "tol"}}},
      {"bicgstab", {ConfigKind::LinearSolver, {"iters", "tol"}}},
      {"neumann", {ConfigKind::LinearSolver, {"terms", "alpha"}}},
      {"direct", {ConfigKind::LinearSolver, {}}},
  };
  return configs;
}

StringRef describeConfigKind(ConfigKind kind) {
  switch (kind) {
  case ConfigKind::Optimizer:
    return "an optimizer";
  case ConfigKind::RootSolver:
    return "a root solver";
  case ConfigKind::FixedPointSolver:
    return "a fixed-point solver";
  case ConfigKind::LinearSolver:
    return "a linear solver";
  }
  llvm_unreachable("unknown configuration kind");
}

FailureOr<Val> configBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                             const Args &args) {
  const ConfigInfo &info = getConfigs().find(name)->second;
  Builder b(&gen.context);
  SmallVector<NamedAttribute> entries;
  entries.emplace_back(b.getStringAttr("name"), b.getStringAttr(name));
  for (auto [i, param] : llvm::enumerate(info.params)) {
    if (!args.has(i))
      continue;
    const Val &value = args[i];
    Attribute attr;
    if (value.kind == Val::Config) {
      if (name == "cautious" &&
          getConfigs().find(value.config->name)->second.kind ==
              ConfigKind::Optimizer)
        attr = value.config->attr;
    } else if (value.kind == Val::String) {
      attr = b.getStringAttr(value.str);
    } else if (value.kind == Val::Data && value.data.literal &&
               value.data.type.isScalar() && name != "cautious") {
      const TValue &data = value.data;
      if (data.type.scalar == ScalarKind::Bool)
        attr = b.getBoolAttr(*data.literal != 0);
      else if (isInteger(data.type.scalar))
        attr = b.getI64IntegerAttr(static_cast<int64_t>(*data.literal));
      else
        attr = b.getF64FloatAttr(*data.literal);
    } else if (value.kind == Val::Function &&
               info.kind == ConfigKind::Optimizer && name != "cautious") {
      // A schedule: a function of the 1-based step t, which the optimizer
      // calls at every step; it may not capture values of the program.
      SmallVector<TValue, 2> step = {
          gen.makeLiteral(1.0, ScalarKind::F64, /*weak=*/false)};
      FailureOr<Lifted> lifted = lift(gen, loc, *value.fn, step);
      if (failed(lifted))
        return failure();
      if (!lifted->result.isScalar() ||
          lifted->result.scalar != ScalarKind::F64) {
        gen.emitError(loc) << "the schedule '" << param << "' of '" << name
                           << "' must return an f64, not "
                           << gen.describe(lifted->result);
        return failure();
      }
      if (!lifted->captures.empty()) {
        gen.emitError(loc)
            << "the schedule '" << param << "' of '" << name
            << "' may not capture values of the program (it may use "
               "constants and call definitions)";
        return failure();
      }
      attr = FlatSymbolRefAttr::get(lifted->signature->func);
    }
    if (!attr) {
      gen.emitError(loc) << "'" << param << "' of '" << name << "' must be "
                         << (name == "cautious"
                                 ? "an optimizer"
                                 : "a constant number, bool or string")
                         << ", not " << gen.describe(value);
      return failure();
    }
    entries.emplace_back(b.getStringAttr(param), attr);
  }
  auto config = std::make_shared<ConfigValue>();
  config->name = name.str();
  config->attr = b.getDictionaryAttr(entries);
  Val result;
  result.kind = Val::Config;
  result.config = std::move(config);
  return result;
}

FailureOr<DictionaryAttr> expectConfig(MLIRGenerator &gen, SMLoc loc,
                                       StringRef builtin, const Args &args,
                                       unsigned slot, ConfigKind kind,
                                       StringRef what, StringRef fallback) {
  if (!args.has(slot)) {
    Builder b(&gen.context);
    return b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(fallback))});
  }
  const Val &value = args[slot];
  if (value.kind != Val::Config ||
      getConfigs().find(value.config->name)->second.kind != kind) {
    gen.emitError(loc) << "'" << what << "' of '" << builtin << "' must be "
                       << describeConfigKind(kind) << ", not "
                       << gen.describe(value);
    return failure();
  }
  return value.config->attr;
}

/// Instantiates the standard library's dense `lu_solve` (lib/Std/linalg.lz),
/// which `what` of `builtin` needs.
LogicalResult requireLuSolve(MLIRGenerator &gen, SMLoc loc, StringRef builtin,
                             StringRef what) {
  const DefAST *solve = gen.libraryDefs.lookup("lu_solve");
  if (!solve) {
    gen.emitError(loc) << what << " of '" << builtin
                       << "' needs the standard library's 'lu_solve'";
    return failure();
  }
  return gen.getSignature(*solve);
}

/// Whether a linear solver configuration is the dense `direct()`.
bool isDirect(DictionaryAttr config) {
  auto name = config.getAs<StringAttr>("name");
  return name && name.getValue() == "direct";
}

FailureOr<Val> solveBuiltin(MLIRGenerator &gen, SMLoc loc, StringRef name,
                            const Args &args) {
  auto fn = expectFunction(gen, loc, name, args[0], "the function");
  if (failed(fn))
    return failure();
  FailureOr<TValue> init =
      expectData(gen, loc, name, args[1], "the initial parameters");
  if (failed(init))
    return failure();
  TValue x0 = *init;
  if (x0.weak)
    x0 = *gen.coerce(loc, x0, ScalarKind::F64);
  if (!isDifferentiable(x0.type)) {
    gen.emitError(loc) << "the parameters of '" << name
                       << "' must be floats, float tensors or tuples of "
                          "those, not "
                       << gen.describe(x0.type);
    return failure();
  }
  SmallVector<TValue, 2> values = {x0};
  FailureOr<Lifted> lifted = lift(gen, loc, **fn, values);
  if (failed(lifted))
    return failure();
  const Ty &result = lifted->result;
  bool minimization = name == "minimize" || name == "argmin";
  if (minimization && (!result.isScalar() || !isFloat(result.scalar))) {
    gen.emitError(loc) << "'" << name
                       << "' needs an objective that returns a float scalar, "
                          "not "
                       << gen.describe(result);
    return failure();
  }
  if (!minimization && result != x0.type) {
    gen.emitError(loc) << "'" << name
                       << "' needs a function from the parameters' type to "
                          "itself; it maps "
                       << gen.describe(x0.type) << " to "
                       << gen.describe(result);
    return failure();
  }
  Location irLoc = gen.getLoc(loc);
  auto callee = FlatSymbolRefAttr::get(lifted->signature->func);
  Type x0IR = lifted->operands[0].getType();
  Value operand = lifted->operands[0];
  auto finish = [&](Value x) {
    return Val::getData(gen.makeValue(
        x0.type, gen.castValue(x, x0.type.getMLIRType(&gen.context))));
  };
  Builder b(&gen.context);

  if (minimization) {
    FailureOr<DictionaryAttr> opt =
        expectConfig(gen, loc, name, args, 2, ConfigKind::Optimizer, "opt", "");
    if (failed(opt))
      return failure();
    FailureOr<TValue> steps = expectInteger(gen, loc, name, args[3], "'steps'");
    if (failed(steps))
      return failure();
    if (steps->literal && *steps->literal < 0) {
      gen.emitError(loc) << "'steps' must not be negative";
      return failure();
    }
    Value stepsIndex = steps->size ? gen.materializeSize(*steps->size)
                                   : gen.toIndex(gen.scalarConvert(
                                         gen.materialize(*steps),
                                         steps->type.scalar, ScalarKind::I64));
    // The optimizer's update rule (lib/Std/optimizers.lz), which the
    // expansions of ad.minimize and ad.argmin call.
    StringRef optName = opt->getAs<StringAttr>("name").getValue();
    if (auto inner = opt->getAs<DictionaryAttr>("opt"))
      optName = inner.getAs<StringAttr>("name").getValue();
    if (const DefAST *rule = gen.libraryDefs.lookup((optName + "_rule").str()))
      if (failed(gen.getSignature(*rule)))
        return failure();
    if (name == "minimize") {
      bool trace = false;
      if (args.has(4)) {
        const Val &flag = args[4];
        if (flag.kind != Val::Data || !flag.data.literal ||
            flag.data.type.scalar != ScalarKind::Bool) {
          gen.emitError(loc) << "'trace' of 'minimize' must be true or false";
          return failure();
        }
        trace = *flag.data.literal != 0;
      }
      Ty lossesType;
      Type lossesIR;
      if (trace) {
        lossesType =
            Ty::getTensor(result.scalar, {gen.toSize(*steps, "steps")});
        lossesIR = lossesType.getMLIRType(&gen.context);
      }
      auto op = ad::MinimizeOp::create(
          gen.builder, irLoc, x0IR, lossesIR, callee, operand, lifted->captures,
          stepsIndex, *opt, trace ? b.getUnitAttr() : UnitAttr());
      Val x = finish(op.getResult());
      if (!trace)
        return x;
      TValue losses =
          gen.makeValue(lossesType, gen.castValue(op.getLosses(), lossesIR));
      return Val::getData(gen.makeTuple({x.data, losses}));
    }
    double tol = 1e-10;
    if (args.has(4)) {
      const Val &value = args[4];
      if (value.kind != Val::Data || !value.data.literal ||
          !value.data.type.isScalar() ||
          value.data.type.scalar == ScalarKind::Bool ||
          !(*value.data.literal >= 0)) {
        gen.emitError(loc)
            << "'tol' of 'argmin' must be a non-negative constant number";
        return failure();
      }
      tol = *value.data.literal;
    }
    FailureOr<DictionaryAttr> implicit = expectConfig(
        gen, loc, name, args, 5, ConfigKind::LinearSolver, "implicit", "cg");
    if (failed(implicit))
      return failure();
    if (!args.has(5))
      implicit = b.getDictionaryAttr(
          {b.getNamedAttr("name", b.getStringAttr("cg")),
           b.getNamedAttr("iters", b.getI64IntegerAttr(100))});
    if (isDirect(*implicit) &&
        failed(requireLuSolve(gen, loc, name, "'direct()'")))
      return failure();
    auto op = ad::ArgminOp::create(gen.builder, irLoc, x0IR, callee, operand,
                                   lifted->captures, stepsIndex, *opt,
                                   b.getF64FloatAttr(tol), *implicit);
    return finish(op.getResult());
  }

  if (name == "root") {
    FailureOr<DictionaryAttr> solver = expectConfig(
        gen, loc, name, args, 2, ConfigKind::RootSolver, "solver", "newton");
    if (failed(solver))
      return failure();
    StringRef solverName = solver->getAs<StringAttr>("name").getValue();
    if (failed(requireLuSolve(gen, loc, name, "'" + solverName.str() + "'")))
      return failure();
    if (solverName == "broyden") {
      if (const DefAST *update = gen.libraryDefs.lookup("broyden_update"))
        if (failed(gen.getSignature(*update)))
          return failure();
    }
    // GMRES, the design's default, is not built: BiCGSTAB is the general
    // solver that is (docs/optimization.md).
    FailureOr<DictionaryAttr> implicit =
        expectConfig(gen, loc, name, args, 3, ConfigKind::LinearSolver,
                     "implicit", "bicgstab");
    if (failed(implicit))
      return failure();
    auto op = ad::RootOp::create(gen.builder, irLoc, x0IR, callee, operand,
                                 lifted->captures, *solver, *implicit);
    return finish(op.getResult());
  }

  // fixed_point
  Value iters;
  if (args.has(2)) {
    FailureOr<TValue> count = expectInteger(gen, loc, name, args[2], "'iters'");
    if (failed(count))
      return failure();
    iters = count->size ? gen.materializeSize(*count->size)
                        : gen.toIndex(gen.scalarConvert(gen.materialize(*count),
                                                        count->type.scalar,
                                                        ScalarKind::I64));
  } else {
    iters = gen.getIndexConstant(100);
  }
  FailureOr<DictionaryAttr> solver =
      expectConfig(gen, loc, name, args, 3, ConfigKind::FixedPointSolver,
                   "solver", "iterate");
  FailureOr<DictionaryAttr> implicit =
      succeeded(solver)
          ? expectConfig(gen, loc, name, args, 4, ConfigKind::LinearSolver,
                         "implicit", "neumann")
          : FailureOr<DictionaryAttr>(failure());
  if (failed(implicit))
    return failure();
  if (isDirect(*implicit) &&
      failed(requireLuSolve(gen, loc, name, "'direct()'")))
    return failure();
  if (solver->getAs<StringAttr>("name").getValue() == "anderson" &&
      failed(requireLuSolve(gen, loc, name, "'anderson'")))
    return failure();
  auto op =
      ad::FixedPointOp::create(gen.builder, irLoc, x0IR, callee, operand,
                               lifted->captures, iters, *solver, *implicit);
  return finish(op.getResult());
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

const llvm::StringMap<BuiltinInfo> &getBuiltins() {
  static const llvm::StringMap<BuiltinInfo> builtins = [] {
    llvm::StringMap<BuiltinInfo> table;
    auto add = [&](StringRef name, std::vector<StringRef> params,
                   unsigned numRequired, bool variadic, Handler handler) {
      table[name] = BuiltinInfo{std::move(params), numRequired, variadic,
                                std::move(handler)};
    };
    for (StringRef name :
         {"exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu",
          "softplus", "abs", "sign", "floor", "ceil", "erf"})
      add(name, {"x"}, 1, false, unaryMath);
    add("min", {"a", "b"}, 1, false, minMaxPow);
    add("max", {"a", "b"}, 1, false, minMaxPow);
    add("pow", {"a", "b"}, 2, false, minMaxPow);
    for (StringRef name : {"f32", "f64", "i32", "i64"})
      add(name, {"x"}, 1, false, castBuiltin);
    add("select", {"cond", "a", "b"}, 3, false, selectBuiltin);
    for (StringRef name : {"sum", "prod", "mean", "norm"})
      add(name, {"x"}, 1, false, reductionBuiltin);
    add("dot", {"a", "b"}, 2, false, dotBuiltin);
    add("transpose", {"x"}, 1, false, transposeBuiltin);
    add("reshape", {"x"}, 1, true, reshapeBuiltin);
    add("concat", {"a", "b"}, 2, false, concatBuiltin);
    add("slice", {"x", "lo", "hi"}, 3, false, sliceBuiltin);
    add("softmax", {"x"}, 1, false, softmaxBuiltin);
    add("logsumexp", {"x"}, 1, false, logsumexpBuiltin);
    add("size", {"x", "dim"}, 2, false, sizeBuiltin);
    add("zeros", {"dtype"}, 0, true, zerosOnes);
    add("ones", {"dtype"}, 0, true, zerosOnes);
    add("full", {"value", "dtype"}, 1, true, fullBuiltin);
    add("iota", {"n", "dtype"}, 1, false, iotaBuiltin);
    add("eye", {"n", "dtype"}, 1, false, eyeBuiltin);
    add("randn", {"seed", "dtype"}, 1, true, randomBuiltin);
    add("rand", {"seed", "dtype"}, 1, true, randomBuiltin);
    add("print", {"x"}, 1, false, printBuiltin);
    add("stop_gradient", {"x"}, 1, false, printBuiltin);
    add("map", {"f", "xs"}, 2, false, mapBuiltin);
    add("zip_with", {"f", "xs", "ys"}, 3, false, mapBuiltin);
    add("reduce", {"f", "init", "xs"}, 3, false, reduceBuiltin);
    add("grad", {"f", "wrt", "mode"}, 1, false, transformBuiltin);
    add("value_and_grad", {"f", "wrt", "mode"}, 1, false, transformBuiltin);
    add("jacfwd", {"f"}, 1, false, transformBuiltin);
    add("jacrev", {"f"}, 1, false, transformBuiltin);
    add("hessian", {"f"}, 1, false, transformBuiltin);
    add("jvp", {"f", "primals", "tangents"}, 3, false, directTransform);
    add("vjp", {"f", "primals", "cotangent"}, 3, false, directTransform);
    add("hvp", {"f", "x", "v"}, 3, false, directTransform);
    add("minimize", {"f", "x0", "opt", "steps", "trace"}, 4, false,
        solveBuiltin);
    add("argmin", {"f", "x0", "opt", "steps", "tol", "implicit"}, 4, false,
        solveBuiltin);
    add("root", {"f", "x0", "solver", "implicit"}, 2, false, solveBuiltin);
    add("fixed_point", {"f", "x0", "iters", "solver", "implicit"}, 2, false,
        solveBuiltin);
    for (const auto &entry : getConfigs())
      add(entry.first(), entry.second.params, 0, false, configBuiltin);
    return table;
  }();
  return builtins;
}

} // namespace

bool MLIRGenerator::isBuiltin(StringRef name) {
  return getBuiltins().count(name);
}

std::vector<std::string> MLIRGenerator::getBuiltinNames() {
  std::vector<std::string> names;
  for (const auto &entry : getBuiltins())
    names.push_back(entry.first().str());
  llvm::sort(names);
  return names;
}

FailureOr<Val>
MLIRGenerator::callBuiltin(SMLoc loc, StringRef name, ArrayRef<Val> args,
                           ArrayRef<std::pair<std::string, Val>> named) {
  const BuiltinInfo &info = getBuiltins().find(name)->second;
  Args slots;
  slots.slots.resize(info.params.size());
  // Variadic builtins take their declared parameters after the sizes when
  // the parameters are optional (`zeros(n, d, dtype = "f32")`).
  unsigned numPositional = info.variadic ? info.numRequired : args.size();
  for (auto [i, arg] : llvm::enumerate(args)) {
    if (i < numPositional && i < info.params.size()) {
      slots.slots[i] = arg;
      continue;
    }
    if (!info.variadic) {
      emitError(loc) << "'" << name << "' takes at most " << info.params.size()
                     << " argument" << (info.params.size() == 1 ? "" : "s")
                     << " but " << args.size() << " were given";
      return failure();
    }
    slots.rest.push_back(arg);
  }
  for (const auto &[argName, value] : named) {
    auto it = llvm::find(info.params, argName);
    if (it == info.params.end()) {
      std::vector<std::string> candidates(info.params.begin(),
                                          info.params.end());
      emitError(loc) << "'" << name << "' has no parameter '" << argName << "'"
                     << suggest(argName, candidates);
      return failure();
    }
    unsigned index = it - info.params.begin();
    if (slots.slots[index]) {
      emitError(loc) << "'" << name << "' gets '" << argName << "' twice";
      return failure();
    }
    slots.slots[index] = value;
  }
  for (unsigned i = 0; i < info.numRequired; ++i) {
    if (!slots.slots[i]) {
      emitError(loc) << "'" << name << "' needs argument '" << info.params[i]
                     << "'";
      return failure();
    }
  }
  return info.handler(*this, loc, name, slots);
}
