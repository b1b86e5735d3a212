//===- Parallel.cpp - Parallel loops of compiled code ---------------------===//
//
// Part of Leibniz.
//
// A fork-join pool for `leibniz_parallel_for`. The calling thread and the
// workers take chunks of the iteration space from a shared counter, in
// increasing order. A failed run-time check in a chunk is caught on the
// thread that ran it; the chunks after it are skipped, those before it
// still run, and the failure of the first failing chunk is reported on the
// calling thread, so that the reported failure is the one a sequential
// loop reports.
//
//===----------------------------------------------------------------------===//

#include "Guard.h"
#include "leibniz/Runtime/Runtime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csetjmp>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

/// Loops whose estimated work is below this run on the calling thread: a
/// fork and join cost about as much as this many simple operations.
constexpr int64_t kMinParallelWork = 1 << 16;

/// How long an idle thread spins before it sleeps.
constexpr std::chrono::microseconds kSpinTime(100);

/// One parallel loop.
struct Job {
  void (*body)(void *, int64_t, int64_t);
  void *context;
  int64_t begin, end, chunkSize, numChunks;
  std::atomic<int64_t> nextChunk{0};
  /// The first chunk whose run failed, or numChunks.
  std::atomic<int64_t> failedChunk;
  std::mutex errorMutex;
  std::string error;
};

/// Whether this thread is running a chunk.
thread_local bool inParallelLoop = false;

/// Runs chunk `chunk` of `job`, catching a failed check. No object with a
/// destructor may live in this frame: a failure jumps back into it.
bool runChunk(Job &job, int64_t chunk) {
  int64_t begin = job.begin + chunk * job.chunkSize;
  int64_t end = std::min(job.end, begin + job.chunkSize);
  std::jmp_buf guard;
  if (setjmp(guard))
    return false;
  leibniz::runtime::setCheckGuard(&guard);
  job.body(job.context, begin, end);
  return true;
}

/// Takes chunks of `job` until none is left.
void work(Job &job) {
  inParallelLoop = true;
  std::jmp_buf *outer = leibniz::runtime::setCheckGuard(nullptr);
  for (;;) {
    int64_t chunk = job.nextChunk.fetch_add(1);
    if (chunk >= job.numChunks || chunk > job.failedChunk.load())
      break;
    if (runChunk(job, chunk))
      continue;
    std::lock_guard<std::mutex> lock(job.errorMutex);
    if (chunk < job.failedChunk.load()) {
      job.failedChunk = chunk;
      job.error = leibniz_last_error();
    }
  }
  leibniz::runtime::setCheckGuard(outer);
  inParallelLoop = false;
}

/// Waits briefly for `ready()` by spinning, which is much faster to wake
/// than a condition variable when loops follow each other closely. After
/// the first microseconds the spinning thread yields its core at each
/// round, so that other threads (OpenBLAS's, the program's) can run.
/// Returns whether `ready()` became true.
template <typename Ready> bool spinUntil(Ready ready) {
  auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int round = 0;; ++round) {
    for (int i = 0; i < 64; ++i) {
      if (ready())
        return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (std::chrono::steady_clock::now() > deadline)
      return ready();
    if (round >= 16)
      std::this_thread::yield();
  }
}

class ThreadPool {
public:
  static ThreadPool &get() {
    static ThreadPool pool;
    return pool;
  }

  int64_t getNumThreads() { return numThreads.load(); }

  void setNumThreads(int64_t count) {
    std::lock_guard<std::mutex> busy(runMutex);
    stopWorkers();
    numThreads = std::max<int64_t>(count, 1);
  }

  /// Runs `job` on this thread and the workers. Returns false, running
  /// nothing, when another thread is using the pool.
  bool run(Job &job) {
    std::unique_lock<std::mutex> busy(runMutex, std::try_to_lock);
    if (!busy.owns_lock())
      return false;
    startWorkers();
    current.store(&job);
    pending.store(workers.size());
    {
      // Under the lock, so that a worker going to sleep sees it.
      std::lock_guard<std::mutex> lock(mutex);
      generation.fetch_add(1);
    }
    wake.notify_all();
    work(job);
    auto finished = [&] { return pending.load() == 0; };
    if (!spinUntil(finished)) {
      std::unique_lock<std::mutex> lock(mutex);
      done.wait(lock, finished);
    }
    current.store(nullptr);
    return true;
  }

private:
  ThreadPool() {
    int64_t count = std::thread::hardware_concurrency();
    if (const char *env = std::getenv("LEIBNIZ_NUM_THREADS"))
      count = std::atoll(env);
    numThreads = std::max<int64_t>(count, 1);
  }
  ~ThreadPool() { stopWorkers(); }

  void startWorkers() {
    while (static_cast<int64_t>(workers.size()) + 1 < numThreads.load())
      workers.emplace_back([this, seen = generation.load()] { loop(seen); });
  }

  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
    workers.clear();
    stopping = false;
  }

  void loop(uint64_t seen) {
    for (;;) {
      auto woken = [&] { return stopping.load() || generation.load() != seen; };
      if (!spinUntil(woken)) {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, woken);
      }
      if (stopping.load())
        return;
      seen = generation.load();
      work(*current.load());
      if (pending.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex);
        done.notify_one();
      }
    }
  }

  std::atomic<int64_t> numThreads;
  /// Held by the thread whose loop the pool runs.
  std::mutex runMutex;
  /// With the condition variables, for sleeping and waking.
  std::mutex mutex;
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  std::atomic<Job *> current{nullptr};
  std::atomic<uint64_t> generation{0};
  std::atomic<size_t> pending{0};
  std::atomic<bool> stopping{false};
};

/// The message of a failed parallel loop, kept while the failure is
/// reported (the report jumps away).
thread_local std::string parallelError;

} // namespace

void leibniz_parallel_for(void (*body)(void *, int64_t, int64_t), void *context,
                          int64_t begin, int64_t end, int64_t cost) {
  if (end <= begin)
    return;
  int64_t iterations = end - begin;
  ThreadPool &pool = ThreadPool::get();
  int64_t threads = pool.getNumThreads();
  // iterations * cost < kMinParallelWork, without overflow.
  bool small = cost <= 0 || iterations < (kMinParallelWork + cost - 1) / cost;
  if (inParallelLoop || threads == 1 || iterations == 1 || small) {
    body(context, begin, end);
    return;
  }
  bool failed = false;
  {
    Job job;
    job.body = body;
    job.context = context;
    job.begin = begin;
    job.end = end;
    // A few chunks per thread balance uneven iterations.
    int64_t wanted = std::min(iterations, threads * 4);
    job.chunkSize = (iterations + wanted - 1) / wanted;
    job.numChunks = (iterations + job.chunkSize - 1) / job.chunkSize;
    job.failedChunk = job.numChunks;
    if (!pool.run(job)) {
      body(context, begin, end);
      return;
    }
    if (job.failedChunk.load() < job.numChunks) {
      failed = true;
      parallelError = job.error;
    }
  }
  if (failed)
    leibniz_check_failed(parallelError.c_str());
}

void leibniz_set_num_threads(int64_t count) {
  ThreadPool::get().setNumThreads(count);
}

int64_t leibniz_get_num_threads(void) {
  return ThreadPool::get().getNumThreads();
}
