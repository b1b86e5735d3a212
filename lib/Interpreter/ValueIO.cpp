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

constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdgeItems = 3;
constexpr size_t kLineWidth = 75;
constexpr int kPrecision = 8;

/// The shortest decimal digits that round-trip `value` at the precision of
/// `type`, as (mantissa digits without the point, decimal exponent).
std::pair<std::string, int> shortestDigits(double value, Type type) {
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*e", precision - 1, value);
    double back = std::strtod(buffer, nullptr);
    if (roundToFloatType(type, back) == value)
      break;
  }
  StringRef text(buffer);
  auto [mantissa, exponent] = text.split('e');
  std::string digits;
  for (char c : mantissa)
    if (llvm::isDigit(c))
      digits.push_back(c);
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  int exp = 0;
  exponent.consume_front("+");
  exponent.getAsInteger(10, exp);
  return {digits, exp};
}

std::string formatSpecialFloat(double value) {
  if (std::isnan(value))
    return "nan";
  return value < 0 ? "-inf" : "inf";
}

/// Python's repr of a float scalar: positional for exponents in [-4, 16),
/// scientific otherwise, always with a point or an exponent.
std::string formatFloatScalar(double value, Type type) {
  if (!std::isfinite(value))
    return formatSpecialFloat(value);
  std::string sign = std::signbit(value) ? "-" : "";
  auto [digits, exp] = shortestDigits(std::fabs(value), type);
  if (exp < -4 || exp >= 16) {
    std::string result = sign + digits.substr(0, 1);
    if (digits.size() > 1)
      result += "." + digits.substr(1);
    char buffer[16];
    std::snprintf(buffer, sizeof(buffer), "e%c%02d", exp < 0 ? '-' : '+',
                  std::abs(exp));
    return result + buffer;
  }
  std::string intPart, fracPart;
  if (exp < 0) {
    intPart = "0";
    fracPart = std::string(-exp - 1, '0') + digits;
  } else if (static_cast<int>(digits.size()) <= exp + 1) {
    intPart = digits + std::string(exp + 1 - digits.size(), '0');
    fracPart = "0";
  } else {
    intPart = digits.substr(0, exp + 1);
    fracPart = digits.substr(exp + 1);
  }
  return sign + intPart + "." + fracPart;
}

std::string formatIntScalar(int64_t value, Type type) {
  if (type.isInteger(1))
    return value ? "True" : "False";
  return std::to_string(value);
}

/// Formats the elements of a float tensor NumPy's way: one mode for the
/// whole array (positional or scientific), digits trimmed per element, then
/// padded so that points line up.
std::vector<std::string> formatFloatElements(const Tensor &tensor,
                                             ArrayRef<int64_t> shown) {
  Type elementType = tensor.getElementType();
  double maxAbs = 0, minAbs = INFINITY;
  bool anyFinite = false;
  for (int64_t i : shown) {
    double v = tensor.getFloat(i);
    if (!std::isfinite(v) || v == 0)
      continue;
    anyFinite = true;
    maxAbs = std::max(maxAbs, std::fabs(v));
    minAbs = std::min(minAbs, std::fabs(v));
  }
  bool scientific =
      anyFinite && (maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs / minAbs > 1e3);

  // Split each element into the parts before and after the point.
  std::vector<std::pair<std::string, std::string>> parts;
  std::vector<std::string> specials(shown.size());
  size_t maxLeft = 0, maxRight = 0, maxExp = 0;
  std::vector<std::string> exps(shown.size());
  for (auto [pos, i] : llvm::enumerate(shown)) {
    double v = tensor.getFloat(i);
    if (!std::isfinite(v)) {
      specials[pos] = formatSpecialFloat(v);
      parts.emplace_back();
      continue;
    }
    char buffer[64];
    std::string text;
    // The fewest digits (at most kPrecision after the point) that give the
    // value back in its element type, as NumPy's unique formatting does.
    const char *format = scientific ? "%.*e" : "%.*f";
    for (int digits = 0; digits <= kPrecision; ++digits) {
      std::snprintf(buffer, sizeof(buffer), format, digits, v);
      if (roundToFloatType(elementType, std::strtod(buffer, nullptr)) == v)
        break;
    }
    if (scientific) {
      StringRef full(buffer);
      auto [mantissa, exponent] = full.split('e');
      text = mantissa.str();
      int e = 0;
      exponent.consume_front("+");
      exponent.getAsInteger(10, e);
      char expBuffer[16];
      std::snprintf(expBuffer, sizeof(expBuffer), "e%c%02d", e < 0 ? '-' : '+',
                    std::abs(e));
      exps[pos] = expBuffer;
      maxExp = std::max(maxExp, exps[pos].size());
    } else {
      text = buffer;
    }
    if (text.find('.') == std::string::npos)
      text += ".";
    while (text.back() == '0')
      text.pop_back();
    size_t point = text.find('.');
    parts.emplace_back(text.substr(0, point), text.substr(point));
    maxLeft = std::max(maxLeft, parts.back().first.size());
    maxRight = std::max(maxRight, parts.back().second.size());
  }

  std::vector<std::string> result;
  size_t width = 0;
  for (auto [pos, part] : llvm::enumerate(parts)) {
    if (!specials[pos].empty()) {
      result.push_back(specials[pos]);
      width = std::max(width, result.back().size());
      continue;
    }
    std::string left =
        std::string(maxLeft - part.first.size(), ' ') + part.first;
    std::string right = part.second;
    // Scientific mantissas pad with zeros, positional fractions with spaces.
    right += std::string(maxRight - right.size(), scientific ? '0' : ' ');
    result.push_back(left + right + exps[pos]);
    width = std::max(width, result.back().size());
  }
  for (std::string &s : result)
    if (s.size() < width)
      s = std::string(width - s.size(), ' ') + s;
  return result;
}

class ArrayPrinter {
public:
  ArrayPrinter(llvm::raw_ostream &os, const Tensor &tensor)
      : os(os), tensor(tensor), strides(tensor.getStrides()) {
    summarize = tensor.getNumElements() > kThreshold;
    std::vector<int64_t> shown;
    collectShown(0, 0, shown);
    std::vector<std::string> texts;
    Type elementType = tensor.getElementType();
    if (tensor.isFloat()) {
      texts = formatFloatElements(tensor, shown);
    } else {
      size_t width = 0;
      for (int64_t i : shown) {
        texts.push_back(formatIntScalar(tensor.getInt(i), elementType));
        width = std::max(width, texts.back().size());
      }
      for (std::string &s : texts)
        s = std::string(width - s.size(), ' ') + s;
    }
    for (auto [i, text] : llvm::zip(shown, texts))
      formatted[i] = text;
  }

  void print() {
    if (tensor.getRank() == 0) {
      os << formatted.begin()->second;
      return;
    }
    std::string line;
    printDim(0, 0, line);
    os << line;
  }

private:
  /// The positions shown along a dimension of size `size`.
  SmallVector<int64_t> shownPositions(int64_t size) const {
    SmallVector<int64_t> positions;
    if (summarize && size > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i)
        positions.push_back(i);
      positions.push_back(-1); // The ellipsis.
      for (int64_t i = size - kEdgeItems; i < size; ++i)
        positions.push_back(i);
    } else {
      for (int64_t i = 0; i < size; ++i)
        positions.push_back(i);
    }
    return positions;
  }

  void collectShown(int64_t dim, int64_t offset, std::vector<int64_t> &out) {
    if (dim == tensor.getRank()) {
      out.push_back(offset);
      return;
    }
    for (int64_t i : shownPositions(tensor.getShape()[dim]))
      if (i >= 0)
        collectShown(dim + 1, offset + i * strides[dim], out);
  }

  /// Appends dimension `dim` at `offset` to `text`, whose last line is the
  /// current output line.
  void printDim(int64_t dim, int64_t offset, std::string &text) {
    int64_t rank = tensor.getRank();
    std::string indent(dim + 1, ' ');
    text += "[";
    SmallVector<int64_t> positions = shownPositions(tensor.getShape()[dim]);
    if (dim == rank - 1) {
      size_t lineStart = text.rfind('\n');
      lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
      bool first = true;
      for (auto [n, i] : llvm::enumerate(positions)) {
        std::string word = i < 0 ? "..." : formatted[offset + i];
        bool last = n + 1 == positions.size();
        size_t needed = text.size() - lineStart + (first ? 0 : 1) +
                        word.size() + (last ? dim + 1 : 0);
        if (!first && needed > kLineWidth) {
          text += "\n" + indent;
          lineStart = text.size() - indent.size();
        } else if (!first) {
          text += " ";
        }
        text += word;
        first = false;
      }
      text += "]";
      return;
    }
    std::string separator = "\n" + std::string(rank - dim - 2, '\n') + indent;
    for (auto [n, i] : llvm::enumerate(positions)) {
      if (n > 0)
        text += separator;
      if (i < 0)
        text += "...";
      else
        printDim(dim + 1, offset + i * strides[dim], text);
    }
    text += "]";
  }

  llvm::raw_ostream &os;
  const Tensor &tensor;
  SmallVector<int64_t> strides;
  bool summarize = false;
  llvm::DenseMap<int64_t, std::string> formatted;
};

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
  // Scalars and rank-0 tensors print as NumPy prints a scalar or a 0-d
  // array; arrays with no element as `[]`, whatever their shape.
  if (tensor.getRank() == 0) {
    if (tensor.isFloat())
      os << formatFloatScalar(tensor.getFloat(0), tensor.getElementType());
    else
      os << formatIntScalar(tensor.getInt(0), tensor.getElementType());
    return;
  }
  if (tensor.getNumElements() == 0) {
    os << "[]";
    return;
  }
  ArrayPrinter(os, tensor).print();
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

namespace {
/// The value of `key` in the header dictionary of a .npy file: the text
/// after `'key':` up to the next top-level comma or the closing brace.
std::optional<StringRef> getHeaderEntry(StringRef header, StringRef key) {
  size_t pos = header.find(("'" + key + "'").str());
  if (pos == StringRef::npos)
    return std::nullopt;
  StringRef rest = header.drop_front(pos + key.size() + 2).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  rest = rest.ltrim();
  if (rest.starts_with("(")) {
    size_t close = rest.find(')');
    if (close == StringRef::npos)
      return std::nullopt;
    return rest.take_front(close + 1);
  }
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).rtrim();
}
} // namespace

FailureOr<RuntimeValue> leibniz::interp::readNpy(MLIRContext *context,
                                                 StringRef contents,
                                                 std::string &error) {
  auto fail = [&](const Twine &message) {
    error = message.str();
    return failure();
  };
  if (!contents.consume_front("\x93NUMPY") || contents.size() < 2)
    return fail("not a .npy file (bad magic string)");
  auto major = static_cast<unsigned char>(contents[0]);
  contents = contents.drop_front(2);
  size_t headerSize;
  if (major == 1) {
    if (contents.size() < 2)
      return fail("truncated .npy header");
    headerSize = static_cast<unsigned char>(contents[0]) |
                 static_cast<unsigned char>(contents[1]) << 8;
    contents = contents.drop_front(2);
  } else if (major == 2 || major == 3) {
    if (contents.size() < 4)
      return fail("truncated .npy header");
    headerSize = 0;
    for (int i = 3; i >= 0; --i)
      headerSize = headerSize << 8 | static_cast<unsigned char>(contents[i]);
    contents = contents.drop_front(4);
  } else {
    return fail("unsupported .npy format version " + Twine(major));
  }
  if (contents.size() < headerSize)
    return fail("truncated .npy header");
  StringRef header = contents.take_front(headerSize);
  StringRef data = contents.drop_front(headerSize);

  std::optional<StringRef> descr = getHeaderEntry(header, "descr");
  std::optional<StringRef> fortran = getHeaderEntry(header, "fortran_order");
  std::optional<StringRef> shapeText = getHeaderEntry(header, "shape");
  if (!descr || !fortran || !shapeText)
    return fail("malformed .npy header: " + header.trim());
  if (*fortran != "False")
    return fail("Fortran-order .npy files are not supported; save the array "
                "in C order");
  Builder builder(context);
  StringRef dtype = descr->trim("'\"");
  Type elementType;
  size_t itemSize;
  if (dtype == "<f8")
    elementType = builder.getF64Type(), itemSize = 8;
  else if (dtype == "<f4")
    elementType = builder.getF32Type(), itemSize = 4;
  else if (dtype == "<i8")
    elementType = builder.getI64Type(), itemSize = 8;
  else if (dtype == "<i4")
    elementType = builder.getI32Type(), itemSize = 4;
  else if (dtype == "|b1")
    elementType = builder.getI1Type(), itemSize = 1;
  else
    return fail("unsupported .npy element type '" + dtype +
                "'; expected little-endian f8, f4, i8, i4 or b1");

  SmallVector<int64_t> shape;
  StringRef dims = shapeText->trim().drop_front().drop_back();
  SmallVector<StringRef> parts;
  dims.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef part : parts) {
    part = part.trim();
    if (part.empty())
      continue;
    int64_t dim;
    if (part.getAsInteger(10, dim) || dim < 0)
      return fail("malformed .npy shape " + *shapeText);
    shape.push_back(dim);
  }
  if (static_cast<int64_t>(shape.size()) > Tensor::kMaxRank)
    return fail("the .npy array has too many dimensions");
  std::optional<int64_t> count = Tensor::getElementCount(shape);
  if (!count || *count > Tensor::kMaxElements)
    return fail("the .npy array is too large");
  if (data.size() != static_cast<size_t>(*count) * itemSize)
    return fail("the .npy file has " + Twine(data.size()) +
                " bytes of data but its header needs " +
                Twine(*count * itemSize) + " (truncated or corrupt)");

  Tensor tensor(elementType, shape);
  auto readBits = [&](int64_t index) {
    uint64_t bits = 0;
    for (size_t b = itemSize; b-- > 0;)
      bits = bits << 8 | static_cast<unsigned char>(data[index * itemSize + b]);
    return bits;
  };
  for (int64_t i = 0; i < *count; ++i) {
    uint64_t bits = readBits(i);
    if (dtype == "<f8") {
      double value;
      std::memcpy(&value, &bits, sizeof(value));
      tensor.setFloat(i, value);
    } else if (dtype == "<f4") {
      auto narrow = static_cast<uint32_t>(bits);
      float value;
      std::memcpy(&value, &narrow, sizeof(value));
      tensor.setFloat(i, value);
    } else if (dtype == "<i4") {
      tensor.setInt(i, static_cast<int32_t>(bits));
    } else if (dtype == "|b1") {
      if (bits > 1)
        return fail("the .npy file holds a bool that is neither 0 nor 1");
      tensor.setInt(i, static_cast<int64_t>(bits));
    } else {
      tensor.setInt(i, static_cast<int64_t>(bits));
    }
  }
  return RuntimeValue(std::move(tensor));
}

FailureOr<std::string> leibniz::interp::writeNpy(const Tensor &tensor,
                                                 std::string &error) {
  Type type = tensor.getElementType();
  std::string descr;
  size_t itemSize;
  if (type.isF64())
    descr = "<f8", itemSize = 8;
  else if (type.isF32())
    descr = "<f4", itemSize = 4;
  else if (type.isInteger(64))
    descr = "<i8", itemSize = 8;
  else if (type.isInteger(32))
    descr = "<i4", itemSize = 4;
  else if (type.isInteger(1))
    descr = "|b1", itemSize = 1;
  else {
    error = "cannot write elements of type " + typeToString(type) +
            " to a .npy file";
    return failure();
  }
  std::string shape = "(";
  for (int64_t dim : tensor.getShape())
    shape += std::to_string(dim) + (tensor.getRank() == 1 ? "," : ", ");
  shape += ")";
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // The header, its newline and the 10-byte prefix fill a multiple of 64.
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string contents = "\x93NUMPY";
  contents += '\x01';
  contents += '\x00';
  contents += static_cast<char>(header.size() & 0xff);
  contents += static_cast<char>(header.size() >> 8);
  contents += header;
  for (int64_t e = 0; e < tensor.getNumElements(); ++e) {
    uint64_t bits;
    if (type.isF64()) {
      double value = tensor.getFloat(e);
      std::memcpy(&bits, &value, 8);
    } else if (type.isF32()) {
      float value = static_cast<float>(tensor.getFloat(e));
      uint32_t narrow;
      std::memcpy(&narrow, &value, 4);
      bits = narrow;
    } else {
      bits = static_cast<uint64_t>(tensor.getInt(e));
    }
    for (size_t b = 0; b < itemSize; ++b)
      contents += static_cast<char>(bits >> (8 * b) & 0xff);
  }
  return contents;
}
