//===- PlanTables.cpp - Layouts and schedules as kernel tables ------------===//
#include "lace/Runtime/PlanTables.h"

namespace lace {

LayoutTables layoutTables(const std::vector<layout::BlockLayout> &layouts,
                          std::vector<std::int32_t> headToLayout) {
  LayoutTables tables;
  tables.headToLayout = std::move(headToLayout);
  if (layouts.empty())
    return tables;
  tables.numLayouts = static_cast<std::int32_t>(layouts.size());
  tables.numRows = static_cast<std::int32_t>(layouts.front().numRows);
  tables.numCols = static_cast<std::int32_t>(layouts.front().numCols);
  std::size_t runBytes = 0, bsrBytes = 0;
  std::vector<layout::BSR> bsrs;
  for (const layout::BlockLayout &l : layouts) {
    runBytes += l.rowOffsets.size() * 4 + l.runs.size() * 12;
    bsrs.push_back(l.toBSR());
    bsrBytes += bsrs.back().rowPtr.size() * 4 + bsrs.back().colIdx.size() * 5;
  }
  if (runBytes <= bsrBytes) {
    tables.form = LayoutTables::Form::Runs;
    for (const layout::BlockLayout &l : layouts) {
      const auto base = static_cast<std::int32_t>(tables.runs.size() / 3);
      for (std::int32_t offset : l.rowOffsets)
        tables.rowOffsets.push_back(base + offset);
      for (const layout::Run &run : l.runs)
        tables.runs.insert(
            tables.runs.end(),
            {run.begin, run.end, static_cast<std::int32_t>(run.kind)});
    }
    return tables;
  }
  tables.form = LayoutTables::Form::BSR;
  for (const layout::BSR &b : bsrs) {
    const auto base = static_cast<std::int32_t>(tables.bsrColIdx.size());
    for (std::int32_t offset : b.rowPtr)
      tables.bsrRowPtr.push_back(base + offset);
    tables.bsrColIdx.insert(tables.bsrColIdx.end(), b.colIdx.begin(),
                            b.colIdx.end());
    tables.bsrIsFull.insert(tables.bsrIsFull.end(), b.isFull.begin(),
                            b.isFull.end());
  }
  return tables;
}

layout::BlockLayout blockLayout(const LayoutTables &tables,
                                std::int32_t index) {
  layout::BlockLayout l =
      layout::BlockLayout::start(tables.numRows, tables.numCols);
  const std::size_t first =
      static_cast<std::size_t>(index) * (tables.numRows + 1);
  for (std::int32_t row = 0; row < tables.numRows; ++row) {
    const std::size_t slot = first + static_cast<std::size_t>(row);
    if (tables.form == LayoutTables::Form::Runs) {
      for (std::int32_t i = tables.rowOffsets[slot];
           i < tables.rowOffsets[slot + 1]; ++i)
        l.appendRun(tables.runs[3 * std::size_t(i)],
                    tables.runs[3 * std::size_t(i) + 1],
                    static_cast<layout::BlockKind>(
                        tables.runs[3 * std::size_t(i) + 2]));
    } else {
      for (std::int32_t i = tables.bsrRowPtr[slot];
           i < tables.bsrRowPtr[slot + 1]; ++i)
        l.appendRun(tables.bsrColIdx[std::size_t(i)],
                    tables.bsrColIdx[std::size_t(i)] + 1,
                    tables.bsrIsFull[std::size_t(i)]
                        ? layout::BlockKind::Full
                        : layout::BlockKind::Partial);
    }
    l.finishRow();
  }
  return l;
}

ScheduleTables scheduleTables(const layout::Schedule &schedule) {
  ScheduleTables out;
  out.numCtas = static_cast<std::int32_t>(schedule.ctaOffsets.size()) - 1;
  out.ctaOffsets = schedule.ctaOffsets;
  out.items.reserve(schedule.ctaItems.size() * ScheduleTables::kItemFields);
  for (std::int32_t index : schedule.ctaItems) {
    const layout::WorkItem &w = schedule.items[static_cast<std::size_t>(index)];
    out.items.insert(out.items.end(), {w.batch, w.head, w.row, w.colBegin,
                                       w.colEnd, w.split, w.numSplits, w.slot});
  }
  for (const layout::SplitRow &split : schedule.splitRows)
    out.combines.insert(out.combines.end(), {split.batch, split.head, split.row,
                                             split.firstSlot, split.numSplits});
  out.numSlots = schedule.numSlots;
  out.imbalance = schedule.imbalanceAfter;
  out.imbalanceBeforeSplit = schedule.imbalanceBefore;
  return out;
}

ScheduleTables scheduleFor(const LayoutTables &tables, std::int64_t batch,
                           int numCtas, double splitFactor) {
  std::vector<layout::BlockLayout> layouts;
  for (std::int32_t i = 0; i < tables.numLayouts; ++i)
    layouts.push_back(blockLayout(tables, i));
  std::vector<int> headToLayout(tables.headToLayout.begin(),
                                tables.headToLayout.end());
  layout::ScheduleOptions options;
  options.splitRows = splitFactor > 0;
  options.splitAbove = splitFactor;
  return scheduleTables(
      layout::buildSchedule(layouts, headToLayout, batch, numCtas, options));
}

} // namespace lace
