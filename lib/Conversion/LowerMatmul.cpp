//===- LowerMatmul.cpp - Matrix products on buffers -----------------------===//
//
// Part of Leibniz.
//
// C[b, i, j] += A[b, i, k] * B[b, k, j] as loops over tiles of C that carry
// their elements through the sum over k, or as calls of
// cblas_?gemm(RowMajor, NoTrans, NoTrans, M, N, K, 1, A, lda, B, ldb, 1, C,
// ldc) guarded by a size threshold, with the loops as the other branch. For
// the CUDA target, the calls are of the runtime's leibniz_cuda_?gemm, with
// the same contract, which call cuBLAS.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_LINALGTOLOOPS
#define GEN_PASS_DEF_LOWERMATMUL
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

namespace {

// The CBLAS enumerators.
constexpr int kRowMajor = 101;
constexpr int kNoTrans = 111;

/// A product: the three operands and whether they have a batch dimension.
struct Product {
  Value a, b, c;
  bool batched;
};

Value index(OpBuilder &builder, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(builder, loc, value);
}

/// acc + a * x, of floats or of integers.
Value multiplyAdd(OpBuilder &b, Location loc, Value acc, Value a, Value x) {
  if (isa<FloatType>(acc.getType()))
    return arith::AddFOp::create(b, loc, acc,
                                 arith::MulFOp::create(b, loc, a, x));
  return arith::AddIOp::create(b, loc, acc,
                               arith::MulIOp::create(b, loc, a, x));
}

/// The indices (batch..., row, col) of an element.
SmallVector<Value> elementAt(ValueRange batch, Value row, Value col) {
  SmallVector<Value> indices(batch);
  indices.push_back(row);
  indices.push_back(col);
  return indices;
}

/// C[b, i, j] += A[b, i, k] * B[b, k, j] as an scf.parallel over b, i, j
/// whose iterations each run the sum over k, in the order of the loops of
/// buildLoops (so each element is summed alike).
void buildParallelLoops(OpBuilder &builder, Location loc, const Product &p) {
  unsigned first = p.batched ? 1 : 0;
  auto dim = [&](Value memref, unsigned d) -> Value {
    return memref::DimOp::create(builder, loc, memref, d);
  };
  SmallVector<Value> upper;
  if (p.batched)
    upper.push_back(dim(p.c, 0));
  upper.push_back(dim(p.c, first));     // i
  upper.push_back(dim(p.c, first + 1)); // j
  Value zero = index(builder, loc, 0), one = index(builder, loc, 1);
  Value depth = dim(p.a, first + 1); // k
  scf::ParallelOp::create(
      builder, loc, SmallVector<Value>(upper.size(), zero), upper,
      SmallVector<Value>(upper.size(), one),
      [&](OpBuilder &b, Location nested, ValueRange ivs) {
        ValueRange batch = ivs.take_front(first);
        Value i = ivs[first], j = ivs[first + 1];
        Value init =
            memref::LoadOp::create(b, nested, p.c, elementAt(batch, i, j));
        auto loop = scf::ForOp::create(
            b, nested, zero, depth, one, ValueRange{init},
            [&](OpBuilder &lb, Location l, Value k, ValueRange acc) {
              Value a =
                  memref::LoadOp::create(lb, l, p.a, elementAt(batch, i, k));
              Value x =
                  memref::LoadOp::create(lb, l, p.b, elementAt(batch, k, j));
              scf::YieldOp::create(lb, l, multiplyAdd(lb, l, acc[0], a, x));
            });
        memref::StoreOp::create(b, nested, loop.getResult(0), p.c,
                                elementAt(batch, i, j));
      });
}

/// The register tiles: rows and columns of C per tile, widest first.
constexpr unsigned kTileRows[] = {4, 2, 1};
constexpr unsigned kTileColumns[] = {8, 4, 2, 1};

/// C[i0 + r, j0 + c] for r < `rows`, c < `columns`, summed over k by a loop
/// that carries them (in registers): each element adds its products in k's
/// order, as the interpreter does.
void buildTile(OpBuilder &b, Location loc, const Product &p, ValueRange batch,
               Value i0, Value j0, unsigned rows, unsigned columns,
               Value depth) {
  auto offset = [&](Value base, unsigned n) -> Value {
    return n == 0 ? base
                  : arith::AddIOp::create(b, loc, base, index(b, loc, n))
                        .getResult();
  };
  SmallVector<Value> rowIndices, columnIndices;
  for (unsigned r = 0; r < rows; ++r)
    rowIndices.push_back(offset(i0, r));
  for (unsigned c = 0; c < columns; ++c)
    columnIndices.push_back(offset(j0, c));
  SmallVector<Value> init;
  for (Value i : rowIndices)
    for (Value j : columnIndices)
      init.push_back(
          memref::LoadOp::create(b, loc, p.c, elementAt(batch, i, j)));
  auto loop = scf::ForOp::create(
      b, loc, index(b, loc, 0), depth, index(b, loc, 1), init,
      [&](OpBuilder &lb, Location l, Value k, ValueRange acc) {
        SmallVector<Value> a, x, sums;
        for (Value i : rowIndices)
          a.push_back(
              memref::LoadOp::create(lb, l, p.a, elementAt(batch, i, k)));
        for (Value j : columnIndices)
          x.push_back(
              memref::LoadOp::create(lb, l, p.b, elementAt(batch, k, j)));
        for (unsigned r = 0; r < rows; ++r)
          for (unsigned c = 0; c < columns; ++c)
            sums.push_back(
                multiplyAdd(lb, l, acc[r * columns + c], a[r], x[c]));
        scf::YieldOp::create(lb, l, sums);
      });
  for (unsigned r = 0; r < rows; ++r)
    for (unsigned c = 0; c < columns; ++c)
      memref::StoreOp::create(
          b, loc, loop.getResult(r * columns + c), p.c,
          elementAt(batch, rowIndices[r], columnIndices[c]));
}

/// `body(at)` for the blocks [at, at + size) that fit in [start, end), in
/// order; returns where they end.
Value buildBlocks(OpBuilder &b, Location loc, Value start, Value end,
                  unsigned size,
                  function_ref<void(OpBuilder &, Location, Value)> body) {
  Value last = end;
  if (size > 1) {
    Value rest = arith::RemUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, end, start), index(b, loc, size));
    last = arith::SubIOp::create(b, loc, end, rest);
  }
  scf::ForOp::create(b, loc, start, last, index(b, loc, size), ValueRange(),
                     [&](OpBuilder &lb, Location l, Value at, ValueRange) {
                       body(lb, l, at);
                       scf::YieldOp::create(lb, l);
                     });
  return last;
}

/// The loops over tiles of C, (batch,) rows of tiles, tiles, each a loop
/// over k. C's rows go in blocks of 4, then 2, then 1 (the last rows), and
/// each block's columns in blocks of 8, then 4, 2 and 1: every element of
/// C is in one tile, which carries it through the sum over k, where loops
/// in the order i, k, j added each product to C in memory and waited for
/// the previous one (a row of C stored at one k and loaded at the next).
void buildLoops(OpBuilder &builder, Location loc, const Product &p) {
  unsigned first = p.batched ? 1 : 0;
  Value rows = memref::DimOp::create(builder, loc, p.c, first);
  Value columns = memref::DimOp::create(builder, loc, p.c, first + 1);
  Value depth = memref::DimOp::create(builder, loc, p.a, first + 1);
  auto buildProduct = [&](OpBuilder &b, Location loc, ValueRange batch) {
    Value rowStart = index(b, loc, 0);
    for (unsigned tileRows : kTileRows)
      rowStart =
          buildBlocks(b, loc, rowStart, rows, tileRows,
                      [&](OpBuilder &rb, Location loc, Value i0) {
                        Value columnStart = index(rb, loc, 0);
                        for (unsigned tileColumns : kTileColumns)
                          columnStart = buildBlocks(
                              rb, loc, columnStart, columns, tileColumns,
                              [&](OpBuilder &cb, Location loc, Value j0) {
                                buildTile(cb, loc, p, batch, i0, j0, tileRows,
                                          tileColumns, depth);
                              });
                      });
  };
  if (!p.batched) {
    buildProduct(builder, loc, {});
    return;
  }
  scf::ForOp::create(builder, loc, index(builder, loc, 0),
                     memref::DimOp::create(builder, loc, p.c, 0),
                     index(builder, loc, 1), ValueRange(),
                     [&](OpBuilder &b, Location l, Value batch, ValueRange) {
                       buildProduct(b, l, batch);
                       scf::YieldOp::create(b, l);
                     });
}

/// Whether the rows of `memref` are contiguous (innermost stride 1).
bool hasContiguousRows(Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return !strides.empty() && strides.back() == 1;
}

class BlasBuilder {
public:
  BlasBuilder(ModuleOp module, OpBuilder &builder, Location loc,
              StringRef prefix)
      : module(module), builder(builder), loc(loc), prefix(prefix) {}

  /// Whether the library can be called, at run time: cuBLAS may not be
  /// installed where CBLAS is linked in.
  Value isAvailable() {
    StringRef name = "leibniz_cuda_blas_available";
    Type i32Type = builder.getI32Type();
    if (!module.lookupSymbol(name)) {
      OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
      auto func = func::FuncOp::create(top, loc, name,
                                       top.getFunctionType({}, {i32Type}));
      func.setPrivate();
    }
    Value available = func::CallOp::create(builder, loc, name,
                                           TypeRange{i32Type}, ValueRange())
                          .getResult(0);
    return arith::CmpIOp::create(
        builder, loc, arith::CmpIPredicate::ne, available,
        arith::ConstantIntOp::create(builder, loc, 0, 32));
  }

  Value i32(Value indexValue) {
    return arith::IndexCastOp::create(builder, loc, builder.getI32Type(),
                                      indexValue);
  }

  /// The address of element [batch..., 0, 0] of `memref`, and its leading
  /// dimension (the stride of its rows).
  std::pair<Value, Value> pointerAndLd(Value memref, Value batch) {
    auto type = cast<MemRefType>(memref.getType());
    auto metadata =
        memref::ExtractStridedMetadataOp::create(builder, loc, memref);
    Value offset = metadata.getOffset();
    if (batch)
      offset = arith::AddIOp::create(
          builder, loc, offset,
          arith::MulIOp::create(builder, loc, batch, metadata.getStrides()[0]));
    Value bytes = arith::MulIOp::create(
        builder, loc, offset,
        index(builder, loc, type.getElementTypeBitWidth() / 8));
    Value base =
        memref::ExtractAlignedPointerAsIndexOp::create(builder, loc, memref);
    Value address = arith::AddIOp::create(builder, loc, base, bytes);
    Value address64 =
        arith::IndexCastOp::create(builder, loc, builder.getI64Type(), address);
    Value pointer = LLVM::IntToPtrOp::create(
        builder, loc, LLVM::LLVMPointerType::get(builder.getContext()),
        address64);
    unsigned rank = type.getRank();
    return {pointer, i32(metadata.getStrides()[rank - 2])};
  }

  /// C = A B + beta C; beta is 1 or, with `overwrite`, 0.
  void call(const Product &p, Value batch, bool overwrite = false) {
    auto type = cast<MemRefType>(p.c.getType());
    Type element = type.getElementType();
    unsigned first = p.batched ? 1 : 0;
    std::string name = (prefix + (element.isF64() ? "dgemm" : "sgemm")).str();
    Type i32Type = builder.getI32Type();
    Type ptrType = LLVM::LLVMPointerType::get(builder.getContext());
    SmallVector<Type> argTypes = {i32Type, i32Type, i32Type, i32Type, i32Type,
                                  i32Type, element, ptrType, i32Type, ptrType,
                                  i32Type, element, ptrType, i32Type};
    if (!module.lookupSymbol(name)) {
      OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
      auto func = func::FuncOp::create(top, loc, name,
                                       top.getFunctionType(argTypes, {}));
      func.setPrivate();
    }
    auto constant32 = [&](int value) -> Value {
      return arith::ConstantIntOp::create(builder, loc, value, 32);
    };
    Value one = arith::ConstantOp::create(builder, loc,
                                          builder.getFloatAttr(element, 1.0));
    Value beta = overwrite
                     ? arith::ConstantOp::create(
                           builder, loc, builder.getFloatAttr(element, 0.0))
                     : one;
    Value m = i32(memref::DimOp::create(builder, loc, p.c, first));
    Value n = i32(memref::DimOp::create(builder, loc, p.c, first + 1));
    Value k = i32(memref::DimOp::create(builder, loc, p.a, first + 1));
    auto [a, lda] = pointerAndLd(p.a, batch);
    auto [b, ldb] = pointerAndLd(p.b, batch);
    auto [c, ldc] = pointerAndLd(p.c, batch);
    Value args[] = {constant32(kRowMajor),
                    constant32(kNoTrans),
                    constant32(kNoTrans),
                    m,
                    n,
                    k,
                    one,
                    a,
                    lda,
                    b,
                    ldb,
                    beta,
                    c,
                    ldc};
    func::CallOp::create(builder, loc, name, TypeRange(), args);
  }

private:
  ModuleOp module;
  OpBuilder &builder;
  Location loc;
  /// "cblas_" or "leibniz_cuda_".
  StringRef prefix;
};

/// Whether `op` runs in a parallel loop or in another linalg operation.
bool isNestedInParallelWork(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isa<scf::ParallelOp, scf::ForallOp, linalg::LinalgOp>(parent))
      return true;
  return false;
}

/// The functions that run in parallel work: called from a parallel loop or
/// a linalg operation, directly or through other functions.
llvm::SmallPtrSet<Operation *, 8> getFunctionsInParallelWork(ModuleOp module) {
  SymbolTableCollection symbols;
  llvm::SmallPtrSet<Operation *, 8> functions;
  SmallVector<Operation *> worklist;
  auto addCallee = [&](CallOpInterface call) {
    if (Operation *callee = call.resolveCallableInTable(&symbols))
      if (functions.insert(callee).second)
        worklist.push_back(callee);
  };
  module.walk([&](CallOpInterface call) {
    if (isNestedInParallelWork(call))
      addCallee(call);
  });
  while (!worklist.empty())
    worklist.pop_back_val()->walk(
        [&](CallOpInterface call) { addCallee(call); });
  return functions;
}

/// Whether `value` is a float zero of either sign, or a choice between two.
static bool isAnyZero(Value value) {
  if (auto select = value.getDefiningOp<arith::SelectOp>())
    return isAnyZero(select.getTrueValue()) &&
           isAnyZero(select.getFalseValue());
  FloatAttr constant;
  return matchPattern(value, m_Constant(&constant)) &&
         constant.getValue().isZero();
}

/// The `linalg.fill` of zeros (either sign) into `product`'s result just
/// before it, with only operations free of memory effects in between: BLAS
/// can overwrite the result instead.
linalg::FillOp getZeroFill(Operation *product, Value result) {
  for (Operation *op = product->getPrevNode(); op; op = op->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(op)) {
      if (fill.getOutputs()[0] == result && isAnyZero(fill.getInputs()[0]))
        return fill;
      return {};
    }
    if (!isMemoryEffectFree(op))
      return {};
  }
  return {};
}

struct LowerMatmulPass
    : public conversion::impl::LowerMatmulBase<LowerMatmulPass> {
  using LowerMatmulBase::LowerMatmulBase;

  void runOnOperation() override {
    if (blasLibrary != "cblas" && blasLibrary != "cuda") {
      getOperation().emitError()
          << "lz-lower-matmul: blas-library must be cblas or cuda, not '"
          << blasLibrary << "'";
      return signalPassFailure();
    }
    SmallVector<Operation *> products;
    getOperation().walk([&](Operation *op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          llvm::all_of(op->getOperandTypes(),
                       [](Type type) { return isa<MemRefType>(type); }))
        products.push_back(op);
    });
    // A module pass: the BLAS declarations are added to the module, which
    // passes on functions, running in parallel, must not change.
    ModuleOp module = getOperation();
    bool cuda = blasLibrary == "cuda";
    llvm::SmallPtrSet<Operation *, 8> inParallelWork;
    if (cuda)
      inParallelWork = getFunctionsInParallelWork(module);
    for (Operation *op : products) {
      auto linalgOp = cast<linalg::LinalgOp>(op);
      // Only the plain products: no transposed or broadcast operands.
      if (!linalgOp.getIndexingMapsArray().empty() &&
          linalgOp.getIndexingMapsArray() !=
              (isa<linalg::MatmulOp>(op)
                   ? linalg::MatmulOp::getDefaultIndexingMaps(op->getContext())
                   : linalg::BatchMatmulOp::getDefaultIndexingMaps(
                         op->getContext())))
        continue;
      Product p{op->getOperand(0), op->getOperand(1), op->getOperand(2),
                isa<linalg::BatchMatmulOp>(op)};
      OpBuilder builder(op);
      Location loc = op->getLoc();
      Type element = cast<MemRefType>(p.c.getType()).getElementType();
      // cuBLAS is called from the host, so a product in a loop that
      // becomes a kernel, or in a function that such a loop calls, stays
      // in the kernel.
      bool inKernel =
          cuda &&
          (isNestedInParallelWork(op) ||
           inParallelWork.contains(op->getParentOfType<func::FuncOp>()));
      bool useBlas = blas && (element.isF64() || element.isF32()) &&
                     hasContiguousRows(p.a) && hasContiguousRows(p.b) &&
                     hasContiguousRows(p.c) && !inKernel;
      if (!useBlas) {
        if (parallel)
          buildParallelLoops(builder, loc, p);
        else
          buildLoops(builder, loc, p);
        op->erase();
        continue;
      }
      // A product into zeros needs them in the loops only: BLAS
      // overwrites the result. (Found before the operations below are
      // inserted between the fill and the product.)
      linalg::FillOp zeroFill = getZeroFill(op, p.c);
      // BLAS above the threshold, the loops below it.
      unsigned first = p.batched ? 1 : 0;
      Value work = arith::MulIOp::create(
          builder, loc,
          arith::MulIOp::create(
              builder, loc, memref::DimOp::create(builder, loc, p.c, first),
              memref::DimOp::create(builder, loc, p.c, first + 1)),
          memref::DimOp::create(builder, loc, p.a, first + 1));
      Value large =
          arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::sge, work,
                                index(builder, loc, blasThreshold));
      BlasBuilder blasBuilder(module, builder, loc,
                              cuda ? "leibniz_cuda_" : "cblas_");
      if (cuda) {
        // Asked only for large products: the first question loads cuBLAS.
        auto ask = scf::IfOp::create(builder, loc, builder.getI1Type(), large,
                                     /*withElseRegion=*/true);
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(ask.thenBlock());
        scf::YieldOp::create(builder, loc, blasBuilder.isAvailable());
        builder.setInsertionPointToStart(ask.elseBlock());
        scf::YieldOp::create(builder, loc, large);
        large = ask.getResult(0);
      }
      auto ifOp = scf::IfOp::create(builder, loc, large, true);
      if (zeroFill)
        zeroFill->moveBefore(ifOp.elseBlock(), ifOp.elseBlock()->begin());
      {
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(ifOp.thenBlock());
        if (!p.batched) {
          blasBuilder.call(p, Value(), /*overwrite=*/bool(zeroFill));
        } else {
          scf::buildLoopNest(builder, loc, {index(builder, loc, 0)},
                             {memref::DimOp::create(builder, loc, p.c, 0)},
                             {index(builder, loc, 1)},
                             [&](OpBuilder &b, Location, ValueRange ivs) {
                               OpBuilder::InsertionGuard inner(builder);
                               builder.setInsertionPoint(b.getInsertionBlock(),
                                                         b.getInsertionPoint());
                               blasBuilder.call(p, ivs[0],
                                                /*overwrite=*/bool(zeroFill));
                             });
        }
        builder.setInsertionPoint(ifOp.elseBlock()->getTerminator());
        if (parallel)
          buildParallelLoops(builder, loc, p);
        else
          buildLoops(builder, loc, p);
      }
      op->erase();
    }
  }
};

struct LinalgToLoopsPass
    : public conversion::impl::LinalgToLoopsBase<LinalgToLoopsPass> {
  using Base::Base;

  /// Whether `op` is in no loop and no other linalg operation, or with
  /// `parallelInLoops`, in no parallel loop and no other linalg operation.
  bool isOutermost(Operation *op) {
    for (Operation *parent = op->getParentOp(); parent;
         parent = parent->getParentOp()) {
      if (isa<linalg::LinalgOp, scf::ParallelOp, scf::ForallOp>(parent))
        return false;
      if (isa<LoopLikeOpInterface>(parent) && !parallelInLoops)
        return false;
    }
    return true;
  }

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // On the CPU, a copy in a loop's body (a stack's row, at every step)
    // runs as a loop there rather than as a call of the runtime's generic
    // copy, which costs more than a short row.
    if (!parallelInLoops) {
      SmallVector<memref::CopyOp> copies;
      getOperation().walk([&](memref::CopyOp op) {
        auto type = dyn_cast<MemRefType>(op.getSource().getType());
        if (type && type.getRank() > 0 &&
            isa<MemRefType>(op.getTarget().getType()) &&
            op->getParentOfType<LoopLikeOpInterface>())
          copies.push_back(op);
      });
      for (memref::CopyOp op : copies) {
        rewriter.setInsertionPoint(op);
        rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                    op.getTarget());
      }
    }
    // Post-order: a body's linalg operations before the operation itself.
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk<WalkOrder::PostOrder>(
        [&](linalg::LinalgOp op) { ops.push_back(op); });
    for (linalg::LinalgOp op : ops) {
      if (!op.hasPureBufferSemantics())
        continue;
      rewriter.setInsertionPoint(op);
      if (parallel && isOutermost(op)) {
        if (failed(linalg::linalgOpToParallelLoops(rewriter, op))) {
          op.emitError("cannot lower to parallel loops");
          return signalPassFailure();
        }
        rewriter.eraseOp(op);
        continue;
      }
      if (failed(linalg::linalgOpToLoops(rewriter, op))) {
        op.emitError("cannot lower to loops");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};

} // namespace
