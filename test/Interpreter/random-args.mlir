// Without `args`, parameters get seeded random data; the same seed gives the
// same data, dynamic sizes come from `dynamic-size`.

// RUN: leibniz-opt %s --lz-interpret='entry=identity seed=3 dynamic-size=2' -o /dev/null > %t.a
// RUN: leibniz-opt %s --lz-interpret='entry=identity seed=3 dynamic-size=2' -o /dev/null > %t.b
// RUN: diff %t.a %t.b
// RUN: FileCheck %s --input-file=%t.a

// CHECK:      ({{\[\[}}{{.*}}]
// CHECK-NEXT:  [{{.*}}]], [{{[0-9] [0-9] [0-9]}}], {{True|False}})

// RUN: leibniz-opt %s --lz-interpret='entry=identity seed=4 dynamic-size=2' -o /dev/null > %t.c
// RUN: not diff %t.a %t.c

// print-args shows the arguments before the results.
// RUN: leibniz-opt %s --lz-interpret='entry=identity seed=3 dynamic-size=2 print-args=1' -o /dev/null | FileCheck %s --check-prefix=ARGS
// ARGS: arg0 = ({{\[\[}}
// ARGS: ({{\[\[}}

func.func @identity(%t: tuple<tensor<?x3xf64>, tensor<3xi64>, i1>) -> tuple<tensor<?x3xf64>, tensor<3xi64>, i1> {
  return %t : tuple<tensor<?x3xf64>, tensor<3xi64>, i1>
}
