//===- RuntimeAllocator.cpp - Buffers from the runtime --------------------===//
//
// Part of Leibniz.
//
// Retargets the CPU pipeline's allocations and deallocations to the
// runtime's `leibniz_aligned_alloc` and `leibniz_free`, which reuse the
// buffers that a thread freed recently (lib/Runtime/Alloc.cpp).
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_RUNTIMEALLOCATOR
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

namespace {

struct RuntimeAllocatorPass
    : public conversion::impl::RuntimeAllocatorBase<RuntimeAllocatorPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    const std::pair<StringRef, StringRef> renames[] = {
        {"aligned_alloc", "leibniz_aligned_alloc"}, {"free", "leibniz_free"}};
    for (auto [name, replacement] : renames) {
      auto declaration = symbols.lookup<LLVM::LLVMFuncOp>(name);
      if (!declaration || !declaration.isExternal())
        continue;
      auto existing = symbols.lookup<LLVM::LLVMFuncOp>(replacement);
      if (existing &&
          existing.getFunctionType() != declaration.getFunctionType()) {
        declaration.emitError()
            << "'" << replacement << "' is declared with another type";
        return signalPassFailure();
      }
      if (failed(SymbolTable::replaceAllSymbolUses(
              declaration, StringAttr::get(&getContext(), replacement),
              module)))
        return signalPassFailure();
      if (existing)
        symbols.erase(declaration);
      else
        symbols.setSymbolName(declaration, replacement);
    }
    // A buffer that the runtime returns aliases no other live one, as
    // `aligned_alloc`'s, which LLVM knows by its name: the loops over
    // buffers that a function allocates need no run-time overlap checks.
    for (auto function : module.getOps<LLVM::LLVMFuncOp>())
      if (function.getName() == "leibniz_aligned_alloc")
        function.setResultAttr(0, LLVM::LLVMDialect::getNoAliasAttrName(),
                               UnitAttr::get(&getContext()));
  }
};

} // namespace
