// RUN: lace-opt %s -split-input-file -lace-specialize="seq-q=64 block-m=16 block-n=16" -lace-classify-blocks -lace-materialize-layout | FileCheck %s
// RUN: lace-opt %s -split-input-file -lace-specialize="seq-q=4096 block-m=16 block-n=16" -lace-classify-blocks -lace-materialize-layout="resource-threshold=64" | FileCheck %s --check-prefix=RESOURCE

// On a 4 x 4 grid BSR (70 bytes) beats runs (83 bytes) even for causal; the
// transpose lists per k-tile c the q-tiles: the diagonal partial, below it
// full.
// CHECK-LABEL: lace.layout @causal_g0_layout source @causal_g0 heads [0] form "bsr" grid 4 x 4
// CHECK-SAME: columns = dense<[0, 0, 1, 0, 1, 2, 0, 1, 2, 3]> : tensor<10xi32>
// CHECK-SAME: kinds = dense<[1, 2, 1, 2, 2, 1, 2, 2, 2, 1]> : tensor<10xi32>
// CHECK-SAME: t_row_offsets = dense<[0, 2, 4, 6, 7]> : tensor<5xi32>
// CHECK-SAME: t_runs = dense<[0, 1, 1, 1, 4, 2, 1, 2, 1, 2, 4, 2, 2, 3, 1, 3, 4, 2, 3, 4, 1]> : tensor<21xi32>
// At 256 x 256 tiles causal is two runs a row (O(rows) memory) and the
// tables become dense resources.
// RESOURCE-LABEL: lace.layout @causal_g0_layout source @causal_g0 heads [0] form "runs" grid 256 x 256
// RESOURCE-SAME: row_offsets = dense_resource<causal_g0_layout.row_offsets> : tensor<257xi32>
// RESOURCE-SAME: runs = dense_resource<causal_g0_layout.runs> : tensor<1533xi32>
// RESOURCE-SAME: t_runs = dense_resource<causal_g0_layout.t_runs> : tensor<1533xi32>
// RESOURCE: dialect_resources
lace.pattern @causal() {
  %0 = lace.causal
  lace.yield %0 : !lace.mask
}

// -----

// Every other key tile (a predicate on k / 16): one-tile runs are larger than
// BSR entries, so BSR is chosen.
// CHECK-LABEL: lace.layout @checker_g0_layout source @checker_g0 heads [0] form "bsr" grid 4 x 4
// CHECK-SAME: columns = dense<[0, 2, 0, 2, 0, 2, 0, 2]> : tensor<8xi32>
// CHECK-SAME: kinds = dense<2> : tensor<8xi32>
// CHECK-SAME: row_offsets = dense<[0, 2, 4, 6, 8]> : tensor<5xi32>
lace.pattern @checker() {
  %c0 = arith.constant 0 : i64
  %c2 = arith.constant 2 : i64
  %c16 = arith.constant 16 : i64
  %0 = lace.predicate(%b, %h, %q, %k) {
    %t = arith.floordivsi %k, %c16 : i64
    %r = arith.remsi %t, %c2 : i64
    %e = arith.cmpi eq, %r, %c0 : i64
    lace.yield %e : i1
  }
  lace.yield %0 : !lace.mask
}
