// With per-head=false (what kernel code generation uses) the head index stays
// symbolic and one pattern covers every head.
// RUN: lace-opt %s -lace-specialize="heads=4 seq-q=256 per-head=false" | FileCheck %s

// CHECK-LABEL: lace.pattern @dilated_g0() attributes {lace.heads = array<i64: 0, 1, 2, 3>
// CHECK: %[[H:.*]] = lace.var h
// CHECK: arith.remsi %[[H]]
// CHECK: lace.dilated before %{{.*}} after %{{.*}} dilation %{{.*}}
// CHECK-NOT: lace.pattern @dilated_g1
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
