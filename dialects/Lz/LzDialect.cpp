//===- LzDialect.cpp - The lz dialect -------------------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "Lz/LzDialect.h"
#include "Lz/LzOps.h"

using namespace mlir;
using namespace leibniz::lz;

#include "Lz/LzDialect.cpp.inc"

void LzDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Lz/LzOps.cpp.inc"
      >();
}

Operation *LzDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                          Type type, Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}
