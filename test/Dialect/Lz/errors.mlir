// RUN: leibniz-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

// Every verifier diagnostic of the lz dialect.

//===----------------------------------------------------------------------===//
// lz.for
//===----------------------------------------------------------------------===//

func.func @for_no_range() -> tensor<f64> {
  // expected-error @+1 {{'lz.for' op expects at least one index range}}
  %0 = "lz.for"() ({
    %c = arith.constant 1.0 : f64
    "lz.yield"(%c) : (f64) -> ()
  }) : () -> tensor<f64>
  return %0 : tensor<f64>
}

// -----

func.func @for_index_count(%n: index) -> tensor<?xf64> {
  // expected-error @+1 {{'lz.for' op expects one index variable per range, but has 2 index variables and 1 ranges}}
  %0 = "lz.for"(%n) ({
  ^bb0(%i: index, %j: index):
    %c = arith.constant 1.0 : f64
    "lz.yield"(%c) : (f64) -> ()
  }) : (index) -> tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

func.func @for_index_type(%n: index) -> tensor<?xf64> {
  // expected-error @+1 {{'lz.for' op expects index variables of type 'index', got 'i64'}}
  %0 = "lz.for"(%n) ({
  ^bb0(%i: i64):
    %c = arith.constant 1.0 : f64
    "lz.yield"(%c) : (f64) -> ()
  }) : (index) -> tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

func.func @for_terminator(%n: index) -> tensor<?xf64> {
  // expected-error @+1 {{'lz.for' op expects its body to end with 'lz.yield'}}
  %0 = "lz.for"(%n) ({
  ^bb0(%i: index):
    "test.terminator"() : () -> ()
  }) : (index) -> tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

func.func @for_yield_count(%n: index, %x: f64) -> tensor<?xf64> {
  // expected-error @+1 {{'lz.for' op yields 2 values but has 1 results}}
  %0 = lz.for %i < %n : tensor<?xf64> {
    lz.yield %x, %x : f64, f64
  }
  return %0 : tensor<?xf64>
}

// -----

func.func @for_rank(%n: index, %x: f64) -> tensor<?xf64> {
  // expected-error @+1 {{'lz.for' op result #0 has rank 1, less than the 2 index variables of the scope}}
  %0 = lz.for %i < %n, %j < %n : tensor<?xf64> {
    lz.yield %x : f64
  }
  return %0 : tensor<?xf64>
}

// -----

func.func @for_element_type(%n: index, %x: f32) -> tensor<?xf64> {
  // expected-error @+1 {{'lz.for' op result #0 of type 'tensor<?xf64>' expects the body to yield 'f64', but it yields 'f32'}}
  %0 = lz.for %i < %n : tensor<?xf64> {
    lz.yield %x : f32
  }
  return %0 : tensor<?xf64>
}

// -----

func.func @for_inner_shape(%n: index, %v: tensor<3xf64>) -> tensor<?x2xf64> {
  // expected-error @+1 {{'lz.for' op result #0 of type 'tensor<?x2xf64>' expects the body to yield 'tensor<2xf64>', but it yields 'tensor<3xf64>'}}
  %0 = lz.for %i < %n : tensor<?x2xf64> {
    lz.yield %v : tensor<3xf64>
  }
  return %0 : tensor<?x2xf64>
}

// -----

func.func @for_static_size(%x: f64) -> tensor<5xf64> {
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{'lz.for' op result #0 has size 5 in dimension 0, but its range is 4}}
  %0 = lz.for %i < %c4 : tensor<5xf64> {
    lz.yield %x : f64
  }
  return %0 : tensor<5xf64>
}

// -----

func.func @for_negative_range(%x: f64) -> tensor<?xf64> {
  %c = arith.constant -1 : index
  // expected-error @+1 {{'lz.for' op range #0 is negative (-1)}}
  %0 = lz.for %i < %c : tensor<?xf64> {
    lz.yield %x : f64
  }
  return %0 : tensor<?xf64>
}

// -----

func.func @for_complex_elements(%n: index, %x: complex<f64>) -> tensor<?xcomplex<f64>> {
  // expected-error @+1 {{'lz.for' op result #0 must be variadic of ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or signless integer or index values, but got 'tensor<?xcomplex<f64>>'}}
  %0 = lz.for %i < %n : tensor<?xcomplex<f64>> {
    lz.yield %x : complex<f64>
  }
  return %0 : tensor<?xcomplex<f64>>
}

// -----

func.func @for_result_not_tensor(%n: index, %x: f64) -> f64 {
  // expected-error @+1 {{'lz.for' op result #0 must be variadic of ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or signless integer or index values, but got 'f64'}}
  %0 = lz.for %i < %n : f64 {
    lz.yield %x : f64
  }
  return %0 : f64
}

//===----------------------------------------------------------------------===//
// Summation scopes
//===----------------------------------------------------------------------===//

// -----

func.func @sum_yield_count(%n: index, %x: f64) -> f64 {
  // expected-error @+1 {{'lz.sum' op expects its body to yield exactly one value, got 2}}
  %0 = lz.sum %i < %n : f64 {
    lz.yield %x, %x : f64, f64
  }
  return %0 : f64
}

// -----

func.func @prod_yield_type(%n: index, %x: f32) -> f64 {
  // expected-error @+1 {{'lz.prod' op yields 'f32' but its result type is 'f64'}}
  %0 = lz.prod %i < %n : f64 {
    lz.yield %x : f32
  }
  return %0 : f64
}

// -----

func.func @max_i1(%n: index, %x: i1) -> i1 {
  // expected-error @+1 {{'lz.max' op cannot reduce values of type i1}}
  %0 = lz.max %i < %n : i1 {
    lz.yield %x : i1
  }
  return %0 : i1
}

// -----

func.func @min_index(%n: index) -> index {
  // expected-error @+1 {{'lz.min' op result #0 must be}}
  %0 = lz.min %i < %n : index {
    lz.yield %i : index
  }
  return %0 : index
}

// -----

func.func @sum_negative_range(%x: f64) -> f64 {
  %c = arith.constant -3 : index
  // expected-error @+1 {{'lz.sum' op range #0 is negative (-3)}}
  %0 = lz.sum %i < %c : f64 {
    lz.yield %x : f64
  }
  return %0 : f64
}

// -----

func.func @sum_terminator(%n: index) -> f64 {
  // expected-error @+1 {{'lz.sum' op expects its body to end with 'lz.yield'}}
  %0 = "lz.sum"(%n) ({
  ^bb0(%i: index):
    "test.terminator"() : () -> ()
  }) : (index) -> f64
  return %0 : f64
}

//===----------------------------------------------------------------------===//
// lz.yield and lz.condition
//===----------------------------------------------------------------------===//

// -----

func.func @yield_outside(%x: f64) -> f64 {
  // expected-error @+1 {{'lz.yield' op expects parent op to be one of 'lz.for, lz.sum, lz.prod, lz.max, lz.min, lz.accumulate, lz.loop'}}
  lz.yield %x : f64
}

// -----

func.func @condition_outside(%n: index, %c: i1) -> tensor<?xi1> {
  %0 = lz.for %i < %n : tensor<?xi1> {
    // expected-error @+1 {{'lz.condition' op expects parent op 'lz.loop'}}
    lz.condition %c
  }
  return %0 : tensor<?xi1>
}

//===----------------------------------------------------------------------===//
// lz.get
//===----------------------------------------------------------------------===//

// -----

func.func @get_too_many(%A: tensor<?x?xf64>, %i: index) -> f64 {
  // expected-error @+1 {{'lz.get' has 3 indices, more than the rank 2 of the tensor}}
  %0 = lz.get %A[%i, %i, %i] : tensor<?x?xf64>
  return %0 : f64
}

// -----

func.func @get_wrong_result(%A: tensor<?x?xf64>, %i: index) -> f32 {
  // expected-error @+2 {{'lz.get' op inferred type(s) 'f64' are incompatible with return type(s) of operation 'f32'}}
  // expected-error @+1 {{'lz.get' op failed to infer returned types}}
  %0 = "lz.get"(%A, %i, %i) : (tensor<?x?xf64>, index, index) -> f32
  return %0 : f32
}

// -----

func.func @get_negative(%A: tensor<4xf64>) -> f64 {
  %c = arith.constant -1 : index
  // expected-error @+1 {{'lz.get' op index #0 is negative (-1)}}
  %0 = lz.get %A[%c] : tensor<4xf64>
  return %0 : f64
}

// -----

func.func @get_out_of_bounds(%A: tensor<?x4xf64>, %i: index) -> f64 {
  %c = arith.constant 4 : index
  // expected-error @+1 {{'lz.get' op index #1 is 4, out of bounds for size 4}}
  %0 = lz.get %A[%i, %c] : tensor<?x4xf64>
  return %0 : f64
}

//===----------------------------------------------------------------------===//
// Constructors
//===----------------------------------------------------------------------===//

// -----

func.func @fill_sizes(%v: f64) -> tensor<?x3xf64> {
  // expected-error @+1 {{'lz.fill' op expects one size per dynamic dimension of 'tensor<?x3xf64>' (1), got 0}}
  %0 = lz.fill %v : tensor<?x3xf64>
  return %0 : tensor<?x3xf64>
}

// -----

func.func @fill_type(%v: f32) -> tensor<3xf64> {
  // expected-error @+1 {{'lz.fill' op failed to verify that value type matches the element type}}
  %0 = "lz.fill"(%v) : (f32) -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

// -----

func.func @iota_missing_size() -> tensor<?xf64> {
  // expected-error @+1 {{'lz.iota' op expects a size operand for a dynamic result}}
  %0 = lz.iota : tensor<?xf64>
  return %0 : tensor<?xf64>
}

// -----

func.func @iota_extra_size(%n: index) -> tensor<4xf64> {
  // expected-error @+1 {{'lz.iota' op expects no size operand for a static result}}
  %0 = lz.iota %n : tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @iota_rank(%n: index) -> tensor<2x2xf64> {
  // expected-error @+1 {{'lz.iota' op result #0 must be 1D tensor}}
  %0 = lz.iota : tensor<2x2xf64>
  return %0 : tensor<2x2xf64>
}

//===----------------------------------------------------------------------===//
// Library operators
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_rank(%a: tensor<3xf64>, %b: tensor<3x4xf64>) -> tensor<4xf64> {
  // expected-error @+1 {{'lz.matmul' op expects operands and result of rank 2, got 'tensor<3xf64>', 'tensor<3x4xf64>' -> 'tensor<4xf64>'}}
  %0 = lz.matmul %a, %b : tensor<3xf64>, tensor<3x4xf64> -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @matmul_element(%a: tensor<2x3xf64>, %b: tensor<3x4xf32>) -> tensor<2x4xf64> {
  // expected-error @+1 {{'lz.matmul' op expects one element type, got 'f64', 'f32' -> 'f64'}}
  %0 = lz.matmul %a, %b : tensor<2x3xf64>, tensor<3x4xf32> -> tensor<2x4xf64>
  return %0 : tensor<2x4xf64>
}

// -----

func.func @matmul_contraction(%a: tensor<2x4xf64>, %b: tensor<5x3xf64>) -> tensor<2x3xf64> {
  // expected-error @+1 {{'lz.matmul' op contracts mismatched sizes 4 and 5}}
  %0 = lz.matmul %a, %b : tensor<2x4xf64>, tensor<5x3xf64> -> tensor<2x3xf64>
  return %0 : tensor<2x3xf64>
}

// -----

func.func @matmul_result(%a: tensor<2x4xf64>, %b: tensor<4x3xf64>) -> tensor<3x3xf64> {
  // expected-error @+1 {{'lz.matmul' op result type 'tensor<3x3xf64>' does not match the operand shapes}}
  %0 = lz.matmul %a, %b : tensor<2x4xf64>, tensor<4x3xf64> -> tensor<3x3xf64>
  return %0 : tensor<3x3xf64>
}

// -----

func.func @batch_matmul_batch(%a: tensor<2x3x4xf64>, %b: tensor<3x4x5xf64>) -> tensor<2x3x5xf64> {
  // expected-error @+1 {{'lz.batch_matmul' op has mismatched batch sizes in dimension 0}}
  %0 = lz.batch_matmul %a, %b : tensor<2x3x4xf64>, tensor<3x4x5xf64> -> tensor<2x3x5xf64>
  return %0 : tensor<2x3x5xf64>
}

// -----

func.func @batch_matmul_rank(%a: tensor<3x4xf64>, %b: tensor<4x5xf64>) -> tensor<3x5xf64> {
  // expected-error @+1 {{'lz.batch_matmul' op expects operands and result of rank 3}}
  %0 = lz.batch_matmul %a, %b : tensor<3x4xf64>, tensor<4x5xf64> -> tensor<3x5xf64>
  return %0 : tensor<3x5xf64>
}

//===----------------------------------------------------------------------===//
// Tuples
//===----------------------------------------------------------------------===//

// -----

func.func @proj_range(%t: tuple<f64, f64>) -> f64 {
  // expected-error @+1 {{'lz.proj' index 2 is out of range for 'tuple<f64, f64>'}}
  %0 = lz.proj %t[2] : tuple<f64, f64>
  return %0 : f64
}

// -----

func.func @proj_negative(%t: tuple<f64, f64>) -> f64 {
  // expected-error @+1 {{'lz.proj' op attribute 'index' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %0 = "lz.proj"(%t) <{index = -1 : i64}> : (tuple<f64, f64>) -> f64
  return %0 : f64
}

// -----

func.func @tuple_type(%x: f64) -> tuple<f32> {
  // expected-error @+2 {{'lz.tuple' op inferred type(s) 'tuple<f64>' are incompatible with return type(s) of operation 'tuple<f32>'}}
  // expected-error @+1 {{'lz.tuple' op failed to infer returned types}}
  %0 = "lz.tuple"(%x) : (f64) -> tuple<f32>
  return %0 : tuple<f32>
}

//===----------------------------------------------------------------------===//
// lz.loop
//===----------------------------------------------------------------------===//

// -----

func.func @loop_results(%n: index, %x: f64) -> f32 {
  // expected-error @+1 {{'lz.loop' op expects result types to equal the state types}}
  %0 = "lz.loop"(%n, %x) <{operandSegmentSizes = array<i32: 1, 1>}> ({
  }, {
  ^bb0(%t: index, %s: f64):
    "lz.yield"(%s) : (f64) -> ()
  }) : (index, f64) -> f32
  return %0 : f32
}

// -----

func.func @loop_body_args(%n: index, %x: f64) -> f64 {
  // expected-error @+1 {{'lz.loop' op expects the body to take ('index', 'f64'), but it takes ('f64')}}
  %0 = "lz.loop"(%n, %x) <{operandSegmentSizes = array<i32: 1, 1>}> ({
  }, {
  ^bb0(%s: f64):
    "lz.yield"(%s) : (f64) -> ()
  }) : (index, f64) -> f64
  return %0 : f64
}

// -----

func.func @loop_terminator(%n: index, %x: f64) -> f64 {
  // expected-error @+1 {{'lz.loop' op expects its body to end with 'lz.yield'}}
  %0 = "lz.loop"(%n, %x) <{operandSegmentSizes = array<i32: 1, 1>}> ({
  }, {
  ^bb0(%t: index, %s: f64):
    "test.terminator"() : () -> ()
  }) : (index, f64) -> f64
  return %0 : f64
}

// -----

func.func @loop_yield(%n: index, %x: f64, %y: f32) -> f64 {
  // expected-error @+1 {{'lz.loop' op expects the body to yield the state types}}
  %0 = lz.loop %t < %n iter_args(%s = %x) : f64 {
    lz.yield %y : f32
  }
  return %0 : f64
}

// -----

func.func @loop_counted_cond(%n: index, %x: f64, %c: i1) -> f64 {
  // expected-error @+1 {{'lz.loop' op of the counted form has no condition region}}
  %0 = "lz.loop"(%n, %x) <{operandSegmentSizes = array<i32: 1, 1>}> ({
  ^bb0(%s: f64):
    "lz.condition"(%c) : (i1) -> ()
  }, {
  ^bb0(%t: index, %s: f64):
    "lz.yield"(%s) : (f64) -> ()
  }) : (index, f64) -> f64
  return %0 : f64
}

// -----

func.func @loop_while_no_cond(%x: f64) -> f64 {
  // expected-error @+1 {{'lz.loop' op of the while form expects a condition region with one block}}
  %0 = "lz.loop"(%x) <{operandSegmentSizes = array<i32: 0, 1>}> ({
  }, {
  ^bb0(%s: f64):
    "lz.yield"(%s) : (f64) -> ()
  }) : (f64) -> f64
  return %0 : f64
}

// -----

func.func @loop_while_cond_args(%x: f64, %c: i1) -> f64 {
  // expected-error @+1 {{'lz.loop' op expects the condition region to take ('f64'), but it takes ()}}
  %0 = lz.loop while (%x) : f64 cond {
    lz.condition %c
  } do {
  ^bb0(%s: f64):
    lz.yield %s : f64
  }
  return %0 : f64
}

// -----

func.func @loop_while_cond_terminator(%x: f64) -> f64 {
  // expected-error @+1 {{'lz.loop' op expects its condition region to end with 'lz.condition'}}
  %0 = lz.loop while (%x) : f64 cond {
  ^bb0(%s: f64):
    lz.yield %s : f64
  } do {
  ^bb0(%s: f64):
    lz.yield %s : f64
  }
  return %0 : f64
}

// -----

func.func @loop_state_types(%n: index, %x: f64) -> f64 {
  // expected-error @+1 {{expected 1 state types, got 2}}
  %0 = lz.loop %t < %n iter_args(%s = %x) : f64, f64 {
    lz.yield %s : f64
  }
  return %0 : f64
}

// -----

// lz floats are f16, bf16, f32 and f64: every reduction has an identity.
func.func @max_f8(%n: index, %x: f8E4M3FN) -> f8E4M3FN {
  // expected-error @+1 {{'lz.max' op result #0 must be}}
  %0 = lz.max %i < %n : f8E4M3FN {
    lz.yield %x : f8E4M3FN
  }
  return %0 : f8E4M3FN
}

// -----

func.func @random_distribution(%seed: i64) -> tensor<2xf64> {
  // expected-error @+1 {{'lz.random' op distribution must be "uniform" or "normal", not "gamma"}}
  %0 = lz.random "gamma" %seed : tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

func.func @random_sizes(%seed: i64, %n: index) -> tensor<2xf64> {
  // expected-error @+1 {{'lz.random' op expects one size per dynamic dimension of 'tensor<2xf64>' (0), got 1}}
  %0 = lz.random "uniform" %seed, %n : tensor<2xf64>
  return %0 : tensor<2xf64>
}

// -----

func.func @accumulate_sizes(%n: index) -> tensor<?xf64> {
  // expected-error @+1 {{'lz.accumulate' op expects 1 sizes for the dynamic dimensions of 'tensor<?xf64>', got 0}}
  %0 = lz.accumulate %k < %n : tensor<?xf64> {
    %x = arith.constant 1.0 : f64
    lz.yield %k, %x : index, f64
  }
  return %0 : tensor<?xf64>
}

// -----

func.func @accumulate_rank(%n: index) -> tensor<2xf64> {
  // expected-error @+1 {{'lz.accumulate' op yields 2 indices into a tensor of rank 1}}
  %0 = lz.accumulate %k < %n : tensor<2xf64> {
    %x = arith.constant 1.0 : f64
    lz.yield %k, %k, %x : index, index, f64
  }
  return %0 : tensor<2xf64>
}

// -----

func.func @accumulate_value(%n: index) -> tensor<2x2xf64> {
  // expected-error @+1 {{'lz.accumulate' op expects the body to yield a value of type 'tensor<2xf64>' after 1 indices, got 'f64'}}
  %0 = lz.accumulate %k < %n : tensor<2x2xf64> {
    %x = arith.constant 1.0 : f64
    lz.yield %k, %x : index, f64
  }
  return %0 : tensor<2x2xf64>
}

// -----

func.func @accumulate_index_type(%n: index) -> tensor<2xf64> {
  // expected-error @+1 {{'lz.accumulate' op expects the yielded indices to be of type 'index', got 'i64'}}
  %0 = lz.accumulate %k < %n : tensor<2xf64> {
    %x = arith.constant 1.0 : f64
    %i = arith.constant 1 : i64
    lz.yield %i, %x : i64, f64
  }
  return %0 : tensor<2xf64>
}

// -----

func.func @accumulate_mask(%n: index) -> tensor<2xf64> {
  // expected-error @+1 {{'lz.accumulate' op is masked: expects its body to yield an i1 first}}
  %0 = lz.accumulate %k < %n : tensor<2xf64> {
    %x = arith.constant 1.0 : f64
    lz.yield %k, %x : index, f64
  } attributes {masked}
  return %0 : tensor<2xf64>
}
