//===- SegmentLayout.h - Document masks from run-time segment ids ---------===//
//
// Packed sequences (several documents in one row of the batch) give each
// token a segment id; a query sees a key iff their ids are equal (and, if
// causal, k <= q in packed positions). These builders make the exact layout
// in O(tiles + tokens) without a MaskNode.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_SEGMENTLAYOUT_H
#define LACE_LAYOUT_SEGMENTLAYOUT_H

#include "lace/Layout/BlockLayout.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace lace::layout {

/// A layout, or why none could be built.
struct LayoutOrError {
  std::optional<BlockLayout> layout;
  std::string error; ///< empty on success

  explicit operator bool() const { return layout.has_value(); }
};

/// Precondition: segQ and segK are non-decreasing (packed sequences) and
/// have shape.seqQ and shape.seqK entries; otherwise an error is returned
/// (use classify() with a Segment node for arbitrary ids). Cost
/// O(tokens + rows + non-empty tiles * ids per tile).
LayoutOrError buildSegmentLayout(std::span<const std::int32_t> segQ,
                                 std::span<const std::int32_t> segK,
                                 Shape shape, Tiles tiles, bool causal);

/// The same from cumulative sequence offsets (FlashAttention's
/// cu_seqlens): sequence i holds queries [cuQ[i], cuQ[i+1]) and keys
/// [cuK[i], cuK[i+1]). Both must start at 0, be non-decreasing and have the
/// same number of entries. `causal` means k <= q in packed positions, which
/// is per-sequence causal when cuQ == cuK.
LayoutOrError buildVarlenLayout(std::span<const std::int64_t> cuSeqlensQ,
                                std::span<const std::int64_t> cuSeqlensK,
                                Tiles tiles, bool causal);

} // namespace lace::layout

#endif // LACE_LAYOUT_SEGMENTLAYOUT_H
