//===- Types.cpp - Types and symbolic sizes of the Leibniz language -------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "Types.h"

#include "llvm/ADT/STLExtras.h"

using namespace leibniz::frontend;

// Coefficients wrap on overflow instead of being undefined; sizes that large
// are rejected when a tensor is allocated.
static int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
static int64_t wrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                              static_cast<uint64_t>(b));
}

SizeExpr SizeExpr::getConstant(int64_t value) {
  SizeExpr result;
  result.addTerm({}, value);
  return result;
}

SizeExpr SizeExpr::getAtom(unsigned atom) {
  SizeExpr result;
  result.addTerm({atom}, 1);
  return result;
}

void SizeExpr::addTerm(const Monomial &monomial, int64_t coefficient) {
  int64_t &slot = terms[monomial];
  slot = wrapAdd(slot, coefficient);
  if (slot == 0)
    terms.erase(monomial);
}

std::optional<int64_t> SizeExpr::getConstantValue() const {
  if (terms.empty())
    return 0;
  if (terms.size() == 1 && terms.begin()->first.empty())
    return terms.begin()->second;
  return std::nullopt;
}

std::optional<unsigned> SizeExpr::getSingleAtom() const {
  if (terms.size() == 1 && terms.begin()->first.size() == 1 &&
      terms.begin()->second == 1)
    return terms.begin()->first.front();
  return std::nullopt;
}

std::optional<std::tuple<unsigned, int64_t, int64_t>>
SizeExpr::getLinearForm() const {
  std::optional<unsigned> atom;
  int64_t scale = 0, offset = 0;
  for (const auto &[monomial, coefficient] : terms) {
    if (monomial.empty()) {
      offset = coefficient;
      continue;
    }
    if (monomial.size() != 1 || atom)
      return std::nullopt;
    atom = monomial.front();
    scale = coefficient;
  }
  if (!atom)
    return std::nullopt;
  return std::make_tuple(*atom, scale, offset);
}

llvm::SmallVector<unsigned> SizeExpr::getAtoms() const {
  llvm::SmallVector<unsigned> atoms;
  for (const auto &term : terms)
    for (unsigned atom : term.first)
      if (!llvm::is_contained(atoms, atom))
        atoms.push_back(atom);
  return atoms;
}

SizeExpr SizeExpr::operator+(const SizeExpr &other) const {
  SizeExpr result = *this;
  for (const auto &[monomial, coefficient] : other.terms)
    result.addTerm(monomial, coefficient);
  return result;
}

SizeExpr SizeExpr::operator-(const SizeExpr &other) const {
  SizeExpr result = *this;
  for (const auto &[monomial, coefficient] : other.terms)
    result.addTerm(monomial, wrapMul(coefficient, -1));
  return result;
}

SizeExpr SizeExpr::operator*(const SizeExpr &other) const {
  SizeExpr result;
  for (const auto &[a, ca] : terms) {
    for (const auto &[b, cb] : other.terms) {
      Monomial product(a);
      product.append(b.begin(), b.end());
      llvm::sort(product);
      result.addTerm(product, wrapMul(ca, cb));
    }
  }
  return result;
}

std::optional<SizeExpr> SizeExpr::divideExactly(int64_t divisor) const {
  if (divisor == 0)
    return std::nullopt;
  SizeExpr result;
  for (const auto &[monomial, coefficient] : terms) {
    if (divisor == -1 || coefficient % divisor != 0)
      return std::nullopt;
    result.addTerm(monomial, coefficient / divisor);
  }
  return result;
}

SizeExpr SizeExpr::substitute(
    llvm::function_ref<std::optional<SizeExpr>(unsigned)> map) const {
  SizeExpr result;
  for (const auto &[monomial, coefficient] : terms) {
    SizeExpr product = getConstant(coefficient);
    for (unsigned atom : monomial) {
      std::optional<SizeExpr> replacement = map(atom);
      product = product * (replacement ? *replacement : getAtom(atom));
    }
    result = result + product;
  }
  return result;
}

void SizeExpr::print(llvm::raw_ostream &os,
                     llvm::function_ref<std::string(unsigned)> name) const {
  if (terms.empty()) {
    os << "0";
    return;
  }
  // Highest degree first, atoms in order, the constant last: `2 * n + 1`.
  std::vector<std::pair<Monomial, int64_t>> sorted(terms.begin(), terms.end());
  llvm::stable_sort(sorted, [](const auto &a, const auto &b) {
    return a.first.size() > b.first.size();
  });
  bool first = true;
  for (const auto &[monomial, coefficient] : sorted) {
    int64_t magnitude = coefficient;
    if (!first) {
      os << (coefficient < 0 ? " - " : " + ");
      if (coefficient < 0)
        magnitude = wrapMul(coefficient, -1);
    } else if (coefficient < 0 && !monomial.empty()) {
      os << "-";
      magnitude = wrapMul(coefficient, -1);
    }
    first = false;
    if (monomial.empty()) {
      os << magnitude;
      continue;
    }
    if (magnitude != 1)
      os << magnitude << " * ";
    llvm::interleave(
        monomial, os, [&](unsigned atom) { os << name(atom); }, " * ");
  }
}

llvm::StringRef leibniz::frontend::getScalarName(ScalarKind kind) {
  switch (kind) {
  case ScalarKind::F32:
    return "f32";
  case ScalarKind::F64:
    return "f64";
  case ScalarKind::I32:
    return "i32";
  case ScalarKind::I64:
    return "i64";
  case ScalarKind::Bool:
    return "bool";
  }
  llvm_unreachable("unknown scalar kind");
}

std::optional<ScalarKind>
leibniz::frontend::parseScalarName(llvm::StringRef name) {
  for (ScalarKind kind : {ScalarKind::F32, ScalarKind::F64, ScalarKind::I32,
                          ScalarKind::I64, ScalarKind::Bool})
    if (getScalarName(kind) == name)
      return kind;
  return std::nullopt;
}

mlir::Type leibniz::frontend::getScalarType(mlir::MLIRContext *context,
                                            ScalarKind kind) {
  mlir::Builder builder(context);
  switch (kind) {
  case ScalarKind::F32:
    return builder.getF32Type();
  case ScalarKind::F64:
    return builder.getF64Type();
  case ScalarKind::I32:
    return builder.getI32Type();
  case ScalarKind::I64:
    return builder.getI64Type();
  case ScalarKind::Bool:
    return builder.getI1Type();
  }
  llvm_unreachable("unknown scalar kind");
}

Ty Ty::getTensor(ScalarKind kind, llvm::ArrayRef<SizeExpr> dims) {
  if (dims.empty())
    return getScalar(kind);
  Ty result{Tensor, kind, {}, {}};
  result.dims.assign(dims.begin(), dims.end());
  return result;
}

bool Ty::operator==(const Ty &other) const {
  if (kind != other.kind)
    return false;
  if (kind == Tuple)
    return elements == other.elements;
  return scalar == other.scalar && dims == other.dims;
}

Ty Ty::substitute(
    llvm::function_ref<std::optional<SizeExpr>(unsigned)> map) const {
  Ty result = *this;
  for (SizeExpr &dim : result.dims)
    dim = dim.substitute(map);
  for (Ty &element : result.elements)
    element = element.substitute(map);
  return result;
}

void Ty::walkSizes(llvm::function_ref<void(const SizeExpr &)> fn) const {
  for (const SizeExpr &dim : dims)
    fn(dim);
  for (const Ty &element : elements)
    element.walkSizes(fn);
}

mlir::Type Ty::getMLIRType(mlir::MLIRContext *context) const {
  switch (kind) {
  case Scalar:
    return getScalarType(context, scalar);
  case Tensor: {
    llvm::SmallVector<int64_t> shape;
    for (const SizeExpr &dim : dims) {
      std::optional<int64_t> value = dim.getConstantValue();
      shape.push_back(value && *value >= 0 ? *value
                                           : mlir::ShapedType::kDynamic);
    }
    return mlir::RankedTensorType::get(shape, getScalarType(context, scalar));
  }
  case Tuple: {
    llvm::SmallVector<mlir::Type> types;
    for (const Ty &element : elements)
      types.push_back(element.getMLIRType(context));
    return mlir::TupleType::get(context, types);
  }
  }
  llvm_unreachable("unknown type kind");
}

void Ty::print(llvm::raw_ostream &os,
               llvm::function_ref<std::string(unsigned)> name) const {
  if (kind == Tuple) {
    os << "(";
    llvm::interleaveComma(elements, os,
                          [&](const Ty &element) { element.print(os, name); });
    if (elements.size() == 1)
      os << ",";
    os << ")";
    return;
  }
  os << getScalarName(scalar);
  if (kind == Scalar)
    return;
  os << "[";
  llvm::interleaveComma(dims, os,
                        [&](const SizeExpr &dim) { dim.print(os, name); });
  os << "]";
}
