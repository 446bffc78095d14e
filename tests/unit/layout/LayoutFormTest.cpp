//===- LayoutFormTest.cpp - Run form, BSR, transpose, hash, dedupe --------===//
#include "lace/Layout/Classify.h"

#include <gtest/gtest.h>

#include <random>

namespace lace::layout {
namespace {

BlockLayout randomLayout(std::uint64_t seed, std::int64_t rows,
                         std::int64_t cols) {
  std::mt19937_64 rng(seed);
  std::vector<BlockKind> kinds(static_cast<std::size_t>(rows * cols));
  for (auto &k : kinds)
    k = static_cast<BlockKind>(rng() % 3);
  return BlockLayout::fromDense(rows, cols, kinds);
}

TEST(LayoutForm, BSRMatchesKinds) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE(seed);
    const BlockLayout l = randomLayout(seed, 7 + seed % 5, 9 + seed % 4);
    const BSR b = l.toBSR();
    ASSERT_EQ(b.rowPtr.size(), static_cast<std::size_t>(l.numRows + 1));
    std::int64_t full = 0;
    for (std::int64_t r = 0; r < l.numRows; ++r) {
      std::int64_t c = 0;
      for (std::int32_t i = b.rowPtr[r]; i < b.rowPtr[r + 1]; ++i) {
        for (; c < b.colIdx[i]; ++c)
          EXPECT_EQ(l.kind(r, c), BlockKind::Empty);
        EXPECT_EQ(l.kind(r, c),
                  b.isFull[i] ? BlockKind::Full : BlockKind::Partial);
        full += b.isFull[i];
        ++c;
      }
      for (; c < l.numCols; ++c)
        EXPECT_EQ(l.kind(r, c), BlockKind::Empty);
    }
    EXPECT_EQ(full, l.numBlocks(BlockKind::Full));
    EXPECT_EQ(static_cast<std::int64_t>(b.colIdx.size()), l.numNonEmpty());
  }
}

TEST(LayoutForm, TransposeIsConsistent) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const BlockLayout l = randomLayout(seed, 6 + seed % 7, 11 - seed % 5);
    const BlockLayout t = l.transpose();
    ASSERT_EQ(t.numRows, l.numCols);
    ASSERT_EQ(t.numCols, l.numRows);
    for (std::int64_t r = 0; r < l.numRows; ++r)
      for (std::int64_t c = 0; c < l.numCols; ++c)
        EXPECT_EQ(l.kind(r, c), t.kind(c, r));
    EXPECT_EQ(t.transpose(), l);
  }
  // The transposed causal layout is banded too.
  const BlockLayout causal =
      classify(*MaskNode::causal(), {1000, 1000}, {64, 64});
  EXPECT_LE(causal.transpose().runs.size(), 2u * 16);
}

TEST(LayoutForm, HashIsStableAndDedupeGroups) {
  const BlockLayout a = classify(*MaskNode::causal(), {512, 512}, {64, 64});
  const BlockLayout b =
      classify(*MaskNode::local(100, 100), {512, 512}, {64, 64});
  // The hash is a fixed function of the runs: pinned so that it cannot
  // change silently between builds or machines.
  EXPECT_EQ(a.hash(),
            classify(*MaskNode::causal(), {512, 512}, {64, 64}).hash());
  EXPECT_NE(a.hash(), b.hash());
  EXPECT_EQ(BlockLayout::start(0, 0).hash(), 0xee85fafd354b0935ULL);
  const DedupedLayouts d = dedupeHeads({a, b, a, b, b});
  ASSERT_EQ(d.unique.size(), 2u);
  EXPECT_EQ(d.unique[0], a);
  EXPECT_EQ(d.unique[1], b);
  EXPECT_EQ(d.headToLayout, (std::vector<int>{0, 1, 0, 1, 1}));
}

TEST(LayoutForm, BandedPatternsCostRowsNotTiles) {
  const Shape shape{1 << 16, 1 << 16};
  const Tiles tiles{128, 64};
  std::vector<std::unique_ptr<MaskNode>> masks;
  masks.push_back(MaskNode::causal());
  masks.push_back(MaskNode::local(4096, 0));
  masks.push_back(MaskNode::local(1000, 1000));
  masks.push_back(MaskNode::prefix(3000));
  masks.push_back(
      MaskNode::unite(MaskNode::local(256, 256), MaskNode::global({0})));
  for (const auto &m : masks) {
    const BlockLayout l = classify(*m, shape, tiles);
    // A band is at most Partial, Full, Partial; a global column adds one.
    const std::int64_t perRow = m->kind == MaskNode::Kind::Union ? 4 : 3;
    EXPECT_LE(l.runs.size(), static_cast<std::size_t>(perRow * l.numRows))
        << int(m->kind);
    EXPECT_LE(l.bytes(), static_cast<std::size_t>(40 * l.numRows));
    EXPECT_EQ(chooseForm(l), LayoutForm::Runs);
  }
  // Scattered single tiles: BSR is smaller.
  const BlockLayout r =
      classify(*MaskNode::random(3, 64, 1, 0, shape.seqK), shape, tiles);
  EXPECT_EQ(chooseForm(r), LayoutForm::BSR);
}

TEST(LayoutForm, KindAndCounts) {
  const BlockLayout l = classify(*MaskNode::causal(), {300, 300}, {64, 64});
  EXPECT_EQ(l.numRows, 5);
  EXPECT_EQ(l.numBlocks(BlockKind::Partial), 5);
  EXPECT_EQ(l.numBlocks(BlockKind::Full), 10);
  EXPECT_EQ(l.numBlocks(BlockKind::Empty), 10);
  EXPECT_EQ(l.kind(4, 4), BlockKind::Partial);
  EXPECT_EQ(l.kind(4, 0), BlockKind::Full);
  EXPECT_EQ(l.kind(0, 4), BlockKind::Empty);
  EXPECT_EQ(l.rowBlocks(2, BlockKind::Full), 2);
}

} // namespace
} // namespace lace::layout
