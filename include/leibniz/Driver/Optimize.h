//===- Optimize.h - LLVM's optimizations of compiled code -------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DRIVER_OPTIMIZE_H
#define LEIBNIZ_DRIVER_OPTIMIZE_H

#include "llvm/Support/Error.h"

#include <functional>
#include <memory>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace leibniz::driver {

/// A target machine for the host CPU (as -march=native) at `optLevel`,
/// position-independent when `pic`. Initializes the native target once.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createHostTargetMachine(unsigned optLevel, bool pic);

/// Whether code at `optLevel` calls the vector math functions of glibc's
/// libmvec (vectorized `exp`, `log`, `sin`, ...): at -O3 on x86-64 Linux
/// with glibc, where this process can load libmvec (and so the JIT can
/// call it; it stays loaded).
bool usesVectorMathLibrary(unsigned optLevel);

/// Whether, with usesVectorMathLibrary, LLVM also vectorizes the math
/// functions of glibc 2.35's libmvec that its own table leaves out (`tanh`,
/// `erf`, `log1p`, ...): where this process finds them.
bool hasExtendedVectorMath();

/// The bytes of states that a strip of an elementwise loop keeps in vector
/// registers across the loop's steps (`lz-jam-steps`'s `strip-bytes`): 768,
/// three eighths of the registers, on a host CPU with AVX-512, where it was
/// measured; 0 (steps in pairs instead) elsewhere.
int64_t getStripBytes();

/// Runs LLVM's default pipeline at `optLevel` on `module` for
/// `targetMachine`. With `vectorMath`, the loop vectorizer may call
/// libmvec's vector variants of math functions, which are accurate to a few
/// ulps where libm's are (nearly) correctly rounded; the code must then be
/// linked with libmvec.
llvm::Error optimizeModule(llvm::Module &module, unsigned optLevel,
                           llvm::TargetMachine *targetMachine, bool vectorMath);

/// `optimizeModule` as the transformer of MLIR's ExecutionEngine.
std::function<llvm::Error(llvm::Module *)>
makeTransformer(unsigned optLevel, llvm::TargetMachine *targetMachine,
                bool vectorMath);

} // namespace leibniz::driver

#endif // LEIBNIZ_DRIVER_OPTIMIZE_H
