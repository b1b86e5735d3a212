//===- Pipeline.cpp - The tensor search in the compiler's pipeline --------===//
//
// Part of Leibniz.
//
// At -O3 (or with --search) the driver searches every definition the
// search handles. A derivation found is cached on disk under the
// expression's fingerprint, as the positions of its steps among the
// derivations of each state, so that compiling the program again replays
// it instead of searching. A replayed program is used only if it checks
// out like a found one; otherwise the search runs again, so a stale or
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
    "leibniz-search 3 "
    "split,merge,substitute,split-variable,split-traversal,layout";

static std::string getCachePath(StringRef cacheDir, uint64_t fingerprint,
                                unsigned depth) {
  llvm::SmallString<128> path(cacheDir);
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "search-" << llvm::format_hex_no_prefix(fingerprint, 16) << "-d"
     << depth << ".path";
  llvm::sys::path::append(path, name);
  return std::string(path);
}

static std::optional<std::vector<unsigned>> readCache(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return std::nullopt;
  StringRef text = (*buffer)->getBuffer();
  auto [header, rest] = text.split('\n');
  if (header != kCacheHeader)
    return std::nullopt;
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
                       ArrayRef<unsigned> positions) {
  if (llvm::sys::fs::create_directories(cacheDir))
    return;
  std::string temporary = (path + ".tmp").str();
  {
    std::error_code error;
    llvm::raw_fd_ostream os(temporary, error);
    if (error)
      return;
    os << kCacheHeader << "\n";
    llvm::interleave(positions, os, " ");
    os << "\n";
  }
  if (llvm::sys::fs::rename(temporary, path))
    llvm::sys::fs::remove(temporary);
}

SearchOutcome search::searchFunction(func::FuncOp func,
                                     const SearchOptions &options,
                                     StringRef cacheDir) {
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
    return llvm::any_of(program.stages,
                        [&](const Stage &stage) {
                          return matchOperator(program, stage).has_value();
                        }) &&
           checkDerivation(*expression, program) <= 1e-9;
  };
  std::string path;
  if (!cacheDir.empty()) {
    path = getCachePath(cacheDir, expression->fingerprint(), options.maxDepth);
    if (std::optional<std::vector<unsigned>> positions = readCache(path)) {
      std::optional<Program> replayed = replay(*expression, *positions);
      if (replayed && isUsable(*replayed)) {
        replaceBody(func, *replayed);
        return SearchOutcome::Replaced;
      }
    }
  }
  SearchResult result = explore(*expression, options);
  if (!path.empty())
    writeCache(cacheDir, path, result.path);
  if (!isUsable(result.best))
    return SearchOutcome::Unchanged;
  replaceBody(func, result.best);
  return SearchOutcome::Replaced;
}
