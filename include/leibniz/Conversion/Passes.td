//===- Passes.td - Conversion passes -----------------------*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_CONVERSION_PASSES_TD
#define LEIBNIZ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerLz : Pass<"lower-lz", "mlir::ModuleOp"> {
  let summary = "Lowers lz scopes, reads, constructors and loops to the "
                "upstream tensor, scf, linalg and arith dialects";
  let description = [{
    Rewrites the `lz` operations into upstream dialects on tensors, keeping
    the program's meaning exactly (the reference interpreter gives the same
    results before and after):

    | lz | becomes |
    |---|---|
    | `lz.for` yielding one scalar | `tensor.generate`, or a `linalg.generic` as for several scalars where it updates a loop's state in place |
    | `lz.for` yielding tensors | its first point, which gives the shape of the results, then an `scf.forall` over the others, each writing its slices (`tensor.parallel_insert_slice`) |
    | `lz.for` yielding several scalars | one `linalg.generic` whose outputs are its results (fresh tensors, or the states that they update in place, below), every dimension parallel, its body reading the point from `linalg.index`; not where its body holds such a `linalg.generic` already (CSE would take the inner `linalg.index` for the outer one): then as the next row |
    | `lz.for` yielding scalars and tensors | its first point, then an `scf.for` over the others building the results with `tensor.insert` / `tensor.insert_slice` |
    | (the results of `lz.for`) | `bufferization.alloc_tensor`, not `tensor.empty`: CSE merges equal `tensor.empty`s, and results sharing one would each be copied by bufferization |
    | `lz.sum`, `lz.prod`, `lz.max`, `lz.min` | an `scf.for` nest carrying the accumulator, combined in the scope's order |
    | `lz.get` | `tensor.extract`, or a rank-reducing `tensor.extract_slice` for a sub-tensor |
    | `lz.fill`, `lz.iota` | `linalg.fill` on `tensor.empty` (only the `tensor.empty` where no element is read: the fill starts a state of a counted loop with as many steps as it has rows, whose body writes a whole row of it at every step, row `t` or `count - 1 - t`, and uses it for nothing else, as reverse mode's stacks), `tensor.generate` |
    | `lz.matmul`, `lz.batch_matmul` | `linalg.matmul`, `linalg.batch_matmul` on a fill of `-0.0` (`+0.0` where there are no products) |
    | `lz.loop` | `scf.for` (counted) or `scf.while` |
    | `lz.random` | `tensor.generate` computing Philox-4x32-10 inline in `arith` |
    | `math.ipowi` (integers) | an `scf.while` squaring and multiplying; a negative exponent gives 1 for a base of 1, ±1 for -1, else 0, as in the interpreter |

    On the CPU (not with `gpu`), a traversal yielding scalars in the body
    of a counted `lz.loop`, whose result the body yields as the loop's
    next state and nowhere else, is written over that state in place (its
    output is the state, whose elements the body reads through the
    output) where nothing reads the state after the traversal begins but
    the traversal itself, each point its own element, and the state
    provably has the traversal's sizes (by induction over the loop: its
    initial value's `tensor.dim`s, constant sizes, or the ranges and sizes
    of the scopes, fills, reads, slices and loops that define it). An
    optimizer's step and a reverse sweep's cotangents then update their
    buffers instead of allocating new ones at every step. Where some traversal is
    written in place, the arguments of public functions are marked
    `bufferization.writable = false`: a state that starts as one is copied
    once, before the loop. The cheap traversals before it over the same
    ranges (no region or effect in their bodies) whose elements it reads at
    its own points are computed in it first, so that a step written as
    several scopes over the state (`x - lr * (a * x - 1.0)` without a
    rewrite strategy) is one traversal in place. Not where another op
    before the traversal that reads the state (but its sizes) feeds the
    traversal: canonicalization would move its element reads into the
    traversal, after the writes, and bufferization would copy the state at
    every step. The run-time checks
    of `--checks` then check the traversal's other reads too (the bound of
    its points is known from a new output only).

    A vector result of a traversal yielding several scalars whose only use
    pushes it as a row of a matrix (`tensor.insert_slice %v into %m[%r, 0]
    [1, n] [1, 1]`, where `lz-jam-steps` fused a forward sweep's push into
    its step) has that row of the matrix as its output, so that
    bufferization writes the row in place instead of copying it from a
    new buffer.

    Float sums start from `-0.0`, the identity of IEEE addition, so that a
    sum equals the interpreter's fold from the first point bit for bit; an
    empty scalar sum is `+0.0`. With `reassociate` (the driver's `-O3`),
    the combining operations of scalar float reductions carry the
    `reassoc` fast-math flag, which lets LLVM vectorize them: the sum is
    then taken in another order and differs from the interpreter's in the
    last bits.

    Loops that LLVM can vectorize without reassociating: on the CPU (not
    with `gpu`), a traversal over two ranges or more, the last one not a
    constant below 16 and the others not fewer than 4 points when constant
    (only the rows run in parallel), that yields a float sum over ranges
    known outside it (or a first range `x + c`, `x` the last variable and
    `c` a constant of at least 0: a triangular sum), without effects,
    where what the body computes before the sum and the sum uses is
    integers (every term computes them again), and where every read
    indexes the last variable in its last dimension only and some read
    does (`for o,
    y, x. sum c, r, s.
    X[c, y + r, x + s] * K[o, c, r, s]`; `for i, j. sum k. A[i, k] *
    B[k, j]`), is computed row by row: a traversal over the other ranges
    whose body fills a row with `-0.0` (`+0.0` where the sum is empty);
    where a term costs at most 32 operations, runs the sum's loops over
    strips of 256 bytes of the row (32 f64), then of 128 and of 64 bytes
    on what remains, carrying the strip's sums, each element's term
    computed in turn (LLVM keeps them in vector registers), then over one
    strip of 64 bytes on the rest, whose lanes past the row's end compute
    its last element again; otherwise, for each strip of 256 elements,
    runs the sum's loops and innermost the strip's elements, each adding
    its term to the row. A triangular sum's row runs the latter way, over
    each `k` adding its term to the elements from `k - c + 1` on (the
    GMM's `for i, r. sum q < r. L[i, d + q * (2 * d - q - 1) / 2 + r - q -
    1] * x[i, q]` reads the packed factor at consecutive addresses so),
    where the row has at least 32 elements (a condition at run time);
    narrower rows keep the traversal, each sum alone. A traversal of
    sums whose reads index one of its
    variables `v` (not a constant below 16) in one dimension, as `v`
    itself, and in no other (`for o, c, r, s. sum y, x. X[c, y + r, x + s]
    * G[o, y, x]`, a convolution's kernel gradient; `for i, j. sum k.
    A[i, k] * B[j, k]`), with 16 terms or more, where each such tensor
    is read alike for every value of another variable (not a constant
    below 16), runs so too after copies
    of the tensors read with `v` before their last dimension, that
    dimension moved last, as a traversal with `v` last, followed by a
    traversal back into its order (also with `reassociate`, where LLVM
    could vectorize the sums themselves: the convolution's gradient ran
    1.05 to 1.08 times as fast with the copies). A reduction to a
    float over two ranges or more, or over one in the body of a scope (its
    points the rows) where the sum is triangular, the last one not a
    constant below 16,
    whose body holds such a sum (the same conditions, read from its
    body), no other scope, and around the sum only reads of elements,
    arithmetic and math functions (`sum o, y, x. tanh(sum c, r, s. ...)`,
    a convolution's loss; the GMM's `sum r. (... + sum q < r. ...)^2`),
    is a loop nest over the other ranges carrying
    the reduction, whose body computes a row of the sums so, then folds
    the rest of the body of each element in order (split into
    partitions along the first range with `reassociate`, as other
    reductions). Each element adds the same terms in the same order, and
    a reduction folds the same values in the same order: the results are
    the sum's, bit for bit. An `lz.accumulate` (a scatter-add) whose innermost range is a
    constant below 16 (a stencil's window), and one of whose variables
    indexes the last dimension of the result alone or plus another
    variable, and no other dimension, has no such short range, and is
    indexed by every read in its last dimension only, runs that
    variable's loop innermost, and its short ranges' loops just outside
    the next one, so that consecutive runs of the innermost loop add into
    different elements (a convolution's gradient with respect to its
    input). Where some loops running backwards keep each element's
    additions in their order (of two variables added into an index, the
    one that comes first orders an element's points), they do, and the
    results are the same, bit for bit; otherwise the loops change order
    only with `reassociate`, or for integers. Where such a scatter-add's
    value is a sum whose reads index that variable in their last
    dimension only (a convolution's input gradient after `rev-ad-opt`'s
    `accumulate-inner-sum`: `sum o. K[o, c, r, s] * g[o, y, x]`), and the
    innermost loop runs forwards, the body of the loop around it computes
    the sums of the innermost loop's points as a row first, as the
    traversals above do, into one buffer that the loops around the
    innermost carry, and the innermost loop adds the row's elements;
    the sum reads a copy of each tensor that it reads along the row at
    one of its own variables in an earlier dimension but the last two,
    with that dimension moved before the last, where the copy is read
    many times over (the output channels of `g`, whose rows an image apart
    map onto the same sets of the L1 cache at 32×32). An accumulation with a
    triangular mask (`p < q` of two of its variables, q first) bounds its
    loop over p by q; where its target and reads depend on q in their last
    index only, and some does, q's loop runs innermost instead, from p + 1
    (the GMM's gradient adds into the packed factor at consecutive
    elements so), where each element keeps its order of additions or with
    `reassociate`, and where q's range has at least 8 points (a condition
    at run time). Where p and q are the last variables and the target's
    one index that depends on them depends on no other, its order is kept
    under a second condition at run time: over the triangle, in the new
    order, that index increases strictly (the lowering cannot show the
    GMM's packed index to be one-to-one; a loop over the triangle, before
    the nest, computes it). What a point computes without its inner indices moves
    out of their loops; out of a triangle's inner loop, which can have
    no points, only arithmetic moves freely, and reads move under a
    condition that the loop runs (a read such as `y[r - 1]` in `sum q <
    r` is valid only there, and run-time checks would report it). An
    innermost loop that adds into one element carries it, read before
    the loop and written after it (under that condition too); with
    `reassociate`, the additions carry the `reassoc` flag, and LLVM
    vectorizes that loop.

    With `reassociate`, a scalar reduction outside every scope
    and loop is also split along its first range into partitions (one per
    2^15 estimated operations, at most 64), whose partial results an
    `scf.forall` computes and a loop combines in order; the number of
    partitions depends on the sizes only, so the result does not depend on
    the number of threads. With `gpu` too (the CUDA pipeline's), the
    partitions are one per 2^9 estimated operations, at most 2^16, and
    reductions in sequential loops (an optimizer's steps) are split as
    well: each partition is then a GPU thread. With `gpu`, a scalar
    reduction in the body of a traversal outside every scope (a row sum,
    whose points become threads) is split too, along its first range into
    P strided partitions: a traversal over the points and the partitions
    before it computes the partial results (partition p of the elements p,
    p + P, p + 2P, ..., so that neighbouring threads read neighbouring
    elements), and each point combines its P partial results in order. P
    allows about 2^9 estimated operations per partition and 2^16 threads in
    all (P is 1 where the points are that many); reductions whose ranges
    depend on the point, or that use another scope's result, are not split.
    Reductions in functions
    called inside a scope (which run in a thread) are not split. With
    `vector-math` (the CPU pipeline at -O3 where LLVM calls libmvec's vector
    math functions), an `lz.accumulate` over one range, outside every scope
    and every function called in one, whose scalar value, computed in its
    body, calls a math function that LLVM vectorizes with libmvec (sin,
    cos, tan, exp, log, pow; with `extended-vector-math`, also tanh, erf,
    log1p and the others of glibc 2.35) first computes its values in a traversal of their own (a
    `tensor.generate`, copied so that canonicalization does not fold the
    reads back), and reads them at its points: its own loop adds into
    elements that the points choose, which LLVM does not vectorize, and
    the math functions with it; the traversal's loop it vectorizes. The
    order of the additions is the same, and so are the values up to the
    vector functions' rounding. Not over several ranges (the traversal
    holds a value per point, which may be many more than the elements of
    the result and the inputs), nor over a constant range below 16, nor
    where the body has effects. Tuples and `lz.print` are left as they
    are.

    ```
    leibniz-opt prog.mlir --lower-lz
    ```
  }];
  let options = [
    Option<"reassociate", "reassociate", "bool", "false",
           "Let float reductions be reassociated (vectorized), and "
           "scatter-adds' loops change order">,
    Option<"gpu", "gpu", "bool", "false",
           "With reassociate, split reductions into many small partitions, "
           "also in sequential loops, for the threads of a GPU">,
    Option<"vectorMath", "vector-math", "bool", "false",
           "The CPU's compiled code calls vector versions of math functions "
           "(-O3): compute the values of scatter-adds that call them in "
           "traversals of their own">,
    Option<"extendedVectorMath", "extended-vector-math", "bool", "false",
           "With vector-math: the vector versions include glibc 2.35's "
           "(tanh, erf, log1p, ...), not only those of LLVM's table (sin, "
           "cos, tan, exp, log, pow)">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect",
    "mlir::bufferization::BufferizationDialect",
    "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect",
    "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect"
  ];
}

def DecomposeTuples : Pass<"lz-decompose-tuples", "mlir::ModuleOp"> {
  let summary = "Replaces tuples by their elements, through functions, "
                "calls and structured control flow";
  let description = [{
    Code generation has no tuples: every value of a (nested) tuple type is
    replaced by its leaves, in order. Function parameters and results, call
    operands and results, returns, and the values carried by `scf.if`,
    `scf.for` and `scf.while` are flattened; `lz.tuple` and `lz.proj`
    disappear. A function `(tuple<f64, tuple<i64, f32>>) -> tuple<>` becomes
    `(f64, i64, f32) -> ()`.

    ```
    leibniz-opt prog.mlir --lower-lz --lz-decompose-tuples
    ```
  }];
  let dependentDialects = ["mlir::scf::SCFDialect"];
}

def LowerLzPrint : Pass<"lower-lz-print", "mlir::ModuleOp"> {
  let summary = "Lowers lz.print and lz.check_tolerance to calls of the "
                "runtime";
  let description = [{
    Compiled code prints through functions that the program's runtime
    provides: `lz.print` of a scalar becomes a call of
    `leibniz_print_<type>` (for instance `leibniz_print_f64(double)`), of a
    tensor a call of `leibniz_print_tensor_<type>` with the tensor cast to
    an unranked tensor (of a copy, which bufferizes to a buffer of its
    own), which becomes an unranked memref with a C interface after
    bufferization. The printed value replaces the result. The runtime
    (`lib/Runtime`, linked by the JIT and by compiled libraries) provides
    these functions; they print as the interpreter does.

    `lz.check_tolerance` becomes a call of `leibniz_tolerance_failed` when
    its value is above its limit, with its location and what it checks as
    constant strings; it warns on stderr, or stops the program with an
    error when the module has the unit attribute `lz.strict_tolerances`.
    `lz.trace_loss` becomes a call of `leibniz_trace_loss` with its
    location, its loop's kind, the step and the loss (widened to f64).
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::bufferization::BufferizationDialect",
                           "mlir::func::FuncDialect",
                           "mlir::tensor::TensorDialect"];
}

def InsertRuntimeChecks : Pass<"lz-runtime-checks", "mlir::ModuleOp"> {
  let summary = "Checks reads and integer divisions at run time, reporting "
                "the source location";
  let description = [{
    Compiled code does not check what the interpreter checks, unless this
    pass (the driver's `--checks`) inserts the checks: after `lower-lz`,
    every `tensor.extract` and `tensor.extract_slice` whose index can be out
    of bounds, and every integer division or remainder whose divisor can be
    zero (or, for signed division, whose operands can overflow), every
    conversion of a float to an integer (`arith.fptosi`, `arith.fptoui`:
    the float's truncated value must fit in the integer, not be NaN), and
    every new tensor (`tensor.generate`, `tensor.empty`) whose size can be
    negative, is guarded by an `scf.if` that calls the runtime when the check
    fails:

    ```
    leibniz_bounds_failed("prog.lz:3:14", index, dim, size)
    leibniz_size_failed("prog.lz:3:14", "size", size)
    leibniz_conversion_failed("prog.lz:4:7", value, width, isSigned)
    leibniz_check_failed("prog.lz:5:9: error: integer division by zero")
    ```

    A new tensor whose size is dynamic, or above a gigabyte, is also
    passed to `leibniz_allocation_check("prog.lz:3:14", bytes)` (its bytes
    in f64, which cannot overflow), which fails when it would not fit in the
    machine's physical memory: its allocation would fail.

    The runtime reports the error and leaves the compiled code. The location
    is the first file location in the operation's location. Checks on
    constant indices into static shapes are not inserted; the others that
    integer range analysis proves redundant are removed by
    `int-range-optimizations` and `canonicalize` after this pass.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect",
                           "mlir::func::FuncDialect",
                           "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect"];
}

def CheckRanges : Pass<"lz-check-ranges", "mlir::ModuleOp"> {
  let summary = "Checks at run time that the ranges of reductions are not "
                "negative";
  let description = [{
    A reduction (`lz.sum`, `lz.prod`, `lz.max`, `lz.min`) or an
    `lz.accumulate` of a negative range would lower to a loop that runs no
    iteration and give the identity, where the interpreter reports an
    error; a traversal (`lz.for`) of a negative range would fail only as
    a tensor of negative size. Under the driver's `--checks`, this pass
    runs before `lower-lz` and guards each such scope whose range may be
    negative (not a constant, not a tensor's size, not a scope's index)
    with an `scf.if` that calls
    `leibniz_size_failed("prog.lz:3:14", "range", range)` when the range
    is negative, the interpreter's error. `int-range-optimizations` removes the checks that integer
    range analysis proves redundant.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect",
                           "mlir::func::FuncDialect",
                           "mlir::scf::SCFDialect"];
}

def LowerMatmul : Pass<"lz-lower-matmul", "mlir::ModuleOp"> {
  let summary = "Lowers matrix products on buffers to loops over register "
                "tiles or to calls of BLAS";
  let description = [{
    `linalg.matmul` and `linalg.batch_matmul` on memrefs (after
    bufferization) become loops over tiles of the result: blocks of 4 rows
    (then 2, then the last row alone), and in each, blocks of 8 columns
    (then 4, 2 and 1). Each tile is a loop over k that carries the tile's
    elements (in registers) and stores them once at the end: every element
    adds its products in ascending k, with separate multiplications and
    additions, as the interpreter does, bit for bit. Loops in the order i,
    k, j (which read both operands along rows too) added each product to
    the result in memory, where the next k waited for it when a row of the
    result is short; the tiles were faster at every shape measured but one
    (f64, one thread, against those loops): 4.9 times for 256×128 by
    128×10, 3.4 for 32×1000 by 1000×32, 2.2 for 200³, 1.8 for 256×64 by
    64×128, 1.6 for 2×1000 by 1000×2, as fast for a row times 1000×32, and
    0.85 times for the outer product 1000×1 by 1×1000 (k = 1: nothing to
    carry).

    With `blas`, products of `f64` or `f32` whose rows are contiguous call
    `cblas_dgemm` / `cblas_sgemm` (row-major, accumulating into the result)
    when m * n * k is at least `blas-threshold`, and the loops otherwise.
    A product into a result just filled with zeros overwrites it instead
    (beta = 0), and the fill moves into the loops' branch. BLAS sums in its
    own order, with fused multiply-adds: the results differ from the
    interpreter's in the last bits. The program must then
    be linked with a CBLAS (OpenBLAS).

    With `parallel` (the CUDA pipeline's), a product not calling BLAS is an
    `scf.parallel` over (batch,) i, j instead, each iteration summing over
    k in ascending order into its element: the same sums, one thread each.

    With `blas-library=cuda`, BLAS is the CUDA runtime's
    `leibniz_cuda_dgemm` / `leibniz_cuda_sgemm`, with CBLAS's contract,
    which call cuBLAS from the host: only products in no parallel loop and
    no other linalg operation call it (the others are in kernels), and only
    where `leibniz_cuda_blas_available()` says at run time that cuBLAS
    loaded; the loops are the other branch.
  }];
  let options = [
    Option<"parallel", "parallel", "bool", "false",
           "Without BLAS, lower a product to an scf.parallel over its "
           "batch, rows and columns whose iterations sum over k">,
    Option<"blas", "blas", "bool", "false",
           "Call CBLAS for large float products">,
    Option<"blasThreshold", "blas-threshold", "int64_t", "32768",
           "The least m * n * k for which BLAS is called">,
    Option<"blasLibrary", "blas-library", "std::string", "\"cblas\"",
           "cblas (cblas_?gemm) or cuda (the CUDA runtime's cuBLAS calls)">
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect"];
}

def Canonicalize : Pass<"lz-canonicalize"> {
  let summary = "Canonicalization that does not duplicate computations";
  let description = [{
    The `canonicalize` pass, except that a read of a `tensor.generate`
    (`tensor.extract`) is replaced by a copy of the generator's body only
    when that read is the generator's only use. Upstream's pattern copies
    the body into every read, which computes an expensive element (an
    `exp`) once per read instead of once. Nor is a costly element (one
    with an operation with regions, such as a loop, or a math function)
    copied into a read that repeats (in a loop, or in another generator's
    body): the read would compute it once per repetition.

    And a loop that overwrites a filled tensor entirely before reading it
    (step `t` of `0 .. n` inserts row `t` or row `n - 1 - t` of `n` rows,
    or that element of a vector, and nothing else uses the carried tensor)
    starts from the unfilled tensor: reverse mode's stack of a loop's
    states, which holds the last step's state first, is not written
    twice. So does a loop that inserts, where `t % k == 0`, row `t / k`
    or `m - 1 - t / k` of `m = ceil(n / k)` rows, its carried tensor
    otherwise unchanged: the stack of every k-th state with checkpoints.
  }];
}

def LinalgToLoops : Pass<"lz-linalg-to-loops", "mlir::func::FuncOp"> {
  let summary = "Lowers linalg operations on buffers to scf loops, the "
                "innermost first";
  let description = [{
    `convert-linalg-to-loops`, applied to the linalg operations innermost
    first. A `linalg.map` or `linalg.generic` inside the body of another
    (a `tensor.generate`, or a traversal with several results, nested in
    one, bufferized) must be lowered before its parent: lowering the
    parent first makes the `linalg.index` operations of the inner body
    refer to the parent's loops.

    With `parallel`, an operation that is not nested in a loop or in
    another linalg operation becomes an `scf.parallel` over its parallel
    dimensions (for `lz-outline-parallel`); nested ones become `scf.for`
    nests, which run on one thread.

    Without `parallel-in-loops` (on the CPU), a `memref.copy` in a loop's
    body (a stack's row, pushed at every step) becomes a `linalg.copy`,
    lowered to loops there, rather than a call of the runtime's copy for
    any layout, which costs more than a short row.
  }];
  let options = [
    Option<"parallel", "parallel", "bool", "false",
           "Lower outermost operations to scf.parallel">,
    Option<"parallelInLoops", "parallel-in-loops", "bool", "false",
           "With parallel, operations in sequential loops are outermost "
           "too (the CUDA pipeline's kernels run in the host's loops)">
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect"];
}

def TileColumns : Pass<"lz-tile-columns", "mlir::func::FuncOp"> {
  let summary = "Runs a stack's sweeps by blocks of independent columns";
  let description = [{
    A reverse-mode gradient through a counted loop stores every state in a
    stack, which the forward sweep writes and the reverse sweep reads back
    (docs/ad.md). Where every element of the states is computed from the
    same element of the inputs (an elementwise step, such as an
    optimizer's), the columns of the stack are independent. This pass finds
    the ops of a function's body that compute columns along a size `n`,
    connected to a counted loop that carries a matrix of columns (a stack),
    and runs them as one loop over blocks of columns: the block's part of
    the stack stays in the cache rather than going to memory and back.

    An op computes columns (the index along a tensor's column axis, below
    `n`) where it is:
    - a traversal over `n` whose index only reads vectors of columns at
      itself, yielding scalars, its body using neither `n` nor any other
      column (other tensors from outside are read whole) and holding no
      op with effects (a print, a call), which blocks would repeat or
      reorder;
    - a fill with `n` among its sizes (the column axis);
    - `tensor.insert_slice` of a vector of columns as a row of a matrix of
      columns (`[%r, 0] [1, n] [1, 1]`), or a row of such a matrix;
    - a counted loop whose states are all tensors of columns and whose
      body has only such ops and ops that use neither columns nor `n`
      and have no effects;
    - a conditional whose branches have only such ops and ops that use
      neither columns nor `n` and have no effects, and yield tensors of
      columns along the same axes (a checkpointed forward sweep pushes
      every k-th state); its condition is computed without columns or
      `n`, so every block takes the same branch.

    The vectors of `n` elements from outside (the function's arguments
    whose sizes are `n`, by `tensor.dim` or `lz.equal_sizes`) are sliced by
    the block (not where also read at another point); the region's results
    used after it (vectors of columns only; every use after its last op)
    are inserted into tensors of all columns. A block has as many columns,
    a multiple of 8 and at least `min-columns`, as keep one block of every
    matrix that the region's top-level ops fill within `cache-bytes` (not
    those that its loops fill, as a checkpointed sweep's segments); where
    all of those matrices fit within 4 times `cache-bytes`, a single block
    has all the columns (they stay in a larger cache anyway, and shorter
    loops cost more than they save). Every step of a block's loops costs
    the same loop control and row copies whatever its width: on gradient
    descents, blocks of 8 columns (n = 100, 10,000 steps) took 4 times as
    long as one block, of 32 columns (n = 1000) 1.7 times, and 256 to 512 were
    the fastest, also where the stack spills the cache (n = 10000, twice
    as fast as 32). Every element is computed by the same
    operations in the same order: the results are the same, bit for bit,
    where the lowering keeps each element's operations (up to `-O2`; at
    `-O3`, LLVM's vectorized math functions may round a block's last
    elements as the scalar ones do). The CPU pipeline runs the pass from
    `-O2`.
  }];
  let options = [
    Option<"cacheBytes", "cache-bytes", "int64_t", "262144",
           "The bytes of the matrices' blocks (at most 0: the pass does "
           "nothing)">,
    Option<"minColumns", "min-columns", "int64_t", "256",
           "The fewest columns of a block (at least 8), rounded up to a "
           "multiple of 8">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::tensor::TensorDialect"];
}

def JamSteps : Pass<"lz-jam-steps", "mlir::func::FuncOp"> {
  let summary = "Runs the steps of an elementwise loop by strips of columns, "
                "or several per traversal";
  let description = [{
    A counted loop whose step is elementwise (an optimizer's step, or the
    reverse sweep of a gradient through a loop, docs/ad.md) writes its
    states to memory and reads them back at every step, and reads every
    vector it uses again. This pass runs all the steps of a strip of
    columns in registers where `strip-bytes` is set, and otherwise
    `steps` steps in one traversal: each element's states pass from one
    step to the next as scalars, and go to memory once per strip or
    once per group of steps.

    A loop qualifies where its states are vectors (tensors of rank 1) and
    its step consists of
    - traversals over one range `n` defined outside the loop, which read
      the step's vectors (its states, its rows and the results of its
      earlier traversals) only at their own index, and have no effects;
    - rows `%m[%r]` of matrices defined outside the loop (a gradient's
      stack), read by the traversals;
    - ops that use none of the step's vectors and have no effects (the
      step's scalars, such as a row's index): they run for every step of
      a group before its traversal;
    - pushes of a state or of a traversal's result as a row of a matrix
      state (a forward sweep's stack), `tensor.insert_slice %v into
      %m[%r, 0] [1, n] [1, 1]`, the matrix's only use, yielded in its
      place, at a row that the step's scalars compute;
    and yields results of its traversals, its states or its pushes, at
    least one computed. It becomes a loop over `count / steps` groups, whose step
    computes the rows and scalars of the group's steps and then one
    traversal over `n` with the group's steps' traversal bodies in order,
    followed by a loop of the remaining `count % steps` steps (the
    original step). A loop of a constant count below `steps` is left as
    it is.

    A loop that pushes rows runs one step per traversal, which yields the
    pushed rows' elements too; the pushes follow it, and lower-lz makes
    each row the traversal's output, so that the step writes it in place
    instead of copying the state (the copy had been a loop of its own at
    every step). With several steps per traversal, bufferization would
    copy every row of a group but the first through a new buffer: it
    cannot tell that two rows of a matrix differ. A stack whose every row
    the loop writes (lower-lz's test, which sees it in the loop only) is
    made a `tensor.empty` first.

    With `strip-bytes`, a loop whose traversals' bodies are straight-line
    code (reads, `arith`, and `math.sqrt`, `absf`, `fma` and `copysign`,
    which are instructions: a call of the math library would send every
    lane's states to memory around it) and whose scalars have no regions
    and cannot fail (are speculatable) runs by strips instead, under the
    condition that it runs a step, that `n` holds at least two strips of
    the widest width `w` (below) and that its vector states start with
    the traversals' `n` elements (which a step keeps; checked at run time
    where the IR does not show it, as it shows for a fill of `n`
    elements), and jammed otherwise. A strip is a range of `w` columns:
    it reads its columns of the initial states and of the vectors from
    outside that the step reads at its index alone, then runs a loop over all
    the steps that carries the `w` elements of every state as scalars
    (the step's scalars and rows computed once per step, each column's
    copy of the traversals' bodies after them, and the strip's part of
    each pushed row written into the stack), and writes its columns of
    the results. `w` is `strip-bytes` over the bytes of a column of the
    vector states, rounded down to a power of 2 and at most 64; strips of
    that width cover the columns, then strips of half of it and so on
    down to 8 what remains, and one strip of 8 columns the rest, its
    columns past the last computing the last again. LLVM vectorizes each
    operation across a strip's columns and keeps the states in vector
    registers across the steps, so that each element goes to memory once
    per loop instead of once per step (or per pair of steps). A step of a
    strip costs about the latency of a column's chain of operations
    whatever its width, so that the narrower strips cost as much as wide
    ones: hence the condition of two strips of `w` columns. A loop
    whose strips would be less than 8 wide, or whose step's copies for a
    strip would exceed 2048 operations, is jammed instead. The CPU
    pipeline sets `strip-bytes` to 768 (three eighths of the 32 vector
    registers) on CPUs with AVX-512, where it was measured
    (docs/architecture.md), with blocks of at least 128 columns in
    `lz-tile-columns` before it, and leaves it unset elsewhere.

    Every element is computed by the same operations in the same order:
    the results are the same, bit for bit. The CPU pipeline runs the pass
    from `-O2`, after `lz-tile-columns`, which leaves the loops' steps
    elementwise. Two steps per traversal are the default: on gradient
    descents, they made the function up to twice as fast where its
    vectors do not fit in the first-level cache, and its gradient 10–14%
    faster (docs/architecture.md); with four, each element's chain of
    dependent operations grew longer than the out-of-order core hides, and
    the function was slower where its vectors fit in that cache (63
    against 45 µs with 1000 elements and 1000 steps).
  }];
  let options = [
    Option<"steps", "steps", "int64_t", "2",
           "The steps run in one traversal (below 2: the pass does "
           "nothing)">,
    Option<"stripBytes", "strip-bytes", "int64_t", "0",
           "The bytes of a strip's states that its steps keep in "
           "registers (0: no strips)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect"];
}

def UnrollJam : Pass<"lz-unroll-jam", "mlir::func::FuncOp"> {
  let summary = "Runs independent float sums side by side, in their order";
  let description = [{
    A float sum (an `scf.for` carrying a float) whose additions keep their
    order runs at the adder's latency: each waits for the previous one.
    This pass unrolls a loop around such a sum by `lanes` and jams the
    copies into one loop that carries the lanes' sums side by side, so
    that their additions overlap and can be vectorized, while each sum
    adds its terms in the same order as before: the results are the same,
    bit for bit.

    The unrolled loop is the outermost of:
    - an `scf.parallel` without reductions, along its innermost dimension
      that has at least `lanes` iterations (or an unknown count) and that
      a sum in its body does not take its bounds from. It steps by `lanes`
      iterations; a full block runs jammed, the last partial one in a
      sequential loop;
    - an `scf.for` whose body only reads memory and has a sum that does
      not read the values the loop carries. The operations that do not
      read them run first, jammed; the others lane after lane, in order.
      The iterations after the last full block run in the loop itself.

    In the copies, an operation that does not depend on the lane (and
    does not read what the lanes wrote) is computed once, and a nested
    `scf.for` whose bounds do not depend on the lane is jammed too: one
    loop whose iterations run each lane's iteration in turn.
  }];
  let options = [
    Option<"lanes", "lanes", "unsigned", "4",
           "Iterations run side by side (below 2: the pass does nothing)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect"];
}

def OutlineParallel : Pass<"lz-outline-parallel", "mlir::ModuleOp"> {
  let summary = "Outlines the outermost parallel loops for the runtime's "
                "thread pool";
  let description = [{
    Each `scf.parallel` without results that is not nested in another loop
    of its function, and that prints nothing (directly or through the
    functions it calls), has its body moved to a new private function
    `@<function>__par<N>(captured values..., %begin: index, %end: index)`
    that runs the iterations [begin, end) of the first dimension (counted
    from 0) and all of the others. The loop is replaced by a call of the
    declaration `@<function>__par<N>__launch(captured values..., %begin,
    %end, %cost)`, which names the body (`leibniz.parallel_body`), with the
    iteration range [0, trip count) and an estimate of the work of one
    iteration computed just before the loop: operations count 1 (calls and
    copies 32, math functions 8), loops their body times their trip count,
    which is the value at the first iteration when it can be computed from
    the induction variable and values from outside, else a constant or 16;
    a conditional counts its larger branch.
    The runtime runs loops of little estimated work on one thread.
    The aligned pointers of the buffers that the function allocates
    (`memref.alloc`) and that no other captured value may reach (every
    other one is a view of another allocation, of a constant or of an
    argument of the function) are listed in `leibniz.noalias_params` on
    the body, as positions among its LLVM parameters;
    `lz-lower-parallel-launch` marks them `noalias`, so that LLVM, once it
    has inlined the body into its task, knows them apart from the other
    buffers and vectorizes loops that read through computed indices.
    `lz-lower-parallel-launch` turns these calls into calls of the runtime's
    `leibniz_parallel_for` after the lowering to the LLVM dialect.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::scf::SCFDialect"];
}

def LowerParallelLaunch : Pass<"lz-lower-parallel-launch", "mlir::ModuleOp"> {
  let summary = "Lowers the launches of outlined parallel loops to calls of "
                "leibniz_parallel_for";
  let description = [{
    On the LLVM dialect: each call of a launch declaration that
    `lz-outline-parallel` created stores its captured values into a
    stack-allocated struct and calls
    `leibniz_parallel_for(@<body>__task, %context, %begin, %end, %cost)`;
    `@<body>__task(context, begin, end)` loads them and calls the body.
    The body's parameters listed in its `leibniz.noalias_params` become
    `noalias` (an error if one is not a pointer). The declarations are
    removed.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def RuntimeAllocator : Pass<"lz-runtime-allocator", "mlir::ModuleOp"> {
  let summary = "Allocates and frees buffers through the runtime";
  let description = [{
    On the LLVM dialect of the CPU pipeline: the calls of `aligned_alloc`
    and `free` that `finalize-memref-to-llvm` made become calls of
    `leibniz_aligned_alloc` and `leibniz_free`, which keep each thread's
    recently freed buffers (of at most 8 MiB, 16 at most) for its next
    allocations of about their size: a loop that makes a tensor at every
    step reuses the same memory, warm in the cache, instead of new memory
    from malloc. The buffers are malloc's, so that a result that leaves
    compiled code is freed with `free`. The allocation function's result
    is `noalias`, as LLVM knows `aligned_alloc`'s by its name: loops over
    buffers that a function allocates need no run-time checks that they
    do not overlap (a forward sweep's step, which writes its state and a
    row of its stack, ran as scalar code: its checks, hoisted out of the
    loop over steps, gave up on the rows that go down the stack; a
    gradient descent's function got 1.1 times as fast without them).
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def ParallelToGPU : Pass<"lz-parallel-to-gpu", "mlir::ModuleOp"> {
  let summary = "Maps the outermost parallel loops to GPU kernel launches";
  let description = [{
    The CUDA target's parallelism. Each `scf.parallel` without results that
    is not nested in another parallel loop, and whose body calls no
    function without a body and nothing of the LLVM dialect (the runtime's
    print and check functions, which exist only on the host), and neither
    copies nor allocates buffers (the device's malloc has a small fixed
    heap), becomes a
    `gpu.launch` of one thread per iteration: its dimensions are
    linearized, row-major, into ceil(N / block-size) blocks of `block-size`
    threads, each thread recovers its iteration's induction variables by
    division and remainder, and threads past the last iteration do
    nothing. A loop of no iterations launches nothing. The loop body runs
    unchanged in the thread (inner loops and sums stay sequential in it).
    Loops that do not qualify run on the host, which reads the same
    buffers: the CUDA pipeline allocates them in unified memory. The
    functions that the kernels call run in a thread, so their own parallel
    loops stay loops (run by that thread).
    `gpu-kernel-outlining` then moves each launch's body into a kernel.

    ```
    leibniz-opt loops.mlir --lz-parallel-to-gpu=block-size=128
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "256",
           "The threads per block">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::gpu::GPUDialect",
                           "mlir::scf::SCFDialect"];
}

def CopyArgumentsToGPU : Pass<"lz-gpu-copy-arguments", "mlir::ModuleOp"> {
  let summary = "Copies the buffer arguments of the entry functions into "
                "buffers of the program's own";
  let description = [{
    On buffers, after bufferization and before the deallocation passes: at
    the entry of every function that is called from outside (marked
    `llvm.emit_c_interface`: the JIT's entry, a library's exports), each
    buffer argument that is used is copied into a new `memref.alloc` of its
    type, which
    replaces it (the pipeline passes buffers with the identity layout; an
    argument with another layout is an error). Under the CUDA pipeline every `memref.alloc` is unified
    memory that kernels can read, while a caller's buffers (the JIT's
    arguments, a compiled library's caller's arrays) are ordinary host
    memory that they cannot.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def GPULaunchToLoops : Pass<"lz-gpu-launch-to-loops", "mlir::func::FuncOp"> {
  let summary = "Runs GPU launches on the host, as parallel loops over "
                "their blocks and threads";
  let description = [{
    The CUDA pipeline's emulation on the CPU (`leibniz run --target=cuda
    --gpu-emulation`), which tests what `lz-parallel-to-gpu` and the buffer
    handling of the pipeline compute without a GPU: each `gpu.launch`
    whose body is one block becomes an `scf.parallel` over its grid and
    block sizes (blocks outermost, x first), with the body in it. Kernels
    that synchronize their threads would need them to run together; those
    of `lz-parallel-to-gpu` do not.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect"];
}

#endif // LEIBNIZ_CONVERSION_PASSES_TD
