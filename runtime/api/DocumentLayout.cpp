//===- DocumentLayout.cpp - Exact layouts of packed documents per call ----===//
#include "lace/Runtime/Runtime.h"

#include "lace/Layout/Classify.h"
#include "lace/Layout/MaskText.h"
#include "lace/Runtime/PlanTables.h"

#include <algorithm>
#include <chrono>

namespace lace {

namespace {

std::int64_t tilesOver(const LayoutTables &tables, std::int64_t batch) {
  std::int64_t tiles = 0;
  for (std::int32_t layout : tables.headToLayout)
    tiles += tables.nonEmptyTiles(layout);
  return tiles * batch;
}

/// Random nodes draw blocks from seq_k: a tree from another shape would
/// classify keys that do not exist.
bool randomNodesSee(const layout::MaskNode &mask, std::int64_t seqK) {
  if (mask.kind == layout::MaskNode::Kind::Random && mask.seqK != seqK)
    return false;
  for (const auto &child : mask.children)
    if (!randomNodesSee(*child, seqK))
      return false;
  return true;
}

} // namespace

Expected<DocumentLayout::Tables>
DocumentLayout::build(const KernelPlan &plan,
                      std::span<const std::int32_t> qIds,
                      std::span<const std::int32_t> kIds) {
  const ProblemShape &shape = plan.shape;
  if (!plan.usesSegments)
    return Error("documents: " + plan.pattern +
                 " does not use segment ids (no `segment` in its mask)");
  if (plan.runTimeMasks.size() !=
      static_cast<std::size_t>(plan.layout.numLayouts))
    return Error("documents: the plan of " + plan.pattern +
                 " carries no run-time mask for each layout (plan it again)");
  if (kIds.empty() && shape.seqK != shape.seqQ)
    return Error("documents: seq_k differs from seq_q: pass the key ids too");
  if (static_cast<std::int64_t>(qIds.size()) != shape.seqQ)
    return Error("documents: " + std::to_string(qIds.size()) +
                 " query ids for seq_q " + std::to_string(shape.seqQ));
  if (!kIds.empty() && static_cast<std::int64_t>(kIds.size()) != shape.seqK)
    return Error("documents: " + std::to_string(kIds.size()) +
                 " key ids for seq_k " + std::to_string(shape.seqK));

  const auto start = std::chrono::steady_clock::now();
  Tables out;
  out.qIds.assign(qIds.begin(), qIds.end());
  out.kIds.assign(kIds.begin(), kIds.end());
  SegmentIds ids;
  ids.q.assign(qIds.begin(), qIds.end());
  ids.k.assign(kIds.begin(), kIds.end());
  const jit::TileConfig tiles = plan.spec.resolvedTiles();
  std::vector<layout::BlockLayout> layouts, transposes;
  for (const std::string &text : plan.runTimeMasks) {
    layout::ParsedMask mask = layout::parseMask(text);
    if (!mask.mask)
      return Error("documents: the plan's run-time mask is damaged: " +
                   mask.error);
    if (!randomNodesSee(*mask.mask, shape.seqK))
      return Error("documents: the plan's run-time mask does not match its "
                   "shape (a random node for another seq_k)");
    layouts.push_back(layout::classify(*mask.mask, {shape.seqQ, shape.seqK},
                                       {tiles.blockM, tiles.blockN}, &ids));
    if (plan.transposed.numLayouts > 0)
      transposes.push_back(layouts.back().transpose());
  }
  out.layout = layoutTables(layouts, plan.layout.headToLayout);
  if (!transposes.empty())
    out.transposed = layoutTables(transposes, plan.layout.headToLayout);
  out.schedule = scheduleFor(out.layout, shape.batch, plan.schedule.numCtas,
                             plan.schedule.splitFactor);
  out.buildSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  out.computedTiles = tilesOver(out.layout, shape.batch);
  out.supersetTiles = tilesOver(plan.layout, shape.batch);
  out.computedFlops = plan.computedFlops(out.layout);
  return out;
}

Expected<std::shared_ptr<const DocumentLayout>>
Kernel::varlen(std::span<const std::int64_t> cuSeqlensQ,
               std::span<const std::int64_t> cuSeqlensK) const {
  auto expand = [](std::span<const std::int64_t> cu, std::int64_t seq,
                   const char *which) -> Expected<std::vector<std::int32_t>> {
    if (cu.size() < 2 || cu.front() != 0 || cu.back() != seq ||
        !std::is_sorted(cu.begin(), cu.end()))
      return Error(std::string("varlen: cu_seqlens_") + which +
                   " must start at 0, never decrease and end at seq_" + which +
                   " (" + std::to_string(seq) + ")");
    std::vector<std::int32_t> ids(static_cast<std::size_t>(seq));
    for (std::size_t s = 0; s + 1 < cu.size(); ++s)
      std::fill(ids.begin() + cu[s], ids.begin() + cu[s + 1],
                static_cast<std::int32_t>(s));
    return ids;
  };
  auto q = expand(cuSeqlensQ, plan_.shape.seqQ, "q");
  if (!q)
    return std::move(q).error();
  if (cuSeqlensK.empty())
    return documents(*q);
  if (cuSeqlensK.size() != cuSeqlensQ.size())
    return Error("varlen: cu_seqlens_q and cu_seqlens_k must name the same "
                 "number of sequences");
  auto k = expand(cuSeqlensK, plan_.shape.seqK, "k");
  if (!k)
    return std::move(k).error();
  return documents(*q, *k);
}

Expected<std::shared_ptr<const DocumentLayout>>
Kernel::documentsFor(const AttentionInputs &inputs) const {
  if (!plan_.usesSegments)
    return std::shared_ptr<const DocumentLayout>();
  return documents(inputs.segmentQ, inputs.segmentK);
}

} // namespace lace
