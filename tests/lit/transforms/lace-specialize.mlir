// RUN: lace-opt %s -split-input-file -lace-specialize="heads=4 seq-q=256 block-m=64 block-n=32 param=w=16" -verify-diagnostics | FileCheck %s

// Parameters and sizes are bound and folded; heads with the same mask share
// one pattern.
// CHECK: module attributes {lace.problem = {batch = 1 : i64, block_m = 64 : i64, block_n = 32 : i64, heads = 4 : i64, kv_heads = 4 : i64, seq_k = 256 : i64, seq_q = 256 : i64}}
// CHECK-LABEL: lace.pattern @window_g0() attributes {lace.heads = array<i64: 0, 1, 2, 3>, lace.source = "window"}
// CHECK-DAG: %[[W:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[S:.*]] = arith.constant 256 : i64
// CHECK: lace.local before %[[W]] after %[[S]]
// CHECK-NOT: lace.pattern @window(
lace.pattern @window(%w: i64 = 4) {
  %n = lace.var seq_k
  %0 = lace.local before %w after %n
  lace.yield %0 : !lace.mask
}

// -----

// Per-head dilation: heads 0 and 2 share a layout (dilation 1 folds to a
// plain window), 1 and 3 another.
// CHECK-LABEL: lace.pattern @dilated_g0() attributes {lace.heads = array<i64: 0, 2>
// CHECK: lace.local before %{{.*}} after %{{.*}}
// CHECK-LABEL: lace.pattern @dilated_g1() attributes {lace.heads = array<i64: 1, 3>
// CHECK: %[[TWO:.*]] = arith.constant 2 : i64
// CHECK: lace.dilated before %{{.*}} after %{{.*}} dilation %[[TWO]]
lace.pattern @dilated() {
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c8 = arith.constant 8 : i64
  %h = lace.var h
  %r = arith.remsi %h, %c2 : i64
  %d = arith.addi %r, %c1 : i64
  %0 = lace.dilated before %c8 after %c8 dilation %d
  lace.yield %0 : !lace.mask
}

// -----

// The random generator is keyed by the head: one pattern per head even
// though the IR is the same.
// CHECK-LABEL: lace.pattern @random_g0() attributes {lace.heads = array<i64: 0>
// CHECK-LABEL: lace.pattern @random_g1() attributes {lace.heads = array<i64: 1>
// CHECK-LABEL: lace.pattern @random_g2() attributes {lace.heads = array<i64: 2>
// CHECK-LABEL: lace.pattern @random_g3() attributes {lace.heads = array<i64: 3>
lace.pattern @random() {
  %c1 = arith.constant 1 : i64
  %c16 = arith.constant 16 : i64
  %0 = lace.random per_row %c1 granularity %c16 seed %c1
  lace.yield %0 : !lace.mask
}

// -----

// expected-error @+1 {{parameter 'length' has no default: give it with param=length=VALUE}}
lace.pattern @needs_value(%length: i64) {
  %0 = lace.prefix length %length
  lace.yield %0 : !lace.mask
}

// -----

// A constant that folds below the primitive's minimum is reported by its
// verifier once bound.
lace.pattern @negative(%w: i64) {
  %c0 = arith.constant 0 : i64
  %m = arith.subi %c0, %w : i64
  // expected-error @+1 {{expected the 'before' extent to be at least 0, got -16}}
  %0 = lace.local before %m after %c0
  lace.yield %0 : !lace.mask
}

// -----

lace.pattern @batch_dependent() {
  %c0 = arith.constant 0 : i64
  // expected-error @+1 {{layouts that vary with the batch index 'b' are not supported; use 'b' only inside predicates}}
  %b = lace.var b
  %0 = lace.local before %b after %c0
  lace.yield %0 : !lace.mask
}
