//===- SegmentLayout.cpp - Document masks from packed segment ids ---------===//
#include "lace/Layout/SegmentLayout.h"

#include "lace/Layout/Classify.h"

#include <algorithm>
#include <vector>

namespace lace::layout {

namespace {

/// Maximal runs of equal ids: run i covers tokens [start[i], start[i+1]).
struct IdRuns {
  std::vector<std::int32_t> id;
  std::vector<std::int64_t> start;

  explicit IdRuns(std::span<const std::int32_t> ids) {
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (!i || ids[i] != ids[i - 1]) {
        id.push_back(ids[i]);
        start.push_back(static_cast<std::int64_t>(i));
      }
    start.push_back(static_cast<std::int64_t>(ids.size()));
  }
  std::size_t at(std::int64_t t) const {
    return static_cast<std::size_t>(
        std::upper_bound(start.begin(), start.end() - 1, t) - start.begin() -
        1);
  }
};

bool nonDecreasing(std::span<const std::int32_t> ids) {
  return std::is_sorted(ids.begin(), ids.end());
}

} // namespace

LayoutOrError buildSegmentLayout(std::span<const std::int32_t> segQ,
                                 std::span<const std::int32_t> segK,
                                 Shape shape, Tiles tiles, bool causal) {
  LayoutOrError result;
  if (static_cast<std::int64_t>(segQ.size()) != shape.seqQ ||
      static_cast<std::int64_t>(segK.size()) != shape.seqK) {
    result.error = "segment ids must have seq_q and seq_k entries";
    return result;
  }
  if (!nonDecreasing(segQ) || !nonDecreasing(segK)) {
    result.error = "segment ids must be non-decreasing (packed sequences); "
                   "use classify() with a segment node for arbitrary ids";
    return result;
  }
  const std::int64_t bm = tiles.blockM, bn = tiles.blockN;
  const std::int64_t rows = numTiles(shape.seqQ, bm);
  const std::int64_t cols = numTiles(shape.seqK, bn);
  BlockLayout layout = BlockLayout::start(rows, cols);
  const IdRuns qr(segQ), kr(segK);
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t q0 = row * bm, q1 = std::min(shape.seqQ, q0 + bm) - 1;
    const auto kA = std::lower_bound(segK.begin(), segK.end(),
                                     segQ[static_cast<std::size_t>(q0)]) -
                    segK.begin();
    auto kB = std::upper_bound(segK.begin(), segK.end(),
                               segQ[static_cast<std::size_t>(q1)]) -
              segK.begin();
    if (causal)
      kB = std::min<std::int64_t>(kB, q1 + 1);
    if (kA >= kB) {
      layout.finishRow();
      continue;
    }
    const std::size_t qa = qr.at(q0), qb = qr.at(q1);
    for (std::int64_t c = kA / bn; c <= (kB - 1) / bn; ++c) {
      const std::int64_t k0 = c * bn, k1 = std::min(shape.seqK, k0 + bn) - 1;
      std::size_t i = qa, j = kr.at(k0);
      const std::size_t kb = kr.at(k1);
      bool live = false;
      for (; i <= qb && j <= kb && !live;) {
        if (qr.id[i] < kr.id[j]) {
          ++i;
        } else if (kr.id[j] < qr.id[i]) {
          ++j;
        } else {
          // Same segment: its keys in the tile start at kx, its queries end
          // at qx; causal needs kx <= qx.
          const std::int64_t kx = std::max(k0, kr.start[j]);
          const std::int64_t qx = std::min(q1, qr.start[i + 1] - 1);
          live = !causal || kx <= qx;
          ++i;
          ++j;
        }
      }
      if (!live)
        continue;
      const bool full = qa == qb && kr.at(k0) == kb && qr.id[qa] == kr.id[kb] &&
                        (!causal || k1 <= q0);
      layout.appendRun(static_cast<std::int32_t>(c),
                       static_cast<std::int32_t>(c + 1),
                       full ? BlockKind::Full : BlockKind::Partial);
    }
    layout.finishRow();
  }
  result.layout = std::move(layout);
  return result;
}

LayoutOrError buildVarlenLayout(std::span<const std::int64_t> cuSeqlensQ,
                                std::span<const std::int64_t> cuSeqlensK,
                                Tiles tiles, bool causal) {
  LayoutOrError result;
  auto valid = [](std::span<const std::int64_t> cu) {
    return !cu.empty() && cu.front() == 0 &&
           std::is_sorted(cu.begin(), cu.end());
  };
  if (cuSeqlensQ.size() != cuSeqlensK.size() || !valid(cuSeqlensQ) ||
      !valid(cuSeqlensK)) {
    result.error = "cu_seqlens must start at 0, be non-decreasing and have "
                   "one entry per sequence plus one, for q and k alike";
    return result;
  }
  auto expand = [](std::span<const std::int64_t> cu) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(cu.back()));
    for (std::size_t s = 0; s + 1 < cu.size(); ++s)
      std::fill(ids.begin() + cu[s], ids.begin() + cu[s + 1],
                static_cast<std::int32_t>(s));
    return ids;
  };
  const std::vector<std::int32_t> q = expand(cuSeqlensQ),
                                  k = expand(cuSeqlensK);
  if (q.empty() || k.empty()) {
    result.layout = BlockLayout::start(0, 0);
    return result;
  }
  return buildSegmentLayout(q, k,
                            {static_cast<std::int64_t>(q.size()),
                             static_cast<std::int64_t>(k.size())},
                            tiles, causal);
}

} // namespace lace::layout
