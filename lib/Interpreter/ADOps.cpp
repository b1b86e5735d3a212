//===- ADOps.cpp - Interpreting the ad dialect ----------------------------===//
//
// Part of Leibniz.
//
// Only `ad.stop_gradient` has a meaning of its own (the identity). The
// transformations are expanded by the AD passes before a program runs; the
// driver reports any that remain as not supported.
//
//===----------------------------------------------------------------------===//

#include "AD/ADOps.h"
#include "leibniz/Interpreter/Interpreter.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::interp;

void leibniz::interp::registerADHandlers(OpHandlerRegistry &registry) {
  registry.add<ad::StopGradientOp>(
      [](Interpreter &interp, ad::StopGradientOp op) {
        interp.bind(op.getResult(), interp.lookup(op.getInput()));
        return success();
      });
}
