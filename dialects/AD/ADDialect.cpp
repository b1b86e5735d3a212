//===- ADDialect.cpp - The ad dialect -------------------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "AD/ADDialect.h"
#include "AD/ADOps.h"

using namespace mlir;
using namespace leibniz::ad;

#include "AD/ADDialect.cpp.inc"

void ADDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "AD/ADOps.cpp.inc"
      >();
}
