//===- ValueIO.cpp - Printing, parsing and random runtime values ----------===//
//
// Part of Leibniz.
//
// Printing follows NumPy's defaults (`np.set_printoptions()`): precision 8,
// threshold 1000 with 3 edge items, line width 75, sign only for negatives.
// Scalars print as Python's repr of a NumPy scalar does (shortest round-trip).
//
//===----------------------------------------------------------------------===//

#include "leibniz/Interpreter/ValueIO.h"
#include "leibniz/Runtime/Format.h"
#include "leibniz/Runtime/Npy.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Error.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::interp;

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

namespace {

/// The type in quotes, as MLIR diagnostics print types.
std::string typeToString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << type << "'";
  return text;
}

/// The runtime's element type for `type`; other float types print as f64.
runtime::DType toDType(Type type) {
  if (type.isF32())
    return runtime::DType::F32;
  if (type.isInteger(1))
    return runtime::DType::I1;
  if (type.isInteger(32))
    return runtime::DType::I32;
  if (isa<FloatType>(type))
    return runtime::DType::F64;
  return runtime::DType::I64;
}

} // namespace

void leibniz::interp::printValue(llvm::raw_ostream &os,
                                 const RuntimeValue &value, Type type) {
  if (auto tupleType = dyn_cast<TupleType>(type)) {
    os << "(";
    for (auto [i, element] : llvm::enumerate(value.getElements())) {
      if (i > 0)
        os << ", ";
      printValue(os, element, tupleType.getType(i));
    }
    if (tupleType.size() == 1)
      os << ",";
    os << ")";
    return;
  }
  const Tensor &tensor = value.getTensor();
  runtime::ArrayView view{toDType(tensor.getElementType()),
                          tensor.getData(),
                          {},
                          {},
                          /*wide=*/true};
  view.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  SmallVector<int64_t> strides = tensor.getStrides();
  view.strides.assign(strides.begin(), strides.end());
  Type elementType = tensor.getElementType();
  if (isa<FloatType>(elementType) && !elementType.isF64() &&
      !elementType.isF32())
    view.roundToPrecision = [elementType](double v) {
      return roundToFloatType(elementType, v);
    };
  os << runtime::formatArray(view);
}

//===----------------------------------------------------------------------===//
// Literals
//===----------------------------------------------------------------------===//

namespace {

/// A parsed literal before it meets its type: a number, a list or a tuple.
struct Literal {
  enum class Kind { Number, List, Tuple } kind = Kind::Number;
  std::string text;
  std::vector<Literal> elements;
};

class LiteralParser {
public:
  explicit LiteralParser(StringRef text) : text(text) {}

  /// literal ::= number | `true` | `false` | `[` (literal (`,` literal)*)? `]`
  ///           | `(` literal (`,` literal)* `)`
  FailureOr<Literal> parse(std::string &error) {
    FailureOr<Literal> literal = parseLiteral(error);
    skipSpace();
    if (succeeded(literal) && pos != text.size()) {
      error = "unexpected '" + text.substr(pos).str() + "' at column " +
              std::to_string(pos + 1);
      return failure();
    }
    return literal;
  }

private:
  void skipSpace() {
    while (pos < text.size() && llvm::isSpace(text[pos]))
      ++pos;
  }

  /// Literals nest at most this deep (tensors of rank 64 and tuples).
  static constexpr unsigned kMaxDepth = 64;

  FailureOr<Literal> parseLiteral(std::string &error, unsigned depth = 0) {
    if (depth > kMaxDepth) {
      error = "literal nests deeper than " + std::to_string(kMaxDepth);
      return failure();
    }
    skipSpace();
    if (pos >= text.size()) {
      error = "expected a value at the end of '" + text.str() + "'";
      return failure();
    }
    char c = text[pos];
    if (c == '[' || c == '(') {
      char close = c == '[' ? ']' : ')';
      Literal literal;
      literal.kind = c == '[' ? Literal::Kind::List : Literal::Kind::Tuple;
      ++pos;
      skipSpace();
      if (pos < text.size() && text[pos] == close) {
        ++pos;
        return literal;
      }
      while (true) {
        FailureOr<Literal> element = parseLiteral(error, depth + 1);
        if (failed(element))
          return failure();
        literal.elements.push_back(std::move(*element));
        skipSpace();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == close) {
          ++pos;
          return literal;
        }
        error = std::string("expected ',' or '") + close + "' at column " +
                std::to_string(pos + 1);
        return failure();
      }
    }
    size_t start = pos;
    while (pos < text.size() &&
           (llvm::isAlnum(text[pos]) || text[pos] == '.' || text[pos] == '-' ||
            text[pos] == '+' || text[pos] == '_'))
      ++pos;
    if (start == pos) {
      error = std::string("unexpected '") + c + "' at column " +
              std::to_string(pos + 1);
      return failure();
    }
    Literal literal;
    literal.text = text.slice(start, pos).str();
    return literal;
  }

  StringRef text;
  size_t pos = 0;
};

/// Converts a number literal to a scalar of `type`.
FailureOr<Scalar> toScalar(const Literal &literal, Type type,
                           std::string &error) {
  if (literal.kind != Literal::Kind::Number) {
    error = "expected a number of type " + typeToString(type);
    return failure();
  }
  StringRef text = literal.text;
  Scalar scalar;
  if (type.isInteger(1)) {
    if (text == "true" || text == "True" || text == "1") {
      scalar.i = -1;
      return scalar;
    }
    if (text == "false" || text == "False" || text == "0") {
      scalar.i = 0;
      return scalar;
    }
    error = "expected true or false, got '" + text.str() + "'";
    return failure();
  }
  if (isa<FloatType>(type)) {
    StringRef lower = text.ltrim("+-");
    bool negative = text.starts_with("-");
    if (lower == "inf" || lower == "nan") {
      scalar.f = lower == "inf" ? (negative ? -INFINITY : INFINITY) : NAN;
      return scalar;
    }
    // Decimal to the element type in one rounding (through double first
    // would round twice for f32).
    llvm::APFloat value(cast<FloatType>(type).getFloatSemantics());
    llvm::Expected<llvm::APFloat::opStatus> status = value.convertFromString(
        text.starts_with("+") ? text.drop_front() : text,
        llvm::APFloat::rmNearestTiesToEven);
    if (!status) {
      llvm::consumeError(status.takeError());
      error = "expected a number, got '" + text.str() + "'";
      return failure();
    }
    bool losesInfo = false;
    value.convert(llvm::APFloat::IEEEdouble(),
                  llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    scalar.f = value.convertToDouble();
    return scalar;
  }
  int64_t value;
  if (text.getAsInteger(10, value)) {
    error = "expected an integer of type " + typeToString(type) + ", got '" +
            text.str() + "'";
    return failure();
  }
  if (wrapToWidth(getIntegerWidth(type), value) != value) {
    error = "integer " + text.str() + " does not fit in " + typeToString(type);
    return failure();
  }
  scalar.i = value;
  return scalar;
}

/// Flattens nested lists into `shape` (from the first visit of each depth)
/// and `elements`, checking that the nesting is rectangular.
LogicalResult flattenList(const Literal &literal, int64_t depth, int64_t rank,
                          SmallVectorImpl<int64_t> &shape,
                          std::vector<const Literal *> &elements,
                          std::string &error) {
  if (depth == rank) {
    elements.push_back(&literal);
    return success();
  }
  if (literal.kind != Literal::Kind::List) {
    error = "expected a nested list of depth " + std::to_string(rank);
    return failure();
  }
  int64_t size = literal.elements.size();
  if (static_cast<int64_t>(shape.size()) == depth)
    shape.push_back(size);
  else if (shape[depth] != size) {
    error = "ragged list: lengths " + std::to_string(shape[depth]) + " and " +
            std::to_string(size) + " at depth " + std::to_string(depth);
    return failure();
  }
  for (const Literal &element : literal.elements)
    if (failed(flattenList(element, depth + 1, rank, shape, elements, error)))
      return failure();
  return success();
}

FailureOr<RuntimeValue> literalToValue(const Literal &literal, Type type,
                                       std::string &error) {
  if (auto tupleType = dyn_cast<TupleType>(type)) {
    if (literal.kind != Literal::Kind::Tuple ||
        literal.elements.size() != tupleType.size()) {
      error = "expected a tuple of " + std::to_string(tupleType.size()) +
              " elements for " + typeToString(type);
      return failure();
    }
    std::vector<RuntimeValue> elements;
    for (auto [element, elementType] :
         llvm::zip(literal.elements, tupleType.getTypes())) {
      FailureOr<RuntimeValue> value =
          literalToValue(element, elementType, error);
      if (failed(value))
        return failure();
      elements.push_back(std::move(*value));
    }
    return RuntimeValue::getTuple(std::move(elements));
  }
  auto tensorType = dyn_cast<RankedTensorType>(type);
  Type elementType = tensorType ? tensorType.getElementType() : type;
  if (!isa<FloatType, IntegerType, IndexType>(elementType)) {
    error = "cannot make a value of type " + typeToString(type);
    return failure();
  }
  int64_t rank = tensorType ? tensorType.getRank() : 0;
  SmallVector<int64_t> shape;
  std::vector<const Literal *> elements;
  if (failed(flattenList(literal, 0, rank, shape, elements, error)))
    return failure();
  // An empty list stops the descent early; the missing sizes are zero.
  shape.resize(rank, 0);
  Tensor tensor(elementType, shape);
  for (auto [i, element] : llvm::enumerate(elements)) {
    FailureOr<Scalar> scalar = toScalar(*element, elementType, error);
    if (failed(scalar))
      return failure();
    tensor.set(i, *scalar);
  }
  RuntimeValue value(std::move(tensor));
  if (!conformsTo(value, type, error))
    return failure();
  return value;
}

} // namespace

FailureOr<RuntimeValue> leibniz::interp::parseLiteral(StringRef text, Type type,
                                                      std::string &error) {
  FailureOr<Literal> literal = LiteralParser(text).parse(error);
  if (failed(literal))
    return failure();
  return literalToValue(*literal, type, error);
}

//===----------------------------------------------------------------------===//
// Random values and type checks
//===----------------------------------------------------------------------===//

namespace {

/// SplitMix64: a small, portable generator; the same seed gives the same
/// stream everywhere.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

private:
  uint64_t state;
};

FailureOr<RuntimeValue> makeRandom(Type type, SplitMix64 &rng,
                                   int64_t dynamicSize, std::string &error) {
  if (auto tupleType = dyn_cast<TupleType>(type)) {
    std::vector<RuntimeValue> elements;
    for (Type elementType : tupleType.getTypes()) {
      FailureOr<RuntimeValue> element =
          makeRandom(elementType, rng, dynamicSize, error);
      if (failed(element))
        return failure();
      elements.push_back(std::move(*element));
    }
    return RuntimeValue::getTuple(std::move(elements));
  }
  auto tensorType = dyn_cast<RankedTensorType>(type);
  Type elementType = tensorType ? tensorType.getElementType() : type;
  if (!isa<FloatType, IntegerType, IndexType>(elementType)) {
    error = "cannot make random values of type " + typeToString(type);
    return failure();
  }
  SmallVector<int64_t> shape;
  if (tensorType)
    for (int64_t size : tensorType.getShape())
      shape.push_back(ShapedType::isDynamic(size) ? dynamicSize : size);
  if (!Tensor::getElementCount(shape)) {
    error = "random values of type " + typeToString(type) +
            " with dynamic "
            "size " +
            std::to_string(dynamicSize) +
            " would have a negative size, too many elements or a rank above " +
            std::to_string(Tensor::kMaxRank);
    return failure();
  }
  Tensor tensor(elementType, shape);
  for (int64_t i = 0, e = tensor.getNumElements(); i < e; ++i) {
    uint64_t bits = rng.next();
    if (tensor.isFloat())
      tensor.setFloat(i, std::ldexp(static_cast<double>(bits >> 11), -52) - 1);
    else if (elementType.isInteger(1))
      tensor.setInt(i, bits & 1);
    else
      tensor.setInt(i, bits % 10);
  }
  return RuntimeValue(std::move(tensor));
}

} // namespace

FailureOr<RuntimeValue> leibniz::interp::makeRandomValue(Type type,
                                                         uint64_t seed,
                                                         int64_t dynamicSize,
                                                         std::string &error) {
  SplitMix64 rng(seed);
  return makeRandom(type, rng, dynamicSize, error);
}

bool leibniz::interp::conformsTo(const RuntimeValue &value, Type type,
                                 std::string &error) {
  if (auto tupleType = dyn_cast<TupleType>(type)) {
    if (!value.isTuple() || value.getElements().size() != tupleType.size()) {
      error = "expected a tuple of type " + typeToString(type);
      return false;
    }
    for (auto [element, elementType] :
         llvm::zip(value.getElements(), tupleType.getTypes()))
      if (!conformsTo(element, elementType, error))
        return false;
    return true;
  }
  if (value.isTuple()) {
    error = "expected a value of type " + typeToString(type) + ", got a tuple";
    return false;
  }
  const Tensor &tensor = value.getTensor();
  auto tensorType = dyn_cast<RankedTensorType>(type);
  Type elementType = tensorType ? tensorType.getElementType() : type;
  ArrayRef<int64_t> shape =
      tensorType ? tensorType.getShape() : ArrayRef<int64_t>();
  bool ok = tensor.getElementType() == elementType &&
            tensor.getRank() == static_cast<int64_t>(shape.size());
  for (auto [expected, actual] : llvm::zip(shape, tensor.getShape()))
    ok &= ShapedType::isDynamic(expected) || expected == actual;
  if (!ok) {
    std::string actual;
    llvm::raw_string_ostream os(actual);
    if (tensor.getRank() == 0) {
      os << "'" << tensor.getElementType() << "'";
    } else {
      os << "'tensor<";
      for (int64_t size : tensor.getShape())
        os << size << "x";
      os << tensor.getElementType() << ">'";
    }
    error =
        "expected a value of type " + typeToString(type) + ", got " + actual;
  }
  return ok;
}

//===----------------------------------------------------------------------===//
// .npy files
//===----------------------------------------------------------------------===//

FailureOr<RuntimeValue> leibniz::interp::readNpy(MLIRContext *context,
                                                 StringRef contents,
                                                 std::string &error) {
  runtime::NpyArray array;
  if (!runtime::parseNpy(std::string_view(contents.data(), contents.size()),
                         array, error, Tensor::kMaxRank, Tensor::kMaxElements))
    return failure();
  Builder builder(context);
  Type elementType;
  switch (array.dtype) {
  case runtime::DType::F64:
    elementType = builder.getF64Type();
    break;
  case runtime::DType::F32:
    elementType = builder.getF32Type();
    break;
  case runtime::DType::I64:
    elementType = builder.getI64Type();
    break;
  case runtime::DType::I32:
    elementType = builder.getI32Type();
    break;
  case runtime::DType::I1:
    elementType = builder.getI1Type();
    break;
  }
  Tensor tensor(elementType, array.shape);
  runtime::ArrayView view{array.dtype, array.data.data(), {}, {}};
  for (int64_t i = 0, e = array.getNumElements(); i < e; ++i) {
    if (runtime::isFloat(array.dtype))
      tensor.setFloat(i, view.getFloat(i));
    else
      tensor.setInt(i, view.getInt(i));
  }
  return RuntimeValue(std::move(tensor));
}

FailureOr<std::string> leibniz::interp::writeNpy(const Tensor &tensor,
                                                 std::string &error) {
  Type type = tensor.getElementType();
  if (!type.isF64() && !type.isF32() && !type.isInteger(64) &&
      !type.isInteger(32) && !type.isInteger(1)) {
    error = "cannot write elements of type " + typeToString(type) +
            " to a .npy file";
    return failure();
  }
  runtime::DType dtype = toDType(type);
  size_t itemSize = runtime::getDTypeSize(dtype);
  std::vector<char> data(tensor.getNumElements() * itemSize);
  for (int64_t e = 0; e < tensor.getNumElements(); ++e) {
    char *dest = data.data() + e * itemSize;
    if (dtype == runtime::DType::F64) {
      double value = tensor.getFloat(e);
      std::memcpy(dest, &value, 8);
    } else if (dtype == runtime::DType::F32) {
      float value = static_cast<float>(tensor.getFloat(e));
      std::memcpy(dest, &value, 4);
    } else {
      int64_t value = tensor.getInt(e);
      std::memcpy(dest, &value, itemSize); // little-endian
    }
  }
  return runtime::serializeNpy(
      dtype,
      std::vector<int64_t>(tensor.getShape().begin(), tensor.getShape().end()),
      data.data());
}
