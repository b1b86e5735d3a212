//===- VJPRules.cpp - Reverse-mode rules of the operations ----------------===//
//
// Part of Leibniz.
//
// The `vjp` rules of DerivativeOpInterface: each is the transpose of the
// linear part of the operation's `jvp` rule. Scalar functions reuse their
// partial derivatives; linear operations apply their transposes (a read's
// transpose is a sparse contribution, which scopes accumulate with
// `lz.accumulate`); scopes, loops, conditionals and calls reverse their
// bodies. The conventions where the derivative is not defined are those of
// the forward rules (JVPRules.cpp), so that both modes agree everywhere.
//
//===----------------------------------------------------------------------===//

#include "Rules.h"

#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Reverse.h"

#include "AD/ADOps.h"
#include "Lz/LzOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::ad;
using namespace leibniz::ad::detail;

LogicalResult ad::detail::scalarVjp(Operation *op, ReverseBuilder &reverse) {
  OpBuilder &b = reverse.getBuilder();
  SmallVector<Value> x;
  for (Value operand : op->getOperands())
    x.push_back(reverse.primal(operand));
  Partials partials{b, op->getLoc(), x, reverse.primal(op->getResult(0))};
  PartialsFn fn = getScalarRules().lookup(op->getName().getStringRef());
  SmallVector<Value, 2> derivatives = fn(partials);
  Value cotangent = reverse.cotangent(op->getResult(0));
  for (auto [operand, derivative] : llvm::zip(op->getOpOperands(), derivatives))
    if (derivative && reverse.isVaried(operand.get()))
      reverse.addCotangent(operand, partials.mul(derivative, cotangent));
  return success();
}

namespace {

/// A builder at the end of `block`, which may not be in a region yet.
OpBuilder atEndOf(MLIRContext *context, Block *block) {
  OpBuilder builder(context);
  builder.setInsertionPointToEnd(block);
  return builder;
}

/// The sizes of the dynamic dimensions of `value`, a ranked tensor.
SmallVector<Value> getDynamicSizes(OpBuilder &builder, Location loc,
                                   Value value) {
  SmallVector<Value> sizes;
  auto type = cast<RankedTensorType>(value.getType());
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(tensor::DimOp::create(builder, loc, value, i));
  return sizes;
}

//===----------------------------------------------------------------------===//
// Linear operations
//===----------------------------------------------------------------------===//

LogicalResult addVjp(Operation *op, ReverseBuilder &reverse) {
  Value cotangent = reverse.cotangent(op->getResult(0));
  reverse.addCotangent(op->getOpOperand(0), cotangent);
  if (isa<arith::AddFOp>(op)) {
    reverse.addCotangent(op->getOpOperand(1), cotangent);
  } else if (reverse.isVaried(op->getOperand(1))) {
    reverse.addCotangent(
        op->getOpOperand(1),
        arith::NegFOp::create(reverse.getBuilder(), op->getLoc(), cotangent));
  }
  return success();
}

LogicalResult negVjp(Operation *op, ReverseBuilder &reverse) {
  reverse.addCotangent(
      op->getOpOperand(0),
      arith::NegFOp::create(reverse.getBuilder(), op->getLoc(),
                            reverse.cotangent(op->getResult(0))));
  return success();
}

LogicalResult selectVjp(Operation *op, ReverseBuilder &reverse) {
  auto select = cast<arith::SelectOp>(op);
  OpBuilder &builder = reverse.getBuilder();
  Location loc = op->getLoc();
  Value cotangent = reverse.cotangent(select.getResult());
  Value condition = reverse.primal(select.getCondition());
  Value zero = reverse.zerosLike(loc, cotangent);
  if (reverse.isVaried(select.getTrueValue()))
    reverse.addCotangent(
        select->getOpOperand(1),
        arith::SelectOp::create(builder, loc, condition, cotangent, zero));
  if (reverse.isVaried(select.getFalseValue()))
    reverse.addCotangent(
        select->getOpOperand(2),
        arith::SelectOp::create(builder, loc, condition, zero, cotangent));
  return success();
}

/// Float conversions and casts: the inverse conversion of the cotangent.
LogicalResult castVjp(Operation *op, ReverseBuilder &reverse) {
  OpBuilder &builder = reverse.getBuilder();
  Location loc = op->getLoc();
  Value cotangent = reverse.cotangent(op->getResult(0));
  Type type = op->getOperand(0).getType();
  Value result;
  if (isa<arith::ExtFOp>(op))
    result = arith::TruncFOp::create(builder, loc, type, cotangent);
  else if (isa<arith::TruncFOp>(op))
    result = arith::ExtFOp::create(builder, loc, type, cotangent);
  else
    result = tensor::CastOp::create(builder, loc, type, cotangent);
  reverse.addCotangent(op->getOpOperand(0), result);
  return success();
}

/// Operations whose result is their operand for differentiation.
LogicalResult identityVjp(Operation *op, ReverseBuilder &reverse) {
  reverse.addCotangent(op->getOpOperand(0),
                       reverse.cotangent(op->getResult(0)));
  return success();
}

LogicalResult zeroVjp(Operation *, ReverseBuilder &) { return success(); }

/// A read's transpose adds the cotangent at the read's indices: a sparse
/// contribution, accumulated where it leaves its scope. For lz.get and
/// tensor.extract, whose operands are the tensor and the indices.
LogicalResult readVjp(Operation *op, ReverseBuilder &reverse) {
  SmallVector<Value> indices;
  for (Value index : op->getOperands().drop_front())
    indices.push_back(reverse.primal(index));
  reverse.addCotangent(
      op->getOpOperand(0),
      Cotangent::getSparse(indices, reverse.cotangent(op->getResult(0))));
  return success();
}

/// tensor.insert: the scalar's cotangent is the element of the result's,
/// the destination's is the result's with that element zero.
LogicalResult insertVjp(Operation *op, ReverseBuilder &reverse) {
  auto insert = cast<tensor::InsertOp>(op);
  OpBuilder &builder = reverse.getBuilder();
  Location loc = op->getLoc();
  Value cotangent = reverse.cotangent(insert.getResult());
  SmallVector<Value> indices;
  for (Value index : insert.getIndices())
    indices.push_back(reverse.primal(index));
  if (reverse.isVaried(insert.getScalar()))
    reverse.addCotangent(
        insert->getOpOperand(0),
        tensor::ExtractOp::create(builder, loc, cotangent, indices));
  if (reverse.isVaried(insert.getDest())) {
    Type type = insert.getScalar().getType();
    Value zero = arith::ConstantOp::create(builder, loc, type,
                                           builder.getZeroAttr(type));
    reverse.addCotangent(
        insert->getOpOperand(1),
        tensor::InsertOp::create(builder, loc, zero, cotangent, indices));
  }
  return success();
}

/// tensor.extract_slice: the slice's cotangent inserted into zeros.
LogicalResult extractSliceVjp(Operation *op, ReverseBuilder &reverse) {
  auto extract = cast<tensor::ExtractSliceOp>(op);
  OpBuilder &builder = reverse.getBuilder();
  Location loc = op->getLoc();
  IRMapping mapping;
  for (Value operand : op->getOperands())
    mapping.map(operand, reverse.primal(operand));
  Value zeros = reverse.zerosLike(loc, reverse.primal(extract.getSource()));
  auto insert = tensor::InsertSliceOp::create(
      builder, loc, reverse.cotangent(extract.getResult()), zeros,
      extract.getMixedOffsets(), extract.getMixedSizes(),
      extract.getMixedStrides());
  // The offsets and sizes are values of the derivative program.
  for (OpOperand &operand : insert->getOpOperands())
    operand.set(mapping.lookupOrDefault(operand.get()));
  reverse.addCotangent(extract->getOpOperand(0), insert.getResult());
  return success();
}

/// tensor.insert_slice: the source's cotangent is the slice of the
/// result's, the destination's is the result's with the slice zero.
LogicalResult insertSliceVjp(Operation *op, ReverseBuilder &reverse) {
  auto insert = cast<tensor::InsertSliceOp>(op);
  OpBuilder &builder = reverse.getBuilder();
  Location loc = op->getLoc();
  Value cotangent = reverse.cotangent(insert.getResult());
  IRMapping mapping;
  for (Value operand : op->getOperands())
    mapping.map(operand, reverse.primal(operand));
  auto remap = [&](Operation *created) {
    for (OpOperand &operand : created->getOpOperands())
      operand.set(mapping.lookupOrDefault(operand.get()));
  };
  if (reverse.isVaried(insert.getSource())) {
    auto slice = tensor::ExtractSliceOp::create(
        builder, loc, insert.getSourceType(), cotangent,
        insert.getMixedOffsets(), insert.getMixedSizes(),
        insert.getMixedStrides());
    remap(slice);
    reverse.addCotangent(insert->getOpOperand(0), slice.getResult());
  }
  if (reverse.isVaried(insert.getDest())) {
    Value zeros = reverse.zerosLike(loc, reverse.primal(insert.getSource()));
    auto cleared = tensor::InsertSliceOp::create(
        builder, loc, zeros, cotangent, insert.getMixedOffsets(),
        insert.getMixedSizes(), insert.getMixedStrides());
    remap(cleared);
    reverse.addCotangent(insert->getOpOperand(1), cleared.getResult());
  }
  return success();
}

/// A fill's transpose sums the cotangent over every element.
LogicalResult fillVjp(Operation *op, ReverseBuilder &reverse) {
  auto fill = cast<lz::FillOp>(op);
  OpBuilder &builder = reverse.getBuilder();
  Location loc = op->getLoc();
  Value cotangent = reverse.cotangent(fill.getResult());
  Type element = fill.getValue().getType();
  Value total;
  if (fill.getType().getRank() == 0) {
    total = lz::GetOp::create(builder, loc, cotangent, ValueRange{});
  } else {
    total = lz::SumOp::create(
                builder, loc, element, getSizes(builder, loc, cotangent),
                [&](OpBuilder &b, Location loc, ValueRange indices) {
                  Value e = lz::GetOp::create(b, loc, cotangent, indices);
                  lz::YieldOp::create(b, loc, e);
                })
                .getResult();
  }
  reverse.addCotangent(fill->getOpOperand(0), total);
  return success();
}

/// The transpose of the last two dimensions of `value`.
Value transposeLast(OpBuilder &builder, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  SmallVector<Value> sizes = getSizes(builder, loc, value);
  std::swap(sizes[sizes.size() - 1], sizes[sizes.size() - 2]);
  auto forOp = lz::ForOp::create(
      builder, loc, TypeRange{type.clone(shape)}, sizes,
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        SmallVector<Value> read(indices);
        std::swap(read[read.size() - 1], read[read.size() - 2]);
        lz::YieldOp::create(b, loc,
                            ValueRange{lz::GetOp::create(b, loc, value, read)});
      });
  return forOp.getResult(0);
}

/// C = A B: the cotangent of A is C̄ Bᵀ, that of B is Aᵀ C̄ (per batch).
LogicalResult productVjp(Operation *op, ReverseBuilder &reverse) {
  OpBuilder &builder = reverse.getBuilder();
  Location loc = op->getLoc();
  Value a = reverse.primal(op->getOperand(0));
  Value b = reverse.primal(op->getOperand(1));
  Value cotangent = reverse.cotangent(op->getResult(0));
  auto product = [&](Value l, Value r, Type type) -> Value {
    OperationState state(loc, op->getName());
    state.addOperands({l, r});
    state.addTypes(type);
    return builder.create(state)->getResult(0);
  };
  if (reverse.isVaried(op->getOperand(0)))
    reverse.addCotangent(
        op->getOpOperand(0),
        product(cotangent, transposeLast(builder, loc, b), a.getType()));
  if (reverse.isVaried(op->getOperand(1)))
    reverse.addCotangent(
        op->getOpOperand(1),
        product(transposeLast(builder, loc, a), cotangent, b.getType()));
  return success();
}

LogicalResult tupleVjp(Operation *op, ReverseBuilder &reverse) {
  auto tuple = cast<lz::TupleOp>(op);
  Value cotangent = reverse.cotangent(tuple.getResult());
  for (OpOperand &element : tuple->getOpOperands())
    if (reverse.isVaried(element.get()))
      reverse.addCotangent(
          element, lz::ProjOp::create(reverse.getBuilder(), op->getLoc(),
                                      cotangent, element.getOperandNumber()));
  return success();
}

LogicalResult projVjp(Operation *op, ReverseBuilder &reverse) {
  auto proj = cast<lz::ProjOp>(op);
  reverse.addCotangent(
      proj->getOpOperand(0),
      Cotangent::getElement(proj.getIndex(),
                            Cotangent(reverse.cotangent(proj.getResult()))));
  return success();
}

//===----------------------------------------------------------------------===//
// Scopes
//===----------------------------------------------------------------------===//

/// Creates `scope` (lz.sum or lz.accumulate) over `ranges`, whose body is a
/// copy of `block` followed by the yield of what `finish` returns.
Value createReduction(
    OpBuilder &builder, Location loc, StringRef name, Type type,
    ValueRange ranges, ValueRange sizes, Block &block,
    function_ref<SmallVector<Value>(OpBuilder &, IRMapping &)> finish) {
  auto fill = [&](OpBuilder &b, Location loc, ValueRange indices) {
    IRMapping mapping;
    mapping.map(block.getArguments(), indices);
    for (Operation &op : block)
      b.clone(op, mapping);
    lz::YieldOp::create(b, loc, finish(b, mapping));
  };
  if (name == lz::SumOp::getOperationName())
    return lz::SumOp::create(builder, loc, type, ranges, fill).getResult();
  return lz::AccumulateOp::create(builder, loc, type, ranges, sizes, fill)
      .getResult();
}

/// The sum over the points `ranges` of `cotangent`, the cotangent of
/// `primalValue` (a value of the enclosing block) at one point, computed by
/// `block`: dense parts by `lz.sum`, sparse ones by `lz.accumulate`, tuple
/// elements one by one. Each reduction evaluates its own copy of the block,
/// which dead-code elimination prunes to what it needs.
Cotangent reduceOverPoints(OpBuilder &builder, Location loc, ValueRange ranges,
                           Block &block, Value primalValue,
                           const Cotangent &cotangent) {
  Cotangent total;
  if (Value dense = cotangent.dense) {
    if (auto tuple = dyn_cast<TupleType>(dense.getType())) {
      // Element by element, projected in the block.
      OpBuilder inner = atEndOf(builder.getContext(), &block);
      for (unsigned i = 0; i < tuple.size(); ++i) {
        Cotangent element(lz::ProjOp::create(inner, loc, dense, i));
        Value projected =
            lz::ProjOp::create(builder, loc, primalValue, i).getResult();
        Cotangent sum =
            reduceOverPoints(builder, loc, ranges, block, projected, element);
        if (!sum.isZero())
          total.elements.push_back(
              {i, std::make_shared<Cotangent>(std::move(sum))});
      }
    } else {
      total.dense = createReduction(
          builder, loc, lz::SumOp::getOperationName(), dense.getType(), ranges,
          {}, block, [&](OpBuilder &, IRMapping &mapping) {
            return SmallVector<Value>{mapping.lookupOrDefault(dense)};
          });
    }
  }
  for (const Cotangent::SparseTerm &term : cotangent.sparse) {
    SmallVector<Value> sizes = getDynamicSizes(builder, loc, primalValue);
    Value accumulated = createReduction(
        builder, loc, lz::AccumulateOp::getOperationName(),
        primalValue.getType(), ranges, sizes, block,
        [&](OpBuilder &, IRMapping &mapping) {
          SmallVector<Value> yields;
          if (term.mask)
            yields.push_back(mapping.lookupOrDefault(term.mask));
          for (Value index : term.indices)
            yields.push_back(mapping.lookupOrDefault(index));
          yields.push_back(mapping.lookupOrDefault(term.value));
          return yields;
        });
    if (term.mask)
      cast<lz::AccumulateOp>(accumulated.getDefiningOp()).setMasked(true);
    total.dense = buildAdd(builder, loc, total.dense, accumulated);
  }
  for (auto &[index, element] : cotangent.elements) {
    Value projected =
        lz::ProjOp::create(builder, loc, primalValue, index).getResult();
    Cotangent sum =
        reduceOverPoints(builder, loc, ranges, block, projected, *element);
    if (!sum.isZero())
      total.elements.push_back(
          {index, std::make_shared<Cotangent>(std::move(sum))});
  }
  return total;
}

/// Gives the captures of a scope the sums over its points of their
/// cotangents in the reversed body.
void reduceContext(ReverseBuilder &reverse, Operation *op, ValueRange ranges,
                   ReversedBlock &reversed) {
  for (auto &[captured, cotangent] : reversed.context)
    reverse.addCaptureCotangent(
        captured,
        reduceOverPoints(reverse.getBuilder(), op->getLoc(), ranges,
                         *reversed.block, reverse.primal(captured), cotangent));
}

SmallVector<Value> primalRanges(ReverseBuilder &reverse, ValueRange ranges) {
  SmallVector<Value> result;
  for (Value range : ranges)
    result.push_back(reverse.primal(range));
  return result;
}

/// lz.for: the body's output at each point has the cotangent's element.
LogicalResult forVjp(Operation *op, ReverseBuilder &reverse) {
  auto forOp = cast<lz::ForOp>(op);
  SmallVector<Value> cotangents;
  for (Value result : forOp.getResults())
    cotangents.push_back(reverse.cotangent(result));
  FailureOr<ReversedBlock> reversed = reverse.reverseBlock(
      forOp.getBody().front(), [&](ReverseBuilder &, OpBuilder &b) {
        ValueRange indices = b.getInsertionBlock()->getArguments();
        SmallVector<Value> seeds;
        for (Value cotangent : cotangents)
          seeds.push_back(
              cotangent ? lz::GetOp::create(b, op->getLoc(), cotangent, indices)
                              .getResult()
                        : Value());
        return seeds;
      });
  if (failed(reversed))
    return failure();
  reduceContext(reverse, op, primalRanges(reverse, forOp.getRanges()),
                *reversed);
  return success();
}

/// A copy of the ops of `body`, an original scope body, at the builder's
/// insertion point with its arguments mapped to `indices` and the values it
/// uses from outside to their primal values; returns the mapping.
IRMapping clonePrimalBody(ReverseBuilder &reverse, OpBuilder &b, Block &body,
                          ValueRange indices) {
  IRMapping mapping;
  mapping.map(body.getArguments(), indices);
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(*body.getParent(), used);
  for (Value value : used)
    mapping.map(value, reverse.primal(value));
  for (Operation &op : body.without_terminator())
    b.clone(op, mapping);
  return mapping;
}

/// The reductions: `sum` gives every point the cotangent; `max` and `min`
/// share it evenly among the points that attain the extremum; `prod` gives
/// each point the product of the others (exact with zeros, quadratic in
/// the points), as the forward rules do. Over tensors, each element is
/// its own reduction.
LogicalResult reductionVjp(Operation *op, ReverseBuilder &reverse) {
  Location loc = op->getLoc();
  Value cotangent = reverse.cotangent(op->getResult(0));
  Type type = op->getResult(0).getType();
  Type element = getElementTypeOrSelf(type);
  Block &body = op->getRegion(0).front();
  SmallVector<Value> ranges = primalRanges(reverse, op->getOperands());
  if (!isa<lz::SumOp>(op) && !isa<FloatType>(element))
    return op->emitError("cannot differentiate '")
           << op->getName() << "' of integers in reverse mode";
  OpBuilder &builder = reverse.getBuilder();
  auto constant = [&](OpBuilder &b, double value) {
    return arith::ConstantOp::create(b, loc, element,
                                     b.getFloatAttr(element, value))
        .getResult();
  };
  auto at = [&](OpBuilder &b, Value value, ValueRange indices) {
    return readElement(b, loc, value, indices);
  };
  Value extremum = reverse.primal(op->getResult(0));
  Value weight;
  if (isa<lz::MaxOp, lz::MinOp>(op)) {
    // The cotangent over the number of points that attain the extremum (0
    // over no points).
    Value count =
        lz::SumOp::create(
            builder, loc, type, ranges,
            [&](OpBuilder &b, Location loc, ValueRange indices) {
              IRMapping mapping = clonePrimalBody(reverse, b, body, indices);
              Value e =
                  mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
              Value ones = buildElementwise(
                  b, loc, e, [&](OpBuilder &eb, ValueRange s) -> Value {
                    Value attains = arith::CmpFOp::create(
                        eb, loc, arith::CmpFPredicate::OEQ, at(eb, e, s),
                        at(eb, extremum, s));
                    return arith::SelectOp::create(
                        eb, loc, attains, constant(eb, 1.0), constant(eb, 0.0));
                  });
              lz::YieldOp::create(b, loc, ValueRange{ones});
            })
            .getResult();
    weight = buildElementwise(
        builder, loc, extremum, [&](OpBuilder &b, ValueRange s) -> Value {
          Value n = at(b, count, s);
          Value zero = constant(b, 0.0);
          Value none =
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, n, zero);
          Value share = arith::DivFOp::create(b, loc, at(b, cotangent, s), n);
          return arith::SelectOp::create(b, loc, none, zero, share);
        });
  }
  FailureOr<ReversedBlock> reversed = reverse.reverseBlock(
      body, [&](ReverseBuilder &inner, OpBuilder &b) -> SmallVector<Value> {
        if (isa<lz::SumOp>(op))
          return {cotangent};
        Value e = inner.primal(body.getTerminator()->getOperand(0));
        if (weight) {
          return {buildElementwise(
              b, loc, e, [&](OpBuilder &eb, ValueRange s) -> Value {
                Value attains =
                    arith::CmpFOp::create(eb, loc, arith::CmpFPredicate::OEQ,
                                          at(eb, e, s), at(eb, extremum, s));
                return arith::SelectOp::create(
                    eb, loc, attains, at(eb, weight, s), constant(eb, 0.0));
              })};
        }
        // prod j. (j == i ? 1 : e(j)), times the cotangent.
        ValueRange point = b.getInsertionBlock()->getArguments();
        Value others =
            lz::ProdOp::create(
                b, loc, type, ranges,
                [&](OpBuilder &pb, Location loc, ValueRange indices) {
                  IRMapping mapping =
                      clonePrimalBody(reverse, pb, body, indices);
                  Value same;
                  for (auto [j, i] : llvm::zip(indices, point)) {
                    Value equal = arith::CmpIOp::create(
                        pb, loc, arith::CmpIPredicate::eq, j, i);
                    same = same ? arith::AndIOp::create(pb, loc, same, equal)
                                : equal;
                  }
                  Value ej = mapping.lookupOrDefault(
                      body.getTerminator()->getOperand(0));
                  Value factor = buildElementwise(
                      pb, loc, ej, [&](OpBuilder &eb, ValueRange s) -> Value {
                        return arith::SelectOp::create(
                            eb, loc, same, constant(eb, 1.0), at(eb, ej, s));
                      });
                  lz::YieldOp::create(pb, loc, ValueRange{factor});
                })
                .getResult();
        return {buildElementwise(
            b, loc, others, [&](OpBuilder &eb, ValueRange s) -> Value {
              return arith::MulFOp::create(eb, loc, at(eb, cotangent, s),
                                           at(eb, others, s));
            })};
      });
  if (failed(reversed))
    return failure();
  reduceContext(reverse, op, ranges, *reversed);
  return success();
}

/// lz.accumulate is linear in its values: each point's value has the
/// cotangent's element at its indices.
LogicalResult accumulateVjp(Operation *op, ReverseBuilder &reverse) {
  auto accumulate = cast<lz::AccumulateOp>(op);
  if (accumulate.getMasked() &&
      isa<RankedTensorType>(accumulate.getTargetValue().getType()))
    return op->emitError("cannot differentiate a masked 'lz.accumulate' of "
                         "sub-tensors in reverse mode");
  Value cotangent = reverse.cotangent(accumulate.getResult());
  Block &body = accumulate.getBody().front();
  FailureOr<ReversedBlock> reversed = reverse.reverseBlock(
      body, [&](ReverseBuilder &inner, OpBuilder &b) -> SmallVector<Value> {
        Location loc = op->getLoc();
        SmallVector<Value> seeds(accumulate.getYield().getNumOperands() - 1);
        SmallVector<Value> indices;
        for (Value index : accumulate.getTargetIndices())
          indices.push_back(inner.primal(index));
        if (!accumulate.getMasked()) {
          seeds.push_back(lz::GetOp::create(b, loc, cotangent, indices));
          return seeds;
        }
        // Masked: the cotangent's element where the mask holds (the
        // indices of the other points need not be valid).
        Type type = accumulate.getTargetValue().getType();
        auto ifOp = scf::IfOp::create(
            b, loc, inner.primal(accumulate.getMask()),
            [&](OpBuilder &tb, Location loc) {
              scf::YieldOp::create(
                  tb, loc,
                  ValueRange{lz::GetOp::create(tb, loc, cotangent, indices)});
            },
            [&](OpBuilder &eb, Location loc) {
              scf::YieldOp::create(eb, loc,
                                   ValueRange{arith::ConstantOp::create(
                                       eb, loc, type, eb.getZeroAttr(type))});
            });
        seeds.push_back(ifOp.getResult(0));
        return seeds;
      });
  if (failed(reversed))
    return failure();
  reduceContext(reverse, op, primalRanges(reverse, accumulate.getRanges()),
                *reversed);
  return success();
}

//===----------------------------------------------------------------------===//
// Conditionals, loops and calls
//===----------------------------------------------------------------------===//

/// Whether `value` is defined in `block` or in a region nested in it.
bool isDefinedIn(Value value, Block &block) {
  Block *owner = value.getParentBlock();
  if (owner == &block)
    return true;
  Operation *parent = owner->getParentOp();
  return parent && block.findAncestorOpInBlock(*parent);
}

/// scf.if: the branch that ran gives its captures their cotangents. Each
/// branch yields the dense cotangent of every capture (zeros where it has
/// none), and the value of every sparse term of a scalar, which stays
/// sparse, masked by the condition: with the indices too where the branch
/// computes them (zeros from the other branch, which the mask leaves
/// unused). A read at an index computed under a condition (a packed
/// triangle's `if q < r then L[c, q * (2 * d - q - 1) / 2 + r]`) then adds
/// one element, not a tensor of them, at each point of its scope. The
/// sparse terms of sub-tensors, and those of a tuple's elements, become
/// dense in their branch.
LogicalResult ifVjp(Operation *op, ReverseBuilder &reverse) {
  auto ifOp = cast<scf::IfOp>(op);
  Location loc = op->getLoc();
  SmallVector<Value> cotangents;
  for (Value result : ifOp.getResults())
    cotangents.push_back(reverse.cotangent(result));
  auto seeds = [&](ReverseBuilder &, OpBuilder &) { return cotangents; };
  FailureOr<ReversedBlock> thenReversed =
      reverse.reverseBlock(ifOp.getThenRegion().front(), seeds);
  if (failed(thenReversed))
    return failure();
  FailureOr<ReversedBlock> elseReversed =
      reverse.reverseBlock(ifOp.getElseRegion().front(), seeds);
  if (failed(elseReversed))
    return failure();
  std::array<ReversedBlock *, 2> branches = {&*thenReversed, &*elseReversed};

  // What the branches yield: for each capture, its dense cotangent, then
  // the values of its sparse terms that stay sparse.
  struct Output {
    Value captured;
    /// The branch whose sparse term this is, or -1 for the dense part.
    int branch;
    unsigned term;
    /// Whether the branch computes the term's indices, which it yields.
    bool yieldsIndices = false;
  };
  SmallVector<Output> outputs;
  llvm::SetVector<Value> captures;
  for (ReversedBlock *branch : branches)
    for (auto &entry : branch->context)
      captures.insert(entry.first);
  // Sparse terms of sub-tensors become dense in their branch.
  std::array<llvm::DenseMap<Value, Cotangent>, 2> dense;
  for (auto [b, branch] : llvm::enumerate(branches)) {
    for (auto &[captured, cotangent] : branch->context) {
      Cotangent &kept = dense[b][captured];
      kept.dense = cotangent.dense;
      kept.elements = cotangent.elements;
      for (auto [t, term] : llvm::enumerate(cotangent.sparse)) {
        if (isa<RankedTensorType>(term.value.getType())) {
          kept.sparse.push_back(term);
          continue;
        }
        Block &block = *branch->block;
        bool inside = llvm::any_of(term.indices, [&](Value index) {
          return isDefinedIn(index, block);
        });
        outputs.push_back(
            {captured, static_cast<int>(b), static_cast<unsigned>(t), inside});
      }
    }
  }
  SmallVector<Output> denseOutputs;
  for (Value captured : captures)
    if (llvm::any_of(dense, [&](auto &kept) {
          auto it = kept.find(captured);
          return it != kept.end() && !it->second.isZero();
        }))
      denseOutputs.push_back({captured, -1, 0});
  outputs.insert(outputs.begin(), denseOutputs.begin(), denseOutputs.end());

  // Each branch's yields.
  std::array<SmallVector<Value>, 2> yields;
  for (auto [b, branch] : llvm::enumerate(branches)) {
    OpBuilder inner = atEndOf(op->getContext(), branch->block.get());
    for (const Output &output : outputs) {
      Value primalCaptured = reverse.primal(output.captured);
      if (output.branch < 0) {
        auto it = dense[b].find(output.captured);
        Value value;
        if (it != dense[b].end())
          value = materialize(inner, loc, primalCaptured, it->second);
        yields[b].push_back(value ? value
                                  : buildZeros(inner, loc, primalCaptured));
        continue;
      }
      const Cotangent::SparseTerm &term =
          branches[output.branch]->context[output.captured].sparse[output.term];
      bool own = static_cast<int>(b) == output.branch;
      Type type = term.value.getType();
      yields[b].push_back(own ? term.value
                              : arith::ConstantOp::create(
                                    inner, loc, type, inner.getZeroAttr(type))
                                    .getResult());
      // A mask the branch computes passes out too (false from the other).
      if (term.mask)
        yields[b].push_back(
            own ? term.mask
                : arith::ConstantIntOp::create(inner, loc, 0, 1).getResult());
      if (output.yieldsIndices)
        for (Value index : term.indices)
          yields[b].push_back(own ? index
                                  : arith::ConstantOp::create(
                                        inner, loc, index.getType(),
                                        inner.getZeroAttr(index.getType()))
                                        .getResult());
    }
  }
  SmallVector<Type> types;
  for (Value value : yields[0])
    types.push_back(value.getType());
  OpBuilder &builder = reverse.getBuilder();
  auto newIf = scf::IfOp::create(builder, loc, types,
                                 reverse.primal(ifOp.getCondition()),
                                 /*withElseRegion=*/true);
  for (auto [b, region] : llvm::enumerate(std::array<Region *, 2>{
           &newIf.getThenRegion(), &newIf.getElseRegion()})) {
    Block &target = region->front();
    if (!target.empty())
      target.back().erase();
    target.getOperations().splice(target.end(),
                                  branches[b]->block->getOperations());
    OpBuilder inner = OpBuilder::atBlockEnd(&target);
    scf::YieldOp::create(inner, loc, yields[b]);
  }
  // A sparse term counts only where its branch ran: its indices need not
  // be valid elsewhere (a read guarded by the condition).
  Value condition = reverse.primal(ifOp.getCondition());
  Value otherwise;
  unsigned next = 0;
  for (const Output &output : outputs) {
    Value value = newIf.getResult(next++);
    if (output.branch < 0) {
      reverse.addCaptureCotangent(output.captured, Cotangent(value));
      continue;
    }
    const Cotangent::SparseTerm &term =
        branches[output.branch]->context[output.captured].sparse[output.term];
    Value mask = condition;
    if (output.branch == 1) {
      if (!otherwise) {
        Value one = arith::ConstantIntOp::create(builder, loc, 1, 1);
        otherwise = arith::XOrIOp::create(builder, loc, condition, one);
      }
      mask = otherwise;
    }
    if (term.mask)
      mask = arith::AndIOp::create(builder, loc, mask, newIf.getResult(next++));
    SmallVector<Value> indices(term.indices.begin(), term.indices.end());
    if (output.yieldsIndices)
      for (Value &index : indices)
        index = newIf.getResult(next++);
    reverse.addCaptureCotangent(output.captured,
                                Cotangent::getSparse(indices, value, mask));
  }
  return success();
}

/// func.call: a call of the callee's reverse derivative, which recomputes
/// the callee's forward sweep.
LogicalResult callVjp(Operation *op, ReverseBuilder &reverse) {
  auto call = cast<func::CallOp>(op);
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      op, call.getCalleeAttr());
  if (!callee)
    return op->emitError("cannot differentiate a call of an unknown function");
  OpBuilder &builder = reverse.getBuilder();
  Location loc = op->getLoc();
  SmallVector<bool> active;
  SmallVector<Value> operands;
  for (Value operand : call.getOperands()) {
    operands.push_back(reverse.primal(operand));
    active.push_back(reverse.isVaried(operand));
  }
  if (llvm::none_of(active, [](bool a) { return a; }))
    return success();
  FailureOr<func::FuncOp> derivative = reverse.getDerivative(callee, active);
  if (failed(derivative))
    return failure();
  for (Value result : call.getResults()) {
    if (!hasTangent(result.getType()))
      continue;
    Value cotangent = reverse.cotangent(result);
    operands.push_back(
        cotangent ? cotangent : reverse.zerosLike(loc, reverse.primal(result)));
  }
  auto newCall = func::CallOp::create(builder, loc, *derivative, operands);
  unsigned next = call.getNumResults();
  for (auto [operand, a] : llvm::zip(call->getOpOperands(), active))
    if (a)
      reverse.addCotangent(operand, newCall.getResult(next++));
  return success();
}

} // namespace

/// The stack of a state of type `type`, a scalar or a tensor, over `steps`.
static RankedTensorType getStackType(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    SmallVector<int64_t> shape = {ShapedType::kDynamic};
    llvm::append_range(shape, tensor.getShape());
    return RankedTensorType::get(shape, tensor.getElementType());
  }
  return RankedTensorType::get({ShapedType::kDynamic}, type);
}

/// `count` − 1 − `index`: the row of a stack of `count` entries that holds
/// entry `index` (a stack keeps its entries from the last to the first).
static Value buildReversedIndex(OpBuilder &builder, Location loc, Value count,
                                Value index) {
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  Value last = arith::SubIOp::create(builder, loc, count, one);
  return arith::SubIOp::create(builder, loc, last, index);
}

/// A counted `lz.loop` of `count` steps that carries `inits`, with the
/// builder at the start of its body: the loop, the step's index counted
/// backwards (count − 1 − u at step u), the step u itself (the row of a
/// stack of the steps' entries), and the carried values.
static std::tuple<lz::LoopOp, Value, Value, SmallVector<Value>>
buildBackwardLoop(OpBuilder &builder, Location loc, TypeRange types,
                  Value count, ValueRange inits) {
  auto loop = lz::LoopOp::create(builder, loc, types, count, inits);
  Block *body = builder.createBlock(&loop.getBody());
  Value u = body->addArgument(builder.getIndexType(), loc);
  SmallVector<Value> carried;
  for (Type type : types)
    carried.push_back(body->addArgument(type, loc));
  return {loop, buildReversedIndex(builder, loc, count, u), u, carried};
}

/// The checkpointing interval of a loop's reverse: its `ad.checkpoint`
/// attribute, else its module's (`leibniz --checkpoint`); 0 for none.
static int64_t getCheckpointInterval(Operation *loop) {
  for (Operation *op = loop; op; op = op->getParentOp())
    if (auto interval = op->getAttrOfType<IntegerAttr>("ad.checkpoint"))
      return std::max<int64_t>(interval.getInt(), 0);
  return 0;
}

Value ad::detail::buildPush(OpBuilder &builder, Location loc, Value value,
                            Value stack, Value index) {
  auto tensor = dyn_cast<RankedTensorType>(value.getType());
  if (!tensor)
    return tensor::InsertOp::create(builder, loc, value, stack, index);
  SmallVector<OpFoldResult> offsets = {index},
                            sizes = {builder.getIndexAttr(1)},
                            strides = {builder.getIndexAttr(1)};
  for (int64_t d = 0; d < tensor.getRank(); ++d) {
    offsets.push_back(builder.getIndexAttr(0));
    sizes.push_back(
        tensor.isDynamicDim(d)
            ? OpFoldResult(
                  tensor::DimOp::create(builder, loc, value, d).getResult())
            : OpFoldResult(builder.getIndexAttr(tensor.getDimSize(d))));
    strides.push_back(builder.getIndexAttr(1));
  }
  return tensor::InsertSliceOp::create(builder, loc, value, stack, offsets,
                                       sizes, strides);
}

SmallVector<Value> ad::detail::buildStacks(OpBuilder &builder, Location loc,
                                           ValueRange values, Value size) {
  SmallVector<Value> stacks;
  for (Value value : values) {
    RankedTensorType stackType = getStackType(value.getType());
    SmallVector<Value> sizes = {size};
    if (isa<RankedTensorType>(value.getType()))
      llvm::append_range(sizes, getDynamicSizes(builder, loc, value));
    Type element = stackType.getElementType();
    Value fillValue = arith::ConstantOp::create(builder, loc, element,
                                                builder.getZeroAttr(element));
    stacks.push_back(
        lz::FillOp::create(builder, loc, stackType, fillValue, sizes));
  }
  return stacks;
}

/// A step of `loop`'s primal body at the builder, its arguments mapped by
/// `mapping` and its free values to the primal values of the enclosing
/// sweep, which yields the next state and then `extra`.
static void buildPrimalStep(ReverseBuilder &reverse, OpBuilder &builder,
                            lz::LoopOp loop, IRMapping &mapping,
                            ValueRange extra) {
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(loop.getBody(), used);
  for (Value value : used)
    mapping.map(value, reverse.primal(value));
  for (Operation &nested : loop.getBody().front().without_terminator())
    builder.clone(nested, mapping);
  SmallVector<Value> yields;
  for (Value next : loop.getYield().getValues())
    yields.push_back(mapping.lookupOrDefault(next));
  llvm::append_range(yields, extra);
  lz::YieldOp::create(builder, loop.getLoc(), yields);
}

LogicalResult ad::detail::buildLoopForwardSweep(ReverseBuilder &reverse,
                                                Operation *op) {
  auto loop = cast<lz::LoopOp>(op);
  Location loc = op->getLoc();
  if (!loop.isCounted())
    return op->emitError(
        "reverse mode cannot differentiate a 'while' loop, whose number of "
        "steps depends on its state; differentiate the solution implicitly "
        "with argmin, root or fixed_point, or use a counted loop");
  OpBuilder &builder = reverse.getBuilder();
  // No step for a count below 1; the stacks are sized by the clamped count.
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value steps = arith::MaxSIOp::create(builder, loc,
                                       reverse.primal(loop.getCount()), zero);
  // With checkpointing every k steps, the stacks keep the states of the
  // steps that are multiples of k only: ceil(steps / k) of them.
  int64_t interval = getCheckpointInterval(op);
  Value every, entries = steps;
  if (interval > 0) {
    every = arith::ConstantIndexOp::create(builder, loc, interval);
    entries = arith::CeilDivSIOp::create(builder, loc, steps, every);
  }
  SmallVector<Value> inits;
  SmallVector<Type> types(loop.getResultTypes());
  for (Value init : loop.getInits())
    inits.push_back(reverse.primal(init));
  for (Value stack : buildStacks(builder, loc, ValueRange(inits), entries)) {
    inits.push_back(stack);
    types.push_back(stack.getType());
  }
  unsigned numState = loop.getInits().size();
  auto newLoop = lz::LoopOp::create(builder, loc, types, steps, inits);
  Block &body = loop.getBody().front();
  OpBuilder::InsertionGuard guard(builder);
  Block *newBody = builder.createBlock(&newLoop.getBody());
  Value step = newBody->addArgument(builder.getIndexType(), loc);
  IRMapping mapping;
  mapping.map(body.getArgument(0), step);
  SmallVector<Value> state, stacks;
  for (unsigned i = 0; i < numState; ++i) {
    state.push_back(newBody->addArgument(types[i], loc));
    mapping.map(body.getArgument(1 + i), state.back());
  }
  for (unsigned i = 0; i < numState; ++i)
    stacks.push_back(newBody->addArgument(types[numState + i], loc));
  // Push the state before the step (a checkpoint's step only), from the
  // last row of the stack to the first: the reverse sweep, which walks the
  // steps backwards, then reads the stack forwards, at consecutive
  // addresses. LLVM's vectorizer checks the buffers of the sweep's steps for
  // overlap once for the whole sweep, a check that fails for a stack read
  // backwards: the steps' loops then run scalar.
  SmallVector<Value> pushed;
  if (interval > 0) {
    Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
    Value checkpoint = arith::CmpIOp::create(
        builder, loc, arith::CmpIPredicate::eq,
        arith::RemSIOp::create(builder, loc, step, every), zero);
    Value index =
        buildReversedIndex(builder, loc, entries,
                           arith::DivSIOp::create(builder, loc, step, every));
    auto ifOp = scf::IfOp::create(
        builder, loc, checkpoint,
        [&](OpBuilder &b, Location loc) {
          SmallVector<Value> values;
          for (auto [value, stack] : llvm::zip(state, stacks))
            values.push_back(buildPush(b, loc, value, stack, index));
          scf::YieldOp::create(b, loc, values);
        },
        [&](OpBuilder &b, Location loc) {
          scf::YieldOp::create(b, loc, stacks);
        });
    llvm::append_range(pushed, ifOp.getResults());
  } else {
    Value index = buildReversedIndex(builder, loc, entries, step);
    for (auto [value, stack] : llvm::zip(state, stacks))
      pushed.push_back(buildPush(builder, loc, value, stack, index));
  }
  buildPrimalStep(reverse, builder, loop, mapping, pushed);
  for (unsigned i = 0; i < numState; ++i)
    reverse.setPrimal(loop.getResult(i), newLoop.getResult(i));
  SmallVector<Value> residuals(newLoop.getResults().drop_front(numState));
  residuals.push_back(steps);
  reverse.setResiduals(op, residuals);
  return success();
}

namespace {

/// lz.loop (counted): the reverse sweep walks the steps backwards, reading
/// each step's state from the stacks of the forward sweep; it carries the
/// state's cotangent and the sums of the captures' cotangents.
LogicalResult loopVjp(Operation *op, ReverseBuilder &reverse) {
  auto loop = cast<lz::LoopOp>(op);
  Location loc = op->getLoc();
  OpBuilder &builder = reverse.getBuilder();
  ArrayRef<Value> residuals = reverse.getResiduals(op);
  unsigned numState = loop.getInits().size();
  ArrayRef<Value> stacks = residuals.take_front(numState);
  Value steps = residuals.back();
  Block &body = loop.getBody().front();

  // The varied state, carried with its cotangent.
  SmallVector<unsigned> active;
  for (unsigned i = 0; i < numState; ++i)
    if (reverse.isVaried(loop.getResult(i)))
      active.push_back(i);
  FailureOr<ReversedBlock> reversed =
      reverse.reverseBlock(body, [&](ReverseBuilder &, OpBuilder &b) {
        SmallVector<Value> seeds(numState);
        for (unsigned i : active)
          seeds[i] = b.getInsertionBlock()->addArgument(
              loop.getResult(i).getType(), loc);
        return seeds;
      });
  if (failed(reversed))
    return failure();
  Block &block = *reversed->block;

  SmallVector<Value> inits;
  for (unsigned i : active) {
    Value cotangent = reverse.cotangent(loop.getResult(i));
    inits.push_back(
        cotangent ? cotangent
                  : reverse.zerosLike(loc, reverse.primal(loop.getResult(i))));
  }
  SmallVector<Value> captured;
  for (auto &entry : reversed->context) {
    captured.push_back(entry.first);
    inits.push_back(reverse.zerosLike(loc, reverse.primal(entry.first)));
  }
  SmallVector<Type> types;
  for (Value init : inits)
    types.push_back(init.getType());

  // The reverse of `count` steps from the cotangents and sums `from`, the
  // step t's state read from `stackOf` (at row count − 1 − t, the reverse
  // sweep's step: it reads the stack forwards) and its index `offset` + t.
  auto buildReverseSteps = [&](Value count, ArrayRef<Value> stackOf,
                               Value offset, ValueRange from) {
    OpBuilder::InsertionGuard guard(builder);
    auto [newLoop, t, row, carried] =
        buildBackwardLoop(builder, loc, types, count, from);
    Block *newBody = builder.getInsertionBlock();
    // The reversed block's arguments stand for step t's index and its
    // state from the stacks.
    IRMapping arguments;
    arguments.map(
        block.getArgument(0),
        offset ? arith::AddIOp::create(builder, loc, offset, t).getResult()
               : t);
    for (unsigned i = 0; i < numState; ++i)
      arguments.map(
          block.getArgument(1 + i),
          lz::GetOp::create(builder, loc, stackOf[i], ValueRange{row}));
    for (auto [k, i] : llvm::enumerate(active))
      arguments.map(block.getArgument(1 + numState + k), carried[k]);
    newBody->getOperations().splice(newBody->end(), block.getOperations());
    builder.setInsertionPointToEnd(newBody);
    SmallVector<Value> yields;
    for (unsigned i : active) {
      BlockArgument arg = body.getArgument(1 + i);
      Value cotangent =
          materialize(builder, loc, reverse.primal(loop.getResult(i)),
                      reversed->arguments[arg.getArgNumber()]);
      yields.push_back(
          cotangent
              ? cotangent
              : buildZeros(builder, loc, reverse.primal(loop.getResult(i))));
    }
    for (auto [k, value] : llvm::enumerate(captured)) {
      Value sum = carried[active.size() + k];
      Value contribution = materialize(builder, loc, reverse.primal(value),
                                       reversed->context[value]);
      yields.push_back(buildAdd(builder, loc, sum, contribution));
    }
    lz::YieldOp::create(builder, loc, yields);
    // Only now, since the cotangents may be the block's arguments or use
    // them (the indices of a sparse term), do those become the step's.
    for (BlockArgument arg : block.getArguments())
      arg.replaceAllUsesWith(arguments.lookup(arg));
    return newLoop;
  };

  int64_t interval = getCheckpointInterval(op);
  lz::LoopOp newLoop;
  if (interval <= 0) {
    newLoop = buildReverseSteps(steps, stacks, Value(), inits);
  } else {
    // Checkpointing: the segments of `interval` steps backwards; each
    // recomputes its states from its checkpoint into stacks of its own,
    // then reverses its steps.
    Value every = arith::ConstantIndexOp::create(builder, loc, interval);
    Value segments = arith::CeilDivSIOp::create(builder, loc, steps, every);
    OpBuilder::InsertionGuard guard(builder);
    auto [outerLoop, segment, row, carried] =
        buildBackwardLoop(builder, loc, types, segments, inits);
    newLoop = outerLoop;
    Block *outer = builder.getInsertionBlock();
    Value start = arith::MulIOp::create(builder, loc, segment, every);
    Value length = arith::MinSIOp::create(
        builder, loc, every, arith::SubIOp::create(builder, loc, steps, start));
    SmallVector<Value> checkpoint;
    for (unsigned i = 0; i < numState; ++i)
      checkpoint.push_back(
          lz::GetOp::create(builder, loc, stacks[i], ValueRange{row}));
    // The segment's states, recomputed by the primal body into stacks of
    // the segment's length: new ones in each segment (one made before the
    // loop would be copied in each), which the recomputation fills.
    SmallVector<Value> recomputeInits(checkpoint);
    llvm::append_range(recomputeInits,
                       buildStacks(builder, loc, checkpoint, length));
    SmallVector<Type> recomputeTypes;
    for (Value init : recomputeInits)
      recomputeTypes.push_back(init.getType());
    auto recompute = lz::LoopOp::create(builder, loc, recomputeTypes, length,
                                        recomputeInits);
    {
      OpBuilder::InsertionGuard inner(builder);
      Block *step = builder.createBlock(&recompute.getBody());
      Value j = step->addArgument(builder.getIndexType(), loc);
      SmallVector<Value> state, local;
      for (unsigned i = 0; i < numState; ++i)
        state.push_back(step->addArgument(recomputeTypes[i], loc));
      for (unsigned i = 0; i < numState; ++i)
        local.push_back(step->addArgument(recomputeTypes[numState + i], loc));
      IRMapping mapping;
      mapping.map(body.getArgument(0),
                  arith::AddIOp::create(builder, loc, start, j).getResult());
      for (unsigned i = 0; i < numState; ++i)
        mapping.map(body.getArgument(1 + i), state[i]);
      SmallVector<Value> pushed;
      Value index = buildReversedIndex(builder, loc, length, j);
      for (auto [value, stack] : llvm::zip(state, local))
        pushed.push_back(buildPush(builder, loc, value, stack, index));
      buildPrimalStep(reverse, builder, loop, mapping, pushed);
    }
    SmallVector<Value> localStacks(recompute.getResults().drop_front(numState));
    lz::LoopOp segmentLoop =
        buildReverseSteps(length, localStacks, start, carried);
    builder.setInsertionPointToEnd(outer);
    lz::YieldOp::create(builder, loc, segmentLoop.getResults());
  }
  for (auto [k, i] : llvm::enumerate(active))
    reverse.addCotangent(loop->getOpOperand(1 + i), newLoop.getResult(k));
  for (auto [k, value] : llvm::enumerate(captured))
    reverse.addCaptureCotangent(
        value, Cotangent(newLoop.getResult(active.size() + k)));
  return success();
}

template <typename OpTy> void add(ReverseRuleFn rule) {
  getReverseRules()[OpTy::getOperationName()] = rule;
}

} // namespace

void ad::detail::registerReverseRules() {
  add<arith::AddFOp>(addVjp);
  add<arith::SubFOp>(addVjp);
  add<arith::NegFOp>(negVjp);
  add<arith::SelectOp>(selectVjp);
  add<arith::ExtFOp>(castVjp);
  add<arith::TruncFOp>(castVjp);
  add<tensor::CastOp>(castVjp);
  add<tensor::ExtractOp>(readVjp);
  add<tensor::InsertOp>(insertVjp);
  add<tensor::ExtractSliceOp>(extractSliceVjp);
  add<tensor::InsertSliceOp>(insertSliceVjp);
  add<math::FloorOp>(zeroVjp);
  add<math::CeilOp>(zeroVjp);
  add<math::RoundOp>(zeroVjp);
  add<math::TruncOp>(zeroVjp);
  add<lz::GetOp>(readVjp);
  add<lz::FillOp>(fillVjp);
  add<lz::MatmulOp>(productVjp);
  add<lz::BatchMatmulOp>(productVjp);
  add<lz::PrintOp>(identityVjp);
  add<ArgminOp>(ad::detail::argminVjp);
  add<FixedPointOp>(ad::detail::fixedPointVjp);
  add<RootOp>(ad::detail::rootVjp);
  add<lz::TupleOp>(tupleVjp);
  add<lz::ProjOp>(projVjp);
  add<lz::ForOp>(forVjp);
  add<lz::SumOp>(reductionVjp);
  add<lz::ProdOp>(reductionVjp);
  add<lz::MaxOp>(reductionVjp);
  add<lz::MinOp>(reductionVjp);
  add<lz::AccumulateOp>(accumulateVjp);
  add<lz::LoopOp>(loopVjp);
  add<lz::IotaOp>(zeroVjp);
  add<lz::RandomOp>(zeroVjp);
  add<StopGradientOp>(zeroVjp);
  add<scf::IfOp>(ifVjp);
  add<func::CallOp>(callVjp);
}
