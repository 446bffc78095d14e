//===- DocumentLayoutTest.cpp - Packed documents through classify() -------===//
//
// The masks the runtime builds for packed documents (FlashAttention varlen
// style: per-token non-decreasing segment ids, seq_q == seq_k), classified
// with a Segment node and compared tile by tile with element-wise
// classification. Documents, lengths, tile sizes and windows are drawn from
// seeded generators; the seed is in the trace.
//
//===----------------------------------------------------------------------===//
#include "lace/Layout/Classify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>

namespace lace::layout {
namespace {

using Rng = std::mt19937_64;
std::int64_t pick(Rng &rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

/// Ids of `numDocs` consecutive documents of random lengths (at least 1)
/// filling `seq` tokens. Ids increase by 1 to 3 from one document to the
/// next (ids need not be consecutive), starting anywhere.
std::vector<std::int64_t> packedDocuments(Rng &rng, std::int64_t seq,
                                          std::int64_t numDocs) {
  std::vector<std::int64_t> cuts;
  while (static_cast<std::int64_t>(cuts.size()) < numDocs - 1) {
    const std::int64_t c = pick(rng, 1, seq - 1);
    if (std::find(cuts.begin(), cuts.end(), c) == cuts.end())
      cuts.push_back(c);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.push_back(seq);
  std::vector<std::int64_t> ids;
  std::int64_t id = pick(rng, -5, 5);
  for (const std::int64_t end : cuts) {
    ids.resize(static_cast<std::size_t>(end), id);
    id += pick(rng, 1, 3);
  }
  return ids;
}

/// The masks of packed-document attention, by name for the trace.
struct DocumentMask {
  std::string name;
  std::unique_ptr<MaskNode> node;
};
DocumentMask drawMask(Rng &rng, int which) {
  const std::int64_t w = pick(rng, 1, 300);
  switch (which) {
  case 0:
    return {"segment", MaskNode::segment()};
  case 1:
    return {"segment & causal",
            MaskNode::intersect(MaskNode::segment(), MaskNode::causal())};
  case 2:
    return {"segment & causal & local(" + std::to_string(w) + ")",
            MaskNode::intersect(
                MaskNode::segment(),
                MaskNode::intersect(MaskNode::causal(), MaskNode::local(w)))};
  default:
    return {
        "segment & (local(" + std::to_string(w) + ", " + std::to_string(w) +
            ") | global({0, 1, 2, 3}))",
        MaskNode::intersect(MaskNode::segment(),
                            MaskNode::unite(MaskNode::local(w, w),
                                            MaskNode::global({0, 1, 2, 3})))};
  }
}

std::int64_t pickTile(Rng &rng) {
  static const std::int64_t sizes[] = {16, 64, 128};
  return sizes[pick(rng, 0, 2)];
}

/// classify() against classifyBlockByElements on every tile (at most five
/// mismatches reported), and the whole layout (maximal runs) equal.
void expectExact(const MaskNode &mask, Shape shape, Tiles tiles,
                 const SegmentIds &ids) {
  const BlockLayout got = classify(mask, shape, tiles, &ids);
  ASSERT_EQ(got.numRows, numTiles(shape.seqQ, tiles.blockM));
  ASSERT_EQ(got.numCols, numTiles(shape.seqK, tiles.blockN));
  int mismatches = 0;
  for (std::int64_t r = 0; r < got.numRows; ++r)
    for (std::int64_t c = 0; c < got.numCols; ++c) {
      const BlockKind want =
          classifyBlockByElements(mask, shape, tiles, r, c, &ids);
      if (got.kind(r, c) != want && mismatches++ < 5)
        ADD_FAILURE() << "tile (" << r << ", " << c << "): got "
                      << int(got.kind(r, c)) << ", want " << int(want);
    }
  EXPECT_EQ(got, classifyByElements(mask, shape, tiles, &ids));
}

/// How the key ids are given: "as q" (empty), an explicit copy, or other
/// documents over the same ids (different boundaries, as when q and k are
/// packed separately).
enum class Keys { AsQueries, Copy, OtherBoundaries };

TEST(DocumentLayout, RandomPackedDocumentsMatchElements) {
  static const std::int64_t seqs[] = {1, 77, 300, 1000, 2049};
  for (int i = 0; i < 80; ++i) {
    const std::uint64_t seed = 7000 + i;
    Rng rng(seed);
    const std::int64_t seq = seqs[i % 5];
    const std::int64_t numDocs = pick(rng, 1, std::min<std::int64_t>(64, seq));
    const Tiles tiles{pickTile(rng), pickTile(rng)};
    const auto keys = static_cast<Keys>(pick(rng, 0, 2));
    SegmentIds ids{packedDocuments(rng, seq, numDocs), {}};
    if (keys == Keys::Copy) {
      ids.k = ids.q;
    } else if (keys == Keys::OtherBoundaries) {
      // The queries' ids over new document boundaries.
      const std::vector<std::int64_t> other =
          packedDocuments(rng, seq, numDocs);
      std::vector<std::int64_t> distinct = ids.q;
      distinct.erase(std::unique(distinct.begin(), distinct.end()),
                     distinct.end());
      for (std::size_t t = 0, doc = 0; t < other.size(); ++t) {
        if (t && other[t] != other[t - 1])
          ++doc;
        ids.k.push_back(distinct[doc]);
      }
    }
    const DocumentMask mask = drawMask(rng, i % 4);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + mask.name + ", seq " +
                 std::to_string(seq) + ", " + std::to_string(numDocs) +
                 " documents, tiles " + std::to_string(tiles.blockM) + "x" +
                 std::to_string(tiles.blockN) + ", keys " +
                 std::to_string(int(keys)));
    expectExact(*mask.node, {seq, seq}, tiles, ids);
    if (::testing::Test::HasFailure())
      return;
  }
}

TEST(DocumentLayout, UnsortedIdsStayExact) {
  for (int i = 0; i < 24; ++i) {
    const std::uint64_t seed = 8000 + i;
    Rng rng(seed);
    const std::int64_t seq = pick(rng, 1, 300);
    // Runs of random ids from a small alphabet: ids decrease, and one id
    // comes back in several separate runs.
    SegmentIds ids;
    while (static_cast<std::int64_t>(ids.q.size()) < seq) {
      const std::int64_t runEnd = std::min(
          seq, static_cast<std::int64_t>(ids.q.size()) + pick(rng, 1, 40));
      ids.q.resize(static_cast<std::size_t>(runEnd), pick(rng, 0, 3));
    }
    const Tiles tiles{pickTile(rng), pickTile(rng)};
    const DocumentMask mask = drawMask(rng, i % 4);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + mask.name + ", seq " +
                 std::to_string(seq));
    expectExact(*mask.node, {seq, seq}, tiles, ids);
  }
  // One fixed decrease the generator might miss: documents 1, 0, 1.
  SegmentIds ids{std::vector<std::int64_t>(100, 1), {}};
  std::fill(ids.q.begin() + 30, ids.q.begin() + 60, 0);
  const auto mask =
      MaskNode::intersect(MaskNode::segment(), MaskNode::causal());
  expectExact(*mask, {100, 100}, {16, 16}, ids);
  // Queries 60..63 (document 1) see keys 0..29 of the same id.
  EXPECT_EQ(classify(*mask, {100, 100}, {16, 16}, &ids).kind(3, 0),
            BlockKind::Partial);
  // One token of another id inside a document, between the positions a
  // search for the document's end would probe (1, 2, 4, 8, 16): the ids
  // 0 0 0 5 0 ... 0 2 ... decrease once, so tile (0, 0) is Partial.
  SegmentIds dip{std::vector<std::int64_t>(16, 0), {}};
  dip.q[3] = 5;
  dip.q.resize(100, 2);
  expectExact(*MaskNode::segment(), {100, 100}, {16, 16}, dip);
  EXPECT_EQ(
      classify(*MaskNode::segment(), {100, 100}, {16, 16}, &dip).kind(0, 0),
      BlockKind::Partial);
}

TEST(DocumentLayout, EqualDocumentsComputeOneSixteenthOfCausal) {
  // 16 documents of 1024 tokens: 8 tile rows each, so 8 * 9 / 2 = 36
  // non-empty tiles per document (8 diagonal Partial, 28 Full), 576 in all,
  // against 128 * 129 / 2 = 8256 for causal over 16384 tokens.
  constexpr std::int64_t seq = 16384, docLength = 1024, block = 128;
  SegmentIds ids;
  for (std::int64_t t = 0; t < seq; ++t)
    ids.q.push_back(t / docLength);
  const auto mask =
      MaskNode::intersect(MaskNode::segment(), MaskNode::causal());
  const Shape shape{seq, seq};
  const Tiles tiles{block, block};
  const BlockLayout packed = classify(*mask, shape, tiles, &ids);
  EXPECT_EQ(classify(*MaskNode::causal(), shape, tiles).numNonEmpty(), 8256);
  EXPECT_EQ(packed.numNonEmpty(), 576);
  EXPECT_EQ(packed.numBlocks(BlockKind::Partial), 16 * 8);
  EXPECT_EQ(packed.numBlocks(BlockKind::Full), 16 * 28);
  // Per tile: live iff in a diagonal document block and on or below the
  // diagonal, Full iff strictly below it.
  const std::int64_t tilesPerDoc = docLength / block;
  for (std::int64_t r = 0; r < packed.numRows; ++r)
    for (std::int64_t c = 0; c < packed.numCols; ++c) {
      const BlockKind want = r / tilesPerDoc != c / tilesPerDoc
                                 ? BlockKind::Empty
                             : c < r  ? BlockKind::Full
                             : c == r ? BlockKind::Partial
                                      : BlockKind::Empty;
      ASSERT_EQ(packed.kind(r, c), want) << "tile (" << r << ", " << c << ")";
    }
  // The rows come in closed form: no tile visited one at a time, none left
  // to the element fallback.
  EXPECT_EQ(packed.stats.tileVisits, 0);
  EXPECT_EQ(packed.stats.fallbackBlocks, 0);
}

} // namespace
} // namespace lace::layout
