// RUN: lace-opt %s -split-input-file -lace-specialize="seq-q=64 block-m=16 block-n=16" -lace-classify-blocks | FileCheck %s

// Causal on a 4 x 4 grid: row r is r full tiles then one partial diagonal.
// CHECK-LABEL: lace.pattern @causal_g0()
// CHECK: lace.layout @causal_g0_layout source @causal_g0 heads [0] form "runs" grid 4 x 4
// CHECK-SAME: row_offsets = dense<[0, 1, 3, 5, 7]> : tensor<5xi32>
// CHECK-SAME: runs = dense<[0, 1, 1, 0, 1, 2, 1, 2, 1, 0, 2, 2, 2, 3, 1, 0, 3, 2, 3, 4, 1]> : tensor<21xi32>
// CHECK-SAME: lace.fallback_elements = 0 : i64, lace.fallback_tiles = 0 : i64
lace.pattern @causal() {
  %0 = lace.causal
  lace.yield %0 : !lace.mask
}

// -----

// A window of 16 keys before each query: the diagonal tile is partial, the
// one before it partial too (k in [q - 16, q] straddles two tiles).
// CHECK-LABEL: lace.layout @window_g0_layout
// CHECK-SAME: row_offsets = dense<[0, 1, 2, 3, 4]> : tensor<5xi32>
// CHECK-SAME: runs = dense<[0, 1, 1, 0, 2, 1, 1, 3, 1, 2, 4, 1]> : tensor<12xi32>
lace.pattern @window() {
  %c0 = arith.constant 0 : i64
  %c16 = arith.constant 16 : i64
  %0 = lace.local before %c16 after %c0
  lace.yield %0 : !lace.mask
}

// -----

// Global token 0: the first row and column are partial, the rest empty, and
// the full band of the window union the global column merges into runs.
// CHECK-LABEL: lace.layout @global_g0_layout
// CHECK-SAME: row_offsets = dense<[0, 1, 2, 3, 4]> : tensor<5xi32>
// CHECK-SAME: runs = dense<[0, 4, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1]> : tensor<12xi32>
lace.pattern @global() {
  %c0 = arith.constant 0 : i64
  %0 = lace.global tokens(%c0)
  lace.yield %0 : !lace.mask
}

// -----

// A predicate that interval arithmetic settles for whole tiles: k < 32.
// CHECK-LABEL: lace.layout @predicate_g0_layout
// CHECK-SAME: runs = dense<[0, 2, 2, 0, 2, 2, 0, 2, 2, 0, 2, 2]> : tensor<12xi32>
// CHECK-SAME: lace.fallback_tiles = 0 : i64
lace.pattern @predicate() {
  %c32 = arith.constant 32 : i64
  %0 = lace.predicate(%b, %h, %q, %k) {
    %lt = arith.cmpi slt, %k, %c32 : i64
    lace.yield %lt : i1
  }
  lace.yield %0 : !lace.mask
}

// -----

// Segment masks need run-time ids: the tables are the superset (segments
// taken as full, every tile partial) and the tree is kept for the runtime.
// CHECK-LABEL: lace.layout @documents_g0_layout
// CHECK-SAME: runs = dense<[0, 1, 1, 0, 2, 1, 0, 3, 1, 0, 4, 1]> : tensor<12xi32>
// CHECK-SAME: lace.run_time_mask = "(intersect segment causal)"
lace.pattern @documents() {
  %0 = lace.segment
  %1 = lace.causal
  %2 = lace.intersect %0, %1
  lace.yield %2 : !lace.mask
}



// -----

// (q - k) % 3 == 0 is partial everywhere: interval arithmetic cannot settle
// a remainder over a range wider than its divisor, so all 16 tiles are
// checked element by element (stopping at the first live and dead element).
// CHECK-LABEL: lace.layout @every_third_g0_layout
// CHECK-SAME: runs = dense<[0, 4, 1, 0, 4, 1, 0, 4, 1, 0, 4, 1]> : tensor<12xi32>
// CHECK-SAME: lace.fallback_tiles = 16 : i64
lace.pattern @every_third() {
  %c0 = arith.constant 0 : i64
  %c3 = arith.constant 3 : i64
  %0 = lace.predicate(%b, %h, %q, %k) {
    %d = arith.subi %q, %k : i64
    %r = arith.remsi %d, %c3 : i64
    %e = arith.cmpi eq, %r, %c0 : i64
    lace.yield %e : i1
  }
  lace.yield %0 : !lace.mask
}
