//===- AOT.h - Ahead-of-time compilation to native code ---------*- C++ -*-===//
//
// Part of Leibniz.
//
// `leibniz compile`: native code for the LLVM dialect (object files and
// assembly), and the C interface of a compiled library: its header and the
// wrappers that turn the documented C ABI into calls of the compiled
// entries (docs/c-abi.md).
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DRIVER_AOT_H
#define LEIBNIZ_DRIVER_AOT_H

#include "leibniz/Frontend/MLIRGen.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace leibniz::driver {

/// Translates a module in the LLVM dialect to LLVM IR, optimizes it at
/// `optLevel` for the host CPU and returns an object file (position-
/// independent) or, with `assembly`, its assembly text.
mlir::FailureOr<std::string> emitNativeCode(mlir::ModuleOp module,
                                            unsigned optLevel, bool assembly);

/// A definition that a library exports.
struct ExportedFunction {
  /// The definition's name in the program.
  std::string name;
  /// The symbol of its compiled entry (with `llvm.emit_c_interface`, whose
  /// wrapper is `_mlir_ciface_<entrySymbol>`).
  std::string entrySymbol;
  /// Its type before tuples are decomposed.
  mlir::FunctionType type;
  std::vector<std::string> paramNames;
  /// The types as the language writes them, for the header's comments.
  std::vector<std::string> paramTypes;
  std::string resultType;
  /// The sizes its tensor parameters must have.
  std::vector<frontend::Program::DimensionConstraint> constraints;
};

/// The C interface of a library: the header, and the C source of the
/// wrappers (which repeats the header's declarations).
struct CInterface {
  std::string header;
  std::string wrappers;
};

/// The C interface of a library whose functions are `<prefix>_<name>`.
/// `source` names the program in the header's first comment.
/// `unifiedMemory`: the program was compiled by the CUDA pipeline, whose
/// buffers are the runtime's unified memory; results are copied out of
/// them, and they are freed by the runtime. Fails, saying why in `error`,
/// where a C name would mean two things: a prefix like the runtime's,
/// the wrappers' or the BLAS's, or an export named like the library's own
/// functions, another export's result type or the compiled code's names.
mlir::FailureOr<CInterface>
generateCInterface(llvm::StringRef prefix, llvm::StringRef source,
                   llvm::ArrayRef<ExportedFunction> functions,
                   std::string &error, bool unifiedMemory = false);

} // namespace leibniz::driver

#endif // LEIBNIZ_DRIVER_AOT_H
