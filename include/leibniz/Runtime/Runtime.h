//===- Runtime.h - The run-time support of compiled code --------*- C++ -*-===//
//
// Part of Leibniz.
//
// The functions that compiled Leibniz code calls: printing, copies between
// strided buffers, and the reports of failed run-time checks. The JIT
// resolves them in the compiler's process; `leibniz compile` links them
// into the library it writes. Plain C++ with a C interface, no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_RUNTIME_RUNTIME_H
#define LEIBNIZ_RUNTIME_RUNTIME_H

#include <cstddef>
#include <cstdint>

extern "C" {

/// An unranked memref as compiled code passes it: the rank and a pointer to
/// a ranked descriptor {allocated, aligned, offset, sizes[rank],
/// strides[rank]}.
struct LeibnizUnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

/// `lz.print` of a scalar: prints the value and a newline to stdout.
void leibniz_print_f64(double value);
void leibniz_print_f32(float value);
void leibniz_print_i64(int64_t value);
void leibniz_print_i32(int32_t value);
void leibniz_print_i1(bool value);

/// `lz.print` of a tensor, with its C interface.
void _mlir_ciface_leibniz_print_tensor_f64(LeibnizUnrankedMemRef *tensor);
void _mlir_ciface_leibniz_print_tensor_f32(LeibnizUnrankedMemRef *tensor);
void _mlir_ciface_leibniz_print_tensor_i64(LeibnizUnrankedMemRef *tensor);
void _mlir_ciface_leibniz_print_tensor_i32(LeibnizUnrankedMemRef *tensor);
void _mlir_ciface_leibniz_print_tensor_i1(LeibnizUnrankedMemRef *tensor);

/// Copies the elements of a strided buffer into another of the same shape
/// (the function that MLIR's memref lowering calls for `memref.copy`).
void memrefCopy(int64_t elementSize, LeibnizUnrankedMemRef *source,
                LeibnizUnrankedMemRef *dest);

/// Reports a failed run-time check (`--checks`) and leaves the compiled
/// code: back to the innermost `leibniz_call_guarded`, which returns
/// failure, or, outside one, by printing the message and exiting with
/// status 1.
[[noreturn]] void leibniz_check_failed(const char *message);

/// A failed bounds check: `index` is outside [0, size) in dimension `dim`.
/// `location` is the source location of the read, "file:line:col".
[[noreturn]] void leibniz_bounds_failed(const char *location, int64_t index,
                                        int64_t dim, int64_t size);

/// A failed size check: `what` ("size": a new tensor's size, computed from
/// the arguments; "range": a scope's range) is negative.
[[noreturn]] void leibniz_size_failed(const char *location, const char *what,
                                      int64_t size);

/// A failed conversion check: the float `value` truncated does not fit in
/// a signed (or, without `isSigned`, an unsigned) integer of `width` bits.
[[noreturn]] void leibniz_conversion_failed(const char *location, double value,
                                            int64_t width, bool isSigned);

/// Reports a failed check when a new tensor of `bytes` (at `location`)
/// would not fit in the machine's physical memory: its allocation would
/// fail, or swap for hours.
void leibniz_allocation_check(const char *location, double bytes);

/// A value above its tolerance (`lz.check_tolerance` at `location`):
/// prints a warning that `what` is `value`, above `limit`, to stderr, or,
/// with `strict`, reports it as a failed check.
void leibniz_tolerance_failed(const char *location, const char *what,
                              double value, double limit, bool strict);

/// Records the loss `loss` of step `step` (0-based) of the optimizer loop
/// `what` ("minimize", "argmin") at `location` (`lz.trace_loss`). Safe to
/// call from several threads.
void leibniz_trace_loss(const char *location, const char *what, int64_t step,
                        double loss);

/// Writes the recorded losses to `path` as CSV, in the order they were
/// recorded, with the header `loop,run,step,loss`: `loop` is "location
/// (what)", `run` counts the runs of that loop from 0 (a run starts at
/// step 0). Returns the number of rows, or -1 when the file cannot be
/// written.
int64_t leibniz_trace_write(const char *path);

/// Calls `function(arguments)`, a packed entry of compiled code. Returns 0,
/// or 1 when a run-time check failed; its message is then in
/// `leibniz_last_error()`.
int leibniz_call_guarded(void (*function)(void **), void **arguments);

/// The message of the last failed check on this thread ("" if none).
const char *leibniz_last_error(void);

/// Sets the message that `leibniz_last_error` returns.
void leibniz_set_error(const char *message);

/// Runs `body(context, b, e)` over chunks [b, e) that cover [begin, end),
/// on the calling thread and the runtime's worker threads, and returns when
/// all are done. `cost` estimates the work of one iteration; loops whose
/// total estimate is small, and loops started from inside a parallel loop,
/// run on the calling thread alone. A failed run-time check in any chunk
/// is reported as the failure of the first failing iteration in order, as
/// a sequential loop would report it.
void leibniz_parallel_for(void (*body)(void *, int64_t, int64_t), void *context,
                          int64_t begin, int64_t end, int64_t cost);

/// The allocation and deallocation of compiled code's buffers
/// (`lz-runtime-allocator`): aligned_alloc and free, except that each
/// thread keeps up to 16 buffers of at most 8 MiB that it freed (32 MiB
/// in all) and hands the most recent one that fits out again, so that a
/// loop making a tensor per step reuses warm memory. The buffers are
/// malloc's: free() frees them.
void *leibniz_aligned_alloc(size_t alignment, size_t size);
void leibniz_free(void *buffer);

/// The number of threads that parallel loops use: the calling thread and
/// `count - 1` workers. Initially the value of the environment variable
/// LEIBNIZ_NUM_THREADS, or else the number of cores. `count` < 1 means 1.
void leibniz_set_num_threads(int64_t count);
int64_t leibniz_get_num_threads(void);
}

#endif // LEIBNIZ_RUNTIME_RUNTIME_H
