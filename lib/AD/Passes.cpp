//===- Passes.cpp - The passes of automatic differentiation --------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/AD/Passes.h"
#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Optimize.h"
#include "leibniz/AD/Reverse.h"

#include "Lz/LzDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace leibniz::ad {
#define GEN_PASS_DEF_ADFORWARD
#define GEN_PASS_DEF_ADMINIMIZE
#define GEN_PASS_DEF_ADSOLVE
#define GEN_PASS_DEF_ADREVERSE
#define GEN_PASS_DEF_ADPRINTUNARYFORM
#include "leibniz/AD/Passes.h.inc"
} // namespace leibniz::ad

using namespace mlir;

namespace {

struct ADForwardPass : public leibniz::ad::impl::ADForwardBase<ADForwardPass> {
  void runOnOperation() override {
    if (failed(leibniz::ad::expandForwardMode(getOperation())))
      signalPassFailure();
  }
};

struct ADReversePass : public leibniz::ad::impl::ADReverseBase<ADReversePass> {
  void runOnOperation() override {
    if (failed(leibniz::ad::expandDerivatives(getOperation(),
                                              /*forward=*/false,
                                              /*reverse=*/true)))
      signalPassFailure();
  }
};

struct ADMinimizePass
    : public leibniz::ad::impl::ADMinimizeBase<ADMinimizePass> {
  void runOnOperation() override {
    if (failed(leibniz::ad::expandOptimizerLoops(getOperation())))
      signalPassFailure();
  }
};

struct ADSolvePass : public leibniz::ad::impl::ADSolveBase<ADSolvePass> {
  void runOnOperation() override {
    if (failed(leibniz::ad::expandSolves(getOperation())))
      signalPassFailure();
  }
};

struct ADPrintUnaryFormPass
    : public leibniz::ad::impl::ADPrintUnaryFormBase<ADPrintUnaryFormPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      llvm::outs() << "// " << func.getName() << ": ";
      leibniz::ad::UnaryForm(func.getBody().front()).print(llvm::outs());
    }
    markAllAnalysesPreserved();
  }
};

} // namespace
