func.func @f(%n: index, %x: f64) -> f64 {
  %0 = lz.sum %i < %n : f64 {
    lz.yield %x : f64
