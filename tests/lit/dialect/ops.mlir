// Round trip of every op and attribute of the lace dialect, in both the
// custom form and the generic form.
// RUN: lace-opt %s | lace-opt | FileCheck %s
// RUN: lace-opt %s --mlir-print-op-generic | lace-opt | FileCheck %s

// CHECK-LABEL: lace.pattern @primitives(%window: i64 = 128, %bidirectional: i1 = true, %cap: f32 = 5.000000e+01, %seed: i64)
lace.pattern @primitives(%window: i64 = 128, %bidirectional: i1 = true, %cap: f32 = 50.0, %seed: i64) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c5 = arith.constant 5 : i64
  %c64 = arith.constant 64 : i64
  // CHECK: %[[FULL:.*]] = lace.full
  %full = lace.full
  // CHECK: %[[EMPTY:.*]] = lace.empty
  %empty = lace.empty
  // CHECK: %[[CAUSAL:.*]] = lace.causal
  %causal = lace.causal
  // CHECK: %[[LOCAL:.*]] = lace.local before %window after %{{.*}}
  %local = lace.local before %window after %c0
  // CHECK: lace.local before %{{.*}} after %{{.*}} granularity %{{.*}}
  %blocks = lace.local before %c64 after %c64 granularity %c64
  // CHECK: lace.dilated before %window after %window dilation %{{.*}}
  %dilated = lace.dilated before %window after %window dilation %c2
  // CHECK: lace.strided stride %window
  %strided = lace.strided stride %window
  // CHECK: lace.fixed stride %window summary %{{.*}}
  %fixed = lace.fixed stride %window summary %c1
  // CHECK: lace.global tokens(%{{.*}}, %{{.*}}) range %{{.*}} to %window
  %global = lace.global tokens(%c0, %c5) range %c64 to %window
  // CHECK: lace.global tokens(%{{.*}})
  %one_global = lace.global tokens(%c0)
  // CHECK: lace.global range %{{.*}} to %{{.*}}
  %global_range = lace.global range %c0 to %c64
  // CHECK: lace.random per_row %{{.*}} granularity %{{.*}} seed %seed
  %random = lace.random per_row %c2 granularity %c64 seed %seed
  // CHECK: lace.prefix length %window
  %prefix = lace.prefix length %window
  // CHECK: lace.segment
  %segment = lace.segment
  // CHECK: %[[B:.*]] = lace.var b
  %b = lace.var b
  // CHECK: %[[H:.*]] = lace.var h
  %h = lace.var h
  // CHECK: lace.var batch
  %batch = lace.var batch
  // CHECK: lace.var heads
  %heads = lace.var heads
  // CHECK: lace.var seq_q
  %seq_q = lace.var seq_q
  // CHECK: lace.var seq_k
  %seq_k = lace.var seq_k
  // CHECK: lace.predicate(%{{.*}}, %{{.*}}, %q, %k) {
  // CHECK-NEXT: arith.subi %q, %k : i64
  // CHECK: lace.yield %{{.*}} : i1
  // CHECK-NEXT: }
  %even = lace.predicate(%pb, %ph, %q, %k) {
    %d = arith.subi %q, %k : i64
    %r = arith.remsi %d, %c2 : i64
    %live = arith.cmpi eq, %r, %c0 : i64
    lace.yield %live : i1
  }
  // CHECK: lace.union %[[CAUSAL]], %[[LOCAL]]
  %u = lace.union %causal, %local
  // CHECK: lace.intersect
  %i = lace.intersect %u, %blocks
  // CHECK: lace.difference
  %d = lace.difference %i, %global
  // CHECK: lace.complement
  %n = lace.complement %d
  %all1 = lace.union %n, %full
  %all2 = lace.union %all1, %empty
  %all3 = lace.union %all2, %dilated
  %all4 = lace.union %all3, %strided
  %all5 = lace.union %all4, %fixed
  %all6 = lace.union %all5, %one_global
  %all7 = lace.union %all6, %global_range
  %all8 = lace.union %all7, %random
  %all9 = lace.union %all8, %prefix
  %all10 = lace.union %all9, %segment
  %all11 = lace.union %all10, %even
  // CHECK: lace.score(%s, %{{.*}}, %{{.*}}, %q{{.*}}, %k{{.*}}) {
  // CHECK: math.tanh
  // CHECK: lace.yield %{{.*}} : f32
  %score = lace.score(%s, %sb, %sh, %sq, %sk) {
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %t, %cap : f32
    lace.yield %y : f32
  }
  // CHECK: lace.yield %{{.*}}, %{{.*}} : !lace.mask, !lace.score
  lace.yield %all11, %score : !lace.mask, !lace.score
}

// A pattern without parameters, score or default values.
// CHECK-LABEL: lace.pattern @causal()
// CHECK-NEXT: %[[C:.*]] = lace.causal
// CHECK-NEXT: lace.yield %[[C]] : !lace.mask
lace.pattern @causal() {
  %0 = lace.causal
  lace.yield %0 : !lace.mask
}

// Discardable attributes survive on the pattern.
// CHECK-LABEL: lace.pattern @tagged() attributes {lace.source = "tagged.lace"}
lace.pattern @tagged() attributes {lace.source = "tagged.lace"} {
  %0 = lace.full
  lace.yield %0 : !lace.mask
}

// The enum attribute on its own.
// CHECK-LABEL: func.func @var_attribute
// CHECK: attr = #lace<var seq_k>
func.func @var_attribute() attributes {attr = #lace<var seq_k>} {
  return
}

// The layout/schedule level.
// CHECK-LABEL: lace.layout @causal_g0 source @causal heads [0, 1] form "runs" grid 2 x 2 tables {row_offsets = dense<[0, 1, 3]> : tensor<3xi32>, runs = dense<[0, 1, 1, 0, 1, 2, 1, 2, 1]> : tensor<9xi32>}
lace.layout @causal_g0 source @causal heads [0, 1] form "runs" grid 2 x 2 tables {row_offsets = dense<[0, 1, 3]> : tensor<3xi32>, runs = dense<[0, 1, 1, 0, 1, 2, 1, 2, 1]> : tensor<9xi32>}
// CHECK-LABEL: lace.layout @causal_bsr source @causal heads [2] form "bsr" grid 2 x 2
lace.layout @causal_bsr source @causal heads [2] form "bsr" grid 2 x 2 tables {row_offsets = dense<[0, 1, 3]> : tensor<3xi32>, columns = dense<[0, 0, 1]> : tensor<3xi32>, kinds = dense<[1, 2, 1]> : tensor<3xi32>, t_row_offsets = dense<[0, 2, 3]> : tensor<3xi32>, t_runs = dense<[0, 1, 1, 1, 2, 2, 1, 2, 1]> : tensor<9xi32>}
// CHECK: lace.schedule ctas 2 imbalance 1.000000e+00(unsplit 1.500000e+00) tables {cta_offsets = dense<[0, 1, 2]> : tensor<3xi32>}
lace.schedule ctas 2 imbalance 1.0 (unsplit 1.5) tables {cta_offsets = dense<[0, 1, 2]> : tensor<3xi32>}
