//===- MLIRGen.cpp - Semantic analysis and IR generation ------------------===//
//
// Part of Leibniz.
//
// The generator walks each definition once, checking every expression as it
// builds its IR (see MLIRGenImpl.h). Errors stop the definition they occur
// in; the other definitions are still checked, so that one run reports the
// errors of several definitions.
//
//===----------------------------------------------------------------------===//

#include "MLIRGenImpl.h"

#include "AD/ADDialect.h"
#include "AD/ADOps.h"
#include "Lz/LzDialect.h"
#include "Lz/LzOps.h"
#include "leibniz/Frontend/Diagnostics.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::frontend;
using llvm::SMLoc;

/// How many function bodies one definition may inline (lambdas applied,
/// `map` bodies), so that nested lambdas can not blow up exponentially.
static constexpr unsigned kInlineBudget = 100000;

struct Program::Signatures {
  /// Definitions and lifted functions by name; stable addresses.
  std::map<std::string, Signature> byName;
  std::vector<std::string> atomNames;
};

Program::Program() = default;
Program::~Program() = default;
Program::Program(Program &&) = default;
Program &Program::operator=(Program &&) = default;

void leibniz::frontend::registerFrontendDialects(MLIRContext &context) {
  context.loadDialect<ad::ADDialect, lz::LzDialect, arith::ArithDialect,
                      func::FuncDialect, math::MathDialect, scf::SCFDialect,
                      tensor::TensorDialect>();
}

MLIRGenerator::MLIRGenerator(MLIRContext &context,
                             const llvm::SourceMgr &sourceMgr)
    : context(context), sourceMgr(sourceMgr), builder(&context),
      currentLoc(UnknownLoc::get(&context)),
      signatures(std::make_unique<Program::Signatures>()) {}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

Location MLIRGenerator::getLoc(SMLoc loc) {
  // What the builtins build has no place in the source of its own: it is
  // located at the expression being generated.
  if (!loc.isValid())
    return currentLoc;
  return getLocation(&context, sourceMgr, loc);
}

InFlightDiagnostic MLIRGenerator::emitError(SMLoc loc) {
  return mlir::emitError(getLoc(loc));
}

std::string MLIRGenerator::describe(const Ty &type) const {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os, [&](unsigned atom) { return atoms[atom].name; });
  return text;
}

std::string MLIRGenerator::describe(const SizeExpr &size) const {
  std::string text;
  llvm::raw_string_ostream os(text);
  size.print(os, [&](unsigned atom) { return atoms[atom].name; });
  return text;
}

std::string MLIRGenerator::describe(const Val &value) const {
  switch (value.kind) {
  case Val::Data:
    return describe(value.data.type);
  case Val::Function:
    return "a function";
  case Val::Config:
    return "the configuration '" + value.config->name + "(...)'";
  case Val::String:
    return "a string";
  }
  llvm_unreachable("unknown value kind");
}

std::string MLIRGenerator::suggest(StringRef name,
                                   ArrayRef<std::string> candidates) const {
  StringRef best;
  unsigned bestDistance = std::max<unsigned>(2, name.size() / 3) + 1;
  for (const std::string &candidate : candidates) {
    unsigned distance = name.edit_distance(candidate, true, bestDistance);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  if (best.empty())
    return "";
  return (" (did you mean '" + best + "'?)").str();
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

/// A double as an int64, saturating (NaN is 0): integer literals are exact
/// in a double (the frontend keeps larger ones out of literals), and
/// conversions of float literals are folded only in range.
static int64_t toInt64(double value) {
  if (!(value == value))
    return 0;
  if (value >= 0x1p63)
    return INT64_MAX;
  if (value < -0x1p63)
    return INT64_MIN;
  return static_cast<int64_t>(value);
}

/// A number as short as it can be written and read back exactly.
static std::string formatLiteral(double value) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  return buffer;
}

TValue MLIRGenerator::makeValue(Ty type, Value value) {
  TValue result;
  result.type = std::move(type);
  result.value = value;
  result.owner = current;
  return result;
}

TValue MLIRGenerator::makeLiteral(double value, ScalarKind kind, bool weak) {
  // A literal of a narrow type holds the value that type can represent, so
  // that folding computes what the program would.
  if (kind == ScalarKind::F32)
    value = std::abs(value) < 0x1.ffffffp127
                ? static_cast<float>(value)
                : std::copysign(std::numeric_limits<double>::infinity(), value);
  else if (kind == ScalarKind::I32)
    value = static_cast<int32_t>(static_cast<uint32_t>(toInt64(value)));
  TValue result;
  result.type = Ty::getScalar(kind);
  result.literal = value;
  result.weak = weak;
  result.owner = current;
  if (kind == ScalarKind::I64 && value >= 0 && value < 0x1p62)
    result.size = SizeExpr::getConstant(static_cast<int64_t>(value));
  return result;
}

Value MLIRGenerator::scalarConstant(ScalarKind kind, double value) {
  Location loc = currentLoc;
  switch (kind) {
  case ScalarKind::F32:
    return arith::ConstantOp::create(builder, loc,
                                     builder.getF32FloatAttr(value));
  case ScalarKind::F64:
    return arith::ConstantOp::create(builder, loc,
                                     builder.getF64FloatAttr(value));
  case ScalarKind::I32:
    return arith::ConstantOp::create(
        builder, loc,
        builder.getI32IntegerAttr(
            static_cast<int32_t>(static_cast<uint32_t>(toInt64(value)))));
  case ScalarKind::I64:
    return arith::ConstantOp::create(builder, loc,
                                     builder.getI64IntegerAttr(toInt64(value)));
  case ScalarKind::Bool:
    return arith::ConstantOp::create(builder, loc,
                                     builder.getBoolAttr(value != 0));
  }
  llvm_unreachable("unknown scalar kind");
}

Value MLIRGenerator::materialize(const TValue &value) {
  if (value.value)
    return use(value.value, value.owner);
  if (value.literal) {
    ScalarKind kind = value.type.scalar;
    if (value.weak && isInteger(kind))
      kind = ScalarKind::I64;
    return scalarConstant(kind, *value.literal);
  }
  if (value.type.isTuple())
    return materialize(makeTuple(value.elements));
  assert(value.size && "a value without an SSA value is a literal or a size");
  return toI64(materializeSize(*value.size));
}

Value MLIRGenerator::use(const TValue &value) { return materialize(value); }

Value MLIRGenerator::use(Value value, FunctionState *owner) {
  if (!owner || owner == current)
    return value;
  // Capture the value into every lifted function between its owner and
  // here, outermost first.
  std::function<Value(FunctionState *)> capture =
      [&](FunctionState *state) -> Value {
    if (state == owner)
      return value;
    auto it = state->captures.find(value);
    if (it != state->captures.end())
      return it->second;
    assert(state->parent && "a value used outside the function defining it");
    Value outer = capture(state->parent);
    Value arg = state->func.front().addArgument(outer.getType(), state->loc);
    state->captures[value] = arg;
    state->captured.push_back(outer);
    return arg;
  };
  return capture(current);
}

Value MLIRGenerator::castValue(Value value, Type type) {
  if (value.getType() == type)
    return value;
  Location loc = value.getLoc();
  if (isa<RankedTensorType>(type))
    return tensor::CastOp::create(builder, loc, type, value);
  auto tuple = cast<TupleType>(type);
  SmallVector<Value> elements;
  auto *tupleOp = value.getDefiningOp();
  for (auto [i, elementType] : llvm::enumerate(tuple.getTypes())) {
    Value element =
        isa_and_nonnull<lz::TupleOp>(tupleOp)
            ? tupleOp->getOperand(i)
            : lz::ProjOp::create(builder, loc, value, static_cast<int64_t>(i))
                  .getResult();
    elements.push_back(castValue(element, elementType));
  }
  return lz::TupleOp::create(builder, loc, elements);
}

Value MLIRGenerator::getIndexConstant(int64_t value) {
  return arith::ConstantIndexOp::create(builder, currentLoc, value);
}

Value MLIRGenerator::toIndex(Value value) {
  if (value.getType().isIndex())
    return value;
  if (auto cast = value.getDefiningOp<arith::IndexCastOp>())
    if (cast.getIn().getType().isIndex())
      return cast.getIn();
  return arith::IndexCastOp::create(builder, value.getLoc(),
                                    builder.getIndexType(), value);
}

Value MLIRGenerator::toI64(Value value) {
  if (value.getType().isInteger(64))
    return value;
  if (auto cast = value.getDefiningOp<arith::IndexCastOp>())
    if (cast.getIn().getType().isInteger(64))
      return cast.getIn();
  return arith::IndexCastOp::create(builder, value.getLoc(),
                                    builder.getI64Type(), value);
}

Value MLIRGenerator::materializeSize(const SizeExpr &size) {
  if (std::optional<int64_t> constant = size.getConstantValue())
    return getIndexConstant(*constant);
  Location loc = currentLoc;
  Value sum;
  for (const auto &[monomial, coefficient] : size.getTerms()) {
    Value product;
    for (unsigned atom : monomial) {
      Value factor = use(atoms[atom].value, atoms[atom].owner);
      product =
          product
              ? arith::MulIOp::create(builder, loc, product, factor).getResult()
              : factor;
    }
    if (!product)
      product = getIndexConstant(coefficient);
    else if (coefficient != 1)
      product = arith::MulIOp::create(builder, loc, product,
                                      getIndexConstant(coefficient));
    sum = sum ? arith::AddIOp::create(builder, loc, sum, product).getResult()
              : product;
  }
  return sum;
}

unsigned MLIRGenerator::newAtom(std::string name, Value value) {
  atoms.push_back(AtomInfo{std::move(name), value, current, depth});
  return atoms.size() - 1;
}

SizeExpr MLIRGenerator::toSize(const TValue &value, StringRef name) {
  if (value.size)
    return *value.size;
  Value scalar = materialize(value);
  // A value of the function's entry block (an argument, a `let` outside
  // every scope) gives one atom, whose index follows the value: it is in
  // scope everywhere below, at the function's top level (depth 0).
  Block *entry = current && current->func && !current->func.getBody().empty()
                     ? &current->func.getBody().front()
                     : nullptr;
  Block *defined = isa<BlockArgument>(scalar)
                       ? cast<BlockArgument>(scalar).getOwner()
                       : scalar.getDefiningOp()->getBlock();
  if (!entry || defined != entry)
    return SizeExpr::getAtom(newAtom(name.str(), toIndex(scalar)));
  // The owner first: a key may be a value of a function erased before.
  if (auto known = valueAtoms.find(scalar);
      known != valueAtoms.end() && atoms[known->second].owner == current)
    return SizeExpr::getAtom(known->second);
  OpBuilder::InsertionGuard guard(builder);
  if (isa<BlockArgument>(scalar))
    builder.setInsertionPointToStart(entry);
  else
    builder.setInsertionPointAfterValue(scalar);
  unsigned atom = newAtom(name.str(), toIndex(scalar));
  atoms[atom].depth = 0;
  valueAtoms[scalar] = atom;
  return SizeExpr::getAtom(atom);
}

Ty MLIRGenerator::localizeSizes(const Ty &type, Value value,
                                llvm::function_ref<bool(unsigned)> isForeign) {
  if (type.isTuple()) {
    Ty result = type;
    for (auto [i, element] : llvm::enumerate(result.elements)) {
      bool needed = false;
      element.walkSizes([&](const SizeExpr &size) {
        needed |= llvm::any_of(size.getAtoms(), isForeign);
      });
      if (!needed)
        continue;
      Value projected = lz::ProjOp::create(builder, value.getLoc(), value,
                                           static_cast<int64_t>(i));
      element = localizeSizes(element, projected, isForeign);
    }
    return result;
  }
  Ty result = type;
  for (auto [i, dim] : llvm::enumerate(result.dims)) {
    if (!llvm::any_of(dim.getAtoms(), isForeign))
      continue;
    std::string name = describe(dim);
    Value size = tensor::DimOp::create(builder, value.getLoc(), value,
                                       static_cast<int64_t>(i));
    dim = SizeExpr::getAtom(newAtom(name, size));
  }
  return result;
}

FailureOr<TValue> MLIRGenerator::coerce(SMLoc loc, TValue value,
                                        ScalarKind kind) {
  if (!value.type.isScalar())
    return value;
  if (!value.weak) {
    return value;
  }
  if (kind == ScalarKind::Bool) {
    emitError(loc) << "expected a bool, not the number "
                   << formatLiteral(*value.literal);
    return failure();
  }
  if (isInteger(kind) && value.type.scalar != ScalarKind::I64) {
    emitError(loc) << "the float literal " << formatLiteral(*value.literal)
                   << " cannot be an integer (" << getScalarName(kind) << ")";
    return failure();
  }
  TValue result = makeLiteral(*value.literal, kind, false);
  if (kind != ScalarKind::I64)
    result.size.reset();
  return result;
}

FailureOr<TValue> MLIRGenerator::coerceTo(SMLoc loc, TValue value,
                                          const Ty &type, StringRef what) {
  if (value.weak && type.isScalar() && value.type.isScalar()) {
    if (type.scalar == ScalarKind::Bool ||
        (isInteger(type.scalar) && value.type.scalar != ScalarKind::I64)) {
      emitError(loc) << what << " has type " << describe(value.type) << " but "
                     << describe(type) << " is expected";
      return failure();
    }
    return coerce(loc, value, type.scalar);
  }
  if (value.type != type) {
    emitError(loc) << what << " has type " << describe(value.type) << " but "
                   << describe(type) << " is expected";
    return failure();
  }
  return value;
}

LogicalResult MLIRGenerator::unifyScalars(SMLoc loc, TValue &lhs, TValue &rhs,
                                          StringRef what) {
  ScalarKind a = lhs.type.scalar, b = rhs.type.scalar;
  if (lhs.weak && !rhs.weak) {
    FailureOr<TValue> coerced = coerce(loc, lhs, b);
    if (failed(coerced))
      return failure();
    lhs = *coerced;
    return success();
  }
  if (rhs.weak && !lhs.weak) {
    FailureOr<TValue> coerced = coerce(loc, rhs, a);
    if (failed(coerced))
      return failure();
    rhs = *coerced;
    return success();
  }
  if (lhs.weak && rhs.weak) {
    // `1 + 2.5`: both become f64.
    ScalarKind common = isFloat(a) || isFloat(b) ? ScalarKind::F64 : a;
    lhs.type.scalar = rhs.type.scalar = common;
    return success();
  }
  if (a != b) {
    emitError(loc) << "the operands of " << what
                   << " have different element types: " << describe(lhs.type)
                   << " and " << describe(rhs.type)
                   << "; convert one with f32(...), f64(...) or i64(...)";
    return failure();
  }
  return success();
}

Value MLIRGenerator::scalarConvert(Value value, ScalarKind from,
                                   ScalarKind to) {
  if (from == to)
    return value;
  // At the conversion, not at the value (an argument is at its function).
  Location loc = currentLoc;
  Type type = getScalarType(&context, to);
  if (isFloat(from) && isFloat(to))
    return to == ScalarKind::F64
               ? arith::ExtFOp::create(builder, loc, type, value).getResult()
               : arith::TruncFOp::create(builder, loc, type, value).getResult();
  if (isFloat(from)) {
    if (to == ScalarKind::Bool)
      return arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::UNE,
                                   value, scalarConstant(from, 0));
    return arith::FPToSIOp::create(builder, loc, type, value);
  }
  if (from == ScalarKind::Bool) {
    if (isFloat(to))
      return arith::UIToFPOp::create(builder, loc, type, value);
    return arith::ExtUIOp::create(builder, loc, type, value);
  }
  // From an integer.
  if (isFloat(to))
    return arith::SIToFPOp::create(builder, loc, type, value);
  if (to == ScalarKind::Bool)
    return arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ne, value,
                                 scalarConstant(from, 0));
  return to == ScalarKind::I64
             ? arith::ExtSIOp::create(builder, loc, type, value).getResult()
             : arith::TruncIOp::create(builder, loc, type, value).getResult();
}

Value MLIRGenerator::scalarBinary(Token::Kind op, ScalarKind kind, Value lhs,
                                  Value rhs) {
  Location loc = currentLoc;
  bool fp = isFloat(kind);
  switch (op) {
  case Token::plus:
    return fp ? arith::AddFOp::create(builder, loc, lhs, rhs).getResult()
              : arith::AddIOp::create(builder, loc, lhs, rhs).getResult();
  case Token::minus:
    return fp ? arith::SubFOp::create(builder, loc, lhs, rhs).getResult()
              : arith::SubIOp::create(builder, loc, lhs, rhs).getResult();
  case Token::star:
    return fp ? arith::MulFOp::create(builder, loc, lhs, rhs).getResult()
              : arith::MulIOp::create(builder, loc, lhs, rhs).getResult();
  case Token::slash:
    return fp ? arith::DivFOp::create(builder, loc, lhs, rhs).getResult()
              : arith::DivSIOp::create(builder, loc, lhs, rhs).getResult();
  case Token::percent: {
    assert(!fp && "'%' is checked to have integer operands");
    // `min % -1` is 0, but `llvm.srem` overflows there (x86 traps): a
    // divisor of -1 divides as 1.
    APInt divisor;
    if (!matchPattern(rhs, m_ConstantInt(&divisor)) || divisor.isAllOnes()) {
      Value minusOne = scalarConstant(kind, -1);
      Value isMinusOne = arith::CmpIOp::create(
          builder, loc, arith::CmpIPredicate::eq, rhs, minusOne);
      rhs = arith::SelectOp::create(builder, loc, isMinusOne,
                                    scalarConstant(kind, 1), rhs);
    }
    return arith::RemSIOp::create(builder, loc, lhs, rhs);
  }
  case Token::caret:
    return fp ? math::PowFOp::create(builder, loc, lhs, rhs).getResult()
              : math::IPowIOp::create(builder, loc, lhs, rhs).getResult();
  case Token::amp_amp:
    return arith::AndIOp::create(builder, loc, lhs, rhs);
  case Token::pipe_pipe:
    return arith::OrIOp::create(builder, loc, lhs, rhs);
  default:
    break;
  }
  if (fp) {
    arith::CmpFPredicate predicate;
    switch (op) {
    case Token::less:
      predicate = arith::CmpFPredicate::OLT;
      break;
    case Token::less_equal:
      predicate = arith::CmpFPredicate::OLE;
      break;
    case Token::greater:
      predicate = arith::CmpFPredicate::OGT;
      break;
    case Token::greater_equal:
      predicate = arith::CmpFPredicate::OGE;
      break;
    case Token::equal_equal:
      predicate = arith::CmpFPredicate::OEQ;
      break;
    default:
      predicate = arith::CmpFPredicate::UNE;
      break;
    }
    return arith::CmpFOp::create(builder, loc, predicate, lhs, rhs);
  }
  arith::CmpIPredicate predicate;
  switch (op) {
  case Token::less:
    predicate = arith::CmpIPredicate::slt;
    break;
  case Token::less_equal:
    predicate = arith::CmpIPredicate::sle;
    break;
  case Token::greater:
    predicate = arith::CmpIPredicate::sgt;
    break;
  case Token::greater_equal:
    predicate = arith::CmpIPredicate::sge;
    break;
  case Token::equal_equal:
    predicate = arith::CmpIPredicate::eq;
    break;
  default:
    predicate = arith::CmpIPredicate::ne;
    break;
  }
  return arith::CmpIOp::create(builder, loc, predicate, lhs, rhs);
}

TValue MLIRGenerator::getElement(const TValue &tensor,
                                 ArrayRef<TValue> indices) {
  SmallVector<Value> indexValues;
  for (const TValue &index : indices)
    indexValues.push_back(toIndex(materialize(index)));
  Value element =
      lz::GetOp::create(builder, currentLoc, materialize(tensor), indexValues);
  Ty type =
      Ty::getTensor(tensor.type.scalar,
                    ArrayRef(tensor.type.dims).drop_front(indices.size()));
  return makeValue(type, element);
}

TValue MLIRGenerator::project(const TValue &tuple, unsigned index) {
  Ty type = tuple.type.elements[index];
  if (!tuple.value)
    return tuple.elements[index];
  Value value = materialize(tuple);
  if (auto tupleOp = value.getDefiningOp<lz::TupleOp>())
    return makeValue(type, tupleOp.getElements()[index]);
  return makeValue(type, lz::ProjOp::create(builder, value.getLoc(), value,
                                            static_cast<int64_t>(index)));
}

TValue MLIRGenerator::makeLazyTuple(ArrayRef<TValue> elements) {
  std::vector<Ty> types;
  for (const TValue &element : elements)
    types.push_back(element.type);
  TValue tuple;
  tuple.type = Ty::getTuple(std::move(types));
  tuple.owner = current;
  tuple.elements.assign(elements.begin(), elements.end());
  return tuple;
}

TValue MLIRGenerator::makeTuple(ArrayRef<TValue> elements) {
  std::vector<Ty> types;
  SmallVector<Value> values;
  for (const TValue &element : elements) {
    types.push_back(element.type);
    values.push_back(materialize(element));
  }
  return makeValue(Ty::getTuple(std::move(types)),
                   lz::TupleOp::create(builder, currentLoc, values));
}

//===----------------------------------------------------------------------===//
// Scopes
//===----------------------------------------------------------------------===//

namespace {
/// The body of a scope while it is generated: a block not yet attached to
/// an op, whose arguments are the index variables.
class ScopeBuilder {
public:
  ScopeBuilder(MLIRGenerator &gen, unsigned numIndices)
      : gen(gen), block(new Block()), saved(gen.builder.saveInsertionPoint()) {
    for (unsigned i = 0; i < numIndices; ++i)
      block->addArgument(gen.builder.getIndexType(), gen.currentLoc);
    gen.builder.setInsertionPointToStart(block);
    for (BlockArgument arg : block->getArguments()) {
      Value index = gen.toI64(arg);
      casts.push_back(index.getDefiningOp());
      indices.push_back(gen.makeValue(Ty::getScalar(ScalarKind::I64), index));
    }
    ++gen.depth;
  }
  ~ScopeBuilder() {
    restore();
    if (block) {
      block->dropAllDefinedValueUses();
      delete block;
    }
  }

  /// Back to the code around the scope.
  void restore() {
    if (restored)
      return;
    gen.builder.restoreInsertionPoint(saved);
    --gen.depth;
    restored = true;
  }

  /// Erases the conversions of index variables that the body does not use.
  void eraseUnusedCasts() {
    for (Operation *cast : casts)
      if (cast->use_empty())
        cast->erase();
    casts.clear();
  }

  /// Moves the body into the (empty) entry block of `region`.
  void moveInto(Region &region) {
    eraseUnusedCasts();
    Block &target = region.front();
    for (auto [from, to] :
         llvm::zip(block->getArguments(), target.getArguments()))
      from.replaceAllUsesWith(to);
    target.getOperations().splice(target.end(), block->getOperations());
    delete block;
    block = nullptr;
  }

  /// Moves the body into `region` as its only block.
  void moveBlockInto(Region &region) {
    eraseUnusedCasts();
    region.push_back(block);
    block = nullptr;
  }

  MLIRGenerator &gen;
  Block *block;
  OpBuilder::InsertPoint saved;
  SmallVector<TValue, 2> indices;
  SmallVector<Operation *> casts;
  bool restored = false;
};
} // namespace

/// True if `type` mentions an atom defined deeper than `depth`.
static bool dependsOnInnerAtoms(const Ty &type, ArrayRef<AtomInfo> atoms,
                                unsigned depth) {
  bool found = false;
  type.walkSizes([&](const SizeExpr &size) {
    for (unsigned atom : size.getAtoms())
      found |= atoms[atom].depth > depth;
  });
  return found;
}

/// Builds a scope op of kind `kind` (kw_for or a reduction) over `ranges`
/// from a finished body.
static FailureOr<TValue> finishScope(MLIRGenerator &gen, SMLoc loc,
                                     Token::Kind kind, ScopeBuilder &scope,
                                     ArrayRef<SizeExpr> ranges,
                                     FailureOr<TValue> body) {
  if (failed(body))
    return failure();
  if (!body->type.isArray()) {
    gen.emitError(loc) << "the body of a scope must be a scalar or a tensor, "
                          "not "
                       << gen.describe(body->type);
    return failure();
  }
  if (body->weak) {
    body = gen.coerce(loc, *body, body->type.scalar);
    body->weak = false;
  }
  if (kind != Token::kw_for && body->type.scalar == ScalarKind::Bool) {
    gen.emitError(loc) << "cannot reduce bool values";
    return failure();
  }
  if (dependsOnInnerAtoms(body->type, gen.atoms, gen.depth - 1)) {
    gen.emitError(loc) << "the shape of the body, " << gen.describe(body->type)
                       << ", depends on values computed inside the scope; "
                          "every point of a scope must have the same shape";
    return failure();
  }
  Value yielded = gen.materialize(*body);
  lz::YieldOp::create(gen.builder, gen.getLoc(loc), yielded);
  scope.restore();

  SmallVector<Value> rangeValues;
  for (const SizeExpr &range : ranges)
    rangeValues.push_back(gen.materializeSize(range));
  Ty resultType = body->type;
  if (kind == Token::kw_for) {
    SmallVector<SizeExpr> dims(ranges);
    dims.append(body->type.dims.begin(), body->type.dims.end());
    resultType = Ty::getTensor(body->type.scalar, dims);
  }
  Type irType = resultType.getMLIRType(&gen.context);
  Location irLoc = gen.getLoc(loc);
  Operation *op;
  switch (kind) {
  case Token::kw_for:
    op = lz::ForOp::create(gen.builder, irLoc, TypeRange{irType}, rangeValues,
                           nullptr);
    break;
  case Token::kw_sum:
    op = lz::SumOp::create(gen.builder, irLoc, irType, rangeValues, nullptr);
    break;
  case Token::kw_prod:
    op = lz::ProdOp::create(gen.builder, irLoc, irType, rangeValues, nullptr);
    break;
  case Token::kw_max:
    op = lz::MaxOp::create(gen.builder, irLoc, irType, rangeValues, nullptr);
    break;
  default:
    op = lz::MinOp::create(gen.builder, irLoc, irType, rangeValues, nullptr);
    break;
  }
  scope.moveInto(op->getRegion(0));
  return gen.makeValue(resultType, op->getResult(0));
}

FailureOr<TValue> MLIRGenerator::buildFor(
    ArrayRef<SizeExpr> ranges,
    llvm::function_ref<FailureOr<TValue>(ArrayRef<TValue>)> body) {
  ScopeBuilder scope(*this, ranges.size());
  FailureOr<TValue> result = body(scope.indices);
  return finishScope(*this, SMLoc(), Token::kw_for, scope, ranges, result);
}

FailureOr<TValue> MLIRGenerator::buildReduction(
    Token::Kind kind, ArrayRef<SizeExpr> ranges,
    llvm::function_ref<FailureOr<TValue>(ArrayRef<TValue>)> body) {
  ScopeBuilder scope(*this, ranges.size());
  FailureOr<TValue> result = body(scope.indices);
  return finishScope(*this, SMLoc(), kind, scope, ranges, result);
}

FailureOr<TValue>
MLIRGenerator::elementwise(SMLoc loc, ArrayRef<TValue> operands,
                           ScalarKind resultKind, StringRef what,
                           llvm::function_ref<Value(ArrayRef<Value>)> fn) {
  const TValue *shaped = nullptr;
  for (const TValue &operand : operands) {
    if (!operand.type.isArray()) {
      emitError(loc) << what << " needs scalars or tensors, not "
                     << describe(operand.type);
      return failure();
    }
    if (!operand.type.isTensor())
      continue;
    if (!shaped) {
      shaped = &operand;
      continue;
    }
    if (operand.type.dims != shaped->type.dims) {
      emitError(loc) << "shape mismatch in " << what << ": "
                     << describe(shaped->type) << " and "
                     << describe(operand.type);
      return failure();
    }
  }
  if (!shaped) {
    SmallVector<Value> scalars;
    for (const TValue &operand : operands)
      scalars.push_back(materialize(operand));
    return makeValue(Ty::getScalar(resultKind), fn(scalars));
  }
  return buildFor(
      shaped->type.dims, [&](ArrayRef<TValue> indices) -> FailureOr<TValue> {
        SmallVector<Value> scalars;
        for (const TValue &operand : operands)
          scalars.push_back(operand.type.isTensor()
                                ? materialize(getElement(operand, indices))
                                : materialize(operand));
        return makeValue(Ty::getScalar(resultKind), fn(scalars));
      });
}

//===----------------------------------------------------------------------===//
// Types in the source
//===----------------------------------------------------------------------===//

namespace {
/// Resolves the sizes of type annotations against the names in scope.
struct TypeResolver {
  MLIRGenerator &gen;

  FailureOr<SizeExpr> resolveSize(const ExprAST &expr) {
    if (auto *number = dyn_cast<NumberExprAST>(&expr)) {
      int64_t value;
      if (number->isFloat ||
          StringRef(number->spelling).getAsInteger(10, value)) {
        gen.emitError(expr.getLoc())
            << "a size must be a non-negative integer, not "
            << number->spelling;
        return failure();
      }
      return SizeExpr::getConstant(value);
    }
    if (auto *var = dyn_cast<VarExprAST>(&expr)) {
      for (auto it = gen.env.rbegin(); it != gen.env.rend(); ++it) {
        if (it->first != var->name)
          continue;
        if (it->second.kind == Val::Data && it->second.data.size)
          return *it->second.data.size;
        break;
      }
      std::vector<std::string> sizes;
      for (const auto &[name, value] : gen.env)
        if (value.kind == Val::Data && value.data.size)
          sizes.push_back(name);
      gen.emitError(expr.getLoc())
          << "'" << var->name << "' is not a size parameter"
          << gen.suggest(var->name, sizes)
          << "; a size is an integer, a size parameter, or +, -, * of those";
      return failure();
    }
    if (auto *binary = dyn_cast<BinaryExprAST>(&expr)) {
      if (binary->op == Token::plus || binary->op == Token::minus ||
          binary->op == Token::star) {
        FailureOr<SizeExpr> lhs = resolveSize(*binary->lhs);
        if (failed(lhs))
          return failure();
        FailureOr<SizeExpr> rhs = resolveSize(*binary->rhs);
        if (failed(rhs))
          return failure();
        if (binary->op == Token::plus)
          return *lhs + *rhs;
        if (binary->op == Token::minus)
          return *lhs - *rhs;
        return *lhs * *rhs;
      }
    }
    gen.emitError(expr.getLoc())
        << "a size is an integer, a size parameter, or +, -, * of those";
    return failure();
  }

  FailureOr<Ty> resolve(const TypeAST &type) {
    if (type.isTuple) {
      std::vector<Ty> elements;
      for (const TypeAST &element : type.elements) {
        FailureOr<Ty> resolved = resolve(element);
        if (failed(resolved))
          return failure();
        elements.push_back(*resolved);
      }
      return Ty::getTuple(std::move(elements));
    }
    std::optional<ScalarKind> kind = parseScalarName(type.elementType);
    if (!kind) {
      gen.emitError(type.loc)
          << "unknown type '" << type.elementType << "'"
          << gen.suggest(type.elementType, {"f32", "f64", "i32", "i64", "bool"})
          << "; the element types are f32, f64, i32, i64 and bool";
      return failure();
    }
    if (!type.isTensor)
      return Ty::getScalar(*kind);
    SmallVector<SizeExpr> dims;
    for (const ExprPtr &dim : type.dims) {
      FailureOr<SizeExpr> size = resolveSize(*dim);
      if (failed(size))
        return failure();
      if (std::optional<int64_t> value = size->getConstantValue();
          value && *value < 0) {
        gen.emitError(dim->getLoc()) << "a size must not be negative";
        return failure();
      }
      dims.push_back(*size);
    }
    return Ty::getTensor(*kind, dims);
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// Definitions
//===----------------------------------------------------------------------===//

namespace {
/// Saves where the generator is, to generate another function meanwhile.
class GeneratorStateGuard {
public:
  explicit GeneratorStateGuard(MLIRGenerator &gen)
      : gen(gen), insertion(gen.builder.saveInsertionPoint()),
        current(gen.current), env(std::move(gen.env)), depth(gen.depth) {
    gen.env.clear();
  }
  ~GeneratorStateGuard() {
    gen.builder.restoreInsertionPoint(insertion);
    gen.current = current;
    gen.env = std::move(env);
    gen.depth = depth;
  }

private:
  MLIRGenerator &gen;
  OpBuilder::InsertPoint insertion;
  FunctionState *current;
  Env env;
  unsigned depth;
};
} // namespace

const DefAST *MLIRGenerator::lookupDef(StringRef name) const {
  return (inLibrary ? libraryDefs : defs).lookup(name);
}

std::string MLIRGenerator::getSymbol(const DefAST &def) const {
  return isLibraryDef(def) ? ad::getStdSymbol(def.name) : def.name;
}

FailureOr<const Signature *> MLIRGenerator::getSignature(const DefAST &def) {
  std::string symbol = getSymbol(def);
  if (failedDefs.count(symbol))
    return failure();
  if (!inProgress.count(symbol)) {
    auto it = signatures->byName.find(symbol);
    if (it != signatures->byName.end() && it->second.func)
      return &it->second;
  } else {
    InFlightDiagnostic diag =
        emitError(useSites.empty() ? def.loc : useSites.back());
    diag << "'" << def.name
         << "' calls itself; recursive definitions are not supported (use a "
            "loop)";
    return failure();
  }
  inProgress[symbol] = true;
  bool wasInLibrary = inLibrary;
  llvm::scope_exit done([&] {
    inProgress.erase(symbol);
    inLibrary = wasInLibrary;
  });
  inLibrary = isLibraryDef(def);
  GeneratorStateGuard guard(*this);
  Signature &signature = signatures->byName[symbol];
  signature.name = def.name;
  if (failed(generateDef(def, signature))) {
    failedDefs[symbol] = true;
    if (signature.func)
      signature.func.erase();
    signatures->byName.erase(symbol);
    return failure();
  }
  return &signatures->byName[symbol];
}

namespace {
/// A tensor inside a parameter: which parameter, the projections that lead
/// to it, and its type.
struct TensorPath {
  unsigned param;
  SmallVector<int64_t> projections;
  const Ty *type;
};
} // namespace

static void collectTensors(const Ty &type, unsigned param,
                           SmallVector<int64_t> &path,
                           SmallVectorImpl<TensorPath> &out) {
  if (type.isTensor()) {
    out.push_back(TensorPath{param, path, &type});
    return;
  }
  for (auto [i, element] : llvm::enumerate(type.elements)) {
    path.push_back(i);
    collectTensors(element, param, path, out);
    path.pop_back();
  }
}

LogicalResult MLIRGenerator::generateDef(const DefAST &def,
                                         Signature &signature) {
  auto &states = functionStates;
  states.push_back(std::make_unique<FunctionState>(nullptr, getLoc(def.loc)));
  FunctionState *state = states.back().get();
  current = state;

  // Size parameters are atoms; their values are read from the arguments.
  for (const ParamAST &sizeParam : def.sizeParams) {
    for (unsigned atom : signature.sizeParams)
      if (atoms[atom].name == sizeParam.name) {
        emitError(sizeParam.loc)
            << "duplicate size parameter '" << sizeParam.name << "'";
        return failure();
      }
    unsigned atom = newAtom(sizeParam.name, Value());
    signature.sizeParams.push_back(atom);
    TValue value;
    value.type = Ty::getScalar(ScalarKind::I64);
    value.owner = state;
    value.size = SizeExpr::getAtom(atom);
    env.emplace_back(sizeParam.name, Val::getData(value));
  }

  TypeResolver resolver{*this};
  for (const ParamAST &param : def.params) {
    if (llvm::is_contained(signature.paramNames, param.name)) {
      emitError(param.loc) << "duplicate parameter '" << param.name << "'";
      return failure();
    }
    FailureOr<Ty> type = resolver.resolve(*param.type);
    if (failed(type))
      return failure();
    signature.paramNames.push_back(param.name);
    signature.params.push_back(*type);
  }
  std::optional<Ty> declaredResult;
  if (def.returnType) {
    FailureOr<Ty> type = resolver.resolve(*def.returnType);
    if (failed(type))
      return failure();
    declaredResult = *type;
  }

  // The function, with its result type set once the body is known.
  SmallVector<Type> inputs;
  for (const Ty &param : signature.params)
    inputs.push_back(param.getMLIRType(&context));
  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, getLoc(def.loc), getSymbol(def),
                                   builder.getFunctionType(inputs, {}));
  signature.func = func;
  state->func = func;
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);

  // Read every size parameter from the first size that determines it.
  SmallVector<TensorPath, 2> tensors;
  for (auto [i, param] : llvm::enumerate(signature.params)) {
    SmallVector<int64_t> path;
    collectTensors(param, i, path, tensors);
  }
  for (auto [i, atom] : llvm::enumerate(signature.sizeParams)) {
    for (const TensorPath &tensor : tensors) {
      for (auto [d, dim] : llvm::enumerate(tensor.type->dims)) {
        auto linear = dim.getLinearForm();
        if (!linear || std::get<0>(*linear) != atom)
          continue;
        auto [_, scale, offset] = *linear;
        Location loc = func.getLoc();
        Value value = entry->getArgument(tensor.param);
        for (int64_t index : tensor.projections)
          value = lz::ProjOp::create(builder, loc, value, index);
        Value size =
            tensor::DimOp::create(builder, loc, value, static_cast<int64_t>(d));
        if (offset != 0)
          size = arith::SubIOp::create(builder, loc, size,
                                       getIndexConstant(offset));
        if (scale != 1)
          size = arith::DivSIOp::create(builder, loc, size,
                                        getIndexConstant(scale));
        atoms[atom].value = size;
        break;
      }
      if (atoms[atom].value)
        break;
    }
    if (!atoms[atom].value) {
      emitError(def.sizeParams[i].loc)
          << "size parameter '" << atoms[atom].name
          << "' is not determined by the parameter types; use it alone or "
             "as 'a * "
          << atoms[atom].name << " + b' in the size of a parameter";
      return failure();
    }
  }

  // The dimensions of tensor parameters that the types make equal, which
  // every call checks: rewrite rules read sizes from the first of each
  // group (`dim-equal`), so that equal sizes are one value in the IR.
  std::map<std::map<SizeExpr::Monomial, int64_t>, SmallVector<int64_t>>
      equalSizes;
  for (const TensorPath &tensor : tensors) {
    if (!tensor.projections.empty())
      continue;
    for (auto [d, dim] : llvm::enumerate(tensor.type->dims)) {
      if (dim.getAtoms().empty())
        continue;
      SmallVector<int64_t> &group = equalSizes[dim.getTerms()];
      group.push_back(tensor.param);
      group.push_back(d);
    }
  }
  SmallVector<Attribute> groups;
  for (auto &[_, group] : equalSizes)
    if (group.size() > 2)
      groups.push_back(builder.getDenseI64ArrayAttr(group));
  if (!groups.empty())
    func->setAttr(lz::kEqualSizesAttrName, builder.getArrayAttr(groups));

  for (auto [i, param] : llvm::enumerate(signature.params))
    env.emplace_back(signature.paramNames[i],
                     Val::getData(makeValue(param, entry->getArgument(i))));

  expectedType = declaredResult ? &*declaredResult : nullptr;
  FailureOr<Val> body = gen(*def.body);
  if (failed(body))
    return failure();
  if (body->kind != Val::Data) {
    emitError(def.body->getLoc())
        << "a definition must return data, not " << describe(*body);
    return failure();
  }
  TValue result = body->data;
  if (declaredResult) {
    FailureOr<TValue> coerced =
        coerceTo(def.body->getLoc(), result, *declaredResult, "the body");
    if (failed(coerced))
      return failure();
    result = *coerced;
  } else if (result.weak) {
    result = *coerce(def.body->getLoc(), result, result.type.scalar);
  }
  signature.result = result.type;
  Type resultType = result.type.getMLIRType(&context);
  // A lazy tuple is made here, at the body.
  Location savedLoc = std::exchange(currentLoc, getLoc(def.body->getLoc()));
  func::ReturnOp::create(builder, currentLoc,
                         castValue(materialize(result), resultType));
  currentLoc = savedLoc;
  func.setFunctionType(builder.getFunctionType(inputs, resultType));
  return success();
}

FailureOr<Ty> MLIRGenerator::unifyCall(SMLoc loc, const Signature &signature,
                                       MutableArrayRef<TValue> args) {
  if (args.size() != signature.params.size()) {
    emitError(loc) << "'" << signature.name << "' takes "
                   << signature.params.size() << " argument"
                   << (signature.params.size() == 1 ? "" : "s") << " but "
                   << args.size() << (args.size() == 1 ? " was" : " were")
                   << " given";
    return failure();
  }
  auto argName = [&](unsigned i) {
    return "argument " + std::to_string(i + 1) + " of '" + signature.name +
           "' ('" + signature.paramNames[i] + "')";
  };
  // The structure must match exactly; collect the pairs of sizes.
  std::vector<std::tuple<SizeExpr, SizeExpr, unsigned>> pairs;
  std::function<bool(const Ty &, const Ty &, unsigned)> match =
      [&](const Ty &param, const Ty &arg, unsigned i) {
        if (param.kind != arg.kind || param.scalar != arg.scalar ||
            param.dims.size() != arg.dims.size() ||
            param.elements.size() != arg.elements.size())
          return false;
        for (auto [p, a] : llvm::zip(param.dims, arg.dims))
          pairs.emplace_back(p, a, i);
        for (auto [p, a] : llvm::zip(param.elements, arg.elements))
          if (!match(p, a, i))
            return false;
        return true;
      };
  for (auto [i, arg] : llvm::enumerate(args)) {
    const Ty &param = signature.params[i];
    if (arg.weak && param.isScalar()) {
      FailureOr<TValue> coerced = coerceTo(loc, arg, param, argName(i));
      if (failed(coerced))
        return failure();
      arg = *coerced;
    }
    if (!match(param, arg.type, i)) {
      emitError(loc) << argName(i) << " has type " << describe(arg.type)
                     << " but the parameter has type " << describe(param);
      return failure();
    }
  }
  // Solve for the size parameters.
  llvm::DenseMap<unsigned, SizeExpr> bindings;
  auto lookup = [&](unsigned atom) -> std::optional<SizeExpr> {
    auto it = bindings.find(atom);
    if (it == bindings.end())
      return std::nullopt;
    return it->second;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto &[param, arg, i] : pairs) {
      auto linear = param.substitute(lookup).getLinearForm();
      if (!linear || bindings.count(std::get<0>(*linear)) ||
          !llvm::is_contained(signature.sizeParams, std::get<0>(*linear)))
        continue;
      auto [atom, scale, offset] = *linear;
      std::optional<SizeExpr> solution =
          (arg - SizeExpr::getConstant(offset)).divideExactly(scale);
      if (!solution) {
        emitError(loc) << "cannot infer size parameter '" << atoms[atom].name
                       << "' of '" << signature.name << "': " << describe(param)
                       << " = " << describe(arg) << " has no integer solution";
        return failure();
      }
      bindings[atom] = *solution;
      changed = true;
    }
  }
  for (unsigned atom : signature.sizeParams) {
    if (!bindings.count(atom)) {
      emitError(loc) << "cannot infer size parameter '" << atoms[atom].name
                     << "' of '" << signature.name << "' from the arguments";
      return failure();
    }
  }
  for (const auto &[param, arg, i] : pairs) {
    if (param.substitute(lookup) == arg)
      continue;
    emitError(loc) << argName(i) << " has type " << describe(args[i].type)
                   << " but "
                   << describe(signature.params[i].substitute(lookup))
                   << " is expected here (the parameter has type "
                   << describe(signature.params[i]) << ")";
    return failure();
  }
  return signature.result.substitute(lookup);
}

/// True if `state` is `ancestor` or lifted from it.
static bool isWithin(FunctionState *state, FunctionState *ancestor) {
  for (; state; state = state->parent)
    if (state == ancestor)
      return true;
  return false;
}

TValue MLIRGenerator::makeLocalValue(Ty type, Value value) {
  Ty localType = localizeSizes(type, value, [&](unsigned atom) {
    return !isWithin(current, atoms[atom].owner);
  });
  return makeValue(localType,
                   castValue(value, localType.getMLIRType(&context)));
}

FailureOr<Val> MLIRGenerator::callDef(SMLoc loc, const Signature &signature,
                                      ArrayRef<Val> args) {
  SmallVector<TValue, 2> values;
  for (auto [i, arg] : llvm::enumerate(args)) {
    if (arg.kind != Val::Data) {
      emitError(loc) << "argument " << i + 1 << " of '" << signature.name
                     << "' must be data, not " << describe(arg);
      return failure();
    }
    values.push_back(arg.data);
  }
  FailureOr<Ty> resultType = unifyCall(loc, signature, values);
  if (failed(resultType))
    return failure();
  SmallVector<Value> operands;
  for (auto [value, param] : llvm::zip(values, signature.params))
    operands.push_back(
        castValue(materialize(value), param.getMLIRType(&context)));
  auto call =
      func::CallOp::create(builder, getLoc(loc), signature.func, operands);
  return Val::getData(makeLocalValue(*resultType, call.getResult(0)));
}

FailureOr<const Signature *>
MLIRGenerator::liftFunction(SMLoc loc, const FnValue &fn,
                            ArrayRef<TValue> args) {
  if (fn.kind == FnValue::Def) {
    useSites.push_back(loc);
    llvm::scope_exit popSite([&] { useSites.pop_back(); });
    return getSignature(*fn.def);
  }

  auto &states = functionStates;
  FunctionState *parent = current;
  states.push_back(std::make_unique<FunctionState>(parent, getLoc(loc)));
  FunctionState *state = states.back().get();

  // Two `$` keep lifted names apart from the program's definitions, whose
  // names have none, and from the library's `std$<name>`, which have one.
  std::string name = (parent->func.getName() + "$" +
                      (fn.kind == FnValue::Lambda ? "lambda" : fn.name) + "$" +
                      std::to_string(numLifted++))
                         .str();
  Signature &signature = signatures->byName[name];
  signature.name = name;

  GeneratorStateGuard guard(*this);
  current = state;
  SmallVector<Type> inputs;
  for (const TValue &arg : args)
    inputs.push_back(arg.type.getMLIRType(&context));
  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, getLoc(loc), name,
                                   builder.getFunctionType(inputs, {}));
  func.setPrivate();
  signature.func = func;
  signature.state = state;
  state->func = func;
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);

  // The parameters keep the caller's sizes: sizes that are not constants
  // are captured like any other value of the caller.
  SmallVector<Val, 2> params;
  for (auto [i, arg] : llvm::enumerate(args)) {
    signature.paramNames.push_back("arg" + std::to_string(i));
    signature.params.push_back(arg.type);
    params.push_back(Val::getData(makeValue(arg.type, entry->getArgument(i))));
  }

  FailureOr<Val> body = apply(loc, fn, params, {});
  if (failed(body))
    return failure();
  if (body->kind != Val::Data) {
    emitError(loc) << "the function must return data, not " << describe(*body);
    return failure();
  }
  TValue result = body->data;
  if (result.weak)
    result = *coerce(loc, result, result.type.scalar);
  signature.result = result.type;
  Type resultType = result.type.getMLIRType(&context);
  // A lazy tuple is made here, at the body.
  Location savedLoc = std::exchange(currentLoc, getLoc(loc));
  func::ReturnOp::create(builder, currentLoc,
                         castValue(materialize(result), resultType));
  currentLoc = savedLoc;
  SmallVector<Type> allInputs(entry->getArgumentTypes());
  func.setFunctionType(builder.getFunctionType(allInputs, resultType));
  return &signature;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

FailureOr<Val> MLIRGenerator::gen(const ExprAST &expr) {
  // The expected type applies to this expression only.
  const Ty *expected = std::exchange(expectedType, nullptr);
  // The IR of the expression is located at it.
  Location savedLoc = currentLoc;
  currentLoc = getLoc(expr.getLoc());
  llvm::scope_exit restoreLoc([&] { currentLoc = savedLoc; });
  switch (expr.getKind()) {
  case ExprAST::Number:
    return genNumber(cast<NumberExprAST>(expr));
  case ExprAST::Bool: {
    TValue value = makeLiteral(cast<BoolExprAST>(expr).value ? 1 : 0,
                               ScalarKind::Bool, false);
    return Val::getData(value);
  }
  case ExprAST::String: {
    Val value;
    value.kind = Val::String;
    value.str = cast<StringExprAST>(expr).value;
    return value;
  }
  case ExprAST::Var:
    return genVar(cast<VarExprAST>(expr));
  case ExprAST::Unary:
    return genUnary(cast<UnaryExprAST>(expr));
  case ExprAST::Binary:
    return genBinary(cast<BinaryExprAST>(expr));
  case ExprAST::Call:
    return genCall(cast<CallExprAST>(expr));
  case ExprAST::Index:
    return genIndex(cast<IndexExprAST>(expr));
  case ExprAST::Project:
    return genProject(cast<ProjectExprAST>(expr));
  case ExprAST::Tuple:
    return genTuple(cast<TupleExprAST>(expr));
  case ExprAST::If:
    return genIf(cast<IfExprAST>(expr), expected);
  case ExprAST::Scope:
    return genScope(cast<ScopeExprAST>(expr), expected);
  case ExprAST::Lambda: {
    auto fn = std::make_shared<FnValue>();
    fn->kind = FnValue::Lambda;
    fn->lambda = &cast<LambdaExprAST>(expr);
    fn->env = env;
    return Val::getFunction(std::move(fn));
  }
  case ExprAST::Block:
    return genBlock(cast<BlockExprAST>(expr), expected);
  case ExprAST::Loop:
    return genLoop(cast<LoopExprAST>(expr));
  }
  llvm_unreachable("unknown expression kind");
}

FailureOr<TValue> MLIRGenerator::genData(const ExprAST &expr) {
  FailureOr<Val> value = gen(expr);
  if (failed(value))
    return failure();
  if (value->kind != Val::Data) {
    emitError(expr.getLoc()) << "expected data here, not " << describe(*value);
    return failure();
  }
  return value->data;
}

FailureOr<Val> MLIRGenerator::genNumber(const NumberExprAST &expr) {
  StringRef spelling = expr.spelling;
  if (expr.isFloat) {
    double value;
    if (spelling.getAsDouble(value) || !std::isfinite(value)) {
      emitError(expr.getLoc())
          << "float literal " << spelling << " is out of range";
      return failure();
    }
    return Val::getData(makeLiteral(value, ScalarKind::F64, true));
  }
  int64_t value;
  if (spelling.getAsInteger(10, value)) {
    emitError(expr.getLoc())
        << "integer literal " << spelling << " does not fit in i64";
    return failure();
  }
  // Literals are doubles at compile time: an integer beyond 2^53 is an i64
  // constant from the start.
  if (value > (int64_t(1) << 53)) {
    TValue exact =
        makeValue(Ty::getScalar(ScalarKind::I64),
                  arith::ConstantOp::create(builder, currentLoc,
                                            builder.getI64IntegerAttr(value)));
    exact.size = SizeExpr::getConstant(value);
    return Val::getData(exact);
  }
  TValue literal =
      makeLiteral(static_cast<double>(value), ScalarKind::I64, true);
  literal.size = SizeExpr::getConstant(value);
  return Val::getData(literal);
}

FailureOr<Val> MLIRGenerator::genVar(const VarExprAST &expr) {
  for (auto it = env.rbegin(); it != env.rend(); ++it)
    if (it->first == expr.name)
      return it->second;
  if (const DefAST *def = lookupDef(expr.name)) {
    auto fn = std::make_shared<FnValue>();
    fn->kind = FnValue::Def;
    fn->name = expr.name;
    fn->def = def;
    return Val::getFunction(std::move(fn));
  }
  if (isBuiltin(expr.name)) {
    auto fn = std::make_shared<FnValue>();
    fn->kind = FnValue::Builtin;
    fn->name = expr.name;
    return Val::getFunction(std::move(fn));
  }
  std::vector<std::string> candidates;
  for (const auto &entry : env)
    candidates.push_back(entry.first);
  for (const auto &entry : inLibrary ? libraryDefs : defs)
    candidates.push_back(entry.first().str());
  for (const std::string &name : getBuiltinNames())
    candidates.push_back(name);
  emitError(expr.getLoc()) << "unknown name '" << expr.name << "'"
                           << suggest(expr.name, candidates);
  return failure();
}

FailureOr<Val> MLIRGenerator::genUnary(const UnaryExprAST &expr) {
  FailureOr<TValue> operand = genData(*expr.operand);
  if (failed(operand))
    return failure();
  if (!operand->type.isArray()) {
    emitError(expr.getLoc())
        << Token::getKindDescription(expr.op)
        << " needs a scalar or a tensor, not " << describe(operand->type);
    return failure();
  }
  ScalarKind kind = operand->type.scalar;
  if (expr.op == Token::bang) {
    if (kind != ScalarKind::Bool) {
      emitError(expr.getLoc())
          << "'!' needs bool, not " << describe(operand->type);
      return failure();
    }
    if (operand->literal)
      return Val::getData(
          makeLiteral(*operand->literal ? 0 : 1, ScalarKind::Bool, false));
    FailureOr<TValue> result = elementwise(
        expr.getLoc(), *operand, kind, "'!'", [&](ArrayRef<Value> args) {
          return arith::XOrIOp::create(builder, currentLoc, args[0],
                                       scalarConstant(ScalarKind::Bool, 1))
              .getResult();
        });
    if (failed(result))
      return failure();
    return Val::getData(*result);
  }
  // Negation.
  if (kind == ScalarKind::Bool) {
    emitError(expr.getLoc()) << "'-' needs a number, not bool";
    return failure();
  }
  if (operand->literal) {
    TValue result = makeLiteral(-*operand->literal, kind, operand->weak);
    if (!isInteger(kind) || -*operand->literal < 0)
      result.size.reset();
    return Val::getData(result);
  }
  FailureOr<TValue> result = elementwise(
      expr.getLoc(), *operand, kind, "'-'", [&](ArrayRef<Value> args) {
        Location loc = currentLoc;
        if (isFloat(kind))
          return arith::NegFOp::create(builder, loc, args[0]).getResult();
        return arith::SubIOp::create(builder, loc, scalarConstant(kind, 0),
                                     args[0])
            .getResult();
      });
  if (failed(result))
    return failure();
  return Val::getData(*result);
}

/// Folds an operation on two numeric literals, as the run-time operation
/// would compute it.
static std::optional<double> foldLiterals(Token::Kind op, ScalarKind kind,
                                          double a, double b) {
  bool integer = isInteger(kind);
  switch (op) {
  case Token::plus:
    return integer ? std::optional<double>() : a + b;
  case Token::minus:
    return integer ? std::optional<double>() : a - b;
  case Token::star:
    return integer ? std::optional<double>() : a * b;
  case Token::slash:
    return integer ? std::optional<double>() : a / b;
  default:
    return std::nullopt;
  }
}

/// `A @ B` for matrices and vectors.
static FailureOr<TValue> genMatmul(MLIRGenerator &gen, SMLoc loc, TValue lhs,
                                   TValue rhs) {
  unsigned lr = lhs.type.getRank(), rr = rhs.type.getRank();
  if (!lhs.type.isTensor() || !rhs.type.isTensor() || lr > 2 || rr > 2 ||
      lhs.type.scalar == ScalarKind::Bool) {
    gen.emitError(loc) << "'@' needs numeric vectors or matrices, not "
                       << gen.describe(lhs.type) << " and "
                       << gen.describe(rhs.type);
    return failure();
  }
  if (failed(gen.unifyScalars(loc, lhs, rhs, "'@'")))
    return failure();
  const SizeExpr &inner = lhs.type.dims.back();
  const SizeExpr &other = rhs.type.dims.front();
  if (inner != other) {
    gen.emitError(loc) << "shape mismatch in '@': " << gen.describe(lhs.type)
                       << " and " << gen.describe(rhs.type) << " ("
                       << gen.describe(inner) << " != " << gen.describe(other)
                       << ")";
    return failure();
  }
  ScalarKind kind = lhs.type.scalar;
  if (lr == 2 && rr == 2) {
    Ty type = Ty::getTensor(kind, {lhs.type.dims[0], rhs.type.dims[1]});
    Value result = lz::MatmulOp::create(
        gen.builder, gen.getLoc(loc), type.getMLIRType(&gen.context),
        gen.materialize(lhs), gen.materialize(rhs));
    return gen.makeValue(type, result);
  }
  // Matrix-vector, vector-matrix and dot products as scopes.
  SmallVector<SizeExpr> outer;
  if (lr == 2)
    outer.push_back(lhs.type.dims[0]);
  if (rr == 2)
    outer.push_back(rhs.type.dims[1]);
  auto product = [&](ArrayRef<TValue> indices) -> FailureOr<TValue> {
    return gen.buildReduction(
        Token::kw_sum, {inner}, [&](ArrayRef<TValue> k) -> FailureOr<TValue> {
          SmallVector<TValue, 2> li, ri;
          if (lr == 2)
            li.push_back(indices[0]);
          li.push_back(k[0]);
          ri.push_back(k[0]);
          if (rr == 2)
            ri.push_back(indices[lr == 2 ? 1 : 0]);
          Value a = gen.materialize(gen.getElement(lhs, li));
          Value b = gen.materialize(gen.getElement(rhs, ri));
          return gen.makeValue(Ty::getScalar(kind),
                               gen.scalarBinary(Token::star, kind, a, b));
        });
  };
  if (outer.empty())
    return product({});
  return gen.buildFor(outer, product);
}

FailureOr<Val> MLIRGenerator::genBinary(const BinaryExprAST &expr) {
  FailureOr<TValue> lhs = genData(*expr.lhs);
  if (failed(lhs))
    return failure();
  FailureOr<TValue> rhs = genData(*expr.rhs);
  if (failed(rhs))
    return failure();
  SMLoc loc = expr.getLoc();
  std::string what = Token::getKindDescription(expr.op).str();
  if (expr.op == Token::at) {
    FailureOr<TValue> result = genMatmul(*this, loc, *lhs, *rhs);
    if (failed(result))
      return failure();
    return Val::getData(*result);
  }
  if (!lhs->type.isArray() || !rhs->type.isArray()) {
    emitError(loc) << what << " needs scalars or tensors, not "
                   << describe(lhs->type) << " and " << describe(rhs->type);
    return failure();
  }
  if (failed(unifyScalars(loc, *lhs, *rhs, what)))
    return failure();
  ScalarKind kind = lhs->type.scalar;
  Token::Kind op = expr.op;
  bool logical = op == Token::amp_amp || op == Token::pipe_pipe;
  bool comparison = op == Token::less || op == Token::less_equal ||
                    op == Token::greater || op == Token::greater_equal ||
                    op == Token::equal_equal || op == Token::bang_equal;
  if (logical && kind != ScalarKind::Bool) {
    emitError(loc) << what << " needs bool operands, not "
                   << describe(lhs->type) << " and " << describe(rhs->type);
    return failure();
  }
  if (!logical && kind == ScalarKind::Bool &&
      !(op == Token::equal_equal || op == Token::bang_equal)) {
    emitError(loc) << what << " needs numbers, not bool";
    return failure();
  }
  if (op == Token::percent && !isInteger(kind)) {
    emitError(loc) << what << " needs integer operands, not "
                   << describe(lhs->type) << " and " << describe(rhs->type);
    return failure();
  }
  // Literals fold (floats only: integer arithmetic wraps at run time).
  if (lhs->literal && rhs->literal && isFloat(kind) && !comparison) {
    if (std::optional<double> folded =
            foldLiterals(op, kind, *lhs->literal, *rhs->literal))
      return Val::getData(makeLiteral(*folded, kind, lhs->weak && rhs->weak));
  }
  if (lhs->weak)
    lhs = coerce(loc, *lhs, kind);
  if (rhs->weak)
    rhs = coerce(loc, *rhs, kind);
  // Sums, differences and products of sizes stay size expressions, and
  // become IR only where they are used.
  if (kind == ScalarKind::I64 && lhs->type.isScalar() && rhs->type.isScalar() &&
      lhs->size && rhs->size &&
      (op == Token::plus || op == Token::minus || op == Token::star)) {
    TValue result;
    result.type = Ty::getScalar(ScalarKind::I64);
    result.owner = current;
    result.size = op == Token::plus    ? *lhs->size + *rhs->size
                  : op == Token::minus ? *lhs->size - *rhs->size
                                       : *lhs->size * *rhs->size;
    return Val::getData(result);
  }
  ScalarKind resultKind = comparison ? ScalarKind::Bool : kind;
  FailureOr<TValue> result = elementwise(
      loc, {*lhs, *rhs}, resultKind, what, [&](ArrayRef<Value> args) {
        return scalarBinary(op, kind, args[0], args[1]);
      });
  if (failed(result))
    return failure();
  return Val::getData(*result);
}

/// Where an expression starts in the source: `f` for `f(x)(y)`.
static SMLoc getStartLoc(const ExprAST &expr) {
  if (auto *call = dyn_cast<CallExprAST>(&expr))
    return getStartLoc(*call->callee);
  if (auto *index = dyn_cast<IndexExprAST>(&expr))
    return getStartLoc(*index->base);
  if (auto *project = dyn_cast<ProjectExprAST>(&expr))
    return getStartLoc(*project->base);
  if (auto *binary = dyn_cast<BinaryExprAST>(&expr))
    return getStartLoc(*binary->lhs);
  return expr.getLoc();
}

FailureOr<Val> MLIRGenerator::genCall(const CallExprAST &expr) {
  SmallVector<Val, 2> args;
  SmallVector<std::pair<std::string, Val>, 2> named;
  FailureOr<Val> callee = gen(*expr.callee);
  if (failed(callee))
    return failure();
  for (const CallExprAST::Arg &arg : expr.args) {
    FailureOr<Val> value = gen(*arg.value);
    if (failed(value))
      return failure();
    if (arg.name.empty()) {
      args.push_back(*value);
      continue;
    }
    for (const auto &[name, _] : named)
      if (name == arg.name) {
        emitError(arg.loc) << "named argument '" << arg.name
                           << "' is given twice";
        return failure();
      }
    named.emplace_back(arg.name, *value);
  }
  if (callee->kind != Val::Function) {
    emitError(getStartLoc(*expr.callee)) << "cannot call " << describe(*callee)
                                         << "; only functions can be called";
    return failure();
  }
  return apply(getStartLoc(*expr.callee), *callee->fn, args, named);
}

FailureOr<Val>
MLIRGenerator::apply(SMLoc loc, const FnValue &fn, ArrayRef<Val> args,
                     ArrayRef<std::pair<std::string, Val>> named) {
  switch (fn.kind) {
  case FnValue::Builtin:
    return callBuiltin(loc, fn.name, args, named);
  case FnValue::Transform:
    if (!named.empty()) {
      emitError(loc) << "the function that '" << fn.name
                     << "' returns takes no named arguments";
      return failure();
    }
    return applyTransform(loc, fn, args);
  case FnValue::Def: {
    if (!named.empty()) {
      emitError(loc) << "'" << fn.name
                     << "' takes no named arguments (only builtins do)";
      return failure();
    }
    useSites.push_back(loc);
    llvm::scope_exit popSite([&] { useSites.pop_back(); });
    FailureOr<const Signature *> signature = getSignature(*fn.def);
    if (failed(signature))
      return failure();
    return callDef(loc, **signature, args);
  }
  case FnValue::Lambda:
    break;
  }
  const LambdaExprAST &lambda = *fn.lambda;
  if (!named.empty()) {
    emitError(loc) << "a lambda takes no named arguments";
    return failure();
  }
  if (args.size() != lambda.params.size()) {
    emitError(loc) << "the lambda takes " << lambda.params.size() << " argument"
                   << (lambda.params.size() == 1 ? "" : "s") << " but "
                   << args.size() << (args.size() == 1 ? " was" : " were")
                   << " given";
    return failure();
  }
  if (++inlined > kInlineBudget) {
    emitError(loc) << "too many lambda applications in one definition (more "
                      "than "
                   << kInlineBudget << ")";
    return failure();
  }
  // The body sees the lambda's environment and its parameters.
  Env saved = std::move(env);
  llvm::scope_exit restore([&] { env = std::move(saved); });
  env = fn.env;
  TypeResolver resolver{*this};
  for (auto [param, arg] : llvm::zip(lambda.params, args)) {
    Val value = arg;
    if (param.type) {
      FailureOr<Ty> type = resolver.resolve(*param.type);
      if (failed(type))
        return failure();
      if (value.kind != Val::Data) {
        emitError(param.loc)
            << "parameter '" << param.name << "' has type " << describe(*type)
            << " but gets " << describe(value);
        return failure();
      }
      FailureOr<TValue> coerced = coerceTo(
          loc, value.data, *type, "the argument for '" + param.name + "'");
      if (failed(coerced))
        return failure();
      value.data = *coerced;
    }
    value.pending = nullptr;
    env.emplace_back(param.name, value);
  }
  return gen(*lambda.body);
}

FailureOr<Val> MLIRGenerator::genIndex(const IndexExprAST &expr) {
  FailureOr<TValue> base = genData(*expr.base);
  if (failed(base))
    return failure();
  if (!base->type.isTensor()) {
    emitError(expr.getLoc()) << "cannot index " << describe(base->type)
                             << "; only tensors can be indexed";
    return failure();
  }
  if (expr.indices.size() > base->type.getRank()) {
    emitError(expr.getLoc()) << "too many indices: " << expr.indices.size()
                             << " for " << describe(base->type);
    return failure();
  }
  SmallVector<TValue, 2> indices;
  for (auto [i, indexExpr] : llvm::enumerate(expr.indices)) {
    const SizeExpr &dim = base->type.dims[i];
    // A scope variable used as a whole subscript gets its range here.
    if (auto *var = dyn_cast<VarExprAST>(indexExpr.get())) {
      for (auto it = env.rbegin(); it != env.rend(); ++it) {
        if (it->first != var->name)
          continue;
        if (PendingRange *pending = it->second.pending) {
          if (!pending->range) {
            pending->range = dim;
            pending->rangeLoc = var->getLoc();
          } else if (*pending->range != dim) {
            InFlightDiagnostic diag = emitError(var->getLoc());
            diag << "conflicting ranges for '" << var->name
                 << "': " << describe(*pending->range) << " and "
                 << describe(dim) << " (dimension " << i << " of "
                 << describe(base->type) << ")";
            diag.attachNote(getLoc(pending->rangeLoc))
                << "the range " << describe(*pending->range)
                << " was inferred here";
            return failure();
          }
        }
        break;
      }
    }
    FailureOr<TValue> index = genData(*indexExpr);
    if (failed(index))
      return failure();
    if (!index->type.isScalar() || !isInteger(index->type.scalar)) {
      emitError(indexExpr->getLoc())
          << "an index must be an integer, not " << describe(index->type);
      return failure();
    }
    if (index->literal) {
      int64_t value = toInt64(*index->literal);
      std::optional<int64_t> size = dim.getConstantValue();
      if (value < 0 || (size && value >= *size)) {
        emitError(indexExpr->getLoc())
            << "index " << value << " is out of bounds for dimension " << i
            << " of " << describe(base->type);
        return failure();
      }
      index = coerce(indexExpr->getLoc(), *index, ScalarKind::I64);
    }
    indices.push_back(*index);
  }
  return Val::getData(getElement(*base, indices));
}

FailureOr<Val> MLIRGenerator::genProject(const ProjectExprAST &expr) {
  FailureOr<TValue> base = genData(*expr.base);
  if (failed(base))
    return failure();
  if (!base->type.isTuple()) {
    emitError(expr.getLoc()) << "cannot project " << describe(base->type)
                             << "; '." << expr.index << "' needs a tuple";
    return failure();
  }
  if (expr.index >= static_cast<int64_t>(base->type.elements.size())) {
    emitError(expr.getLoc()) << "'." << expr.index << "' is out of range for "
                             << describe(base->type);
    return failure();
  }
  return Val::getData(project(*base, expr.index));
}

FailureOr<Val> MLIRGenerator::genTuple(const TupleExprAST &expr) {
  SmallVector<TValue, 2> elements;
  for (const ExprPtr &element : expr.elements) {
    FailureOr<Val> value = gen(*element);
    if (failed(value))
      return failure();
    if (value->kind != Val::Data) {
      emitError(element->getLoc())
          << "a tuple holds data, not " << describe(*value);
      return failure();
    }
    elements.push_back(value->data);
  }
  for (TValue &element : elements)
    if (element.weak)
      element = *coerce(expr.getLoc(), element, element.type.scalar);
  return Val::getData(makeLazyTuple(elements));
}

FailureOr<Val> MLIRGenerator::genIf(const IfExprAST &expr, const Ty *expected) {
  FailureOr<TValue> cond = genData(*expr.cond);
  if (failed(cond))
    return failure();
  if (!cond->type.isScalar() || cond->type.scalar != ScalarKind::Bool) {
    emitError(expr.cond->getLoc())
        << "the condition of 'if' must be a bool scalar, not "
        << describe(cond->type)
        << (cond->type.isTensor() ? " (use select(c, a, b) elementwise)" : "");
    return failure();
  }
  Value condValue = materialize(*cond);
  // Both branches are generated into blocks of their own.
  ScopeBuilder thenScope(*this, 0);
  expectedType = expected;
  FailureOr<Val> thenVal = gen(*expr.thenExpr);
  if (failed(thenVal))
    return failure();
  OpBuilder::InsertPoint thenEnd = builder.saveInsertionPoint();
  thenScope.restore();
  ScopeBuilder elseScope(*this, 0);
  expectedType = expected;
  FailureOr<Val> elseVal = gen(*expr.elseExpr);
  if (failed(elseVal))
    return failure();
  if (thenVal->kind != Val::Data || elseVal->kind != Val::Data) {
    emitError(expr.getLoc())
        << "'if' cannot choose between functions or configurations at run "
           "time";
    return failure();
  }
  TValue a = thenVal->data, b = elseVal->data;
  if (a.type.isScalar() && b.type.isScalar() &&
      a.type.scalar != b.type.scalar &&
      failed(unifyScalars(expr.getLoc(), a, b, "the branches of 'if'")))
    return failure();
  if (a.type != b.type) {
    emitError(expr.getLoc())
        << "the branches of 'if' have different types: " << describe(a.type)
        << " and " << describe(b.type);
    return failure();
  }
  Ty type = a.type;
  if (a.weak)
    a = *coerce(expr.thenExpr->getLoc(), a, type.scalar);
  if (b.weak)
    b = *coerce(expr.elseExpr->getLoc(), b, type.scalar);
  Type irType = type.getMLIRType(&context);
  scf::YieldOp::create(builder, getLoc(expr.elseExpr->getLoc()),
                       castValue(materialize(b), irType));
  builder.restoreInsertionPoint(thenEnd);
  scf::YieldOp::create(builder, getLoc(expr.thenExpr->getLoc()),
                       castValue(materialize(a), irType));
  elseScope.restore();
  bool inner = dependsOnInnerAtoms(type, atoms, depth);
  auto ifOp = scf::IfOp::create(builder, getLoc(expr.getLoc()),
                                TypeRange{irType}, condValue, false, false);
  thenScope.moveBlockInto(ifOp.getThenRegion());
  elseScope.moveBlockInto(ifOp.getElseRegion());
  if (inner)
    type = localizeSizes(type, ifOp.getResult(0), [&](unsigned atom) {
      return atoms[atom].depth > depth;
    });
  return Val::getData(makeValue(
      type, castValue(ifOp.getResult(0), type.getMLIRType(&context))));
}

FailureOr<Val> MLIRGenerator::genScope(const ScopeExprAST &expr,
                                       const Ty *expected) {
  // Explicit ranges are evaluated outside the scope.
  std::vector<PendingRange> pending(expr.vars.size());
  SmallVector<std::optional<SizeExpr>> ranges;
  for (auto [i, var] : llvm::enumerate(expr.vars)) {
    pending[i].name = var.name;
    pending[i].loc = var.loc;
    pending[i].depth = depth;
    for (size_t j = 0; j < i; ++j)
      if (expr.vars[j].name == var.name) {
        emitError(var.loc) << "duplicate index variable '" << var.name << "'";
        return failure();
      }
    if (!var.range) {
      ranges.push_back(std::nullopt);
      continue;
    }
    FailureOr<TValue> range = genData(*var.range);
    if (failed(range))
      return failure();
    if (!range->type.isScalar() || !isInteger(range->type.scalar)) {
      emitError(var.range->getLoc())
          << "the range of '" << var.name << "' must be an integer, not "
          << describe(range->type);
      return failure();
    }
    if (range->literal && *range->literal < 0) {
      emitError(var.range->getLoc())
          << "the range of '" << var.name << "' must not be negative";
      return failure();
    }
    std::string name;
    if (auto *rangeVar = dyn_cast<VarExprAST>(var.range.get()))
      name = rangeVar->name;
    else
      name = "range(" + var.name + ")";
    ranges.push_back(toSize(*range, name));
  }

  // A traversal whose type is expected (the body of a definition with a
  // declared result type) takes the ranges it does not give from it.
  std::optional<Ty> bodyExpected;
  if (expected && expr.scope == Token::kw_for && expected->isTensor() &&
      expected->getRank() >= expr.vars.size()) {
    for (auto [i, var] : llvm::enumerate(expr.vars)) {
      if (ranges[i])
        continue;
      pending[i].range = expected->dims[i];
      pending[i].rangeLoc = expr.getLoc();
    }
    bodyExpected =
        Ty::getTensor(expected->scalar,
                      ArrayRef(expected->dims).drop_front(expr.vars.size()));
  }

  ScopeBuilder scope(*this, expr.vars.size());
  size_t envSize = env.size();
  for (auto [i, var] : llvm::enumerate(expr.vars)) {
    Val value = Val::getData(scope.indices[i]);
    if (!ranges[i])
      value.pending = &pending[i];
    env.emplace_back(var.name, value);
  }
  if (bodyExpected)
    expectedType = &*bodyExpected;
  FailureOr<Val> body = gen(*expr.body);
  env.resize(envSize);
  if (failed(body))
    return failure();
  if (body->kind != Val::Data) {
    emitError(expr.body->getLoc())
        << "the body of a scope must be data, not " << describe(*body);
    return failure();
  }
  SmallVector<SizeExpr> finalRanges;
  for (auto [i, var] : llvm::enumerate(expr.vars)) {
    if (ranges[i]) {
      finalRanges.push_back(*ranges[i]);
      continue;
    }
    if (!pending[i].range) {
      emitError(var.loc) << "cannot infer the range of '" << var.name
                         << "': use it as a whole subscript (like x["
                         << var.name << "]) or give it ('" << var.name
                         << " < n')";
      return failure();
    }
    bool inner = false;
    for (unsigned atom : pending[i].range->getAtoms())
      inner |= atoms[atom].depth > pending[i].depth;
    if (inner) {
      emitError(var.loc) << "the range of '" << var.name
                         << "' inferred from its subscript depends on values "
                            "computed inside the scope; give it explicitly";
      return failure();
    }
    finalRanges.push_back(*pending[i].range);
  }
  FailureOr<TValue> result = finishScope(*this, expr.getLoc(), expr.scope,
                                         scope, finalRanges, body->data);
  if (failed(result))
    return failure();
  return Val::getData(*result);
}

LogicalResult MLIRGenerator::bindPattern(const PatternAST &pattern, Val value) {
  value.pending = nullptr;
  if (!pattern.isTuple) {
    if (value.kind == Val::Data && value.data.weak)
      value.data = *coerce(pattern.loc, value.data, value.data.type.scalar);
    env.emplace_back(pattern.name, value);
    return success();
  }
  if (value.kind != Val::Data || !value.data.type.isTuple() ||
      value.data.type.elements.size() != pattern.elements.size()) {
    emitError(pattern.loc) << "cannot destructure " << describe(value)
                           << " with a pattern of " << pattern.elements.size()
                           << " elements";
    return failure();
  }
  TValue tuple = value.data;
  for (auto [i, element] : llvm::enumerate(pattern.elements))
    if (failed(bindPattern(element, Val::getData(project(tuple, i)))))
      return failure();
  return success();
}

FailureOr<Val> MLIRGenerator::genBlock(const BlockExprAST &expr,
                                       const Ty *expected) {
  size_t envSize = env.size();
  llvm::scope_exit restore([&] { env.resize(envSize); });
  for (const BlockExprAST::Let &let : expr.lets) {
    FailureOr<Val> value = gen(*let.value);
    if (failed(value) || failed(bindPattern(let.pattern, *value)))
      return failure();
  }
  expectedType = expected;
  return gen(*expr.result);
}

FailureOr<Val> MLIRGenerator::genLoop(const LoopExprAST &expr) {
  FailureOr<TValue> init = genData(*expr.init);
  if (failed(init))
    return failure();
  if (init->weak)
    init = coerce(expr.init->getLoc(), *init, init->type.scalar);
  Value count;
  if (expr.count) {
    FailureOr<TValue> steps = genData(*expr.count);
    if (failed(steps))
      return failure();
    if (!steps->type.isScalar() || !isInteger(steps->type.scalar)) {
      emitError(expr.count->getLoc())
          << "the step count must be an integer, not " << describe(steps->type);
      return failure();
    }
    if (steps->weak)
      steps = coerce(expr.count->getLoc(), *steps, ScalarKind::I64);
    count = steps->size ? materializeSize(*steps->size)
                        : toIndex(materialize(*steps));
  }
  // A tuple state is carried as separate values.
  const Ty stateType = init->type;
  SmallVector<TValue, 2> inits;
  if (stateType.isTuple())
    for (unsigned i = 0; i < stateType.elements.size(); ++i)
      inits.push_back(project(*init, i));
  else
    inits.push_back(*init);
  SmallVector<Type> types;
  SmallVector<Value> initValues;
  for (const TValue &value : inits) {
    types.push_back(value.type.getMLIRType(&context));
    initValues.push_back(materialize(value));
  }

  // Generates a region of the loop: binds the state, then `fn`.
  auto genRegion = [&](ScopeBuilder &scope, bool withStep,
                       llvm::function_ref<LogicalResult()> fn) {
    size_t envSize = env.size();
    llvm::scope_exit restore([&] { env.resize(envSize); });
    if (withStep)
      scope.block->addArgument(builder.getIndexType(), getLoc(expr.stepLoc));
    SmallVector<TValue, 2> state;
    for (auto [value, type] : llvm::zip(inits, types))
      state.push_back(makeValue(
          value.type, scope.block->addArgument(type, getLoc(expr.getLoc()))));
    if (withStep) {
      Value step = toI64(scope.block->getArgument(0));
      scope.casts.push_back(step.getDefiningOp());
      env.emplace_back(
          expr.stepVar,
          Val::getData(makeValue(Ty::getScalar(ScalarKind::I64), step)));
    }
    TValue whole = stateType.isTuple() ? makeLazyTuple(state) : state.front();
    if (failed(bindPattern(expr.state, Val::getData(whole))))
      return failure();
    return fn();
  };

  auto genBody = [&]() -> LogicalResult {
    FailureOr<TValue> next = genData(*expr.body);
    if (failed(next))
      return failure();
    FailureOr<TValue> coerced =
        coerceTo(expr.body->getLoc(), *next, stateType, "the loop body");
    if (failed(coerced))
      return failure();
    SmallVector<Value> yielded;
    if (stateType.isTuple())
      for (unsigned i = 0; i < stateType.elements.size(); ++i)
        yielded.push_back(
            castValue(materialize(project(*coerced, i)), types[i]));
    else
      yielded.push_back(castValue(materialize(*coerced), types[0]));
    lz::YieldOp::create(builder, getLoc(expr.body->getLoc()), yielded);
    return success();
  };

  std::optional<ScopeBuilder> condScope;
  if (expr.cond) {
    condScope.emplace(*this, 0);
    if (failed(genRegion(*condScope, false, [&]() -> LogicalResult {
          FailureOr<TValue> cond = genData(*expr.cond);
          if (failed(cond))
            return failure();
          if (!cond->type.isScalar() || cond->type.scalar != ScalarKind::Bool) {
            emitError(expr.cond->getLoc())
                << "the condition of a while loop must be a bool scalar, "
                   "not "
                << describe(cond->type);
            return failure();
          }
          lz::ConditionOp::create(builder, getLoc(expr.cond->getLoc()),
                                  materialize(*cond));
          return success();
        })))
      return failure();
    condScope->restore();
  }
  ScopeBuilder bodyScope(*this, 0);
  if (failed(genRegion(bodyScope, static_cast<bool>(count), genBody)))
    return failure();
  bodyScope.restore();

  auto loop = lz::LoopOp::create(builder, getLoc(expr.getLoc()), types, count,
                                 initValues);
  if (condScope)
    condScope->moveBlockInto(loop.getCond());
  bodyScope.moveBlockInto(loop.getBody());
  SmallVector<TValue, 2> results;
  for (auto [value, result] : llvm::zip(inits, loop.getResults()))
    results.push_back(makeValue(value.type, result));
  return Val::getData(stateType.isTuple() ? makeLazyTuple(results)
                                          : results.front());
}

//===----------------------------------------------------------------------===//
// Programs
//===----------------------------------------------------------------------===//

/// True for the transformations that differentiate in reverse mode.
static bool isReverseMode(Operation *op) {
  if (isa<ad::VjpOp, ad::HessianOp, ad::HvpOp>(op))
    return true;
  if (auto grad = dyn_cast<ad::GradOp>(op))
    return grad.getMode() == "rev";
  if (auto grad = dyn_cast<ad::ValueAndGradOp>(op))
    return grad.getMode() == "rev";
  if (auto jacobian = dyn_cast<ad::JacobianOp>(op))
    return jacobian.getMode() == "rev";
  return false;
}

LogicalResult MLIRGenerator::checkReverseThroughWhile() {
  SymbolTable symbols(module);
  // The first while loop that a function runs, through calls and the
  // functions that transformations apply; solves are differentiated
  // implicitly, so their functions do not count.
  llvm::DenseMap<Operation *, Operation *> whileLoops;
  std::function<Operation *(func::FuncOp)> findWhile =
      [&](func::FuncOp func) -> Operation * {
    auto [it, inserted] = whileLoops.try_emplace(func, nullptr);
    if (!inserted)
      return it->second;
    Operation *found = nullptr;
    func.walk([&](Operation *op) {
      if (auto loop = dyn_cast<lz::LoopOp>(op); loop && !loop.isCounted()) {
        found = op;
        return WalkResult::interrupt();
      }
      if (isa<ad::ArgminOp, ad::RootOp, ad::FixedPointOp>(op))
        return WalkResult::advance();
      auto callee = op->getAttrOfType<FlatSymbolRefAttr>("callee");
      if (!callee)
        return WalkResult::advance();
      if (auto target = symbols.lookup<func::FuncOp>(callee.getValue()))
        found = findWhile(target);
      return found ? WalkResult::interrupt() : WalkResult::advance();
    });
    whileLoops[func] = found;
    return found;
  };
  bool ok = true;
  module.walk([&](Operation *op) {
    if (!isReverseMode(op))
      return;
    auto callee = op->getAttrOfType<FlatSymbolRefAttr>("callee");
    auto target = symbols.lookup<func::FuncOp>(callee.getValue());
    if (!target)
      return;
    if (Operation *loop = findWhile(target)) {
      InFlightDiagnostic diag = op->emitError();
      diag << "reverse-mode differentiation through a while loop is not "
              "supported: use a counted loop ('for t < T'), forward mode "
              "(mode = \"fwd\", jvp, jacfwd), or argmin/root/fixed_point to "
              "differentiate the solution implicitly";
      diag.attachNote(loop->getLoc()) << "the while loop is here";
      ok = false;
    }
  });
  return success(ok);
}

FailureOr<Program> MLIRGenerator::generate(ArrayRef<SourceModule> modules) {
  registerFrontendDialects(context);
  module = ModuleOp::create(UnknownLoc::get(&context));
  OwningOpRef<ModuleOp> owned(module);

  bool failedAny = false;
  llvm::StringMap<SMLoc> userDefs;
  for (const SourceModule &source : modules) {
    for (const DefAST &def : source.ast->defs) {
      if (!source.isLibrary) {
        auto [it, inserted] = userDefs.try_emplace(def.name, def.loc);
        if (!inserted) {
          InFlightDiagnostic diag = emitError(def.loc);
          diag << "redefinition of '" << def.name << "'";
          diag.attachNote(getLoc(it->second)) << "first defined here";
          failedAny = true;
          continue;
        }
      } else {
        libraryDefs[def.name] = &def;
        if (userDefs.count(def.name))
          continue;
      }
      defs[def.name] = &def;
    }
  }
  for (const SourceModule &source : modules) {
    if (!source.checkAll)
      continue;
    for (const DefAST &def : source.ast->defs) {
      if ((source.isLibrary ? libraryDefs : defs).lookup(def.name) != &def)
        continue;
      inlined = 0;
      if (failed(getSignature(def)))
        failedAny = true;
    }
  }
  bool whileLoopsOk = succeeded(checkReverseThroughWhile());
  if (failedAny || !whileLoopsOk)
    return failure();
  // Library definitions are private: only user definitions are entry points.
  for (auto &[name, signature] : signatures->byName)
    if (!userDefs.count(name))
      signature.func.setPrivate();
  if (failed(verify(module)))
    return failure();

  signatures->atomNames.reserve(atoms.size());
  for (const AtomInfo &atom : atoms)
    signatures->atomNames.push_back(atom.name);
  Program program;
  program.module = std::move(owned);
  program.signatures = std::move(signatures);
  return program;
}

FailureOr<Program>
leibniz::frontend::generateProgram(MLIRContext &context,
                                   const llvm::SourceMgr &sourceMgr,
                                   ArrayRef<SourceModule> modules) {
  MLIRGenerator generator(context, sourceMgr);
  return generator.generate(modules);
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

LogicalResult Program::checkArgumentShapes(StringRef name,
                                           const ArgumentShapes &shapes,
                                           std::string &error) const {
  llvm::raw_string_ostream os(error);
  auto it = signatures->byName.find(name.str());
  if (it == signatures->byName.end())
    return success();
  const Signature &signature = it->second;
  auto atomName = [&](unsigned atom) { return signatures->atomNames[atom]; };
  auto show = [&](const Ty &type) {
    std::string text;
    llvm::raw_string_ostream os(text);
    type.print(os, atomName);
    return text;
  };
  llvm::DenseMap<unsigned, std::pair<int64_t, std::string>> bindings;
  for (auto [i, param] : llvm::enumerate(signature.params)) {
    if (i >= shapes.size())
      break;
    SmallVector<TensorPath, 2> tensors;
    SmallVector<int64_t> path;
    collectTensors(param, i, path, tensors);
    for (auto [t, tensor] : llvm::enumerate(tensors)) {
      if (t >= shapes[i].size())
        break;
      ArrayRef<int64_t> shape = shapes[i][t];
      if (shape.size() != tensor.type->dims.size())
        continue; // The type check reports it.
      for (auto [d, dim] : llvm::enumerate(tensor.type->dims)) {
        auto linear = dim.getLinearForm();
        if (!linear)
          continue;
        auto [atom, scale, offset] = *linear;
        if ((shape[d] - offset) % scale != 0 ||
            (shape[d] - offset) / scale < 0) {
          os << "argument '" << signature.paramNames[i] << "' of '" << name
             << "' has size " << shape[d] << " in dimension " << d
             << ", which does not fit " << show(*tensor.type);
          return failure();
        }
        int64_t value = (shape[d] - offset) / scale;
        auto [entry, inserted] =
            bindings.try_emplace(atom, value, signature.paramNames[i]);
        if (!inserted && entry->second.first != value) {
          os << "argument '" << signature.paramNames[i] << "' of '" << name
             << "' has type " << show(param) << " with " << atomName(atom)
             << " = " << value << ", but argument '" << entry->second.second
             << "' gives " << atomName(atom) << " = " << entry->second.first;
          return failure();
        }
      }
      for (auto [d, dim] : llvm::enumerate(tensor.type->dims)) {
        bool known = true;
        SizeExpr value = dim.substitute([&](unsigned atom) {
          auto found = bindings.find(atom);
          if (found == bindings.end()) {
            known = false;
            return std::optional<SizeExpr>();
          }
          return std::optional<SizeExpr>(
              SizeExpr::getConstant(found->second.first));
        });
        std::optional<int64_t> size = value.getConstantValue();
        if (known && size && *size != shape[d]) {
          os << "argument '" << signature.paramNames[i] << "' of '" << name
             << "' has size " << shape[d] << " in dimension " << d << " but "
             << show(*tensor.type) << " needs " << *size;
          return failure();
        }
      }
    }
  }
  return success();
}

namespace {
/// Appends the constraints of the tensor leaves of `type`, numbering its
/// leaves from `leaf`.
void collectDimensionConstraints(
    const Ty &type, unsigned param, unsigned &leaf,
    std::vector<Program::DimensionConstraint> &out) {
  if (type.isTuple()) {
    for (const Ty &element : type.elements)
      collectDimensionConstraints(element, param, leaf, out);
    return;
  }
  for (auto [d, dim] : llvm::enumerate(type.dims)) {
    Program::DimensionConstraint constraint{
        param, leaf,          static_cast<unsigned>(d), dim.getLinearForm(),
        "",    dim.getAtoms()};
    llvm::raw_string_ostream os(constraint.expression);
    dim.print(os, [](unsigned atom) { return "lz_s" + std::to_string(atom); });
    out.push_back(std::move(constraint));
  }
  ++leaf;
}
} // namespace

std::vector<Program::DimensionConstraint>
Program::getDimensionConstraints(StringRef name) const {
  std::vector<DimensionConstraint> constraints;
  auto it = signatures->byName.find(name.str());
  if (it == signatures->byName.end())
    return constraints;
  unsigned leaf = 0;
  for (auto [i, param] : llvm::enumerate(it->second.params))
    collectDimensionConstraints(param, i, leaf, constraints);
  return constraints;
}

SmallVector<std::string> Program::getParameterTypes(StringRef name) const {
  SmallVector<std::string> types;
  auto it = signatures->byName.find(name.str());
  if (it == signatures->byName.end())
    return types;
  auto atomName = [&](unsigned atom) { return signatures->atomNames[atom]; };
  for (const Ty &param : it->second.params) {
    llvm::raw_string_ostream os(types.emplace_back());
    param.print(os, atomName);
  }
  return types;
}

std::string Program::getResultType(StringRef name) const {
  std::string text;
  auto it = signatures->byName.find(name.str());
  if (it == signatures->byName.end())
    return text;
  llvm::raw_string_ostream os(text);
  it->second.result.print(
      os, [&](unsigned atom) { return signatures->atomNames[atom]; });
  return text;
}

SmallVector<std::string> Program::getParameterNames(StringRef name) const {
  auto it = signatures->byName.find(name.str());
  if (it == signatures->byName.end())
    return {};
  return SmallVector<std::string>(it->second.paramNames.begin(),
                                  it->second.paramNames.end());
}
