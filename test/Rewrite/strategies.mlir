// The combinators at the module: its children are the functions, a
// function's children the operations of its body.

// cleanup keeps the program's meaning (the interpreter's results before and
// after) and counts what fired.
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lz-rewrite='strategy=cleanup stats=true' 2> %t.stats | leibniz-opt --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after
// RUN: FileCheck %s --check-prefix=STATS < %t.stats
// STATS: fuse-for-get: 1
// STATS: for-size: 1
// STATS: tuple-proj: 1
// STATS: dce: 3
// RUN: leibniz-opt %s --lz-rewrite=cleanup | FileCheck %s --check-prefix=CLEAN
// CLEAN-LABEL: func.func @main
// CLEAN-NOT: lz.for
// CLEAN-NOT: lz.tuple

// Predicates and traversals that succeed leave the program as it is.
// RUN: leibniz-opt %s --lz-rewrite='all(is-func)' | FileCheck %s --check-prefix=SAME
// RUN: leibniz-opt %s --lz-rewrite='one(is-func) ; contains(is-for) ; not(contains(is-sum))' | FileCheck %s --check-prefix=SAME
// RUN: leibniz-opt %s --lz-rewrite='if(contains(is-get), id, fail)' | FileCheck %s --check-prefix=SAME
// SAME: lz.for
// SAME: lz.tuple

// A strategy that fails is an error.
// RUN: not leibniz-opt %s --lz-rewrite=fail 2>&1 | FileCheck %s --check-prefix=FAIL
// RUN: not leibniz-opt %s --lz-rewrite='all(is-for)' 2>&1 | FileCheck %s --check-prefix=FAIL-ALL
// RUN: not leibniz-opt %s --lz-rewrite='one(one(is-sum))' 2>&1 | FileCheck %s --check-prefix=FAIL-ONE
// FAIL: error: lz-rewrite: the strategy 'fail' failed
// FAIL-ALL: error: lz-rewrite: the strategy 'all(is-for)' failed
// FAIL-ONE: error: lz-rewrite: the strategy 'one(one(is-sum))' failed

// In place, a choice cannot undo a failed left side, and predicates must
// not rewrite: such strategies are rejected before they run.
// RUN: not leibniz-opt %s --lz-rewrite='(topDown(fuse-for-get) ; fail) <+ id' 2>&1 | FileCheck %s --check-prefix=UNDO
// UNDO: error: invalid strategy: the left side of '<+' may fail after it changed the program, which cannot be undone: topDown(fuse-for-get) ; fail <+ id
// RUN: not leibniz-opt %s --lz-rewrite='not(topDown(dce))' 2>&1 | FileCheck %s --check-prefix=PRED
// PRED: error: invalid strategy: the argument of 'not' must not change the program (a predicate): not(topDown(dce))
// RUN: not leibniz-opt %s --lz-rewrite='if(dce, id, id)' 2>&1 | FileCheck %s --check-prefix=COND
// COND: error: invalid strategy: the condition of 'if' must not change the program (a predicate)
// RUN: not leibniz-opt %s --lz-rewrite='try(fuse-for-get ; fail)' 2>&1 | FileCheck %s --check-prefix=UNDO-TRY
// UNDO-TRY: error: invalid strategy: the left side of '<+' may fail after it changed the program, which cannot be undone: in 'try', s <+ id
// A rule inside repeat or try is fine: it fails without changing anything.
// RUN: leibniz-opt %s --lz-rewrite='repeat(topDown(dce)) ; try(fuse-for-get)' | FileCheck %s --check-prefix=SAME-FUSED
// SAME-FUSED: lz.tuple

func.func @main() -> f64 {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c2 = arith.constant 2 : index
  %x = lz.for %i < %c4 : tensor<?xf64> {
    %v = arith.index_cast %i : index to i64
    %f = arith.sitofp %v : i64 to f64
    %s = arith.mulf %f, %f : f64
    lz.yield %s : f64
  }
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %m = arith.index_cast %n : index to i64
  %mf = arith.sitofp %m : i64 to f64
  %e = lz.get %x[%c2] : tensor<?xf64>
  %t = lz.tuple(%e, %mf : f64, f64)
  %a = lz.proj %t[0] : tuple<f64, f64>
  %r = arith.addf %a, %mf : f64
  return %r : f64
}
