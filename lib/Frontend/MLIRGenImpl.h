//===- MLIRGenImpl.h - The semantic analysis and IR generator ---*- C++ -*-===//
//
// Part of Leibniz.
//
// Semantic analysis and IR generation are one walk over the syntax tree:
// every expression is checked as its IR is built, and an ill-typed
// expression produces an error instead of IR. Compile-time values (functions,
// optimizer configurations, strings) never reach the IR: lambdas are inlined
// where they are applied, and lifted into private functions (with their
// captured values as trailing parameters) where a transformation (`grad`,
// `minimize`, ...) needs a function symbol.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_LIB_FRONTEND_MLIRGENIMPL_H
#define LEIBNIZ_LIB_FRONTEND_MLIRGENIMPL_H

#include "Types.h"

#include "leibniz/Frontend/MLIRGen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <memory>

namespace leibniz::frontend {

struct FunctionState;
struct FnValue;
struct ConfigValue;
struct PendingRange;

/// A run-time value: its type, its SSA value (of the MLIR type of `type`),
/// and what is known about it at compile time.
struct TValue {
  Ty type;
  mlir::Value value;
  /// The function whose body defines `value`.
  FunctionState *owner = nullptr;
  /// The value of a numeric literal (possibly folded); such a value has no
  /// SSA value until it is used.
  std::optional<double> literal;
  /// A literal whose element type still adapts to its context (`2 * x` is
  /// f32 when `x` is).
  bool weak = false;
  /// For an i64 scalar that equals a size expression (a size parameter,
  /// `size(x, 0)`, an integer literal, sums and products of those).
  std::optional<SizeExpr> size;
  /// For a tuple built in the source (`(a, 2)`): its elements. Such a tuple
  /// has no SSA value until it is used as a whole, so that destructuring
  /// and projections need no IR and literal tuples stay compile-time
  /// values (`wrt = (0, 2)`).
  std::vector<TValue> elements;
};

/// Any value the language can name: run-time data, or a compile-time
/// function, optimizer or solver configuration, or string.
struct Val {
  enum Kind { Data, Function, Config, String };
  Kind kind = Data;
  TValue data;
  std::shared_ptr<const FnValue> fn;
  std::shared_ptr<const ConfigValue> config;
  std::string str;
  /// For the index variable of a scope whose range is being inferred.
  PendingRange *pending = nullptr;

  static Val getData(TValue value) {
    Val result;
    result.data = std::move(value);
    return result;
  }
  static Val getFunction(std::shared_ptr<const FnValue> fn) {
    Val result;
    result.kind = Function;
    result.fn = std::move(fn);
    return result;
  }
};

/// Names in scope, innermost last.
using Env = std::vector<std::pair<std::string, Val>>;

/// A compile-time function value.
struct FnValue {
  enum Kind { Def, Builtin, Lambda, Transform };
  Kind kind;
  /// The definition, builtin or transformation name (`grad`, `jacfwd`...).
  std::string name;
  /// The definition, resolved where its name was written.
  const DefAST *def = nullptr;
  const LambdaExprAST *lambda = nullptr;
  /// The environment a lambda closes over.
  Env env;
  /// The function a transformation transforms.
  std::shared_ptr<const FnValue> inner;
  /// Options of a transformation: the differentiated arguments (and
  /// whether the gradient is a tuple), and the mode.
  llvm::SmallVector<int64_t> wrt;
  bool wrtTuple = false;
  std::string mode;
};

/// An optimizer, solver or linear-solver configuration: its constructor's
/// name and its named parameters.
struct ConfigValue {
  std::string name;
  mlir::DictionaryAttr attr;
};

/// A definition's signature in terms of its own size atoms.
struct Signature {
  /// The definition's name as written, for messages; `func` has the
  /// symbol.
  std::string name;
  std::vector<std::string> paramNames;
  std::vector<Ty> params;
  Ty result;
  /// The atoms of the size parameters, and their names.
  llvm::SmallVector<unsigned> sizeParams;
  mlir::func::FuncOp func;
  /// For a lifted function: its state, which holds its captures.
  FunctionState *state = nullptr;
};

/// The index variable of a scope whose range is inferred from subscripts.
struct PendingRange {
  std::string name;
  llvm::SMLoc loc;
  std::optional<SizeExpr> range;
  llvm::SMLoc rangeLoc;
  /// The scope depth outside the scope.
  unsigned depth;
};

/// A function whose body is being generated.
struct FunctionState {
  FunctionState(FunctionState *parent, mlir::Location loc)
      : parent(parent), loc(loc) {}

  mlir::func::FuncOp func;
  /// The function a lifted lambda is generated from, whose values it
  /// captures; null for a definition.
  FunctionState *parent = nullptr;
  /// Values of outer functions and the entry block arguments that hold
  /// them here.
  llvm::DenseMap<mlir::Value, mlir::Value> captures;
  /// The captured outer values, in the order of the arguments.
  llvm::SmallVector<mlir::Value> captured;
  mlir::Location loc;
};

/// Information on one size atom.
struct AtomInfo {
  std::string name;
  /// Its `index` value, in `owner`.
  mlir::Value value;
  FunctionState *owner;
  /// The scope depth it was defined at.
  unsigned depth;
};

class MLIRGenerator {
public:
  MLIRGenerator(mlir::MLIRContext &context, const llvm::SourceMgr &sourceMgr);

  mlir::FailureOr<Program> generate(llvm::ArrayRef<SourceModule> modules);
  /// Reports reverse-mode transformations of functions that run a while
  /// loop: reverse mode cannot replay a loop of unknown length.
  mlir::LogicalResult checkReverseThroughWhile();

  //===--------------------------------------------------------------------===//
  // Diagnostics
  //===--------------------------------------------------------------------===//

  mlir::Location getLoc(llvm::SMLoc loc);
  mlir::InFlightDiagnostic emitError(llvm::SMLoc loc);
  std::string describe(const Ty &type) const;
  std::string describe(const SizeExpr &size) const;
  std::string describe(const Val &value) const;
  /// " (did you mean 'x'?)" for the known name closest to `name`, or "".
  std::string suggest(llvm::StringRef name,
                      llvm::ArrayRef<std::string> candidates) const;

  //===--------------------------------------------------------------------===//
  // Definitions and functions
  //===--------------------------------------------------------------------===//

  /// The definition that `name` refers to where code is being generated:
  /// in library code, the library's; elsewhere, the program's or else the
  /// library's. Null if none.
  const DefAST *lookupDef(llvm::StringRef name) const;
  bool isLibraryDef(const DefAST &def) const {
    return libraryDefs.lookup(def.name) == &def;
  }
  /// The symbol of a definition's function: its name, or for a library
  /// definition, `std$<name>`.
  std::string getSymbol(const DefAST &def) const;
  /// The signature of a definition, generating it first if needed.
  mlir::FailureOr<const Signature *> getSignature(const DefAST &def);
  mlir::LogicalResult generateDef(const DefAST &def, Signature &signature);
  /// Applies a function value to arguments.
  mlir::FailureOr<Val> apply(llvm::SMLoc loc, const FnValue &fn,
                             llvm::ArrayRef<Val> args,
                             llvm::ArrayRef<std::pair<std::string, Val>> named);
  mlir::FailureOr<Val> callDef(llvm::SMLoc loc, const Signature &signature,
                               llvm::ArrayRef<Val> args);
  /// Checks `args` against `signature` and returns the result type in the
  /// caller's sizes; also converts weak literals in `args`.
  mlir::FailureOr<Ty> unifyCall(llvm::SMLoc loc, const Signature &signature,
                                llvm::MutableArrayRef<TValue> args);
  /// A function symbol for `fn` applied to arguments of the types of
  /// `args`: the definition itself, or a new private function.
  mlir::FailureOr<const Signature *>
  liftFunction(llvm::SMLoc loc, const FnValue &fn, llvm::ArrayRef<TValue> args);
  /// Values of other functions used here become captures.
  mlir::Value use(mlir::Value value, FunctionState *owner);
  mlir::Value use(const TValue &value);

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  mlir::FailureOr<Val> gen(const ExprAST &expr);
  mlir::FailureOr<TValue> genData(const ExprAST &expr);
  mlir::FailureOr<Val> genVar(const VarExprAST &expr);
  mlir::FailureOr<Val> genNumber(const NumberExprAST &expr);
  mlir::FailureOr<Val> genUnary(const UnaryExprAST &expr);
  mlir::FailureOr<Val> genBinary(const BinaryExprAST &expr);
  mlir::FailureOr<Val> genCall(const CallExprAST &expr);
  mlir::FailureOr<Val> genIndex(const IndexExprAST &expr);
  mlir::FailureOr<Val> genProject(const ProjectExprAST &expr);
  mlir::FailureOr<Val> genTuple(const TupleExprAST &expr);
  mlir::FailureOr<Val> genIf(const IfExprAST &expr, const Ty *expected);
  mlir::FailureOr<Val> genScope(const ScopeExprAST &expr, const Ty *expected);
  mlir::FailureOr<Val> genBlock(const BlockExprAST &expr, const Ty *expected);
  mlir::FailureOr<Val> genLoop(const LoopExprAST &expr);
  mlir::LogicalResult bindPattern(const PatternAST &pattern, Val value);

  //===--------------------------------------------------------------------===//
  // Values
  //===--------------------------------------------------------------------===//

  /// The SSA value of `value` (materializing a literal), usable here.
  mlir::Value materialize(const TValue &value);
  /// Gives a weak literal the scalar type `kind`; errors for a float
  /// literal in integer context.
  mlir::FailureOr<TValue> coerce(llvm::SMLoc loc, TValue value,
                                 ScalarKind kind);
  /// Makes `value` usable where type `type` is expected (weak literals
  /// adapt); errors name both types.
  mlir::FailureOr<TValue> coerceTo(llvm::SMLoc loc, TValue value,
                                   const Ty &type, llvm::StringRef what);
  /// Brings two array operands to a common scalar kind.
  mlir::LogicalResult unifyScalars(llvm::SMLoc loc, TValue &lhs, TValue &rhs,
                                   llvm::StringRef what);
  TValue makeValue(Ty type, mlir::Value value);
  /// As makeValue, for the result of a call or a transformation whose type
  /// may mention sizes local to the callee: those become new atoms read
  /// from `value`.
  TValue makeLocalValue(Ty type, mlir::Value value);
  TValue makeLiteral(double value, ScalarKind kind, bool weak);
  /// Casts `value` to MLIR type `type` (static and dynamic dimensions).
  mlir::Value castValue(mlir::Value value, mlir::Type type);

  mlir::Value toIndex(mlir::Value value);
  mlir::Value toI64(mlir::Value value);
  mlir::Value getIndexConstant(int64_t value);
  /// The `index` value of a size.
  mlir::Value materializeSize(const SizeExpr &size);
  /// A size for the i64 value `value`: its known size expression, the atom
  /// of the same SSA value of the function's entry block, or a new atom
  /// named `name`.
  SizeExpr toSize(const TValue &value, llvm::StringRef name);
  unsigned newAtom(std::string name, mlir::Value value);
  /// Replaces sizes of `type` that mention atoms not valid at scope depth
  /// `depth` in this function by new atoms read from `value`.
  Ty localizeSizes(const Ty &type, mlir::Value value,
                   llvm::function_ref<bool(unsigned)> isForeign);

  /// Applies `fn` to the scalars at every point of the operands (scalars
  /// broadcast; tensors must have equal shapes).
  mlir::FailureOr<TValue>
  elementwise(llvm::SMLoc loc, llvm::ArrayRef<TValue> operands,
              ScalarKind resultKind, llvm::StringRef what,
              llvm::function_ref<mlir::Value(llvm::ArrayRef<mlir::Value>)> fn);
  /// Builds `lz.for` over `ranges` whose body `fn` returns the element.
  mlir::FailureOr<TValue> buildFor(
      llvm::ArrayRef<SizeExpr> ranges,
      llvm::function_ref<mlir::FailureOr<TValue>(llvm::ArrayRef<TValue>)> body);
  /// Builds a reduction scope (`kind` is kw_sum, kw_prod, kw_max, kw_min).
  mlir::FailureOr<TValue> buildReduction(
      Token::Kind kind, llvm::ArrayRef<SizeExpr> ranges,
      llvm::function_ref<mlir::FailureOr<TValue>(llvm::ArrayRef<TValue>)> body);
  /// Element (or sub-tensor) `indices` of tensor `tensor`.
  TValue getElement(const TValue &tensor, llvm::ArrayRef<TValue> indices);
  TValue project(const TValue &tuple, unsigned index);
  TValue makeTuple(llvm::ArrayRef<TValue> elements);
  /// A tuple of `elements` that becomes IR only where it is used whole.
  TValue makeLazyTuple(llvm::ArrayRef<TValue> elements);

  // Scalar operations on SSA values of scalar kind `kind`.
  mlir::Value scalarBinary(Token::Kind op, ScalarKind kind, mlir::Value lhs,
                           mlir::Value rhs);
  mlir::Value scalarConstant(ScalarKind kind, double value);
  mlir::Value scalarConvert(mlir::Value value, ScalarKind from, ScalarKind to);

  //===--------------------------------------------------------------------===//
  // Builtins (Builtins.cpp)
  //===--------------------------------------------------------------------===//

  static bool isBuiltin(llvm::StringRef name);
  static std::vector<std::string> getBuiltinNames();
  mlir::FailureOr<Val>
  callBuiltin(llvm::SMLoc loc, llvm::StringRef name, llvm::ArrayRef<Val> args,
              llvm::ArrayRef<std::pair<std::string, Val>> named);
  mlir::FailureOr<Val> applyTransform(llvm::SMLoc loc, const FnValue &fn,
                                      llvm::ArrayRef<Val> args);

  //===--------------------------------------------------------------------===//
  // State
  //===--------------------------------------------------------------------===//

  mlir::MLIRContext &context;
  const llvm::SourceMgr &sourceMgr;
  mlir::OpBuilder builder;
  /// The location of the expression being generated, for its IR.
  mlir::Location currentLoc;
  mlir::ModuleOp module;
  std::unique_ptr<Program::Signatures> signatures;

  /// Definitions by name, as the program sees them (its own definitions
  /// shadow the library's).
  llvm::StringMap<const DefAST *> defs;
  /// The standard library's definitions by name, as the library sees them:
  /// a program's definitions never change what library code means.
  llvm::StringMap<const DefAST *> libraryDefs;
  /// Whether the definition being generated is the library's.
  bool inLibrary = false;
  /// Definitions being generated, to reject recursion.
  llvm::StringMap<bool> inProgress;
  /// Definitions that failed: their uses report nothing more.
  llvm::StringMap<bool> failedDefs;
  unsigned numLifted = 0;

  /// Every function generated so far (atoms refer to them).
  std::vector<std::unique_ptr<FunctionState>> functionStates;
  FunctionState *current = nullptr;
  /// The type the next generated expression is expected to have, if known:
  /// `for` scopes take missing ranges from it.
  const Ty *expectedType = nullptr;
  /// Lambda applications inlined into the current definition.
  unsigned inlined = 0;
  Env env;
  unsigned depth = 0;
  std::vector<AtomInfo> atoms;
  /// The atom that toSize made of an i64 value of a function's entry block,
  /// so that `for j < d` twice makes tensors of the same size.
  llvm::DenseMap<mlir::Value, unsigned> valueAtoms;
  /// Where errors during lazy generation of library definitions are
  /// reported.
  std::vector<llvm::SMLoc> useSites;
};

} // namespace leibniz::frontend

#endif // LEIBNIZ_LIB_FRONTEND_MLIRGENIMPL_H
