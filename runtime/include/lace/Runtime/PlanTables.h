//===- PlanTables.h - The layout library's results as a plan's tables -----===//
//
// One conversion, used by the compiler (tables from the layout pipeline)
// and by the runtime (tables of packed documents, built per call):
// BlockLayouts into the kernel's LayoutTables in the smaller form, and a
// layout::Schedule into the persistent kernel's work list.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_PLANTABLES_H
#define LACE_RUNTIME_PLANTABLES_H

#include "lace/Layout/BlockLayout.h"
#include "lace/Layout/Schedule.h"
#include "lace/Runtime/KernelPlan.h"

#include <vector>

namespace lace {

/// `layouts` (all of one grid) in the form (runs or BSR) with fewer bytes
/// over all of them; head h reads layouts[headToLayout[h]].
LayoutTables layoutTables(const std::vector<layout::BlockLayout> &layouts,
                          std::vector<std::int32_t> headToLayout);

/// Layout `index` of `tables` read back.
layout::BlockLayout blockLayout(const LayoutTables &tables, std::int32_t index);

/// The work list of `schedule`, CTA by CTA.
ScheduleTables scheduleTables(const layout::Schedule &schedule);

/// The schedule lace-schedule builds for `tables` over `batch` entries:
/// `numCtas` persistent CTAs, rows split above `splitFactor` x the mean
/// CTA load (0: never).
ScheduleTables scheduleFor(const LayoutTables &tables, std::int64_t batch,
                           int numCtas, double splitFactor = 1.0);

} // namespace lace

#endif // LACE_RUNTIME_PLANTABLES_H
