// The whole pipeline through its registered name.
// RUN: lace-opt %s -lace-pipeline="heads=2 seq-q=256 block-m=64 block-n=64 num-ctas=8 param=window=64" | FileCheck %s

// CHECK: module attributes {lace.problem = {batch = 1 : i64, block_m = 64 : i64, block_n = 64 : i64, heads = 2 : i64, kv_heads = 2 : i64, seq_k = 256 : i64, seq_q = 256 : i64}}
// CHECK: lace.pattern @sliding_g0() attributes {lace.heads = array<i64: 0, 1>, lace.source = "sliding"}
// CHECK: lace.layout @sliding_g0_layout source @sliding_g0 heads [0, 1]
// CHECK-SAME: t_row_offsets
// CHECK: lace.schedule ctas 8
lace.pattern @sliding(%window: i64 = 4096) {
  %c0 = arith.constant 0 : i64
  %causal = lace.causal
  %local = lace.local before %window after %c0
  %0 = lace.intersect %causal, %local
  lace.yield %0 : !lace.mask
}
