//===- ClassifyBlocks.cpp - lace-classify-blocks --------------------------===//
#include "lace/Layout/Classify.h"
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
      if (usesSegments(pattern)) {
        pattern.emitRemark() << "layout of a segment mask is built at run "
                                "time from the segment ids";
        continue;
      }
      std::unique_ptr<layout::MaskNode> mask =
          maskFromIR(pattern, heads.asArrayRef().front(), shape.seqK);
      if (!mask)
        return signalPassFailure();
      layout::BlockLayout blocks = layout::classify(*mask, shape, tiles);
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
          builder.getDictionaryAttr(runTables(
              builder, pattern.getSymName(), "", blocks, kInlineTables)));
      // Also recorded on the op: Debian's release MLIR compiles pass
      // statistics out (NDEBUG), and tests and tools read these.
      op->setAttr("lace.fallback_tiles",
                  builder.getI64IntegerAttr(blocks.stats.fallbackBlocks));
      op->setAttr("lace.fallback_elements",
                  builder.getI64IntegerAttr(blocks.stats.fallbackElements));
    }
  }
};

} // namespace
