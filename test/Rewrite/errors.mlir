// Malformed strategies: the message and the column of the mistake.
// RUN: not leibniz-opt %s --lz-rewrite='topDown(nothing)' 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: lz-rewrite: column 9: unknown rule or strategy 'nothing'
// UNKNOWN-NEXT: topDown(nothing)
// UNKNOWN-NEXT: ^
// An unknown name is the mistake, not its arguments.
// RUN: not leibniz-opt %s --lz-rewrite='x(y)' 2>&1 | FileCheck %s --check-prefix=UNKNOWN-CALL
// UNKNOWN-CALL: error: lz-rewrite: column 1: unknown rule or strategy 'x'
// RUN: not leibniz-opt %s --lz-rewrite='try(dce, dce)' 2>&1 | FileCheck %s --check-prefix=ARITY
// ARITY: error: lz-rewrite: column 1: 'try' takes 1 argument, not 2
// RUN: not leibniz-opt %s --lz-rewrite='dce(id)' 2>&1 | FileCheck %s --check-prefix=RULE-ARGS
// RULE-ARGS: error: lz-rewrite: column 1: 'dce' takes 0 arguments, not 1
// RUN: not leibniz-opt %s --lz-rewrite='if(is-for, id)' 2>&1 | FileCheck %s --check-prefix=IF-ARITY
// IF-ARITY: error: lz-rewrite: column 1: 'if' takes 3 arguments, not 2
// RUN: not leibniz-opt %s --lz-rewrite='try(dce' 2>&1 | FileCheck %s --check-prefix=CLOSE
// CLOSE: error: lz-rewrite: column 8: expected ',' or ')' after an argument
// RUN: not leibniz-opt %s --lz-rewrite='(dce <+ id' 2>&1 | FileCheck %s --check-prefix=PAREN
// PAREN: error: lz-rewrite: column 11: expected ')'
// RUN: not leibniz-opt %s --lz-rewrite='dce id' 2>&1 | FileCheck %s --check-prefix=TRAILING
// TRAILING: error: lz-rewrite: column 5: expected ';', '<+' or the end of the strategy
// RUN: not leibniz-opt %s --lz-rewrite='dce ;' 2>&1 | FileCheck %s --check-prefix=END
// END: error: lz-rewrite: column 6: expected a strategy, got the end
// RUN: not leibniz-opt %s --lz-rewrite='<+ dce' 2>&1 | FileCheck %s --check-prefix=NAME
// NAME: error: lz-rewrite: column 1: expected a name
// RUN: not leibniz-opt %s --lz-rewrite='strategy=' 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: error: lz-rewrite: column 1: expected a strategy, got the end
// RUN: not leibniz-opt --print-strategy=nothing 2>&1 | FileCheck %s --check-prefix=PRINT
// PRINT: leibniz-opt: error: no strategy named 'nothing'
// RUN: leibniz-opt --print-strategy=normalize | FileCheck %s --check-prefix=NORMALIZE
// NORMALIZE: normalize(s) = repeat(topDown(s))
// RUN: leibniz-opt --list-rules | FileCheck %s --check-prefix=LIST
// LIST: Rules:
// LIST: fuse-for-get: (for i. e)[j] -> e[i := j]
// LIST: Strategies:
// LIST: cleanup = normalize(

func.func @f() {
  return
}
