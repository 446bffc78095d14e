//===- Schedule.h - Persistent-grid work lists for a set of layouts -------===//
//
// Work items are (batch, head, q-tile row) with a cost equal to the row's
// Full tiles plus `partialWeight` times its Partial tiles (a Partial tile
// evaluates the mask per element). Items are ordered longest first and
// assigned greedily to the least-loaded CTA (LPT). Rows costing more than
// `splitAbove` times the mean CTA load are split into k-ranges; each piece
// produces a partial (O, LSE) that combineSplits() merges.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_SCHEDULE_H
#define LACE_LAYOUT_SCHEDULE_H

#include "lace/Layout/BlockLayout.h"

#include <cstdint>
#include <span>
#include <vector>

namespace lace::layout {

struct ScheduleOptions {
  /// Cost of a Partial tile relative to a Full one (mask evaluation and a
  /// second pass over the scores).
  double partialWeight = 1.25;
  /// Split rows into k-ranges at all.
  bool splitRows = true;
  /// A row is split when its cost exceeds splitAbove * (total / numCtas).
  double splitAbove = 1.0;
  /// Pieces of a split row cost at most pieceFraction * (total / numCtas),
  /// so that LPT can still even out the CTAs.
  double pieceFraction = 0.5;
};

/// One unit of work: k-tiles [colBegin, colEnd) of one q-tile row. A row
/// that is not split has one item covering every column (numSplits == 1).
/// Rows without any non-empty tile are items too (cost 0): their output is
/// 0 and their LSE -inf.
struct WorkItem {
  std::int32_t batch = 0;
  std::int32_t head = 0;
  std::int32_t row = 0;
  std::int32_t colBegin = 0;
  std::int32_t colEnd = 0;
  std::int32_t split = 0;     ///< index among the row's pieces
  std::int32_t numSplits = 1; ///< > 1: partial results to combine
  /// numSplits > 1: where this piece writes its partial O and LSE (slots
  /// firstSlot .. firstSlot + numSplits - 1 of its SplitRow); -1 otherwise.
  std::int32_t slot = -1;
  double cost = 0;
};

/// A row cut into pieces: the combine step merges its pieces' slots.
struct SplitRow {
  std::int32_t batch = 0;
  std::int32_t head = 0;
  std::int32_t row = 0;
  std::int32_t firstSlot = 0;
  std::int32_t numSplits = 0;
};

struct Schedule {
  /// All items, longest first (ties by batch, head, row, split).
  std::vector<WorkItem> items;
  /// CTA i runs items ctaItems[ctaOffsets[i] .. ctaOffsets[i+1]) in order.
  std::vector<std::int32_t> ctaOffsets; ///< [numCtas + 1]
  std::vector<std::int32_t> ctaItems;   ///< [items.size()]
  std::vector<double> ctaLoad;          ///< [numCtas]
  /// max / mean CTA load with whole rows, and after splitting (equal when
  /// nothing was split; 1 when there is no work).
  double imbalanceBefore = 1;
  double imbalanceAfter = 1;
  std::int64_t rowsSplit = 0;
  /// The split rows, in the order of their slots; numSlots = the sum of
  /// their numSplits (the partial-result workspace holds that many tiles).
  std::vector<SplitRow> splitRows;
  std::int32_t numSlots = 0;
};

/// Builds the schedule in O(items log items). `headToLayout[h]` names the
/// layout of head h (from dedupeHeads); every batch entry shares them.
Schedule buildSchedule(const std::vector<BlockLayout> &layouts,
                       const std::vector<int> &headToLayout, std::int64_t batch,
                       int numCtas, ScheduleOptions options = {});

/// Merges the partial results of one query row computed over disjoint key
/// ranges: o is [n][d] (each piece already normalised by its own sum), lse
/// is [n] (log-sum-exp of that piece's scores, -inf for a piece without a
/// live key). Writes the row's output to out [d] and returns its LSE:
///   lse = log(sum_i exp(lse_i)),  out = sum_i exp(lse_i - lse) * o_i.
/// With every lse_i = -inf the output is 0 and the LSE -inf.
float combineSplits(std::span<const float> o, std::span<const float> lse,
                    std::int64_t d, std::span<float> out);

} // namespace lace::layout

#endif // LACE_LAYOUT_SCHEDULE_H
