//===- ADDialect.h - The ad dialect -----------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_AD_ADDIALECT_H
#define LEIBNIZ_DIALECT_AD_ADDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "AD/ADDialect.h.inc"

namespace leibniz::ad {
/// The symbol of the standard library's definition `name` (lib/Std). The
/// library's functions are named `std$<name>`, so that a program's own
/// definitions, named as written, never clash with them, and the passes that
/// call library functions (optimizer rules, `lu_solve`) find the library's.
/// `$` is in no identifier of the language, and unlike `.` it is valid in
/// PTX, where kernels take their names from their functions.
inline std::string getStdSymbol(llvm::StringRef name) {
  return ("std$" + name).str();
}
} // namespace leibniz::ad

#endif // LEIBNIZ_DIALECT_AD_ADDIALECT_H
