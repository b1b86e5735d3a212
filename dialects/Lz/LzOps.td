//===- LzOps.td - lz dialect operations --------------------*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_DIALECT_LZ_LZOPS_TD
#define LEIBNIZ_DIALECT_LZ_LZOPS_TD

include "LzDialect.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinTypes.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Lz_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lz_Dialect, mnemonic, traits>;

// The float types of lz: IEEE types with infinities and signed zeros, so
// that every reduction has an identity, and narrow enough that computing in
// double and rounding is exact for + - * / and sqrt.
def Lz_Float : AnyTypeOf<[F16, BF16, F32, F64]>;

// The element types of lz tensors: floats, signless integers and index.
def Lz_ElementType : AnyTypeOf<[Lz_Float, AnySignlessIntegerOrIndex]>;
def Lz_Tensor : RankedTensorOf<[Lz_Float, AnySignlessIntegerOrIndex]>;

// Element types that lz arithmetic works on.
def Lz_Numeric : AnyTypeOf<[Lz_Float, AnySignlessInteger]>;
def Lz_NumericTensor : RankedTensorOf<[Lz_Float, AnySignlessInteger]>;
def Lz_NumericOrTensor : AnyTypeOf<[Lz_Numeric, Lz_NumericTensor]>;

//===----------------------------------------------------------------------===//
// Scopes
//===----------------------------------------------------------------------===//

def Lz_ForOp : Lz_Op<"for", [RecursiveMemoryEffects, SingleBlock,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "traversal scope: builds tensors by an index comprehension";
  let description = [{
    `lz.for` binds one `index` variable per range operand and evaluates its
    body once for every point of the iteration space
    `[0, r0) x [0, r1) x ...`. The body yields one value per result; the
    result is the tensor of those values, indexed by the scope variables
    first and by the yielded value's own dimensions after them. A body that
    yields a scalar of type `T` over ranges `n, m` gives `tensor<n x m x T>`;
    a body that yields `tensor<3xT>` gives `tensor<n x m x 3 x T>`.

    The body is pure and the order of evaluation is unspecified: every point
    is independent. Ranges are evaluated once, before the scope, and must be
    non-negative. A static result dimension must equal its range when the
    range is a constant.

    Example (the transpose of `%A : tensor<?x?xf64>`):

    ```mlir
    %At = lz.for %j < %n, %i < %m : tensor<?x?xf64> {
      %e = lz.get %A[%i, %j] : tensor<?x?xf64>
      lz.yield %e : f64
    }
    ```
  }];
  let arguments = (ins Variadic<Index>:$ranges);
  let results = (outs Variadic<Lz_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);

  let builders = [
    // Creates the scope with an entry block holding one index argument per
    // range, and calls `bodyBuilder` with the index variables to fill it
    // (including the terminator).
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes,
                   "::mlir::ValueRange":$ranges,
                   "::leibniz::lz::ScopeBodyBuilder":$bodyBuilder)>
  ];
  let extraClassDeclaration = [{
    /// The scope's index variables.
    ::mlir::Block::BlockArgListType getIndices() {
      return getBody().getArguments();
    }
    ::leibniz::lz::YieldOp getYield();
  }];
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let hasCanonicalizer = 1;
}

class Lz_ReductionOp<string mnemonic, string what, string identity>
    : Lz_Op<mnemonic, [RecursiveMemoryEffects, SingleBlock,
        DeclareOpInterfaceMethods<OpAsmOpInterface,
                                  ["getAsmBlockArgumentNames"]>]> {
  let summary = "summation scope: the " # what # " of a body over an index space";
  let description = [{
    Binds one `index` variable per range operand, evaluates the body at every
    point of `[0, r0) x [0, r1) x ...` and combines the yielded values with
  }] # what # [{. A body may yield a scalar or a tensor; tensors are combined
    elementwise, and every point must yield the same shape. Over an empty
    iteration space the result is the identity, }] # identity # [{.
    The result type equals the yielded type.

    Example (a dot product):

    ```mlir
    %d = lz.}] # mnemonic # [{ %k < %n : f64 {
      %a = lz.get %x[%k] : tensor<?xf64>
      %b = lz.get %y[%k] : tensor<?xf64>
      %p = arith.mulf %a, %b : f64
      lz.yield %p : f64
    }
    ```
  }];
  let arguments = (ins Variadic<Index>:$ranges);
  let results = (outs Lz_NumericOrTensor:$result);
  let regions = (region SizedRegion<1>:$body);

  let builders = [
    // Creates the scope with an entry block holding one index argument per
    // range, and calls `bodyBuilder` with the index variables to fill it
    // (including the terminator).
    OpBuilder<(ins "::mlir::Type":$resultType, "::mlir::ValueRange":$ranges,
                   "::leibniz::lz::ScopeBodyBuilder":$bodyBuilder)>
  ];
  let extraClassDeclaration = [{
    /// The scope's index variables.
    ::mlir::Block::BlockArgListType getIndices() {
      return getBody().getArguments();
    }
    ::leibniz::lz::YieldOp getYield();
    /// The value of the reduction over an empty iteration space as an
    /// attribute of the result type (a splat for tensors); null for a tensor
    /// of dynamic shape.
    ::mlir::TypedAttr getIdentityAttr();
  }];
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let hasCanonicalizer = 1;
}

def Lz_SumOp : Lz_ReductionOp<"sum", "sum", "zero">;
def Lz_ProdOp : Lz_ReductionOp<"prod", "product", "one">;
def Lz_MaxOp : Lz_ReductionOp<"max", "maximum",
    "`-inf` for floats and the smallest signed value for integers "
    "(NaN propagates, as in `arith.maximumf`)">;
def Lz_MinOp : Lz_ReductionOp<"min", "minimum",
    "`+inf` for floats and the largest signed value for integers "
    "(NaN propagates, as in `arith.minimumf`)">;

def Lz_AccumulateOp : Lz_Op<"accumulate", [RecursiveMemoryEffects, AttrSizedOperandSegments,
    SingleBlock, DeclareOpInterfaceMethods<OpAsmOpInterface,
                                           ["getAsmBlockArgumentNames"]>]> {
  let summary = "functional scatter-add: sums values into a tensor at indices";
  let description = [{
    Binds one `index` variable per range operand like `lz.sum`, and at every
    point of the iteration space evaluates a body that yields `k` indices
    (`k` at most the rank of the result) followed by a value: an element
    when `k` equals the rank, else the sub-tensor of the trailing
    dimensions. The result is a tensor of zeros of the result type, with
    dynamic sizes given after `into`, to which every point adds its value at
    its indices, in row-major order of the points. It is the transpose of
    reading a tensor (`lz.get`), and the form reverse-mode differentiation
    gives the cotangent of a tensor that a scope reads: it costs one
    addition per point, where the equivalent `lz.sum` of one-hot tensors
    costs the whole tensor per point.

    With the `masked` attribute the body yields an `i1` first: the points
    where it is false add nothing, and their indices and value are not
    used. (A triangular accumulation merged into a rectangular one by the
    rewrite rules is masked.)

    Indices outside the result are undefined in optimized code; the
    reference interpreter reports them as errors.

    ```mlir
    // The histogram of the values of %idx (a gather's transpose).
    %h = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
      %j = lz.get %idx[%k] : tensor<?xindex>
      %v = lz.get %w[%k] : tensor<?xf64>
      lz.yield %j, %v : index, f64
    }
    ```
  }];
  let arguments = (ins Variadic<Index>:$ranges, Variadic<Index>:$sizes,
                       UnitAttr:$masked);
  let results = (outs RankedTensorOf<[Lz_Float, AnySignlessInteger]>:$result);
  let regions = (region SizedRegion<1>:$body);

  let builders = [
    // Creates the scope with an entry block holding one index argument per
    // range, and calls `bodyBuilder` with the index variables to fill it
    // (including the terminator).
    OpBuilder<(ins "::mlir::Type":$resultType, "::mlir::ValueRange":$ranges,
                   "::mlir::ValueRange":$sizes,
                   "::leibniz::lz::ScopeBodyBuilder":$bodyBuilder)>
  ];
  let extraClassDeclaration = [{
    /// The scope's index variables.
    ::mlir::Block::BlockArgListType getIndices() {
      return getBody().getArguments();
    }
    ::leibniz::lz::YieldOp getYield();
    /// The indices the body yields.
    ::mlir::OperandRange getTargetIndices();
    /// The mask the body yields, or null without the `masked` attribute.
    ::mlir::Value getMask();
    /// The value the body yields.
    ::mlir::Value getTargetValue();
  }];
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
}

def Lz_YieldOp : Lz_Op<"yield", [Pure, Terminator,
    ParentOneOf<["ForOp", "SumOp", "ProdOp", "MaxOp", "MinOp", "AccumulateOp",
                "LoopOp"]>]> {
  let summary = "yields the values of a scope or a loop body";
  let description = [{
    Terminates the body of `lz.for`, the summation scopes, `lz.accumulate`
    and `lz.loop`. In a scope it yields the element(s) at the current point
    (and, in `lz.accumulate`, their indices); in a loop it yields the next
    carried state.

    ```mlir
    lz.yield %x, %v : f64, tensor<3xf64>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

//===----------------------------------------------------------------------===//
// Element access, constructors and library operators
//===----------------------------------------------------------------------===//

def Lz_GetOp : Lz_Op<"get", [Pure,
    InferTypeOpAdaptor]> {
  let summary = "reads an element (or a sub-tensor) of a tensor";
  let description = [{
    `lz.get %t[%i0, ..., %ik]` reads tensor `%t` at the given indices. With as
    many indices as `%t` has dimensions the result is the element; with fewer,
    it is the sub-tensor of the remaining trailing dimensions (`A[i]` of a
    matrix is its row `i`).

    Reading out of bounds is undefined in optimized code; the reference
    interpreter reports it as an error at the op's location, and constant
    indices outside static bounds are rejected by the verifier.

    ```mlir
    %e = lz.get %A[%i, %j] : tensor<4x?xf64>
    %row = lz.get %A[%i] : tensor<4x?xf64>
    ```
  }];
  let arguments = (ins Lz_Tensor:$tensor, Variadic<Index>:$indices);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$tensor `[` $indices `]` attr-dict `:` type($tensor)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lz_FillOp : Lz_Op<"fill", [Pure,
    TypesMatchWith<"value type matches the element type", "result", "value",
                   "::mlir::cast<::mlir::ShapedType>($_self).getElementType()">]> {
  let summary = "a tensor whose every element is one value";
  let description = [{
    Creates a tensor of the result type filled with `%value`. One `index`
    size operand is given per dynamic dimension of the result, in order.

    ```mlir
    %z = lz.fill %zero, %n : tensor<?x3xf64>
    ```
  }];
  let arguments = (ins Lz_ElementType:$value, Variadic<Index>:$sizes);
  let results = (outs Lz_Tensor:$result);
  let assemblyFormat = "$value (`,` $sizes^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lz_IotaOp : Lz_Op<"iota", [Pure]> {
  let summary = "the vector 0, 1, ..., n-1";
  let description = [{
    Creates a 1-D tensor whose element `i` is `i`, converted to the element
    type (integer or float). The size operand is given when the dimension is
    dynamic and omitted when it is static.

    ```mlir
    %v = lz.iota %n : tensor<?xf64>
    %w = lz.iota : tensor<4xi64>
    ```
  }];
  let arguments = (ins Optional<Index>:$size);
  let results = (outs 1DTensorOf<[Lz_Float, AnySignlessInteger]>:$result);
  let assemblyFormat = "($size^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Lz_MatmulOp : Lz_Op<"matmul", [Pure]> {
  let summary = "matrix product, a library operator";
  let description = [{
    `C[i, j] = sum_k A[i, k] * B[k, j]` for `A : tensor<m x k x T>` and
    `B : tensor<k x n x T>`. It means exactly the same as the corresponding
    `lz.for`/`lz.sum` nest; it exists as an op so that the tensor search and
    the code generators can instantiate a tuned library kernel for it.

    ```mlir
    %C = lz.matmul %A, %B : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
    ```
  }];
  let arguments = (ins Lz_NumericTensor:$lhs, Lz_NumericTensor:$rhs);
  let results = (outs Lz_NumericTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Lz_BatchMatmulOp : Lz_Op<"batch_matmul", [Pure]> {
  let summary = "batched matrix product, a library operator";
  let description = [{
    `C[b, i, j] = sum_k A[b, i, k] * B[b, k, j]` for `A : tensor<p x m x k x T>`
    and `B : tensor<p x k x n x T>`.

    ```mlir
    %C = lz.batch_matmul %A, %B : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<2x3x5xf32>
    ```
  }];
  let arguments = (ins Lz_NumericTensor:$lhs, Lz_NumericTensor:$rhs);
  let results = (outs Lz_NumericTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tuples
//===----------------------------------------------------------------------===//

def Lz_TupleOp : Lz_Op<"tuple", [Pure,
    InferTypeOpAdaptor]> {
  let summary = "builds a tuple";
  let description = [{
    Makes a value of the builtin `tuple` type from its operands. Tuples nest;
    the empty tuple is the unit value.

    ```mlir
    %p = lz.tuple(%x, %v : f64, tensor<3xf64>)
    %unit = lz.tuple
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$elements);
  let results = (outs Builtin_Tuple:$result);
  let assemblyFormat = "(`(` $elements^ `:` type($elements) `)`)? attr-dict";
  let hasFolder = 1;
}

def Lz_ProjOp : Lz_Op<"proj", [Pure,
    InferTypeOpAdaptor]> {
  let summary = "projects one element out of a tuple";
  let description = [{
    `lz.proj %t[i]` is element `i` (counting from zero) of tuple `%t`.

    ```mlir
    %v = lz.proj %p[1] : tuple<f64, tensor<3xf64>>
    ```
  }];
  let arguments = (ins Builtin_Tuple:$tuple, ConfinedAttr<I64Attr, [IntNonNegative]>:$index);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$tuple `[` $index `]` attr-dict `:` type($tuple)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Loops
//===----------------------------------------------------------------------===//

def Lz_LoopOp : Lz_Op<"loop", [RecursiveMemoryEffects, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "a loop that carries state by value";
  let description = [{
    `lz.loop` threads a tuple of state values through repeated evaluation of
    its body, and returns the final state. It has two forms.

    The counted form runs the body `%n` times (none when `%n <= 0`); the body
    receives the step number as an `index` and the current state, and yields
    the next state:

    ```mlir
    %r:2 = lz.loop %t < %n iter_args(%x = %x0, %v = %v0) : f64, tensor<3xf64> {
      ...
      lz.yield %x1, %v1 : f64, tensor<3xf64>
    }
    ```

    A tensor state keeps its sizes from step to step (the interpreter
    checks it), so that its sizes are those of its initial value.

    The `while` form has a condition region, evaluated on the current state
    before every step and terminated by `lz.condition`, and a body that runs
    while the condition holds:

    ```mlir
    %r = lz.loop while (%x0) : f64 cond {
    ^bb0(%x: f64):
      %c = arith.cmpf ogt, %x, %eps : f64
      lz.condition %c
    } do {
    ^bb0(%x: f64):
      %h = arith.mulf %x, %half : f64
      lz.yield %h : f64
    }
    ```
  }];
  let arguments = (ins Optional<Index>:$count, Variadic<AnyType>:$inits);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region AnyRegion:$cond, SizedRegion<1>:$body);

  let extraClassDeclaration = [{
    /// True for the counted form, false for the `while` form.
    bool isCounted() { return static_cast<bool>(getCount()); }
    /// The state arguments of the body (without the step of the counted
    /// form).
    ::mlir::Block::BlockArgListType getBodyStateArgs() {
      return getBody().getArguments().drop_front(isCounted() ? 1 : 0);
    }
    ::leibniz::lz::YieldOp getYield();
  }];
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let hasFolder = 1;
}

def Lz_ConditionOp : Lz_Op<"condition", [Pure, Terminator, HasParent<"LoopOp">]> {
  let summary = "terminates the condition region of a while loop";
  let description = [{
    The loop's body runs again while `%cond` is true.

    ```mlir
    lz.condition %c
    ```
  }];
  let arguments = (ins I1:$condition);
  let assemblyFormat = "$condition attr-dict";
}

//===----------------------------------------------------------------------===//
// Random numbers and debugging
//===----------------------------------------------------------------------===//

def Lz_RandomOp : Lz_Op<"random", [Pure]> {
  let summary = "counter-based pseudo-random numbers";
  let description = [{
    A tensor of pseudo-random floats of the given sizes: uniform in
    `[0, 1)` (`distribution = "uniform"`) or standard normal
    (`distribution = "normal"`). Element `e` (in C order) is a function of
    `$seed` and `e` only, computed with the Philox-4x32-10 counter-based
    generator, so the same program gives the same numbers on every target
    and in every order of evaluation. Uniform numbers take the top 53 bits
    of one 64-bit output; normal numbers use the Box-Muller transform on two.

    ```mlir
    %x = lz.random "normal" %seed, %n : tensor<?xf64>
    ```
  }];
  let arguments = (ins StrAttr:$distribution, I64:$seed,
                       Variadic<Index>:$sizes);
  let results = (outs RankedTensorOf<[Lz_Float]>:$result);
  let assemblyFormat = [{
    $distribution $seed (`,` $sizes^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def Lz_PrintOp : Lz_Op<"print", [MemoryEffects<[MemWrite]>,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "prints a value at run time and returns it";
  let description = [{
    Prints `$input` (NumPy style) when it runs and returns it unchanged; for
    debugging. It has a side effect, so it is not removed as dead code.

    ```mlir
    %y = lz.print %x : tensor<3xf64>
    ```
  }];
  let arguments = (ins AnyType:$input);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Lz_CheckToleranceOp : Lz_Op<"check_tolerance",
    [MemoryEffects<[MemWrite]>]> {
  let summary = "reports a value above its tolerance at run time";
  let description = [{
    Unless `$value <= $limit` (a NaN is not), reports that `$what` is
    `$value`, above the tolerance `$limit`: a warning on stderr, at the
    operation's location, and the program goes on; or, when the module has
    the unit attribute `lz.strict_tolerances` (`--strict`), a run-time
    error that stops it. Solves report with it that they did not converge.

    ```mlir
    lz.check_tolerance %norm, %tol, "the norm of argmin's gradient"
    ```
  }];
  let arguments = (ins F64:$value, F64:$limit, StrAttr:$what);
  let assemblyFormat = "$value `,` $limit `,` $what attr-dict";
}

def Lz_TraceLossOp : Lz_Op<"trace_loss", [MemoryEffects<[MemWrite]>]> {
  let summary = "records the loss of an optimizer step at run time";
  let description = [{
    Records that the optimizer loop at this operation's location (`$what`
    names it: "minimize" or "argmin") had the loss `$loss` at its 0-based
    step `$step`. The records go to the runtime (`leibniz_trace_loss`),
    from which `leibniz run --trace=file.csv` writes them; the optimizer
    expansions emit the operation only under the module's unit attribute
    `lz.trace`.

    ```mlir
    lz.trace_loss %step, %loss, "minimize" : f64
    ```
  }];
  let arguments = (ins Index:$step, AnyFloat:$loss, StrAttr:$what);
  let assemblyFormat = "$step `,` $loss `,` $what attr-dict `:` type($loss)";
}

#endif // LEIBNIZ_DIALECT_LZ_LZOPS_TD
