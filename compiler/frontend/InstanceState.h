//===- InstanceState.h - An Instance's internals, shared by its files -----===//
//
// Internal to the frontend: the state Instantiate.cpp builds and
// Interpreter.cpp evaluates with, and the parameter binding both use
// (Parameters.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_INSTANCESTATE_H
#define LACE_FRONTEND_INSTANCESTATE_H

#include "lace/Frontend/Interpreter.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace lace::frontend {

struct Instance::Element {
  std::int64_t b, h, q, k;
  float s;
  std::uint64_t gen;
};

/// A normalized union of closed intervals [lo, hi].
struct Instance::SetIntervals {
  std::vector<std::pair<std::int64_t, std::int64_t>> intervals;

  void add(std::int64_t lo, std::int64_t hi) { intervals.push_back({lo, hi}); }
  void normalize() {
    std::sort(intervals.begin(), intervals.end());
    std::vector<std::pair<std::int64_t, std::int64_t>> merged;
    for (auto [lo, hi] : intervals) {
      if (!merged.empty() && lo <= merged.back().second + 1 &&
          merged.back().second != INT64_MAX) {
        merged.back().second = std::max(merged.back().second, hi);
      } else if (!merged.empty() && merged.back().second == INT64_MAX) {
        continue;
      } else {
        merged.push_back({lo, hi});
      }
    }
    intervals = std::move(merged);
  }
  bool contains(std::int64_t v) const {
    auto it = std::upper_bound(intervals.begin(), intervals.end(), v,
                               [](std::int64_t x, const auto &interval) {
                                 return x < interval.first;
                               });
    if (it == intervals.begin())
      return false;
    --it;
    return v <= it->second;
  }
};

struct Instance::Shared {
  std::uint64_t generation = 0;
  std::vector<std::int64_t> segQ, segK;
  std::map<std::pair<const Pattern *, std::vector<std::int64_t>>,
           std::unique_ptr<Instance>>
      subs;
};

struct Instance::Memo {
  std::vector<Value> letValue;
  std::vector<std::uint64_t> letGen;
  std::vector<SetIntervals> letSet;
  std::vector<std::uint64_t> letSetGen;
  std::uint64_t maskGen = ~std::uint64_t{0};
  bool maskValue = false;
  struct RandomCache {
    bool valid = false;
    std::uint64_t seed = 0;
    std::int64_t head = 0, row = 0, numBlocks = 0, perRow = 0;
    std::vector<std::int64_t> blocks;
  };
  std::vector<RandomCache> random; ///< by Expr::id
};

/// The parameter values of `pattern` from `given` (nullopt: its default,
/// evaluated as a constant expression over the earlier parameters);
/// reports parameters without either.
std::optional<std::vector<Value>>
bindParamValues(const Pattern &pattern, std::vector<std::optional<Value>> given,
                DiagnosticEngine &diags);

} // namespace lace::frontend

#endif // LACE_FRONTEND_INSTANCESTATE_H
