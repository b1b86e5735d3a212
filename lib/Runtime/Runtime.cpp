//===- Runtime.cpp - The run-time support of compiled code ----------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/Runtime.h"
#include "Guard.h"
#include "leibniz/Runtime/Format.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

using namespace leibniz::runtime;

namespace {

/// Where a failed check on this thread jumps: the innermost
/// `leibniz_call_guarded`, or the chunk of a parallel loop.
thread_local std::jmp_buf *activeGuard = nullptr;
thread_local std::string lastError;

/// The losses of `lz.trace_loss`, in the order they were recorded.
struct TraceRecord {
  std::string loop;
  int64_t run, step;
  double loss;
};
std::mutex traceMutex;
std::vector<TraceRecord> traceRecords;
std::map<std::string, int64_t> traceRuns;

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

std::jmp_buf *leibniz::runtime::setCheckGuard(std::jmp_buf *guard) {
  std::jmp_buf *previous = activeGuard;
  activeGuard = guard;
  return previous;
}

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
  // The sizes, strides and odometer, on the stack for the usual ranks: a
  // copy in a loop's body (a stack's row at every step) must not allocate.
  constexpr int64_t kInlineRank = 8;
  int64_t inlineStorage[4 * kInlineRank];
  std::vector<int64_t> heapStorage;
  int64_t *storage = inlineStorage;
  if (rank > kInlineRank) {
    heapStorage.resize(4 * rank);
    storage = heapStorage.data();
  }
  int64_t *sizes = storage, *fromStrides = storage + rank,
          *toStrides = storage + 2 * rank, *index = storage + 3 * rank;
  std::fill(index, index + rank, 0);
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d) {
    sizes[d] = field(source->descriptor, 3 + d);
    fromStrides[d] = field(source->descriptor, 3 + rank + d);
    toStrides[d] = field(dest->descriptor, 3 + rank + d);
    count *= sizes[d];
  }
  if (count == 0)
    return;
  // Both contiguous in C order: one block.
  bool contiguous = true;
  for (int64_t d = rank - 1, expected = 1; d >= 0; --d) {
    if (sizes[d] != 1 &&
        (fromStrides[d] != expected || toStrides[d] != expected))
      contiguous = false;
    expected *= sizes[d];
  }
  if (contiguous) {
    std::memmove(to, from, count * elementSize);
    return;
  }
  // Otherwise the innermost dimension at a time (a block when both of its
  // strides are 1), with an odometer over the others.
  int64_t inner = rank ? sizes[rank - 1] : 1;
  int64_t fromInner = rank ? fromStrides[rank - 1] : 1;
  int64_t toInner = rank ? toStrides[rank - 1] : 1;
  for (int64_t row = 0, rows = count / inner; row < rows; ++row) {
    int64_t fromOffset = 0, toOffset = 0;
    for (int64_t d = 0; d + 1 < rank; ++d) {
      fromOffset += index[d] * fromStrides[d];
      toOffset += index[d] * toStrides[d];
    }
    const char *src = from + fromOffset * elementSize;
    char *dst = to + toOffset * elementSize;
    if (fromInner == 1 && toInner == 1) {
      std::memmove(dst, src, inner * elementSize);
    } else {
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(dst + i * toInner * elementSize,
                    src + i * fromInner * elementSize, elementSize);
    }
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
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

void leibniz_size_failed(const char *location, const char *what, int64_t size) {
  static thread_local char message[1024];
  std::snprintf(message, sizeof(message), "%s: error: %s %lld is negative",
                location, what, static_cast<long long>(size));
  leibniz_check_failed(message);
}

void leibniz_conversion_failed(const char *location, double value,
                               int64_t width, bool isSigned) {
  static thread_local char message[1024];
  std::snprintf(message, sizeof(message),
                "%s: error: float value %.17g does not fit in %s %lld-bit "
                "integer",
                location, value, isSigned ? "a signed" : "an unsigned",
                static_cast<long long>(width));
  leibniz_check_failed(message);
}

void leibniz_allocation_check(const char *location, double bytes) {
  static const double memory = [] {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? double(pages) * double(size) : INFINITY;
  }();
  if (bytes <= memory)
    return;
  static thread_local char message[1024];
  std::snprintf(message, sizeof(message),
                "%s: error: a new tensor needs %.3g GB, more than this "
                "machine's memory (%.3g GB)",
                location, bytes / 1e9, memory / 1e9);
  leibniz_check_failed(message);
}

void leibniz_tolerance_failed(const char *location, const char *what,
                              double value, double limit, bool strict) {
  static thread_local char message[1024];
  std::snprintf(message, sizeof(message),
                "%s: %s: %s is %.3g, above the tolerance %.3g", location,
                strict ? "error" : "warning", what, value, limit);
  if (strict)
    leibniz_check_failed(message);
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", message);
}

void leibniz_trace_loss(const char *location, const char *what, int64_t step,
                        double loss) {
  std::lock_guard<std::mutex> lock(traceMutex);
  std::string loop = std::string(location) + " (" + what + ")";
  int64_t &run = traceRuns[loop];
  if (step == 0)
    ++run;
  traceRecords.push_back({std::move(loop), run - 1, step, loss});
}

int64_t leibniz_trace_write(const char *path) {
  std::lock_guard<std::mutex> lock(traceMutex);
  FILE *file = std::fopen(path, "w");
  if (!file)
    return -1;
  std::fprintf(file, "loop,run,step,loss\n");
  for (const TraceRecord &record : traceRecords) {
    // Quoted, for the commas of file names; a quote doubled (RFC 4180),
    // and a line break made a space, so that each record is one line.
    std::string loop;
    for (char c : record.loop) {
      if (c == '"')
        loop += '"';
      loop += c == '\n' || c == '\r' ? ' ' : c;
    }
    std::fprintf(file, "\"%s\",%lld,%lld,%.17g\n", loop.c_str(),
                 static_cast<long long>(std::max<int64_t>(record.run, 0)),
                 static_cast<long long>(record.step), record.loss);
  }
  bool ok = std::fclose(file) == 0;
  return ok ? static_cast<int64_t>(traceRecords.size()) : -1;
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
