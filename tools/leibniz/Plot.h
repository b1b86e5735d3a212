//===- Plot.h - Loss curves as SVG ------------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_TOOLS_LEIBNIZ_PLOT_H
#define LEIBNIZ_TOOLS_LEIBNIZ_PLOT_H

#include "llvm/ADT/StringRef.h"

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace leibniz {

/// Draws the trace at `inputPath` (the CSV of `leibniz run --trace`) as an
/// SVG image on `os`. Returns the exit status: 1 after reporting an
/// unreadable or malformed trace, at its line.
int plotTrace(llvm::StringRef inputPath, llvm::raw_ostream &os);

} // namespace leibniz

#endif // LEIBNIZ_TOOLS_LEIBNIZ_PLOT_H
