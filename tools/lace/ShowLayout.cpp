//===- ShowLayout.cpp - the block-layout half of `lace show` --------------===//
#include "ShowLayout.h"

#include "lace/Layout/Classify.h"
#include "lace/Layout/FieldOfView.h"
#include "lace/Layout/LayoutPicture.h"
#include "lace/Layout/MaskText.h"
#include "lace/Lowering/LowerToLace.h"
#include "lace/Transforms/LayoutTables.h"

#include "mlir/IR/MLIRContext.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace lace::tool {

using layout::BlockKind;
using layout::BlockLayout;
using layout::LayoutPanel;
using layout::renderAscii;
using layout::renderSvg;

bool parseLayoutShowOption(std::span<const std::string> args, std::size_t &i,
                           LayoutShowOptions &options, std::string &error) {
  if (takeValue(args, i, "--svg", options.svgPath))
    return true;
  std::string flag = args[i].substr(0, args[i].find('='));
  if (flag == "--seq" || flag == "--seq-k" || flag == "--heads")
    return false; // show parses these itself
  return parseLayoutOption(args, i, options.shape, error);
}

namespace {

std::string headList(llvm::ArrayRef<int64_t> heads) {
  std::string text;
  for (size_t i = 0; i < heads.size(); ++i) {
    size_t j = i;
    while (j + 1 < heads.size() && heads[j + 1] == heads[j] + 1)
      ++j;
    text += (text.empty() ? "" : ",") + std::to_string(heads[i]);
    if (j > i)
      text += "-" + std::to_string(heads[j]);
    i = j;
  }
  return text;
}

void printLayout(const BlockLayout &blocks, const std::string &title,
                 const LayoutOptions &shape, llvm::StringRef form) {
  int64_t full = blocks.numBlocks(BlockKind::Full);
  int64_t partial = blocks.numBlocks(BlockKind::Partial);
  int64_t total = blocks.numRows * blocks.numCols;
  int64_t seqK = shape.seqK ? shape.seqK : shape.seqQ;
  // Computed work: every non-empty tile costs a whole tile, clipped to the
  // sequence at the edges; dense attention computes seq_q x seq_k.
  double computed = 0;
  for (int64_t row = 0; row < blocks.numRows; ++row) {
    int64_t rows = std::min(shape.blockM, shape.seqQ - row * shape.blockM);
    for (int32_t i = blocks.rowOffsets[row]; i < blocks.rowOffsets[row + 1];
         ++i)
      for (int32_t col = blocks.runs[i].begin; col < blocks.runs[i].end; ++col)
        computed += double(rows) *
                    double(std::min(shape.blockN, seqK - col * shape.blockN));
  }
  int64_t minWork = INT64_MAX, maxWork = 0, sumWork = 0;
  for (int64_t row = 0; row < blocks.numRows; ++row) {
    int64_t work = blocks.rowBlocks(row, BlockKind::Full) +
                   blocks.rowBlocks(row, BlockKind::Partial);
    minWork = std::min(minWork, work);
    maxWork = std::max(maxWork, work);
    sumWork += work;
  }
  char line[512];
  std::snprintf(
      line, sizeof line,
      "%s: %lld x %lld tiles of %lld x %lld, form %s, %zu bytes\n"
      "  tiles: %lld full, %lld partial, %lld empty (density %.1f%%)\n"
      "  computed FLOPs: %.1f%% of dense\n"
      "  work per q-tile row: min %lld, mean %.1f, max %lld tiles\n",
      title.c_str(), (long long)blocks.numRows, (long long)blocks.numCols,
      (long long)shape.blockM, (long long)shape.blockN, form.str().c_str(),
      form == "bsr" ? blocks.toBSR().bytes() : blocks.bytes(), (long long)full,
      (long long)partial, (long long)(total - full - partial),
      total ? 100.0 * double(full + partial) / double(total) : 0.0,
      100.0 * computed / (double(shape.seqQ) * double(seqK)),
      (long long)(blocks.numRows ? minWork : 0),
      blocks.numRows ? double(sumWork) / double(blocks.numRows) : 0.0,
      (long long)maxWork);
  std::cout << line;
  layout::FieldOfView view = layout::fieldOfView(blocks);
  std::cout << "  field of view: "
            << (!view.valid      ? std::string("n/a (seq_q != seq_k)")
                : view.reachable ? std::to_string(view.layers) + " layer" +
                                       (view.layers == 1 ? "" : "s")
                                 : std::string("never (some keys are never "
                                               "reached)"))
            << "\n"
            << renderAscii(blocks);
}

} // namespace

int showLayout(Session &session, const frontend::Pattern &selected,
               const PatternOptions &pattern,
               const LayoutShowOptions &options) {
  PatternOptions one = pattern;
  one.pattern = selected.name;

  mlir::MLIRContext context;
  const frontend::Pattern *patterns[] = {&selected};
  mlir::OwningOpRef<mlir::ModuleOp> module =
      lowerToLace(context, session.sources(), patterns, pattern.params);
  if (!module || mlir::failed(runLayoutPipeline(
                     *module, options.shape.pipelineOptions(one))))
    return 1;

  std::vector<BlockLayout> layouts;
  std::vector<LayoutPanel> panels;
  std::vector<std::string> titles;
  for (LayoutOp op : module->getOps<LayoutOp>()) {
    layouts.push_back(decodeLayout(op));
    titles.push_back("heads " + headList(op.getHeads()));
  }
  size_t index = 0;
  for (LayoutOp op : module->getOps<LayoutOp>()) {
    printLayout(layouts[index], "layout " + titles[index],
                options.shape.withLayoutTiles(), op.getForm());
    panels.push_back({titles[index], &layouts[index]});
    ++index;
  }
  // Segment patterns: the tables above are the superset; the ids give the
  // exact layout the kernel runs (Kernel::documents does the same).
  std::vector<BlockLayout> exact;
  exact.reserve(layouts.size());
  index = 0;
  for (LayoutOp op : module->getOps<LayoutOp>()) {
    auto text = op->getAttrOfType<mlir::StringAttr>(kRunTimeMaskAttr);
    const size_t superset = index++;
    if (!text)
      continue;
    if (options.segments.empty()) {
      std::cout << "  (every tile any segment ids could make live, as "
                   "partial: pass --segments or --documents for the exact "
                   "layout)\n";
      continue;
    }
    layout::ParsedMask mask = layout::parseMask(text.getValue());
    if (!mask.mask) {
      std::cerr << "lace: error: the run-time mask is damaged: " << mask.error
                << "\n";
      return 1;
    }
    const LayoutOptions tiles = options.shape.withLayoutTiles();
    SegmentIds ids;
    ids.q = options.segments;
    const auto start = std::chrono::steady_clock::now();
    exact.push_back(layout::classify(
        *mask.mask, {tiles.seqQ, tiles.seqK ? tiles.seqK : tiles.seqQ},
        {tiles.blockM, tiles.blockN}, &ids));
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    printLayout(exact.back(), "documents " + titles[superset], tiles, "runs");
    const auto computed = exact.back().numNonEmpty();
    const auto all = layouts[superset].numNonEmpty();
    char line[256];
    std::snprintf(line, sizeof line,
                  "  documents: %lld of %lld tiles computed (%.1f%% of the "
                  "superset), built in %.3f ms\n",
                  (long long)computed, (long long)all,
                  all > 0 ? 100.0 * double(computed) / double(all) : 0.0, ms);
    std::cout << line;
    panels.push_back({"documents " + titles[superset], &exact.back()});
  }
  for (ScheduleOp schedule : module->getOps<ScheduleOp>()) {
    char line[256];
    std::snprintf(
        line, sizeof line,
        "schedule: %lld CTAs, imbalance %.2f (%.2f with whole rows)\n",
        (long long)schedule.getNumCtas(),
        schedule.getImbalance().convertToDouble(),
        schedule.getImbalanceBeforeSplit().convertToDouble());
    std::cout << line;
  }
  if (!options.svgPath.empty()) {
    std::ofstream svg(options.svgPath);
    svg << renderSvg(panels);
    if (!svg) {
      std::cerr << "lace: error: cannot write '" << options.svgPath << "'\n";
      return 1;
    }
    std::cout << "svg: " << options.svgPath << "\n";
  }
  return 0;
}

} // namespace lace::tool
