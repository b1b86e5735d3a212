//===- ADOps.td - ad dialect operations --------------------*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_AD_ADOPS_TD
#define LEIBNIZ_DIALECT_AD_ADOPS_TD

include "ADDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class AD_Op<string mnemonic, list<Trait> traits = []>
    : Op<AD_Dialect, mnemonic, traits>;

// An operation that transforms the function `$callee` and applies the result
// to `$args`; `$captures` are the callee's trailing parameters that hold the
// values a lambda captured.
class AD_TransformOp<string mnemonic, list<Trait> traits = []>
    : AD_Op<mnemonic, traits # [
        DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  code commonDeclaration = [{
    /// The transformed function.
    ::mlir::func::FuncOp getCalleeFunc();
  }];
  let extraClassDeclaration = commonDeclaration;
}

//===----------------------------------------------------------------------===//
// Derivatives
//===----------------------------------------------------------------------===//

def AD_GradOp : AD_TransformOp<"grad", [AttrSizedOperandSegments]> {
  let summary = "the gradient of a scalar function";
  let description = [{
    The gradient of `@f`, which returns one float scalar, at `$args`, with
    respect to the arguments listed in `wrt`: one result per listed
    argument, of that argument's type (a float scalar, a float tensor or a
    tuple of those). `mode` is `"rev"` (reverse mode, the default) or
    `"fwd"` (forward mode, one batched dual-number pass per input
    direction).

    ```mlir
    %g = ad.grad @loss(%w) captures(%X, %y) {wrt = array<i64: 0>}
        : (tensor<?xf64>, tensor<?x?xf64>, tensor<?xf64>) -> tensor<?xf64>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$args,
                       Variadic<AnyType>:$captures, DenseI64ArrayAttr:$wrt,
                       DefaultValuedStrAttr<StrAttr, "rev">:$mode);
  let results = (outs Variadic<AnyType>:$gradients);
  let assemblyFormat = [{
    $callee `(` $args `)` (`captures` `(` $captures^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def AD_ValueAndGradOp : AD_TransformOp<"value_and_grad", [AttrSizedOperandSegments]> {
  let summary = "the value and the gradient of a scalar function";
  let description = [{
    As `ad.grad`, with the function's value as the first result.

    ```mlir
    %v, %g = ad.value_and_grad @loss(%w) {wrt = array<i64: 0>}
        : (tensor<?xf64>) -> (f64, tensor<?xf64>)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$args,
                       Variadic<AnyType>:$captures, DenseI64ArrayAttr:$wrt,
                       DefaultValuedStrAttr<StrAttr, "rev">:$mode);
  let results = (outs AnyType:$value, Variadic<AnyType>:$gradients);
  let assemblyFormat = [{
    $callee `(` $args `)` (`captures` `(` $captures^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def AD_JvpOp : AD_TransformOp<"jvp", [AttrSizedOperandSegments]> {
  let summary = "Jacobian-vector product (forward mode)";
  let description = [{
    The value of `@f` at `$args` and its directional derivative along
    `$tangents` (one tangent per argument, of the argument's type; every
    argument must be a float scalar, a float tensor or a tuple of those).

    ```mlir
    %y, %dy = ad.jvp @f(%x) tangents(%dx) : (f64, f64) -> (f64, f64)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$args,
                       Variadic<AnyType>:$tangents,
                       Variadic<AnyType>:$captures);
  let results = (outs AnyType:$value, AnyType:$tangent);
  let assemblyFormat = [{
    $callee `(` $args `)` `tangents` `(` $tangents `)`
    (`captures` `(` $captures^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def AD_VjpOp : AD_TransformOp<"vjp", [AttrSizedOperandSegments]> {
  let summary = "vector-Jacobian product (reverse mode)";
  let description = [{
    The value of `@f` at `$args` and the cotangent of every argument for the
    output cotangent `$cotangent`.

    ```mlir
    %y, %xb = ad.vjp @f(%x) cotangent(%yb) : (f64, f64) -> (f64, f64)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$args,
                       AnyType:$cotangent, Variadic<AnyType>:$captures);
  let results = (outs AnyType:$value, Variadic<AnyType>:$cotangents);
  let assemblyFormat = [{
    $callee `(` $args `)` `cotangent` `(` $cotangent `)`
    (`captures` `(` $captures^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def AD_JacobianOp : AD_TransformOp<"jacobian", [AttrSizedOperandSegments]> {
  let summary = "the Jacobian with respect to the first argument";
  let description = [{
    The Jacobian of `@f` with respect to its first argument, a float scalar
    or tensor, at `$args`. The result is indexed by the output's dimensions
    first and the input's after them (`tensor<m x n x f64>` for
    `f: f64[n] -> f64[m]`; a scalar when both are scalars). `mode` is
    `"fwd"` (`jacfwd`) or `"rev"` (`jacrev`).

    ```mlir
    %J = ad.jacobian @f(%x) {mode = "fwd"} : (tensor<3xf64>) -> tensor<2x3xf64>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$args,
                       Variadic<AnyType>:$captures, StrAttr:$mode);
  let results = (outs AnyType:$jacobian);
  let assemblyFormat = [{
    $callee `(` $args `)` (`captures` `(` $captures^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def AD_HessianOp : AD_TransformOp<"hessian", [AttrSizedOperandSegments]> {
  let summary = "the Hessian of a scalar function";
  let description = [{
    The Hessian of `@f`, which returns a float scalar, with respect to its
    first argument: indexed by the input's dimensions twice.

    ```mlir
    %H = ad.hessian @f(%x) : (tensor<?xf64>) -> tensor<?x?xf64>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$args,
                       Variadic<AnyType>:$captures);
  let results = (outs AnyType:$hessian);
  let assemblyFormat = [{
    $callee `(` $args `)` (`captures` `(` $captures^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def AD_HvpOp : AD_TransformOp<"hvp", [AttrSizedOperandSegments]> {
  let summary = "Hessian-vector product (forward over reverse)";
  let description = [{
    The product of the Hessian of the scalar function `@f` (with respect to
    its first argument) with `$tangent`, which has the first argument's
    type.

    ```mlir
    %hv = ad.hvp @f(%x) tangent(%v) : (tensor<?xf64>, tensor<?xf64>) -> tensor<?xf64>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$args,
                       AnyType:$tangent, Variadic<AnyType>:$captures);
  let results = (outs AnyType:$result);
  let assemblyFormat = [{
    $callee `(` $args `)` `tangent` `(` $tangent `)`
    (`captures` `(` $captures^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def AD_StopGradientOp : AD_Op<"stop_gradient", [Pure, SameOperandsAndResultType]> {
  let summary = "the identity, treated as a constant by differentiation";
  let description = [{
    Returns its operand. Every AD transformation gives it a zero derivative.

    ```mlir
    %c = ad.stop_gradient %x : tensor<?xf64>
    ```
  }];
  let arguments = (ins AnyType:$input);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Optimization and implicit differentiation
//===----------------------------------------------------------------------===//

def AD_MinimizeOp : AD_TransformOp<"minimize"> {
  let summary = "runs an optimizer on a scalar function";
  let description = [{
    Runs `$steps` steps of the optimizer described by `optimizer` (a
    dictionary with the optimizer's `name` and its hyperparameters) on the
    scalar function `@f`, from `$init` (the function's first argument), and
    returns the final parameters. With `trace`, a second result holds the
    loss before every step. Differentiating it differentiates the unrolled
    loop.

    ```mlir
    %x = ad.minimize @f(%x0) steps(%T) {optimizer = {name = "sgd", lr = 5.0e-01 : f64}}
        : (f64, index) -> f64
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, AnyType:$init,
                       Variadic<AnyType>:$captures, Index:$steps,
                       DictionaryAttr:$optimizer, UnitAttr:$trace);
  let results = (outs AnyType:$result, Optional<AnyType>:$losses);
  let assemblyFormat = [{
    $callee `(` $init `)` (`captures` `(` $captures^ `)`)? `steps` `(` $steps `)`
    attr-dict `:` functional-type(operands, results)
  }];
}

def AD_ArgminOp : AD_TransformOp<"argmin"> {
  let summary = "a minimizer, differentiated implicitly";
  let description = [{
    As `ad.minimize` (without a trace), stopping early when the gradient norm
    falls below `tol`. Its derivative with respect to the captures comes from
    the implicit function theorem applied to the optimality condition
    `grad(f)(x*) = 0`, with the linear solver described by `implicit`; it is
    never differentiated by unrolling, and no derivative flows into `$init`.

    ```mlir
    %w = ad.argmin @loss(%w0) captures(%lam) steps(%T)
        {optimizer = {name = "lbfgs"}, tol = 1.0e-10 : f64,
         implicit = {name = "cg", iters = 50 : i64}}
        : (tensor<?xf64>, f64, index) -> tensor<?xf64>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, AnyType:$init,
                       Variadic<AnyType>:$captures, Index:$steps,
                       DictionaryAttr:$optimizer, F64Attr:$tol,
                       DictionaryAttr:$implicit);
  let results = (outs AnyType:$result);
  let assemblyFormat = [{
    $callee `(` $init `)` (`captures` `(` $captures^ `)`)? `steps` `(` $steps `)`
    attr-dict `:` functional-type(operands, results)
  }];
}

def AD_RootOp : AD_TransformOp<"root"> {
  let summary = "a root of a function, differentiated implicitly";
  let description = [{
    `x*` with `@F(x*) = 0`, found by `solver` (`newton` or `broyden`, with
    `iters` and `tol`) from `$init`; `@F` maps its first argument's type to
    itself. The derivative comes from the implicit function theorem with
    the linear solver `implicit`: `A ẋ = −B θ̇` and `Aᵀu = x̄`, `θ̄ = −Bᵀu`
    for `A = ∂ₓF`, `B = ∂θF`. `ad-solve` expands it after differentiation.

    ```mlir
    %x = ad.root @F(%x0) captures(%a) {solver = {name = "newton", iters = 20 : i64},
        implicit = {name = "bicgstab"}} : (tensor<?xf64>, f64) -> tensor<?xf64>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, AnyType:$init,
                       Variadic<AnyType>:$captures, DictionaryAttr:$solver,
                       DictionaryAttr:$implicit);
  let results = (outs AnyType:$result);
  let assemblyFormat = [{
    $callee `(` $init `)` (`captures` `(` $captures^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def AD_FixedPointOp : AD_TransformOp<"fixed_point"> {
  let summary = "a fixed point of a function, differentiated implicitly";
  let description = [{
    `x* = @T(x*)`, found by at most `$iters` iterations of `solver` from
    `$init`; `@T` maps its first argument's type to itself. The derivative
    comes from the implicit function theorem with the linear solver
    `implicit`.

    ```mlir
    %x = ad.fixed_point @T(%x0) iters(%n) {solver = {name = "iterate"},
        implicit = {name = "neumann"}} : (f64, index) -> f64
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, AnyType:$init,
                       Variadic<AnyType>:$captures, Index:$iters,
                       DictionaryAttr:$solver, DictionaryAttr:$implicit);
  let results = (outs AnyType:$result);
  let assemblyFormat = [{
    $callee `(` $init `)` (`captures` `(` $captures^ `)`)? `iters` `(` $iters `)`
    attr-dict `:` functional-type(operands, results)
  }];
}

#endif // LEIBNIZ_DIALECT_AD_ADOPS_TD
