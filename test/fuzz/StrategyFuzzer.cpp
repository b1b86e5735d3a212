//===- StrategyFuzzer.cpp - libFuzzer target for rewrite strategies -------===//
//
// Part of Leibniz.
//
// Feeds arbitrary bytes to the strategy language's parser, with the `lz`
// rules, the prelude and the named strategies in scope. A parse error must
// point into the text (or just past it). A strategy that parses must print
// as text that parses to a strategy printing the same. One that is valid
// (StrategyEngine::verify) is applied to a small program, with a limit of
// 1000 rewrites, and the program must still verify afterwards. Every input
// must return without a crash, a hang or a sanitizer report.
//
//===----------------------------------------------------------------------===//

#include "AD/ADDialect.h"
#include "Lz/LzDialect.h"
#include "leibniz/Rewrite/Rule.h"
#include "leibniz/Rewrite/Strategy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace leibniz::rewrite;

namespace {

/// A program with traversals, sums, reads, a tuple and ring identities for
/// the rules to rewrite (`def f[n](x: f64[n], A: f64[3, n])`).
constexpr const char *kProgram = R"mlir(
func.func @f(%x: tensor<?xf64>, %A: tensor<3x?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %two = arith.constant 2.0 : f64
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %y = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %m = arith.mulf %two, %e : f64
    %s = arith.addf %m, %zero : f64
    lz.yield %s : f64
  }
  %p = lz.for %i < %c3 : tensor<3xf64> {
    %s = lz.sum %k < %n : f64 {
      %a = lz.get %A[%i, %k] : tensor<3x?xf64>
      %b = lz.get %y[%k] : tensor<?xf64>
      %m = arith.mulf %a, %b : f64
      lz.yield %m : f64
    }
    lz.yield %s : f64
  }
  %t = lz.sum %k < %n : f64 {
    %e = lz.get %y[%k] : tensor<?xf64>
    %m = arith.mulf %e, %one : f64
    lz.yield %m : f64
  }
  %pair = lz.tuple(%t, %p : f64, tensor<3xf64>)
  %u = lz.proj %pair[0] : tuple<f64, tensor<3xf64>>
  %v = lz.proj %pair[1] : tuple<f64, tensor<3xf64>>
  %w = lz.get %v[%c0] : tensor<3xf64>
  %r = arith.mulf %u, %w : f64
  return %r : f64
}
)mlir";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    auto *context =
        new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    context->loadDialect<leibniz::lz::LzDialect, leibniz::ad::ADDialect,
                         mlir::arith::ArithDialect, mlir::func::FuncDialect,
                         mlir::math::MathDialect, mlir::scf::SCFDialect,
                         mlir::tensor::TensorDialect>();
    return context;
  }();
  static mlir::ModuleOp program = [] {
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceString<mlir::ModuleOp>(kProgram, context);
    if (!module || failed(mlir::verify(*module)))
      std::abort();
    return module.release();
  }();
  mlir::ScopedDiagnosticHandler handler(context, [](mlir::Diagnostic &diag) {
    (void)diag.str();
    return mlir::success();
  });

  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  const StrategyLibrary &library = StrategyLibrary::getLz();
  StrategyError error;
  mlir::FailureOr<StrategyRef> strategy = library.parse(text, error);
  if (failed(strategy)) {
    if (error.message.empty() || error.column < 1 ||
        error.column > text.size() + 1)
      std::abort();
    return 0;
  }
  // Printing round-trips.
  std::string printed = printStrategy(**strategy);
  StrategyError again;
  mlir::FailureOr<StrategyRef> reparsed = library.parse(printed, again);
  if (failed(reparsed) || printStrategy(**reparsed) != printed)
    std::abort();

  std::string invalid;
  if (failed(StrategyEngine::verify(**strategy, invalid)))
    return 0;
  mlir::OwningOpRef<mlir::ModuleOp> copy(program.clone());
  StrategyEngine engine(context);
  engine.setMaxRewrites(1000);
  (void)engine.apply(**strategy, *copy);
  if (failed(mlir::verify(*copy)))
    std::abort();
  return 0;
}
