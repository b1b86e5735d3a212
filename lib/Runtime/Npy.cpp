//===- Npy.cpp - Reading and writing .npy files ---------------------------===//
//
// Part of Leibniz.
//
// The format: the magic string "\x93NUMPY", a major and minor version, the
// header's length (2 bytes little-endian in version 1, 4 bytes in versions
// 2 and 3), then a Python dict literal with 'descr', 'fortran_order' and
// 'shape', padded with spaces and a newline; the data follows.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/Npy.h"

#include <cstring>
#include <optional>

using namespace leibniz::runtime;

namespace {

std::string_view trim(std::string_view text, std::string_view chars = " \t\n") {
  size_t begin = text.find_first_not_of(chars);
  if (begin == std::string_view::npos)
    return {};
  size_t end = text.find_last_not_of(chars);
  return text.substr(begin, end - begin + 1);
}

/// `text` printable: other bytes as \xNN.
std::string printable(std::string_view text) {
  std::string result;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      result += c;
      continue;
    }
    static const char kHex[] = "0123456789abcdef";
    result += "\\x";
    result += kHex[byte >> 4];
    result += kHex[byte & 15];
  }
  return result;
}

/// The header: a Python dict literal of exactly the keys 'descr' (a
/// string), 'fortran_order' (True or False) and 'shape' (a tuple of
/// non-negative integers), as NumPy writes and reads it.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : text(text) {}

  /// Parses the header; on failure, `error` says why.
  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape, std::string &error) {
    bool seenDescr = false, seenFortran = false, seenShape = false;
    skipSpace();
    if (!consume('{'))
      return fail("expected '{'", error);
    skipSpace();
    while (!consume('}')) {
      size_t keyStart = pos;
      std::string key;
      if (!parseString(key))
        return fail("expected a key in quotes or '}'", error);
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after '" + printable(key) + "'", error);
      skipSpace();
      bool *seen = key == "descr"           ? &seenDescr
                   : key == "fortran_order" ? &seenFortran
                   : key == "shape"         ? &seenShape
                                            : nullptr;
      if (!seen || *seen) {
        pos = keyStart;
        return fail(seen ? "the key '" + key + "' appears twice"
                         : "unexpected key '" + printable(key) +
                               "' (expected 'descr', 'fortran_order' and "
                               "'shape')",
                    error);
      }
      *seen = true;
      size_t valueStart = pos;
      bool ok = key == "descr"           ? parseString(descr)
                : key == "fortran_order" ? parseBool(fortranOrder)
                                         : parseShape(shape, error);
      if (!ok && error.empty())
        pos = valueStart;
      if (!ok)
        return error.empty()
                   ? fail(key == "descr" ? "'descr' must be a string in quotes"
                          : key == "fortran_order"
                              ? "'fortran_order' must be True or False"
                              : "'shape' must be a tuple of integers, such as "
                                "(3,) or (2, 3)",
                          error)
                   : false;
      skipSpace();
      if (consume(','))
        skipSpace();
      else if (!peek('}'))
        return fail("expected ',' or '}'", error);
    }
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after '}'", error);
    if (!seenDescr || !seenFortran || !seenShape) {
      error = std::string("missing the key '") +
              (!seenDescr     ? "descr"
               : !seenFortran ? "fortran_order"
                              : "shape") +
              "'";
      return false;
    }
    return true;
  }

private:
  bool fail(const std::string &message, std::string &error) {
    error = message + " at column " + std::to_string(pos + 1);
    return false;
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  bool peek(char c) const { return pos < text.size() && text[pos] == c; }
  bool consume(char c) {
    if (!peek(c))
      return false;
    ++pos;
    return true;
  }
  bool consumeWord(std::string_view word) {
    if (text.substr(pos, word.size()) != word)
      return false;
    pos += word.size();
    return true;
  }

  /// A string in single or double quotes, without escapes.
  bool parseString(std::string &value) {
    if (!peek('\'') && !peek('"'))
      return false;
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string_view::npos ||
        text.substr(pos, end - pos).find('\\') != std::string_view::npos)
      return false;
    value = std::string(text.substr(pos, end - pos));
    pos = end + 1;
    return true;
  }

  bool parseBool(bool &value) {
    if (consumeWord("True"))
      return value = true, true;
    if (consumeWord("False"))
      return value = false, true;
    return false;
  }

  /// `()`, `(n,)`, `(n, m)`, `(n, m,)`, ...: a tuple, which `(n)` is not.
  bool parseShape(std::vector<int64_t> &shape, std::string &error) {
    if (!consume('('))
      return false;
    skipSpace();
    size_t count = 0;
    bool trailingComma = false;
    while (!consume(')')) {
      size_t start = pos;
      int64_t dim = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (dim > (INT64_MAX - 9) / 10) {
          size_t end = text.find_first_not_of("0123456789", start);
          std::string digits(text.substr(start, end - start));
          pos = start;
          return fail("the dimension " + digits + " is too large", error);
        }
        dim = dim * 10 + (text[pos++] - '0');
      }
      if (pos == start)
        return false;
      consume('L'); // As Python 2 wrote them.
      shape.push_back(dim);
      ++count;
      skipSpace();
      trailingComma = consume(',');
      skipSpace();
      if (!trailingComma && !peek(')'))
        return false;
    }
    return count != 1 || trailingComma;
  }

  std::string_view text;
  size_t pos = 0;
};

} // namespace

bool leibniz::runtime::parseNpy(std::string_view contents, NpyArray &array,
                                std::string &error, int64_t maxRank,
                                int64_t maxElements) {
  auto fail = [&](std::string message) {
    error = std::move(message);
    return false;
  };
  static constexpr std::string_view kMagic = "\x93NUMPY";
  if (contents.substr(0, kMagic.size()) != kMagic ||
      contents.size() < kMagic.size() + 2)
    return fail("not a .npy file (bad magic string)");
  contents.remove_prefix(kMagic.size());
  auto major = static_cast<unsigned char>(contents[0]);
  auto minor = static_cast<unsigned char>(contents[1]);
  contents.remove_prefix(2);
  size_t lengthBytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3 || minor != 0)
    return fail("unsupported .npy format version " + std::to_string(major) +
                "." + std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
  if (contents.size() < lengthBytes)
    return fail("truncated .npy header");
  size_t headerSize = 0;
  for (size_t i = lengthBytes; i-- > 0;)
    headerSize = headerSize << 8 | static_cast<unsigned char>(contents[i]);
  contents.remove_prefix(lengthBytes);
  if (contents.size() < headerSize)
    return fail("truncated .npy header");
  std::string_view header = contents.substr(0, headerSize);
  std::string_view data = contents.substr(headerSize);

  std::string dtype, headerError;
  bool fortranOrder = false;
  array.shape.clear();
  if (!HeaderParser(header).parse(dtype, fortranOrder, array.shape,
                                  headerError))
    return fail("malformed .npy header: " + headerError + ": " +
                printable(trim(header)));
  if (fortranOrder)
    return fail("Fortran-order .npy files are not supported; save the array "
                "in C order");
  if (dtype == "<f8")
    array.dtype = DType::F64;
  else if (dtype == "<f4")
    array.dtype = DType::F32;
  else if (dtype == "<i8")
    array.dtype = DType::I64;
  else if (dtype == "<i4")
    array.dtype = DType::I32;
  else if (dtype == "|b1")
    array.dtype = DType::I1;
  else
    return fail("unsupported .npy element type '" + printable(dtype) +
                "'; expected little-endian f8, f4, i8, i4 or b1");

  if (static_cast<int64_t>(array.shape.size()) > maxRank)
    return fail("the .npy array has too many dimensions");
  int64_t count = 1;
  for (int64_t dim : array.shape) {
    // Also in an empty array: its loops would still run over the others.
    if (dim > maxElements)
      return fail("the .npy array has a dimension of " + std::to_string(dim) +
                  ", more than the " + std::to_string(maxElements) +
                  " elements an array may have");
    if (dim != 0 && count > maxElements / dim)
      return fail("the .npy array is too large");
    count *= dim;
  }
  if (count > maxElements)
    return fail("the .npy array is too large");
  size_t itemSize = getDTypeSize(array.dtype);
  if (data.size() != static_cast<size_t>(count) * itemSize)
    return fail("the .npy file has " + std::to_string(data.size()) +
                " bytes of data but its header needs " +
                std::to_string(count * itemSize) + " (truncated or corrupt)");
  if (array.dtype == DType::I1)
    for (char byte : data)
      if (static_cast<unsigned char>(byte) > 1)
        return fail("the .npy file holds a bool that is neither 0 nor 1");
  array.data.assign(data.begin(), data.end());
  return true;
}

std::string leibniz::runtime::serializeNpy(DType dtype,
                                           const std::vector<int64_t> &shape,
                                           const void *data) {
  static const char *const kDescr[] = {"<f8", "<f4", "<i8", "<i4", "|b1"};
  std::string shapeText = "(";
  int64_t count = 1;
  for (int64_t dim : shape) {
    shapeText += std::to_string(dim) + (shape.size() == 1 ? "," : ", ");
    count *= dim;
  }
  shapeText += ")";
  std::string header =
      "{'descr': '" + std::string(kDescr[static_cast<int>(dtype)]) +
      "', 'fortran_order': False, 'shape': " + shapeText + ", }";
  // The header, its newline and the 10-byte prefix fill a multiple of 64.
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string contents = "\x93NUMPY";
  contents += '\x01';
  contents += '\x00';
  contents += static_cast<char>(header.size() & 0xff);
  contents += static_cast<char>(header.size() >> 8);
  contents += header;
  contents.append(static_cast<const char *>(data), count * getDTypeSize(dtype));
  return contents;
}
