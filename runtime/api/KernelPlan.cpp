//===- KernelPlan.cpp - Everything the runtime needs to run one pattern ---===//
#include "lace/Runtime/KernelPlan.h"

#include "lace_params.cuh"

#include <algorithm>
#include <sstream>

namespace lace {

ProblemShape ProblemShape::resolved() const {
  ProblemShape out = *this;
  if (out.kvHeads == 0)
    out.kvHeads = out.heads;
  if (out.seqK == 0)
    out.seqK = out.seqQ;
  return out;
}

std::string ProblemShape::validate() const {
  const ProblemShape s = resolved();
  constexpr std::int64_t kMax = (1ll << 31) - 1;
  std::ostringstream why;
  if (s.batch < 1 || s.batch > 65535)
    why << "batch " << s.batch << " is not in [1, 65535]; ";
  if (s.heads < 1 || s.heads > 65535)
    why << "heads " << s.heads << " is not in [1, 65535]; ";
  if (s.kvHeads < 1 || s.kvHeads > s.heads || s.heads % s.kvHeads != 0)
    why << "kv_heads " << s.kvHeads << " does not divide heads " << s.heads
        << "; ";
  if (s.seqQ < 1 || s.seqQ > kMax)
    why << "seq_q " << s.seqQ << " is not in [1, 2^31); ";
  if (s.seqK < 1 || s.seqK > kMax)
    why << "seq_k " << s.seqK << " is not in [1, 2^31); ";
  std::string text = why.str();
  if (!text.empty())
    text.resize(text.size() - 2);
  return text;
}

std::int64_t LayoutTables::nonEmptyTiles(std::int32_t layout) const {
  const std::int64_t first = std::int64_t{layout} * (numRows + 1);
  if (form == Form::BSR)
    return bsrRowPtr[first + numRows] - bsrRowPtr[first];
  std::int64_t tiles = 0;
  for (std::int32_t r = rowOffsets[first]; r < rowOffsets[first + numRows]; ++r)
    tiles += runs[3 * r + 1] - runs[3 * r];
  return tiles;
}

std::size_t LayoutTables::bytes() const {
  return 4 * (headToLayout.size() + rowOffsets.size() + runs.size() +
              bsrRowPtr.size() + bsrColIdx.size()) +
         bsrIsFull.size();
}

std::string LayoutTables::validate(std::int64_t heads) const {
  std::ostringstream why;
  if (numLayouts < 1 || numRows < 1 || numCols < 1)
    return "the layout has no layouts, rows or columns";
  if (static_cast<std::int64_t>(headToLayout.size()) != heads)
    return "head_to_layout has " + std::to_string(headToLayout.size()) +
           " entries for " + std::to_string(heads) + " heads";
  for (std::size_t h = 0; h < headToLayout.size(); ++h)
    if (headToLayout[h] < 0 || headToLayout[h] >= numLayouts)
      return "head " + std::to_string(h) + " names layout " +
             std::to_string(headToLayout[h]) + " of " +
             std::to_string(numLayouts);
  const std::size_t rows = static_cast<std::size_t>(numLayouts) * (numRows + 1);
  const bool isRuns = form == Form::Runs;
  const std::vector<std::int32_t> &offsets = isRuns ? rowOffsets : bsrRowPtr;
  const std::int64_t entries =
      isRuns ? static_cast<std::int64_t>(runs.size() / 3)
             : static_cast<std::int64_t>(bsrColIdx.size());
  if (offsets.size() != rows)
    return "row offsets have " + std::to_string(offsets.size()) +
           " entries, expected " + std::to_string(rows);
  if (isRuns && runs.size() % 3 != 0)
    return "runs are not {begin, end, kind} triples";
  if (!isRuns && bsrIsFull.size() != bsrColIdx.size())
    return "BSR column and kind tables differ in length";
  for (std::int32_t l = 0; l < numLayouts; ++l)
    for (std::int32_t r = 0; r < numRows; ++r) {
      const std::size_t slot = static_cast<std::size_t>(l) * (numRows + 1) + r;
      const std::int32_t begin = offsets[slot], end = offsets[slot + 1];
      if (begin < 0 || begin > end || end > entries)
        return "layout " + std::to_string(l) + " row " + std::to_string(r) +
               ": entries [" + std::to_string(begin) + ", " +
               std::to_string(end) + ") outside the table";
      std::int32_t previousEnd = 0;
      for (std::int32_t i = begin; i < end; ++i) {
        std::int32_t first, last;
        if (isRuns) {
          first = runs[3 * i];
          last = runs[3 * i + 1];
          if (runs[3 * i + 2] != kTilePartial && runs[3 * i + 2] != kTileFull)
            return "run " + std::to_string(i) + " has kind " +
                   std::to_string(runs[3 * i + 2]);
        } else {
          first = bsrColIdx[i];
          last = first + 1;
        }
        if (first < previousEnd || first >= last || last > numCols)
          return "layout " + std::to_string(l) + " row " + std::to_string(r) +
                 ": columns [" + std::to_string(first) + ", " +
                 std::to_string(last) + ") out of order or outside [0, " +
                 std::to_string(numCols) + ")";
        previousEnd = last;
      }
    }
  return {};
}

std::string ScheduleTables::validate(const ProblemShape &shape,
                                     const LayoutTables &layout) const {
  auto at = [](std::int64_t i) { return "work item " + std::to_string(i); };
  if (numCtas < 1 || ctaOffsets.size() != std::size_t(numCtas) + 1)
    return "the schedule needs num_ctas >= 1 and num_ctas + 1 CTA offsets";
  if (items.size() % kItemFields || combines.size() % kCombineFields)
    return "the schedule's records are not whole";
  if (ctaOffsets.front() != 0 || ctaOffsets.back() != numItems() ||
      !std::is_sorted(ctaOffsets.begin(), ctaOffsets.end()))
    return "the CTA offsets do not cover the work items in order";
  const std::int64_t rows = layout.numRows, cols = layout.numCols;
  const std::int64_t allRows = shape.batch * shape.heads * rows;
  // Checked before anything is sized by them (a damaged bundle).
  if (numItems() < allRows)
    return "the work items cannot cover every row";
  if (numSlots < 0 || numSlots > numItems())
    return "more workspace slots than work items";
  // Every record in range, then per row: one whole item [0, cols), or the
  // pieces 0 .. n-1 of one split, chaining [0, cols) without gaps.
  std::vector<std::int64_t> order(static_cast<std::size_t>(numItems()));
  auto rowOf = [&](const std::int32_t *w) {
    return (std::int64_t{w[0]} * shape.heads + w[1]) * rows + w[2];
  };
  for (std::int64_t i = 0; i < numItems(); ++i) {
    const std::int32_t *w = items.data() + i * kItemFields;
    const std::int32_t c0 = w[3], c1 = w[4], split = w[5], splits = w[6],
                       slot = w[7];
    if (w[0] < 0 || w[0] >= shape.batch || w[1] < 0 || w[1] >= shape.heads ||
        w[2] < 0 || w[2] >= rows)
      return at(i) + ": (batch, head, row) outside the problem";
    if (c0 < 0 || c0 >= c1 || c1 > cols)
      return at(i) + ": columns empty or outside [0, num_cols)";
    if (splits < 1 || split < 0 || split >= splits ||
        (splits == 1) != (slot == -1) || slot < -1 || slot >= numSlots)
      return at(i) + ": bad split, split count or slot";
    order[static_cast<std::size_t>(i)] = i;
  }
  auto item = [&](std::int64_t i) { return items.data() + i * kItemFields; };
  std::sort(order.begin(), order.end(), [&](std::int64_t x, std::int64_t y) {
    const std::int64_t rx = rowOf(item(x)), ry = rowOf(item(y));
    return rx != ry ? rx < ry : item(x)[5] < item(y)[5];
  });
  std::vector<std::int64_t> slotRow(static_cast<std::size_t>(numSlots), -1);
  std::int64_t expectedRow = 0;
  for (std::size_t g = 0; g < order.size();) {
    const std::int32_t *first = item(order[g]);
    const std::int64_t row = rowOf(first);
    if (row != expectedRow)
      return "row " + std::to_string(expectedRow) +
             " (flattened batch, head, row) has no work item, or two";
    const std::int32_t splits = first[6];
    std::int32_t end = 0;
    for (std::int32_t j = 0; j < splits; ++j, ++g) {
      if (g >= order.size() || rowOf(item(order[g])) != row)
        return "row " + std::to_string(row) + " lacks pieces of its split";
      const std::int32_t *w = item(order[g]);
      if (w[5] != j || w[6] != splits || w[3] != end)
        return at(order[g]) + ": its row's pieces do not chain [0, num_cols)";
      end = w[4];
      if (w[7] >= 0) {
        if (slotRow[static_cast<std::size_t>(w[7])] != -1)
          return at(order[g]) + ": slot " + std::to_string(w[7]) +
                 " used twice";
        slotRow[static_cast<std::size_t>(w[7])] = row;
      }
    }
    if (end != cols)
      return "the work items of row " + std::to_string(row) + " cover " +
             std::to_string(end) + " of " + std::to_string(cols) + " columns";
    if (g < order.size() && rowOf(item(order[g])) == row)
      return "row " + std::to_string(row) + " has more than one work item";
    ++expectedRow;
  }
  if (expectedRow != allRows)
    return "the work items cover " + std::to_string(expectedRow) + " of " +
           std::to_string(allRows) + " rows";
  std::vector<bool> merged(static_cast<std::size_t>(numSlots), false);
  std::vector<bool> combinedRow(static_cast<std::size_t>(allRows), false);
  for (std::int64_t i = 0; i < numCombines(); ++i) {
    const std::int32_t *c = combines.data() + i * kCombineFields;
    const std::string which = "combine " + std::to_string(i);
    if (c[0] < 0 || c[0] >= shape.batch || c[1] < 0 || c[1] >= shape.heads ||
        c[2] < 0 || c[2] >= rows)
      return which + ": (batch, head, row) outside the problem";
    if (c[3] < 0 || c[4] < 2 || c[4] > numSlots - c[3])
      return which + ": slots outside the workspace";
    const std::int64_t row = rowOf(c);
    if (combinedRow[static_cast<std::size_t>(row)])
      return which + ": its row is combined twice";
    combinedRow[static_cast<std::size_t>(row)] = true;
    for (std::int32_t s = c[3]; s < c[3] + c[4]; ++s) {
      if (slotRow[static_cast<std::size_t>(s)] != row)
        return which + ": slot " + std::to_string(s) +
               " is not a piece of its row";
      merged[static_cast<std::size_t>(s)] = true;
    }
  }
  if (std::find(merged.begin(), merged.end(), false) != merged.end())
    return "a workspace slot is never combined";
  return {};
}

double KernelPlan::computedFlops() const { return computedFlops(layout); }

double KernelPlan::computedFlops(const LayoutTables &l) const {
  // Elements of the computed tiles inside the problem (the last row and
  // column of tiles are clipped to seq_q and seq_k).
  const jit::TileConfig t = spec.resolvedTiles();
  auto columns = [&](std::int64_t begin, std::int64_t end) {
    return std::min(end * t.blockN, shape.seqK) - begin * t.blockN;
  };
  std::vector<double> perLayout(static_cast<std::size_t>(l.numLayouts), 0.0);
  for (std::int32_t g = 0; g < l.numLayouts; ++g)
    for (std::int32_t r = 0; r < l.numRows; ++r) {
      const std::int64_t rows = std::min<std::int64_t>(
          t.blockM, shape.seqQ - std::int64_t{r} * t.blockM);
      const std::size_t slot =
          static_cast<std::size_t>(g) * (l.numRows + 1) + r;
      std::int64_t cols = 0;
      if (l.form == LayoutTables::Form::Runs) {
        for (std::int32_t i = l.rowOffsets[slot]; i < l.rowOffsets[slot + 1];
             ++i)
          cols += columns(l.runs[3 * i], l.runs[3 * i + 1]);
      } else {
        for (std::int32_t i = l.bsrRowPtr[slot]; i < l.bsrRowPtr[slot + 1]; ++i)
          cols += columns(l.bsrColIdx[i], l.bsrColIdx[i] + 1);
      }
      perLayout[static_cast<std::size_t>(g)] +=
          static_cast<double>(rows * cols);
    }
  double elements = 0;
  for (std::int32_t g : l.headToLayout)
    elements += perLayout[static_cast<std::size_t>(g)];
  return 4.0 * spec.headDim * elements * static_cast<double>(shape.batch);
}

double KernelPlan::denseFlops() const {
  return 4.0 * static_cast<double>(shape.seqQ) *
         static_cast<double>(shape.seqK) * spec.headDim *
         static_cast<double>(shape.heads * shape.batch);
}

std::string KernelPlan::validate() const {
  if (std::string why = shape.validate(); !why.empty())
    return "shape: " + why;
  if (std::string why = spec.validate(); !why.empty())
    return "kernel: " + why;
  const jit::TileConfig t = spec.resolvedTiles();
  const std::int64_t qTiles = (shape.seqQ + t.blockM - 1) / t.blockM;
  const std::int64_t kTiles = (shape.seqK + t.blockN - 1) / t.blockN;
  if (layout.numRows != qTiles || layout.numCols != kTiles)
    return "layout: " + std::to_string(layout.numRows) + " x " +
           std::to_string(layout.numCols) + " tiles, the shape and tiles " +
           "need " + std::to_string(qTiles) + " x " + std::to_string(kTiles);
  if (std::string why = layout.validate(shape.heads); !why.empty())
    return "layout: " + why;
  if (std::string why = schedule.validate(shape, layout); !why.empty())
    return "schedule: " + why;
  if (usesSegments &&
      runTimeMasks.size() != static_cast<std::size_t>(layout.numLayouts))
    return "a segment pattern needs one run-time mask per layout";
  if (transposed.numLayouts == 0)
    return {}; // a forward-only plan
  if (transposed.numRows != kTiles || transposed.numCols != qTiles ||
      transposed.numLayouts != layout.numLayouts ||
      transposed.headToLayout != layout.headToLayout)
    return "transposed layout: " + std::to_string(transposed.numRows) + " x " +
           std::to_string(transposed.numCols) + " tiles of " +
           std::to_string(transposed.numLayouts) +
           " layouts does not transpose the layout";
  if (std::string why = transposed.validate(shape.heads); !why.empty())
    return "transposed layout: " + why;
  return {};
}

std::string KernelPlan::validateBackward() const {
  if (transposed.numLayouts == 0)
    return "the plan has no transposed layout";
  return spec.validate(jit::Pass::Backward);
}

} // namespace lace
