//===- LayoutOptions.cpp - shape options of layout-level subcommands ------===//
#include "LayoutOptions.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/Pass/PassManager.h"

#include <charconv>
#include <iostream>

namespace lace::tool {

LayoutOptions LayoutOptions::withLayoutTiles() const {
  LayoutOptions out = *this;
  if (out.blockM == 0)
    out.blockM = 128;
  if (out.blockN == 0)
    out.blockN = 128;
  return out;
}

PipelineOptions
LayoutOptions::pipelineOptions(const PatternOptions &pattern) const {
  PipelineOptions options;
  options.pattern = pattern.pattern;
  for (const frontend::ParamOverride &param : pattern.params)
    options.params.push_back(param.name + "=" + param.value);
  options.batch = batch;
  options.heads = heads;
  options.kvHeads = kvHeads;
  options.seqQ = seqQ;
  options.seqK = seqK;
  options.blockM = withLayoutTiles().blockM;
  options.blockN = withLayoutTiles().blockN;
  options.numCtas = numCtas;
  return options;
}

bool parseLayoutOption(std::span<const std::string> args, std::size_t &i,
                       LayoutOptions &options, std::string &error) {
  struct Flag {
    std::string_view name;
    int64_t *value;
  } flags[] = {{"--seq", &options.seqQ},       {"--seq-k", &options.seqK},
               {"--heads", &options.heads},    {"--kv-heads", &options.kvHeads},
               {"--batch", &options.batch},    {"--block-m", &options.blockM},
               {"--block-n", &options.blockN}, {"--ctas", &options.numCtas}};
  for (const Flag &flag : flags) {
    std::string text;
    if (!takeValue(args, i, flag.name, text))
      continue;
    int64_t value = 0;
    auto [end, status] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (status != std::errc() || end != text.data() + text.size() ||
        value < 0)
      error = "expected a non-negative integer for " + std::string(flag.name) +
              ", got '" + text + "'";
    *flag.value = value;
    return true;
  }
  return false;
}

mlir::LogicalResult runLayoutPipeline(mlir::ModuleOp module,
                                      const PipelineOptions &options) {
  if (options.seqQ <= 0) {
    std::cerr << "lace: error: the layout needs a sequence length: --seq N\n";
    return mlir::failure();
  }
  // One line per diagnostic, "file:line:col: severity: message", like the
  // frontend's; the IR of the failing op is not useful to a .lace author.
  mlir::MLIRContext *context = module.getContext();
  context->printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler handler(context, [](mlir::Diagnostic &diag) {
    std::cerr << diagnosticLine(diag) << "\n";
    return mlir::success();
  });
  mlir::PassManager pm(context);
  buildLayoutPipeline(pm, options);
  return pm.run(module);
}

} // namespace lace::tool
