//===- LacePasses.h - the passes from pattern to schedule -------*- C++ -*-===//
#ifndef LACE_TRANSFORMS_LACEPASSES_H
#define LACE_TRANSFORMS_LACEPASSES_H

#include "lace/Dialect/LaceOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <memory>
#include <string>
#include <vector>

namespace lace {

#define GEN_PASS_DECL
#include "lace/Transforms/LacePasses.h.inc"

/// Everything the pass pipeline needs to know about the problem.
struct PipelineOptions {
  std::string pattern; ///< empty: every pattern
  std::vector<std::string> params; ///< name=value
  int64_t batch = 1, heads = 1, kvHeads = 0, seqQ = 128, seqK = 0;
  int64_t blockM = 128, blockN = 128;
  int64_t numCtas = 132;
  double splitFactor = 1.0;
  int64_t resourceThreshold = 256;
};

/// lace-specialize, lace-classify-blocks, lace-materialize-layout and
/// lace-schedule, in that order, with the canonicaliser first.
void buildLayoutPipeline(mlir::OpPassManager &pm,
                         const PipelineOptions &options);

/// One line for a diagnostic of the passes, "file:line:col: severity:
/// message" like the frontend's ("lace: ..." when it has no file location);
/// the IR of the op is not useful to a .lace author.
std::string diagnosticLine(const mlir::Diagnostic &diagnostic);

/// Registers `lace-pipeline` (the passes above, in order, with their
/// options) with the global registry; `registerLacePasses()` below
/// registers each pass.
void registerLacePipeline();

#define GEN_PASS_REGISTRATION
#include "lace/Transforms/LacePasses.h.inc"

} // namespace lace

#endif // LACE_TRANSFORMS_LACEPASSES_H
