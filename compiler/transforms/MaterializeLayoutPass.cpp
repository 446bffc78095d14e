//===- MaterializeLayoutPass.cpp - lace-materialize-layout ----------------===//
#include "lace/Transforms/LacePasses.h"
#include "lace/Transforms/LayoutTables.h"

namespace lace {
#define GEN_PASS_DEF_LACEMATERIALIZELAYOUT
#include "lace/Transforms/LacePasses.h.inc"
} // namespace lace

using namespace mlir;
using namespace lace;

namespace {

struct LaceMaterializeLayoutPass
    : public lace::impl::LaceMaterializeLayoutBase<LaceMaterializeLayoutPass> {
  using LaceMaterializeLayoutBase::LaceMaterializeLayoutBase;

  void runOnOperation() override {
    OpBuilder builder(&getContext());
    for (LayoutOp op : getOperation().getOps<LayoutOp>()) {
      layout::BlockLayout blocks = decodeLayout(op);
      // Resource names are hints: the blob manager makes them unique.
      std::string prefix = op.getSymName().str() + ".";
      SmallVector<NamedAttribute> tables;
      if (layout::chooseForm(blocks) == layout::LayoutForm::Runs) {
        ++numRuns;
        op.setForm("runs");
        tables = runTables(builder, op.getSymName(), "", blocks,
                           resourceThreshold);
        tableBytes += blocks.bytes();
      } else {
        ++numBSR;
        op.setForm("bsr");
        layout::BSR bsr = blocks.toBSR();
        std::vector<int32_t> kinds;
        kinds.reserve(bsr.isFull.size());
        for (uint8_t full : bsr.isFull)
          kinds.push_back(static_cast<int32_t>(full ? layout::BlockKind::Full
                                                    : layout::BlockKind::Partial));
        for (auto [name, values] :
             {std::pair<StringRef, ArrayRef<int32_t>>{"row_offsets", bsr.rowPtr},
              {"columns", bsr.colIdx},
              {"kinds", kinds}})
          tables.push_back(builder.getNamedAttr(
              name, makeTable(builder, prefix + name.str(), values,
                              resourceThreshold)));
        tableBytes += bsr.bytes();
      }
      if (transpose) {
        layout::BlockLayout transposed = blocks.transpose();
        llvm::append_range(tables,
                           runTables(builder, op.getSymName(), "t_",
                                     transposed, resourceThreshold));
        tableBytes += transposed.bytes();
      }
      op.setTablesAttr(builder.getDictionaryAttr(tables));
    }
  }
};

} // namespace
