//===- leibniz.cpp - The Leibniz compiler driver --------------------------===//
//
// Part of Leibniz.
//
// `leibniz <command> [options] <file.lz>`. Each command is a subcommand
// with its own `--help`:
//   emit   print the program at a stage of compilation
//   check  report the program's errors, print nothing else
//   run    run a definition and print its result
//
//===----------------------------------------------------------------------===//

#include "AD/ADOps.h"
#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Optimize.h"
#include "leibniz/AD/Reverse.h"

#include "Plot.h"
#include "leibniz/Conversion/Passes.h"
#include "leibniz/Driver/AOT.h"
#include "leibniz/Driver/JIT.h"
#include "leibniz/Driver/Optimize.h"
#include "leibniz/Driver/Pipelines.h"
#include "leibniz/Frontend/AST.h"
#include "leibniz/Frontend/Frontend.h"
#include "leibniz/Frontend/MLIRGen.h"
#include "leibniz/Interpreter/Interpreter.h"
#include "leibniz/Interpreter/ValueIO.h"
#include "leibniz/Rewrite/Strategy.h"
#include "leibniz/Runtime/Runtime.h"
#include "leibniz/Search/Derivation.h"
#include "leibniz/Search/FromLz.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/Format.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Config/Targets.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/TargetParser/Triple.h"
#include <chrono>
#include <cmath>
#include <random>

using namespace mlir;
using namespace leibniz;
namespace cl = llvm::cl;

namespace {

cl::SubCommand emitCommand("emit", "Print a program at a stage of compilation");
cl::SubCommand checkCommand("check", "Check a program and report its errors");
cl::SubCommand runCommand("run", "Run a definition of a program and print "
                                 "its result");
cl::SubCommand
    gradcheckCommand("gradcheck",
                     "Compare a definition's derivatives in forward and "
                     "reverse mode with each other and with central finite "
                     "differences at seeded random points");
cl::SubCommand
    plotCommand("plot",
                "Draw the loss curves of a trace (leibniz run --trace) as SVG");
cl::SubCommand
    searchCommand("search",
                  "Search derivations of a tensor expression: rewrite a "
                  "definition's scopes into stages that library operators "
                  "compute (docs/search.md)");
cl::SubCommand compileCommand(
    "compile", "Compile a program to a shared library (.so) or an object file "
               "(.o) with a C interface");

/// The stages `emit` can print, in the order of compilation.
enum class Stage { AST, Lz, LzAD, LzOpt, Linalg, LLVMMLIR, LLVM, Asm, PTX };

cl::opt<Stage> emitStage(
    "emit", cl::desc("The stage to print"),
    cl::values(
        clEnumValN(Stage::AST, "ast", "the syntax tree, as S-expressions"),
        clEnumValN(Stage::Lz, "lz", "the checked program as lz and ad IR"),
        clEnumValN(Stage::LzAD, "lz-ad",
                   "after differentiation: the derivatives as lz IR"),
        clEnumValN(Stage::LzOpt, "lz-opt",
                   "after the rewrite strategy (fwd-ad-opt after forward "
                   "mode, rev-ad-opt after reverse mode, or --strategy)"),
        clEnumValN(Stage::Linalg, "linalg",
                   "lz lowered to tensor, scf and linalg"),
        clEnumValN(Stage::LLVMMLIR, "llvm-mlir",
                   "the CPU pipeline's LLVM dialect"),
        clEnumValN(Stage::LLVM, "llvm", "LLVM IR, before LLVM's optimizations"),
        clEnumValN(Stage::Asm, "asm", "optimized assembly for the host CPU"),
        clEnumValN(Stage::PTX, "ptx",
                   "the kernels of --target=cuda as PTX, one module per "
                   "kernel")),
    cl::init(Stage::Lz), cl::sub(emitCommand));

cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<input .lz file>"),
                                   cl::Required, cl::sub(emitCommand),
                                   cl::sub(checkCommand), cl::sub(runCommand),
                                   cl::sub(compileCommand),
                                   cl::sub(gradcheckCommand),
                                   cl::sub(plotCommand),
                                   cl::sub(searchCommand));

cl::opt<std::string> outputFilename("o",
                                    cl::desc("Output file (default: "
                                             "standard output)"),
                                    cl::value_desc("file"), cl::init("-"),
                                    cl::sub(emitCommand), cl::sub(plotCommand),
                                    cl::sub(searchCommand));

cl::opt<bool> noStdlib("no-stdlib",
                       cl::desc("Do not put the standard library in scope"),
                       cl::init(false), cl::sub(emitCommand),
                       cl::sub(checkCommand), cl::sub(runCommand),
                       cl::sub(compileCommand), cl::sub(gradcheckCommand));

cl::opt<std::string> libraryFilename(
    "o", cl::desc("The library to write: lib<name>.so or <name>.o"),
    cl::value_desc("file"), cl::Required, cl::sub(compileCommand));

cl::opt<std::string> headerFilename(
    "header",
    cl::desc("The C header to write (default: <prefix>.h next to the "
             "library)"),
    cl::value_desc("file.h"), cl::sub(compileCommand));

cl::opt<std::string> symbolPrefix(
    "prefix",
    cl::desc("The prefix of the C functions, <prefix>_<definition> "
             "(default: the library's name without lib and extension)"),
    cl::value_desc("name"), cl::sub(compileCommand));

cl::opt<bool> searchGuided(
    "guided",
    cl::desc("Guided derivation: best first towards a matrix product (or "
             "the --until pattern), stopping at the first (default: breadth "
             "first, the cheapest)"),
    cl::sub(searchCommand));

cl::opt<std::string> searchUntil(
    "until",
    cl::desc("Stop at the first state with a stage of this shape (Matmul, "
             "Conv3x3 or another window, G2BMM, DilatedG2BMM) and report its "
             "derivation instead of the cheapest; with --guided, search "
             "towards it"),
    cl::value_desc("pattern"), cl::sub(searchCommand));

cl::list<std::string>
    exportNames("export",
                cl::desc("The definitions to export (default: every "
                         "definition of the program)"),
                cl::value_desc("f,g,..."), cl::CommaSeparated,
                cl::sub(compileCommand));

cl::opt<std::string>
    cCompiler("cc",
              cl::desc("The C compiler that compiles the interface and links "
                       "(default: $CC, else cc)"),
              cl::value_desc("program"), cl::sub(compileCommand));

cl::opt<bool> checkStdlib(
    "check-stdlib",
    cl::desc("Check every standard library definition, used or not"),
    cl::init(false), cl::sub(checkCommand));

enum class Engine { Interp, JIT };

cl::opt<Engine> engine(
    "engine", cl::desc("How to run the program"),
    cl::values(clEnumValN(Engine::Interp, "interp",
                          "the reference interpreter (exact IR semantics)"),
               clEnumValN(Engine::JIT, "jit",
                          "compiled code: the CPU pipeline and the LLVM JIT")),
    cl::init(Engine::JIT), cl::sub(runCommand));

cl::opt<bool> countOps(
    "count-ops",
    cl::desc("With --engine=interp, print the number of executed operations "
             "(terminators aside) to stderr, the cost measure of docs/ad.md, "
             "and the elements they produced"),
    cl::init(false), cl::sub(runCommand));

/// -O0 to -O3: one digit, nothing after it.
struct OptLevelParser : public cl::parser<char> {
  using cl::parser<char>::parser;
  bool parse(cl::Option &option, StringRef argName, StringRef arg,
             char &value) {
    if (arg.size() != 1 || arg[0] < '0' || arg[0] > '3')
      return option.error("invalid optimization level -O" + arg +
                          "; expected -O0, -O1, -O2 or -O3");
    value = arg[0];
    return false;
  }
};

cl::opt<char, false, OptLevelParser>
    optLevel("O",
             cl::desc("Optimization level of compiled code: -O0, "
                      "-O1, -O2 (default) or -O3"),
             cl::Prefix, cl::init('2'), cl::sub(emitCommand),
             cl::sub(runCommand), cl::sub(compileCommand));

cl::opt<unsigned> stripBytes(
    "strip-bytes",
    cl::desc("The bytes of an elementwise loop's states that a strip of its "
             "columns keeps in vector registers across all its steps, from "
             "-O2 on the CPU (default: 768 on CPUs with AVX-512, else 0: two "
             "steps per traversal instead)"),
    cl::value_desc("bytes"), cl::sub(emitCommand), cl::sub(runCommand),
    cl::sub(compileCommand));

enum class Target { CPU, CUDA };

cl::opt<Target> target(
    "target", cl::desc("Where compiled code runs"),
    cl::values(clEnumValN(Target::CPU, "cpu", "the host CPU, through LLVM"),
               clEnumValN(Target::CUDA, "cuda",
                          "an NVIDIA GPU: parallel loops as kernels (NVVM, "
                          "PTX), launched through the CUDA driver")),
    cl::init(Target::CPU), cl::sub(emitCommand), cl::sub(runCommand),
    cl::sub(compileCommand));

cl::opt<std::string>
    gpuArch("gpu-arch",
            cl::desc("The GPU architecture of --target=cuda (default: sm_90)"),
            cl::value_desc("sm_NN"), cl::init("sm_90"), cl::sub(emitCommand),
            cl::sub(runCommand), cl::sub(compileCommand));

cl::opt<std::string> cudaPath(
    "cuda-path",
    cl::desc("The CUDA toolkit that --target=cuda takes libdevice (the "
             "device's math functions) and ptxas from (default: $CUDA_PATH, "
             "$CUDA_HOME or /usr/local/cuda)"),
    cl::value_desc("dir"), cl::sub(emitCommand), cl::sub(runCommand),
    cl::sub(compileCommand));

cl::opt<bool> gpuEmulation(
    "gpu-emulation",
    cl::desc("With --target=cuda, run the kernels on the host CPU instead, "
             "each launch as a loop over its blocks and threads: checks the "
             "CUDA pipeline's mapping without a GPU"),
    cl::init(false), cl::sub(runCommand));

cl::opt<bool> runtimeChecks(
    "checks",
    cl::desc("Check reads, integer divisions and float-to-integer conversions "
             "in compiled code, reporting "
             "the source location of a failure"),
    cl::init(false), cl::sub(emitCommand), cl::sub(compileCommand));

// `leibniz run` checks by default: it is where programs are developed.
cl::opt<bool> runChecks(
    "checks",
    cl::desc("Check reads, integer divisions and float-to-integer conversions "
             "in compiled code, reporting "
             "the source location of a failure (default: on; the "
             "interpreter always checks)"),
    cl::init(true), cl::sub(runCommand));

cl::opt<bool> strictTolerances(
    "strict",
    cl::desc("Make a solve that misses its tolerance (argmin's gradient, "
             "its implicit linear solve) a run-time error instead of a "
             "warning"),
    cl::init(false), cl::sub(runCommand), cl::sub(compileCommand),
    cl::sub(emitCommand), cl::sub(gradcheckCommand));

cl::opt<unsigned> checkpointInterval(
    "checkpoint",
    cl::desc("Reverse mode keeps the state of every k-th step of a loop and "
             "recomputes the steps between, instead of keeping every "
             "step's (0: every step's, the default)"),
    cl::value_desc("k"), cl::init(0), cl::sub(emitCommand), cl::sub(runCommand),
    cl::sub(compileCommand), cl::sub(gradcheckCommand));

cl::opt<std::string> traceFilename(
    "trace",
    cl::desc("Write the loss of every step of every minimize and argmin loop "
             "to this CSV file (loop,run,step,loss; draw it with 'leibniz "
             "plot')"),
    cl::value_desc("file.csv"), cl::sub(runCommand));

cl::opt<std::string> strategyText(
    "strategy",
    cl::desc("Rewrite the program with this strategy after differentiation, "
             "instead of fwd-ad-opt and rev-ad-opt on the functions with "
             "derivatives (docs/rewriting.md), e.g. --strategy=cleanup or "
             "--strategy=id"),
    cl::value_desc("strategy"), cl::sub(emitCommand), cl::sub(runCommand),
    cl::sub(compileCommand), cl::sub(gradcheckCommand));

cl::opt<unsigned> numThreads(
    "threads",
    cl::desc("Threads for the parallel loops of compiled code (default: "
             "$LEIBNIZ_NUM_THREADS, or the number of cores)"),
    cl::value_desc("n"), cl::init(0), cl::sub(runCommand));

cl::opt<std::string> entryName("entry",
                               cl::desc("The definition to run (default: "
                                        "main; gradcheck checks a list "
                                        "f,g,... in turn)"),
                               cl::value_desc("name"), cl::init("main"),
                               cl::sub(runCommand), cl::sub(gradcheckCommand),
                               cl::sub(searchCommand));

cl::opt<unsigned> searchDepth(
    "depth",
    cl::desc("The most rule applications in a derivation (default: 6)"),
    cl::value_desc("n"), cl::init(6), cl::sub(searchCommand));

cl::opt<cl::boolOrDefault> searchInPipeline(
    "search",
    cl::desc("Run the tensor search on every definition it handles and "
             "replace it by the derivation found (default: at -O3)"),
    cl::sub(runCommand), cl::sub(compileCommand), cl::sub(emitCommand));

cl::opt<uint64_t> maxRewrites(
    "max-rewrites",
    cl::desc("Stop a rewrite strategy with an error after this many "
             "rewrites (default: 1000000; 0: no limit)"),
    cl::value_desc("n"), cl::init(1000000), cl::sub(checkCommand),
    cl::sub(runCommand), cl::sub(compileCommand), cl::sub(emitCommand),
    cl::sub(gradcheckCommand));

cl::opt<double> searchTime(
    "search-time",
    cl::desc("Stop the tensor search after this many seconds (default: 60 "
             "for search, 10 in the pipeline; 0: no limit)"),
    cl::value_desc("seconds"), cl::sub(searchCommand), cl::sub(runCommand),
    cl::sub(compileCommand), cl::sub(emitCommand));

cl::opt<bool> searchMeasure(
    "search-measure",
    cl::desc("Choose among the tensor search's cheapest derivations and the "
             "expression by timing them, compiled, on random inputs (the "
             "choice is cached; the times go to standard error)"),
    cl::sub(runCommand), cl::sub(compileCommand), cl::sub(emitCommand));

cl::opt<std::string> searchCache(
    "search-cache",
    cl::desc("The directory where the tensor search caches its derivations "
             "(default: $LEIBNIZ_CACHE_DIR, else $XDG_CACHE_HOME/leibniz or "
             "~/.cache/leibniz; 'none': no cache)"),
    cl::value_desc("dir"), cl::sub(runCommand), cl::sub(compileCommand),
    cl::sub(emitCommand));

cl::opt<size_t> searchMaxStates(
    "max-states",
    cl::desc("Stop the search after this many distinct states (default: "
             "200000; 0: no limit)"),
    cl::value_desc("n"), cl::init(200000), cl::sub(searchCommand));

cl::opt<bool> searchLayouts(
    "layouts",
    cl::desc("Also derive copies of the inputs laid out in the order the "
             "stages that sum over them run, and views of the inputs with "
             "the dimensions a stage runs over as a pair merged (more "
             "states)"),
    cl::sub(searchCommand));

cl::list<std::string>
    argValues("arg",
              cl::desc("An argument of the entry: name=value, where value is "
                       "a literal (0.5, [1, 2], (1.0, [2.0])) or a .npy file"),
              cl::value_desc("name=value"), cl::sub(runCommand),
              cl::sub(gradcheckCommand));

cl::opt<unsigned> gradcheckDirections(
    "directions", cl::desc("Random directions per argument (default: 3)"),
    cl::value_desc("k"), cl::init(3), cl::sub(gradcheckCommand));

cl::list<std::string> gradcheckWrt(
    "wrt",
    cl::desc("The arguments to differentiate (default: every float "
             "argument)"),
    cl::value_desc("x,y,..."), cl::CommaSeparated, cl::sub(gradcheckCommand));

cl::opt<uint64_t> gradcheckSeed(
    "seed", cl::desc("Seed of the random points and directions (default: 0)"),
    cl::init(0), cl::sub(gradcheckCommand));

cl::opt<int64_t> gradcheckSize(
    "size", cl::desc("Every dynamic size of a random argument (default: 4)"),
    cl::value_desc("n"), cl::init(4), cl::sub(gradcheckCommand));

cl::opt<double> gradcheckTolerance(
    "tol",
    cl::desc("The largest relative error that passes (default: 1e-6, 1e-3 "
             "where an argument or a result is f32): "
             "|jvp - fd| / max(1, |fd|) per output element"),
    cl::init(1e-6), cl::sub(gradcheckCommand));

cl::opt<std::string> gradcheckMode(
    "mode",
    cl::desc("The modes to check: fwd, rev or both (default: both; both "
             "also checks them against each other)"),
    cl::value_desc("fwd|rev|both"), cl::init("both"),
    cl::sub(gradcheckCommand));

cl::opt<double> gradcheckStep(
    "step",
    cl::desc("The step of the central differences, relative to the "
             "largest magnitude of the argument (default: 1e-6, 1e-3 where an "
             "argument or a result is f32)"),
    cl::init(1e-6), cl::sub(gradcheckCommand));

cl::opt<std::string> outFile(
    "out",
    cl::desc("Also write the result to this .npy file (a tuple result: one "
             "file per element, named <stem>.0.npy, <stem>.1.npy, ...)"),
    cl::value_desc("file.npy"), cl::sub(runCommand));

/// One compilation of the input: errors go through MLIR's diagnostic
/// handler with the source line and a caret.
struct Compilation {
  Compilation() : context(makeRegistry()) {
    context.printOpOnDiagnostic(false);
  }

  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    driver::registerPipelineDependencies(registry);
    return registry;
  }

  /// Called on the module after differentiation and before the solves
  /// (argmin, root, fixed_point) are expanded: derivatives built there
  /// differentiate the solves implicitly, as the program's own do.
  std::function<LogicalResult(frontend::Program &)> beforeSolves;

  /// Parses the input and what it imports.
  FailureOr<frontend::LoadedProgram> load() {
    frontend::LoadOptions options;
    options.withStdlib = !noStdlib;
    options.checkStdlib = checkStdlib;
    // The syntax tree is of the main file alone.
    if (emitCommand && emitStage == Stage::AST) {
      options.withStdlib = false;
      options.followImports = false;
    }
    return frontend::loadProgram(context, sourceMgr, inputFilename, options);
  }

  /// Parses and checks the input and generates its IR; up to `until`,
  /// expands the forward-mode derivatives and rewrites the program with
  /// --strategy, or with fwd-ad-opt and rev-ad-opt where there were
  /// derivatives.
  FailureOr<frontend::Program> compile(Stage until = Stage::LzOpt) {
    FailureOr<frontend::LoadedProgram> loaded = load();
    if (failed(loaded))
      return failure();
    FailureOr<frontend::Program> program =
        frontend::generateProgram(context, sourceMgr, loaded->modules);
    if (failed(program))
      return program;
    ModuleOp module = program->getModule();
    if (strictTolerances)
      module->setAttr("lz.strict_tolerances", UnitAttr::get(&context));
    if (runCommand && !traceFilename.empty())
      module->setAttr("lz.trace", UnitAttr::get(&context));
    if (checkpointInterval > 0)
      module->setAttr(
          "ad.checkpoint",
          IntegerAttr::get(IntegerType::get(&context, 64), checkpointInterval));
    if (until < Stage::LzAD)
      return program;
    // The functions that take forward-mode and reverse-mode derivatives.
    llvm::SetVector<StringRef> forward, reverse;
    module.walk([&](Operation *op) {
      if (!isa<ad::ADDialect>(op->getDialect()))
        return;
      StringRef name = op->getParentOfType<func::FuncOp>().getSymName();
      if (ad::isForwardMode(op))
        forward.insert(name);
      else if (isa<ad::GradOp, ad::ValueAndGradOp, ad::VjpOp, ad::JacobianOp,
                   ad::HessianOp, ad::HvpOp, ad::MinimizeOp, ad::ArgminOp,
                   ad::FixedPointOp, ad::RootOp>(op))
        reverse.insert(name);
    });
    // Optimizer loops first: their gradients are reverse-mode
    // transformations.
    if (failed(ad::expandOptimizerLoops(module)))
      return failure();
    if (failed(ad::expandDerivatives(module, /*forward=*/true,
                                     /*reverse=*/true)))
      return failure();
    // Then the solves, differentiated implicitly above, with the gradients
    // of their loops.
    if (beforeSolves && failed(beforeSolves(*program)))
      return failure();
    if (failed(ad::expandSolves(module)) ||
        failed(ad::expandDerivatives(module, /*forward=*/true,
                                     /*reverse=*/true)))
      return failure();
    // The expansions build IR by hand: every consumer (the interpreter of
    // gradcheck included) gets verified IR.
    if (failed(verify(module)))
      return failure();
    if (until < Stage::LzOpt)
      return program;
    // --strategy rewrites the whole program; fwd-ad-opt and rev-ad-opt,
    // which may use real arithmetic, only the functions with derivatives.
    if (!strategyText.empty()) {
      if (failed(rewrite(module, strategyText)))
        return failure();
    } else {
      SymbolTable symbols(module);
      for (StringRef name : forward)
        if (failed(rewrite(symbols.lookup(name), "fwd-ad-opt")))
          return failure();
      for (StringRef name : reverse)
        if (failed(rewrite(symbols.lookup(name), "rev-ad-opt")))
          return failure();
    }
    // Derivatives that were inlined everywhere.
    PassManager pm(&context);
    pm.addPass(createSymbolDCEPass());
    if (failed(pm.run(module)))
      return failure();
    if (isSearchEnabled()) {
      // A bounded search: compiling must not take long.
      search::SearchOptions options;
      options.maxDepth = 6;
      options.maxStates = 20000;
      options.maxSeconds =
          searchTime.getNumOccurrences() ? searchTime.getValue() : 10.0;
      std::string cacheDir = getSearchCacheDir();
      search::MeasureFunction measure;
      if (searchMeasure)
        measure = measureCompiled;
      for (auto func : module.getOps<func::FuncOp>())
        (void)search::searchFunction(
            func, options, cacheDir, measure,
            (Twine("O") + Twine(optLevel.getValue())).str(),
            searchMeasure ? &llvm::errs() : nullptr);
    }
    return program;
  }

  /// The seconds per call of `func`, alone in its module, compiled at the
  /// optimization level and run on random inputs; none where it cannot
  /// run (silently: the search then does not take it).
  static std::optional<double> measureCompiled(func::FuncOp func) {
    std::mt19937_64 random(0);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    SmallVector<interp::RuntimeValue> args;
    for (Type type : func.getArgumentTypes()) {
      auto tensorType = dyn_cast<RankedTensorType>(type);
      if (!tensorType || !tensorType.hasStaticShape() ||
          !tensorType.getElementType().isF64())
        return std::nullopt;
      interp::Tensor tensor(tensorType.getElementType(), tensorType.getShape());
      for (int64_t i = 0; i < tensor.getNumElements(); ++i)
        tensor.setFloat(i, uniform(random));
      args.push_back(interp::RuntimeValue(std::move(tensor)));
    }
    driver::CPUPipelineOptions options;
    options.optLevel = optLevel - '0';
    driver::JITTiming timing;
    ScopedDiagnosticHandler silence(func.getContext(),
                                    [](Diagnostic &) { return success(); });
    if (failed(driver::runJIT(func->getParentOfType<ModuleOp>(),
                              func.getSymName(), args, options, &timing)))
      return std::nullopt;
    return timing.seconds;
  }

  /// Whether the pipeline runs the tensor search: --search, else -O3.
  static bool isSearchEnabled() {
    if (!runCommand && !compileCommand && !emitCommand)
      return false;
    if (searchInPipeline == cl::BOU_UNSET)
      return optLevel == '3';
    return searchInPipeline == cl::BOU_TRUE;
  }

  static std::string getSearchCacheDir() {
    if (searchCache == "none")
      return "";
    if (!searchCache.empty())
      return searchCache;
    if (const char *dir = std::getenv("LEIBNIZ_CACHE_DIR"))
      return *dir ? dir : "";
    llvm::SmallString<128> path;
    if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
      path = xdg;
    } else if (const char *home = std::getenv("HOME"); home && *home) {
      path = home;
      llvm::sys::path::append(path, ".cache");
    } else {
      return "";
    }
    llvm::sys::path::append(path, "leibniz");
    return std::string(path);
  }

  /// Applies `strategyText` to `point`, the module or a function.
  LogicalResult rewrite(Operation *point, StringRef strategyText) {
    if (strategyText.empty())
      return success();
    const rewrite::StrategyLibrary &library = rewrite::StrategyLibrary::getLz();
    rewrite::StrategyError error;
    FailureOr<rewrite::StrategyRef> strategy =
        library.parse(strategyText, error);
    if (failed(strategy)) {
      llvm::errs() << "leibniz: error: --strategy: column " << error.column
                   << ": " << error.message << "\n  " << strategyText << "\n  "
                   << std::string(error.column - 1, ' ') << "^\n";
      return failure();
    }
    std::string invalid;
    if (failed(rewrite::StrategyEngine::verify(**strategy, invalid))) {
      llvm::errs() << "leibniz: error: --strategy: " << invalid << "\n";
      return failure();
    }
    rewrite::StrategyEngine engine(&context);
    engine.setMaxRewrites(maxRewrites);
    // An error at the module itself, which has no place in the source,
    // belongs to the strategy.
    ScopedDiagnosticHandler strategyErrors(
        &context, [&](Diagnostic &diag) -> LogicalResult {
          if (!isa<UnknownLoc>(diag.getLocation()))
            return failure();
          llvm::errs() << "leibniz: error: --strategy=" << strategyText << ": "
                       << diag.str() << "\n";
          return success();
        });
    FailureOr<Operation *> result = engine.apply(**strategy, point);
    if (engine.hasReportedError())
      return failure();
    if (failed(result)) {
      llvm::errs() << "leibniz: error: the strategy '" << strategyText
                   << "' failed\n";
      return failure();
    }
    return success();
  }

  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler{sourceMgr, &context};
  /// A diagnostic at no place in the source (the module's, an external
  /// tool's) reads as the driver's own, instead of "<unknown>:0".
  ScopedDiagnosticHandler unlocated{&context, [](Diagnostic &diag) {
                                      if (!isa<UnknownLoc>(diag.getLocation()))
                                        return failure();
                                      printUnlocated(diag);
                                      return success();
                                    }};

  static void printUnlocated(Diagnostic &diag) {
    StringRef severity = "error";
    if (diag.getSeverity() == DiagnosticSeverity::Warning)
      severity = "warning";
    else if (diag.getSeverity() == DiagnosticSeverity::Note)
      severity = "note";
    else if (diag.getSeverity() == DiagnosticSeverity::Remark)
      severity = "remark";
    llvm::errs() << "leibniz: " << severity << ": " << diag.str() << "\n";
    for (Diagnostic &note : diag.getNotes()) {
      if (auto loc = dyn_cast<FileLineColLoc>(note.getLocation()))
        llvm::errs() << loc.getFilename().getValue() << ":" << loc.getLine()
                     << ":" << loc.getColumn() << ": ";
      else
        llvm::errs() << "leibniz: ";
      llvm::errs() << "note: " << note.str() << "\n";
    }
  }
};

LogicalResult checkCompilable(ModuleOp module);

/// Whether compiled code runs on the GPU: --target=cuda, or --emit=ptx.
bool targetsCUDA() {
  return target == Target::CUDA || (emitCommand && emitStage == Stage::PTX);
}

/// Whether LLVM's NVPTX backend knows the processor `arch` (where the
/// backend is missing, nothing can be told and ptxas decides).
bool isKnownGPUArch(StringRef arch) {
#if !LLVM_HAS_NVPTX_TARGET
  return true;
#else
  LLVMInitializeNVPTXTargetInfo();
  LLVMInitializeNVPTXTargetMC();
  llvm::Triple triple("nvptx64-nvidia-cuda");
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return true;
  // Created for no processor: an unknown one would print a warning.
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target->createMCSubtargetInfo(triple, "", ""));
  return !info || info->isCPUStringValid(arch);
#endif
}

/// The pipeline's options from the command line: the CPU pipeline's, and
/// the CUDA pipeline's where targetsCUDA(). (-O is checked as it is parsed.)
FailureOr<driver::CUDAPipelineOptions> getPipelineOptions() {
  if (!(searchTime >= 0)) {
    llvm::errs() << "leibniz: error: --search-time must be a number of "
                    "seconds, 0 or more\n";
    return failure();
  }
  bool searching = searchInPipeline == cl::BOU_UNSET
                       ? optLevel == '3'
                       : searchInPipeline == cl::BOU_TRUE;
  if (searchMeasure && !searching) {
    llvm::errs() << "leibniz: error: --search-measure times the tensor "
                    "search's candidates, which runs at -O3 or with "
                    "--search\n";
    return failure();
  }
  if (searchTime.getNumOccurrences() && !searching) {
    llvm::errs() << "leibniz: error: --search-time bounds the tensor "
                    "search, which runs at -O3 or with --search\n";
    return failure();
  }
  driver::CUDAPipelineOptions options;
  options.optLevel = optLevel - '0';
  options.checks = runCommand ? runChecks : runtimeChecks;
  if (stripBytes.getNumOccurrences())
    options.stripBytes = stripBytes;
  bool cuda = targetsCUDA();
  if (!cuda) {
    for (cl::Option *option : {static_cast<cl::Option *>(&gpuArch),
                               static_cast<cl::Option *>(&cudaPath),
                               static_cast<cl::Option *>(&gpuEmulation)})
      if (option->getNumOccurrences()) {
        llvm::errs() << "leibniz: error: --" << option->ArgStr
                     << " applies to --target=cuda\n";
        return failure();
      }
    return options;
  }
  StringRef arch = gpuArch;
  unsigned version;
  if (!arch.consume_front("sm_") || (arch.consume_back("a"), false) ||
      arch.getAsInteger(10, version) || version < 50) {
    llvm::errs() << "leibniz: error: invalid --gpu-arch '" << gpuArch
                 << "'; expected sm_NN with NN at least 50, e.g. sm_80 or "
                    "sm_90\n";
    return failure();
  }
  if (!isKnownGPUArch(gpuArch)) {
    llvm::errs() << "leibniz: error: unknown --gpu-arch '" << gpuArch
                 << "': LLVM's NVPTX backend has no such processor (e.g. "
                    "sm_80, sm_90 or sm_90a)\n";
    return failure();
  }
  options.gpuArch = gpuArch;
  options.emulate = gpuEmulation;
  if (cudaPath.getNumOccurrences()) {
    if (StringRef(cudaPath).contains('"')) {
      llvm::errs() << "leibniz: error: --cuda-path '" << cudaPath
                   << "' contains a double quote\n";
      return failure();
    }
    if (!llvm::sys::fs::is_directory(cudaPath)) {
      llvm::errs() << "leibniz: error: --cuda-path '" << cudaPath
                   << "' is not a directory\n";
      return failure();
    }
    options.cudaPath = cudaPath;
  } else {
    options.cudaPath = driver::findCUDAToolkit();
  }
  // Loops that check their reads call the host's runtime and stay on the
  // host, so `run` checks on the GPU only when asked to.
  if (runCommand && !runChecks.getNumOccurrences())
    options.checks = false;
  return options;
}

/// Prints the PTX of every kernel module that the CUDA pipeline serialized,
/// each after a comment with its name.
void printPTX(ModuleOp module, raw_ostream &os) {
  bool first = true;
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    for (Attribute attribute : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attribute);
      os << (first ? "" : "\n") << "// kernel module @" << binary.getName()
         << "\n"
         << object.getObject().getValue();
      first = false;
    }
  }
}

int runEmit() {
  FailureOr<driver::CUDAPipelineOptions> pipelineOptions = getPipelineOptions();
  if (failed(pipelineOptions))
    return 1;
  Compilation compilation;
  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output;
  auto openOutput = [&] {
    output = mlir::openOutputFile(outputFilename, &errorMessage);
    if (!output)
      llvm::errs() << "leibniz: " << errorMessage << "\n";
    return static_cast<bool>(output);
  };
  if (emitStage == Stage::AST) {
    FailureOr<frontend::LoadedProgram> loaded = compilation.load();
    if (failed(loaded) || !openOutput())
      return 1;
    // The main file is the last one loaded.
    frontend::dump(*loaded->asts.back(), output->os());
  } else {
    if (!strategyText.empty() && emitStage < Stage::LzOpt) {
      llvm::errs() << "leibniz: error: --strategy rewrites the program "
                      "after differentiation; emit it with --emit=lz-opt or "
                      "a later stage\n";
      return 1;
    }
    FailureOr<frontend::Program> program = compilation.compile(emitStage);
    if (failed(program))
      return 1;
    ModuleOp module = program->getModule();
    if (emitStage == Stage::Linalg) {
      // As the pipelines lower it.
      PassManager pm(&compilation.context);
      if (failed(parsePassPipeline(
              driver::getLowerLzPipeline(*pipelineOptions, targetsCUDA()),
              pm)) ||
          failed(pm.run(module)))
        return 1;
    } else if (emitStage > Stage::Linalg) {
      if (failed(checkCompilable(module)))
        return 1;
      if (targetsCUDA()) {
        // PTX is what the NVVM target serializes without ptxas.
        if (emitStage == Stage::PTX)
          pipelineOptions->cubin = false;
        if (failed(driver::runCUDAPipeline(module, *pipelineOptions)))
          return 1;
      } else {
        PassManager pm(&compilation.context);
        if (failed(driver::buildCPUPipeline(pm, *pipelineOptions)) ||
            failed(pm.run(module)))
          return 1;
      }
    }
    if (!openOutput())
      return 1;
    if (emitStage == Stage::PTX) {
      printPTX(module, output->os());
    } else if (emitStage == Stage::Asm) {
      FailureOr<std::string> code =
          driver::emitNativeCode(module, pipelineOptions->optLevel,
                                 /*assembly=*/true);
      if (failed(code))
        return 1;
      output->os() << *code;
    } else if (emitStage == Stage::LLVM) {
      llvm::LLVMContext llvmContext;
      std::unique_ptr<llvm::Module> llvmModule =
          translateModuleToLLVMIR(module, llvmContext);
      if (!llvmModule) {
        llvm::errs() << "leibniz: error: cannot translate to LLVM IR\n";
        return 1;
      }
      llvmModule->print(output->os(), nullptr);
    } else {
      module.print(output->os());
    }
    output->os() << "\n";
  }
  output->keep();
  return 0;
}

int runCheck() {
  if (checkStdlib && noStdlib) {
    llvm::errs() << "leibniz: error: --check-stdlib checks the standard "
                    "library, which --no-stdlib leaves out\n";
    return 1;
  }
  Compilation compilation;
  return failed(compilation.compile()) ? 1 : 0;
}

/// Reports an `ad` operation left unexpanded: what programs with it can
/// still do is `can`.
void emitNotSupported(Operation *op, StringRef can) {
  op->emitError() << "not supported yet: " << op->getName().stripDialect()
                  << "; programs with implicit differentiation can be " << can;
}

/// Reports the `ad` transformations reachable from `entry`: they are not
/// expanded yet, so the program cannot run. Returns the names of the
/// functions that `entry` calls, itself included, in `reachable`.
LogicalResult checkRunnable(ModuleOp module, func::FuncOp entry,
                            llvm::StringSet<> &visited) {
  SymbolTable symbols(module);
  SmallVector<func::FuncOp> worklist = {entry};
  bool ok = true;
  while (!worklist.empty()) {
    func::FuncOp func = worklist.pop_back_val();
    if (!visited.insert(func.getName()).second)
      continue;
    func.walk([&](Operation *op) {
      if (auto call = dyn_cast<func::CallOp>(op)) {
        if (auto callee = symbols.lookup<func::FuncOp>(call.getCallee()))
          worklist.push_back(callee);
        return;
      }
      if (isa<ad::ADDialect>(op->getDialect()) &&
          !isa<ad::StopGradientOp>(op)) {
        emitNotSupported(op, "checked and emitted ('leibniz emit') but "
                             "not run");
        ok = false;
      }
    });
  }
  return success(ok);
}

/// Reports the operations that the CPU pipeline cannot compile yet, and
/// replaces `ad.stop_gradient`, the identity at run time, by its operand.
LogicalResult checkCompilable(ModuleOp module) {
  bool ok = true;
  module.walk([&](Operation *op) {
    if (auto stop = dyn_cast<ad::StopGradientOp>(op)) {
      stop.getResult().replaceAllUsesWith(stop.getInput());
      stop.erase();
      return;
    }
    if (isa<ad::ADDialect>(op->getDialect())) {
      emitNotSupported(op, "checked and emitted as lz IR but not compiled");
      ok = false;
    }
  });
  return success(ok);
}

/// The argument values of the entry from `--arg name=value`.
FailureOr<SmallVector<interp::RuntimeValue>>
parseArguments(MLIRContext &context, const frontend::Program &program,
               func::FuncOp entry, bool randomFloats = false,
               bool skipUnknown = false) {
  SmallVector<std::string> names = program.getParameterNames(entry.getName());
  SmallVector<std::optional<interp::RuntimeValue>> values(names.size());
  // Parameters with an argument, valid or not.
  SmallVector<bool> given(names.size(), false);
  bool ok = true;
  auto error = [&]() -> llvm::raw_ostream & {
    ok = false;
    return llvm::errs() << "leibniz: error: ";
  };
  for (const std::string &arg : argValues) {
    auto [name, text] = StringRef(arg).split('=');
    if (!StringRef(arg).contains('=')) {
      error() << "--arg needs name=value, got '" << arg << "'\n";
      continue;
    }
    auto it = llvm::find(names, name);
    if (it == names.end() && skipUnknown)
      continue;
    if (it == names.end()) {
      error() << "'" << entry.getName() << "' has no parameter '" << name
              << "'";
      if (!names.empty()) {
        llvm::errs() << "; its parameters are";
        for (const std::string &known : names)
          llvm::errs() << " " << known;
      }
      llvm::errs() << "\n";
      continue;
    }
    unsigned index = it - names.begin();
    if (given[index]) {
      error() << "argument '" << name << "' is given twice\n";
      continue;
    }
    given[index] = true;
    Type type = entry.getArgumentTypes()[index];
    std::string message;
    FailureOr<interp::RuntimeValue> value = failure();
    if (text.ends_with(".npy")) {
      std::string errorMessage;
      std::unique_ptr<llvm::MemoryBuffer> file =
          mlir::openInputFile(text, &errorMessage);
      if (!file) {
        error() << "argument '" << name << "': " << errorMessage << "\n";
        continue;
      }
      value = interp::readNpy(&context, file->getBuffer(), message);
      if (failed(value)) {
        error() << "argument '" << name << "': " << text << ": " << message
                << "\n";
        continue;
      }
    } else {
      value = interp::parseLiteral(text, type, message);
      if (failed(value)) {
        error() << "argument '" << name << "': " << message << "\n";
        continue;
      }
    }
    if (!interp::conformsTo(*value, type, message)) {
      error() << "argument '" << name << "': " << message << "\n";
      continue;
    }
    values[index] = *value;
  }
  for (auto [i, value] : llvm::enumerate(values)) {
    Type type = entry.getArgumentTypes()[i];
    if (given[i] || !randomFloats || !ad::hasTangent(type))
      continue;
    // Floats, float tensors and tuples of those without an argument are
    // random.
    std::string message;
    FailureOr<interp::RuntimeValue> random = interp::makeRandomValue(
        type, gradcheckSeed * 1000 + i, gradcheckSize, message);
    if (failed(random)) {
      error() << "argument '" << names[i] << "': " << message << "\n";
      given[i] = true; // Reported: not missing as well.
      continue;
    }
    value = *random;
    given[i] = true;
  }
  for (auto [i, value] : llvm::enumerate(values))
    if (!given[i])
      error() << "missing argument '" << names[i] << "' of '" << entry.getName()
              << "' (give it with --arg " << names[i] << "=...)\n";
  if (!ok)
    return failure();

  // Size parameters must agree across the arguments.
  frontend::ArgumentShapes shapes;
  std::function<void(const interp::RuntimeValue &,
                     std::vector<std::vector<int64_t>> &)>
      collect = [&](const interp::RuntimeValue &value,
                    std::vector<std::vector<int64_t>> &out) {
        if (value.isTuple()) {
          for (const interp::RuntimeValue &element : value.getElements())
            collect(element, out);
          return;
        }
        const interp::Tensor &tensor = value.getTensor();
        if (tensor.getRank() > 0)
          out.emplace_back(tensor.getShape().begin(), tensor.getShape().end());
      };
  SmallVector<interp::RuntimeValue> result;
  for (const auto &value : values) {
    collect(*value, shapes.emplace_back());
    result.push_back(*value);
  }
  std::string message;
  if (failed(program.checkArgumentShapes(entry.getName(), shapes, message))) {
    error() << message << "\n";
    return failure();
  }
  return result;
}

/// Writes the leaves of the results to `--out`: the file itself for one
/// tensor or scalar, `<stem>.<i>.npy` (nested: `<stem>.<i>.<j>.npy`) for
/// the elements of a tuple.
LogicalResult writeResults(ArrayRef<interp::RuntimeValue> results) {
  StringRef stem = StringRef(outFile).ends_with(".npy")
                       ? StringRef(outFile).drop_back(4)
                       : StringRef(outFile);
  std::function<LogicalResult(const interp::RuntimeValue &, std::string)>
      write = [&](const interp::RuntimeValue &value,
                  std::string path) -> LogicalResult {
    if (value.isTuple()) {
      for (auto [i, element] : llvm::enumerate(value.getElements()))
        if (failed(write(element, path + "." + std::to_string(i))))
          return failure();
      return success();
    }
    std::string error;
    FailureOr<std::string> contents =
        interp::writeNpy(value.getTensor(), error);
    std::string file = path + ".npy";
    if (failed(contents)) {
      llvm::errs() << "leibniz: error: " << file << ": " << error << "\n";
      return failure();
    }
    std::unique_ptr<llvm::ToolOutputFile> output =
        mlir::openOutputFile(file, &error);
    if (!output) {
      llvm::errs() << "leibniz: error: " << error << "\n";
      return failure();
    }
    output->os() << *contents;
    output->keep();
    return success();
  };
  // A result of empty tuples would write nothing.
  std::function<bool(const interp::RuntimeValue &)> hasLeaf =
      [&](const interp::RuntimeValue &value) {
        return !value.isTuple() || llvm::any_of(value.getElements(), hasLeaf);
      };
  if (!llvm::any_of(results, hasLeaf)) {
    llvm::errs() << "leibniz: error: --out: the result holds no tensor or "
                    "scalar to write\n";
    return failure();
  }
  if (results.size() == 1)
    return write(results.front(), stem.str());
  for (auto [i, result] : llvm::enumerate(results))
    if (failed(write(result, (stem + "." + std::to_string(i)).str())))
      return failure();
  return success();
}

/// The definition that --entry names (or `name`), or null after an error.
func::FuncOp lookupEntry(ModuleOp module,
                         StringRef name = entryName.getValue()) {
  auto entry = SymbolTable(module).lookup<func::FuncOp>(name);
  if (entry && !entry.isPrivate())
    return entry;
  llvm::errs() << "leibniz: error: the program has no definition '" << name
               << "'"
               << (name == "main" ? "; define 'main' or choose the "
                                    "definition with --entry"
                                  : "")
               << "\n";
  return nullptr;
}

/// Checks that --out names a file that can be written.
LogicalResult checkOutFile() {
  if (!outFile.getNumOccurrences())
    return success();
  StringRef path = outFile;
  StringRef stem = path.ends_with(".npy") ? path.drop_back(4) : path;
  if (path.empty() || llvm::sys::path::filename(stem).empty() ||
      llvm::sys::path::is_separator(stem.back())) {
    llvm::errs() << "leibniz: error: --out='" << path
                 << "' names no file (expected a file name such as "
                    "result.npy)\n";
    return failure();
  }
  if (llvm::sys::fs::is_directory(path) ||
      llvm::sys::fs::is_directory(stem + ".npy")) {
    llvm::errs() << "leibniz: error: --out='" << path
                 << "' is a directory; name a file in it, such as "
                    "result.npy\n";
    return failure();
  }
  return success();
}

int runRun() {
  FailureOr<driver::CUDAPipelineOptions> pipelineOptions = getPipelineOptions();
  if (failed(pipelineOptions))
    return 1;
  if (failed(checkOutFile()))
    return 1;
  Compilation compilation;
  FailureOr<frontend::Program> program = compilation.compile();
  if (failed(program))
    return 1;
  ModuleOp module = program->getModule();
  func::FuncOp entry = lookupEntry(module);
  if (!entry)
    return 1;
  llvm::StringSet<> reachable;
  if (failed(checkRunnable(module, entry, reachable)))
    return 1;
  FailureOr<SmallVector<interp::RuntimeValue>> args =
      parseArguments(compilation.context, *program, entry);
  if (failed(args))
    return 1;
  SmallVector<Type> resultTypes(entry.getFunctionType().getResults());
  FailureOr<SmallVector<interp::RuntimeValue>> results;
  if (countOps && engine != Engine::Interp) {
    llvm::errs() << "leibniz: error: --count-ops counts the interpreter's "
                    "operations; use it with --engine=interp\n";
    return 1;
  }
  if (targetsCUDA() && engine != Engine::JIT) {
    llvm::errs() << "leibniz: error: --target=cuda runs compiled code; it "
                    "does not go with --engine=interp\n";
    return 1;
  }
  if (engine == Engine::JIT) {
    // Only what the entry runs is compiled.
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (!reachable.contains(func.getName()))
        func.erase();
    if (failed(checkCompilable(module)))
      return 1;
    if (numThreads.getNumOccurrences()) {
      if (numThreads == 0) {
        llvm::errs() << "leibniz: error: --threads must be at least 1\n";
        return 1;
      }
      leibniz_set_num_threads(numThreads);
    }
    if (targetsCUDA())
      results = driver::runJIT(module, entryName, *args, *pipelineOptions);
    else
      results = driver::runJIT(
          module, entryName, *args,
          static_cast<const driver::CPUPipelineOptions &>(*pipelineOptions));
  } else {
    interp::InterpreterOptions options;
    options.countElements = countOps;
    interp::Interpreter interpreter(module, options);
    results = interpreter.call(entry, *args);
    if (countOps)
      llvm::errs() << "operations: " << interpreter.getTotalOpCount()
                   << "\nelements: " << interpreter.getElementCount() << "\n";
  }
  // The trace of the steps that ran, also when the run failed.
  if (!traceFilename.empty() &&
      leibniz_trace_write(traceFilename.c_str()) < 0) {
    llvm::errs() << "leibniz: error: cannot write the trace '" << traceFilename
                 << "'\n";
    return 1;
  }
  if (failed(results))
    return 1;
  if (!outFile.empty() && failed(writeResults(*results)))
    return 1;
  for (auto [result, type] : llvm::zip(*results, resultTypes)) {
    interp::printValue(llvm::outs(), result, type);
    llvm::outs() << "\n";
  }
  return 0;
}

/// Runs `program` with `args`; reports a failure with the command line.
LogicalResult runTool(StringRef program, ArrayRef<std::string> args) {
  SmallVector<StringRef> argv = {program};
  for (const std::string &arg : args)
    argv.push_back(arg);
  std::string message;
  int status = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, {}, 0, 0,
                                         &message);
  if (status == 0)
    return success();
  llvm::errs() << "leibniz: error: '" << llvm::join(argv, " ") << "' failed"
               << (message.empty() ? "" : ": " + message) << "\n";
  return failure();
}

LogicalResult writeFile(StringRef path, StringRef contents) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> file =
      mlir::openOutputFile(path, &error);
  if (!file) {
    llvm::errs() << "leibniz: error: " << error << "\n";
    return failure();
  }
  file->os() << contents;
  file->keep();
  return success();
}

/// The C identifier that names a library's functions by default: the
/// library's file name without `lib` and extensions (with `lib` where the
/// rest is empty or starts with a digit).
std::string getDefaultPrefix(StringRef library) {
  StringRef stem = llvm::sys::path::filename(library);
  stem = stem.take_until([](char c) { return c == '.'; });
  stem.consume_front("lib");
  std::string prefix;
  for (char c : stem)
    prefix += llvm::isAlnum(c) ? c : '_';
  if (prefix.empty() || llvm::isDigit(prefix.front()))
    prefix = "lib" + prefix;
  return prefix;
}

int runCompile(const char *argv0) {
  FailureOr<driver::CUDAPipelineOptions> pipelineOptions = getPipelineOptions();
  if (failed(pipelineOptions))
    return 1;
  StringRef library = libraryFilename;
  bool shared = library.ends_with(".so");
  if (!shared && !library.ends_with(".o")) {
    llvm::errs() << "leibniz: error: cannot tell what to write from '"
                 << library << "'; name a shared library '.so' or an object "
                 << "file '.o'\n";
    return 1;
  }
  std::string prefix =
      symbolPrefix.empty() ? getDefaultPrefix(library) : symbolPrefix;
  if (prefix.empty() ||
      !llvm::all_of(prefix,
                    [](char c) { return llvm::isAlnum(c) || c == '_'; }) ||
      llvm::isDigit(prefix.front())) {
    llvm::errs() << "leibniz: error: the prefix '" << prefix
                 << "' is not a C identifier\n";
    return 1;
  }
  std::string header = headerFilename;
  if (header.empty()) {
    SmallString<128> path(llvm::sys::path::parent_path(library));
    llvm::sys::path::append(path, prefix + ".h");
    header = path.str().str();
  }
  // No output may overwrite the program or the other output.
  auto same = [](StringRef a, StringRef b) {
    if (llvm::sys::fs::equivalent(a, b))
      return true;
    SmallString<256> absoluteA(a), absoluteB(b);
    llvm::sys::fs::make_absolute(absoluteA);
    llvm::sys::fs::make_absolute(absoluteB);
    llvm::sys::path::remove_dots(absoluteA, /*remove_dot_dot=*/true);
    llvm::sys::path::remove_dots(absoluteB, /*remove_dot_dot=*/true);
    return absoluteA == absoluteB;
  };
  for (auto [output, what] : {std::pair<StringRef, StringRef>{library, "-o"},
                              {header, "the header"}}) {
    if (same(output, inputFilename)) {
      llvm::errs() << "leibniz: error: " << what << " '" << output
                   << "' would overwrite the program\n";
      return 1;
    }
  }
  if (same(header, library)) {
    llvm::errs() << "leibniz: error: the header '" << header
                 << "' would overwrite the library (-o)\n";
    return 1;
  }
  // The runtime that the library links, installed next to this program.
  SmallString<128> runtime(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(llvm::sys::fs::getMainExecutable(
          argv0, reinterpret_cast<void *>(&runCompile)))));
  llvm::sys::path::append(runtime, "lib", "libleibniz_runtime.a");
  if (!llvm::sys::fs::exists(runtime)) {
    llvm::errs() << "leibniz: error: the runtime library " << runtime
                 << " is missing\n";
    return 1;
  }
  std::string cc = cCompiler;
  if (cc.empty())
    cc = std::getenv("CC") && *std::getenv("CC") ? std::getenv("CC") : "cc";
  llvm::ErrorOr<std::string> ccPath = llvm::sys::findProgramByName(cc);
  if (!ccPath) {
    llvm::errs() << "leibniz: error: cannot find the C compiler '" << cc
                 << "'; name one with --cc or $CC\n";
    return 1;
  }

  Compilation compilation;
  FailureOr<frontend::Program> program = compilation.compile();
  if (failed(program))
    return 1;
  ModuleOp module = program->getModule();
  SymbolTable symbols(module);

  // The exported definitions and their C interface.
  SmallVector<func::FuncOp> exports;
  if (exportNames.empty()) {
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isPrivate())
        exports.push_back(func);
  } else {
    llvm::StringSet<> named;
    for (const std::string &name : exportNames) {
      if (!named.insert(name).second)
        continue;
      auto func = symbols.lookup<func::FuncOp>(name);
      if (!func || func.isPrivate()) {
        llvm::errs() << "leibniz: error: the program has no definition '"
                     << name << "' to export\n";
        return 1;
      }
      exports.push_back(func);
    }
  }
  if (exports.empty()) {
    llvm::errs() << "leibniz: error: the program has no definition to "
                    "export\n";
    return 1;
  }
  llvm::StringSet<> reachable;
  bool ok = true;
  for (func::FuncOp func : exports)
    ok &= succeeded(checkRunnable(module, func, reachable));
  if (!ok)
    return 1;
  std::vector<driver::ExportedFunction> functions;
  for (func::FuncOp func : exports) {
    driver::ExportedFunction &function = functions.emplace_back();
    function.name = func.getName().str();
    function.entrySymbol = prefix + "__lz_" + function.name;
    function.type = func.getFunctionType();
    for (const std::string &name : program->getParameterNames(func.getName()))
      function.paramNames.push_back(name);
    for (const std::string &type : program->getParameterTypes(func.getName()))
      function.paramTypes.push_back(type);
    function.resultType = program->getResultType(func.getName());
    function.constraints = program->getDimensionConstraints(func.getName());
  }
  std::string error;
  FailureOr<driver::CInterface> interface = driver::generateCInterface(
      prefix, llvm::sys::path::filename(inputFilename), functions, error,
      /*unifiedMemory=*/targetsCUDA());
  if (failed(interface)) {
    llvm::errs() << "leibniz: error: " << error << "\n";
    return 1;
  }

  // Compile what the exports run, with symbols of the library's own.
  for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
    if (!reachable.contains(func.getName()))
      func.erase();
  for (func::FuncOp func : exports)
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(module.getContext()));
  for (auto func : llvm::to_vector(module.getOps<func::FuncOp>()))
    if (failed(symbols.rename(
            func, StringAttr::get(module.getContext(),
                                  prefix + "__lz_" + func.getName().str()))))
      return 1;
  if (failed(checkCompilable(module)))
    return 1;
  if (targetsCUDA()) {
    if (failed(driver::runCUDAPipeline(module, *pipelineOptions)))
      return 1;
  } else {
    PassManager pm(&compilation.context);
    if (failed(driver::buildCPUPipeline(pm, *pipelineOptions)) ||
        failed(pm.run(module)))
      return 1;
  }
  bool callsBLAS =
      module.lookupSymbol("cblas_dgemm") || module.lookupSymbol("cblas_sgemm");
  FailureOr<std::string> object = driver::emitNativeCode(
      module, pipelineOptions->optLevel, /*assembly=*/false);
  if (failed(object))
    return 1;

  // The library: the object, the compiled wrappers and the runtime, linked
  // by the C compiler; then the header, which the wrappers hold.
  SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("leibniz-compile", dir)) {
    llvm::errs() << "leibniz: error: cannot create a temporary directory: "
                 << ec.message() << "\n";
    return 1;
  }
  auto temp = [&](StringRef name) {
    SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return path.str().str();
  };
  std::string objectFile = temp("program.o"), wrapperSource = temp("c-abi.c"),
              wrapperObject = temp("c-abi.o"), versionScript = temp("exports"),
              linked = temp("linked.o");
  std::string exported = prefix + "_last_error\n" + prefix + "_set_num_threads";
  for (const driver::ExportedFunction &function : functions)
    exported += "\n" + prefix + "_" + function.name;
  auto link = [&]() -> LogicalResult {
    if (failed(writeFile(objectFile, *object)) ||
        failed(writeFile(wrapperSource, interface->wrappers)) ||
        failed(runTool(*ccPath, {"-c", "-O2", "-fPIC", "-std=c11", "-o",
                                 wrapperObject, wrapperSource})))
      return failure();
    if (shared) {
      std::string script = "{\n  global:\n";
      for (StringRef name : llvm::split(exported, '\n'))
        script += "    " + name.str() + ";\n";
      script += "  local: *;\n};\n";
      std::vector<std::string> args = {"-shared",
                                       "-o",
                                       library.str(),
                                       wrapperObject,
                                       objectFile,
                                       runtime.str().str(),
                                       "-Wl,--version-script=" + versionScript};
      if (callsBLAS)
        args.push_back("-lopenblas");
      if (driver::usesVectorMathLibrary(pipelineOptions->optLevel))
        args.push_back("-lmvec");
      args.push_back("-lstdc++");
      args.push_back("-lm");
      // The CUDA runtime loads the driver with dlopen.
      if (targetsCUDA())
        args.push_back("-ldl");
      return success(succeeded(writeFile(versionScript, script)) &&
                     succeeded(runTool(*ccPath, args)));
    }
    // An object file: one relocatable link, then every symbol but the
    // interface is made local, so that objects of several libraries link
    // together.
    llvm::ErrorOr<std::string> objcopy =
        llvm::sys::findProgramByName("objcopy");
    if (!objcopy) {
      llvm::errs() << "leibniz: error: cannot find objcopy\n";
      return failure();
    }
    std::vector<std::string> keep = {"--wildcard"};
    for (StringRef name : llvm::split(exported, '\n'))
      keep.push_back("--keep-global-symbol=" + name.str());
    keep.push_back(linked);
    keep.push_back(library.str());
    return success(succeeded(runTool(*ccPath, {"-r", "-nostdlib", "-o", linked,
                                               wrapperObject, objectFile,
                                               runtime.str().str()})) &&
                   succeeded(runTool(*objcopy, keep)));
  };
  LogicalResult linkedOk = link();
  llvm::sys::fs::remove_directories(dir);
  if (failed(linkedOk))
    return 1;
  return failed(writeFile(header, interface->header)) ? 1 : 0;
}

} // namespace

//===----------------------------------------------------------------------===//
// gradcheck
//===----------------------------------------------------------------------===//

/// `value` with every float element replaced by `f(element, other's)`,
/// where `other` has the same structure.
interp::RuntimeValue combine(const interp::RuntimeValue &value,
                             const interp::RuntimeValue &other,
                             llvm::function_ref<double(double, double)> f) {
  if (value.isTuple()) {
    std::vector<interp::RuntimeValue> elements;
    for (auto [a, b] : llvm::zip(value.getElements(), other.getElements()))
      elements.push_back(combine(a, b, f));
    return interp::RuntimeValue::getTuple(std::move(elements));
  }
  const interp::Tensor &a = value.getTensor();
  if (!a.isFloat())
    return value;
  interp::Tensor result(a.getElementType(), a.getShape());
  const interp::Tensor &b = other.getTensor();
  for (int64_t i = 0; i < a.getNumElements(); ++i)
    result.setFloat(i, f(a.getFloat(i), b.getFloat(i)));
  return result;
}

/// The float elements of `value`, in order.
void flatten(const interp::RuntimeValue &value, SmallVectorImpl<double> &out) {
  if (value.isTuple()) {
    for (const interp::RuntimeValue &element : value.getElements())
      flatten(element, out);
    return;
  }
  const interp::Tensor &tensor = value.getTensor();
  if (tensor.isFloat())
    for (int64_t i = 0; i < tensor.getNumElements(); ++i)
      out.push_back(tensor.getFloat(i));
}

/// A direction shaped like `value`: floats uniform in [-1, 1).
interp::RuntimeValue randomLike(const interp::RuntimeValue &value,
                                std::mt19937_64 &random) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  return combine(value, value, [&](double, double) { return uniform(random); });
}

/// Whether `type` holds an f32 (a scalar, a tensor's elements, a tuple's).
bool holdsF32(Type type) {
  if (auto tuple = dyn_cast<TupleType>(type))
    return llvm::any_of(tuple.getTypes(), holdsF32);
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    type = tensor.getElementType();
  return type.isF32();
}

/// The step and the tolerance of `entry`'s check: those given, else 1e-6
/// and 1e-6, or 1e-3 and 1e-3 where an argument or a result is f32, whose
/// finite differences lose half their digits at a step of 1e-3 and all of
/// them at 1e-6.
std::pair<double, double> getStepAndTolerance(func::FuncOp entry) {
  bool single = llvm::any_of(entry.getArgumentTypes(), holdsF32) ||
                llvm::any_of(entry.getResultTypes(), holdsF32);
  double fallback = single ? 1e-3 : 1e-6;
  return {gradcheckStep.getNumOccurrences() ? gradcheckStep : fallback,
          gradcheckTolerance.getNumOccurrences() ? gradcheckTolerance
                                                 : fallback};
}

/// Checks the derivatives of `entry` with respect to its `arguments` at
/// seeded random points, prints a line per argument, and returns whether
/// every error is within the tolerance.
FailureOr<bool>
checkDerivatives(interp::Interpreter &interpreter, func::FuncOp entry,
                 ArrayRef<interp::RuntimeValue> args,
                 ArrayRef<std::string> names, ArrayRef<unsigned> arguments,
                 llvm::DenseMap<unsigned, func::FuncOp> &forward,
                 func::FuncOp reverse, bool checkForward, bool checkReverse) {
  unsigned numResults = entry.getNumResults();
  std::mt19937_64 random(gradcheckSeed);
  bool passed = true;
  auto dot = [](ArrayRef<double> a, ArrayRef<double> b) {
    double sum = 0.0;
    for (auto [x, y] : llvm::zip(a, b))
      sum += x * y;
    return sum;
  };
  // Relative errors, NaN being the worst.
  auto record = [](double &worst, double value, double reference) {
    double error =
        std::abs(value - reference) / std::max(1.0, std::abs(reference));
    if (!(error <= worst))
      worst = std::isnan(error) ? error : std::max(worst, error);
  };
  for (unsigned position = 0, e = arguments.size(); position < e; ++position) {
    unsigned index = arguments[position];
    const interp::RuntimeValue &x = args[index];
    SmallVector<double> magnitudes;
    flatten(x, magnitudes);
    double scale = 1.0;
    for (double m : magnitudes)
      scale = std::max(scale, std::abs(m));
    double h = getStepAndTolerance(entry).first * scale;
    double worstForward = 0.0, worstReverse = 0.0, worstModes = 0.0;
    for (unsigned k = 0; k < gradcheckDirections; ++k) {
      interp::RuntimeValue v = randomLike(x, random);
      auto shifted = [&](double sign) {
        SmallVector<interp::RuntimeValue> point(args.begin(), args.end());
        point[index] =
            combine(x, v, [&](double a, double d) { return a + sign * h * d; });
        return interpreter.call(entry, point);
      };
      FailureOr<SmallVector<interp::RuntimeValue>> plus = shifted(1.0);
      FailureOr<SmallVector<interp::RuntimeValue>> minus = shifted(-1.0);
      if (failed(plus) || failed(minus))
        return failure();
      SmallVector<double> fd;
      SmallVector<double> high, low;
      for (unsigned r = 0; r < numResults; ++r) {
        flatten((*plus)[r], high);
        flatten((*minus)[r], low);
      }
      for (auto [a, b] : llvm::zip(high, low))
        fd.push_back((a - b) / (2.0 * h));
      SmallVector<double> tangent;
      if (checkForward) {
        SmallVector<interp::RuntimeValue> operands(args.begin(), args.end());
        operands.push_back(v);
        FailureOr<SmallVector<interp::RuntimeValue>> jvp =
            interpreter.call(forward[index], operands);
        if (failed(jvp))
          return failure();
        for (unsigned r = 0; r < numResults; ++r)
          flatten((*jvp)[numResults + r], tangent);
        for (auto [t, d] : llvm::zip(tangent, fd))
          record(worstForward, t, d);
      }
      if (!checkReverse)
        continue;
      // A random output cotangent w: <w, J v> by finite differences (and
      // forward mode) against <J^T w, v> by reverse mode.
      SmallVector<interp::RuntimeValue> operands(args.begin(), args.end());
      SmallVector<double> w;
      for (unsigned r = 0; r < numResults; ++r) {
        if (!ad::hasTangent(entry.getResultTypes()[r]))
          continue;
        operands.push_back(randomLike((*plus)[r], random));
        flatten(operands.back(), w);
      }
      FailureOr<SmallVector<interp::RuntimeValue>> vjp =
          interpreter.call(reverse, operands);
      if (failed(vjp))
        return failure();
      SmallVector<double> cotangent, direction;
      flatten((*vjp)[numResults + position], cotangent);
      flatten(v, direction);
      double reverseValue = dot(cotangent, direction);
      record(worstReverse, reverseValue, dot(w, fd));
      if (checkForward)
        record(worstModes, reverseValue, dot(w, tangent));
    }
    double worst = std::max({worstForward, worstReverse, worstModes});
    if (std::isnan(worstForward) || std::isnan(worstReverse) ||
        std::isnan(worstModes))
      worst = std::numeric_limits<double>::quiet_NaN();
    bool ok = worst <= getStepAndTolerance(entry).second;
    passed &= ok;
    llvm::outs() << llvm::format("%-12s", names[index].c_str())
                 << " worst relative error " << llvm::format("%.3e", worst)
                 << " over " << gradcheckDirections << " directions (";
    if (checkForward)
      llvm::outs() << "forward " << llvm::format("%.1e", worstForward);
    if (checkForward && checkReverse)
      llvm::outs() << ", ";
    if (checkReverse)
      llvm::outs() << "reverse " << llvm::format("%.1e", worstReverse);
    if (checkForward && checkReverse)
      llvm::outs() << ", forward vs reverse "
                   << llvm::format("%.1e", worstModes);
    llvm::outs() << ")" << (ok ? "" : "  FAILED") << "\n";
  }
  return passed;
}

int runGradcheck() {
  if (gradcheckMode != "fwd" && gradcheckMode != "rev" &&
      gradcheckMode != "both") {
    llvm::errs() << "leibniz: error: --mode must be fwd, rev or both, not '"
                 << gradcheckMode << "'\n";
    return 1;
  }
  if (gradcheckDirections == 0 || !(gradcheckStep > 0.0) ||
      !std::isfinite(gradcheckStep) || !(gradcheckTolerance >= 0.0)) {
    llvm::errs() << "leibniz: error: --directions and --step must be "
                    "positive (and --step finite) and --tol not negative\n";
    return 1;
  }
  if (gradcheckSize < 0) {
    llvm::errs() << "leibniz: error: --size must be 0 or more, not "
                 << gradcheckSize << "\n";
    return 1;
  }
  bool checkForward = gradcheckMode != "rev";
  bool checkReverse = gradcheckMode != "fwd";
  // --entry=f,g,...: each definition is checked in turn, as it would be
  // alone, in one compilation.
  SmallVector<StringRef> entryNames;
  StringRef(entryName).split(entryNames, ',');
  for (StringRef name : entryNames)
    if (name.empty()) {
      llvm::errs() << "leibniz: error: --entry: an empty name in '" << entryName
                   << "'\n";
      return 1;
    }
  // The forward derivative of each entry with respect to each float
  // argument, and one reverse derivative with respect to all of them,
  // built where the program's own derivatives are: before the solves are
  // expanded, so that they are differentiated implicitly.
  struct Checked {
    StringRef name;
    SmallVector<std::string> parameters;
    SmallVector<unsigned> arguments;
    /// The values of the parameters, given or random.
    SmallVector<interp::RuntimeValue> values;
    llvm::DenseMap<unsigned, func::FuncOp> forward;
    func::FuncOp reverse;
  };
  SmallVector<Checked> entries;
  Compilation compilation;
  auto buildDerivatives = [&](frontend::Program &program, StringRef name) {
    ModuleOp module = program.getModule();
    func::FuncOp entry = lookupEntry(module, name);
    if (!entry)
      return failure();
    Checked &checked = entries.emplace_back();
    checked.name = name;
    checked.parameters = program.getParameterNames(name);
    SmallVector<std::string> &names = checked.parameters;
    if (!llvm::any_of(entry.getFunctionType().getResults(), ad::hasTangent)) {
      llvm::errs() << "leibniz: error: '" << name
                   << "' has no float result to differentiate\n";
      return failure();
    }
    for (const std::string &parameter : gradcheckWrt) {
      auto it = llvm::find(names, parameter);
      if (it == names.end()) {
        llvm::errs() << "leibniz: error: --wrt: '" << name
                     << "' has no parameter '" << parameter << "'\n";
        return failure();
      }
      if (!ad::hasTangent(entry.getArgumentTypes()[it - names.begin()])) {
        llvm::errs() << "leibniz: error: --wrt: parameter '" << parameter
                     << "' is not a float, a float tensor or a tuple of "
                        "those\n";
        return failure();
      }
    }
    for (auto [i, type] : llvm::enumerate(entry.getArgumentTypes()))
      if (ad::hasTangent(type) &&
          (gradcheckWrt.empty() || llvm::is_contained(gradcheckWrt, names[i])))
        checked.arguments.push_back(i);
    if (checked.arguments.empty()) {
      llvm::errs() << "leibniz: error: '" << name
                   << "' has no float argument to differentiate\n";
      return failure();
    }
    for (unsigned i : checked.arguments) {
      if (!checkForward)
        break;
      SmallVector<bool> active(entry.getNumArguments(), false);
      active[i] = true;
      FailureOr<func::FuncOp> derivative =
          ad::buildForwardDerivative(module, entry, active);
      if (failed(derivative))
        return failure();
      checked.forward[i] = *derivative;
    }
    if (checkReverse) {
      SmallVector<bool> active(entry.getNumArguments(), false);
      for (unsigned i : checked.arguments)
        active[i] = true;
      FailureOr<func::FuncOp> derivative =
          ad::buildReverseDerivative(module, entry, active);
      if (failed(derivative))
        return failure();
      checked.reverse = *derivative;
    }
    return success();
  };
  compilation.beforeSolves = [&](frontend::Program &program) {
    for (StringRef name : entryNames)
      if (failed(buildDerivatives(program, name)))
        return failure();
    return success();
  };
  FailureOr<frontend::Program> program = compilation.compile(Stage::LzAD);
  if (failed(program))
    return 1;
  ModuleOp module = program->getModule();
  // With several definitions, an --arg goes to those that have its
  // parameter, and must name a parameter of one.
  if (entries.size() > 1)
    for (const std::string &arg : argValues) {
      StringRef name = StringRef(arg).split('=').first;
      if (llvm::none_of(entries, [&](const Checked &checked) {
            return llvm::is_contained(checked.parameters, name);
          })) {
        llvm::errs() << "leibniz: error: --arg: no definition of --entry="
                     << entryName << " has a parameter '" << name << "'\n";
        return 1;
      }
    }
  for (Checked &checked : entries) {
    func::FuncOp entry = lookupEntry(module, checked.name);
    if (!entry)
      return 1;
    llvm::StringSet<> reachable;
    if (failed(checkRunnable(module, entry, reachable)))
      return 1;
    FailureOr<SmallVector<interp::RuntimeValue>> values =
        parseArguments(compilation.context, *program, entry,
                       /*randomFloats=*/true,
                       /*skipUnknown=*/entries.size() > 1);
    if (failed(values))
      return 1;
    checked.values = std::move(*values);
  }
  // The derivatives, optimized like those of a program.
  StringRef forwardStrategy =
      strategyText.empty() ? StringRef("fwd-ad-opt") : StringRef(strategyText);
  StringRef reverseStrategy =
      strategyText.empty() ? StringRef("rev-ad-opt") : StringRef(strategyText);
  for (Checked &checked : entries) {
    for (auto &[i, derivative] : checked.forward)
      if (failed(compilation.rewrite(derivative, forwardStrategy)))
        return 1;
    if (checked.reverse &&
        failed(compilation.rewrite(checked.reverse, reverseStrategy)))
      return 1;
  }

  interp::Interpreter interpreter(module);
  bool passed = true;
  for (Checked &checked : entries) {
    if (entries.size() > 1)
      llvm::outs() << checked.name << ":\n";
    FailureOr<bool> ok = checkDerivatives(
        interpreter, lookupEntry(module, checked.name), checked.values,
        checked.parameters, checked.arguments, checked.forward, checked.reverse,
        checkForward, checkReverse);
    if (failed(ok))
      return 1;
    passed &= *ok;
  }
  if (!passed) {
    llvm::errs() << "leibniz: error: gradcheck failed: an error exceeds ";
    if (gradcheckTolerance.getNumOccurrences())
      llvm::errs() << "--tol="
                   << llvm::format("%g", gradcheckTolerance.getValue()) << "\n";
    else
      llvm::errs() << "the default tolerance (1e-6, or 1e-3 with f32; see "
                      "--tol)\n";
    return 1;
  }
  return 0;
}

/// Writes what `write` prints into -o, kept when it returns 0; returns its
/// status, or 1 where the file cannot be opened.
int writeOutput(llvm::function_ref<int(llvm::raw_ostream &)> write) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << "leibniz: error: " << error << "\n";
    return 1;
  }
  if (int status = write(output->os()))
    return status;
  output->keep();
  return 0;
}

int runSearch() {
  if (!(searchTime >= 0)) {
    llvm::errs() << "leibniz: error: --search-time must be a number of "
                    "seconds, 0 or more\n";
    return 1;
  }
  Compilation compilation;
  FailureOr<frontend::Program> program = compilation.compile(Stage::Lz);
  if (failed(program))
    return 1;
  func::FuncOp entry = lookupEntry(program->getModule());
  if (!entry)
    return 1;
  SmallVector<std::string> names = program->getParameterNames(entry.getName());
  search::Context context;
  FailureOr<search::Program> expression =
      search::fromFunction(entry, context, names);
  if (failed(expression))
    return 1;
  llvm::outs() << "expression:\n";
  expression->print(llvm::outs());
  llvm::outs().flush();

  llvm::errs() << "searching to depth " << searchDepth << "...\n";
  search::SearchOptions options;
  options.maxDepth = searchDepth;
  options.maxStates = searchMaxStates;
  options.layouts = searchLayouts;
  options.maxSeconds =
      searchTime.getNumOccurrences() ? searchTime.getValue() : 60.0;
  search::Target target;
  if (!searchUntil.empty()) {
    std::optional<search::Target> parsed = search::Target::parse(searchUntil);
    if (!parsed) {
      llvm::errs() << "leibniz: error: unknown pattern '" << searchUntil
                   << "' for --until (Matmul, Conv3x3 or another window, "
                      "G2BMM, DilatedG2BMM)\n";
      return 1;
    }
    target = *parsed;
    options.goal = [target](const search::Program &program) {
      return target.isReachedBy(program);
    };
  }
  options.progress = [](unsigned depth, size_t states) {
    llvm::errs() << "  depth " << depth << ": " << states << " states\n";
  };
  auto start = std::chrono::steady_clock::now();
  search::SearchResult result =
      searchGuided ? search::guide(*expression, options, target)
                   : search::explore(*expression, options);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  size_t states = 0;
  llvm::outs() << "states:";
  for (auto [depth, count] : llvm::enumerate(result.statesPerDepth)) {
    llvm::outs() << " " << count << " at depth " << depth
                 << (depth + 1 < result.statesPerDepth.size() ? "," : "");
    states += count;
  }
  llvm::outs() << "; " << states << " distinct, " << result.duplicates
               << " duplicates removed, " << llvm::format("%.3f", seconds)
               << " s"
               << (result.timedOut    ? " (stopped at --search-time)"
                   : result.truncated ? " (stopped at --max-states)"
                                      : "")
               << "\n";
  if (!searchUntil.empty() && !result.reachedGoal) {
    llvm::errs() << "leibniz: error: no state within depth " << searchDepth
                 << (result.timedOut    ? " and --search-time"
                     : result.truncated ? " and --max-states"
                                        : "")
                 << " has a " << target.getName() << " stage\n";
    return 1;
  }
  llvm::outs() << "derivation:";
  if (result.steps.empty())
    llvm::outs() << " none better than the expression";
  llvm::outs() << "\n";
  for (auto [i, step] : llvm::enumerate(result.steps))
    llvm::outs() << "  " << i + 1 << ". " << step << "\n";
  llvm::outs() << "result:\n";
  for (const search::Tensor &tensor : result.best.tensors) {
    if (!tensor.isView())
      continue;
    llvm::outs() << "  ";
    result.best.printView(llvm::outs(), tensor);
    llvm::outs() << "    [view]\n";
  }
  for (const search::Stage &stage : result.best.stages) {
    llvm::outs() << "  ";
    result.best.printStage(llvm::outs(), stage);
    if (auto match = search::matchOperator(result.best, stage))
      llvm::outs() << "    [" << match->describe() << "]";
    else if (auto pattern = search::matchPattern(result.best, stage))
      llvm::outs() << "    [generated: " << pattern->describe() << "]";
    else
      llvm::outs() << "    [generated]";
    llvm::outs() << "\n";
  }
  llvm::outs() << "cost (analytic): "
               << llvm::format("%.4g", result.originalCost) << " -> "
               << llvm::format("%.4g", result.bestCost) << "\n";
  // The derived definition, in Leibniz.
  std::string definition;
  llvm::raw_string_ostream definitionStream(definition);
  search::printDefinition(definitionStream, result.best, entry.getName());
  if (outputFilename == "-") {
    llvm::outs() << "definition:\n" << definition;
  } else if (int status = writeOutput([&](llvm::raw_ostream &os) {
               os << definition;
               return 0;
             })) {
    return status;
  }

  // The derivation must compute what the expression does.
  double difference = search::checkDerivation(*expression, result.best);
  llvm::outs() << "checked on random inputs: relative difference "
               << llvm::format("%.1e", difference) << "\n";
  if (!(difference <= 1e-9)) {
    llvm::errs() << "leibniz: error: the derivation changed the result "
                    "(relative difference "
                 << difference << ")\n";
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  driver::registerPipelines();
  // Without a command, --help lists the commands, not LLVM's own options
  // (which no command takes).
  static cl::OptionCategory noOptions("Leibniz");
  cl::HideUnrelatedOptions(noOptions, cl::SubCommand::getTopLevel());
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "leibniz " LEIBNIZ_VERSION " (LLVM " LLVM_VERSION_STRING ")\n";
  });
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "Leibniz compiler driver\n\n"
          "  leibniz run prog.lz                  run main() and print its "
          "value\n"
          "  leibniz run prog.lz --entry f --arg x=data.npy --arg lam=0.1\n"
          "  leibniz compile prog.lz -o libprog.so   a library with a C "
          "header (prog.h)\n"
          "  leibniz check prog.lz                report errors only\n"
          "  leibniz gradcheck prog.lz --entry f  check derivatives against "
          "finite differences\n"
          "  leibniz emit --emit=lz prog.lz       print the IR "
          "(--emit=ast: the syntax tree)\n"
          "  leibniz search prog.lz --entry f     derive a tensor expression "
          "into library operators\n"
          "  leibniz run --trace=t.csv prog.lz; leibniz plot t.csv -o t.svg\n"
          "                                       loss curves of the "
          "optimizer loops\n\n"
          "Each command has its own --help.\n",
          &llvm::errs()))
    return 1;
  // An empty value is a mistake, not the option left out.
  if (strategyText.getNumOccurrences() &&
      StringRef(strategyText).trim().empty()) {
    llvm::errs() << "leibniz: error: --strategy is empty (--strategy=id "
                    "rewrites nothing)\n";
    return 1;
  }
  if (searchUntil.getNumOccurrences() &&
      StringRef(searchUntil).trim().empty()) {
    llvm::errs() << "leibniz: error: --until is empty; expected a pattern "
                    "(Matmul, Conv3x3 or another window, G2BMM, "
                    "DilatedG2BMM)\n";
    return 1;
  }
  if (emitCommand)
    return runEmit();
  if (checkCommand)
    return runCheck();
  if (runCommand)
    return runRun();
  if (compileCommand)
    return runCompile(argv[0]);
  if (gradcheckCommand)
    return runGradcheck();
  if (searchCommand)
    return runSearch();
  if (plotCommand)
    return writeOutput(
        [](llvm::raw_ostream &os) { return plotTrace(inputFilename, os); });
  llvm::errs() << "leibniz: expected a command (run, compile, check, "
                  "emit, gradcheck, search or plot); see "
                  "'leibniz --help'\n";
  return 1;
}
