//===- Alloc.cpp - The buffers of compiled code ---------------------------===//
//
// Part of Leibniz.
//
// Compiled code allocates its buffers with `leibniz_aligned_alloc` and
// frees them with `leibniz_free` (the pass `lz-runtime-allocator`). A loop
// that makes a tensor at every step frees one of the same size at every
// step, and malloc hands out other memory each time (aligned_alloc splits
// chunks, and large frees consolidate the bins): its bookkeeping and the
// cache misses of writing to memory that is not in the cache cost about a
// third of such a loop, and more than half of one that makes a small
// tensor at every point (glibc's aligned_alloc has no per-thread cache). Each
// thread keeps the last buffers it freed and hands the most recent one that
// fits out again: the loop then reuses a few buffers, warm in the cache. The
// buffers are malloc's, so that one that leaves compiled code (a result) is
// freed with free().
//
//===----------------------------------------------------------------------===//

#include "leibniz/Runtime/Runtime.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#define LEIBNIZ_BUFFER_CACHE 1
#endif
// AddressSanitizer must see every free, to report a use after it.
#if defined(__SANITIZE_ADDRESS__)
#undef LEIBNIZ_BUFFER_CACHE
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#undef LEIBNIZ_BUFFER_CACHE
#endif
#endif

#ifdef LEIBNIZ_BUFFER_CACHE
namespace {

/// The largest buffer a thread keeps, and the most it keeps in all.
constexpr size_t kMaxCachedBytes = 8 << 20;
constexpr size_t kMaxTotalBytes = 32 << 20;
constexpr unsigned kSlots = 16;

/// A thread's freed buffers, oldest first. Trivially destructible, so that
/// it outlives every destructor that runs at the thread's exit.
struct BufferCache {
  void *buffers[kSlots];
  size_t sizes[kSlots];
  unsigned count;
  size_t total;
  /// Set when the thread exits: then every buffer goes back to malloc.
  bool closed;
};

thread_local BufferCache cache;

/// Gives the cached buffers back to malloc when the thread exits.
struct CacheCloser {
  bool armed;
  ~CacheCloser() {
    for (unsigned i = 0; i < cache.count; ++i)
      std::free(cache.buffers[i]);
    cache.count = 0;
    cache.total = 0;
    cache.closed = true;
  }
};

thread_local CacheCloser closer;

void evictOldest() {
  std::free(cache.buffers[0]);
  cache.total -= cache.sizes[0];
  --cache.count;
  std::memmove(cache.buffers, cache.buffers + 1,
               cache.count * sizeof(cache.buffers[0]));
  std::memmove(cache.sizes, cache.sizes + 1,
               cache.count * sizeof(cache.sizes[0]));
}

} // namespace
#endif

void *leibniz_aligned_alloc(size_t alignment, size_t size) {
#ifdef LEIBNIZ_BUFFER_CACHE
  // The most recently freed buffer that holds `size` bytes, aligned, and
  // wastes at most a quarter of them (or 64 bytes).
  size_t waste = std::max<size_t>(size / 4, 64);
  for (unsigned i = cache.count; i-- > 0;) {
    size_t capacity = cache.sizes[i];
    void *buffer = cache.buffers[i];
    if (capacity < size || capacity - size > waste ||
        (alignment != 0 && reinterpret_cast<uintptr_t>(buffer) % alignment))
      continue;
    cache.total -= capacity;
    --cache.count;
    std::memmove(cache.buffers + i, cache.buffers + i + 1,
                 (cache.count - i) * sizeof(cache.buffers[0]));
    std::memmove(cache.sizes + i, cache.sizes + i + 1,
                 (cache.count - i) * sizeof(cache.sizes[0]));
    return buffer;
  }
#endif
  return std::aligned_alloc(alignment, size);
}

void leibniz_free(void *buffer) {
  if (!buffer)
    return;
#ifdef LEIBNIZ_BUFFER_CACHE
  // A buffer freed twice would be handed out twice.
  for (unsigned i = 0; i < cache.count; ++i)
    if (cache.buffers[i] == buffer)
      leibniz_check_failed("a buffer is freed twice");
  size_t capacity = malloc_usable_size(buffer);
  if (!cache.closed && capacity <= kMaxCachedBytes) {
    // The closer's destructor runs at the thread's exit once it is used.
    closer.armed = true;
    while (cache.count != 0 &&
           (cache.count == kSlots || cache.total + capacity > kMaxTotalBytes))
      evictOldest();
    cache.buffers[cache.count] = buffer;
    cache.sizes[cache.count] = capacity;
    ++cache.count;
    cache.total += capacity;
    return;
  }
#endif
  std::free(buffer);
}
