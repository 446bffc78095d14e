//===- CompileCommand.cpp - `lace compile FILE --emit=...` ----------------===//
//
// Lowers the patterns of a file to the lace dialect and prints the module
// (--emit=mlir; `--param` values become the parameters' defaults), or runs
// the layout pipeline for a problem shape and prints the layouts or the
// schedule as JSON (--emit=layout, --emit=schedule) or the resulting IR
// (--emit=layout-mlir).
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Session.h"

#include "KernelOptions.h"
#include "LayoutOptions.h"
#include "lace/Compiler.h"
#include "lace/Lowering/LowerToLace.h"
#include "lace/Runtime/KernelBundle.h"
#include "lace/Transforms/Export.h"
#include "lace/Transforms/LacePasses.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <iostream>

namespace lace::tool {

using namespace lace::frontend;

namespace {

bool hasParam(const Pattern &pattern, const std::string &name) {
  return pattern.findParam(name) >= 0;
}

} // namespace

/// --emit=bundle: plans the pattern for the shape and kernel options and
/// writes a kernel bundle to `output`.
int writeBundleFile(const PatternOptions &pattern, const LayoutOptions &shape,
                    const KernelOptions &kernel, const std::string &output) {
  if (output.empty())
    return usageError("--emit=bundle writes a file: give -o FILE");
  if (shape.seqQ <= 0)
    return usageError("--emit=bundle needs a sequence length: --seq N");
  KernelPlan plan;
  std::unique_ptr<Compiler> compiler =
      planFromOptions(pattern, shape, kernel, plan);
  if (!compiler)
    return 1;
  if (auto error = saveBundleFile(output, {compiler->bundle(std::move(plan))})) {
    std::cerr << "lace: error: " << error->str() << "\n";
    return 1;
  }
  return 0;
}

int runCompile(std::span<const std::string> args) {
  PatternOptions options;
  LayoutOptions layout;
  KernelOptions kernel;
  std::string emit = "mlir", output;
  bool locations = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string error;
    if (takeValue(args, i, "--emit", emit) || takeValue(args, i, "-o", output))
      continue;
    if (parseKernelOption(args, i, kernel, error)) {
      if (!error.empty())
        return usageError(error);
      continue;
    }
    if (parseLayoutOption(args, i, layout, error)) {
      if (!error.empty())
        return usageError(error);
      continue;
    }
    if (args[i] == "--locations") {
      locations = true;
      continue;
    }
    if (!parsePatternOption(args, i, options, error))
      return usageError("unknown option '" + args[i] +
                        "' for 'compile', expected --emit=KIND, --locations, "
                        "--pattern NAME, --param name=value or a shape "
                        "option (" +
                        std::string(kLayoutOptionsUsage) + ")");
    if (!error.empty())
      return usageError(error);
  }
  if (options.file.empty())
    return usageError(
        "'compile' expects a file: lace compile FILE --emit=mlir");
  if (emit == "bundle")
    return writeBundleFile(options, layout, kernel, output);
  if (emit != "mlir" && emit != "layout" && emit != "schedule" &&
      emit != "layout-mlir")
    return usageError("unsupported --emit value '" + emit +
                      "', expected 'mlir', 'layout', 'schedule', "
                      "'layout-mlir' or 'bundle'");

  Session session;
  if (!session.load(options.file))
    return 1;
  std::optional<std::vector<const Pattern *>> selected =
      session.selectPatterns(options.pattern);
  if (!selected)
    return 1;
  const std::vector<const Pattern *> &patterns = *selected;

  for (const ParamOverride &given : options.params)
    if (std::none_of(patterns.begin(), patterns.end(), [&](const Pattern *p) {
          return hasParam(*p, given.name);
        }))
      return usageError("no compiled pattern has a parameter '" + given.name +
                        "'");
  // With one pattern selected, bad override values are reported like in
  // `lace check`.
  if (patterns.size() == 1 && !options.params.empty() &&
      !bindParams(*patterns[0], options.params, session.diags()))
    return 1;

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      lowerToLace(context, session.sources(), patterns, options.params);
  if (mlir::failed(mlir::verify(*module))) {
    std::cerr << "lace: internal error: the lowered IR does not verify; "
                 "please report this with the input file\n";
    return 2;
  }
  if (emit != "mlir") {
    PipelineOptions pipeline = layout.pipelineOptions(options);
    if (mlir::failed(runLayoutPipeline(*module, pipeline)))
      return 1;
    if (emit == "layout")
      writeLayoutJson(*module, llvm::outs());
    else if (emit == "schedule")
      writeScheduleJson(*module, llvm::outs());
    if (emit != "layout-mlir")
      return 0;
  }
  mlir::OpPrintingFlags flags;
  if (locations)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  module->print(llvm::outs(), flags);
  llvm::outs() << "\n";
  return 0;
}

} // namespace lace::tool
