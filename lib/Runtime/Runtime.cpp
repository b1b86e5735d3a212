//===- Runtime.cpp - The run-time support of compiled code ----------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/Runtime.h"
#include "leibniz/Runtime/Format.h"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace leibniz::runtime;

namespace {

/// The innermost `leibniz_call_guarded` on this thread.
thread_local std::jmp_buf *activeGuard = nullptr;
thread_local std::string lastError;

/// The view of a ranked descriptor {allocated, aligned, offset, sizes,
/// strides} of `rank` dimensions.
ArrayView viewDescriptor(const void *descriptor, int64_t rank, DType dtype) {
  const char *bytes = static_cast<const char *>(descriptor);
  const char *aligned;
  int64_t offset;
  std::memcpy(&aligned, bytes + 8, 8);
  std::memcpy(&offset, bytes + 16, 8);
  ArrayView view{dtype, aligned + offset * getDTypeSize(dtype), {}, {}};
  view.shape.resize(rank);
  view.strides.resize(rank);
  std::memcpy(view.shape.data(), bytes + 24, 8 * rank);
  std::memcpy(view.strides.data(), bytes + 24 + 8 * rank, 8 * rank);
  return view;
}

void printLine(const std::string &text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

void printScalar(DType dtype, double floatValue, int64_t intValue) {
  printLine(formatScalar(dtype, floatValue, intValue));
}

void printTensor(LeibnizUnrankedMemRef *tensor, DType dtype) {
  printLine(
      formatArray(viewDescriptor(tensor->descriptor, tensor->rank, dtype)));
}

} // namespace

extern "C" {

void leibniz_print_f64(double value) { printScalar(DType::F64, value, 0); }
void leibniz_print_f32(float value) { printScalar(DType::F32, value, 0); }
void leibniz_print_i64(int64_t value) { printScalar(DType::I64, 0, value); }
void leibniz_print_i32(int32_t value) { printScalar(DType::I32, 0, value); }
void leibniz_print_i1(bool value) { printScalar(DType::I1, 0, value); }

void _mlir_ciface_leibniz_print_tensor_f64(LeibnizUnrankedMemRef *tensor) {
  printTensor(tensor, DType::F64);
}
void _mlir_ciface_leibniz_print_tensor_f32(LeibnizUnrankedMemRef *tensor) {
  printTensor(tensor, DType::F32);
}
void _mlir_ciface_leibniz_print_tensor_i64(LeibnizUnrankedMemRef *tensor) {
  printTensor(tensor, DType::I64);
}
void _mlir_ciface_leibniz_print_tensor_i32(LeibnizUnrankedMemRef *tensor) {
  printTensor(tensor, DType::I32);
}
void _mlir_ciface_leibniz_print_tensor_i1(LeibnizUnrankedMemRef *tensor) {
  printTensor(tensor, DType::I1);
}

void memrefCopy(int64_t elementSize, LeibnizUnrankedMemRef *source,
                LeibnizUnrankedMemRef *dest) {
  int64_t rank = source->rank;
  auto field = [](const void *descriptor, int64_t index) {
    int64_t value;
    std::memcpy(&value, static_cast<const char *>(descriptor) + 8 * index, 8);
    return value;
  };
  auto base = [&](const void *descriptor) {
    char *aligned;
    std::memcpy(&aligned, static_cast<const char *>(descriptor) + 8, 8);
    return aligned + field(descriptor, 2) * elementSize;
  };
  const char *from = base(source->descriptor);
  char *to = base(dest->descriptor);
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d)
    count *= field(source->descriptor, 3 + d);
  if (count == 0)
    return;
  // Walk the index space in C order, with an odometer over the dimensions.
  int64_t index[16] = {0};
  int64_t *indices = rank <= 16 ? index : new int64_t[rank]();
  for (int64_t e = 0; e < count; ++e) {
    int64_t fromOffset = 0, toOffset = 0;
    for (int64_t d = 0; d < rank; ++d) {
      fromOffset += indices[d] * field(source->descriptor, 3 + rank + d);
      toOffset += indices[d] * field(dest->descriptor, 3 + rank + d);
    }
    std::memcpy(to + toOffset * elementSize, from + fromOffset * elementSize,
                elementSize);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++indices[d] < field(source->descriptor, 3 + d))
        break;
      indices[d] = 0;
    }
  }
  if (indices != index)
    delete[] indices;
}

void leibniz_check_failed(const char *message) {
  lastError = message;
  if (activeGuard)
    std::longjmp(*activeGuard, 1);
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", message);
  std::exit(1);
}

void leibniz_bounds_failed(const char *location, int64_t index, int64_t dim,
                           int64_t size) {
  // No object with a destructor may live here: the report jumps away.
  static thread_local char message[1024];
  std::snprintf(message, sizeof(message),
                "%s: error: index %lld is out of bounds for dimension %lld "
                "of size %lld",
                location, static_cast<long long>(index),
                static_cast<long long>(dim), static_cast<long long>(size));
  leibniz_check_failed(message);
}

void leibniz_size_failed(const char *location, int64_t size) {
  static thread_local char message[1024];
  std::snprintf(message, sizeof(message), "%s: error: size %lld is negative",
                location, static_cast<long long>(size));
  leibniz_check_failed(message);
}

int leibniz_call_guarded(void (*function)(void **), void **arguments) {
  std::jmp_buf guard;
  std::jmp_buf *outer = activeGuard;
  if (setjmp(guard)) {
    activeGuard = outer;
    return 1;
  }
  activeGuard = &guard;
  function(arguments);
  activeGuard = outer;
  return 0;
}

const char *leibniz_last_error(void) { return lastError.c_str(); }

void leibniz_set_error(const char *message) { lastError = message; }
}
