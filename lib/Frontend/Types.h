//===- Types.h - Types and symbolic sizes of the Leibniz language -*- C++ -*-=//
//
// Part of Leibniz.
//
// Semantic analysis gives every expression a type: a scalar, a tensor whose
// sizes are symbolic size expressions, or a tuple. A size expression is a
// polynomial with integer coefficients over size atoms: the size parameters
// of a definition and the sizes that are only known at run time (the length
// of `iota(k)` for a computed `k`). Two sizes are equal at compile time when
// their polynomials are equal.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_LIB_FRONTEND_TYPES_H
#define LEIBNIZ_LIB_FRONTEND_TYPES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace leibniz::frontend {

/// A polynomial over size atoms (identified by number).
class SizeExpr {
public:
  /// A product of atoms, sorted; empty for the constant term.
  using Monomial = llvm::SmallVector<unsigned, 2>;

  SizeExpr() = default;
  static SizeExpr getConstant(int64_t value);
  static SizeExpr getAtom(unsigned atom);

  std::optional<int64_t> getConstantValue() const;
  /// The atom if the expression is exactly one atom.
  std::optional<unsigned> getSingleAtom() const;
  /// If the expression is `a * atom + b` for a single atom with `a != 0`,
  /// returns (atom, a, b).
  std::optional<std::tuple<unsigned, int64_t, int64_t>> getLinearForm() const;
  /// Every atom that occurs.
  llvm::SmallVector<unsigned> getAtoms() const;
  const std::map<Monomial, int64_t> &getTerms() const { return terms; }

  SizeExpr operator+(const SizeExpr &other) const;
  SizeExpr operator-(const SizeExpr &other) const;
  SizeExpr operator*(const SizeExpr &other) const;
  bool operator==(const SizeExpr &other) const { return terms == other.terms; }
  bool operator!=(const SizeExpr &other) const { return !(*this == other); }

  /// Divides every coefficient by `divisor`; nullopt if one is not
  /// divisible.
  std::optional<SizeExpr> divideExactly(int64_t divisor) const;

  /// Replaces atoms by expressions; atoms for which `map` returns nullopt
  /// stay.
  SizeExpr
  substitute(llvm::function_ref<std::optional<SizeExpr>(unsigned)> map) const;

  /// Prints as `2 * n + 1`, naming atoms with `name`.
  void print(llvm::raw_ostream &os,
             llvm::function_ref<std::string(unsigned)> name) const;

private:
  void addTerm(const Monomial &monomial, int64_t coefficient);
  std::map<Monomial, int64_t> terms;
};

/// The scalar types of the language.
enum class ScalarKind { F32, F64, I32, I64, Bool };

llvm::StringRef getScalarName(ScalarKind kind);
std::optional<ScalarKind> parseScalarName(llvm::StringRef name);
inline bool isFloat(ScalarKind kind) {
  return kind == ScalarKind::F32 || kind == ScalarKind::F64;
}
inline bool isInteger(ScalarKind kind) {
  return kind == ScalarKind::I32 || kind == ScalarKind::I64;
}
mlir::Type getScalarType(mlir::MLIRContext *context, ScalarKind kind);

/// The type of a value: a scalar, a tensor or a tuple (unit is the empty
/// tuple).
struct Ty {
  enum Kind { Scalar, Tensor, Tuple };
  Kind kind = Scalar;
  ScalarKind scalar = ScalarKind::F64;
  llvm::SmallVector<SizeExpr> dims;
  std::vector<Ty> elements;

  static Ty getScalar(ScalarKind kind) { return Ty{Scalar, kind, {}, {}}; }
  static Ty getTensor(ScalarKind kind, llvm::ArrayRef<SizeExpr> dims);
  static Ty getTuple(std::vector<Ty> elements) {
    return Ty{Tuple, ScalarKind::F64, {}, std::move(elements)};
  }

  bool isScalar() const { return kind == Scalar; }
  bool isTensor() const { return kind == Tensor; }
  bool isTuple() const { return kind == Tuple; }
  /// A scalar or a tensor.
  bool isArray() const { return kind != Tuple; }
  unsigned getRank() const { return dims.size(); }

  bool operator==(const Ty &other) const;
  bool operator!=(const Ty &other) const { return !(*this == other); }

  /// The same type with every size substituted.
  Ty substitute(
      llvm::function_ref<std::optional<SizeExpr>(unsigned)> map) const;
  /// Calls `fn` on every size.
  void walkSizes(llvm::function_ref<void(const SizeExpr &)> fn) const;

  /// The MLIR type: builtin scalars (bool is i1), ranked tensors with
  /// dynamic dimensions for non-constant sizes, builtin tuples.
  mlir::Type getMLIRType(mlir::MLIRContext *context) const;

  /// Prints as the language writes types: `f64[n, 3]`, `(f64, i64)`, `()`.
  void print(llvm::raw_ostream &os,
             llvm::function_ref<std::string(unsigned)> name) const;
};

} // namespace leibniz::frontend

#endif // LEIBNIZ_LIB_FRONTEND_TYPES_H
