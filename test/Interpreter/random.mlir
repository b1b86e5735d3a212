// RUN: leibniz-opt %s --lz-interpret=entry=main -o /dev/null | FileCheck %s --match-full-lines
// RUN: leibniz-opt %s --lower-lz --lz-interpret=entry=main -o /dev/null | FileCheck %s --match-full-lines

// lz.random: element 0 of seed 0 is Philox-4x32-10 of the zero counter under
// the zero key, (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8): uniform
// 0xe169c58d6627e8d5 >> 11 times 2^-53, normal by Box-Muller on both words.
// lz.print prints when it runs, before the results.

// CHECK:      [0.8805202]
// CHECK-NEXT: 0.8805201978886142
// CHECK-NEXT: -0.39766753844418223
// CHECK-NEXT: 0.8805202
func.func @main() -> (f64, f64, f32) {
  %seed = arith.constant 0 : i64
  %c0 = arith.constant 0 : index
  %u = lz.random "uniform" %seed : tensor<1xf64>
  %n = lz.random "normal" %seed : tensor<1xf64>
  %f = lz.random "uniform" %seed : tensor<1xf32>
  %fp = lz.print %f : tensor<1xf32>
  %a = lz.get %u[%c0] : tensor<1xf64>
  %b = lz.get %n[%c0] : tensor<1xf64>
  %c = lz.get %fp[%c0] : tensor<1xf32>
  return %a, %b, %c : f64, f64, f32
}
