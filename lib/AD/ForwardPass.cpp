//===- ForwardPass.cpp - The ad-forward pass ------------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Passes.h"

#include "Lz/LzDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace leibniz::ad {
#define GEN_PASS_DEF_ADFORWARD
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

} // namespace
