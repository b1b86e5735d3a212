//===- DerivativeInterface.cpp - Derivative rules of ops ------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "AD/DerivativeInterface.h"

#include "AD/DerivativeInterface.cpp.inc"
