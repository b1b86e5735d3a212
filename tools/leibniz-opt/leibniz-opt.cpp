//===- leibniz-opt.cpp - The Leibniz optimizer driver ---------------------===//
//
// Part of Leibniz.
//
// `mlir-opt` for Leibniz: the Leibniz dialects and passes plus the upstream
// dialects and passes that the Leibniz pipelines use.
//
//===----------------------------------------------------------------------===//

#include "AD/ADDialect.h"
#include "Lz/LzDialect.h"
#include "leibniz/AD/Passes.h"
#include "leibniz/Conversion/Passes.h"
#include "leibniz/Driver/Pipelines.h"
#include "leibniz/Interpreter/Passes.h"
#include "leibniz/Rewrite/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"

int main(int argc, char **argv) {
  int status;
  if (leibniz::rewrite::handleRewriteOptions(argc, argv, status))
    return status;

  mlir::DialectRegistry registry;
  registry.insert<leibniz::ad::ADDialect, leibniz::lz::LzDialect,
                  mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();

  // Leibniz passes.
  leibniz::interp::registerInterpreterPasses();
  leibniz::rewrite::registerRewritePasses();
  leibniz::ad::registerADPasses();
  leibniz::driver::registerPipelines();
  leibniz::driver::registerPipelineDependencies(registry);

  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "leibniz-opt " LEIBNIZ_VERSION " (LLVM " LLVM_VERSION_STRING ")\n";
  });
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Leibniz optimizer driver\n", registry));
}
