// RUN: lace-opt %s -lace-specialize="seq-q=128 block-m=16 block-n=16" -lace-classify-blocks -lace-schedule="num-ctas=16" | FileCheck %s
// RUN: lace-opt %s -lace-specialize="seq-q=128 block-m=16 block-n=16" -lace-classify-blocks -lace-schedule="num-ctas=16 split-factor=0" | FileCheck %s --check-prefix=NOSPLIT
// RUN: lace-opt %s -lace-specialize="heads=2 batch=2 seq-q=128 block-m=16 block-n=16" -lace-classify-blocks -lace-schedule="num-ctas=4" | FileCheck %s --check-prefix=BALANCED

// Causal over 8 x 8 tiles on 16 CTAs: whole rows leave the CTAs with the
// longest rows at 3.47x the mean load; splitting rows into k-ranges (merged
// by the log-sum-exp combine step) brings that down to 1.37x.
// CHECK: lace.schedule ctas 16 imbalance 1.368421052631579(unsplit 3.4736842105263159)
// Rows 2..7 are cut into 2, 2, 3, 3, 4 and 4 pieces: one [batch, head, row,
// first_slot, num_splits] record each for the combine step, 18 slots.
// CHECK-SAME: combines = dense<[0, 0, 2, 0, 2, 0, 0, 3, 2, 2, 0, 0, 4, 4, 3, 0, 0, 5, 7, 3, 0, 0, 6, 10, 4, 0, 0, 7, 14, 4]>
// CHECK-SAME: cta_offsets = dense<[0, 1, 2, 3, 4, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20]> : tensor<17xi32>

// Without splitting, the 8 rows go longest first to 8 of the 16 CTAs:
// [batch, head, row, col_begin, col_end, split, num_splits, slot] per item.
// NOSPLIT: lace.schedule ctas 16 imbalance 3.4736842105263159(unsplit 3.4736842105263159)
// NOSPLIT-SAME: cta_offsets = dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8]> : tensor<17xi32>
// NOSPLIT-SAME: items = dense<[0, 0, 7, 0, 8, 0, 1, -1, 0, 0, 6, 0, 8, 0, 1, -1, 0, 0, 5, 0, 8, 0, 1, -1,

// 2 heads x batch 2 = 32 rows over 4 CTAs balance exactly without splits.
// BALANCED: lace.schedule ctas 4 imbalance 1.000000e+00(unsplit 1.000000e+00)
// BALANCED-SAME: cta_offsets = dense<[0, 8, 16, 24, 32]> : tensor<5xi32>
lace.pattern @causal() {
  %0 = lace.causal
  lace.yield %0 : !lace.mask
}
