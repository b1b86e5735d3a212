//===- Format.cpp - NumPy-style printing of values ------------------------===//
//
// Part of Leibniz.
//
// Floats print with the fewest digits that give the value back in its own
// precision, as NumPy and Python do; an array uses one notation
// (positional or scientific) for all its elements and aligns their points.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/Format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <utility>

using namespace leibniz::runtime;

size_t leibniz::runtime::getDTypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::I1:
    return 1;
  }
  return 8;
}

double leibniz::runtime::roundToDType(DType dtype, double value) {
  if (dtype == DType::F32)
    return static_cast<double>(static_cast<float>(value));
  return value;
}

double ArrayView::getFloat(int64_t offset) const {
  if (wide || dtype == DType::F64)
    return static_cast<const double *>(data)[offset];
  return static_cast<const float *>(data)[offset];
}

int64_t ArrayView::getInt(int64_t offset) const {
  if (wide || dtype == DType::I64)
    return static_cast<const int64_t *>(data)[offset];
  if (dtype == DType::I32)
    return static_cast<const int32_t *>(data)[offset];
  return static_cast<const bool *>(data)[offset];
}

namespace {

constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdgeItems = 3;
constexpr size_t kLineWidth = 75;
constexpr int kPrecision = 8;

/// Splits `%e` output into the mantissa and the decimal exponent.
std::pair<std::string, int> splitExponent(const char *text) {
  const char *e = std::strchr(text, 'e');
  if (!e)
    return {text, 0};
  return {std::string(text, e), std::atoi(e + 1)};
}

std::string formatExponent(int exp) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "e%c%02d", exp < 0 ? '-' : '+',
                std::abs(exp));
  return buffer;
}

/// The shortest decimal digits that round-trip `value` at the precision of
/// `dtype`, as (mantissa digits without the point, decimal exponent).
std::pair<std::string, int>
shortestDigits(double value, const std::function<double(double)> &round) {
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*e", precision - 1, value);
    if (round(std::strtod(buffer, nullptr)) == value)
      break;
  }
  auto [mantissa, exp] = splitExponent(buffer);
  std::string digits;
  for (char c : mantissa)
    if (std::isdigit(static_cast<unsigned char>(c)))
      digits.push_back(c);
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  return {digits, exp};
}

std::string formatSpecialFloat(double value) {
  if (std::isnan(value))
    return "nan";
  return value < 0 ? "-inf" : "inf";
}

/// Python's repr of a float scalar: positional for exponents in [-4, 16),
/// scientific otherwise, always with a point or an exponent.
std::string formatFloatScalar(double value,
                              const std::function<double(double)> &round) {
  if (!std::isfinite(value))
    return formatSpecialFloat(value);
  std::string sign = std::signbit(value) ? "-" : "";
  auto [digits, exp] = shortestDigits(std::fabs(value), round);
  if (exp < -4 || exp >= 16) {
    std::string result = sign + digits.substr(0, 1);
    if (digits.size() > 1)
      result += "." + digits.substr(1);
    return result + formatExponent(exp);
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

std::string formatIntScalar(int64_t value, DType dtype) {
  if (dtype == DType::I1)
    return value ? "True" : "False";
  return std::to_string(value);
}

/// Formats the elements of a float array NumPy's way: one mode for the
/// whole array (positional or scientific), digits trimmed per element, then
/// padded so that points line up.
std::vector<std::string>
formatFloatElements(const ArrayView &array, const std::vector<int64_t> &shown) {
  double maxAbs = 0, minAbs = INFINITY;
  bool anyFinite = false;
  for (int64_t i : shown) {
    double v = array.getFloat(i);
    if (!std::isfinite(v) || v == 0)
      continue;
    anyFinite = true;
    maxAbs = std::max(maxAbs, std::fabs(v));
    minAbs = std::min(minAbs, std::fabs(v));
  }
  auto round = [&](double v) {
    return array.roundToPrecision ? array.roundToPrecision(v)
                                  : roundToDType(array.dtype, v);
  };
  bool scientific =
      anyFinite && (maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs / minAbs > 1e3);

  // Split each element into the parts before and after the point.
  size_t count = shown.size();
  std::vector<std::pair<std::string, std::string>> parts(count);
  std::vector<std::string> specials(count), exps(count);
  size_t maxLeft = 0, maxRight = 0;
  for (size_t pos = 0; pos < count; ++pos) {
    double v = array.getFloat(shown[pos]);
    if (!std::isfinite(v)) {
      specials[pos] = formatSpecialFloat(v);
      continue;
    }
    char buffer[64];
    // The fewest digits (at most kPrecision after the point) that give the
    // value back in its element type, as NumPy's unique formatting does.
    const char *format = scientific ? "%.*e" : "%.*f";
    for (int digits = 0; digits <= kPrecision; ++digits) {
      std::snprintf(buffer, sizeof(buffer), format, digits, v);
      if (round(std::strtod(buffer, nullptr)) == v)
        break;
    }
    std::string text = buffer;
    if (scientific) {
      auto [mantissa, exp] = splitExponent(buffer);
      text = mantissa;
      exps[pos] = formatExponent(exp);
    }
    if (text.find('.') == std::string::npos)
      text += ".";
    while (text.back() == '0')
      text.pop_back();
    size_t point = text.find('.');
    parts[pos] = {text.substr(0, point), text.substr(point)};
    maxLeft = std::max(maxLeft, parts[pos].first.size());
    maxRight = std::max(maxRight, parts[pos].second.size());
  }

  std::vector<std::string> result;
  size_t width = 0;
  for (size_t pos = 0; pos < count; ++pos) {
    if (!specials[pos].empty()) {
      result.push_back(specials[pos]);
    } else {
      const auto &[left, right] = parts[pos];
      // Scientific mantissas pad with zeros, positional fractions with
      // spaces.
      result.push_back(
          std::string(maxLeft - left.size(), ' ') + left + right +
          std::string(maxRight - right.size(), scientific ? '0' : ' ') +
          exps[pos]);
    }
    width = std::max(width, result.back().size());
  }
  for (std::string &s : result)
    if (s.size() < width)
      s = std::string(width - s.size(), ' ') + s;
  return result;
}

class ArrayPrinter {
public:
  explicit ArrayPrinter(const ArrayView &array) : array(array) {
    int64_t numElements = 1;
    for (int64_t size : array.shape)
      numElements *= size;
    summarize = numElements > kThreshold;
    std::vector<int64_t> shown;
    collectShown(0, 0, shown);
    std::vector<std::string> texts;
    if (isFloat(array.dtype)) {
      texts = formatFloatElements(array, shown);
    } else {
      size_t width = 0;
      for (int64_t i : shown) {
        texts.push_back(formatIntScalar(array.getInt(i), array.dtype));
        width = std::max(width, texts.back().size());
      }
      for (std::string &s : texts)
        s = std::string(width - s.size(), ' ') + s;
    }
    for (size_t i = 0; i < shown.size(); ++i)
      formatted[shown[i]] = texts[i];
  }

  std::string print() {
    std::string text;
    printDim(0, 0, text);
    return text;
  }

private:
  /// The positions shown along a dimension of size `size`; -1 is the
  /// ellipsis.
  std::vector<int64_t> shownPositions(int64_t size) const {
    std::vector<int64_t> positions;
    if (summarize && size > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i)
        positions.push_back(i);
      positions.push_back(-1);
      for (int64_t i = size - kEdgeItems; i < size; ++i)
        positions.push_back(i);
    } else {
      for (int64_t i = 0; i < size; ++i)
        positions.push_back(i);
    }
    return positions;
  }

  int64_t getRank() const { return array.shape.size(); }

  void collectShown(int64_t dim, int64_t offset, std::vector<int64_t> &out) {
    if (dim == getRank()) {
      out.push_back(offset);
      return;
    }
    for (int64_t i : shownPositions(array.shape[dim]))
      if (i >= 0)
        collectShown(dim + 1, offset + i * array.strides[dim], out);
  }

  /// Appends dimension `dim` at `offset` to `text`, whose last line is the
  /// current output line.
  void printDim(int64_t dim, int64_t offset, std::string &text) {
    int64_t rank = getRank();
    std::string indent(dim + 1, ' ');
    text += "[";
    std::vector<int64_t> positions = shownPositions(array.shape[dim]);
    if (dim == rank - 1) {
      size_t lineStart = text.rfind('\n');
      lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
      for (size_t n = 0; n < positions.size(); ++n) {
        int64_t i = positions[n];
        std::string word =
            i < 0 ? "..." : formatted[offset + i * array.strides[dim]];
        bool first = n == 0, last = n + 1 == positions.size();
        size_t needed = text.size() - lineStart + (first ? 0 : 1) +
                        word.size() + (last ? dim + 1 : 0);
        if (!first && needed > kLineWidth) {
          text += "\n" + indent;
          lineStart = text.size() - indent.size();
        } else if (!first) {
          text += " ";
        }
        text += word;
      }
      text += "]";
      return;
    }
    std::string separator = "\n" + std::string(rank - dim - 2, '\n') + indent;
    for (size_t n = 0; n < positions.size(); ++n) {
      if (n > 0)
        text += separator;
      if (positions[n] < 0)
        text += "...";
      else
        printDim(dim + 1, offset + positions[n] * array.strides[dim], text);
    }
    text += "]";
  }

  const ArrayView &array;
  bool summarize = false;
  std::unordered_map<int64_t, std::string> formatted;
};

} // namespace

std::string leibniz::runtime::formatScalar(DType dtype, double floatValue,
                                           int64_t intValue) {
  if (!isFloat(dtype))
    return formatIntScalar(intValue, dtype);
  return formatFloatScalar(
      floatValue, [dtype](double v) { return roundToDType(dtype, v); });
}

std::string leibniz::runtime::formatArray(const ArrayView &array) {
  if (array.shape.empty()) {
    if (!isFloat(array.dtype))
      return formatIntScalar(array.getInt(0), array.dtype);
    if (array.roundToPrecision)
      return formatFloatScalar(array.getFloat(0), array.roundToPrecision);
    return formatScalar(array.dtype, array.getFloat(0), 0);
  }
  for (int64_t size : array.shape)
    if (size == 0)
      return "[]";
  return ArrayPrinter(array).print();
}
