//===- CompileCommand.cpp - `lace compile FILE --emit=...` ----------------===//
//
// Lowers the patterns of a file to the lace dialect and prints the module
// (--emit=mlir; `--param` values become the parameters' defaults), or runs
// the layout pipeline for a problem shape and prints the layouts or the
// schedule as JSON (--emit=layout, --emit=schedule) or the resulting IR
// (--emit=layout-mlir), or plans one pattern and writes what the runtime
// would run: a kernel bundle, the generated CUDA source, or NVRTC's PTX or
// cubin. Every kind goes to -o FILE (written atomically) or stdout.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Session.h"

#include "KernelOptions.h"
#include "LayoutOptions.h"
#include "Output.h"
#include "lace/Compiler.h"
#include "lace/Lowering/LowerToLace.h"
#include "lace/Runtime/KernelBundle.h"
#include "lace/Runtime/Nvrtc.h"
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

/// What the kernel kinds of --emit need besides the shape.
struct KernelEmit {
  std::string arch = "sm_80";
  bool backward = false; ///< the backward's kernels instead of the forward's
  bool verbose = false;  ///< ptxas's report on stderr
};

/// --emit=bundle|cuda|ptx|cubin: plans the pattern for the shape and kernel
/// options and writes what the runtime would load.
int writeKernel(const std::string &emit, const PatternOptions &pattern,
                const LayoutOptions &shape, const KernelOptions &kernel,
                const KernelEmit &options, const std::string &output) {
  if (shape.seqQ <= 0)
    return usageError("--emit=" + emit + " needs a sequence length: --seq N");
  KernelPlan plan;
  progress("planning");
  std::unique_ptr<Compiler> compiler =
      planFromOptions(pattern, shape, kernel, plan);
  if (!compiler)
    return 1;
  if (emit == "bundle")
    return writeOutput(output,
                       writeBundle({compiler->bundle(std::move(plan))}));
  const jit::Pass pass =
      options.backward ? jit::Pass::Backward : jit::Pass::Forward;
  if (options.backward)
    if (std::string why = plan.validateBackward(); !why.empty()) {
      std::cerr << "lace: error: the backward of " << plan.pattern << ": "
                << why << "\n";
      return 1;
    }
  const std::string source = jit::KernelSource::generate(plan.spec, pass);
  if (emit == "cuda")
    return writeOutput(output, source);
  auto nvrtc = jit::Nvrtc::load();
  if (!nvrtc) {
    std::cerr << "lace: error: --emit=" << emit
              << " needs NVRTC: " << nvrtc.error().str() << "\n";
    return 1;
  }
  progress("compiling " + plan.spec.name + " for " + options.arch);
  auto compiled = (*nvrtc)->compile(
      source, options.backward ? plan.spec.name + "_bwd" : plan.spec.name,
      options.arch);
  if (!compiled) {
    std::cerr << "lace: error: " << compiled.error().str() << "\n";
    return 1;
  }
  if (options.verbose)
    std::cerr << compiled->log;
  return writeOutput(output, emit == "ptx" ? compiled->ptx : compiled->cubin);
}

int runCompile(std::span<const std::string> args) {
  PatternOptions options;
  LayoutOptions layout;
  KernelOptions kernel;
  std::string emit = "mlir", output;
  bool locations = false;
  KernelEmit kernelEmit;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string error;
    if (takeValue(args, i, "--emit", emit) ||
        takeValue(args, i, "-o", output) ||
        takeValue(args, i, "--arch", kernelEmit.arch))
      continue;
    if (args[i] == "--backward" || args[i] == "--verbose") {
      (args[i] == "--backward" ? kernelEmit.backward : kernelEmit.verbose) =
          true;
      continue;
    }
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
                        "' for 'compile', expected --emit=KIND, -o FILE, "
                        "--locations, --arch sm_XY, --backward, --verbose, "
                        "--pattern NAME, --param name=value or a shape "
                        "option (" +
                        std::string(kLayoutOptionsUsage) + ")");
    if (!error.empty())
      return usageError(error);
  }
  if (options.file.empty())
    return usageError(
        "'compile' expects a file: lace compile FILE --emit=mlir");
  if (emit == "bundle" || emit == "cuda" || emit == "ptx" || emit == "cubin")
    return writeKernel(emit, options, layout, kernel, kernelEmit, output);
  if (emit != "mlir" && emit != "layout" && emit != "schedule" &&
      emit != "layout-mlir")
    return usageError("unsupported --emit value '" + emit +
                      "', expected 'mlir', 'layout', 'schedule', "
                      "'layout-mlir', 'bundle', 'cuda', 'ptx' or 'cubin'");

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
  std::string text;
  llvm::raw_string_ostream os(text);
  if (emit != "mlir") {
    PipelineOptions pipeline = layout.pipelineOptions(options);
    if (mlir::failed(runLayoutPipeline(*module, pipeline)))
      return 1;
    if (emit == "layout")
      writeLayoutJson(*module, os);
    else if (emit == "schedule")
      writeScheduleJson(*module, os);
  }
  if (emit == "mlir" || emit == "layout-mlir") {
    mlir::OpPrintingFlags flags;
    if (locations)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
    module->print(os, flags);
    os << "\n";
  }
  return writeOutput(output, os.str());
}

} // namespace lace::tool
