//===- IdRuns.h - Runs of equal segment ids -------------------------------===//
//
// Internal to the layout library's classifier (Classify.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_IDRUNS_H
#define LACE_LAYOUT_IDRUNS_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace lace::layout::detail {

/// Maximal runs of equal, non-decreasing segment ids: run i holds tokens
/// [start[i], start[i + 1]) and the ids strictly increase from run to run.
struct IdRuns {
  std::vector<std::int64_t> id;
  std::vector<std::int64_t> start; ///< one per run, then the token count

  /// The runs of `ids`, or false if the ids ever decrease (only sorted ids
  /// are classified from runs). Each run is found as if sorted, galloping
  /// (doubling steps, then a binary search: O(log length) per run), then
  /// confirmed over all its tokens: runs whose ids strictly increase and
  /// whose tokens all carry their id are exactly the sorted case.
  bool build(const std::vector<std::int64_t> &ids) {
    const std::size_t n = ids.size();
    for (std::size_t i = 0, e; i < n; i = e) {
      std::size_t step = 1;
      while (i + step < n && ids[i + step] == ids[i])
        step *= 2;
      const auto first =
          ids.begin() + static_cast<std::ptrdiff_t>(i + step / 2);
      const auto last =
          ids.begin() + static_cast<std::ptrdiff_t>(std::min(n, i + step));
      e = static_cast<std::size_t>(std::upper_bound(first, last, ids[i]) -
                                   ids.begin());
      // Tokens [i, e) are all equal iff each equals its successor: one
      // memcmp of the run against itself shifted by one (vectorised by the
      // C library, at the speed of reading the tokens).
      if ((!id.empty() && ids[i] <= id.back()) ||
          std::memcmp(ids.data() + i, ids.data() + i + 1,
                      (e - i - 1) * sizeof(std::int64_t)) != 0)
        return false;
      id.push_back(ids[i]);
      start.push_back(static_cast<std::int64_t>(i));
    }
    start.push_back(static_cast<std::int64_t>(n));
    return true;
  }
  std::size_t numRuns() const { return id.size(); }
  /// The run holding token t.
  std::size_t runOf(std::int64_t t) const {
    return static_cast<std::size_t>(
        std::upper_bound(start.begin(), start.end() - 1, t) - start.begin() -
        1);
  }
  /// Index range [first, last] of runs overlapping tokens [t0, t1].
  std::pair<std::size_t, std::size_t> slice(std::int64_t t0,
                                            std::int64_t t1) const {
    return {runOf(t0), runOf(t1)};
  }
  /// The first run at or after `from` whose id is >= s.
  std::size_t firstIdAtLeast(std::int64_t s, std::size_t from) const {
    return static_cast<std::size_t>(
        std::lower_bound(id.begin() + static_cast<std::ptrdiff_t>(from),
                         id.end(), s) -
        id.begin());
  }
};

} // namespace lace::layout::detail

#endif // LACE_LAYOUT_IDRUNS_H
