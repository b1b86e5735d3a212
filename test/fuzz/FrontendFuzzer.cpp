//===- FrontendFuzzer.cpp - libFuzzer target for the frontend -------------===//
//
// Part of Leibniz.
//
// Feeds arbitrary bytes to the lexer and parser (and dumps the tree when it
// parses): every input must return, without a crash, a hang or a sanitizer
// report.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/AST.h"
#include "leibniz/Frontend/Parser.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.lz"),
      llvm::SMLoc());
  std::optional<leibniz::frontend::ModuleAST> module =
      leibniz::frontend::parseModule(
          sourceMgr, id, [](llvm::SMLoc, const llvm::Twine &message) {
            // Render the message as the driver would.
            (void)message.str();
          });
  if (module)
    leibniz::frontend::dump(*module, llvm::nulls());
  return 0;
}
