//===- leibniz.cpp - The Leibniz compiler driver --------------------------===//
//
// Part of Leibniz.
//
// `leibniz <command> [options] <file.lz>`. Each command is a subcommand
// with its own `--help`. Today: `emit --emit=ast`. Semantic analysis, IR
// generation and running programs are not built yet.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/AST.h"
#include "leibniz/Frontend/Diagnostics.h"
#include "leibniz/Frontend/Parser.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace leibniz;
namespace cl = llvm::cl;

namespace {

cl::SubCommand emitCommand("emit", "Print a program at a stage of compilation");

/// The stages `emit` can print, in the order of compilation.
enum class Stage { AST };

cl::opt<Stage>
    emitStage("emit", cl::desc("The stage to print"),
              cl::values(clEnumValN(Stage::AST, "ast",
                                    "the syntax tree, as S-expressions")),
              cl::init(Stage::AST), cl::sub(emitCommand));

cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<input .lz file>"),
                                   cl::Required, cl::sub(emitCommand));

cl::opt<std::string> outputFilename("o",
                                    cl::desc("Output file (default: "
                                             "standard output)"),
                                    cl::value_desc("file"), cl::init("-"),
                                    cl::sub(emitCommand));

/// Parses the input file; errors go through MLIR's diagnostic handler with
/// the source line and a caret.
std::optional<frontend::ModuleAST> parseInput(mlir::MLIRContext &context,
                                              llvm::SourceMgr &sourceMgr) {
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      mlir::openInputFile(inputFilename, &errorMessage);
  if (!file) {
    llvm::errs() << "leibniz: " << errorMessage << "\n";
    return std::nullopt;
  }
  unsigned bufferId =
      sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return frontend::parseModule(
      sourceMgr, bufferId, [&](llvm::SMLoc loc, const llvm::Twine &message) {
        mlir::emitError(frontend::getLocation(&context, sourceMgr, loc))
            << message;
      });
}

int runEmit() {
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  std::optional<frontend::ModuleAST> module = parseInput(context, sourceMgr);
  if (!module)
    return 1;

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << "leibniz: " << errorMessage << "\n";
    return 1;
  }
  switch (emitStage) {
  case Stage::AST:
    frontend::dump(*module, output->os());
    break;
  }
  output->keep();
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "Leibniz compiler driver\n\n"
          "  leibniz emit --emit=ast prog.lz   print the syntax tree\n\n"
          "Semantic analysis, IR generation and running programs are not "
          "built yet.\n",
          &llvm::errs()))
    return 1;
  if (emitCommand)
    return runEmit();
  llvm::errs() << "leibniz: expected a command; see 'leibniz --help'\n";
  return 1;
}
