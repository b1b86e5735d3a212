//===- IRFuzzer.cpp - libFuzzer target for Leibniz's passes on IR ---------===//
//
// Part of Leibniz.
//
// What `leibniz-opt` does with textual IR: arbitrary bytes are parsed as a
// module of the lz, ad and upstream dialects. A module that parses and
// verifies runs, on copies, through the Leibniz passes that take lz and ad
// IR: forward and reverse differentiation (`ad-forward`, `ad-reverse`),
// `lz-canonicalize`, and the lowering (`lower-lz` with the options of the
// CPU's and the CUDA pipeline's levels, then `lz-decompose-tuples`), and
// the loop pass on buffers, `lz-unroll-jam`.
// A pass may reject its input with an error; when it succeeds its output
// must verify. Every input must return without a crash, a hang or a
// sanitizer report.
//
//===----------------------------------------------------------------------===//

#include "AD/ADDialect.h"
#include "Lz/LzDialect.h"
#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Passes.h"
#include "leibniz/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

using namespace mlir;

namespace {

/// Runs `add`'s passes on a copy of `module`; aborts if they succeed with
/// IR that does not verify.
void runOnCopy(ModuleOp module, const std::function<void(PassManager &)> &add) {
  OwningOpRef<ModuleOp> copy(module.clone());
  PassManager pm(module.getContext());
  pm.enableVerifier(false);
  add(pm);
  if (succeeded(pm.run(*copy)) && failed(verify(*copy)))
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static MLIRContext *context = [] {
    DialectRegistry registry;
    registry.insert<leibniz::lz::LzDialect, leibniz::ad::ADDialect,
                    arith::ArithDialect, bufferization::BufferizationDialect,
                    func::FuncDialect, linalg::LinalgDialect, LLVM::LLVMDialect,
                    math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                    tensor::TensorDialect>();
    leibniz::ad::registerDerivativeModels(registry);
    auto *context = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    context->loadAllAvailableDialects();
    return context;
  }();
  ScopedDiagnosticHandler handler(context, [](Diagnostic &diag) {
    (void)diag.str();
    return success();
  });

  // MLIR's lexer reads the NUL that ends its buffers, as files have.
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, context);
  if (!module || failed(verify(*module)))
    return 0;
  runOnCopy(*module, [](PassManager &pm) {
    pm.addPass(leibniz::ad::createADForward());
  });
  runOnCopy(*module, [](PassManager &pm) {
    pm.addPass(leibniz::ad::createADReverse());
  });
  runOnCopy(*module, [](PassManager &pm) {
    pm.addPass(leibniz::conversion::createCanonicalize());
  });
  // The lowering as the CPU pipeline runs it up to -O2, at -O3, and as the
  // CUDA pipeline runs it.
  for (auto options : {leibniz::conversion::LowerLzOptions{false, false},
                       leibniz::conversion::LowerLzOptions{true, false},
                       leibniz::conversion::LowerLzOptions{true, true}}) {
    runOnCopy(*module, [&](PassManager &pm) {
      pm.addPass(leibniz::conversion::createLowerLz(options));
    });
  }
  runOnCopy(*module, [](PassManager &pm) {
    pm.addNestedPass<func::FuncOp>(leibniz::conversion::createUnrollJam());
  });
  runOnCopy(*module, [](PassManager &pm) {
    pm.addPass(leibniz::conversion::createLowerLz());
    pm.enableVerifier(true);
    pm.addPass(leibniz::conversion::createDecomposeTuples());
  });
  return 0;
}
