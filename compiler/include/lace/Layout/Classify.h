//===- Classify.h - Exact block classification of a mask ------------------===//
//
// classify() computes a BlockLayout row by row. For each node of the mask
// tree it derives the row's runs in closed form (time proportional to the
// number of runs for the banded primitives), combines children's runs by a
// boundary sweep, and resolves the few tiles whose kind the structure cannot
// decide (Partial | Partial, Partial & Partial, predicates) by evaluating
// their elements. The result is exact: Empty iff no in-range element is
// live, Full iff every in-range element is live. docs/layout.md has the
// argument per primitive.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_CLASSIFY_H
#define LACE_LAYOUT_CLASSIFY_H

#include "lace/Layout/BlockLayout.h"
#include "lace/Layout/MaskNode.h"

namespace lace::layout {

/// Number of tile rows / columns: ceil(seq / block).
inline std::int64_t numTiles(std::int64_t seq, std::int64_t block) {
  return (seq + block - 1) / block;
}

/// The exact layout of `mask` over `shape` tiled by `tiles`. `segments` is
/// required when the mask has a Segment node (without it those nodes are
/// empty). Segment nodes are classified structurally when both id arrays are
/// non-decreasing, else through the element fallback.
BlockLayout classify(const MaskNode &mask, Shape shape, Tiles tiles,
                     const SegmentIds *segments = nullptr);

/// The reference: tile (row, col) classified by evaluating every in-range
/// element (what FlexAttention's create_block_mask does).
BlockKind classifyBlockByElements(const MaskNode &mask, Shape shape,
                                  Tiles tiles, std::int64_t row,
                                  std::int64_t col,
                                  const SegmentIds *segments = nullptr);

/// The whole layout through classifyBlockByElements (tests, benchmark
/// baseline).
BlockLayout classifyByElements(const MaskNode &mask, Shape shape, Tiles tiles,
                               const SegmentIds *segments = nullptr);

} // namespace lace::layout

#endif // LACE_LAYOUT_CLASSIFY_H
