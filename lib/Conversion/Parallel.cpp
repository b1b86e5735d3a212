//===- Parallel.cpp - Parallel loops on the runtime's thread pool ---------===//
//
// Part of Leibniz.
//
// The outermost `scf.parallel` loops of a function run on the runtime's
// thread pool (`leibniz_parallel_for`), in two steps. Before the lowering
// to LLVM, `lz-outline-parallel` moves each loop's body into a function of
// its captured values and a range of iterations, and calls a launch
// declaration of the same type in its place. After the lowering, when the
// captured values have their LLVM types (a memref is then several values),
// `lz-lower-parallel-launch` packs them into a struct on the stack and
// passes it, with a task function that unpacks it, to the runtime.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

#include <functional>

namespace leibniz::conversion {
#define GEN_PASS_DEF_OUTLINEPARALLEL
#define GEN_PASS_DEF_LOWERPARALLELLAUNCH
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

namespace {

constexpr StringLiteral kBodyAttr = "leibniz.parallel_body";
constexpr StringLiteral kNoAliasAttr = "leibniz.noalias_params";

/// The buffer that `value`, a memref, is a view of: the allocation, or the
/// block argument, it derives from through view operations.
Value getRootBuffer(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

/// Whether `root`, the buffer of a view, is known to be another buffer
/// than any that the function allocates: a global, or an argument of the
/// function (created before it runs).
bool isCallersOrGlobal(Value root, Block &entry) {
  if (auto argument = dyn_cast<BlockArgument>(root))
    return argument.getOwner() == &entry;
  return root.getDefiningOp<memref::GetGlobalOp>() != nullptr;
}

/// Whether `value`, an integer, may carry the address of a buffer that the
/// function took (`memref.extract_aligned_pointer_as_index`, as BLAS calls
/// do; deallocation compares such addresses, which it does not capture):
/// what it is computed from, through operations without regions, up to
/// the function's arguments and buffers (whose sizes it may read).
bool mayCarryAddress(Value value, Block &entry) {
  SmallVector<Value> worklist{value};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value next = worklist.pop_back_val();
    if (isa<BaseMemRefType>(next.getType()) || !seen.insert(next).second)
      continue;
    Operation *def = next.getDefiningOp();
    if (!def) {
      if (cast<BlockArgument>(next).getOwner() != &entry)
        return true;
      continue;
    }
    if (isa<memref::ExtractAlignedPointerAsIndexOp>(def) ||
        def->getNumRegions() != 0)
      return true;
    llvm::append_range(worklist, def->getOperands());
  }
  return false;
}

/// The positions, among the parameters that the lowering to LLVM makes of
/// `captures` (a ranked memref becomes its descriptor's allocated and
/// aligned pointers, offset, sizes and strides; an unranked one its rank
/// and descriptor; anything else one value), of the aligned pointers of
/// the buffers that the function allocates itself and that no other
/// capture may reach: every other memref capture is a view of another
/// allocation, of a global or of an argument of the function (not, for
/// instance, a loop's result, which may be any of its buffers), and no
/// capture is an address (a pointer, or an integer that the function
/// computed from a buffer's address, as BLAS calls do). Within the body,
/// nothing else reaches their memory, so that LLVM may take them apart
/// from every other buffer.
SmallVector<int64_t> getNoAliasParams(ArrayRef<Value> captures,
                                      scf::ParallelOp loop) {
  auto function = loop->getParentOfType<func::FuncOp>();
  Block &entry = function.getBody().front();
  SmallVector<Value> roots;
  bool known = true;
  for (Value capture : captures) {
    if (isa<LLVM::LLVMPointerType>(capture.getType()))
      return {};
    if (!isa<BaseMemRefType>(capture.getType())) {
      known &=
          !capture.getType().isIntOrIndex() || !mayCarryAddress(capture, entry);
      continue;
    }
    Value root = getRootBuffer(capture);
    roots.push_back(root);
    known &=
        root.getDefiningOp<memref::AllocOp>() || isCallersOrGlobal(root, entry);
  }
  SmallVector<int64_t> params;
  if (!known)
    return params;
  int64_t position = 0;
  for (Value capture : captures) {
    auto memref = dyn_cast<MemRefType>(capture.getType());
    if (!memref) {
      position += isa<UnrankedMemRefType>(capture.getType()) ? 2 : 1;
      continue;
    }
    if (capture.getDefiningOp<memref::AllocOp>() &&
        llvm::count(roots, capture) == 1)
      params.push_back(position + 1);
    position += 3 + 2 * memref.getRank();
  }
  return params;
}

/// The trip count assumed for a loop whose bounds are not constants.
constexpr int64_t kUnknownTripCount = 16;

//===----------------------------------------------------------------------===//
// lz-outline-parallel
//===----------------------------------------------------------------------===//

/// The trip count of a loop dimension, if its bounds are constants.
std::optional<int64_t> getConstantTripCount(Value lower, Value upper,
                                            Value step) {
  std::optional<int64_t> lb = getConstantIntValue(lower);
  std::optional<int64_t> ub = getConstantIntValue(upper);
  std::optional<int64_t> st = getConstantIntValue(step);
  if (!lb || !ub || !st || *st <= 0)
    return std::nullopt;
  return *ub <= *lb ? 0 : (*ub - *lb + *st - 1) / *st;
}

int64_t saturatingMul(int64_t a, int64_t b) {
  int64_t product;
  if (llvm::MulOverflow(a, b, product))
    return INT64_MAX;
  return product;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (llvm::AddOverflow(a, b, sum))
    return INT64_MAX;
  return sum;
}

int64_t estimateCost(Region &region);

/// A rough estimate of the work of running `op` once, in simple operations:
/// an inner loop counts its body times its trip count (or
/// kUnknownTripCount), calls and math functions count more than one.
int64_t estimateCostOfOp(Operation &op) {
  int64_t own = 1;
  if (isa<func::CallOp, memref::CopyOp>(op))
    own = 32;
  else if (isa<math::MathDialect>(op.getDialect()))
    own = 8;
  int64_t nested = 0;
  for (Region &inner : op.getRegions())
    nested = std::max(nested, estimateCost(inner));
  int64_t trips = 1;
  if (auto loop = dyn_cast<scf::ForOp>(op)) {
    trips = getConstantTripCount(loop.getLowerBound(), loop.getUpperBound(),
                                 loop.getStep())
                .value_or(kUnknownTripCount);
  } else if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
    for (auto [lb, ub, step] :
         llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
      trips = saturatingMul(
          trips,
          getConstantTripCount(lb, ub, step).value_or(kUnknownTripCount));
  } else if (isa<scf::WhileOp>(op)) {
    trips = kUnknownTripCount;
  }
  return saturatingAdd(own, saturatingMul(trips, nested));
}

/// The estimate of running `region` once.
int64_t estimateCost(Region &region) {
  int64_t cost = 0;
  for (Operation &op : region.getOps())
    cost = saturatingAdd(cost, estimateCostOfOp(op));
  return std::max<int64_t>(cost, 1);
}

/// The trip count max(0, ceil((upper - lower) / step)) at run time.
Value buildTripCount(OpBuilder &builder, Location loc, Value lower, Value upper,
                     Value step) {
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  Value distance = arith::MaxSIOp::create(
      builder, loc, arith::SubIOp::create(builder, loc, upper, lower), zero);
  return arith::DivUIOp::create(
      builder, loc,
      arith::SubIOp::create(builder, loc,
                            arith::AddIOp::create(builder, loc, distance, step),
                            one),
      step);
}

/// Recomputes `value`, defined in `loop` from values defined above it and
/// from its first induction variable, at the builder's point for the first
/// iteration (the induction variable at its lower bound). Fails for values
/// that need anything else (a load, an inner loop's result).
FailureOr<Value> materializeAtFirstIteration(OpBuilder &builder,
                                             scf::ParallelOp loop, Value value,
                                             IRMapping &mapping,
                                             unsigned depth = 0) {
  if (Value known = mapping.lookupOrNull(value))
    return known;
  if (!loop->isAncestor(value.getParentRegion()->getParentOp()))
    return value;
  if (value == loop.getInductionVars().front()) {
    mapping.map(value, loop.getLowerBound().front());
    return loop.getLowerBound().front();
  }
  Operation *def = value.getDefiningOp();
  if (!def || depth > 8 || !isa<arith::ArithDialect>(def->getDialect()) ||
      def->getNumRegions() != 0)
    return failure();
  for (Value operand : def->getOperands())
    if (failed(materializeAtFirstIteration(builder, loop, operand, mapping,
                                           depth + 1)))
      return failure();
  Operation *clone = builder.clone(*def, mapping);
  return clone->getResult(cast<OpResult>(value).getResultNumber());
}

/// The estimated work of one iteration of `loop`, computed before it runs:
/// estimateCost's estimate, except that the trip counts of the loops
/// directly in its body (or in the branches of its conditionals, of which
/// the larger counts), and those of its inner dimensions, are their values
/// at run time when they can be computed there (for the first iteration).
Value buildCostEstimate(OpBuilder &builder, Location loc,
                        scf::ParallelOp loop) {
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, value);
  };
  IRMapping mapping;
  auto tripCount = [&](Value lb, Value ub, Value step) -> Value {
    if (std::optional<int64_t> trips = getConstantTripCount(lb, ub, step))
      return constant(*trips);
    FailureOr<Value> lower =
        materializeAtFirstIteration(builder, loop, lb, mapping);
    FailureOr<Value> upper =
        materializeAtFirstIteration(builder, loop, ub, mapping);
    FailureOr<Value> stride =
        materializeAtFirstIteration(builder, loop, step, mapping);
    if (failed(lower) || failed(upper) || failed(stride))
      return constant(kUnknownTripCount);
    return buildTripCount(builder, loc, *lower, *upper, *stride);
  };

  // The work of a block: its loops at their trip counts, the larger branch
  // of a conditional (the full block of lanes of a loop that
  // `lz-unroll-jam` unrolled, say), the other operations as estimated.
  std::function<Value(Block &)> blockCost = [&](Block &block) -> Value {
    int64_t fixed = 0;
    Value cost;
    auto add = [&](Value term) {
      cost = cost ? arith::AddIOp::create(builder, loc, cost, term) : term;
    };
    for (Operation &op : block) {
      if (auto inner = dyn_cast<scf::ForOp>(op)) {
        add(arith::MulIOp::create(builder, loc,
                                  tripCount(inner.getLowerBound(),
                                            inner.getUpperBound(),
                                            inner.getStep()),
                                  constant(estimateCost(inner.getRegion()))));
      } else if (auto branch = dyn_cast<scf::IfOp>(op)) {
        Value then = blockCost(*branch.thenBlock());
        add(branch.elseBlock()
                ? arith::MaxSIOp::create(builder, loc, then,
                                         blockCost(*branch.elseBlock()))
                : then);
      } else {
        fixed = saturatingAdd(fixed, estimateCostOfOp(op));
      }
    }
    return cost ? arith::AddIOp::create(builder, loc, cost, constant(fixed))
                : constant(fixed);
  };
  Value cost = blockCost(*loop.getBody());
  for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound().drop_front(),
                                       loop.getUpperBound().drop_front(),
                                       loop.getStep().drop_front()))
    cost = arith::MulIOp::create(builder, loc, cost, tripCount(lb, ub, step));
  return cost;
}

/// The functions that print, directly or through the functions they call.
DenseSet<StringRef> findPrintingFunctions(ModuleOp module) {
  DenseSet<StringRef> printing;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isDeclaration() && func.getSymName().starts_with("leibniz_print"))
      printing.insert(func.getSymName());
  for (bool changed = true; changed;) {
    changed = false;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (printing.contains(func.getSymName()))
        continue;
      WalkResult result = func.walk([&](func::CallOp call) {
        return printing.contains(call.getCallee()) ? WalkResult::interrupt()
                                                   : WalkResult::advance();
      });
      if (result.wasInterrupted()) {
        printing.insert(func.getSymName());
        changed = true;
      }
    }
  }
  return printing;
}

/// The outermost parallel loops of `func`: those not nested in a loop.
SmallVector<scf::ParallelOp> getOutermostParallelLoops(func::FuncOp func) {
  SmallVector<scf::ParallelOp> loops;
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      loops.push_back(loop);
      return WalkResult::skip();
    }
    if (isa<LoopLikeOpInterface>(op))
      return WalkResult::skip();
    return WalkResult::advance();
  });
  return loops;
}

struct OutlineParallelPass
    : public conversion::impl::OutlineParallelBase<OutlineParallelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    DenseSet<StringRef> printing = findPrintingFunctions(module);
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isDeclaration())
        continue;
      for (scf::ParallelOp loop : getOutermostParallelLoops(func)) {
        if (loop.getNumResults() != 0)
          continue;
        WalkResult prints = loop.walk([&](func::CallOp call) {
          return printing.contains(call.getCallee()) ? WalkResult::interrupt()
                                                     : WalkResult::advance();
        });
        if (!prints.wasInterrupted())
          outline(symbols, func, loop);
      }
    }
  }

  /// Moves `loop` into a new function and launches it.
  void outline(SymbolTable &symbols, func::FuncOp func, scf::ParallelOp loop) {
    Location loc = loop.getLoc();
    MLIRContext *context = &getContext();
    Value lower = loop.getLowerBound().front();
    Value upper = loop.getUpperBound().front();
    Value step = loop.getStep().front();

    // The values the body function receives: those the body uses, the
    // bounds of the other dimensions, and the first dimension's start and
    // step (its iterations are counted from 0). Constants are copied into
    // the body instead, so that LLVM sees constant trip counts and sizes.
    SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    for (ValueRange operands :
         {loop.getLowerBound().drop_front(), loop.getUpperBound().drop_front(),
          loop.getStep()})
      used.insert(operands.begin(), operands.end());
    used.insert(lower);
    SetVector<Value> captures, constants;
    for (Value value : used) {
      Operation *def = value.getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>())
        constants.insert(value);
      else
        captures.insert(value);
    }

    SmallVector<Type> argTypes;
    for (Value capture : captures)
      argTypes.push_back(capture.getType());
    Type indexType = IndexType::get(context);
    argTypes.append({indexType, indexType});
    auto type = FunctionType::get(context, argTypes, {});

    // The body: iterations [begin, end) of the first dimension.
    OpBuilder builder(module().getBodyRegion());
    builder.setInsertionPointAfter(func);
    auto body = func::FuncOp::create(builder, loc,
                                     func.getSymName().str() + "__par", type);
    body.setPrivate();
    body->setAttr("llvm.linkage",
                  LLVM::LinkageAttr::get(context, LLVM::Linkage::Internal));
    SmallVector<int64_t> noAlias =
        getNoAliasParams(captures.getArrayRef(), loop);
    if (!noAlias.empty())
      body->setAttr(kNoAliasAttr, DenseI64ArrayAttr::get(context, noAlias));
    symbols.insert(body);
    Block *entry = body.addEntryBlock();
    IRMapping mapping;
    for (auto [capture, arg] : llvm::zip(captures, entry->getArguments()))
      mapping.map(capture, arg);
    builder.setInsertionPointToStart(entry);
    for (Value constant : constants)
      builder.clone(*constant.getDefiningOp(), mapping);
    Value begin = entry->getArgument(captures.size());
    Value end = entry->getArgument(captures.size() + 1);
    Value mappedLower = mapping.lookup(lower);
    Value mappedStep = mapping.lookup(step);
    auto clone = cast<scf::ParallelOp>(builder.clone(*loop, mapping));
    builder.setInsertionPoint(clone);
    clone.getLowerBoundMutable()[0].assign(arith::AddIOp::create(
        builder, loc, mappedLower,
        arith::MulIOp::create(builder, loc, begin, mappedStep)));
    clone.getUpperBoundMutable()[0].assign(arith::AddIOp::create(
        builder, loc, mappedLower,
        arith::MulIOp::create(builder, loc, end, mappedStep)));
    builder.setInsertionPointAfter(clone);
    func::ReturnOp::create(builder, loc);

    // The launch declaration, and its call with the trip count and the
    // estimated work of an iteration.
    builder.setInsertionPoint(body);
    argTypes.push_back(indexType);
    auto launch =
        func::FuncOp::create(builder, loc, body.getSymName().str() + "__launch",
                             FunctionType::get(context, argTypes, {}));
    launch.setPrivate();
    symbols.insert(launch);
    launch->setAttr(kBodyAttr, FlatSymbolRefAttr::get(body));

    builder.setInsertionPoint(loop);
    Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
    Value trips = buildTripCount(builder, loc, lower, upper, step);
    Value cost = buildCostEstimate(builder, loc, loop);
    SmallVector<Value> operands(captures.begin(), captures.end());
    operands.append({zero, trips, cost});
    func::CallOp::create(builder, loc, launch, operands);
    loop.erase();
  }

  ModuleOp module() { return getOperation(); }
};

//===----------------------------------------------------------------------===//
// lz-lower-parallel-launch
//===----------------------------------------------------------------------===//

struct LowerParallelLaunchPass
    : public conversion::impl::LowerParallelLaunchBase<
          LowerParallelLaunchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> launches;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (func->hasAttr(kBodyAttr))
        launches.push_back(func);
    if (launches.empty())
      return;

    MLIRContext *context = &getContext();
    OpBuilder builder(context);
    SymbolTable symbols(module);
    Location loc = module.getLoc();
    Type ptrType = LLVM::LLVMPointerType::get(context);
    Type i64Type = IntegerType::get(context, 64);
    Type voidType = LLVM::LLVMVoidType::get(context);

    auto runtime = symbols.lookup<LLVM::LLVMFuncOp>("leibniz_parallel_for");
    if (!runtime) {
      builder.setInsertionPointToEnd(module.getBody());
      runtime = LLVM::LLVMFuncOp::create(
          builder, loc, "leibniz_parallel_for",
          LLVM::LLVMFunctionType::get(
              voidType, {ptrType, ptrType, i64Type, i64Type, i64Type}));
      symbols.insert(runtime);
    }

    for (LLVM::LLVMFuncOp launch : launches) {
      auto bodyRef = dyn_cast<FlatSymbolRefAttr>(launch->getAttr(kBodyAttr));
      auto body = bodyRef ? symbols.lookup<LLVM::LLVMFuncOp>(bodyRef.getValue())
                          : LLVM::LLVMFuncOp();
      // (captured values..., begin, end, cost); the body has no cost.
      ArrayRef<Type> params = launch.getFunctionType().getParams();
      if (!body || params.size() < 3 ||
          params.take_back(3) != ArrayRef<Type>{i64Type, i64Type, i64Type} ||
          body.getFunctionType().getParams() != params.drop_back() ||
          !isa<LLVM::LLVMVoidType>(body.getFunctionType().getReturnType())) {
        launch.emitError("malformed parallel launch declaration");
        return signalPassFailure();
      }
      // The buffers that only the body reaches (lz-outline-parallel): LLVM
      // gives the inlined body's accesses alias scopes of their own.
      if (auto noAlias = body->getAttrOfType<DenseI64ArrayAttr>(kNoAliasAttr)) {
        for (int64_t param : noAlias.asArrayRef()) {
          if (param < 0 || param >= body.getNumArguments() ||
              !isa<LLVM::LLVMPointerType>(params[param])) {
            body.emitError("malformed ") << kNoAliasAttr;
            return signalPassFailure();
          }
          body.setArgAttr(param, LLVM::LLVMDialect::getNoAliasAttrName(),
                          UnitAttr::get(context));
        }
        body->removeAttr(kNoAliasAttr);
      }
      auto contextType =
          LLVM::LLVMStructType::getLiteral(context, params.drop_back(3));
      LLVM::LLVMFuncOp task =
          createTask(builder, symbols, body, contextType, ptrType, i64Type);

      SmallVector<LLVM::CallOp> calls;
      module.walk([&](LLVM::CallOp call) {
        if (call.getCallee() == launch.getSymName())
          calls.push_back(call);
      });
      for (LLVM::CallOp call : calls) {
        Location callLoc = call.getLoc();
        // The context lives in the caller's frame, allocated on entry.
        auto caller = call->getParentOfType<LLVM::LLVMFuncOp>();
        builder.setInsertionPointToStart(&caller.getBody().front());
        Value count = LLVM::ConstantOp::create(builder, callLoc, i64Type,
                                               builder.getI64IntegerAttr(1));
        Value frame = LLVM::AllocaOp::create(builder, callLoc, ptrType,
                                             contextType, count);
        builder.setInsertionPoint(call);
        ValueRange args = call.getArgOperands();
        for (auto [i, value] : llvm::enumerate(args.drop_back(3))) {
          Value field = LLVM::GEPOp::create(
              builder, callLoc, ptrType, contextType, frame,
              ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
          LLVM::StoreOp::create(builder, callLoc, value, field);
        }
        Value taskAddress = LLVM::AddressOfOp::create(builder, callLoc, ptrType,
                                                      task.getSymName());
        LLVM::CallOp::create(
            builder, callLoc, runtime,
            ValueRange{taskAddress, frame, args[args.size() - 3],
                       args[args.size() - 2], args[args.size() - 1]});
        call.erase();
      }
      symbols.erase(launch);
    }
  }

  /// `@<body>__task(context, begin, end)`: loads the captured values from
  /// the context and calls the body.
  static LLVM::LLVMFuncOp createTask(OpBuilder &builder, SymbolTable &symbols,
                                     LLVM::LLVMFuncOp body,
                                     LLVM::LLVMStructType contextType,
                                     Type ptrType, Type i64Type) {
    Location loc = body.getLoc();
    builder.setInsertionPointAfter(body);
    auto task = LLVM::LLVMFuncOp::create(
        builder, loc, body.getSymName().str() + "__task",
        LLVM::LLVMFunctionType::get(
            LLVM::LLVMVoidType::get(ptrType.getContext()),
            {ptrType, i64Type, i64Type}),
        LLVM::Linkage::Internal);
    symbols.insert(task);
    Block *entry = task.addEntryBlock(builder);
    builder.setInsertionPointToStart(entry);
    SmallVector<Value> args;
    for (auto [i, type] : llvm::enumerate(contextType.getBody())) {
      Value field = LLVM::GEPOp::create(
          builder, loc, ptrType, contextType, entry->getArgument(0),
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      args.push_back(LLVM::LoadOp::create(builder, loc, type, field));
    }
    args.push_back(entry->getArgument(1));
    args.push_back(entry->getArgument(2));
    LLVM::CallOp::create(builder, loc, body, args);
    LLVM::ReturnOp::create(builder, loc, ValueRange());
    return task;
  }
};

} // namespace
