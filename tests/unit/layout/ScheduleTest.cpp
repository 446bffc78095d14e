//===- ScheduleTest.cpp - LPT schedule, row splitting, LSE merge ----------===//
#include "lace/Layout/Schedule.h"
#include "lace/Layout/Classify.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace lace::layout {
namespace {

/// A layout whose row r has costs[r] Full tiles.
BlockLayout synthetic(const std::vector<int> &costs, int cols) {
  BlockLayout l =
      BlockLayout::start(static_cast<std::int64_t>(costs.size()), cols);
  for (int c : costs) {
    if (c)
      l.appendRun(0, c, BlockKind::Full);
    l.finishRow();
  }
  return l;
}

void expectPartition(const Schedule &s, int numCtas) {
  ASSERT_EQ(s.ctaOffsets.size(), static_cast<std::size_t>(numCtas + 1));
  std::vector<int> seen(s.items.size(), 0);
  for (int c = 0; c < numCtas; ++c) {
    double load = 0;
    for (std::int32_t i = s.ctaOffsets[c]; i < s.ctaOffsets[c + 1]; ++i) {
      ++seen[static_cast<std::size_t>(s.ctaItems[i])];
      load += s.items[static_cast<std::size_t>(s.ctaItems[i])].cost;
    }
    EXPECT_DOUBLE_EQ(load, s.ctaLoad[c]);
  }
  for (int n : seen)
    EXPECT_EQ(n, 1);
}

TEST(Schedule, LptBoundOnRandomLoads) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    std::vector<int> costs(200);
    for (int &c : costs)
      c = static_cast<int>(rng() % 50);
    const BlockLayout l = synthetic(costs, 64);
    const int ctas = 1 + static_cast<int>(rng() % 16);
    ScheduleOptions o;
    o.splitRows = false;
    const Schedule s = buildSchedule({l}, {0, 0}, 2, ctas, o);
    expectPartition(s, ctas);
    EXPECT_EQ(s.items.size(), 800u); // batch 2 x heads 2 x rows 200
    // LPT: max load <= mean + largest item.
    double total = 0, largest = 0;
    for (const WorkItem &w : s.items) {
      total += w.cost;
      largest = std::max(largest, w.cost);
    }
    const double mean = total / ctas;
    EXPECT_LE(s.imbalanceAfter * mean, mean + largest + 1e-9);
    EXPECT_DOUBLE_EQ(s.imbalanceBefore, s.imbalanceAfter);
    for (std::size_t i = 1; i < s.items.size(); ++i)
      EXPECT_GE(s.items[i - 1].cost, s.items[i].cost);
  }
}

TEST(Schedule, SplittingBalancesSkewedRows) {
  // One huge row and many small ones on 8 CTAs.
  std::vector<int> costs(64, 1);
  costs[3] = 512;
  const BlockLayout l = synthetic(costs, 512);
  const Schedule s = buildSchedule({l}, {0}, 1, 8);
  expectPartition(s, 8);
  EXPECT_GT(s.imbalanceBefore, 6.0);
  EXPECT_LT(s.imbalanceAfter, 1.2);
  EXPECT_EQ(s.rowsSplit, 1);
  // The pieces of row 3 tile its columns exactly.
  std::vector<WorkItem> pieces;
  for (const WorkItem &w : s.items)
    if (w.row == 3)
      pieces.push_back(w);
  std::sort(pieces.begin(), pieces.end(),
            [](auto &a, auto &b) { return a.split < b.split; });
  ASSERT_GT(pieces.size(), 1u);
  EXPECT_EQ(pieces.front().colBegin, 0);
  EXPECT_EQ(pieces.back().colEnd, 512);
  double sum = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(pieces[i].numSplits, static_cast<int>(pieces.size()));
    if (i) {
      EXPECT_EQ(pieces[i].colBegin, pieces[i - 1].colEnd);
    }
    sum += pieces[i].cost;
  }
  EXPECT_DOUBLE_EQ(sum, 512);
}

TEST(Schedule, CausalCostsWeighPartialTiles) {
  const BlockLayout l = classify(*MaskNode::causal(), {1024, 1024}, {128, 128});
  ScheduleOptions o;
  o.splitRows = false;
  const Schedule s = buildSchedule({l}, {0}, 1, 4, o);
  double total = 0;
  for (const WorkItem &w : s.items)
    total += w.cost;
  EXPECT_DOUBLE_EQ(total, 28 + 8 * 1.25);
}

TEST(Schedule, CombineSplitsIsTheLseMerge) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 50; ++trial) {
    const int keys = 40, d = 8, pieces = 1 + trial % 5;
    std::vector<double> score(keys), v(keys * d);
    for (auto &x : score)
      x = 3 * normal(rng);
    for (auto &x : v)
      x = normal(rng);
    // Reference softmax over all keys.
    double m = *std::max_element(score.begin(), score.end()), l = 0;
    std::vector<double> ref(d, 0);
    for (int k = 0; k < keys; ++k) {
      const double p = std::exp(score[k] - m);
      l += p;
      for (int j = 0; j < d; ++j)
        ref[j] += p * v[k * d + j];
    }
    // Per-piece normalised outputs and LSEs over contiguous key ranges.
    std::vector<float> o(pieces * d, 0), lse(pieces);
    for (int p = 0; p < pieces; ++p) {
      const int k0 = keys * p / pieces, k1 = keys * (p + 1) / pieces;
      double pm = -1e300, pl = 0;
      for (int k = k0; k < k1; ++k)
        pm = std::max(pm, score[k]);
      for (int k = k0; k < k1; ++k) {
        const double w = std::exp(score[k] - pm);
        pl += w;
        for (int j = 0; j < d; ++j)
          o[p * d + j] += static_cast<float>(w * v[k * d + j]);
      }
      for (int j = 0; j < d; ++j)
        o[p * d + j] = static_cast<float>(o[p * d + j] / pl);
      lse[p] = static_cast<float>(pm + std::log(pl));
    }
    std::vector<float> out(d);
    const float got = combineSplits(o, lse, d, out);
    EXPECT_NEAR(got, m + std::log(l), 1e-4);
    for (int j = 0; j < d; ++j)
      EXPECT_NEAR(out[j], ref[j] / l, 1e-4);
  }
  // Pieces without live keys contribute nothing; all empty gives 0, -inf.
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> o{1, 2, 5, 6}, lse{-inf, 0.5f}, out(2);
  EXPECT_FLOAT_EQ(combineSplits(o, lse, 2, out), 0.5f);
  EXPECT_FLOAT_EQ(out[0], 5);
  lse = {-inf, -inf};
  EXPECT_EQ(combineSplits(o, lse, 2, out), -inf);
  EXPECT_EQ(out[1], 0);
}

} // namespace
} // namespace lace::layout
