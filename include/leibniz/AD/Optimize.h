//===- Optimize.h - Optimizer loops -----------------------------*- C++ -*-===//
//
// Part of Leibniz.
//
// `ad.minimize` runs an optimizer of the standard library on a scalar
// function. Its expansion is an `lz.loop` over the steps whose body takes
// the function's value and gradient (`ad.value_and_grad`, which reverse mode
// then expands) and applies the optimizer's update rule, a function of the
// standard library written in the language (`<name>_rule`,
// lib/Std/optimizers.lz), to every element of every parameter tensor.
// Differentiating a program through `minimize` differentiates that loop.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_AD_OPTIMIZE_H
#define LEIBNIZ_AD_OPTIMIZE_H

#include "mlir/IR/BuiltinOps.h"

namespace leibniz::ad {

/// Expands every `ad.minimize` of `module` into its loop. The update rules
/// are the module's functions `@<optimizer>_rule`; a missing or ill-typed
/// rule, an optimizer without an elementwise rule, a missing or unknown
/// hyperparameter, or parameters that are not floats are errors at the
/// operation.
mlir::LogicalResult expandOptimizerLoops(mlir::ModuleOp module);

/// Expands every `ad.argmin` of `module` into its solve, the loop of
/// `ad.minimize` as a while loop that ends once the gradient's norm is at
/// most `tol`, every `ad.root` into Newton's or Broyden's method, and every
/// `ad.fixed_point` into the iteration of its map. Runs after
/// differentiation, which takes the derivatives of `ad.argmin` by the implicit
/// function theorem, and before the `ad.value_and_grad` of the loops it creates
/// (and `ad.jacobian`) are expanded.
mlir::LogicalResult expandSolves(mlir::ModuleOp module);

} // namespace leibniz::ad

#endif // LEIBNIZ_AD_OPTIMIZE_H
