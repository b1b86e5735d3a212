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
  for (auto pair : llvm::zip_equal(a, b)) {
    Value x = std::get<0>(pair), y = std::get<1>(pair);
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

/// The number of elements of `leaf`, as an index.
static Value buildElementCount(OpBuilder &builder, Location loc, Value leaf) {
  Value count = arith::ConstantIndexOp::create(builder, loc, 1);
  if (isa<RankedTensorType>(leaf.getType()))
    for (Value size : ad::detail::getSizes(builder, loc, leaf))
      count = arith::MulIOp::create(builder, loc, count, size);
  return count;
}

Value ad::detail::buildLeafCount(OpBuilder &builder, Location loc,
                                 ValueRange leaves) {
  Value total = arith::ConstantIndexOp::create(builder, loc, 0);
  for (Value leaf : leaves)
    total = arith::AddIOp::create(builder, loc, total,
                                  buildElementCount(builder, loc, leaf));
  return total;
}

Value ad::detail::buildFlatten(OpBuilder &builder, Location loc,
                               ValueRange leaves) {
  Type f64 = builder.getF64Type();
  auto vectorType = RankedTensorType::get({ShapedType::kDynamic}, f64);
  Value zero =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(0.0));
  Value vector =
      lz::FillOp::create(builder, loc, vectorType, zero,
                         ValueRange{buildLeafCount(builder, loc, leaves)});
  Value offset = arith::ConstantIndexOp::create(builder, loc, 0);
  for (Value leaf : leaves) {
    auto tensor = dyn_cast<RankedTensorType>(leaf.getType());
    Value count = buildElementCount(builder, loc, leaf);
    if (!tensor || tensor.getRank() == 0) {
      Value element =
          tensor
              ? lz::GetOp::create(builder, loc, leaf, ValueRange{}).getResult()
              : leaf;
      vector =
          tensor::InsertOp::create(builder, loc, toF64(builder, loc, element),
                                   vector, ValueRange{offset});
    } else {
      // Element k of the leaf, row-major: its indices from the last
      // dimension's up.
      SmallVector<Value> sizes = getSizes(builder, loc, leaf);
      Value flat =
          lz::ForOp::create(
              builder, loc, TypeRange{vectorType}, ValueRange{count},
              [&](OpBuilder &b, Location loc, ValueRange k) {
                SmallVector<Value> indices(sizes.size());
                Value rest = k[0];
                for (int64_t d = sizes.size() - 1; d >= 0; --d) {
                  indices[d] = arith::RemUIOp::create(b, loc, rest, sizes[d]);
                  rest = arith::DivUIOp::create(b, loc, rest, sizes[d]);
                }
                Value element = lz::GetOp::create(b, loc, leaf, indices);
                lz::YieldOp::create(b, loc, ValueRange{toF64(b, loc, element)});
              })
              .getResult(0);
      SmallVector<OpFoldResult> offsets = {offset}, counts = {count},
                                strides = {builder.getIndexAttr(1)};
      vector = tensor::InsertSliceOp::create(builder, loc, flat, vector,
                                             offsets, counts, strides);
    }
    offset = arith::AddIOp::create(builder, loc, offset, count);
  }
  return vector;
}

SmallVector<Value> ad::detail::buildUnflatten(OpBuilder &builder, Location loc,
                                              Value vector, ValueRange like) {
  SmallVector<Value> leaves;
  Value offset = arith::ConstantIndexOp::create(builder, loc, 0);
  auto narrow = [&](OpBuilder &b, Type type, Value value) -> Value {
    return type == value.getType()
               ? value
               : arith::TruncFOp::create(b, loc, type, value).getResult();
  };
  for (Value leaf : like) {
    auto tensor = dyn_cast<RankedTensorType>(leaf.getType());
    Type element = getElementTypeOrSelf(leaf.getType());
    if (!tensor || tensor.getRank() == 0) {
      Value value =
          narrow(builder, element,
                 lz::GetOp::create(builder, loc, vector, ValueRange{offset}));
      leaves.push_back(
          tensor ? lz::FillOp::create(builder, loc, tensor, value, ValueRange{})
                       .getResult()
                 : value);
    } else {
      SmallVector<Value> sizes = getSizes(builder, loc, leaf);
      Value start = offset;
      leaves.push_back(
          lz::ForOp::create(
              builder, loc, TypeRange{tensor}, sizes,
              [&](OpBuilder &b, Location loc, ValueRange indices) {
                // offset + Σ_d indices[d] · stride_d, row-major.
                Value position = indices[0];
                for (size_t d = 1; d < sizes.size(); ++d)
                  position = arith::AddIOp::create(
                      b, loc, arith::MulIOp::create(b, loc, position, sizes[d]),
                      indices[d]);
                position = arith::AddIOp::create(b, loc, start, position);
                Value value =
                    lz::GetOp::create(b, loc, vector, ValueRange{position});
                lz::YieldOp::create(b, loc,
                                    ValueRange{narrow(b, element, value)});
              })
              .getResult(0));
    }
    offset = arith::AddIOp::create(builder, loc, offset,
                                   buildElementCount(builder, loc, leaf));
  }
  return leaves;
}

Value ad::detail::buildDenseMatrix(OpBuilder &builder, Location loc, Value n,
                                   function_ref<Value(Value)> column) {
  // The rows of the transpose, one unit vector each, then the matrix.
  Type f64 = builder.getF64Type();
  auto vector = RankedTensorType::get({ShapedType::kDynamic}, f64);
  auto matrix =
      RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic}, f64);
  Value zero =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(0.0));
  Value init = lz::FillOp::create(builder, loc, matrix, zero, ValueRange{n, n});
  auto loop =
      lz::LoopOp::create(builder, loc, TypeRange{matrix}, n, ValueRange{init});
  {
    OpBuilder::InsertionGuard guard(builder);
    Block *body = builder.createBlock(&loop.getBody());
    Value j = body->addArgument(builder.getIndexType(), loc);
    Value rows = body->addArgument(matrix, loc);
    Value unit = buildOneHot(
        builder, loc, lz::FillOp::create(builder, loc, vector, zero, {n}), {j});
    SmallVector<OpFoldResult> offsets = {j, builder.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {builder.getIndexAttr(1), n};
    SmallVector<OpFoldResult> strides = {builder.getIndexAttr(1),
                                         builder.getIndexAttr(1)};
    Value next = tensor::InsertSliceOp::create(builder, loc, column(unit), rows,
                                               offsets, sizes, strides);
    lz::YieldOp::create(builder, loc, ValueRange{next});
  }
  Value rows = loop.getResult(0);
  return lz::ForOp::create(
             builder, loc, TypeRange{matrix}, ValueRange{n, n},
             [&](OpBuilder &inner, Location loc, ValueRange indices) {
               Value element = lz::GetOp::create(
                   inner, loc, rows, ValueRange{indices[1], indices[0]});
               lz::YieldOp::create(inner, loc, ValueRange{element});
             })
      .getResult(0);
}

SmallVector<Value> ad::detail::buildLeafAxpy(OpBuilder &builder, Location loc,
                                             Value alpha, ValueRange a,
                                             ValueRange y) {
  SmallVector<Value> results;
  for (auto [i, element] : llvm::enumerate(a)) {
    Value x = element;
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
/// (symmetric positive definite operators), BiCGSTAB (general operators),
/// a Neumann series, or a dense LU solve of the operator's matrix.
struct LinearSolver {
  enum Kind { CG, BiCGStab, GMRES, Neumann, Direct } kind = CG;
  int64_t iters = 100;
  double tol = 1e-10;
  double alpha = 1.0;
  /// For `GMRES`: the Krylov vectors of one cycle, which is unrolled: the
  /// IR, and compile time, grow with its square.
  int64_t restart = 10;
  /// For `Direct`: the standard library's `lu_solve` (lib/Std/linalg.lz).
  func::FuncOp dense;
};

FailureOr<LinearSolver> getLinearSolver(Operation *op, DictionaryAttr config,
                                        bool symmetric) {
  auto name = config.getAs<StringAttr>("name");
  StringRef kind = name ? name.getValue() : "";
  LinearSolver solver;
  if (kind == "neumann") {
    solver.kind = LinearSolver::Neumann;
  } else if (kind == "bicgstab") {
    solver.kind = LinearSolver::BiCGStab;
  } else if (kind == "gmres") {
    solver.kind = LinearSolver::GMRES;
  } else if (kind == "direct") {
    solver.kind = LinearSolver::Direct;
    Type f64 = Float64Type::get(op->getContext());
    auto vector = RankedTensorType::get({ShapedType::kDynamic}, f64);
    auto matrix = RankedTensorType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic}, f64);
    solver.dense = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
        op, StringAttr::get(op->getContext(), getStdSymbol("lu_solve")));
    if (!solver.dense ||
        solver.dense.getFunctionType() !=
            FunctionType::get(op->getContext(), {matrix, vector}, {vector}))
      return op->emitError("the linear solver 'direct' of '")
             << op->getName().stripDialect()
             << "' needs the standard library's 'lu_solve'";
  } else if (kind != "cg") {
    return op->emitError("not supported yet: the linear solver '")
           << kind << "' of '" << op->getName().stripDialect()
           << "' (cg, gmres, bicgstab, neumann and direct are built)";
  } else if (!symmetric) {
    return op->emitError("the linear solver 'cg' needs a symmetric operator; "
                         "the implicit derivative of '")
           << op->getName().stripDialect()
           << "' takes 'gmres', 'bicgstab', 'neumann' or 'direct'";
  }
  auto number = [&](StringRef key) -> std::optional<double> {
    if (auto value = config.getAs<FloatAttr>(key))
      return value.getValueAsDouble();
    if (auto value = config.getAs<IntegerAttr>(key))
      return static_cast<double>(value.getInt());
    return std::nullopt;
  };
  if (std::optional<double> iters =
          number(solver.kind == LinearSolver::Neumann ? "terms" : "iters"))
    solver.iters = static_cast<int64_t>(*iters);
  if (std::optional<double> tol = number("tol"))
    solver.tol = *tol;
  if (std::optional<double> alpha = number("alpha"))
    solver.alpha = *alpha;
  if (std::optional<double> restart = number("restart"))
    solver.restart = static_cast<int64_t>(*restart);
  if (solver.iters < 0 || !(solver.tol >= 0.0) || !(solver.alpha > 0.0))
    return op->emitOpError("needs a linear solver with iters >= 0, tol >= 0 "
                           "and alpha > 0");
  if (solver.kind == LinearSolver::GMRES && solver.restart < 1)
    return op->emitError("the linear solver 'gmres' needs restart >= 1, not ")
           << solver.restart;
  return solver;
}

/// A counted `lz.loop` of `count` steps that carries `inits`; `body`
/// builds a step on the state with `builder` and yields the next state.
lz::LoopOp buildStateLoop(OpBuilder &builder, Location loc, int64_t count,
                          ValueRange inits,
                          function_ref<void(ValueRange)> body) {
  SmallVector<Type> types;
  for (Value init : inits)
    types.push_back(init.getType());
  Value steps = arith::ConstantIndexOp::create(builder, loc, count);
  auto loop = lz::LoopOp::create(builder, loc, types, steps, inits);
  OpBuilder::InsertionGuard guard(builder);
  Block *block = builder.createBlock(&loop.getBody());
  block->addArgument(builder.getIndexType(), loc);
  for (Type type : types)
    block->addArgument(type, loc);
  body(block->getArguments().drop_front());
  return loop;
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
  Value minusAlpha = arith::ConstantOp::create(
      builder, loc, builder.getF64FloatAttr(-solver.alpha));
  auto loop =
      buildStateLoop(builder, loc, solver.iters, inits, [&](ValueRange state) {
        ValueRange v = state.take_front(n), p = state.drop_front(n);
        SmallVector<Value> next = ad::detail::buildLeafAxpy(
            builder, loc, minusAlpha, apply(builder, v), v);
        Value one = arith::ConstantOp::create(builder, loc,
                                              builder.getF64FloatAttr(1.0));
        SmallVector<Value> sum =
            ad::detail::buildLeafAxpy(builder, loc, one, next, p);
        SmallVector<Value> yields(next);
        llvm::append_range(yields, sum);
        lz::YieldOp::create(builder, loc, yields);
      });
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
  auto loop =
      buildStateLoop(builder, loc, solver.iters, inits, [&](ValueRange state) {
        ValueRange u = state.take_front(n), r = state.slice(n, n),
                   p = state.slice(2 * n, n);
        Value rsOld = state.back();
        Value done = arith::CmpFOp::create(
            builder, loc, arith::CmpFPredicate::OLE, rsOld, limit);
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
              Value rsNew =
                  ad::detail::buildLeafDot(b, loc, residual, residual);
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
      });
  // The residual of the last step, against the tolerance.
  Value residual = math::SqrtOp::create(builder, loc, loop.getResults().back());
  Value bound = math::SqrtOp::create(builder, loc, limit);
  lz::CheckToleranceOp::create(builder, loc, residual, bound, what);
  return SmallVector<Value>(loop.getResults().take_front(n));
}

/// Solves A u = rhs by BiCGSTAB (van der Vorst), for general operators,
/// with the shadow residual r̂ = rhs; as CG, it stops once the residual's
/// norm is at most tol times the right-hand side's and reports a final
/// residual above that (a breakdown gives NaN, which is reported too).
SmallVector<Value>
solveBiCGStab(OpBuilder &builder, Location loc,
              function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
              ValueRange rhs, const LinearSolver &solver, StringRef what) {
  unsigned n = rhs.size();
  auto constant = [&](OpBuilder &b, double value) -> Value {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
  };
  SmallVector<Value> zeros;
  for (Value leaf : rhs)
    zeros.push_back(ad::detail::buildZeros(builder, loc, leaf));
  SmallVector<Value> inits(zeros);  // u
  llvm::append_range(inits, rhs);   // r
  llvm::append_range(inits, zeros); // p
  llvm::append_range(inits, zeros); // v
  Value one = constant(builder, 1.0);
  inits.append({one, one, one}); // ρ, α, ω
  Value limit = arith::MulFOp::create(
      builder, loc, ad::detail::buildLeafDot(builder, loc, rhs, rhs),
      constant(builder, solver.tol * solver.tol));
  auto loop =
      buildStateLoop(builder, loc, solver.iters, inits, [&](ValueRange state) {
        ValueRange u = state.take_front(n), r = state.slice(n, n),
                   p = state.slice(2 * n, n), v = state.slice(3 * n, n);
        Value rho = state[4 * n], alpha = state[4 * n + 1],
              omega = state[4 * n + 2];
        Value done = arith::CmpFOp::create(
            builder, loc, arith::CmpFPredicate::OLE,
            ad::detail::buildLeafDot(builder, loc, r, r), limit);
        auto step = scf::IfOp::create(
            builder, loc, done,
            [&](OpBuilder &b, Location loc) {
              scf::YieldOp::create(b, loc, state);
            },
            [&](OpBuilder &b, Location loc) {
              using ad::detail::buildLeafAxpy;
              using ad::detail::buildLeafDot;
              Value rhoNext = buildLeafDot(b, loc, rhs, r);
              Value beta = arith::MulFOp::create(
                  b, loc, arith::DivFOp::create(b, loc, rhoNext, rho),
                  arith::DivFOp::create(b, loc, alpha, omega));
              // p = r + β (p − ω v)
              SmallVector<Value> pv = buildLeafAxpy(
                  b, loc, arith::NegFOp::create(b, loc, omega), v, p);
              SmallVector<Value> pNext = buildLeafAxpy(b, loc, beta, pv, r);
              SmallVector<Value> vNext = apply(b, pNext);
              Value alphaNext = arith::DivFOp::create(
                  b, loc, rhoNext, buildLeafDot(b, loc, rhs, vNext));
              SmallVector<Value> sv = buildLeafAxpy(
                  b, loc, arith::NegFOp::create(b, loc, alphaNext), vNext, r);
              SmallVector<Value> t = apply(b, sv);
              // ω = ⟨t, s⟩ / ⟨t, t⟩, and 0 when t = 0 (then s = 0 too);
              // the division is of a stand-in there, so that derivatives
              // through the solve (second derivatives) stay finite.
              Value tt = buildLeafDot(b, loc, t, t);
              Value positive = arith::CmpFOp::create(
                  b, loc, arith::CmpFPredicate::OGT, tt, constant(b, 0.0));
              Value safe = arith::SelectOp::create(b, loc, positive, tt,
                                                   constant(b, 1.0));
              Value omegaNext = arith::SelectOp::create(
                  b, loc, positive,
                  arith::DivFOp::create(b, loc, buildLeafDot(b, loc, t, sv),
                                        safe),
                  constant(b, 0.0));
              SmallVector<Value> uNext =
                  buildLeafAxpy(b, loc, omegaNext, sv,
                                buildLeafAxpy(b, loc, alphaNext, pNext, u));
              SmallVector<Value> rNext = buildLeafAxpy(
                  b, loc, arith::NegFOp::create(b, loc, omegaNext), t, sv);
              SmallVector<Value> yields(uNext);
              llvm::append_range(yields, rNext);
              llvm::append_range(yields, pNext);
              llvm::append_range(yields, vNext);
              yields.append({rhoNext, alphaNext, omegaNext});
              scf::YieldOp::create(b, loc, yields);
            });
        lz::YieldOp::create(builder, loc, step.getResults());
      });
  ValueRange results = loop.getResults();
  ValueRange residual = results.slice(n, n);
  Value norm = math::SqrtOp::create(
      builder, loc, ad::detail::buildLeafDot(builder, loc, residual, residual));
  lz::CheckToleranceOp::create(builder, loc, norm,
                               math::SqrtOp::create(builder, loc, limit), what);
  return SmallVector<Value>(results.take_front(n));
}

/// A counted `lz.loop` of `count` steps that carries `inits`; `body`
/// builds a step from its index and the state, and returns the next state.
static ValueRange
buildIndexedLoop(OpBuilder &builder, Location loc, Value count,
                 ValueRange inits,
                 function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  SmallVector<Type> types;
  for (Value init : inits)
    types.push_back(init.getType());
  auto loop = lz::LoopOp::create(builder, loc, types, count, inits);
  OpBuilder::InsertionGuard guard(builder);
  Block *block = builder.createBlock(&loop.getBody());
  Value index = block->addArgument(builder.getIndexType(), loc);
  for (Type type : types)
    block->addArgument(type, loc);
  lz::YieldOp::create(builder, loc,
                      body(index, block->getArguments().drop_front()));
  return loop.getResults();
}

/// Solves A u = rhs by restarted GMRES(m), m = `solver.restart`, for
/// general operators: each cycle builds an orthonormal basis of the
/// Krylov space of its residual by Arnoldi's process with modified
/// Gram-Schmidt (loops over the basis, kept in stacks, one per leaf),
/// rotates the Hessenberg matrix to triangular by Givens rotations as it
/// grows, minimizes the residual over the basis by back substitution, and
/// restarts from the new point; ceil(iters / m) cycles, each skipped once
/// the residual is at most tol times the right-hand side's. Reports a final
/// residual |rhs − A u| above that as `what`.
SmallVector<Value>
solveGMRES(OpBuilder &builder, Location loc,
           function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
           ValueRange rhs, const LinearSolver &solver, StringRef what) {
  using ad::detail::buildLeafAxpy;
  using ad::detail::buildLeafDot;
  int64_t m = solver.restart;
  unsigned n = rhs.size();
  Type f64 = builder.getF64Type();
  auto constant = [&](OpBuilder &b, double value) -> Value {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
  };
  Value limit =
      arith::MulFOp::create(builder, loc, buildLeafDot(builder, loc, rhs, rhs),
                            constant(builder, solver.tol * solver.tol));
  // rhs − A u.
  auto residualOf = [&](OpBuilder &b, ValueRange u) {
    return buildLeafAxpy(b, loc, constant(b, -1.0), apply(b, u), rhs);
  };
  SmallVector<Value> inits;
  for (Value leaf : rhs)
    inits.push_back(ad::detail::buildZeros(builder, loc, leaf));
  int64_t cycles = (solver.iters + m - 1) / m;
  auto loop = buildStateLoop(builder, loc, cycles, inits, [&](ValueRange u) {
    SmallVector<Value> r = residualOf(builder, u);
    Value rr = buildLeafDot(builder, loc, r, r);
    Value done = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OLE,
                                       rr, limit);
    auto cycle = scf::IfOp::create(
        builder, loc, done,
        [&](OpBuilder &b, Location loc) { scf::YieldOp::create(b, loc, u); },
        [&](OpBuilder &b, Location loc) {
          Value zero = constant(b, 0.0), one = constant(b, 1.0);
          auto index = [&](int64_t value) -> Value {
            return arith::ConstantIndexOp::create(b, loc, value);
          };
          // x / h, or 0 where h is 0 (the Krylov space is exhausted).
          auto safeInverse = [&](Value h) -> Value {
            Value positive = arith::CmpFOp::create(
                b, loc, arith::CmpFPredicate::OGT, h, zero);
            Value safe = arith::SelectOp::create(b, loc, positive, h, one);
            return arith::SelectOp::create(
                b, loc, positive, arith::DivFOp::create(b, loc, one, safe),
                zero);
          };
          auto get = [&](Value tensor, ValueRange at) -> Value {
            return lz::GetOp::create(b, loc, tensor, at);
          };
          auto put = [&](Value tensor, Value value, ValueRange at) -> Value {
            return tensor::InsertOp::create(b, loc, value, tensor, at);
          };
          auto zeros = [&](ArrayRef<int64_t> shape) -> Value {
            return lz::FillOp::create(b, loc, RankedTensorType::get(shape, f64),
                                      zero, ValueRange{});
          };
          auto mul = [&](Value x, Value y) -> Value {
            return arith::MulFOp::create(b, loc, x, y);
          };
          // The basis vector i: its leaves, read from the stacks.
          auto basisVector = [&](ValueRange stacks, Value i) {
            SmallVector<Value> leaves;
            for (Value stack : stacks)
              leaves.push_back(get(stack, i));
            return leaves;
          };
          Value beta = math::SqrtOp::create(b, loc, rr);
          SmallVector<Value> first =
              buildLeafAxpy(b, loc, safeInverse(beta), r, {});
          SmallVector<Value> basis =
              ad::detail::buildStacks(b, loc, first, index(m + 1));
          for (auto [stack, leaf] : llvm::zip(basis, first))
            stack = ad::detail::buildPush(b, loc, leaf, stack, index(0));
          // The state of Arnoldi's process: the basis, the rotated
          // Hessenberg matrix R (m × m, upper triangular), the rotations,
          // and the rotated right-hand side g = β e₁.
          SmallVector<Value> arnoldiInits(basis);
          arnoldiInits.append({zeros({m, m}), zeros({m}), zeros({m}),
                               put(zeros({m + 1}), beta, {index(0)})});
          ValueRange arnoldi = buildIndexedLoop(
              b, loc, index(m), arnoldiInits,
              [&](Value j, ValueRange state) -> SmallVector<Value> {
                ValueRange stacks = state.take_front(n);
                Value rMatrix = state[n], cosines = state[n + 1],
                      sines = state[n + 2], g = state[n + 3];
                Value next1 = arith::AddIOp::create(b, loc, j, index(1));
                // w = A v_j, orthogonalized against v_0..v_j.
                SmallVector<Value> mgsInits = apply(b, basisVector(stacks, j));
                mgsInits.push_back(zeros({m + 1}));
                ValueRange mgs = buildIndexedLoop(
                    b, loc, next1, mgsInits,
                    [&](Value i, ValueRange wh) -> SmallVector<Value> {
                      ValueRange w = wh.take_front(n);
                      SmallVector<Value> vi = basisVector(stacks, i);
                      Value hij = buildLeafDot(b, loc, w, vi);
                      SmallVector<Value> result = buildLeafAxpy(
                          b, loc, arith::NegFOp::create(b, loc, hij), vi, w);
                      result.push_back(put(wh[n], hij, {i}));
                      return result;
                    });
                ValueRange w = mgs.take_front(n);
                Value next =
                    math::SqrtOp::create(b, loc, buildLeafDot(b, loc, w, w));
                SmallVector<Value> nextStacks;
                for (auto [stack, leaf] :
                     llvm::zip(stacks,
                               buildLeafAxpy(b, loc, safeInverse(next), w, {})))
                  nextStacks.push_back(
                      ad::detail::buildPush(b, loc, leaf, stack, next1));
                // The earlier rotations, then the one that zeroes h[j+1].
                Value h =
                    buildIndexedLoop(
                        b, loc, j, {mgs[n]},
                        [&](Value i, ValueRange column) -> SmallVector<Value> {
                          Value i1 = arith::AddIOp::create(b, loc, i, index(1));
                          Value a = get(column[0], i), c = get(column[0], i1);
                          Value ci = get(cosines, i), si = get(sines, i);
                          Value top = arith::AddFOp::create(b, loc, mul(ci, a),
                                                            mul(si, c));
                          Value bottom = arith::SubFOp::create(
                              b, loc, mul(ci, c), mul(si, a));
                          return {put(put(column[0], top, {i}), bottom, {i1})};
                        })
                        .front();
                Value hj = get(h, j);
                Value norm = math::SqrtOp::create(
                    b, loc,
                    arith::AddFOp::create(b, loc, mul(hj, hj),
                                          mul(next, next)));
                Value inverse = safeInverse(norm);
                // No rotation (c = 1, s = 0) where the column is zero.
                Value positive = arith::CmpFOp::create(
                    b, loc, arith::CmpFPredicate::OGT, norm, zero);
                Value cj = arith::SelectOp::create(b, loc, positive,
                                                   mul(hj, inverse), one);
                Value sj = mul(next, inverse);
                h = put(h, norm, {j});
                Value gj = get(g, j);
                Value nextG = put(
                    put(g, arith::NegFOp::create(b, loc, mul(sj, gj)), {next1}),
                    mul(cj, gj), {j});
                // Column j of R: h[0..j].
                Value nextR =
                    lz::ForOp::create(
                        b, loc, TypeRange{rMatrix.getType()},
                        ValueRange{index(m), index(m)},
                        [&](OpBuilder &inner, Location loc, ValueRange at) {
                          Value here = arith::CmpIOp::create(
                              inner, loc, arith::CmpIPredicate::eq, at[1], j);
                          Value above = arith::CmpIOp::create(
                              inner, loc, arith::CmpIPredicate::ule, at[0], j);
                          Value fromH = arith::SelectOp::create(
                              inner, loc, above,
                              lz::GetOp::create(inner, loc, h,
                                                ValueRange{at[0]}),
                              zero);
                          Value value = arith::SelectOp::create(
                              inner, loc, here, fromH,
                              lz::GetOp::create(inner, loc, rMatrix, at));
                          lz::YieldOp::create(inner, loc, ValueRange{value});
                        })
                        .getResult(0);
                SmallVector<Value> yields(nextStacks);
                yields.append(
                    {nextR, put(cosines, cj, {j}), put(sines, sj, {j}), nextG});
                return yields;
              });
          ValueRange stacks = arnoldi.take_front(n);
          Value rMatrix = arnoldi[n], g = arnoldi[n + 3];
          // R y = g by back substitution (y_j = 0 where R_jj = 0), then
          // u + Σ y_j v_j.
          Value y =
              buildIndexedLoop(
                  b, loc, index(m), {zeros({m})},
                  [&](Value q, ValueRange state) -> SmallVector<Value> {
                    Value j = arith::SubIOp::create(b, loc, index(m - 1), q);
                    Value later =
                        lz::SumOp::create(
                            b, loc, f64, ValueRange{index(m)},
                            [&](OpBuilder &inner, Location loc, ValueRange k) {
                              Value after = arith::CmpIOp::create(
                                  inner, loc, arith::CmpIPredicate::ugt, k[0],
                                  j);
                              Value term = arith::MulFOp::create(
                                  inner, loc,
                                  lz::GetOp::create(inner, loc, rMatrix,
                                                    ValueRange{j, k[0]}),
                                  lz::GetOp::create(inner, loc, state[0],
                                                    ValueRange{k[0]}));
                              lz::YieldOp::create(
                                  inner, loc,
                                  ValueRange{arith::SelectOp::create(
                                      inner, loc, after, term, zero)});
                            })
                            .getResult();
                    // R_jj is the norm of the rotated column: not negative.
                    Value yj =
                        mul(arith::SubFOp::create(b, loc, get(g, j), later),
                            safeInverse(get(rMatrix, {j, j})));
                    return {put(state[0], yj, {j})};
                  })
                  .front();
          ValueRange next = buildIndexedLoop(
              b, loc, index(m), u,
              [&](Value j, ValueRange state) -> SmallVector<Value> {
                return buildLeafAxpy(b, loc, get(y, j), basisVector(stacks, j),
                                     state);
              });
          scf::YieldOp::create(b, loc, next);
        });
    lz::YieldOp::create(builder, loc, cycle.getResults());
  });
  SmallVector<Value> u(loop.getResults());
  SmallVector<Value> residual = residualOf(builder, u);
  lz::CheckToleranceOp::create(
      builder, loc,
      math::SqrtOp::create(builder, loc,
                           buildLeafDot(builder, loc, residual, residual)),
      math::SqrtOp::create(builder, loc, limit), what);
  return u;
}

/// `value` cast to `type` where their static sizes differ.
Value castTo(OpBuilder &builder, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(builder, loc, type, value);
}

/// Solves A u = rhs over the elements of all the leaves (as one vector of
/// f64) by building A's matrix, a column A e_j per product, and solving it
/// with
/// `solver.dense`; reports a residual |A u − rhs| above tol times the
/// right-hand side's norm (a singular A gives NaN) as `what`.
SmallVector<Value>
solveDirect(OpBuilder &builder, Location loc,
            function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
            ValueRange rhs, const LinearSolver &solver, StringRef what) {
  // The dense matrix over the elements of all the leaves.
  Value n = ad::detail::buildLeafCount(builder, loc, rhs);
  Value a = ad::detail::buildDenseMatrix(builder, loc, n, [&](Value unit) {
    return ad::detail::buildFlatten(
        builder, loc,
        apply(builder, ad::detail::buildUnflatten(builder, loc, unit, rhs)));
  });
  auto vector =
      RankedTensorType::get({ShapedType::kDynamic}, builder.getF64Type());
  func::FuncOp dense = solver.dense;
  Value x =
      func::CallOp::create(
          builder, loc, dense,
          ValueRange{a, castTo(builder, loc,
                               ad::detail::buildFlatten(builder, loc, rhs),
                               dense.getArgumentTypes()[1])})
          .getResult(0);
  SmallVector<Value> u = ad::detail::buildUnflatten(
      builder, loc, castTo(builder, loc, x, vector), rhs);
  // The residual of the solution, against the tolerance.
  Value minusOne =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(-1.0));
  SmallVector<Value> residual =
      ad::detail::buildLeafAxpy(builder, loc, minusOne, apply(builder, u), rhs);
  Value norm = math::SqrtOp::create(
      builder, loc, ad::detail::buildLeafDot(builder, loc, residual, residual));
  Value bound = arith::MulFOp::create(
      builder, loc,
      math::SqrtOp::create(builder, loc,
                           ad::detail::buildLeafDot(builder, loc, rhs, rhs)),
      arith::ConstantOp::create(builder, loc,
                                builder.getF64FloatAttr(solver.tol)));
  lz::CheckToleranceOp::create(builder, loc, norm, bound, what);
  return u;
}

} // namespace

namespace {

/// Solves A u = rhs with `solver`, for the implicit derivative of `op`.
FailureOr<SmallVector<Value>>
solveLinear(OpBuilder &b, Location loc, Operation *op,
            const LinearSolver &solver,
            function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
            ValueRange rhs) {
  StringRef what = op->getName().stripDialect();
  auto residualOf = [&](StringRef name) {
    return ("the residual of the implicit linear solve (" + name + ") of '" +
            what + "'")
        .str();
  };
  switch (solver.kind) {
  case LinearSolver::CG:
    return solveConjugateGradients(b, loc, apply, rhs, solver,
                                   residualOf("cg"));
  case LinearSolver::BiCGStab:
    return solveBiCGStab(b, loc, apply, rhs, solver, residualOf("bicgstab"));
  case LinearSolver::GMRES:
    return solveGMRES(b, loc, apply, rhs, solver, residualOf("gmres"));
  case LinearSolver::Direct:
    return solveDirect(b, loc, apply, rhs, solver, residualOf("direct"));
  case LinearSolver::Neumann:
    break;
  }
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
  FailureOr<SmallVector<Value>>
  solve(OpBuilder &b,
        function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> apply,
        ValueRange rhs) {
    return solveLinear(b, loc, op, solver, apply, rhs);
  }
};

using ImplicitArgmin = ImplicitSolve<ArgminOp>;

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
  FailureOr<SmallVector<Value>> u = implicit->solve(
      builder, applyHessian, implicit->leavesOf(builder, cotangent));
  if (failed(u))
    return failure();

  // θ̄ = −Bᵀu: the cotangents of θ for the cotangent −u of ∇ₓf.
  Value minusOne =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(-1.0));
  Value minusU = implicit->vectorOf(
      builder, buildLeafAxpy(builder, loc, minusOne, *u, {}));
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
  FailureOr<SmallVector<Value>> tangent =
      implicit->solve(builder, applyHessian, rhs);
  if (failed(tangent))
    return failure();
  forward.setTangent(argmin.getResult(), implicit->vectorOf(builder, *tangent));
  return success();
}

/// The rules of `ad.fixed_point` and `ad.root` share their form: with
/// K = ∂ₓM the derivative of the solve's map M along x, the operator is
/// A = I − K for a fixed point (M = T) and A = K for a root (M = F); the
/// right-hand sides from ∂θM have the sign s = +1 for a fixed point and
/// s = −1 for a root: A ẋ = s ∂θM θ̇ (forward) and Aᵀ u = x̄, θ̄ = s ∂θMᵀ u
/// (reverse).
template <typename OpTy> static constexpr bool isFixedPoint() {
  return std::is_same_v<OpTy, FixedPointOp>;
}

/// Solves A w = rhs, where `product` applies K (or Kᵀ).
template <typename OpTy>
static FailureOr<SmallVector<Value>> solveMapSystem(
    ImplicitSolve<OpTy> &implicit, OpBuilder &builder,
    function_ref<SmallVector<Value>(OpBuilder &, ValueRange)> product,
    ValueRange rhs) {
  Location loc = implicit.loc;
  if (!isFixedPoint<OpTy>())
    return implicit.solve(builder, product, rhs);
  Value minusOne =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(-1.0));
  auto apply = [&](OpBuilder &b, ValueRange v) {
    return ad::detail::buildLeafAxpy(b, loc, minusOne, product(b, v), v);
  };
  return implicit.solve(builder, apply, rhs);
}

/// `leaves` times the sign of the right-hand sides of `OpTy`.
template <typename OpTy>
static SmallVector<Value> applySign(OpBuilder &builder, Location loc,
                                    ValueRange leaves) {
  if (isFixedPoint<OpTy>())
    return SmallVector<Value>(leaves);
  Value minusOne =
      arith::ConstantOp::create(builder, loc, builder.getF64FloatAttr(-1.0));
  return ad::detail::buildLeafAxpy(builder, loc, minusOne, leaves, {});
}

template <typename OpTy>
static LogicalResult mapSolveVjp(Operation *op, ReverseBuilder &reverse) {
  auto solveOp = cast<OpTy>(op);
  Value cotangent = reverse.cotangent(solveOp.getResult());
  if (!cotangent)
    return success();
  FailureOr<ImplicitSolve<OpTy>> implicit =
      ImplicitSolve<OpTy>::get(solveOp, /*symmetric=*/false);
  if (failed(implicit))
    return failure();
  SmallVector<unsigned> varied = implicit->getActiveCaptures(
      [&](Value captured) { return reverse.isVaried(captured); });
  if (varied.empty())
    return success();
  auto [alongX, alongTheta] =
      ImplicitSolve<OpTy>::getMasks(implicit->f, varied);
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
  Value solution = reverse.primal(solveOp.getResult());
  SmallVector<Value> captures;
  for (Value captured : solveOp.getCaptures())
    captures.push_back(reverse.primal(captured));
  // Aᵀ u = x̄, then θ̄ = s (∂θM)ᵀ u.
  auto product = [&](OpBuilder &b, ValueRange v) {
    return implicit->leavesOf(b, implicit
                                     ->call(b, *transposed, solution, captures,
                                            implicit->vectorOf(b, v))
                                     .getResult(1));
  };
  FailureOr<SmallVector<Value>> u = solveMapSystem(
      *implicit, builder, product, implicit->leavesOf(builder, cotangent));
  if (failed(u))
    return failure();
  func::CallOp call = implicit->call(
      builder, *mixed, solution, captures,
      implicit->vectorOf(builder, applySign<OpTy>(builder, loc, *u)));
  for (auto [k, i] : llvm::enumerate(varied)) {
    OpOperand &operand = solveOp->getOpOperand(1 + i);
    reverse.addCotangent(operand, castTo(builder, loc, call.getResult(1 + k),
                                         operand.get().getType()));
  }
  return success();
}

template <typename OpTy>
static LogicalResult mapSolveJvp(Operation *op, ForwardBuilder &forward) {
  auto solveOp = cast<OpTy>(op);
  FailureOr<ImplicitSolve<OpTy>> implicit =
      ImplicitSolve<OpTy>::get(solveOp, /*symmetric=*/false);
  if (failed(implicit))
    return failure();
  SmallVector<unsigned> active = implicit->getActiveCaptures(
      [&](Value captured) { return forward.tangent(captured) != nullptr; });
  if (active.empty())
    return success();
  auto [alongX, alongTheta] =
      ImplicitSolve<OpTy>::getMasks(implicit->f, active);
  FailureOr<func::FuncOp> linear = forward.getDerivative(implicit->f, alongX);
  if (failed(linear))
    return failure();
  FailureOr<func::FuncOp> mixed =
      forward.getDerivative(implicit->f, alongTheta);
  if (failed(mixed))
    return failure();
  OpBuilder &builder = forward.getBuilder();
  Location loc = implicit->loc;
  Value solution = forward.primal(solveOp.getResult());
  SmallVector<Value> captures, tangents;
  for (Value captured : solveOp.getCaptures())
    captures.push_back(forward.primal(captured));
  for (unsigned i : active)
    tangents.push_back(forward.tangent(solveOp.getCaptures()[i]));
  // A ẋ = s ∂θM θ̇.
  auto tangentOf = [&](OpBuilder &b, func::FuncOp callee, ValueRange extra) {
    return implicit->leavesOf(
        b, implicit->call(b, callee, solution, captures, extra).getResult(1));
  };
  auto product = [&](OpBuilder &b, ValueRange v) {
    return tangentOf(b, *linear, implicit->vectorOf(b, v));
  };
  FailureOr<SmallVector<Value>> tangent = solveMapSystem(
      *implicit, builder, product,
      applySign<OpTy>(builder, loc, tangentOf(builder, *mixed, tangents)));
  if (failed(tangent))
    return failure();
  forward.setTangent(solveOp.getResult(),
                     implicit->vectorOf(builder, *tangent));
  return success();
}

LogicalResult ad::detail::fixedPointVjp(Operation *op,
                                        ReverseBuilder &reverse) {
  return mapSolveVjp<FixedPointOp>(op, reverse);
}

LogicalResult ad::detail::fixedPointJvp(Operation *op,
                                        ForwardBuilder &forward) {
  return mapSolveJvp<FixedPointOp>(op, forward);
}

LogicalResult ad::detail::rootVjp(Operation *op, ReverseBuilder &reverse) {
  return mapSolveVjp<RootOp>(op, reverse);
}

LogicalResult ad::detail::rootJvp(Operation *op, ForwardBuilder &forward) {
  return mapSolveJvp<RootOp>(op, forward);
}
