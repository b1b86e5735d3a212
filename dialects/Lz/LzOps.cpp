//===- LzOps.cpp - lz dialect operations ----------------------------------===//
//
// Part of Leibniz.
//
// Parsers, printers, verifiers and folders of the lz operations. The
// canonicalization patterns live in LzCanonicalize.cpp.
//
//===----------------------------------------------------------------------===//

#include "Lz/LzOps.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace leibniz::lz;

//===----------------------------------------------------------------------===//
// Helpers shared by the scope ops
//===----------------------------------------------------------------------===//

bool leibniz::lz::isReductionOp(Operation *op) {
  return isa<SumOp, ProdOp, MaxOp, MinOp>(op);
}

std::optional<std::pair<unsigned, unsigned>>
leibniz::lz::getEqualSizeLeader(BlockArgument arg, unsigned dim) {
  Block *entry = arg.getOwner();
  Operation *func = entry->getParentOp();
  if (!func || !entry->isEntryBlock())
    return std::nullopt;
  auto groups = func->getAttrOfType<ArrayAttr>(kEqualSizesAttrName);
  if (!groups)
    return std::nullopt;
  for (Attribute attr : groups) {
    auto group = dyn_cast<DenseI64ArrayAttr>(attr);
    if (!group || group.size() < 2 || group.size() % 2 != 0)
      continue;
    ArrayRef<int64_t> pairs = group.asArrayRef();
    bool member = false;
    for (size_t i = 0; i < pairs.size(); i += 2)
      member |= pairs[i] == arg.getArgNumber() && pairs[i + 1] == dim;
    if (!member)
      continue;
    int64_t leader = pairs[0], leaderDim = pairs[1];
    if (leader < 0 || leader >= entry->getNumArguments())
      return std::nullopt;
    auto type =
        dyn_cast<RankedTensorType>(entry->getArgument(leader).getType());
    if (!type || leaderDim < 0 || leaderDim >= type.getRank())
      return std::nullopt;
    return std::pair<unsigned, unsigned>(leader, leaderDim);
  }
  return std::nullopt;
}

llvm::DenseSet<Value> leibniz::lz::getDependents(Block &body, Value variable) {
  llvm::DenseSet<Value> dependents{variable};
  auto uses = [&](Operation *op) {
    return llvm::any_of(op->getOperands(),
                        [&](Value v) { return dependents.contains(v); });
  };
  // Post-order: the operations in a region before the operation holding it.
  body.walk([&](Operation *op) {
    bool depends = uses(op);
    if (!depends && op->getNumRegions() != 0)
      depends = op->walk([&](Operation *inner) {
                    return inner != op && uses(inner) ? WalkResult::interrupt()
                                                      : WalkResult::advance();
                  }).wasInterrupted();
    if (depends)
      dependents.insert(op->result_begin(), op->result_end());
  });
  return dependents;
}

void leibniz::lz::getTupleLeafTypes(Type type, SmallVectorImpl<Type> &leaves) {
  auto tuple = dyn_cast<TupleType>(type);
  if (!tuple) {
    leaves.push_back(type);
    return;
  }
  for (Type element : tuple.getTypes())
    getTupleLeafTypes(element, leaves);
}

void leibniz::lz::buildTupleLeaves(OpBuilder &builder, Location loc,
                                   Value value,
                                   SmallVectorImpl<Value> &leaves) {
  auto tuple = dyn_cast<TupleType>(value.getType());
  if (!tuple) {
    leaves.push_back(value);
    return;
  }
  for (unsigned i = 0; i < tuple.size(); ++i)
    buildTupleLeaves(builder, loc, ProjOp::create(builder, loc, value, i),
                     leaves);
}

Value leibniz::lz::buildTupleFromLeaves(OpBuilder &builder, Location loc,
                                        Type type, ValueRange &leaves) {
  auto tuple = dyn_cast<TupleType>(type);
  if (!tuple) {
    Value leaf = leaves.front();
    leaves = leaves.drop_front();
    return leaf;
  }
  SmallVector<Value> elements;
  for (Type element : tuple.getTypes())
    elements.push_back(buildTupleFromLeaves(builder, loc, element, leaves));
  return TupleOp::create(builder, loc, elements);
}

Type leibniz::lz::getScopeElementType(RankedTensorType resultType,
                                      unsigned numIndices) {
  if (resultType.getRank() < numIndices)
    return {};
  if (resultType.getRank() == numIndices)
    return resultType.getElementType();
  return RankedTensorType::get(resultType.getShape().drop_front(numIndices),
                               resultType.getElementType());
}

/// Creates the entry block of a scope, one index argument per range, and
/// lets `bodyBuilder` fill it.
static void buildScopeBody(OpBuilder &builder, OperationState &state,
                           ValueRange ranges, ScopeBodyBuilder bodyBuilder) {
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Value range : ranges)
    block->addArgument(builder.getIndexType(), range.getLoc());
  if (!bodyBuilder)
    return;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(block);
  bodyBuilder(builder, state.location, block->getArguments());
}

/// ranges ::= ssa-id `<` ssa-use (`,` ssa-id `<` ssa-use)*
static ParseResult
parseScopeRanges(OpAsmParser &parser,
                 SmallVectorImpl<OpAsmParser::Argument> &indices,
                 SmallVectorImpl<OpAsmParser::UnresolvedOperand> &ranges) {
  Type indexType = parser.getBuilder().getIndexType();
  do {
    OpAsmParser::Argument index;
    OpAsmParser::UnresolvedOperand range;
    if (parser.parseArgument(index) || parser.parseLess() ||
        parser.parseOperand(range))
      return failure();
    index.type = indexType;
    indices.push_back(index);
    ranges.push_back(range);
  } while (succeeded(parser.parseOptionalComma()));
  return success();
}

/// scope ::= ranges `:` type-list region (`attributes` attr-dict)?
static ParseResult parseScope(OpAsmParser &parser, OperationState &result) {
  Type indexType = parser.getBuilder().getIndexType();
  SmallVector<OpAsmParser::Argument> indices;
  SmallVector<OpAsmParser::UnresolvedOperand> ranges;
  if (parseScopeRanges(parser, indices, ranges) ||
      parser.resolveOperands(ranges, indexType, result.operands) ||
      parser.parseColonTypeList(result.types))
    return failure();
  Region *body = result.addRegion();
  if (parser.parseRegion(*body, indices))
    return failure();
  return parser.parseOptionalAttrDictWithKeyword(result.attributes);
}

static void printScope(OpAsmPrinter &p, Operation *op, ValueRange ranges,
                       Region &body) {
  p << ' ';
  llvm::interleaveComma(
      llvm::zip(body.getArguments(), ranges), p,
      [&](auto pair) { p << std::get<0>(pair) << " < " << std::get<1>(pair); });
  p << " : ";
  llvm::interleaveComma(op->getResultTypes(), p);
  p << ' ';
  p.printRegion(body, /*printEntryBlockArgs=*/false);
  p.printOptionalAttrDictWithKeyword(op->getAttrs());
}

/// Names the index variables of a scope in printed IR: traversals i, j,
/// i2, i3, ...; summations k, l, k2, k3, ... (the printer makes the names
/// unique across nested scopes).
static void nameScopeIndices(Region &region, OpAsmSetValueNameFn setNameFn,
                             bool summation) {
  StringRef first = summation ? "k" : "i", second = summation ? "l" : "j";
  for (BlockArgument arg : region.getArguments()) {
    unsigned pos = arg.getArgNumber();
    if (pos == 0)
      setNameFn(arg, first);
    else if (pos == 1)
      setNameFn(arg, second);
    else
      setNameFn(arg, (first + Twine(pos)).str());
  }
}

/// Checks what every scope needs: one index argument per range, a yield
/// terminator, and constant ranges that are non-negative.
static LogicalResult verifyScopeCommon(Operation *op, ValueRange ranges,
                                       Region &body) {
  if (ranges.empty())
    return op->emitOpError("expects at least one index range");
  Block &block = body.front();
  if (block.getNumArguments() != ranges.size())
    return op->emitOpError("expects one index variable per range, but has ")
           << block.getNumArguments() << " index variables and "
           << ranges.size() << " ranges";
  for (BlockArgument arg : block.getArguments())
    if (!arg.getType().isIndex())
      return op->emitOpError("expects index variables of type 'index', got ")
             << arg.getType();
  if (!isa<YieldOp>(block.getTerminator()))
    return op->emitOpError("expects its body to end with 'lz.yield'");
  for (auto [pos, range] : llvm::enumerate(ranges)) {
    std::optional<int64_t> size = getConstantIntValue(range);
    if (size && *size < 0)
      return op->emitOpError("range #")
             << pos << " is negative (" << *size << ")";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ForOp
//===----------------------------------------------------------------------===//

void ForOp::build(OpBuilder &builder, OperationState &state,
                  TypeRange resultTypes, ValueRange ranges,
                  ScopeBodyBuilder bodyBuilder) {
  state.addOperands(ranges);
  state.addTypes(resultTypes);
  buildScopeBody(builder, state, ranges, bodyBuilder);
}

YieldOp ForOp::getYield() { return cast<YieldOp>(getBody().front().back()); }

void ForOp::getAsmBlockArgumentNames(Region &region,
                                     OpAsmSetValueNameFn setNameFn) {
  nameScopeIndices(region, setNameFn, /*summation=*/false);
}

ParseResult ForOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseScope(parser, result);
}

void ForOp::print(OpAsmPrinter &p) {
  printScope(p, *this, getRanges(), getBody());
}

LogicalResult ForOp::verifyRegions() {
  if (failed(verifyScopeCommon(*this, getRanges(), getBody())))
    return failure();
  YieldOp yield = getYield();
  if (yield.getValues().size() != getNumResults())
    return emitOpError("yields ")
           << yield.getValues().size() << " values but has " << getNumResults()
           << " results";
  unsigned numIndices = getRanges().size();
  for (auto [pos, result, yielded] :
       llvm::enumerate(getResults(), yield.getValues())) {
    auto type = cast<RankedTensorType>(result.getType());
    Type element = getScopeElementType(type, numIndices);
    if (!element)
      return emitOpError("result #")
             << pos << " has rank " << type.getRank() << ", less than the "
             << numIndices << " index variables of the scope";
    if (element != yielded.getType())
      return emitOpError("result #")
             << pos << " of type " << type << " expects the body to yield "
             << element << ", but it yields " << yielded.getType();
    for (auto [dim, range] : llvm::enumerate(getRanges())) {
      std::optional<int64_t> size = getConstantIntValue(range);
      if (size && !type.isDynamicDim(dim) && type.getDimSize(dim) != *size)
        return emitOpError("result #")
               << pos << " has size " << type.getDimSize(dim)
               << " in dimension " << dim << ", but its range is " << *size;
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions (SumOp, ProdOp, MaxOp, MinOp)
//===----------------------------------------------------------------------===//

TypedAttr leibniz::lz::getReductionIdentity(Operation *op, Type elementType) {
  Builder b(elementType.getContext());
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    const llvm::fltSemantics &sem = floatType.getFloatSemantics();
    return TypeSwitch<Operation *, TypedAttr>(op)
        .Case([&](SumOp) { return b.getFloatAttr(floatType, 0.0); })
        .Case([&](ProdOp) { return b.getFloatAttr(floatType, 1.0); })
        .Case([&](MaxOp) {
          return b.getFloatAttr(floatType, APFloat::getInf(sem, true));
        })
        .Case([&](MinOp) {
          return b.getFloatAttr(floatType, APFloat::getInf(sem, false));
        })
        .Default([](Operation *) { return TypedAttr(); });
  }
  auto intType = cast<IntegerType>(elementType);
  unsigned width = intType.getWidth();
  return TypeSwitch<Operation *, TypedAttr>(op)
      .Case([&](SumOp) { return b.getIntegerAttr(intType, 0); })
      .Case([&](ProdOp) { return b.getIntegerAttr(intType, 1); })
      .Case([&](MaxOp) {
        return b.getIntegerAttr(intType, APInt::getSignedMinValue(width));
      })
      .Case([&](MinOp) {
        return b.getIntegerAttr(intType, APInt::getSignedMaxValue(width));
      })
      .Default([](Operation *) { return TypedAttr(); });
}

/// The identity of a reduction for its whole result type: a scalar attribute,
/// or a splat for a statically shaped tensor; null for a dynamic tensor.
static TypedAttr getReductionIdentityFor(Operation *op, Type resultType) {
  auto tensorType = dyn_cast<RankedTensorType>(resultType);
  TypedAttr element = getReductionIdentity(
      op, tensorType ? tensorType.getElementType() : resultType);
  if (!tensorType)
    return element;
  if (!tensorType.hasStaticShape())
    return {};
  return SplatElementsAttr::get(tensorType, element);
}

static LogicalResult verifyReduction(Operation *op, ValueRange ranges,
                                     Region &body) {
  if (failed(verifyScopeCommon(op, ranges, body)))
    return failure();
  auto yield = cast<YieldOp>(body.front().getTerminator());
  if (yield.getValues().size() != 1)
    return op->emitOpError("expects its body to yield exactly one value, got ")
           << yield.getValues().size();
  Type resultType = op->getResult(0).getType();
  if (yield.getValues()[0].getType() != resultType)
    return op->emitOpError("yields ")
           << yield.getValues()[0].getType() << " but its result type is "
           << resultType;
  if (getElementTypeOrSelf(resultType).isInteger(1))
    return op->emitOpError("cannot reduce values of type i1");
  return success();
}

#define LZ_DEFINE_REDUCTION(OP)                                                \
  void OP::build(OpBuilder &builder, OperationState &state, Type resultType,   \
                 ValueRange ranges, ScopeBodyBuilder bodyBuilder) {            \
    state.addOperands(ranges);                                                 \
    state.addTypes(resultType);                                                \
    buildScopeBody(builder, state, ranges, bodyBuilder);                       \
  }                                                                            \
  YieldOp OP::getYield() { return cast<YieldOp>(getBody().front().back()); }   \
  void OP::getAsmBlockArgumentNames(Region &region,                            \
                                    OpAsmSetValueNameFn setNameFn) {           \
    nameScopeIndices(region, setNameFn, /*summation=*/true);                   \
  }                                                                            \
  TypedAttr OP::getIdentityAttr() {                                            \
    return getReductionIdentityFor(*this, getResult().getType());              \
  }                                                                            \
  ParseResult OP::parse(OpAsmParser &parser, OperationState &result) {         \
    return parseScope(parser, result);                                         \
  }                                                                            \
  void OP::print(OpAsmPrinter &p) {                                            \
    printScope(p, *this, getRanges(), getBody());                              \
  }                                                                            \
  LogicalResult OP::verifyRegions() {                                          \
    return verifyReduction(*this, getRanges(), getBody());                     \
  }

LZ_DEFINE_REDUCTION(SumOp)
LZ_DEFINE_REDUCTION(ProdOp)
LZ_DEFINE_REDUCTION(MaxOp)
LZ_DEFINE_REDUCTION(MinOp)
#undef LZ_DEFINE_REDUCTION

//===----------------------------------------------------------------------===//
// AccumulateOp
//===----------------------------------------------------------------------===//

void AccumulateOp::build(OpBuilder &builder, OperationState &state,
                         Type resultType, ValueRange ranges, ValueRange sizes,
                         ScopeBodyBuilder bodyBuilder) {
  state.addOperands(ranges);
  state.addOperands(sizes);
  state.addTypes(resultType);
  state.getOrAddProperties<Properties>().operandSegmentSizes = {
      static_cast<int32_t>(ranges.size()), static_cast<int32_t>(sizes.size())};
  buildScopeBody(builder, state, ranges, bodyBuilder);
}

YieldOp AccumulateOp::getYield() {
  return cast<YieldOp>(getBody().front().back());
}

OperandRange AccumulateOp::getTargetIndices() {
  return getYield().getValues().drop_front(getMasked() ? 1 : 0).drop_back();
}

Value AccumulateOp::getMask() {
  return getMasked() ? getYield().getValues().front() : Value();
}

Value AccumulateOp::getTargetValue() { return getYield().getValues().back(); }

void AccumulateOp::getAsmBlockArgumentNames(Region &region,
                                            OpAsmSetValueNameFn setNameFn) {
  nameScopeIndices(region, setNameFn, /*summation=*/true);
}

/// accumulate ::= ranges (`into` `(` ssa-use-list `)`)? `:` type region
///                (`attributes` attr-dict)?
ParseResult AccumulateOp::parse(OpAsmParser &parser, OperationState &result) {
  Type indexType = parser.getBuilder().getIndexType();
  SmallVector<OpAsmParser::Argument> indices;
  SmallVector<OpAsmParser::UnresolvedOperand> ranges, sizes;
  if (parseScopeRanges(parser, indices, ranges))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("into")) &&
      parser.parseOperandList(sizes, OpAsmParser::Delimiter::Paren))
    return failure();
  Type type;
  if (parser.resolveOperands(ranges, indexType, result.operands) ||
      parser.resolveOperands(sizes, indexType, result.operands) ||
      parser.parseColonType(type))
    return failure();
  result.addTypes(type);
  result.getOrAddProperties<Properties>().operandSegmentSizes = {
      static_cast<int32_t>(ranges.size()), static_cast<int32_t>(sizes.size())};
  Region *body = result.addRegion();
  if (parser.parseRegion(*body, indices))
    return failure();
  return parser.parseOptionalAttrDictWithKeyword(result.attributes);
}

void AccumulateOp::print(OpAsmPrinter &p) {
  p << ' ';
  llvm::interleaveComma(
      llvm::zip(getBody().getArguments(), getRanges()), p,
      [&](auto pair) { p << std::get<0>(pair) << " < " << std::get<1>(pair); });
  if (!getSizes().empty())
    p << " into (" << getSizes() << ")";
  p << " : " << getType() << ' ';
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false);
  p.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(), /*elidedAttrs=*/{getOperandSegmentSizesAttrName()});
}

LogicalResult AccumulateOp::verifyRegions() {
  if (failed(verifyScopeCommon(*this, getRanges(), getBody())))
    return failure();
  auto type = cast<RankedTensorType>(getType());
  if (getSizes().size() != type.getNumDynamicDims())
    return emitOpError("expects ") << type.getNumDynamicDims()
                                   << " sizes for the dynamic dimensions of "
                                   << type << ", got " << getSizes().size();
  ValueRange yielded = getYield().getValues();
  if (getMasked()) {
    if (yielded.empty() || !yielded.front().getType().isInteger(1))
      return emitOpError("is masked: expects its body to yield an i1 first");
    yielded = yielded.drop_front();
  }
  if (yielded.empty())
    return emitOpError("expects its body to yield indices and a value");
  unsigned numIndices = yielded.size() - 1;
  Type element = getScopeElementType(type, numIndices);
  if (!element)
    return emitOpError("yields ")
           << numIndices << " indices into a tensor of rank " << type.getRank();
  for (Value index : yielded.drop_back())
    if (!index.getType().isIndex())
      return emitOpError("expects the yielded indices to be of type 'index', "
                         "got ")
             << index.getType();
  if (yielded.back().getType() != element)
    return emitOpError("expects the body to yield a value of type ")
           << element << " after " << numIndices << " indices, got "
           << yielded.back().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// GetOp
//===----------------------------------------------------------------------===//

LogicalResult GetOp::inferReturnTypes(MLIRContext *context,
                                      std::optional<Location> location,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  auto type = cast<RankedTensorType>(adaptor.getTensor().getType());
  unsigned numIndices = adaptor.getIndices().size();
  Type result = getScopeElementType(type, numIndices);
  if (!result)
    return emitOptionalError(location, "'lz.get' has ", numIndices,
                             " indices, more than the rank ", type.getRank(),
                             " of the tensor");
  inferred.push_back(result);
  return success();
}

LogicalResult GetOp::verify() {
  RankedTensorType type = getTensor().getType();
  for (auto [dim, index] : llvm::enumerate(getIndices())) {
    std::optional<int64_t> value = getConstantIntValue(index);
    if (!value)
      continue;
    if (*value < 0)
      return emitOpError("index #") << dim << " is negative (" << *value << ")";
    if (!type.isDynamicDim(dim) && *value >= type.getDimSize(dim))
      return emitOpError("index #")
             << dim << " is " << *value << ", out of bounds for size "
             << type.getDimSize(dim);
  }
  return success();
}

OpFoldResult GetOp::fold(FoldAdaptor adaptor) {
  // Reading nothing is the tensor itself, unless it is the element of a
  // rank-0 tensor.
  if (getIndices().empty() && getType() == getTensor().getType())
    return getTensor();
  RankedTensorType type = getTensor().getType();
  bool fullIndex = getIndices().size() == static_cast<size_t>(type.getRank());
  // A full read of a fill is the fill value.
  if (auto fill = getTensor().getDefiningOp<FillOp>(); fill && fullIndex)
    return fill.getValue();
  // A full read of a constant at constant, in-bounds indices.
  auto constant = dyn_cast_or_null<DenseElementsAttr>(adaptor.getTensor());
  if (!constant || !fullIndex)
    return {};
  SmallVector<uint64_t> indices;
  for (auto [dim, index] : llvm::enumerate(adaptor.getIndices())) {
    auto attr = dyn_cast_or_null<IntegerAttr>(index);
    if (!attr)
      return {};
    int64_t value = attr.getInt();
    if (value < 0 || value >= type.getDimSize(dim))
      return {};
    indices.push_back(value);
  }
  return constant.getValues<Attribute>()[indices];
}

//===----------------------------------------------------------------------===//
// FillOp
//===----------------------------------------------------------------------===//

LogicalResult FillOp::verify() {
  RankedTensorType type = getResult().getType();
  if (getSizes().size() != static_cast<size_t>(type.getNumDynamicDims()))
    return emitOpError("expects one size per dynamic dimension of ")
           << type << " (" << type.getNumDynamicDims() << "), got "
           << getSizes().size();
  return success();
}

OpFoldResult FillOp::fold(FoldAdaptor adaptor) {
  auto value = dyn_cast_or_null<TypedAttr>(adaptor.getValue());
  RankedTensorType type = getResult().getType();
  if (!value || !type.hasStaticShape() || !isa<IntegerAttr, FloatAttr>(value))
    return {};
  return SplatElementsAttr::get(type, value);
}

//===----------------------------------------------------------------------===//
// RandomOp
//===----------------------------------------------------------------------===//

LogicalResult RandomOp::verify() {
  if (getDistribution() != "uniform" && getDistribution() != "normal")
    return emitOpError("distribution must be \"uniform\" or \"normal\", not \"")
           << getDistribution() << "\"";
  RankedTensorType type = getResult().getType();
  if (getSizes().size() != static_cast<size_t>(type.getNumDynamicDims()))
    return emitOpError("expects one size per dynamic dimension of ")
           << type << " (" << type.getNumDynamicDims() << "), got "
           << getSizes().size();
  return success();
}

//===----------------------------------------------------------------------===//
// IotaOp
//===----------------------------------------------------------------------===//

LogicalResult IotaOp::verify() {
  bool dynamic = getResult().getType().isDynamicDim(0);
  if (dynamic && !getSize())
    return emitOpError("expects a size operand for a dynamic result");
  if (!dynamic && getSize())
    return emitOpError("expects no size operand for a static result");
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp and BatchMatmulOp
//===----------------------------------------------------------------------===//

/// Checks that static sizes agree; dynamic sizes are checked at run time.
static bool compatibleSizes(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Verifies `result[batch..., i, j] = sum_k lhs[batch..., i, k] *
/// rhs[batch..., k, j]` for `rank`-dimensional operands.
static LogicalResult verifyMatmulShapes(Operation *op, RankedTensorType lhs,
                                        RankedTensorType rhs,
                                        RankedTensorType result, int64_t rank) {
  if (lhs.getRank() != rank || rhs.getRank() != rank ||
      result.getRank() != rank)
    return op->emitOpError("expects operands and result of rank ")
           << rank << ", got " << lhs << ", " << rhs << " -> " << result;
  if (lhs.getElementType() != rhs.getElementType() ||
      lhs.getElementType() != result.getElementType())
    return op->emitOpError("expects one element type, got ")
           << lhs.getElementType() << ", " << rhs.getElementType() << " -> "
           << result.getElementType();
  ArrayRef<int64_t> l = lhs.getShape(), r = rhs.getShape(),
                    c = result.getShape();
  for (int64_t b = 0; b < rank - 2; ++b)
    if (!compatibleSizes(l[b], r[b]) || !compatibleSizes(l[b], c[b]) ||
        !compatibleSizes(r[b], c[b]))
      return op->emitOpError("has mismatched batch sizes in dimension ") << b;
  int64_t i = rank - 2, j = rank - 1;
  if (!compatibleSizes(l[j], r[i]))
    return op->emitOpError("contracts mismatched sizes ")
           << l[j] << " and " << r[i];
  if (!compatibleSizes(l[i], c[i]) || !compatibleSizes(r[j], c[j]))
    return op->emitOpError("result type ")
           << result << " does not match the operand shapes";
  return success();
}

LogicalResult MatmulOp::verify() {
  return verifyMatmulShapes(*this, getLhs().getType(), getRhs().getType(),
                            getResult().getType(), 2);
}

LogicalResult BatchMatmulOp::verify() {
  return verifyMatmulShapes(*this, getLhs().getType(), getRhs().getType(),
                            getResult().getType(), 3);
}

//===----------------------------------------------------------------------===//
// TupleOp and ProjOp
//===----------------------------------------------------------------------===//

LogicalResult TupleOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  inferred.push_back(TupleType::get(context, adaptor.getElements().getTypes()));
  return success();
}

OpFoldResult TupleOp::fold(FoldAdaptor) {
  // tuple(proj(t)[0], ..., proj(t)[n-1]) -> t
  Value source;
  for (auto [pos, element] : llvm::enumerate(getElements())) {
    auto proj = element.getDefiningOp<ProjOp>();
    if (!proj || proj.getIndex() != pos ||
        (source && proj.getTuple() != source))
      return {};
    source = proj.getTuple();
  }
  if (!source || source.getType() != getType())
    return {};
  return source;
}

LogicalResult ProjOp::inferReturnTypes(MLIRContext *context,
                                       std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto type = cast<TupleType>(adaptor.getTuple().getType());
  int64_t index = adaptor.getIndex();
  if (index < 0 || index >= static_cast<int64_t>(type.size()))
    return emitOptionalError(location, "'lz.proj' index ", index,
                             " is out of range for ", type);
  inferred.push_back(type.getType(index));
  return success();
}

OpFoldResult ProjOp::fold(FoldAdaptor) {
  if (auto tuple = getTuple().getDefiningOp<TupleOp>())
    return tuple.getElements()[getIndex()];
  return {};
}

//===----------------------------------------------------------------------===//
// LoopOp
//===----------------------------------------------------------------------===//

YieldOp LoopOp::getYield() { return cast<YieldOp>(getBody().front().back()); }

void LoopOp::getAsmBlockArgumentNames(Region &region,
                                      OpAsmSetValueNameFn setNameFn) {
  // The step of the counted form is `t`, the states `s`, `s_0`, ...
  for (BlockArgument arg : region.getArguments())
    setNameFn(arg,
              isCounted() && &region == &getBody() && arg.getArgNumber() == 0
                  ? "t"
                  : "s");
}

/// loop ::= `lz.loop` ssa-id `<` ssa-use
///            `iter_args` `(` (ssa-id `=` ssa-use (`,` ...)*)? `)`
///            (`:` type-list)? region attr-dict
///        | `lz.loop` `while` `(` ssa-use-list? `)` (`:` type-list)?
///            `cond` region `do` region attr-dict
ParseResult LoopOp::parse(OpAsmParser &parser, OperationState &result) {
  Builder &builder = parser.getBuilder();
  SmallVector<OpAsmParser::Argument> bodyArgs;
  SmallVector<OpAsmParser::UnresolvedOperand> inits;
  OpAsmParser::UnresolvedOperand count;
  bool counted = failed(parser.parseOptionalKeyword("while"));

  if (counted) {
    OpAsmParser::Argument step;
    step.type = builder.getIndexType();
    if (parser.parseArgument(step) || parser.parseLess() ||
        parser.parseOperand(count) || parser.parseKeyword("iter_args") ||
        parser.parseAssignmentList(bodyArgs, inits))
      return failure();
    bodyArgs.insert(bodyArgs.begin(), step);
  } else if (parser.parseOperandList(inits, OpAsmParser::Delimiter::Paren)) {
    return failure();
  }

  SmallVector<Type> types;
  if (succeeded(parser.parseOptionalColon()) && parser.parseTypeList(types))
    return failure();
  if (types.size() != inits.size())
    return parser.emitError(parser.getCurrentLocation(), "expected ")
           << inits.size() << " state types, got " << types.size();
  if (counted &&
      parser.resolveOperand(count, builder.getIndexType(), result.operands))
    return failure();
  if (parser.resolveOperands(inits, types, parser.getCurrentLocation(),
                             result.operands))
    return failure();
  result.addTypes(types);
  result.getOrAddProperties<Properties>().operandSegmentSizes = {
      counted ? 1 : 0, static_cast<int32_t>(inits.size())};

  Region *cond = result.addRegion();
  Region *body = result.addRegion();
  if (counted) {
    for (auto [arg, type] : llvm::zip(llvm::drop_begin(bodyArgs), types))
      arg.type = type;
    if (parser.parseRegion(*body, bodyArgs))
      return failure();
  } else if (parser.parseKeyword("cond") || parser.parseRegion(*cond) ||
             parser.parseKeyword("do") || parser.parseRegion(*body)) {
    return failure();
  }
  return parser.parseOptionalAttrDictWithKeyword(result.attributes);
}

void LoopOp::print(OpAsmPrinter &p) {
  if (isCounted()) {
    p << ' ' << getBody().getArgument(0) << " < " << getCount()
      << " iter_args(";
    llvm::interleaveComma(
        llvm::zip(getBodyStateArgs(), getInits()), p, [&](auto pair) {
          p << std::get<0>(pair) << " = " << std::get<1>(pair);
        });
    p << ")";
  } else {
    p << " while (" << getInits() << ")";
  }
  if (!getInits().empty()) {
    p << " : ";
    llvm::interleaveComma(getInits().getTypes(), p);
  }
  if (isCounted()) {
    p << ' ';
    p.printRegion(getBody(), /*printEntryBlockArgs=*/false);
  } else {
    p << " cond ";
    p.printRegion(getCond());
    p << " do ";
    p.printRegion(getBody());
  }
  p.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(), /*elidedAttrs=*/{getOperandSegmentSizesAttrName()});
}

/// Checks that a block's arguments have the given types.
static LogicalResult verifyBlockArgs(Operation *op, Block &block,
                                     TypeRange expected, StringRef what) {
  if (block.getArgumentTypes() != expected) {
    InFlightDiagnostic diag = op->emitOpError("expects the ")
                              << what << " to take (";
    llvm::interleaveComma(expected, diag);
    diag << "), but it takes (";
    llvm::interleaveComma(block.getArgumentTypes(), diag);
    return diag << ")";
  }
  return success();
}

LogicalResult LoopOp::verifyRegions() {
  TypeRange stateTypes = getInits().getTypes();
  if (getResultTypes() != stateTypes)
    return emitOpError("expects result types to equal the state types");

  Block &body = getBody().front();
  SmallVector<Type> bodyTypes;
  if (isCounted())
    bodyTypes.push_back(IndexType::get(getContext()));
  llvm::append_range(bodyTypes, stateTypes);
  if (failed(verifyBlockArgs(*this, body, bodyTypes, "body")))
    return failure();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("expects its body to end with 'lz.yield'");
  if (yield.getValues().getTypes() != stateTypes)
    return emitOpError("expects the body to yield the state types");

  if (isCounted()) {
    if (!getCond().empty())
      return emitOpError("of the counted form has no condition region");
    return success();
  }
  if (!getCond().hasOneBlock())
    return emitOpError("of the while form expects a condition region with "
                       "one block");
  Block &cond = getCond().front();
  if (failed(verifyBlockArgs(*this, cond, stateTypes, "condition region")))
    return failure();
  if (!isa<ConditionOp>(cond.getTerminator()))
    return emitOpError("expects its condition region to end with "
                       "'lz.condition'");
  return success();
}

LogicalResult LoopOp::fold(FoldAdaptor adaptor,
                           SmallVectorImpl<OpFoldResult> &results) {
  // A counted loop that runs no step returns its initial state.
  auto count = dyn_cast_or_null<IntegerAttr>(adaptor.getCount());
  if (!count || count.getInt() > 0 || getNumResults() == 0)
    return failure();
  llvm::append_range(results, getInits());
  return success();
}

#define GET_OP_CLASSES
#include "Lz/LzOps.cpp.inc"
