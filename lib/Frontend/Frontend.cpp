//===- Frontend.cpp - Loading Leibniz programs ----------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Frontend/Frontend.h"
#include "leibniz/Frontend/Diagnostics.h"
#include "leibniz/Frontend/Parser.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace leibniz::frontend;

namespace {
const std::pair<llvm::StringRef, llvm::StringRef> kStdlibFiles[] = {
#include "StdLib.inc"
};
} // namespace

llvm::ArrayRef<std::pair<llvm::StringRef, llvm::StringRef>>
leibniz::frontend::getStdlibFiles() {
  return kStdlibFiles;
}

namespace {
class Loader {
public:
  Loader(MLIRContext &context, llvm::SourceMgr &sourceMgr,
         LoadedProgram &program, bool followImports)
      : context(context), sourceMgr(sourceMgr), program(program),
        followImports(followImports) {}

  /// Parses the buffer and then the files it imports.
  LogicalResult parseBuffer(unsigned bufferId, bool isLibrary, bool checkAll) {
    std::optional<ModuleAST> module = parseModule(
        sourceMgr, bufferId, [&](llvm::SMLoc loc, const llvm::Twine &message) {
          mlir::emitError(getLocation(&context, sourceMgr, loc)) << message;
        });
    if (!module)
      return failure();
    auto ast = std::make_unique<ModuleAST>(std::move(*module));
    StringRef directory = llvm::sys::path::parent_path(
        sourceMgr.getMemoryBuffer(bufferId)->getBufferIdentifier());
    bool ok = true;
    for (const ImportAST &import : ast->imports) {
      if (!followImports)
        break;
      llvm::SmallString<256> path(import.path);
      if (!llvm::sys::path::is_absolute(path) && !directory.empty()) {
        path = directory;
        llvm::sys::path::append(path, import.path);
      }
      if (failed(loadFile(path, import.loc)))
        ok = false;
    }
    program.modules.push_back(SourceModule{ast.get(), isLibrary, checkAll});
    program.asts.push_back(std::move(ast));
    return success(ok);
  }

  /// Loads a file once; `importLoc` is where it is imported, if it is.
  LogicalResult loadFile(StringRef path, llvm::SMLoc importLoc) {
    llvm::SmallString<256> realPath;
    if (path != "-" && !llvm::sys::fs::real_path(path, realPath) &&
        !loaded.insert(realPath).second)
      return success();
    std::string errorMessage;
    std::unique_ptr<llvm::MemoryBuffer> file =
        mlir::openInputFile(path, &errorMessage);
    if (!file) {
      if (importLoc.isValid())
        mlir::emitError(getLocation(&context, sourceMgr, importLoc))
            << "cannot import '" << path << "': " << errorMessage;
      else
        llvm::errs() << "leibniz: error: " << errorMessage << "\n";
      return failure();
    }
    unsigned bufferId =
        sourceMgr.AddNewSourceBuffer(std::move(file), importLoc);
    return parseBuffer(bufferId, /*isLibrary=*/false, /*checkAll=*/true);
  }

private:
  MLIRContext &context;
  llvm::SourceMgr &sourceMgr;
  LoadedProgram &program;
  bool followImports;
  llvm::StringSet<> loaded;
};
} // namespace

FailureOr<LoadedProgram>
leibniz::frontend::loadProgram(MLIRContext &context, llvm::SourceMgr &sourceMgr,
                               StringRef filename, const LoadOptions &options) {
  LoadedProgram program;
  Loader loader(context, sourceMgr, program, options.followImports);
  bool ok = true;
  if (options.withStdlib) {
    for (auto [name, source] : getStdlibFiles()) {
      unsigned bufferId = sourceMgr.AddNewSourceBuffer(
          llvm::MemoryBuffer::getMemBuffer(source, ("<std>/" + name).str(),
                                           /*RequiresNullTerminator=*/false),
          llvm::SMLoc());
      if (failed(loader.parseBuffer(bufferId, /*isLibrary=*/true,
                                    options.checkStdlib)))
        ok = false;
    }
  }
  if (failed(loader.loadFile(filename, llvm::SMLoc())))
    ok = false;
  if (!ok)
    return failure();
  return program;
}
