// With `reassociate`, a scalar reduction outside every scope and loop is
// split along its first range into partitions computed by an scf.forall
// and combined in order, when its estimated work calls for more than one
// partition; nested reductions stay loop nests.

// RUN: leibniz-opt %s --lower-lz=reassociate=true | FileCheck %s
// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null > %t.before
// RUN: leibniz-opt %s --lower-lz=reassociate=true --lz-interpret=entry=main -o /dev/null > %t.after
// RUN: diff %t.before %t.after

// CHECK-LABEL: func.func @total
// CHECK-SAME: (%[[X:.*]]: tensor<?xi64>)
// CHECK: %[[N:.*]] = tensor.dim %[[X]]
// CHECK: %[[INIT:.*]] = arith.constant 0 : i64
// CHECK: arith.minsi %{{.*}}, %c64
// CHECK: %[[PARTS:.*]] = arith.minsi %{{.*}}, %[[N]] : index
// CHECK: %[[SPLIT:.*]] = arith.cmpi sgt, %[[PARTS]], %c1
// CHECK: scf.if %[[SPLIT]] -> (i64) {
// CHECK:   %[[PARTIALS:.*]] = tensor.empty(%[[PARTS]]) : tensor<?xi64>
// CHECK:   %[[ALL:.*]] = scf.forall (%[[P:.*]]) in (%[[PARTS]]) shared_outs(%[[OUT:.*]] = %[[PARTIALS]])
// CHECK:     %[[LO:.*]] = arith.divsi %{{.*}}, %[[PARTS]]
// CHECK:     %[[HI:.*]] = arith.divsi %{{.*}}, %[[PARTS]]
// CHECK:     %[[PARTIAL:.*]] = scf.for %{{.*}} = %[[LO]] to %[[HI]] step %{{.*}} iter_args(%{{.*}} = %[[INIT]])
// CHECK:     %[[ONE:.*]] = tensor.from_elements %[[PARTIAL]] : tensor<1xi64>
// CHECK:     scf.forall.in_parallel
// CHECK-NEXT:  tensor.parallel_insert_slice %[[ONE]] into %[[OUT]][%[[P]]] [1] [1]
// CHECK:   scf.for %[[Q:.*]] = %{{.*}} to %[[PARTS]] step %c1 iter_args(%[[ACC:.*]] = %[[INIT]])
// CHECK:     %[[E:.*]] = tensor.extract %[[ALL]][%[[Q]]]
// CHECK:     arith.addi %[[ACC]], %[[E]]
// CHECK: } else {
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @total(%x: tensor<?xi64>) -> i64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xi64>
  %s = lz.sum %i < %n : i64 {
    %e = lz.get %x[%i] : tensor<?xi64>
    lz.yield %e : i64
  }
  return %s : i64
}

// CHECK-LABEL: func.func @nested
// CHECK-NOT: scf.forall
// CHECK: tensor.generate
// CHECK-NOT: scf.forall
// CHECK: return
func.func @nested(%x: tensor<?x?xi64>, %m: index, %n: index) -> tensor<?xi64> {
  %r = lz.for %i < %m : tensor<?xi64> {
    %s = lz.sum %j < %n : i64 {
      %e = lz.get %x[%i, %j] : tensor<?x?xi64>
      lz.yield %e : i64
    }
    lz.yield %s : i64
  }
  return %r : tensor<?xi64>
}

// Integer sums and maxima are exact in any order: the split results equal
// the sequential ones. 100000 points of 2 operations make 6 partitions;
// 7 points make one.
func.func @main() -> (i64, i64, i64) {
  %c0 = arith.constant 0 : index
  %c7 = arith.constant 7 : index
  %big = arith.constant 100000 : index
  %x = lz.for %i < %big : tensor<?xi64> {
    %v = arith.index_cast %i : index to i64
    %k = arith.constant 7919 : i64
    %m = arith.muli %v, %k : i64
    %r = arith.constant 100003 : i64
    %w = arith.remsi %m, %r : i64
    lz.yield %w : i64
  }
  %total = func.call @total(%x) : (tensor<?xi64>) -> i64
  %largest = lz.max %i < %big : i64 {
    %e = lz.get %x[%i] : tensor<?xi64>
    lz.yield %e : i64
  }
  %small = lz.sum %i < %c7 : i64 {
    %e = lz.get %x[%i] : tensor<?xi64>
    lz.yield %e : i64
  }
  return %total, %largest, %small : i64, i64, i64
}
