//===- Schedule.cpp - LPT scheduling with row splitting ------------------===//
#include "lace/Layout/Schedule.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>

namespace lace::layout {

namespace {

double rowCost(const BlockLayout &l, std::int64_t row, std::int32_t begin,
               std::int32_t end, double partialWeight) {
  double cost = 0;
  for (std::int32_t i = l.rowOffsets[static_cast<std::size_t>(row)];
       i < l.rowOffsets[static_cast<std::size_t>(row) + 1]; ++i) {
    const Run &r = l.runs[static_cast<std::size_t>(i)];
    const std::int32_t b = std::max(r.begin, begin), e = std::min(r.end, end);
    if (b < e)
      cost += (e - b) * (r.kind == BlockKind::Full ? 1.0 : partialWeight);
  }
  return cost;
}

/// Sorts longest first and assigns each item to the least-loaded CTA.
/// Returns max / mean load.
double assignLPT(std::vector<WorkItem> &items, int numCtas, Schedule *out) {
  std::stable_sort(
      items.begin(), items.end(),
      [](const WorkItem &a, const WorkItem &b) { return a.cost > b.cost; });
  using Slot = std::pair<double, int>; // load, cta
  std::priority_queue<Slot, std::vector<Slot>, std::greater<>> heap;
  for (int c = 0; c < numCtas; ++c)
    heap.push({0.0, c});
  std::vector<int> owner(items.size());
  std::vector<double> load(static_cast<std::size_t>(numCtas), 0.0);
  double total = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto [l, c] = heap.top();
    heap.pop();
    owner[i] = c;
    load[static_cast<std::size_t>(c)] = l + items[i].cost;
    total += items[i].cost;
    heap.push({l + items[i].cost, c});
  }
  const double mean = total / numCtas;
  const double imbalance =
      mean > 0 ? *std::max_element(load.begin(), load.end()) / mean : 1.0;
  if (out) {
    out->ctaOffsets.assign(static_cast<std::size_t>(numCtas) + 1, 0);
    for (int c : owner)
      ++out->ctaOffsets[static_cast<std::size_t>(c) + 1];
    for (int c = 0; c < numCtas; ++c)
      out->ctaOffsets[static_cast<std::size_t>(c) + 1] +=
          out->ctaOffsets[static_cast<std::size_t>(c)];
    std::vector<std::int32_t> fill(out->ctaOffsets.begin(),
                                   out->ctaOffsets.end() - 1);
    out->ctaItems.assign(items.size(), 0);
    for (std::size_t i = 0; i < items.size(); ++i)
      out->ctaItems[static_cast<std::size_t>(
          fill[static_cast<std::size_t>(owner[i])]++)] =
          static_cast<std::int32_t>(i);
    out->ctaLoad = std::move(load);
  }
  return imbalance;
}

} // namespace

Schedule buildSchedule(const std::vector<BlockLayout> &layouts,
                       const std::vector<int> &headToLayout, std::int64_t batch,
                       int numCtas, ScheduleOptions options) {
  numCtas = std::max(numCtas, 1);
  // Row costs once per distinct layout, not per head and batch entry.
  std::vector<std::vector<double>> costs(layouts.size());
  for (std::size_t i = 0; i < layouts.size(); ++i)
    for (std::int64_t r = 0; r < layouts[i].numRows; ++r)
      costs[i].push_back(rowCost(layouts[i], r, 0,
                                 static_cast<std::int32_t>(layouts[i].numCols),
                                 options.partialWeight));
  std::vector<WorkItem> rows;
  double total = 0;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::size_t h = 0; h < headToLayout.size(); ++h) {
      const BlockLayout &l = layouts[static_cast<std::size_t>(headToLayout[h])];
      for (std::int64_t r = 0; r < l.numRows; ++r) {
        WorkItem w;
        w.batch = static_cast<std::int32_t>(b);
        w.head = static_cast<std::int32_t>(h);
        w.row = static_cast<std::int32_t>(r);
        w.colEnd = static_cast<std::int32_t>(l.numCols);
        w.cost = costs[static_cast<std::size_t>(headToLayout[h])]
                      [static_cast<std::size_t>(r)];
        total += w.cost;
        rows.push_back(w);
      }
    }
  Schedule s;
  std::vector<WorkItem> whole = rows;
  s.imbalanceBefore = assignLPT(whole, numCtas, nullptr);

  const double mean = total / numCtas;
  std::vector<WorkItem> items;
  items.reserve(rows.size());
  for (const WorkItem &w : rows) {
    if (!options.splitRows || mean <= 0 ||
        w.cost <= options.splitAbove * mean) {
      items.push_back(w);
      continue;
    }
    // Cut the row's non-empty columns into pieces of about `target` cost.
    const BlockLayout &l = layouts[static_cast<std::size_t>(
        headToLayout[static_cast<std::size_t>(w.head)])];
    const double target = std::max(options.pieceFraction * mean, 1.0);
    const std::int64_t pieces = std::max<std::int64_t>(
        2, static_cast<std::int64_t>(std::ceil(w.cost / target)));
    const double per = w.cost / static_cast<double>(pieces);
    std::vector<WorkItem> cut;
    WorkItem cur = w;
    cur.cost = 0;
    for (std::int32_t i = l.rowOffsets[static_cast<std::size_t>(w.row)];
         i < l.rowOffsets[static_cast<std::size_t>(w.row) + 1]; ++i) {
      const Run &r = l.runs[static_cast<std::size_t>(i)];
      const double unit =
          r.kind == BlockKind::Full ? 1.0 : options.partialWeight;
      for (std::int32_t c = r.begin; c < r.end;) {
        // Take as many columns of this run as fit in the current piece.
        const double room = per - cur.cost;
        std::int32_t take = static_cast<std::int32_t>(
            std::max(1.0, std::floor(room / unit + 1e-9)));
        take = std::min(take, r.end - c);
        cur.cost += take * unit;
        c += take;
        if (cur.cost >= per - 1e-9 &&
            static_cast<std::int64_t>(cut.size()) + 1 < pieces) {
          cur.colEnd = c;
          cut.push_back(cur);
          cur.colBegin = c;
          cur.cost = 0;
        }
      }
    }
    cur.colEnd = static_cast<std::int32_t>(l.numCols);
    if (cur.cost > 0 || cut.empty())
      cut.push_back(cur);
    else
      cut.back().colEnd = cur.colEnd;
    const auto numSplits = static_cast<std::int32_t>(cut.size());
    for (std::int32_t i = 0; i < numSplits; ++i) {
      cut[static_cast<std::size_t>(i)].split = i;
      cut[static_cast<std::size_t>(i)].numSplits = numSplits;
      if (numSplits > 1)
        cut[static_cast<std::size_t>(i)].slot = s.numSlots + i;
      items.push_back(cut[static_cast<std::size_t>(i)]);
    }
    if (numSplits > 1) {
      ++s.rowsSplit;
      s.splitRows.push_back({w.batch, w.head, w.row, s.numSlots, numSplits});
      s.numSlots += numSplits;
    }
  }
  s.imbalanceAfter = assignLPT(items, numCtas, &s);
  s.items = std::move(items);
  return s;
}

float combineSplits(std::span<const float> o, std::span<const float> lse,
                    std::int64_t d, std::span<float> out) {
  const float ninf = -std::numeric_limits<float>::infinity();
  float m = ninf;
  for (float x : lse)
    m = std::max(m, x);
  std::fill(out.begin(), out.begin() + d, 0.0f);
  if (m == ninf)
    return ninf;
  double sum = 0;
  for (float x : lse)
    sum += std::exp(static_cast<double>(x) - m);
  const double total = m + std::log(sum);
  for (std::size_t i = 0; i < lse.size(); ++i) {
    if (lse[i] == ninf)
      continue;
    const double w = std::exp(static_cast<double>(lse[i]) - total);
    for (std::int64_t j = 0; j < d; ++j)
      out[static_cast<std::size_t>(j)] += static_cast<float>(
          w * o[i * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)]);
  }
  return static_cast<float>(total);
}

} // namespace lace::layout
