//===- Passes.td - Interpreter passes ----------------------*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_INTERPRETER_PASSES_TD
#define LEIBNIZ_INTERPRETER_PASSES_TD

include "mlir/Pass/PassBase.td"

def LzInterpret : Pass<"lz-interpret", "mlir::ModuleOp"> {
  let summary = "Runs a function with the reference interpreter and prints "
                "its results";
  let description = [{
    Evaluates the function named by `entry` with Leibniz's reference
    interpreter and prints every result NumPy-style to standard output, one
    per line. The IR is left unchanged.

    Arguments come from `args`, a `;`-separated list of literals, one per
    parameter: numbers (`2.5`, `-3`, `true`), nested lists for tensors
    (`[[1, 2], [3, 4]]`) and parenthesized tuples (`(1.0, [2, 3])`). Without
    `args`, every parameter is filled with seeded random data: floats uniform
    in [-1, 1), integers uniform in [0, 10), booleans fair; dynamic dimensions
    get `dynamic-size`. A run-time error (an out-of-bounds read, an integer
    division by zero, an unsupported op) is reported at the op's location and
    fails the pass.

    With `count-ops`, the number of executed operations is printed after the
    results, per op name and in total.

    ```
    leibniz-opt prog.mlir --lz-interpret='entry=main args=[1,2,3];0.5'
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "The function to run">,
    Option<"args", "args", "std::string", /*default=*/"\"\"",
           "';'-separated argument literals (default: seeded random data)">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Seed of the random arguments">,
    Option<"dynamicSize", "dynamic-size", "int64_t", /*default=*/"4",
           "Size of dynamic dimensions of random arguments">,
    Option<"countOps", "count-ops", "bool", /*default=*/"false",
           "Print the number of executed operations">,
    Option<"printArgs", "print-args", "bool", /*default=*/"false",
           "Print the arguments before the results">
  ];
}

#endif // LEIBNIZ_INTERPRETER_PASSES_TD
