//===- FieldOfViewTest.cpp - Layers until every block sees every block ----===//
#include "lace/Layout/FieldOfView.h"
#include "lace/Layout/Classify.h"

#include <gtest/gtest.h>

namespace lace::layout {
namespace {

TEST(FieldOfView, FullIsOneLayer) {
  const FieldOfView f =
      fieldOfView(classify(*MaskNode::full(), {1024, 1024}, {128, 128}));
  EXPECT_TRUE(f.valid);
  EXPECT_TRUE(f.reachable);
  EXPECT_EQ(f.layers, 1);
}

TEST(FieldOfView, CausalNeverReachesTheLastBlockFromRowZero) {
  // Row 0 only ever sees block 0: the last key block is reached only from
  // the last query block.
  const FieldOfView f =
      fieldOfView(classify(*MaskNode::causal(), {1024, 1024}, {128, 128}));
  EXPECT_TRUE(f.valid);
  EXPECT_FALSE(f.reachable);
}

TEST(FieldOfView, SlidingWindowNeedsCeilNMinusOneOverW) {
  for (std::int64_t w : {1, 2, 3, 5}) {
    const std::int64_t n = 40, b = 64;
    const BlockLayout l =
        classify(*MaskNode::local(w * b, w * b), {n * b, n * b}, {b, b});
    const FieldOfView f = fieldOfView(l);
    ASSERT_TRUE(f.reachable) << w;
    EXPECT_EQ(f.layers, (n - 1 + w - 1) / w) << w;
  }
}

TEST(FieldOfView, GlobalTokenMakesTwoLayers) {
  const BlockLayout l =
      classify(*MaskNode::unite(MaskNode::local(64, 64), MaskNode::global({0})),
               {4096, 4096}, {64, 64});
  const FieldOfView f = fieldOfView(l);
  ASSERT_TRUE(f.reachable);
  EXPECT_EQ(f.layers, 2);
}

TEST(FieldOfView, WithoutSelfLoopsUsesExactPathLengths) {
  const std::int64_t n = 10;
  std::vector<BlockKind> shift(n * n, BlockKind::Empty),
      two(n * n, BlockKind::Empty);
  for (std::int64_t i = 0; i < n; ++i) {
    shift[i * n + (i + 1) % n] = BlockKind::Full;
    two[i * n + (i + 1) % n] = BlockKind::Partial;
    two[i * n + (i + 2) % n] = BlockKind::Full;
  }
  // A pure rotation never spreads.
  EXPECT_FALSE(fieldOfView(BlockLayout::fromDense(n, n, shift)).reachable);
  // i -> {i+1, i+2}: after L layers {i+L .. i+2L}, all n blocks at L = n-1.
  const FieldOfView f = fieldOfView(BlockLayout::fromDense(n, n, two));
  ASSERT_TRUE(f.reachable);
  EXPECT_EQ(f.layers, n - 1);
}

TEST(FieldOfView, NonSquareIsInvalid) {
  EXPECT_FALSE(
      fieldOfView(classify(*MaskNode::full(), {256, 512}, {64, 64})).valid);
}

TEST(FieldOfView, HandlesEightThousandBlocks) {
  const std::int64_t n = 8192, b = 16;
  const BlockLayout l = classify(
      *MaskNode::unite(MaskNode::local(64 * b, 64 * b), MaskNode::global({0})),
      {n * b, n * b}, {b, b});
  const FieldOfView f = fieldOfView(l);
  ASSERT_TRUE(f.reachable);
  EXPECT_EQ(f.layers, 2);
}

} // namespace
} // namespace lace::layout
