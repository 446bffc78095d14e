//===- SchedulePass.cpp - lace-schedule -----------------------------------===//
#include "lace/Layout/Schedule.h"
#include "lace/Transforms/LacePasses.h"
#include "lace/Transforms/LayoutTables.h"

namespace lace {
#define GEN_PASS_DEF_LACESCHEDULE
#include "lace/Transforms/LacePasses.h.inc"
} // namespace lace

using namespace mlir;
using namespace lace;

namespace {

/// Entries per work item in the `items` table.
constexpr size_t kItemFields = 8;
/// Entries per split row in the `combines` table.
constexpr size_t kCombineFields = 5;

struct LaceSchedulePass
    : public lace::impl::LaceScheduleBase<LaceSchedulePass> {
  using LaceScheduleBase::LaceScheduleBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto problem = module->getAttrOfType<DictionaryAttr>("lace.problem");
    if (!problem) {
      module.emitError() << "lace-schedule: expected a module specialised by "
                            "lace-specialize (no lace.problem)";
      return signalPassFailure();
    }
    if (numCtas < 1 || numCtas > (1 << 20)) {
      module.emitError() << "lace-schedule: expected num-ctas in [1, 2^20], "
                            "got "
                         << int64_t(numCtas);
      return signalPassFailure();
    }
    int64_t heads = cast<IntegerAttr>(problem.get("heads")).getInt();
    int64_t batch = cast<IntegerAttr>(problem.get("batch")).getInt();

    std::vector<layout::BlockLayout> layouts;
    std::vector<int> headToLayout(heads, -1);
    for (LayoutOp op : module.getOps<LayoutOp>()) {
      for (int64_t head : op.getHeads())
        headToLayout[head] = int(layouts.size());
      layouts.push_back(decodeLayout(op));
    }
    if (layouts.empty())
      return; // nothing classified (e.g. segment masks, built at run time)
    if (llvm::is_contained(headToLayout, -1)) {
      module.emitError() << "lace-schedule: some heads have no lace.layout";
      return signalPassFailure();
    }

    layout::ScheduleOptions options;
    options.splitRows = splitFactor > 0;
    options.splitAbove = splitFactor;
    layout::Schedule schedule = layout::buildSchedule(
        layouts, headToLayout, batch, int(numCtas), options);

    std::vector<int32_t> items;
    items.reserve(schedule.ctaItems.size() * kItemFields);
    for (int32_t index : schedule.ctaItems) {
      const layout::WorkItem &item = schedule.items[index];
      items.insert(items.end(),
                   {item.batch, item.head, item.row, item.colBegin, item.colEnd,
                    item.split, item.numSplits, item.slot});
    }
    std::vector<int32_t> combines;
    combines.reserve(schedule.splitRows.size() * kCombineFields);
    for (const layout::SplitRow &split : schedule.splitRows)
      combines.insert(combines.end(), {split.batch, split.head, split.row,
                                       split.firstSlot, split.numSplits});
    imbalancePermille = uint64_t(schedule.imbalanceAfter * 1000 + 0.5);
    unsplitImbalancePermille = uint64_t(schedule.imbalanceBefore * 1000 + 0.5);
    numItems = schedule.items.size();

    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    constexpr int64_t kResourceThreshold = 256;
    builder.create<ScheduleOp>(
        module.getLoc(), builder.getI64IntegerAttr(numCtas),
        builder.getF64FloatAttr(schedule.imbalanceAfter),
        builder.getF64FloatAttr(schedule.imbalanceBefore),
        builder.getDictionaryAttr(
            {builder.getNamedAttr("cta_offsets",
                                  makeTable(builder, "schedule.cta_offsets",
                                            schedule.ctaOffsets,
                                            kResourceThreshold)),
             builder.getNamedAttr("items",
                                  makeTable(builder, "schedule.items", items,
                                            kResourceThreshold)),
             builder.getNamedAttr("combines",
                                  makeTable(builder, "schedule.combines",
                                            combines, kResourceThreshold))}));
  }
};

} // namespace
