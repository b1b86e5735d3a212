//===- Pipeline.cpp - The tensor search in the compiler's pipeline --------===//
//
// Part of Leibniz.
//
// At -O3 (or with --search) the driver searches every definition the
// search handles and chooses a derivation by its analytic cost or, with
// --search-measure, by timing the cheapest ones and the expression. The
// choice is cached on disk under the expression's fingerprint, as the
// positions of its steps among the derivations of each state (or as the
// expression kept), so that compiling the program again replays it
// instead of searching. A replayed program is used only if it checks out
// like a found one; otherwise the search runs again, so a stale or
// colliding entry is only a slower compile.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Search/Derivation.h"
#include "leibniz/Search/FromLz.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::search;

/// The first line of a cache entry: the format and the rule set it holds
/// positions of.
static constexpr llvm::StringLiteral kCacheHeader =
    "leibniz-search 4 split,merge,fuse,substitute,split-variable,"
    "split-traversal,merge-traversal,layout,split-expression";

static std::string getCachePath(StringRef cacheDir, uint64_t fingerprint,
                                unsigned depth, StringRef measureKey) {
  llvm::SmallString<128> path(cacheDir);
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "search-" << llvm::format_hex_no_prefix(fingerprint, 16) << "-d"
     << depth;
  if (!measureKey.empty())
    os << "-measured-" << measureKey;
  os << ".path";
  llvm::sys::path::append(path, name);
  return std::string(path);
}

/// A cache entry: the positions of the derivation's steps, or none where
/// the expression itself is kept (the word `none` in the file).
using CacheEntry = std::optional<std::vector<unsigned>>;

static std::optional<CacheEntry> readCache(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return std::nullopt;
  StringRef text = (*buffer)->getBuffer();
  auto [header, rest] = text.split('\n');
  if (header != kCacheHeader)
    return std::nullopt;
  if (rest.trim() == "none")
    return CacheEntry();
  std::vector<unsigned> positions;
  SmallVector<StringRef> fields;
  rest.trim().split(fields, ' ', -1, /*KeepEmpty=*/false);
  for (StringRef field : fields) {
    unsigned position;
    if (field.getAsInteger(10, position))
      return std::nullopt;
    positions.push_back(position);
  }
  return positions;
}

static void writeCache(StringRef cacheDir, StringRef path,
                       const CacheEntry &entry) {
  if (llvm::sys::fs::create_directories(cacheDir))
    return;
  // A file of its own, renamed into place: compiles may run in parallel.
  int fd;
  llvm::SmallString<128> temporary;
  if (llvm::sys::fs::createUniqueFile(path + "-%%%%%%.tmp", fd, temporary))
    return;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << kCacheHeader << "\n";
    if (entry)
      llvm::interleave(*entry, os, " ");
    else
      os << "none";
    os << "\n";
  }
  if (llvm::sys::fs::rename(temporary, path))
    llvm::sys::fs::remove(temporary);
}

/// The fastest of the expression and the usable candidates, as measured by
/// `measure` on copies of `func`; none where it is the expression.
/// `measured` tells whether any of them could be timed.
static std::optional<Candidate>
measureCandidates(func::FuncOp func, const SearchResult &result,
                  const MeasureFunction &measure,
                  llvm::function_ref<bool(const Program &)> isUsable,
                  double spread, llvm::raw_ostream *report, bool &measured) {
  measured = false;
  SmallVector<const Candidate *> usable;
  for (const Candidate &candidate : result.candidates)
    if (isUsable(candidate.program))
      usable.push_back(&candidate);
  if (usable.empty()) {
    // Nothing to measure: the expression stays.
    measured = true;
    return std::nullopt;
  }
  // Each in a module of its own: a copy of the function, its body replaced.
  auto time = [&](const Program *program) {
    OwningOpRef<ModuleOp> module = ModuleOp::create(func.getLoc());
    auto copy = cast<func::FuncOp>(func->clone());
    copy.setPublic();
    module->push_back(copy);
    if (program)
      replaceBody(copy, *program);
    return measure(copy);
  };
  std::optional<double> expressionTime;
  if (result.originalCost <= spread * usable.front()->cost)
    expressionTime = time(nullptr);
  const Candidate *fastest = nullptr;
  std::optional<double> fastestTime = expressionTime;
  SmallVector<std::optional<double>> times;
  for (const Candidate *candidate : usable) {
    times.push_back(time(&candidate->program));
    if (times.back() && (!fastestTime || *times.back() < *fastestTime)) {
      fastest = candidate;
      fastestTime = times.back();
    }
  }
  measured = fastestTime.has_value();
  if (report) {
    auto print = [&](std::optional<double> seconds) {
      if (!seconds)
        *report << "failed";
      else if (*seconds >= 1e-3)
        *report << llvm::format("%.3g ms", *seconds * 1e3);
      else
        *report << llvm::format("%.3g us", *seconds * 1e6);
    };
    *report << "search: @" << func.getSymName() << ": the expression ";
    if (result.originalCost <= spread * usable.front()->cost)
      print(expressionTime);
    else
      *report << "not measured (analytic cost "
              << llvm::format("%.3g",
                              result.originalCost / usable.front()->cost)
              << " times the cheapest)";
    *report << "; " << usable.size()
            << (usable.size() == 1 ? " derivation:" : " derivations:");
    for (auto [candidate, seconds] : llvm::zip(usable, times)) {
      *report << " ";
      print(seconds);
      *report << " (" << candidate->steps.size() << " steps)";
    }
    *report << "; chose ";
    if (fastest) {
      *report << "the derivation of ";
      print(fastestTime);
      *report << ":";
      for (const std::string &step : fastest->steps)
        *report << "\n  " << step;
    } else {
      *report << "the expression";
    }
    *report << "\n";
  }
  if (!fastest)
    return std::nullopt;
  return *fastest;
}

SearchOutcome
search::searchFunction(func::FuncOp func, const SearchOptions &options,
                       StringRef cacheDir, const MeasureFunction &measure,
                       StringRef measureKey, llvm::raw_ostream *report) {
  if (func.isExternal())
    return SearchOutcome::NotHandled;
  Context context;
  FailureOr<Program> expression = failure();
  {
    // A definition the search does not handle is left as it is.
    ScopedDiagnosticHandler silence(func.getContext(),
                                    [](Diagnostic &) { return success(); });
    expression = fromFunction(func, context);
  }
  if (failed(expression))
    return SearchOutcome::NotHandled;

  // A derivation is used when a library operator computes a stage of it
  // and it agrees with the expression.
  auto isUsable = [&](const Program &program) {
    return hasLibraryStage(program) &&
           checkDerivation(*expression, program) <= 1e-9;
  };
  std::string path;
  if (!cacheDir.empty()) {
    path = getCachePath(cacheDir, expression->fingerprint(), options.maxDepth,
                        measure ? measureKey : "");
    if (std::optional<CacheEntry> entry = readCache(path)) {
      if (!*entry)
        return SearchOutcome::Unchanged;
      std::optional<Program> replayed = replay(*expression, **entry);
      if (replayed && isUsable(*replayed)) {
        replaceBody(func, *replayed);
        return SearchOutcome::Replaced;
      }
    }
  }
  SearchOptions searchOptions = options;
  if (measure)
    searchOptions.candidates = std::max(searchOptions.candidates, 3u);
  SearchResult result = explore(*expression, searchOptions);
  std::optional<Candidate> chosen;
  bool decided = true;
  if (measure)
    chosen = measureCandidates(func, result, measure, isUsable,
                               options.candidateSpread, report, decided);
  // Without measurements (none could run), the analytic choice, uncached.
  if (!measure || !decided) {
    if (isUsable(result.best))
      chosen =
          Candidate{result.best, result.steps, result.path, result.bestCost};
  }
  // A search the clock stopped found what the machine's speed allowed:
  // not cached, so that a later compile searches again.
  if (!path.empty() && decided && !result.timedOut)
    writeCache(cacheDir, path,
               chosen ? CacheEntry(chosen->path) : CacheEntry());
  if (!chosen)
    return SearchOutcome::Unchanged;
  replaceBody(func, chosen->program);
  return SearchOutcome::Replaced;
}
