//===- FrontendFuzzer.cpp - libFuzzer target for the frontend -------------===//
//
// Part of Leibniz.
//
// Feeds arbitrary bytes to the whole frontend: the lexer and parser, then
// semantic analysis and IR generation (with the standard library in scope)
// and the verifier. Every input must return, without a crash, a hang or a
// sanitizer report.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/AST.h"
#include "leibniz/Frontend/Frontend.h"
#include "leibniz/Frontend/MLIRGen.h"
#include "leibniz/Frontend/Parser.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace leibniz::frontend;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // One context for all inputs: creating one is slower than an input.
  static mlir::MLIRContext *context = [] {
    auto *context =
        new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    registerFrontendDialects(*context);
    return context;
  }();
  mlir::ScopedDiagnosticHandler handler(context, [](mlir::Diagnostic &diag) {
    // Render the message as the driver would.
    (void)diag.str();
    return mlir::success();
  });

  llvm::SourceMgr sourceMgr;
  auto report = [](llvm::SMLoc, const llvm::Twine &message) {
    (void)message.str();
  };
  std::vector<std::unique_ptr<ModuleAST>> asts;
  std::vector<SourceModule> modules;
  for (auto [name, source] : getStdlibFiles()) {
    unsigned id = sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(source, name, false), llvm::SMLoc());
    std::optional<ModuleAST> module = parseModule(sourceMgr, id, report);
    if (!module)
      return 0;
    asts.push_back(std::make_unique<ModuleAST>(std::move(*module)));
    modules.push_back(SourceModule{asts.back().get(), true});
  }
  unsigned id = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.lz"),
      llvm::SMLoc());
  std::optional<ModuleAST> module = parseModule(sourceMgr, id, report);
  if (!module)
    return 0;
  dump(*module, llvm::nulls());
  asts.push_back(std::make_unique<ModuleAST>(std::move(*module)));
  modules.push_back(SourceModule{asts.back().get(), false});
  mlir::FailureOr<Program> program =
      generateProgram(*context, sourceMgr, modules);
  if (succeeded(program))
    program->getModule().print(llvm::nulls());
  return 0;
}
