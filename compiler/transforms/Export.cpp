//===- Export.cpp - layouts and schedules as JSON -------------------------===//
#include "lace/Transforms/Export.h"

#include "lace/Transforms/LayoutTables.h"

#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace lace;

namespace {

void writeArray(llvm::json::OStream &json, llvm::StringRef key,
                const std::vector<int32_t> &values) {
  json.attributeArray(key, [&] {
    for (int32_t value : values)
      json.value(value);
  });
}

void writeProblem(llvm::json::OStream &json, ModuleOp module) {
  auto problem = module->getAttrOfType<DictionaryAttr>("lace.problem");
  json.attributeObject("problem", [&] {
    if (!problem)
      return;
    for (NamedAttribute entry : problem)
      if (auto value = dyn_cast<IntegerAttr>(entry.getValue()))
        json.attribute(entry.getName().getValue(), value.getInt());
  });
}

void writeRuns(llvm::json::OStream &json, const layout::BlockLayout &blocks) {
  writeArray(json, "row_offsets", blocks.rowOffsets);
  json.attributeArray("runs", [&] {
    for (const layout::Run &run : blocks.runs)
      json.array([&] {
        json.value(run.begin);
        json.value(run.end);
        json.value(run.kind == layout::BlockKind::Full ? "full" : "partial");
      });
  });
}

} // namespace

void lace::writeLayoutJson(ModuleOp module, llvm::raw_ostream &os) {
  llvm::json::OStream json(os);
  json.object([&] {
    json.attribute("format", "lace.layout");
    json.attribute("version", kLayoutJsonVersion);
    writeProblem(json, module);
    json.attributeArray("layouts", [&] {
      for (LayoutOp op : module.getOps<LayoutOp>()) {
        layout::BlockLayout blocks = decodeLayout(op);
        json.object([&] {
          json.attribute("name", op.getSymName());
          json.attribute("pattern", op.getSource());
          json.attributeArray("heads", [&] {
            for (int64_t head : op.getHeads())
              json.value(head);
          });
          json.attribute("rows", blocks.numRows);
          json.attribute("cols", blocks.numCols);
          json.attributeObject("tiles", [&] {
            json.attribute("full", blocks.numBlocks(layout::BlockKind::Full));
            json.attribute("partial",
                           blocks.numBlocks(layout::BlockKind::Partial));
            json.attribute("empty", blocks.numBlocks(layout::BlockKind::Empty));
          });
          json.attribute("form", op.getForm());
          if (op.getForm() == "runs") {
            writeRuns(json, blocks);
          } else {
            DictionaryAttr tables = op.getTables();
            writeArray(json, "row_offsets",
                       readTable(tables.get("row_offsets")));
            writeArray(json, "columns", readTable(tables.get("columns")));
            json.attributeArray("kinds", [&] {
              for (int32_t kind : readTable(tables.get("kinds")))
                json.value(kind == int32_t(layout::BlockKind::Full)
                               ? "full"
                               : "partial");
            });
          }
          if (std::optional<layout::BlockLayout> transposed =
                  decodeTransposed(op))
            json.attributeObject("transposed",
                                 [&] { writeRuns(json, *transposed); });
          // Segment masks: the tables above are the superset (every tile
          // Partial); each call's exact layout is classified from this
          // tree and its ids (lace/Layout/MaskText.h).
          if (auto mask = op->getAttrOfType<StringAttr>(kRunTimeMaskAttr))
            json.attribute("run_time_mask", mask.getValue());
        });
      }
    });
  });
  os << "\n";
}

void lace::writeScheduleJson(ModuleOp module, llvm::raw_ostream &os) {
  llvm::json::OStream json(os);
  json.object([&] {
    json.attribute("format", "lace.schedule");
    json.attribute("version", kLayoutJsonVersion);
    writeProblem(json, module);
    for (ScheduleOp op : module.getOps<ScheduleOp>()) {
      json.attributeObject("schedule", [&] {
        json.attribute("num_ctas", int64_t(op.getNumCtas()));
        json.attribute("imbalance", op.getImbalance().convertToDouble());
        json.attribute("imbalance_before_split",
                       op.getImbalanceBeforeSplit().convertToDouble());
        DictionaryAttr tables = op.getTables();
        writeArray(json, "cta_offsets", readTable(tables.get("cta_offsets")));
        auto records = [&](const char *name, size_t fields) {
          std::vector<int32_t> values = readTable(tables.get(name));
          json.attributeArray(name, [&] {
            for (size_t i = 0; i + fields <= values.size(); i += fields)
              json.array([&] {
                for (size_t j = 0; j < fields; ++j)
                  json.value(values[i + j]);
              });
          });
        };
        records("items", 8);
        records("combines", 5);
      });
    }
  });
  os << "\n";
}
