//===- Passes.td - Rewrite passes --------------------------*- tablegen -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_REWRITE_PASSES_TD
#define LEIBNIZ_REWRITE_PASSES_TD

include "mlir/Pass/PassBase.td"

def LzRewrite : Pass<"lz-rewrite", "mlir::ModuleOp"> {
  let summary = "Rewrites the program with a strategy of named rules";
  let description = [{
    Applies an ELEVATE-style strategy, written in the strategy language of
    docs/rewriting.md, to the module: the module is the program point, its
    functions are its children, the operations of a function's body are the
    function's children, and so on.

    ```
    leibniz-opt prog.mlir --lz-rewrite='normalize(fuse-for-get <+ tuple-proj) ; topDown(try(dce))'
    leibniz-opt prog.mlir --lz-rewrite='strategy=cleanup stats=true'
    ```

    The option string is the strategy itself unless it starts with
    `strategy=`, `stats=`, `reference=` or `max-rewrites=` (a strategy with
    spaces then needs quotes: `strategy="a <+ b" stats=true`).

    A strategy that makes more than `max-rewrites` rewrites (a million by
    default) stops with an error that says so: rules that undo each other
    (`repeat(add-comm)`) would otherwise run forever.

    `normalize(r1 <+ r2 <+ ...)` over rules runs with a worklist: after a
    rewrite only the operations it may have affected are tried again,
    always the first in pre-order, which gives exactly the result of the
    definition `repeat(topDown(...))`; `reference=true` runs the
    definition instead (the tests compare the two).

    A strategy that fails is an error. A malformed strategy is an error
    with the column of the mistake; so is a strategy that would not mean
    what it means in ELEVATE when run in place (a left choice that may fail
    after it changed the program, or a predicate that changes it).
    `leibniz-opt --list-rules` lists the rules and strategies, and
    `leibniz-opt --print-strategy=NAME` prints a definition.
  }];
  let options = [
    Option<"strategy", "strategy", "std::string", "\"cleanup\"",
           "The strategy to apply (default: the named strategy cleanup)">,
    Option<"stats", "stats", "bool", "false",
           "Print how often each rule fired to stderr (also: leibniz-opt "
           "--lz-rewrite-stats)">,
    Option<"reference", "reference", "bool", "false",
           "Run normalize over rule sets as defined, restarting from the "
           "root after each rewrite, instead of with the worklist">,
    Option<"maxRewrites", "max-rewrites", "uint64_t", "1000000",
           "Stop with an error after this many rewrites (0: no limit): "
           "rules that undo each other would run forever">
  ];
}

#endif // LEIBNIZ_REWRITE_PASSES_TD
