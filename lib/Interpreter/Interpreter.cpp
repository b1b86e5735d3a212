//===- Interpreter.cpp - The reference interpreter ------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Interpreter/Interpreter.h"
#include "leibniz/Interpreter/ValueIO.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/thread.h"

using namespace mlir;
using namespace leibniz::interp;

bool leibniz::interp::isSupportedType(Type type) {
  if (auto tuple = dyn_cast<TupleType>(type))
    return llvm::all_of(tuple.getTypes(), isSupportedType);
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    if (tensor.getRank() > Tensor::kMaxRank)
      return false;
    type = tensor.getElementType();
  }
  if (type.isF16() || type.isBF16() || type.isF32() || type.isF64() ||
      type.isIndex())
    return true;
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.getWidth() <= 64;
}

/// The first operand or result type of `op` that the interpreter cannot
/// represent, or null.
static Type findUnsupportedType(Operation *op) {
  for (Type type : op->getOperandTypes())
    if (!isSupportedType(type))
      return type;
  for (Type type : op->getResultTypes())
    if (!isSupportedType(type))
      return type;
  return {};
}

const OpHandler *OpHandlerRegistry::lookup(Operation *op) const {
  std::optional<RegisteredOperationName> name = op->getRegisteredInfo();
  if (!name)
    return nullptr;
  auto it = handlers.find(name->getTypeID());
  if (it != handlers.end())
    return &it->second;
  for (const auto &[matches, handler] : interfaceHandlers)
    if (matches(op))
      return &handler;
  return nullptr;
}

Interpreter::Interpreter(ModuleOp module, InterpreterOptions options)
    : module(module), options(options) {
  registerArithMathHandlers(registry);
  registerLzHandlers(registry);
  registerTensorHandlers(registry);
  registerControlFlowHandlers(registry);
  registerLinalgHandlers(registry);
  registerADHandlers(registry);
}

FailureOr<SmallVector<RuntimeValue>>
Interpreter::call(StringRef name, ArrayRef<RuntimeValue> args) {
  auto func = module.lookupSymbol<func::FuncOp>(name);
  if (!func)
    return module.emitError("no function named '") << name << "' to run";
  return call(func, args);
}

FailureOr<SmallVector<RuntimeValue>>
Interpreter::call(func::FuncOp func, ArrayRef<RuntimeValue> args,
                  Operation *callSite) {
  if (!frames.empty())
    return callOnThisThread(func, args, callSite);
  // A top-level call: run it on a thread whose stack size is known, so that
  // deep nesting in the program is stopped by `isStackExhausted`.
  FailureOr<SmallVector<RuntimeValue>> results = failure();
  llvm::thread worker(std::optional<unsigned>(options.stackSize), [&] {
    char base;
    stackBase = &base;
    results = callOnThisThread(func, args, callSite);
    stackBase = nullptr;
  });
  worker.join();
  return results;
}

bool Interpreter::isStackExhausted() const {
  char probe;
  return stackBase &&
         stackBase - &probe > static_cast<ptrdiff_t>(options.stackBudget);
}

FailureOr<SmallVector<RuntimeValue>>
Interpreter::callOnThisThread(func::FuncOp func, ArrayRef<RuntimeValue> args,
                              Operation *callSite) {
  if (func.isExternal())
    return func.emitError("cannot interpret external function '")
           << func.getSymName() << "'";
  if (frames.size() >= options.maxCallDepth)
    return emitError(callSite ? callSite : func.getOperation())
           << "recursion too deep (more than " << options.maxCallDepth
           << " nested calls)";
  TypeRange argTypes = func.getArgumentTypes();
  if (args.size() != argTypes.size())
    return func.emitError("'")
           << func.getSymName() << "' takes " << argTypes.size()
           << " arguments, got " << args.size();
  for (Type type : func.getFunctionType().getInputs())
    if (!isSupportedType(type))
      return emitError(func) << "the interpreter does not support values of "
                                "type "
                             << type;
  for (auto [pos, arg, type] : llvm::enumerate(args, argTypes)) {
    std::string error;
    if (!conformsTo(arg, type, error))
      return func.emitError("argument #")
             << pos << " of '" << func.getSymName() << "': " << error;
  }

  frames.emplace_back();
  frames.back().callSite = callSite;
  FailureOr<SmallVector<RuntimeValue>> results =
      runRegion(func.getBody(), args);
  frames.pop_back();
  return results;
}

FailureOr<SmallVector<RuntimeValue>>
Interpreter::runRegion(Region &region, ArrayRef<RuntimeValue> args) {
  if (!region.hasOneBlock()) {
    Operation *parent = region.getParentOp();
    return parent->emitError("the interpreter runs single-block regions only");
  }
  Block &block = region.front();
  for (auto [arg, value] : llvm::zip(block.getArguments(), args))
    bind(arg, value);
  for (Operation &op : block.without_terminator())
    if (failed(execute(&op)))
      return failure();
  Operation *terminator = block.getTerminator();
  ++opCounts[terminator->getName().getStringRef()];
  SmallVector<RuntimeValue> results;
  for (Value operand : terminator->getOperands())
    results.push_back(lookup(operand));
  return results;
}

/// Whether `op` computes its results, rather than passing on values that
/// other operations computed (getElementCount).
static bool computesValues(Operation *op) {
  static const llvm::StringSet<> passing = {
      "scf.if",      "scf.for",         "scf.while", "scf.execute_region",
      "lz.loop",     "func.call",       "lz.tuple",  "lz.proj",
      "tensor.cast", "ad.stop_gradient"};
  return !passing.contains(op->getName().getStringRef());
}

/// The elements of `value`: a tensor's (at least 1), a tuple's elements'.
static uint64_t countElements(const RuntimeValue &value) {
  if (!value.isTuple())
    return std::max<int64_t>(1, value.getTensor().getNumElements());
  uint64_t count = 0;
  for (const RuntimeValue &element : value.getElements())
    count += countElements(element);
  return count;
}

LogicalResult Interpreter::execute(Operation *op) {
  const OpHandler *handler = registry.lookup(op);
  if (!handler)
    return emitError(op) << "the interpreter does not support '"
                         << op->getName() << "'";
  if (Type type = findUnsupportedType(op))
    return emitError(op) << "the interpreter does not support values of type "
                         << type;
  if (isStackExhausted())
    return emitError(op) << "recursion too deep (the interpreter's stack "
                            "budget of "
                         << options.stackBudget << " bytes is used up)";
  ++opCounts[op->getName().getStringRef()];
  if (failed((*handler)(*this, op)))
    return failure();
  if (options.countElements && computesValues(op)) {
    if (op->getNumResults() == 0)
      ++elementCount;
    for (Value result : op->getResults())
      elementCount += countElements(lookup(result));
  }
  return success();
}

const RuntimeValue &Interpreter::lookup(Value value) const {
  auto it = frames.back().values.find(value);
  assert(it != frames.back().values.end() &&
         "value used before its definition");
  return it->second;
}

void Interpreter::bind(Value value, RuntimeValue runtimeValue) {
  frames.back().values[value] = std::move(runtimeValue);
}

void Interpreter::setIterationPoint(Operation *op, ArrayRef<int64_t> point) {
  frames.back().iterationPoints[op].assign(point.begin(), point.end());
}

ArrayRef<int64_t> Interpreter::getIterationPoint(Operation *op) const {
  auto it = frames.back().iterationPoints.find(op);
  return it == frames.back().iterationPoints.end() ? ArrayRef<int64_t>()
                                                   : ArrayRef(it->second);
}

InFlightDiagnostic Interpreter::emitError(Operation *op) {
  InFlightDiagnostic diag = op->emitError("run-time error: ");
  // The innermost call sites explain the error; a deep recursion would
  // drown it in notes.
  constexpr size_t kMaxNotes = 8;
  size_t shown = 0, callers = 0;
  for (const Frame &frame : llvm::reverse(frames)) {
    if (!frame.callSite)
      continue;
    if (++callers <= kMaxNotes) {
      diag.attachNote(frame.callSite->getLoc()) << "called from here";
      ++shown;
    }
  }
  if (callers > shown)
    diag.attachNote() << "and " << callers - shown << " more call sites";
  return diag;
}

uint64_t Interpreter::getTotalOpCount() const {
  uint64_t total = 0;
  for (const auto &entry : opCounts) {
    StringRef name = entry.getKey();
    if (name == "lz.yield" || name == "lz.condition" || name == "scf.yield" ||
        name == "scf.condition" || name == "func.return" ||
        name == "tensor.yield")
      continue;
    total += entry.getValue();
  }
  return total;
}
