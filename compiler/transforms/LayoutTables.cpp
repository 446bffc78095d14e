//===- LayoutTables.cpp - lace.layout tables <-> BlockLayout --------------===//
#include "lace/Transforms/LayoutTables.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace lace;
using layout::BlockKind;
using layout::BlockLayout;

ElementsAttr lace::makeTable(Builder &builder, StringRef name,
                             ArrayRef<int32_t> values,
                             int64_t resourceThreshold) {
  auto type = RankedTensorType::get({int64_t(values.size())},
                                    builder.getI32Type());
  if (int64_t(values.size()) <= resourceThreshold)
    return DenseIntElementsAttr::get(type, values);
  return cast<ElementsAttr>(DenseI32ResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(values)));
}

std::vector<int32_t> lace::readTable(Attribute table) {
  if (auto dense = dyn_cast<DenseIntElementsAttr>(table))
  {
    auto values = dense.getValues<int32_t>();
    return std::vector<int32_t>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseI32ResourceElementsAttr>(table))
    if (std::optional<ArrayRef<int32_t>> values = resource.tryGetAsArrayRef())
      return std::vector<int32_t>(values->begin(), values->end());
  return {};
}

SmallVector<NamedAttribute>
lace::runTables(Builder &builder, StringRef owner, StringRef key,
                const BlockLayout &layout, int64_t resourceThreshold) {
  std::vector<int32_t> runs;
  runs.reserve(layout.runs.size() * 3);
  for (const layout::Run &run : layout.runs) {
    runs.push_back(run.begin);
    runs.push_back(run.end);
    runs.push_back(static_cast<int32_t>(run.kind));
  }
  std::string offsets = (key + "row_offsets").str();
  std::string runsName = (key + "runs").str();
  return {builder.getNamedAttr(
              offsets, makeTable(builder, (owner + "." + offsets).str(),
                                 layout.rowOffsets, resourceThreshold)),
          builder.getNamedAttr(
              runsName, makeTable(builder, (owner + "." + runsName).str(),
                                  runs, resourceThreshold))};
}

static BlockLayout fromRuns(int64_t numRows, int64_t numCols,
                            const std::vector<int32_t> &offsets,
                            const std::vector<int32_t> &runs) {
  BlockLayout layout;
  layout.numRows = numRows;
  layout.numCols = numCols;
  layout.rowOffsets = offsets;
  for (size_t i = 0; i + 2 < runs.size(); i += 3)
    layout.runs.push_back(
        {runs[i], runs[i + 1], static_cast<BlockKind>(runs[i + 2])});
  return layout;
}

BlockLayout lace::decodeLayout(LayoutOp op) {
  DictionaryAttr tables = op.getTables();
  int64_t numRows = op.getNumRows(), numCols = op.getNumCols();
  std::vector<int32_t> offsets = readTable(tables.get("row_offsets"));
  if (op.getForm() == "runs")
    return fromRuns(numRows, numCols, offsets, readTable(tables.get("runs")));
  std::vector<int32_t> columns = readTable(tables.get("columns"));
  std::vector<int32_t> kinds = readTable(tables.get("kinds"));
  BlockLayout layout = BlockLayout::start(numRows, numCols);
  for (int64_t row = 0; row < numRows; ++row) {
    for (int32_t i = offsets[row]; i < offsets[row + 1]; ++i)
      layout.appendRun(columns[i], columns[i] + 1,
                       static_cast<BlockKind>(kinds[i]));
    layout.finishRow();
  }
  return layout;
}

std::optional<BlockLayout> lace::decodeTransposed(LayoutOp op) {
  DictionaryAttr tables = op.getTables();
  if (!tables.get("t_row_offsets"))
    return std::nullopt;
  return fromRuns(op.getNumCols(), op.getNumRows(),
                  readTable(tables.get("t_row_offsets")),
                  readTable(tables.get("t_runs")));
}
