// normalize at a point below a function: a rule that erases or replaces the
// point ends the normalization there or moves it to the replacement, and
// operations outside the point stay as they are, exactly as the definition
// (repeat(topDown(...)), reference=true) does.

// RUN: leibniz-opt %s --split-input-file --lz-rewrite='try(topDown(is-for ; is-unused ; normalize(dce)))' > %t.w
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='strategy="try(topDown(is-for ; is-unused ; normalize(dce)))" reference=true' > %t.r
// RUN: diff %t.w %t.r
// RUN: FileCheck %s --check-prefix=ERASE < %t.w

// RUN: leibniz-opt %s --split-input-file --lz-rewrite='try(topDown(is-get ; normalize(fuse-for-get <+ dce)))' > %t.w2
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='strategy="try(topDown(is-get ; normalize(fuse-for-get <+ dce)))" reference=true' > %t.r2
// RUN: diff %t.w2 %t.r2
// RUN: FileCheck %s --check-prefix=REPLACE < %t.w2

// RUN: leibniz-opt %s --split-input-file --lz-rewrite='try(topDown(is-for ; one(is-for ; normalize(hoist-invariant))))' > %t.w3
// RUN: leibniz-opt %s --split-input-file --lz-rewrite='strategy="try(topDown(is-for ; one(is-for ; normalize(hoist-invariant))))" reference=true' > %t.r3
// RUN: diff %t.w3 %t.r3
// RUN: FileCheck %s --check-prefix=MOVE < %t.w3

// The dead traversal goes; the traversal it read is outside the point and
// stays, although it is dead now.
// ERASE-LABEL: func.func @erase
// ERASE: lz.for
// ERASE: arith.mulf
// ERASE-NOT: lz.for
// ERASE: return
func.func @erase(%x: tensor<?xf64>, %n: index) -> f64 {
  %sq = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = arith.mulf %e, %e : f64
    lz.yield %s : f64
  }
  %dead = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %sq[%i] : tensor<?xf64>
    lz.yield %e : f64
  }
  %c = arith.constant 1.0 : f64
  return %c : f64
}

// -----

// The read of the traversal is replaced by its body; the traversal, dead
// now, is outside the point and stays.
// REPLACE-LABEL: func.func @replace
// REPLACE-SAME: (%[[N:.*]]: index, %[[J:.*]]: index)
// REPLACE: lz.for
// REPLACE: %[[T:.*]] = arith.muli %[[J]], %[[J]]
// REPLACE: return %[[T]]
func.func @replace(%n: index, %j: index) -> index {
  %sq = lz.for %i < %n : tensor<?xindex> {
    %s = arith.muli %i, %i : index
    lz.yield %s : index
  }
  %r = lz.get %sq[%j] : tensor<?xindex>
  return %r : index
}

// -----

// normalize at the middle traversal: the invariant product moves out of
// the inner traversal, then out of the point, and no further: the outer
// traversal is outside the point.
// MOVE-LABEL: func.func @move
// MOVE-NEXT: lz.for
// MOVE-NEXT: arith.mulf
// MOVE-NEXT: lz.for
func.func @move(%x: tensor<?xf64>, %a: f64, %n: index) -> tensor<?x?x?xf64> {
  %t = lz.for %i < %n : tensor<?x?x?xf64> {
    %u = lz.for %j < %n : tensor<?x?xf64> {
      %v = lz.for %k < %n : tensor<?xf64> {
        %s = arith.mulf %a, %a : f64
        %e = lz.get %x[%k] : tensor<?xf64>
        %r = arith.addf %e, %s : f64
        lz.yield %r : f64
      }
      lz.yield %v : tensor<?xf64>
    }
    lz.yield %u : tensor<?x?xf64>
  }
  return %t : tensor<?x?x?xf64>
}

