//===- FieldOfView.cpp - Layers until every block reaches every block -----===//
#include "lace/Layout/FieldOfView.h"

#include <algorithm>
#include <unordered_set>

namespace lace::layout {

namespace {

/// Fixed-size bitsets stored back to back.
struct BitRows {
  std::int64_t words = 0;
  std::vector<std::uint64_t> bits;

  BitRows(std::int64_t rows, std::int64_t n)
      : words((n + 63) / 64), bits(static_cast<std::size_t>(rows * words), 0) {}
  std::uint64_t *row(std::int64_t r) {
    return bits.data() + static_cast<std::size_t>(r * words);
  }
};

bool allSet(const std::uint64_t *w, std::int64_t words, std::int64_t n) {
  for (std::int64_t i = 0; i < words; ++i) {
    const std::int64_t valid = std::min<std::int64_t>(64, n - i * 64);
    const std::uint64_t want =
        valid == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << valid) - 1);
    if ((w[i] & want) != want)
      return false;
  }
  return true;
}

} // namespace

FieldOfView fieldOfView(const BlockLayout &layout, std::int64_t maxLayers) {
  FieldOfView fov;
  const std::int64_t n = layout.numRows;
  if (n != layout.numCols) {
    fov.valid = false;
    return fov;
  }
  if (n == 0) {
    fov.reachable = true;
    return fov;
  }
  // Adjacency lists: the runs give them directly.
  auto forEdges = [&](std::int64_t r, auto &&fn) {
    for (std::int32_t i = layout.rowOffsets[static_cast<std::size_t>(r)];
         i < layout.rowOffsets[static_cast<std::size_t>(r) + 1]; ++i) {
      const Run &run = layout.runs[static_cast<std::size_t>(i)];
      for (std::int32_t c = run.begin; c < run.end; ++c)
        fn(c);
    }
  };
  bool reflexive = true;
  for (std::int64_t r = 0; r < n && reflexive; ++r)
    reflexive = layout.kind(r, r) != BlockKind::Empty;

  if (reflexive) {
    // L = max over sources of the BFS depth that covers every block. The
    // reached set is a bitset; a frontier row adds its runs word by word.
    const std::int64_t words = (n + 63) / 64;
    std::vector<std::uint64_t> seen(static_cast<std::size_t>(words));
    std::vector<std::int64_t> frontier, next;
    std::int64_t worst = 0;
    for (std::int64_t s = 0; s < n; ++s) {
      std::fill(seen.begin(), seen.end(), 0);
      seen[static_cast<std::size_t>(s / 64)] |= std::uint64_t{1} << (s % 64);
      frontier.assign(1, s);
      std::int64_t count = 1, depth = 0;
      while (!frontier.empty() && count < n) {
        next.clear();
        for (std::int64_t u : frontier)
          for (std::int32_t i = layout.rowOffsets[static_cast<std::size_t>(u)];
               i < layout.rowOffsets[static_cast<std::size_t>(u) + 1]; ++i) {
            const Run &run = layout.runs[static_cast<std::size_t>(i)];
            for (std::int64_t w = run.begin / 64; w <= (run.end - 1) / 64;
                 ++w) {
              const std::int64_t lo = std::max<std::int64_t>(run.begin, w * 64);
              const std::int64_t hi =
                  std::min<std::int64_t>(run.end, w * 64 + 64);
              const std::uint64_t range =
                  (hi - lo == 64 ? ~std::uint64_t{0}
                                 : ((std::uint64_t{1} << (hi - lo)) - 1))
                  << (lo - w * 64);
              std::uint64_t fresh = range & ~seen[static_cast<std::size_t>(w)];
              seen[static_cast<std::size_t>(w)] |= fresh;
              while (fresh) {
                next.push_back(w * 64 + __builtin_ctzll(fresh));
                fresh &= fresh - 1;
                ++count;
              }
            }
          }
        frontier.swap(next);
        ++depth;
      }
      if (count < n)
        return fov; // never
      worst = std::max(worst, std::max<std::int64_t>(depth, 1));
    }
    fov.reachable = true;
    fov.layers = worst;
    return fov;
  }

  // General case: reach_{L+1}(i) = union over edges i -> j of reach_L(j).
  if (maxLayers <= 0)
    maxLayers = 2 * n;
  BitRows reach(n, n), next(n, n);
  for (std::int64_t r = 0; r < n; ++r)
    forEdges(r, [&](std::int32_t c) {
      reach.row(r)[c / 64] |= std::uint64_t{1} << (c % 64);
    });
  std::unordered_set<std::uint64_t> states;
  for (std::int64_t layer = 1; layer <= maxLayers; ++layer) {
    bool done = true;
    for (std::int64_t r = 0; r < n && done; ++r)
      done = allSet(reach.row(r), reach.words, n);
    if (done) {
      fov.reachable = true;
      fov.layers = layer;
      return fov;
    }
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::uint64_t w : reach.bits)
      h = (h ^ w) * 0x100000001b3ULL;
    if (!states.insert(h).second)
      return fov; // the reach sets cycle without covering everything
    std::fill(next.bits.begin(), next.bits.end(), 0);
    for (std::int64_t r = 0; r < n; ++r) {
      std::uint64_t *dst = next.row(r);
      forEdges(r, [&](std::int32_t c) {
        const std::uint64_t *src = reach.row(c);
        for (std::int64_t w = 0; w < reach.words; ++w)
          dst[w] |= src[w];
      });
    }
    std::swap(reach.bits, next.bits);
  }
  return fov;
}

} // namespace lace::layout
