//===- Implicit.cpp - Implicit differentiation ----------------------------===//
//
// Part of Leibniz.
//
// The derivatives of solves by the implicit function theorem. For
// x*(θ) = argmin_x f(x, θ), the optimality condition is G(x*, θ) = 0 with
// G = ∇ₓf; with A = ∂ₓG (the Hessian, symmetric) and B = ∂θG, reverse mode
// solves A u = x̄ and gives θ̄ = −Bᵀu. The products with A and Bᵀ are
// matrix-free: reverse mode over the reverse derivative of f (Aᵀu and Bᵀu
// are the cotangents of x and θ of ⟨G(x, θ), u⟩). No derivative flows into
// the solve's initial point.
//
//===----------------------------------------------------------------------===//

#include "Rules.h"

#include "AD/ADOps.h"
#include "Lz/LzOps.h"
#include "leibniz/AD/Forward.h"
#include "leibniz/AD/Reverse.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::ad;

/// `value` as an f64 scalar.
static Value toF64(OpBuilder &b, Location loc, Value value) {
  Type f64 = b.getF64Type();
  if (value.getType() == f64)
    return value;
  return arith::ExtFOp::create(b, loc, f64, value);
}

Value ad::detail::buildLeafDot(OpBuilder &builder, Location loc, ValueRange a,
                               ValueRange b) {
  Value total =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(0.0));
  for (auto [x, y] : llvm::zip(a, b)) {
    Value term;
    auto tensor = dyn_cast<RankedTensorType>(x.getType());
    if (!tensor) {
      term = arith::MulFOp::create(builder, loc, toF64(builder, loc, x),
                                   toF64(builder, loc, y));
    } else {
      SmallVector<Value> ranges = getSizes(builder, loc, x);
      term = lz::SumOp::create(
                 builder, loc, builder.getF64Type(), ranges,
                 [&](OpBuilder &inner, Location loc, ValueRange indices) {
                   Value xi = lz::GetOp::create(inner, loc, x, indices);
                   Value yi = lz::GetOp::create(inner, loc, y, indices);
                   Value product =
                       arith::MulFOp::create(inner, loc, toF64(inner, loc, xi),
                                             toF64(inner, loc, yi));
                   lz::YieldOp::create(inner, loc, ValueRange{product});
                 })
                 .getResult();
    }
    total = arith::AddFOp::create(builder, loc, total, term);
  }
  return total;
}

SmallVector<Value> ad::detail::buildLeafAxpy(OpBuilder &builder, Location loc,
                                             Value alpha, ValueRange a,
                                             ValueRange y) {
  SmallVector<Value> results;
  for (auto [i, x] : llvm::enumerate(a)) {
    Value other = y.empty() ? Value() : y[i];
    // alpha x_k (+ y_k) for an element type `type`.
    auto combine = [&](OpBuilder &b, Type type, Value xk, Value yk) -> Value {
      Value scale = alpha;
      if (type != alpha.getType())
        scale = arith::TruncFOp::create(b, loc, type, alpha);
      Value product = arith::MulFOp::create(b, loc, scale, xk);
      return yk ? arith::AddFOp::create(b, loc, product, yk).getResult()
                : product;
    };
    auto tensor = dyn_cast<RankedTensorType>(x.getType());
    if (!tensor) {
      results.push_back(combine(builder, x.getType(), x, other));
      continue;
    }
    if (tensor.getRank() == 0) {
      Value xk = lz::GetOp::create(builder, loc, x, ValueRange{});
      Value yk =
          other
              ? lz::GetOp::create(builder, loc, other, ValueRange{}).getResult()
              : Value();
      results.push_back(lz::FillOp::create(
          builder, loc, tensor,
          combine(builder, tensor.getElementType(), xk, yk), ValueRange{}));
      continue;
    }
    SmallVector<Value> ranges = getSizes(builder, loc, x);
    auto traversal = lz::ForOp::create(
        builder, loc, TypeRange{tensor}, ranges,
        [&](OpBuilder &inner, Location loc, ValueRange indices) {
          Value xk = lz::GetOp::create(inner, loc, x, indices);
          Value yk =
              other ? lz::GetOp::create(inner, loc, other, indices).getResult()
                    : Value();
          lz::YieldOp::create(
              inner, loc,
              ValueRange{combine(inner, tensor.getElementType(), xk, yk)});
        });
    results.push_back(traversal.getResult(0));
  }
  return results;
}

namespace {

/// The settings of a linear solver configuration: conjugate gradients
/// (symmetric positive definite operators) or a Neumann series.
struct LinearSolver {
  enum Kind { CG, Neumann } kind = CG;
  int64_t iters = 100;
  double tol = 1e-10;
  double alpha = 1.0;
};

FailureOr<LinearSolver> getLinearSolver(Operation *op, DictionaryAttr config,
                                        bool symmetric) {
  auto name = config.getAs<StringAttr>("name");
  StringRef kind = name ? name.getValue() : "";
  LinearSolver solver;
  if (kind == "neumann")
    solver.kind = LinearSolver::Neumann;
  else if (kind != "cg")
    return op->emitError("not supported yet: the linear solver '")
           << kind << "' of '" << op->getName().stripDialect()
           << "' (cg and neumann are built)";
  else if (!symmetric)
    return op->emitError("the linear solver 'cg' needs a symmetric operator; "
                         "the implicit derivative of '")
           << op->getName().stripDialect() << "' takes 'neumann'";
  auto number = [&](StringRef key) -> std::optional<double> {
    if (auto value = config.getAs<FloatAttr>(key))
      return value.getValueAsDouble();
    if (auto value = config.getAs<IntegerAttr>(key))
      return static_cast<double>(value.getInt());
    return std::nullopt;
  };
  if (std::optional<double> iters =
          number(solver.kind == LinearSolver::CG ? "iters" : "terms"))
    solver.iters = static_cast<int64_t>(*iters);
  if (std::optional<double> tol = number("tol"))
    solver.tol = *tol;
  if (std::optional<double> alpha = number("alpha"))
    solver.alpha = *alpha;
  if (solver.iters < 0 || !(solver.tol >= 0.0) || !(solver.alpha > 0.0))
    return op->emitOpError("needs a linear solver with iters >= 0, tol >= 0 "
                           "and alpha > 0");
  return solver;
}

/// Sums the Neumann series of A⁻¹ rhs: p = α Σ_k (I − αA)^k rhs over
/// `solver.iters` terms (Lorraine et al.), which converges when the
/// spectral radius of I − αA is below 1; reports a last term above tol
/// times the right-hand side as `what`.
SmallVector<Value>
solveNeumann(OpBuilder &builder, Location loc,
             function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
             ValueRange rhs, const LinearSolver &solver, StringRef what) {
  unsigned n = rhs.size();
  SmallVector<Value> inits(rhs);
  llvm::append_range(inits, rhs);
  SmallVector<Type> types;
  for (Value init : inits)
    types.push_back(init.getType());
  Value terms = arith::ConstantIndexOp::create(builder, loc, solver.iters);
  Value minusAlpha = arith::ConstantOp::create(
      builder, loc, builder.getF64FloatAttr(-solver.alpha));
  auto loop = lz::LoopOp::create(builder, loc, types, terms, inits);
  {
    OpBuilder::InsertionGuard guard(builder);
    Block *body = builder.createBlock(&loop.getBody());
    body->addArgument(builder.getIndexType(), loc);
    for (Type type : types)
      body->addArgument(type, loc);
    ValueRange state = body->getArguments().drop_front();
    ValueRange v = state.take_front(n), p = state.drop_front(n);
    SmallVector<Value> next = ad::detail::buildLeafAxpy(
        builder, loc, minusAlpha, apply(builder, v), v);
    Value one =
        arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(1.0));
    SmallVector<Value> sum =
        ad::detail::buildLeafAxpy(builder, loc, one, next, p);
    SmallVector<Value> yields(next);
    llvm::append_range(yields, sum);
    lz::YieldOp::create(builder, loc, yields);
  }
  ValueRange last = loop.getResults().take_front(n);
  Value term = math::SqrtOp::create(
      builder, loc, ad::detail::buildLeafDot(builder, loc, last, last));
  Value scale = math::SqrtOp::create(
      builder, loc, ad::detail::buildLeafDot(builder, loc, rhs, rhs));
  Value bound = arith::MulFOp::create(
      builder, loc, scale,
      arith::ConstantOp::create(builder, loc,
                                builder.getF64FloatAttr(solver.tol)));
  lz::CheckToleranceOp::create(builder, loc, term, bound, what);
  Value alpha = arith::ConstantOp::create(
      builder, loc, builder.getF64FloatAttr(solver.alpha));
  return ad::detail::buildLeafAxpy(builder, loc, alpha,
                                   loop.getResults().drop_front(n), {});
}

/// Solves A u = rhs by conjugate gradients, A symmetric positive definite,
/// given by `apply` on the leaves of a vector; stops once the residual's
/// norm is at most tol times the right-hand side's (the later steps keep
/// the state), and reports a final residual above that as `what`.
SmallVector<Value> solveConjugateGradients(
    OpBuilder &builder, Location loc,
    function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
    ValueRange rhs, const LinearSolver &solver, StringRef what) {
  unsigned n = rhs.size();
  SmallVector<Value> inits;
  for (Value leaf : rhs)
    inits.push_back(ad::detail::buildZeros(builder, loc, leaf));
  llvm::append_range(inits, rhs); // r
  llvm::append_range(inits, rhs); // p
  Value rs = ad::detail::buildLeafDot(builder, loc, rhs, rhs);
  inits.push_back(rs);
  Value limit = arith::MulFOp::create(
      builder, loc, rs,
      arith::ConstantOp::create(
          builder, loc, builder.getF64FloatAttr(solver.tol * solver.tol)));
  SmallVector<Type> types;
  for (Value init : inits)
    types.push_back(init.getType());
  Value iters = arith::ConstantIndexOp::create(builder, loc, solver.iters);
  auto loop = lz::LoopOp::create(builder, loc, types, iters, inits);
  {
    OpBuilder::InsertionGuard guard(builder);
    Block *body = builder.createBlock(&loop.getBody());
    body->addArgument(builder.getIndexType(), loc);
    for (Type type : types)
      body->addArgument(type, loc);
    ValueRange state = body->getArguments().drop_front();
    ValueRange u = state.take_front(n), r = state.slice(n, n),
               p = state.slice(2 * n, n);
    Value rsOld = state.back();
    Value done = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OLE,
                                       rsOld, limit);
    auto step = scf::IfOp::create(
        builder, loc, done,
        [&](OpBuilder &b, Location loc) {
          scf::YieldOp::create(b, loc, state);
        },
        [&](OpBuilder &b, Location loc) {
          SmallVector<Value> ap = apply(b, p);
          Value alpha = arith::DivFOp::create(
              b, loc, rsOld, ad::detail::buildLeafDot(b, loc, p, ap));
          SmallVector<Value> next =
              ad::detail::buildLeafAxpy(b, loc, alpha, p, u);
          Value minusAlpha = arith::NegFOp::create(b, loc, alpha);
          SmallVector<Value> residual =
              ad::detail::buildLeafAxpy(b, loc, minusAlpha, ap, r);
          Value rsNew = ad::detail::buildLeafDot(b, loc, residual, residual);
          Value beta = arith::DivFOp::create(b, loc, rsNew, rsOld);
          SmallVector<Value> direction =
              ad::detail::buildLeafAxpy(b, loc, beta, p, residual);
          SmallVector<Value> yields(next);
          llvm::append_range(yields, residual);
          llvm::append_range(yields, direction);
          yields.push_back(rsNew);
          scf::YieldOp::create(b, loc, yields);
        });
    lz::YieldOp::create(builder, loc, step.getResults());
  }
  // The residual of the last step, against the tolerance.
  Value residual = math::SqrtOp::create(builder, loc, loop.getResults().back());
  Value bound = math::SqrtOp::create(builder, loc, limit);
  lz::CheckToleranceOp::create(builder, loc, residual, bound, what);
  return SmallVector<Value>(loop.getResults().take_front(n));
}

/// `value` cast to `type` where their static sizes differ.
Value castTo(OpBuilder &builder, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(builder, loc, type, value);
}

} // namespace

namespace {

/// Solves A u = rhs with `solver`, for the implicit derivative of `what`.
SmallVector<Value>
solveLinear(OpBuilder &b, Location loc, const LinearSolver &solver,
            function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
            ValueRange rhs, StringRef what) {
  if (solver.kind == LinearSolver::CG)
    return solveConjugateGradients(
        b, loc, apply, rhs, solver,
        ("the residual of the implicit linear solve (cg) of '" + what + "'")
            .str());
  return solveNeumann(
      b, loc, apply, rhs, solver,
      ("the last term of the implicit Neumann series of '" + what + "'").str());
}

/// What the rules of a solve (`ad.argmin`, `ad.fixed_point`) share: its
/// linear solver, its function, and the vectors of the solve (the leaves
/// of the parameters' type).
template <typename OpTy> struct ImplicitSolve {
  OpTy op;
  func::FuncOp f;
  LinearSolver solver;
  Location loc;

  /// `symmetric`: whether the solve's operator is (CG is refused if not).
  static FailureOr<ImplicitSolve> get(OpTy op, bool symmetric) {
    FailureOr<LinearSolver> solver =
        getLinearSolver(op, op.getImplicit(), symmetric);
    if (failed(solver))
      return failure();
    auto f = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
        op, op.getCalleeAttr());
    if (!f)
      return op->emitOpError("needs a function '") << op.getCalleeAttr() << "'";
    return ImplicitSolve{op, f, *solver, op.getLoc()};
  }

  /// The indices of the captures for which `isActive` holds.
  SmallVector<unsigned> getActiveCaptures(function_ref<bool(Value)> isActive) {
    SmallVector<unsigned> active;
    for (auto [i, captured] : llvm::enumerate(op.getCaptures()))
      if (isActive(captured))
        active.push_back(i);
    return active;
  }

  /// For a function whose arguments are the parameters, the captures and
  /// more (`callee`): the masks of the parameters alone and of the captures
  /// `captures`.
  static std::pair<SmallVector<bool>, SmallVector<bool>>
  getMasks(func::FuncOp callee, ArrayRef<unsigned> captures) {
    SmallVector<bool> alongX(callee.getNumArguments(), false);
    SmallVector<bool> alongTheta(alongX);
    alongX[0] = true;
    for (unsigned i : captures)
      alongTheta[1 + i] = true;
    return {alongX, alongTheta};
  }

  SmallVector<Value> leavesOf(OpBuilder &b, Value value) {
    SmallVector<Value> leaves;
    lz::buildTupleLeaves(
        b, loc, castTo(b, loc, value, op.getResult().getType()), leaves);
    return leaves;
  }
  Value vectorOf(OpBuilder &b, ValueRange leaves) {
    return lz::buildTupleFromLeaves(b, loc, op.getResult().getType(), leaves);
  }

  /// Calls `callee` on the solution, the captures and then `extra`, cast
  /// to its inputs.
  func::CallOp call(OpBuilder &b, func::FuncOp callee, Value solution,
                    ValueRange captures, ValueRange extra) {
    SmallVector<Value> operands = {solution};
    llvm::append_range(operands, captures);
    llvm::append_range(operands, extra);
    for (auto [operand, type] :
         llvm::zip(operands, callee.getFunctionType().getInputs()))
      operand = castTo(b, loc, operand, type);
    return func::CallOp::create(b, loc, callee, operands);
  }

  /// The solution of A u = rhs by the configured solver.
  SmallVector<Value>
  solve(OpBuilder &b,
        function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
        ValueRange rhs) {
    return solveLinear(b, loc, solver, apply, rhs,
                       op->getName().stripDialect());
  }
};

using ImplicitArgmin = ImplicitSolve<ArgminOp>;
using ImplicitFixedPoint = ImplicitSolve<FixedPointOp>;

/// The parameters' derivative of the objective of an argmin.
SmallVector<bool> getWrtParameters(func::FuncOp f) {
  SmallVector<bool> active(f.getNumArguments(), false);
  active[0] = true;
  return active;
}

/// The constant 1 of the objective's type: the seed ȳ of its reverse
/// derivative G = (x, θ..., ȳ) -> (f, ȳ∇ₓf).
Value getSeed(OpBuilder &b, Location loc, func::FuncOp f) {
  Type type = f.getResultTypes()[0];
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, 1.0));
}

} // namespace

LogicalResult ad::detail::argminVjp(Operation *op, ReverseBuilder &reverse) {
  auto argmin = cast<ArgminOp>(op);
  Value cotangent = reverse.cotangent(argmin.getResult());
  if (!cotangent)
    return success();
  FailureOr<ImplicitArgmin> implicit =
      ImplicitArgmin::get(argmin, /*symmetric=*/true);
  if (failed(implicit))
    return failure();
  SmallVector<unsigned> varied = implicit->getActiveCaptures(
      [&](Value captured) { return reverse.isVaried(captured); });
  if (varied.empty())
    return success();
  Location loc = implicit->loc;

  // G: (x, θ..., ȳ) -> (f, ∇ₓf); its reverse derivatives with respect to x
  // (A u) and to the varied captures (Bᵀu).
  FailureOr<func::FuncOp> gradient =
      reverse.getDerivative(implicit->f, getWrtParameters(implicit->f));
  if (failed(gradient))
    return failure();
  auto [gx, gtheta] = ImplicitArgmin::getMasks(*gradient, varied);
  FailureOr<func::FuncOp> hessian = reverse.getDerivative(*gradient, gx);
  if (failed(hessian))
    return failure();
  FailureOr<func::FuncOp> mixed = reverse.getDerivative(*gradient, gtheta);
  if (failed(mixed))
    return failure();

  OpBuilder &builder = reverse.getBuilder();
  Value solution = reverse.primal(argmin.getResult());
  SmallVector<Value> captures;
  for (Value captured : argmin.getCaptures())
    captures.push_back(reverse.primal(captured));
  Value seed = getSeed(builder, loc, implicit->f);
  Type lossType = implicit->f.getResultTypes()[0];
  Value zero = arith::ConstantOp::create(builder, loc, lossType,
                                         builder.getFloatAttr(lossType, 0.0));
  // The cotangents of G's results: none for f, v for ∇ₓf.
  auto call = [&](OpBuilder &b, func::FuncOp callee, Value v) {
    return implicit->call(b, callee, solution, captures, {seed, zero, v});
  };
  auto applyHessian = [&](OpBuilder &b, ValueRange v) {
    return implicit->leavesOf(
        b, call(b, *hessian, implicit->vectorOf(b, v)).getResult(2));
  };
  SmallVector<Value> u = implicit->solve(
      builder, applyHessian, implicit->leavesOf(builder, cotangent));

  // θ̄ = −Bᵀu: the cotangents of θ for the cotangent −u of ∇ₓf.
  Value minusOne =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(-1.0));
  Value minusU =
      implicit->vectorOf(builder, buildLeafAxpy(builder, loc, minusOne, u, {}));
  func::CallOp cotangents = call(builder, *mixed, minusU);
  for (auto [k, i] : llvm::enumerate(varied)) {
    OpOperand &operand = argmin->getOpOperand(1 + i);
    reverse.addCotangent(operand,
                         castTo(builder, loc, cotangents.getResult(2 + k),
                                operand.get().getType()));
  }
  return success();
}

LogicalResult ad::detail::argminJvp(Operation *op, ForwardBuilder &forward) {
  auto argmin = cast<ArgminOp>(op);
  FailureOr<ImplicitArgmin> implicit =
      ImplicitArgmin::get(argmin, /*symmetric=*/true);
  if (failed(implicit))
    return failure();
  SmallVector<unsigned> active = implicit->getActiveCaptures(
      [&](Value captured) { return forward.tangent(captured) != nullptr; });
  // No tangent flows from the initial point.
  if (active.empty())
    return success();
  Location loc = implicit->loc;

  // The forward derivatives of G = (x, θ..., ȳ) -> (f, ∇ₓf) along x (A v)
  // and along the captures that have tangents (B θ̇).
  FailureOr<func::FuncOp> gradient = forward.getReverseDerivative(
      op, implicit->f, getWrtParameters(implicit->f));
  if (failed(gradient))
    return failure();
  auto [gx, gtheta] = ImplicitArgmin::getMasks(*gradient, active);
  FailureOr<func::FuncOp> alongX = forward.getDerivative(*gradient, gx);
  if (failed(alongX))
    return failure();
  FailureOr<func::FuncOp> alongTheta = forward.getDerivative(*gradient, gtheta);
  if (failed(alongTheta))
    return failure();

  OpBuilder &builder = forward.getBuilder();
  Value solution = forward.primal(argmin.getResult());
  SmallVector<Value> captures, tangents;
  for (Value captured : argmin.getCaptures())
    captures.push_back(forward.primal(captured));
  for (unsigned i : active)
    tangents.push_back(forward.tangent(argmin.getCaptures()[i]));
  Value seed = getSeed(builder, loc, implicit->f);
  // The tangent of ∇ₓf, after G's results and the tangent of f.
  auto tangentOfGradient = [&](OpBuilder &b, func::FuncOp callee,
                               ValueRange extra) {
    SmallVector<Value> operands = {seed};
    llvm::append_range(operands, extra);
    return implicit->leavesOf(
        b,
        implicit->call(b, callee, solution, captures, operands).getResult(3));
  };
  auto applyHessian = [&](OpBuilder &b, ValueRange v) {
    return tangentOfGradient(b, *alongX, implicit->vectorOf(b, v));
  };
  // A ẋ = −B θ̇.
  Value minusOne =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(-1.0));
  SmallVector<Value> rhs =
      buildLeafAxpy(builder, loc, minusOne,
                    tangentOfGradient(builder, *alongTheta, tangents), {});
  SmallVector<Value> tangent = implicit->solve(builder, applyHessian, rhs);
  forward.setTangent(argmin.getResult(), implicit->vectorOf(builder, tangent));
  return success();
}

/// Solves (I − K) w = rhs for a fixed point, where `product` applies K
/// (J or Jᵀ).
static SmallVector<Value> solveFixedPointSystem(
    ImplicitFixedPoint &implicit, OpBuilder &builder,
    function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> product,
    ValueRange rhs) {
  Location loc = implicit.loc;
  Value minusOne =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(-1.0));
  auto apply = [&](OpBuilder &b, ValueRange v) {
    return ad::detail::buildLeafAxpy(b, loc, minusOne, product(b, v), v);
  };
  return implicit.solve(builder, apply, rhs);
}

LogicalResult ad::detail::fixedPointVjp(Operation *op,
                                        ReverseBuilder &reverse) {
  auto fixedPoint = cast<FixedPointOp>(op);
  Value cotangent = reverse.cotangent(fixedPoint.getResult());
  if (!cotangent)
    return success();
  FailureOr<ImplicitFixedPoint> implicit =
      ImplicitFixedPoint::get(fixedPoint, /*symmetric=*/false);
  if (failed(implicit))
    return failure();
  SmallVector<unsigned> varied = implicit->getActiveCaptures(
      [&](Value captured) { return reverse.isVaried(captured); });
  if (varied.empty())
    return success();
  auto [alongX, alongTheta] = ImplicitFixedPoint::getMasks(implicit->f, varied);
  FailureOr<func::FuncOp> transposed =
      reverse.getDerivative(implicit->f, alongX);
  if (failed(transposed))
    return failure();
  FailureOr<func::FuncOp> mixed =
      reverse.getDerivative(implicit->f, alongTheta);
  if (failed(mixed))
    return failure();
  OpBuilder &builder = reverse.getBuilder();
  Location loc = implicit->loc;
  Value solution = reverse.primal(fixedPoint.getResult());
  SmallVector<Value> captures;
  for (Value captured : fixedPoint.getCaptures())
    captures.push_back(reverse.primal(captured));
  // (I − Jᵀ) u = x̄, then θ̄ = (∂θT)ᵀ u.
  auto product = [&](OpBuilder &b, ValueRange v) {
    return implicit->leavesOf(b, implicit
                                     ->call(b, *transposed, solution, captures,
                                            implicit->vectorOf(b, v))
                                     .getResult(1));
  };
  SmallVector<Value> u = solveFixedPointSystem(
      *implicit, builder, product, implicit->leavesOf(builder, cotangent));
  func::CallOp call = implicit->call(builder, *mixed, solution, captures,
                                     implicit->vectorOf(builder, u));
  for (auto [k, i] : llvm::enumerate(varied)) {
    OpOperand &operand = fixedPoint->getOpOperand(1 + i);
    reverse.addCotangent(operand, castTo(builder, loc, call.getResult(1 + k),
                                         operand.get().getType()));
  }
  return success();
}

LogicalResult ad::detail::fixedPointJvp(Operation *op,
                                        ForwardBuilder &forward) {
  auto fixedPoint = cast<FixedPointOp>(op);
  FailureOr<ImplicitFixedPoint> implicit =
      ImplicitFixedPoint::get(fixedPoint, /*symmetric=*/false);
  if (failed(implicit))
    return failure();
  SmallVector<unsigned> active = implicit->getActiveCaptures(
      [&](Value captured) { return forward.tangent(captured) != nullptr; });
  if (active.empty())
    return success();
  auto [alongX, alongTheta] = ImplicitFixedPoint::getMasks(implicit->f, active);
  FailureOr<func::FuncOp> linear = forward.getDerivative(implicit->f, alongX);
  if (failed(linear))
    return failure();
  FailureOr<func::FuncOp> mixed =
      forward.getDerivative(implicit->f, alongTheta);
  if (failed(mixed))
    return failure();
  OpBuilder &builder = forward.getBuilder();
  Value solution = forward.primal(fixedPoint.getResult());
  SmallVector<Value> captures, tangents;
  for (Value captured : fixedPoint.getCaptures())
    captures.push_back(forward.primal(captured));
  for (unsigned i : active)
    tangents.push_back(forward.tangent(fixedPoint.getCaptures()[i]));
  // (I − J) ẋ = ∂θT θ̇.
  auto tangentOf = [&](OpBuilder &b, func::FuncOp callee, ValueRange extra) {
    return implicit->leavesOf(
        b, implicit->call(b, callee, solution, captures, extra).getResult(1));
  };
  auto product = [&](OpBuilder &b, ValueRange v) {
    return tangentOf(b, *linear, implicit->vectorOf(b, v));
  };
  SmallVector<Value> tangent = solveFixedPointSystem(
      *implicit, builder, product, tangentOf(builder, *mixed, tangents));
  forward.setTangent(fixedPoint.getResult(),
                     implicit->vectorOf(builder, tangent));
  return success();
}
