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

/// The value of `key` in the header dictionary: the text after `'key':` up
/// to the next top-level comma or the closing brace.
std::optional<std::string_view> getHeaderEntry(std::string_view header,
                                               const std::string &key) {
  size_t pos = header.find("'" + key + "'");
  if (pos == std::string_view::npos)
    return std::nullopt;
  std::string_view rest = trim(header.substr(pos + key.size() + 2));
  if (rest.empty() || rest.front() != ':')
    return std::nullopt;
  rest = trim(rest.substr(1));
  if (!rest.empty() && rest.front() == '(') {
    size_t close = rest.find(')');
    if (close == std::string_view::npos)
      return std::nullopt;
    return rest.substr(0, close + 1);
  }
  return trim(rest.substr(0, rest.find_first_of(",}")));
}

bool parseDims(std::string_view text, std::vector<int64_t> &shape) {
  text = trim(text);
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    return false;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view()
                                           : text.substr(comma + 1);
    if (part.empty())
      continue;
    int64_t dim = 0;
    for (char c : part) {
      if (c < '0' || c > '9' || dim > (INT64_MAX - 9) / 10)
        return false;
      dim = dim * 10 + (c - '0');
    }
    shape.push_back(dim);
  }
  return true;
}

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
  contents.remove_prefix(2);
  size_t lengthBytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3)
    return fail("unsupported .npy format version " + std::to_string(major));
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

  std::optional<std::string_view> descr = getHeaderEntry(header, "descr");
  std::optional<std::string_view> fortran =
      getHeaderEntry(header, "fortran_order");
  std::optional<std::string_view> shapeText = getHeaderEntry(header, "shape");
  if (!descr || !fortran || !shapeText)
    return fail("malformed .npy header: " + std::string(trim(header)));
  if (*fortran == "True")
    return fail("Fortran-order .npy files are not supported; save the array "
                "in C order");
  if (*fortran != "False")
    return fail("malformed .npy header: 'fortran_order' is " +
                std::string(*fortran) + ", not True or False");
  std::string_view dtype = trim(*descr, "'\"");
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
    return fail("unsupported .npy element type '" + std::string(dtype) +
                "'; expected little-endian f8, f4, i8, i4 or b1");

  array.shape.clear();
  if (!parseDims(*shapeText, array.shape))
    return fail("malformed .npy shape " + std::string(*shapeText));
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
