//===- MLIRGen.h - From the syntax tree to lz and ad IR ---------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_FRONTEND_MLIRGEN_H
#define LEIBNIZ_FRONTEND_MLIRGEN_H

#include "leibniz/Frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

#include <memory>

namespace leibniz::frontend {

/// A parsed source file of a program.
struct SourceModule {
  const ModuleAST *ast;
  /// Library modules (the standard library) are private to the library: a
  /// program's definitions do not change what their code means.
  bool isLibrary = false;
  /// Whether every definition is checked and generated. User modules are;
  /// library modules only as far as the program uses them, unless asked.
  bool checkAll = true;
};

/// The concrete sizes of an entry point's arguments, to check them against
/// the entry's signature before running it: per argument, the shape of
/// every tensor in it (in the order of a depth-first walk of its type).
using ArgumentShapes = std::vector<std::vector<std::vector<int64_t>>>;

/// The result of semantic analysis and IR generation: a verified module of
/// `func`, `lz`, `ad`, `arith`, `math`, `scf` and `tensor` operations, one
/// `func.func` per definition (public for user definitions), and the
/// signatures of the definitions in the language's own terms.
class Program {
public:
  Program();
  ~Program();
  Program(Program &&);
  Program &operator=(Program &&);

  mlir::ModuleOp getModule() { return *module; }
  mlir::OwningOpRef<mlir::ModuleOp> takeModule() { return std::move(module); }

  /// Checks that arguments of the given shapes fit the size parameters of
  /// definition `name` (for instance that `x: f64[n]` and `y: f64[n]` get
  /// vectors of equal length); on mismatch explains in `error`, naming the
  /// parameter, the expected type and the shape given.
  mlir::LogicalResult checkArgumentShapes(llvm::StringRef name,
                                          const ArgumentShapes &shapes,
                                          std::string &error) const;

  /// One dimension of a tensor leaf of a parameter of a definition, for
  /// checking shapes outside the compiler (the C interface of compiled
  /// libraries). The size is `scale * lz_s<atom> + offset` when `linear` is
  /// set, else `expression`, a C expression over variables `lz_s<atom>`, the
  /// size atoms (size parameters and the like).
  struct DimensionConstraint {
    unsigned param;
    /// The index of the tensor among the leaves (tensors and scalars) of
    /// all the parameters, flattened in order.
    unsigned leaf;
    unsigned dim;
    std::optional<std::tuple<unsigned, int64_t, int64_t>> linear;
    std::string expression;
    /// The atoms that `expression` uses.
    llvm::SmallVector<unsigned> atoms;
  };
  std::vector<DimensionConstraint>
  getDimensionConstraints(llvm::StringRef name) const;

  /// The types of the parameters and of the result of definition `name`
  /// as the language writes them (`f64[n, 3]`).
  llvm::SmallVector<std::string> getParameterTypes(llvm::StringRef name) const;
  std::string getResultType(llvm::StringRef name) const;

  /// The names of the parameters of definition `name`.
  llvm::SmallVector<std::string> getParameterNames(llvm::StringRef name) const;

  /// Implementation details (signatures in terms of size atoms).
  struct Signatures;

private:
  friend class MLIRGenerator;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<Signatures> signatures;
};

/// Checks the program made of `modules` and generates its IR. Errors go to
/// the context's diagnostic handler, located in `sourceMgr`'s buffers; on
/// any error returns failure (after reporting every error that it found).
mlir::FailureOr<Program> generateProgram(mlir::MLIRContext &context,
                                         const llvm::SourceMgr &sourceMgr,
                                         llvm::ArrayRef<SourceModule> modules);

/// Registers the dialects that generated programs use.
void registerFrontendDialects(mlir::MLIRContext &context);

} // namespace leibniz::frontend

#endif // LEIBNIZ_FRONTEND_MLIRGEN_H
