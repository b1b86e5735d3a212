// docs/rewriting.md names every rule and every defined strategy.
// RUN: leibniz-opt --list-rules | %python %S/Inputs/check_documented.py %leibniz_src_root/docs/rewriting.md | FileCheck %s
// CHECK: rules and strategies documented

// And leibniz-opt --lz-rewrite-stats prints the statistics of every
// lz-rewrite pass.
// RUN: leibniz-opt %s --lz-rewrite=cleanup --lz-rewrite-stats -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATS
// STATS: tuple-proj: 1
func.func @f(%a: f64) -> f64 {
  %t = lz.tuple(%a, %a : f64, f64)
  %p = lz.proj %t[0] : tuple<f64, f64>
  return %p : f64
}
