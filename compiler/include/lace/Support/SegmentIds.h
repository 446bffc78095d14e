//===- SegmentIds.h - Per-token document ids of packed sequences ----------===//
//
// Part of the support layer that the language, the layout library and the
// runtime share: what `segment` compares.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_SUPPORT_SEGMENTIDS_H
#define LACE_SUPPORT_SEGMENTIDS_H

#include <cstdint>
#include <vector>

namespace lace {

/// Per-token segment (document) ids for `segment`; `k` empty means "same as
/// q". Sizes must be seq_q and seq_k.
struct SegmentIds {
  std::vector<std::int64_t> q;
  std::vector<std::int64_t> k;
};

} // namespace lace

#endif // LACE_SUPPORT_SEGMENTIDS_H
