// Rules whose conditions look at uses: a negation whose last other use goes
// away (dce of %d, then loop-dead-state drops %p from the yield) lets
// mul-neg move it into the addition at %q (test/Rewrite/worklist.lz).
func.func @f(%x: f64, %b: f64, %n: index) -> f64 {
  %nb = arith.negf %b : f64
  %r:2 = lz.loop %i < %n iter_args(%s = %x, %t = %x) : f64, f64 {
    %p = arith.mulf %s, %nb : f64
    %q = arith.addf %s, %p : f64
    lz.yield %q, %p : f64, f64
  }
  %d = arith.addf %r#1, %r#1 : f64
  return %r#0 : f64
}
