//===- Interpreter.h - The reference interpreter ----------------*- C++ -*-===//
//
// Part of Leibniz.
//
// The reference interpreter evaluates `func` + `lz` + the `arith`, `math`,
// `scf`, `tensor` and `linalg` (on tensors) ops that the pipelines produce
// before bufferization, on concrete values. It is the semantic oracle of the
// compiler: rewrite rules, AD and the tensor search are checked by comparing
// its results before and after a transformation. It favours clarity and
// exactness over speed, counts the operations it executes, and reports every
// run-time error (out-of-bounds read, integer division by zero, unsupported op,
// ...) at the location of the offending op instead of crashing.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_INTERPRETER_INTERPRETER_H
#define LEIBNIZ_INTERPRETER_INTERPRETER_H

#include "leibniz/Interpreter/RuntimeValue.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <functional>

namespace leibniz::interp {

class Interpreter;

/// True for the types whose values the interpreter represents exactly: f16,
/// bf16, f32, f64, integers of at most 64 bits and index, ranked tensors of
/// those of rank at most `Tensor::kMaxRank`, and tuples of supported types.
bool isSupportedType(mlir::Type type);

/// Executes one op: reads its operands with `Interpreter::lookup`, binds its
/// results with `Interpreter::bind`, and reports errors with
/// `Interpreter::emitError` before returning failure.
using OpHandler =
    std::function<mlir::LogicalResult(Interpreter &, mlir::Operation *)>;

/// The handlers the interpreter knows, keyed by op type.
class OpHandlerRegistry {
public:
  template <typename OpTy>
  void add(std::function<mlir::LogicalResult(Interpreter &, OpTy)> handler) {
    handlers[mlir::TypeID::get<OpTy>()] = [handler](Interpreter &interp,
                                                    mlir::Operation *op) {
      return handler(interp, llvm::cast<OpTy>(op));
    };
  }
  /// A handler for every op that implements interface `InterfaceTy` and has
  /// no handler of its own.
  template <typename InterfaceTy>
  void addInterface(
      std::function<mlir::LogicalResult(Interpreter &, InterfaceTy)> handler) {
    interfaceHandlers.emplace_back(
        [](mlir::Operation *op) { return llvm::isa<InterfaceTy>(op); },
        [handler](Interpreter &interp, mlir::Operation *op) {
          return handler(interp, llvm::cast<InterfaceTy>(op));
        });
  }
  const OpHandler *lookup(mlir::Operation *op) const;

private:
  llvm::DenseMap<mlir::TypeID, OpHandler> handlers;
  std::vector<std::pair<std::function<bool(mlir::Operation *)>, OpHandler>>
      interfaceHandlers;
};

// The handler sets, one per group of dialects (defined next to each other in
// lib/Interpreter).
void registerArithMathHandlers(OpHandlerRegistry &registry);
void registerLzHandlers(OpHandlerRegistry &registry);
void registerTensorHandlers(OpHandlerRegistry &registry);
void registerControlFlowHandlers(OpHandlerRegistry &registry);
void registerLinalgHandlers(OpHandlerRegistry &registry);
void registerADHandlers(OpHandlerRegistry &registry);

/// Limits that keep any program from crashing the interpreter.
struct InterpreterOptions {
  /// Calls nested deeper than this fail with a diagnostic.
  unsigned maxCallDepth = 10000;
  /// A top-level call runs on a thread with a stack of `stackSize` bytes and
  /// fails with a diagnostic once nesting (calls, scopes, loops) has used
  /// `stackBudget` bytes of it, so that no program overflows the stack.
  unsigned stackSize = 256u << 20;
  unsigned stackBudget = 224u << 20;
  /// Count the elements that operations compute (getElementCount), at the
  /// cost of a lookup per result.
  bool countElements = false;
};

class Interpreter {
public:
  explicit Interpreter(mlir::ModuleOp module,
                       InterpreterOptions options = InterpreterOptions());

  /// Calls function `name` of the module. On failure a diagnostic has been
  /// emitted.
  mlir::FailureOr<llvm::SmallVector<RuntimeValue>>
  call(llvm::StringRef name, llvm::ArrayRef<RuntimeValue> args);
  /// Calls `func`; `callSite` is the op that calls it, if any, which run-time
  /// errors inside the call name in a note.
  mlir::FailureOr<llvm::SmallVector<RuntimeValue>>
  call(mlir::func::FuncOp func, llvm::ArrayRef<RuntimeValue> args,
       mlir::Operation *callSite = nullptr);

  /// Runs the single block of `region` with `args` bound to its arguments
  /// and returns the operands of its terminator.
  mlir::FailureOr<llvm::SmallVector<RuntimeValue>>
  runRegion(mlir::Region &region, llvm::ArrayRef<RuntimeValue> args);

  /// The value of an SSA value in the current call.
  const RuntimeValue &lookup(mlir::Value value) const;
  const Tensor &lookupTensor(mlir::Value value) const {
    return lookup(value).getTensor();
  }
  /// Binds an SSA value in the current call.
  void bind(mlir::Value value, RuntimeValue runtimeValue);

  /// The current point of the iteration space of structured op `op` (a
  /// linalg op being evaluated), for the ops in its body that read it
  /// (`linalg.index`). Set by the op's handler, per call frame.
  void setIterationPoint(mlir::Operation *op, llvm::ArrayRef<int64_t> point);
  llvm::ArrayRef<int64_t> getIterationPoint(mlir::Operation *op) const;

  /// Reports a run-time error at `op`, with notes for the innermost active
  /// call sites.
  mlir::InFlightDiagnostic emitError(mlir::Operation *op);

  /// How often each op ran since construction or the last reset, by name.
  const llvm::StringMap<uint64_t> &getOpCounts() const { return opCounts; }
  /// The total of `getOpCounts`, without terminators.
  uint64_t getTotalOpCount() const;
  /// With InterpreterOptions::countElements, the elements of the results of
  /// the executed operations that compute values (not those that pass
  /// values through: conditionals, loops, calls, tuples, projections,
  /// casts): a scalar counts 1, a tensor its elements (at least 1), a
  /// tuple its elements'. Unlike the operation count, it sees work on
  /// whole tensors (a fill, a sum of two tensors) and the size of a library
  /// product's result; a scope counts its result's elements once, however
  /// many tensors its points add.
  uint64_t getElementCount() const { return elementCount; }
  void resetOpCounts() {
    opCounts.clear();
    elementCount = 0;
  }

  mlir::ModuleOp getModule() { return module; }

private:
  mlir::FailureOr<llvm::SmallVector<RuntimeValue>>
  callOnThisThread(mlir::func::FuncOp func, llvm::ArrayRef<RuntimeValue> args,
                   mlir::Operation *callSite);
  mlir::LogicalResult execute(mlir::Operation *op);
  bool isStackExhausted() const;

  mlir::ModuleOp module;
  InterpreterOptions options;
  OpHandlerRegistry registry;
  /// One frame per active call: SSA values are unique within a function, so
  /// one map per call holds the values of all its nested regions.
  struct Frame {
    llvm::DenseMap<mlir::Value, RuntimeValue> values;
    llvm::DenseMap<mlir::Operation *, llvm::SmallVector<int64_t>>
        iterationPoints;
    mlir::Operation *callSite = nullptr;
  };
  std::vector<Frame> frames;
  llvm::StringMap<uint64_t> opCounts;
  uint64_t elementCount = 0;
  /// The stack address at the start of the top-level call.
  const char *stackBase = nullptr;
};

} // namespace leibniz::interp

#endif // LEIBNIZ_INTERPRETER_INTERPRETER_H
