// Every verifier and parser message of the lace dialect.
// RUN: lace-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

// expected-error @+1 {{expected one default (or unit) per parameter: 1 names but 0 defaults}}
"lace.pattern"() <{param_defaults = [], param_names = ["a"], sym_name = "p"}> ({
^bb0(%a: i64):
  %0 = lace.full
  lace.yield %0 : !lace.mask
}) : () -> ()

// -----

// expected-error @+1 {{expected 1 body arguments, one per parameter, got 0}}
"lace.pattern"() <{param_defaults = [unit], param_names = ["a"], sym_name = "p"}> ({
  %0 = lace.full
  lace.yield %0 : !lace.mask
}) : () -> ()

// -----

// expected-error @+1 {{expected a name for parameter #0}}
"lace.pattern"() <{param_defaults = [unit], param_names = [""], sym_name = "p"}> ({
^bb0(%a: i64):
  %0 = lace.full
  lace.yield %0 : !lace.mask
}) : () -> ()

// -----

// expected-error @+1 {{expected unique parameter names, 'a' appears twice}}
"lace.pattern"() <{param_defaults = [unit, unit], param_names = ["a", "a"], sym_name = "p"}> ({
^bb0(%a: i64, %b: i64):
  %0 = lace.full
  lace.yield %0 : !lace.mask
}) : () -> ()

// -----

// expected-error @+1 {{expected parameter 'width' to have type i64, i1 or f32, got 'i32'}}
lace.pattern @p(%width: i32) {
  %0 = lace.full
  lace.yield %0 : !lace.mask
}

// -----

// expected-error @+1 {{expected the default of parameter 'a' to be a 'i64' constant, got 1.000000e+00 : f32}}
"lace.pattern"() <{param_defaults = [1.0 : f32], param_names = ["a"], sym_name = "p"}> ({
^bb0(%a: i64):
  %0 = lace.full
  lace.yield %0 : !lace.mask
}) : () -> ()

// -----

// expected-error @+1 {{expected the body to end in 'lace.yield'}}
lace.pattern @p() {
  "test.terminator"() : () -> ()
}

// -----

lace.pattern @p() {
  %c = arith.constant 1 : i64
  // expected-error @+1 {{expected a pattern to yield '!lace.mask' and optionally '!lace.score', got ('i64')}}
  lace.yield %c : i64
}

// -----

lace.pattern @p() {
  %0 = lace.full
  // expected-error @+1 {{expected a pattern to yield '!lace.mask' and optionally '!lace.score', got ('!lace.mask', '!lace.mask')}}
  lace.yield %0, %0 : !lace.mask, !lace.mask
}

// -----

func.func @f() {
  // expected-error @+1 {{expects parent op to be one of 'lace.pattern, lace.predicate, lace.score'}}
  lace.yield
}

// -----

lace.pattern @p() {
  // expected-error @+1 {{expected region arguments (b: i64, h: i64, q: i64, k: i64)}}
  %0 = "lace.predicate"() ({
  ^bb0(%b: i64, %h: i64, %q: i64, %k: i32):
    %t = arith.constant true
    lace.yield %t : i1
  }) : () -> !lace.mask
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  // expected-error @+1 {{expected the region to yield exactly one 'i1'}}
  %0 = lace.predicate(%b, %h, %q, %k) {
    lace.yield %q : i64
  }
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  // expected-error @+1 {{expected 4 region arguments, got 3}}
  %0 = lace.predicate(%b, %h, %q) {
    %t = arith.constant true
    lace.yield %t : i1
  }
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %m = lace.full
  // expected-error @+1 {{expected region arguments (s: f32, b: i64, h: i64, q: i64, k: i64)}}
  %0 = "lace.score"() ({
  ^bb0(%s: f64, %b: i64, %h: i64, %q: i64, %k: i64):
    %f = arith.constant 1.0 : f32
    lace.yield %f : f32
  }) : () -> !lace.score
  lace.yield %m, %0 : !lace.mask, !lace.score
}

// -----

lace.pattern @p() {
  %m = lace.full
  // expected-error @+1 {{expected the region to yield exactly one 'f32'}}
  %0 = lace.score(%s, %b, %h, %q, %k) {
    %t = arith.constant true
    lace.yield %t : i1
  }
  lace.yield %m, %0 : !lace.mask, !lace.score
}

// -----

lace.pattern @p() {
  // expected-error @+1 {{expected one of b, h, batch, heads, seq_q, seq_k, got 'head'}}
  %h = lace.var head
  %m = lace.full
  lace.yield %m : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  %neg = arith.constant -1 : i64
  // expected-error @+1 {{expected the 'before' extent to be at least 0, got -1}}
  %0 = lace.local before %neg after %c0
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  %neg = arith.constant -4 : i64
  // expected-error @+1 {{expected the 'after' extent to be at least 0, got -4}}
  %0 = lace.local before %c0 after %neg
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  // expected-error @+1 {{expected the granularity to be at least 1, got 0}}
  %0 = lace.local before %c0 after %c0 granularity %c0
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  // expected-error @+1 {{expected the dilation to be at least 1, got 0}}
  %0 = lace.dilated before %c0 after %c0 dilation %c0
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  %c2 = arith.constant 2 : i64
  %neg = arith.constant -2 : i64
  // expected-error @+1 {{expected the 'before' extent to be at least 0, got -2}}
  %0 = lace.dilated before %neg after %c0 dilation %c2
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  // expected-error @+1 {{expected the stride to be at least 1, got 0}}
  %0 = lace.strided stride %c0
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  // expected-error @+1 {{expected the stride to be at least 1, got 0}}
  %0 = lace.fixed stride %c0 summary %c1
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c8 = arith.constant 8 : i64
  %neg = arith.constant -1 : i64
  // expected-error @+1 {{expected the summary to be at least 0, got -1}}
  %0 = lace.fixed stride %c8 summary %neg
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c8 = arith.constant 8 : i64
  %c9 = arith.constant 9 : i64
  // expected-error @+1 {{expected the summary to be at most the stride (8), got 9}}
  %0 = lace.fixed stride %c8 summary %c9
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  // expected-error @+1 {{expected global tokens, a range, or both}}
  %0 = lace.global
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  // expected-error @+1 {{expected a range to have both 'lo' and 'hi'}}
  %0 = "lace.global"(%c0) <{operandSegmentSizes = array<i32: 0, 1, 0>}> : (i64) -> !lace.mask
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %neg = arith.constant -3 : i64
  // expected-error @+1 {{expected every global token to be at least 0, got -3}}
  %0 = lace.global tokens(%neg)
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %neg = arith.constant -3 : i64
  %c4 = arith.constant 4 : i64
  // expected-error @+1 {{expected the start of the range to be at least 0, got -3}}
  %0 = lace.global range %neg to %c4
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c4 = arith.constant 4 : i64
  %c2 = arith.constant 2 : i64
  // expected-error @+1 {{expected the range end (2) not to precede its start (4)}}
  %0 = lace.global range %c4 to %c2
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %neg = arith.constant -1 : i64
  %c1 = arith.constant 1 : i64
  // expected-error @+1 {{expected the per-row count to be at least 0, got -1}}
  %0 = lace.random per_row %neg granularity %c1 seed %c1
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  // expected-error @+1 {{expected the granularity to be at least 1, got 0}}
  %0 = lace.random per_row %c1 granularity %c0 seed %c1
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %c1 = arith.constant 1 : i64
  %neg = arith.constant -7 : i64
  // expected-error @+1 {{expected the seed to be in [0, 2^63), got -7}}
  %0 = lace.random per_row %c1 granularity %c1 seed %neg
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @p() {
  %neg = arith.constant -1 : i64
  // expected-error @+1 {{expected the prefix length to be at least 0, got -1}}
  %0 = lace.prefix length %neg
  lace.yield %0 : !lace.mask
}

// -----

// expected-error @+1 {{expected table 'row_offsets' to have 3 entries, got 2}}
lace.layout @l source @p heads [0] form "runs" grid 2 x 2 tables {row_offsets = dense<[0, 1]> : tensor<2xi32>, runs = dense<[0, 1, 1]> : tensor<3xi32>}

// -----

// expected-error @+1 {{expected an i32 table 'runs'}}
lace.layout @l source @p heads [0] form "runs" grid 1 x 1 tables {row_offsets = dense<[0, 1]> : tensor<2xi32>}

// -----

// expected-error @+1 {{expected table 'runs' to have a multiple of 3 entries, got 2}}
lace.layout @l source @p heads [0] form "runs" grid 1 x 1 tables {row_offsets = dense<[0, 1]> : tensor<2xi32>, runs = dense<[0, 1]> : tensor<2xi32>}

// -----

// expected-error @+1 {{expected table 'runs' to be a 1-d tensor of i32, got 'tensor<3xi64>'}}
lace.layout @l source @p heads [0] form "runs" grid 1 x 1 tables {row_offsets = dense<[0, 1]> : tensor<2xi32>, runs = dense<[0, 1, 2]> : tensor<3xi64>}

// -----

// expected-error @+1 {{expected form "runs" or "bsr", got "csr"}}
lace.layout @l source @p heads [0] form "csr" grid 1 x 1 tables {row_offsets = dense<[0, 1]> : tensor<2xi32>}

// -----

// expected-error @+1 {{expected an i32 table 'kinds'}}
lace.layout @l source @p heads [0] form "bsr" grid 1 x 1 tables {row_offsets = dense<[0, 1]> : tensor<2xi32>, columns = dense<[0]> : tensor<1xi32>}

// -----

// expected-error @+1 {{expected table 't_row_offsets' to have 2 entries, got 3}}
lace.layout @l source @p heads [0] form "runs" grid 1 x 1 tables {row_offsets = dense<[0, 1]> : tensor<2xi32>, runs = dense<[0, 1, 2]> : tensor<3xi32>, t_row_offsets = dense<[0, 1, 1]> : tensor<3xi32>, t_runs = dense<[0, 1, 2]> : tensor<3xi32>}
