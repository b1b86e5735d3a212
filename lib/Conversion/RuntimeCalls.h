//===- RuntimeCalls.h - Calls of the runtime from compiled code -*- C++ -*-===//
//
// Part of Leibniz.
//
// Builds the calls that compiled code makes to the runtime when a check
// fails (leibniz/Runtime/Runtime.h), with their messages as private
// constant globals. Shared by the run-time checks and the lowering of
// lz.check_tolerance.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_LIB_CONVERSION_RUNTIMECALLS_H
#define LEIBNIZ_LIB_CONVERSION_RUNTIMECALLS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace leibniz::conversion::detail {

using namespace mlir;

inline constexpr StringLiteral kAllocationCheck = "leibniz_allocation_check";
inline constexpr StringLiteral kBoundsFailed = "leibniz_bounds_failed";
inline constexpr StringLiteral kCheckFailed = "leibniz_check_failed";
inline constexpr StringLiteral kConversionFailed = "leibniz_conversion_failed";
inline constexpr StringLiteral kSizeFailed = "leibniz_size_failed";
inline constexpr StringLiteral kToleranceFailed = "leibniz_tolerance_failed";
inline constexpr StringLiteral kTraceLoss = "leibniz_trace_loss";

/// "file:line:col" of the first file location in `loc`, or "<unknown>".
inline std::string formatLocation(Location loc) {
  std::string text = "<unknown>";
  loc->walk([&](Location inner) {
    if (auto file = dyn_cast<FileLineColLoc>(inner)) {
      text = (file.getFilename().getValue() + ":" + Twine(file.getLine()) +
              ":" + Twine(file.getColumn()))
                 .str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return text;
}

class CheckBuilder {
public:
  explicit CheckBuilder(ModuleOp module) : module(module) {}

  /// Calls `leibniz_bounds_failed` unless 0 <= index < size.
  void checkIndex(OpBuilder &b, Location loc, Value index, Value size,
                  int64_t dim) {
    Value inBounds =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index, size);
    callUnless(b, loc, inBounds, kBoundsFailed, [&](OpBuilder &nested) {
      return SmallVector<Value>{
          getString(nested, loc, formatLocation(loc)),
          toI64(nested, loc, index),
          arith::ConstantIntOp::create(nested, loc, dim, 64),
          toI64(nested, loc, size)};
    });
  }

  /// Calls `leibniz_size_failed` unless size >= 0; `what` names the size
  /// in the message ("size", "range").
  void checkSize(OpBuilder &b, Location loc, Value size,
                 StringRef what = "size") {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value ok =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, size, zero);
    callUnless(b, loc, ok, kSizeFailed, [&](OpBuilder &nested) {
      return SmallVector<Value>{getString(nested, loc, formatLocation(loc)),
                                getString(nested, loc, what.str()),
                                toI64(nested, loc, size)};
    });
  }

  /// Calls `leibniz_conversion_failed` with the float `value` unless `ok`:
  /// its conversion to an integer of `width` bits fits.
  void checkConversion(OpBuilder &b, Location loc, Value ok, Value value,
                       unsigned width, bool isSigned) {
    callUnless(b, loc, ok, kConversionFailed, [&](OpBuilder &nested) {
      Value wide = value;
      Type f64 = nested.getF64Type();
      if (value.getType().getIntOrFloatBitWidth() < 64)
        wide = arith::ExtFOp::create(nested, loc, f64, value);
      else if (value.getType() != f64)
        wide = arith::TruncFOp::create(nested, loc, f64, value);
      return SmallVector<Value>{
          getString(nested, loc, formatLocation(loc)), wide,
          arith::ConstantIntOp::create(nested, loc, width, 64),
          arith::ConstantIntOp::create(nested, loc, isSigned, 1)};
    });
  }

  /// Calls `leibniz_tolerance_failed` unless value <= limit (a NaN is
  /// not); `strict` makes the report an error.
  void checkTolerance(OpBuilder &b, Location loc, Value value, Value limit,
                      StringRef what, bool strict) {
    Value ok =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, value, limit);
    callUnless(b, loc, ok, kToleranceFailed, [&](OpBuilder &nested) {
      return SmallVector<Value>{
          getString(nested, loc, formatLocation(loc)),
          getString(nested, loc, what.str()), value, limit,
          arith::ConstantIntOp::create(nested, loc, strict, 1)};
    });
  }

  /// Calls `leibniz_trace_loss` with the step and the loss of the
  /// optimizer loop `what` at `loc`.
  void traceLoss(OpBuilder &b, Location loc, Value step, Value loss,
                 StringRef what) {
    if (loss.getType() != b.getF64Type())
      loss = arith::ExtFOp::create(b, loc, b.getF64Type(), loss);
    SmallVector<Value> args = {getString(b, loc, formatLocation(loc)),
                               getString(b, loc, what.str()),
                               toI64(b, loc, step), loss};
    declare(kTraceLoss, args);
    func::CallOp::create(b, loc, kTraceLoss, TypeRange(), args);
  }

  /// Calls `leibniz_allocation_check` with the bytes that a new tensor of
  /// `type`, whose dynamic sizes are `dynamicSizes` (not negative), takes:
  /// computed in f64, which does not overflow.
  void checkAllocation(OpBuilder &b, Location loc, RankedTensorType type,
                       ValueRange dynamicSizes) {
    Type element = type.getElementType();
    unsigned bits =
        element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 64;
    auto constant = [&](double value) -> Value {
      return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
    };
    Value bytes = constant(std::max(1u, bits / 8));
    unsigned next = 0;
    for (int64_t extent : type.getShape()) {
      Value size =
          extent == ShapedType::kDynamic
              ? arith::SIToFPOp::create(b, loc, b.getF64Type(),
                                        toI64(b, loc, dynamicSizes[next++]))
                    .getResult()
              : constant(extent);
      bytes = arith::MulFOp::create(b, loc, bytes, size);
    }
    SmallVector<Value> args = {getString(b, loc, formatLocation(loc)), bytes};
    declare(kAllocationCheck, args);
    func::CallOp::create(b, loc, kAllocationCheck, TypeRange(), args);
  }

  /// Calls `leibniz_check_failed` with `what` unless `ok`.
  void check(OpBuilder &b, Location loc, Value ok, StringRef what) {
    callUnless(b, loc, ok, kCheckFailed, [&](OpBuilder &nested) {
      return SmallVector<Value>{getString(
          nested, loc, formatLocation(loc) + ": error: " + what.str())};
    });
  }

private:
  Value toI64(OpBuilder &b, Location loc, Value value) {
    if (value.getType().isIndex())
      return arith::IndexCastOp::create(b, loc, b.getI64Type(), value);
    if (value.getType().getIntOrFloatBitWidth() < 64)
      return arith::ExtSIOp::create(b, loc, b.getI64Type(), value);
    return value;
  }

  /// `if (!ok) callee(args...)`, with the arguments (the message and the
  /// values it reports) computed only when the check fails.
  void callUnless(OpBuilder &b, Location loc, Value ok, StringRef callee,
                  function_ref<SmallVector<Value>(OpBuilder &)> buildArgs) {
    auto ifOp = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.elseBlock());
    SmallVector<Value> args = buildArgs(b);
    declare(callee, args);
    func::CallOp::create(b, loc, callee, TypeRange(), args);
  }

  void declare(StringRef name, ValueRange args) {
    if (module.lookupSymbol(name))
      return;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto func = func::FuncOp::create(
        b, module.getLoc(), name,
        b.getFunctionType(TypeRange(ValueRange(args)), {}));
    func.setPrivate();
  }

  /// The address of a private constant holding `text` and a NUL.
  Value getString(OpBuilder &b, Location loc, const std::string &text) {
    auto [it, inserted] = strings.try_emplace(text);
    if (inserted) {
      OpBuilder moduleBuilder = OpBuilder::atBlockEnd(module.getBody());
      std::string value = text + '\0';
      auto type = LLVM::LLVMArrayType::get(
          IntegerType::get(module.getContext(), 8), value.size());
      // A name no other symbol has (another pass may have made strings).
      std::string name;
      do
        name = "__leibniz_check_" + std::to_string(next++);
      while (module.lookupSymbol(name));
      auto global = LLVM::GlobalOp::create(
          moduleBuilder, loc, type, /*isConstant=*/true, LLVM::Linkage::Private,
          name, moduleBuilder.getStringAttr(value));
      it->second = global.getSymName().str();
    }
    return LLVM::AddressOfOp::create(
        b, loc, LLVM::LLVMPointerType::get(module.getContext()), it->second);
  }

  ModuleOp module;
  llvm::StringMap<std::string> strings;
  unsigned next = 0;
};

} // namespace leibniz::conversion::detail

#endif // LEIBNIZ_LIB_CONVERSION_RUNTIMECALLS_H
