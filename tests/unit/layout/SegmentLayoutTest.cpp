//===- SegmentLayoutTest.cpp - Document masks from ids and cu_seqlens -----===//
#include "lace/Layout/SegmentLayout.h"
#include "lace/Layout/Classify.h"

#include <gtest/gtest.h>

#include <random>

namespace lace::layout {
namespace {

std::vector<std::int32_t> packedIds(std::mt19937_64 &rng, std::int64_t n,
                                    int meanLength) {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  std::int32_t cur = static_cast<std::int32_t>(rng() % 3);
  for (auto &id : ids) {
    if (rng() % meanLength == 0)
      cur += 1 + static_cast<std::int32_t>(rng() % 2);
    id = cur;
  }
  return ids;
}

TEST(SegmentLayout, MatchesElementClassification) {
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    const Shape shape{1 + static_cast<std::int64_t>(rng() % 400),
                      1 + static_cast<std::int64_t>(rng() % 400)};
    const Tiles tiles{16 << (rng() % 4), 16 << (rng() % 4)};
    const int mean = 5 + static_cast<int>(rng() % 120);
    const auto q = packedIds(rng, shape.seqQ, mean);
    const auto k = seed % 3 ? packedIds(rng, shape.seqK, mean)
                            : std::vector<std::int32_t>(q.begin(), q.end());
    if (static_cast<std::int64_t>(k.size()) != shape.seqK)
      continue;
    const bool causal = seed % 2;
    const LayoutOrError got = buildSegmentLayout(q, k, shape, tiles, causal);
    ASSERT_TRUE(got) << got.error;
    SegmentIds ids{{q.begin(), q.end()}, {k.begin(), k.end()}};
    auto node =
        causal ? MaskNode::intersect(MaskNode::segment(), MaskNode::causal())
               : MaskNode::segment();
    EXPECT_EQ(*got.layout, classifyByElements(*node, shape, tiles, &ids));
    EXPECT_EQ(*got.layout, classify(*node, shape, tiles, &ids));
  }
}

TEST(SegmentLayout, RejectsUnsortedIdsAndWrongSizes) {
  const std::vector<std::int32_t> bad{0, 1, 0}, ok{0, 0, 1};
  const LayoutOrError e = buildSegmentLayout(bad, ok, {3, 3}, {16, 16}, false);
  EXPECT_FALSE(e);
  EXPECT_NE(e.error.find("non-decreasing"), std::string::npos);
  EXPECT_FALSE(buildSegmentLayout(ok, ok, {3, 4}, {16, 16}, false));
  // Arbitrary ids still classify exactly through a segment node.
  SegmentIds ids{{0, 1, 0}, {0, 0, 1}};
  const BlockLayout l = classify(*MaskNode::segment(), {3, 3}, {16, 16}, &ids);
  EXPECT_EQ(l.kind(0, 0), BlockKind::Partial);
}

TEST(SegmentLayout, VarlenEqualsExpandedIds) {
  const std::vector<std::int64_t> cu{0, 100, 100, 357, 900, 1000};
  const LayoutOrError v = buildVarlenLayout(cu, cu, {64, 64}, true);
  ASSERT_TRUE(v) << v.error;
  std::vector<std::int32_t> ids(1000);
  for (std::size_t s = 0; s + 1 < cu.size(); ++s)
    for (std::int64_t t = cu[s]; t < cu[s + 1]; ++t)
      ids[t] = static_cast<std::int32_t>(s);
  EXPECT_EQ(*v.layout,
            *buildSegmentLayout(ids, ids, {1000, 1000}, {64, 64}, true).layout);
  // Block-diagonal: fewer tiles than causal (136 of 256).
  EXPECT_LT(v.layout->numNonEmpty(), 100);
  const std::vector<std::int64_t> wrong{1, 5};
  EXPECT_FALSE(buildVarlenLayout(wrong, wrong, {64, 64}, false));
}

} // namespace
} // namespace lace::layout
