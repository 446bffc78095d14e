// Folders and canonicalisation patterns of the mask algebra.
// RUN: lace-opt %s -split-input-file -canonicalize | FileCheck %s

// CHECK-LABEL: lace.pattern @union_with_itself
// CHECK-NEXT: %[[C:.*]] = lace.causal
// CHECK-NEXT: lace.yield %[[C]]
lace.pattern @union_with_itself() {
  %c = lace.causal
  %u = lace.union %c, %c
  lace.yield %u : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @intersect_with_itself
// CHECK-NEXT: %[[C:.*]] = lace.causal
// CHECK-NEXT: lace.yield %[[C]]
lace.pattern @intersect_with_itself() {
  %c = lace.causal
  %i = lace.intersect %c, %c
  lace.yield %i : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @intersect_with_complement
// CHECK-NEXT: %[[E:.*]] = lace.empty
// CHECK-NEXT: lace.yield %[[E]]
lace.pattern @intersect_with_complement() {
  %c = lace.causal
  %n = lace.complement %c
  %i = lace.intersect %n, %c
  lace.yield %i : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @union_with_complement
// CHECK-NEXT: %[[F:.*]] = lace.full
// CHECK-NEXT: lace.yield %[[F]]
lace.pattern @union_with_complement() {
  %c = lace.causal
  %n = lace.complement %c
  %u = lace.union %c, %n
  lace.yield %u : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @double_complement
// CHECK-NEXT: %[[C:.*]] = lace.causal
// CHECK-NEXT: lace.yield %[[C]]
lace.pattern @double_complement() {
  %c = lace.causal
  %n = lace.complement %c
  %nn = lace.complement %n
  lace.yield %nn : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @identities
// CHECK-NEXT: %[[C:.*]] = lace.causal
// CHECK-NEXT: lace.yield %[[C]]
lace.pattern @identities() {
  %c = lace.causal
  %e = lace.empty
  %f = lace.full
  %u = lace.union %c, %e
  %i = lace.intersect %f, %u
  %d = lace.difference %i, %e
  lace.yield %d : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @absorbing
// CHECK-NEXT: %[[F:.*]] = lace.full
// CHECK-NEXT: lace.yield %[[F]]
lace.pattern @absorbing() {
  %c = lace.causal
  %f = lace.full
  %u = lace.union %c, %f
  lace.yield %u : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @difference_with_itself
// CHECK-NEXT: %[[E:.*]] = lace.empty
// CHECK-NEXT: lace.yield %[[E]]
lace.pattern @difference_with_itself() {
  %c = lace.causal
  %d = lace.difference %c, %c
  lace.yield %d : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @difference_of_complement
// CHECK-DAG: %[[C:.*]] = lace.causal
// CHECK-DAG: %[[S:.*]] = lace.segment
// CHECK: %[[I:.*]] = lace.intersect
// CHECK-NEXT: lace.yield %[[I]]
lace.pattern @difference_of_complement() {
  %c = lace.causal
  %s = lace.segment
  %n = lace.complement %s
  %d = lace.difference %c, %n
  lace.yield %d : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @complement_of_constants
// CHECK-NEXT: %[[E:.*]] = lace.empty
// CHECK-NEXT: lace.yield %[[E]]
lace.pattern @complement_of_constants() {
  %f = lace.full
  %n = lace.complement %f
  lace.yield %n : !lace.mask
}

// -----

// CHECK-LABEL: lace.pattern @undilated_window
// CHECK: lace.local before %w after %w
// CHECK-NOT: lace.dilated
lace.pattern @undilated_window(%w: i64) {
  %c1 = arith.constant 1 : i64
  %0 = lace.dilated before %w after %w dilation %c1
  lace.yield %0 : !lace.mask
}

// -----

// A dilation that is not the constant 1 must stay a dilated window.
// CHECK-LABEL: lace.pattern @dilated_window
// CHECK: lace.dilated before %w after %w dilation %d
lace.pattern @dilated_window(%w: i64, %d: i64) {
  %0 = lace.dilated before %w after %w dilation %d
  lace.yield %0 : !lace.mask
}

// -----

// Different operands: nothing folds.
// CHECK-LABEL: lace.pattern @distinct_operands
// CHECK: lace.union
lace.pattern @distinct_operands() {
  %c = lace.causal
  %s = lace.segment
  %u = lace.union %c, %s
  lace.yield %u : !lace.mask
}
