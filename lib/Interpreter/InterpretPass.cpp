//===- InterpretPass.cpp - Run a function with the interpreter ------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Interpreter/Interpreter.h"
#include "leibniz/Interpreter/Passes.h"
#include "leibniz/Interpreter/ValueIO.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace leibniz::interp {
#define GEN_PASS_DEF_LZINTERPRET
#include "leibniz/Interpreter/Passes.h.inc"
} // namespace leibniz::interp

using namespace mlir;
using namespace leibniz::interp;

namespace {

struct LzInterpretPass
    : leibniz::interp::impl::LzInterpretBase<LzInterpretPass> {
  using LzInterpretBase::LzInterpretBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func) {
      module.emitError("lz-interpret: no function named '") << entry << "'";
      return signalPassFailure();
    }

    FailureOr<SmallVector<RuntimeValue>> args = makeArguments(func);
    if (failed(args))
      return signalPassFailure();

    llvm::raw_ostream &os = llvm::outs();
    if (printArgs)
      for (auto [pos, arg, type] :
           llvm::enumerate(*args, func.getArgumentTypes())) {
        os << "arg" << pos << " = ";
        printValue(os, arg, type);
        os << "\n";
      }

    InterpreterOptions options;
    options.countElements = countOps;
    Interpreter interpreter(module, options);
    FailureOr<SmallVector<RuntimeValue>> results =
        interpreter.call(func, *args);
    if (failed(results))
      return signalPassFailure();
    for (auto [result, type] :
         llvm::zip(*results, func.getFunctionType().getResults())) {
      printValue(os, result, type);
      os << "\n";
    }
    if (countOps)
      printCounts(os, interpreter);
    os.flush();
    markAllAnalysesPreserved();
  }

  FailureOr<SmallVector<RuntimeValue>> makeArguments(func::FuncOp func) {
    TypeRange types = func.getArgumentTypes();
    SmallVector<RuntimeValue> values;
    std::string error;
    if (args.empty()) {
      for (auto [pos, type] : llvm::enumerate(types)) {
        FailureOr<RuntimeValue> value =
            makeRandomValue(type, seed + pos, dynamicSize, error);
        if (failed(value))
          return func.emitError("lz-interpret: argument #")
                 << pos << ": " << error;
        values.push_back(std::move(*value));
      }
      return values;
    }
    SmallVector<StringRef> literals;
    StringRef(args).split(literals, ';');
    if (literals.size() != types.size())
      return func.emitError("lz-interpret: '")
             << func.getSymName() << "' takes " << types.size()
             << " arguments, but 'args' gives " << literals.size();
    for (auto [pos, literal, type] : llvm::enumerate(literals, types)) {
      FailureOr<RuntimeValue> value = parseLiteral(literal, type, error);
      if (failed(value))
        return func.emitError("lz-interpret: argument #")
               << pos << ": " << error;
      values.push_back(std::move(*value));
    }
    return values;
  }

  static void printCounts(llvm::raw_ostream &os, Interpreter &interpreter) {
    std::vector<std::pair<std::string, uint64_t>> counts;
    for (const auto &entry : interpreter.getOpCounts())
      counts.emplace_back(entry.getKey().str(), entry.getValue());
    std::sort(counts.begin(), counts.end());
    for (const auto &[name, count] : counts)
      os << "count " << name << " = " << count << "\n";
    os << "count total = " << interpreter.getTotalOpCount() << "\n";
    os << "count elements = " << interpreter.getElementCount() << "\n";
  }
};

} // namespace
