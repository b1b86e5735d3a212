//===- RewritePass.cpp - The lz-rewrite pass ------------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Rewrite/Passes.h"
#include "leibniz/Rewrite/Strategy.h"

#include "Lz/LzDialect.h"

#include "llvm/Support/raw_ostream.h"

namespace leibniz::rewrite {
#define GEN_PASS_DEF_LZREWRITE
#include "leibniz/Rewrite/Passes.h.inc"
} // namespace leibniz::rewrite

using namespace mlir;
using namespace leibniz::rewrite;

namespace {

/// Set by leibniz-opt --lz-rewrite-stats.
bool printStatistics = false;

struct LzRewritePass
    : public leibniz::rewrite::impl::LzRewriteBase<LzRewritePass> {
  using Base::Base;

  /// `--lz-rewrite='normalize(a <+ b)'` names the strategy alone; the
  /// options `strategy=...` and `stats=...` are parsed as usual.
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    StringRef text = options.trim();
    if (text.empty() || text.starts_with("strategy=") ||
        text.starts_with("stats=") || text.starts_with("reference=") ||
        text.starts_with("max-rewrites="))
      return Base::initializeOptions(options, errorHandler);
    strategy = text.str();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const StrategyLibrary &library = StrategyLibrary::getLz();
    StrategyError error;
    FailureOr<StrategyRef> parsed = library.parse(strategy, error);
    if (failed(parsed)) {
      emitError(module.getLoc())
          << "lz-rewrite: column " << error.column << ": " << error.message
          << "\n  " << strategy << "\n  " << std::string(error.column - 1, ' ')
          << "^";
      return signalPassFailure();
    }
    std::string invalid;
    if (failed(StrategyEngine::verify(**parsed, invalid))) {
      emitError(module.getLoc()) << "invalid strategy: " << invalid;
      return signalPassFailure();
    }
    StrategyEngine engine(&getContext());
    engine.setReferenceNormalize(reference);
    engine.setMaxRewrites(maxRewrites);
    FailureOr<Operation *> result = engine.apply(**parsed, module);
    if (engine.hasReportedError())
      return signalPassFailure();
    if (stats || printStatistics) {
      for (const auto &rule : library.getRules().getRules())
        if (unsigned count = engine.getStatistics().lookup(rule->getName()))
          llvm::errs() << rule->getName() << ": " << count << "\n";
    }
    if (failed(result)) {
      emitError(module.getLoc())
          << "lz-rewrite: the strategy '" << strategy << "' failed";
      return signalPassFailure();
    }
  }
};

} // namespace

bool leibniz::rewrite::handleRewriteOptions(int &argc, char **argv,
                                            int &status) {
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    if (arg == "--lz-rewrite-stats" || arg == "-lz-rewrite-stats")
      printStatistics = true;
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  argv[argc] = nullptr;
  const StrategyLibrary &library = StrategyLibrary::getLz();
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    if (arg == "--list-rules" || arg == "-list-rules") {
      llvm::outs() << "Rules:\n";
      for (const auto &rule : library.getRules().getRules())
        llvm::outs() << "  " << rule->getName()
                     << (rule->isPredicate() ? " (predicate)" : "") << ": "
                     << rule->getDescription() << "\n";
      llvm::outs() << "Strategies:\n";
      for (const auto &definition : library.getDefinitions())
        llvm::outs() << "  " << definition->text << "\n";
      status = 0;
      return true;
    }
    if (arg.consume_front("--print-strategy=") ||
        arg.consume_front("-print-strategy=")) {
      const Definition *definition = library.lookup(arg);
      if (!definition) {
        llvm::errs() << "leibniz-opt: error: no strategy named '" << arg
                     << "'\n";
        status = 1;
        return true;
      }
      llvm::outs() << definition->text << "\n";
      status = 0;
      return true;
    }
  }
  return false;
}
