//===- ClassifyBlocksPass.cpp - lace-classify-blocks ----------------------===//
#include "lace/Layout/Classify.h"
#include "lace/Layout/MaskText.h"
#include "lace/Transforms/LacePasses.h"
#include "lace/Transforms/LayoutTables.h"
#include "lace/Transforms/MaskFromIR.h"

namespace lace {
#define GEN_PASS_DEF_LACECLASSIFYBLOCKS
#include "lace/Transforms/LacePasses.h.inc"
} // namespace lace

using namespace mlir;
using namespace lace;

namespace {

/// `mask` with every Segment node replaced by Full: a superset of its live
/// elements when segments only add to the mask (never under a complement or
/// on the right of a difference); null otherwise.
std::unique_ptr<layout::MaskNode>
segmentsAsFull(std::unique_ptr<layout::MaskNode> mask) {
  using Kind = layout::MaskNode::Kind;
  if (mask->kind == Kind::Segment)
    return layout::MaskNode::full();
  for (std::size_t i = 0; i < mask->children.size(); ++i) {
    const bool flips = mask->kind == Kind::Complement ||
                       (mask->kind == Kind::Difference && i == 1);
    if (!layout::hasSegment(*mask->children[i]))
      continue;
    if (flips)
      return nullptr;
    mask->children[i] = segmentsAsFull(std::move(mask->children[i]));
    if (!mask->children[i])
      return nullptr;
  }
  return mask;
}

/// The same non-empty tiles, every one Partial: the kernel then tests the
/// segment ids of each element.
layout::BlockLayout everyTilePartial(const layout::BlockLayout &blocks) {
  layout::BlockLayout out =
      layout::BlockLayout::start(blocks.numRows, blocks.numCols);
  for (std::int64_t row = 0; row < blocks.numRows; ++row) {
    for (std::int32_t i = blocks.rowOffsets[row];
         i < blocks.rowOffsets[row + 1]; ++i)
      out.appendRun(blocks.runs[i].begin, blocks.runs[i].end,
                    layout::BlockKind::Partial);
    out.finishRow();
  }
  out.stats = blocks.stats;
  return out;
}

/// Run-form tables are printed inline by this pass; lace-materialize-layout
/// decides what becomes a resource.
constexpr int64_t kInlineTables = std::numeric_limits<int64_t>::max();

struct LaceClassifyBlocksPass
    : public lace::impl::LaceClassifyBlocksBase<LaceClassifyBlocksPass> {
  using LaceClassifyBlocksBase::LaceClassifyBlocksBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto problem = module->getAttrOfType<DictionaryAttr>("lace.problem");
    if (!problem) {
      module.emitError() << "lace-classify-blocks: expected a module "
                            "specialised by lace-specialize (no lace.problem)";
      return signalPassFailure();
    }
    auto get = [&](StringRef key) {
      return cast<IntegerAttr>(problem.get(key)).getInt();
    };
    layout::Shape shape{get("seq_q"), get("seq_k")};
    layout::Tiles tiles{get("block_m"), get("block_n")};

    OpBuilder builder(module.getContext());
    for (PatternOp pattern :
         llvm::make_early_inc_range(module.getOps<PatternOp>())) {
      auto heads = pattern->getAttrOfType<DenseI64ArrayAttr>("lace.heads");
      if (!heads)
        continue;
      std::unique_ptr<layout::MaskNode> mask =
          maskFromIR(pattern, heads.asArrayRef().front(), shape.seqK);
      if (!mask)
        return signalPassFailure();
      // A segment mask's exact layout needs the ids of each call: the
      // runtime classifies the tree (kept as text) against them. The
      // tables built here are the superset every call can use without it.
      std::string runTimeMask;
      if (layout::hasSegment(*mask)) {
        runTimeMask = layout::printMask(*mask);
        std::unique_ptr<layout::MaskNode> superset =
            segmentsAsFull(std::move(mask));
        if (!superset) {
          pattern.emitError() << "a segment mask under a complement or on "
                                 "the right of a difference is not supported";
          return signalPassFailure();
        }
        mask = std::move(superset);
      }
      layout::BlockLayout blocks = layout::classify(*mask, shape, tiles);
      if (!runTimeMask.empty())
        blocks = everyTilePartial(blocks);
      numNonEmpty += blocks.numNonEmpty() * heads.size();
      numFull += blocks.numBlocks(layout::BlockKind::Full) * heads.size();
      numFallbackTiles += blocks.stats.fallbackBlocks;
      numFallbackElements += blocks.stats.fallbackElements;

      builder.setInsertionPointAfter(pattern);
      auto op = builder.create<LayoutOp>(
          pattern.getLoc(),
          builder.getStringAttr(pattern.getSymName() + "_layout"),
          FlatSymbolRefAttr::get(pattern.getSymNameAttr()), heads,
          builder.getStringAttr("runs"),
          builder.getI64IntegerAttr(blocks.numRows),
          builder.getI64IntegerAttr(blocks.numCols),
          builder.getDictionaryAttr(runTables(builder, pattern.getSymName(), "",
                                              blocks, kInlineTables)));
      // Also recorded on the op: Debian's release MLIR compiles pass
      // statistics out (NDEBUG), and tests and tools read these.
      op->setAttr("lace.fallback_tiles",
                  builder.getI64IntegerAttr(blocks.stats.fallbackBlocks));
      op->setAttr("lace.fallback_elements",
                  builder.getI64IntegerAttr(blocks.stats.fallbackElements));
      if (!runTimeMask.empty())
        op->setAttr(kRunTimeMaskAttr, builder.getStringAttr(runTimeMask));
    }
  }
};

} // namespace
