//===- LayoutOptions.h - shape options of layout-level subcommands --------===//
//
// `lace compile --emit=layout|schedule` and `lace show` take the problem
// shape and tile sizes the same way; this parses them and runs the pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TOOLS_LACE_LAYOUTOPTIONS_H
#define LACE_TOOLS_LACE_LAYOUTOPTIONS_H

#include "Session.h"

#include "lace/Transforms/LacePasses.h"

#include <span>
#include <string>

namespace lace::tool {

inline constexpr const char *kLayoutOptionsUsage =
    "--seq N, --seq-k N, --heads H, --kv-heads H, --batch B, --block-m M, "
    "--block-n N, --ctas C";

struct LayoutOptions {
  int64_t seqQ = 0, seqK = 0, heads = 1, kvHeads = 0, batch = 1;
  /// 0: the command's default (128 x 128 for layouts, the kernel's own
  /// tiles for kernels).
  int64_t blockM = 0, blockN = 0, numCtas = 132;

  /// These options with the layout commands' default tiles filled in.
  LayoutOptions withLayoutTiles() const;
  /// The pipeline options for `pattern` (its --pattern and --param too),
  /// default tiles filled in.
  PipelineOptions pipelineOptions(const PatternOptions &pattern) const;
};

/// Consumes one shape option at args[i]; false if args[i] is none.
/// Malformed values set `error`.
bool parseLayoutOption(std::span<const std::string> args, std::size_t &i,
                       LayoutOptions &options, std::string &error);

/// Runs the layout pipeline on a lowered module; MLIR's diagnostics go to
/// stderr.
mlir::LogicalResult runLayoutPipeline(mlir::ModuleOp module,
                                      const PipelineOptions &options);

} // namespace lace::tool

#endif // LACE_TOOLS_LACE_LAYOUTOPTIONS_H
