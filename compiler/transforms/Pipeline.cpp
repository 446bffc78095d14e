//===- Pipeline.cpp - the Lace pass pipeline ------------------------------===//
#include "lace/Transforms/LacePasses.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

std::string lace::diagnosticLine(const Diagnostic &diag) {
  std::string location = "lace";
  if (auto at = dyn_cast<FileLineColLoc>(diag.getLocation()))
    location = at.getFilename().str() + ":" + std::to_string(at.getLine()) +
               ":" + std::to_string(at.getColumn());
  const char *severity = diag.getSeverity() == DiagnosticSeverity::Error ? "error"
                         : diag.getSeverity() == DiagnosticSeverity::Warning
                             ? "warning"
                         : diag.getSeverity() == DiagnosticSeverity::Remark
                             ? "remark"
                             : "note";
  return location + ": " + severity + ": " + diag.str();
}

void lace::buildLayoutPipeline(OpPassManager &pm,
                               const PipelineOptions &options) {
  pm.addPass(createCanonicalizerPass());
  LaceSpecializeOptions specialize;
  specialize.patternName = options.pattern;
  specialize.params = options.params;
  specialize.batch = options.batch;
  specialize.heads = options.heads;
  specialize.kvHeads = options.kvHeads;
  specialize.seqQ = options.seqQ;
  specialize.seqK = options.seqK;
  specialize.blockM = options.blockM;
  specialize.blockN = options.blockN;
  pm.addPass(createLaceSpecialize(specialize));
  pm.addPass(createLaceClassifyBlocks());
  LaceMaterializeLayoutOptions materialize;
  materialize.resourceThreshold = options.resourceThreshold;
  pm.addPass(createLaceMaterializeLayout(materialize));
  LaceScheduleOptions schedule;
  schedule.numCtas = options.numCtas;
  schedule.splitFactor = options.splitFactor;
  pm.addPass(createLaceSchedule(schedule));
}

namespace {
/// `lace-opt --lace-pipeline="heads=16 seq-q=4096 ..."`.
struct PipelineCLOptions : public PassPipelineOptions<PipelineCLOptions> {
  Option<std::string> pattern{*this, "pattern",
                              llvm::cl::desc("Only this pattern")};
  ListOption<std::string> params{*this, "param",
                                 llvm::cl::desc("name=value")};
  Option<int64_t> batch{*this, "batch", llvm::cl::init(1)};
  Option<int64_t> heads{*this, "heads", llvm::cl::init(1)};
  Option<int64_t> kvHeads{*this, "kv-heads", llvm::cl::init(0)};
  Option<int64_t> seqQ{*this, "seq-q", llvm::cl::init(128)};
  Option<int64_t> seqK{*this, "seq-k", llvm::cl::init(0)};
  Option<int64_t> blockM{*this, "block-m", llvm::cl::init(128)};
  Option<int64_t> blockN{*this, "block-n", llvm::cl::init(128)};
  Option<int64_t> numCtas{*this, "num-ctas", llvm::cl::init(132)};
  Option<double> splitFactor{*this, "split-factor", llvm::cl::init(1.0)};
  Option<int64_t> resourceThreshold{*this, "resource-threshold",
                                    llvm::cl::init(256)};
};
} // namespace

void lace::registerLacePipeline() {
  PassPipelineRegistration<PipelineCLOptions>(
      "lace-pipeline",
      "Specialise, classify, materialise and schedule every pattern",
      [](OpPassManager &pm, const PipelineCLOptions &cl) {
        PipelineOptions options;
        options.pattern = cl.pattern;
        options.params.assign(cl.params.begin(), cl.params.end());
        options.batch = cl.batch;
        options.heads = cl.heads;
        options.kvHeads = cl.kvHeads;
        options.seqQ = cl.seqQ;
        options.seqK = cl.seqK;
        options.blockM = cl.blockM;
        options.blockN = cl.blockN;
        options.numCtas = cl.numCtas;
        options.splitFactor = cl.splitFactor;
        options.resourceThreshold = cl.resourceThreshold;
        buildLayoutPipeline(pm, options);
      });
}
