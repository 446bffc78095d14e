//===- PipelineExactnessTest.cpp - layouts from the pass pipeline ---------===//
//
// Every library pattern, with random parameters and shapes, goes through the
// whole path (frontend, lowering, lace-specialize, lace-classify-blocks,
// lace-materialize-layout, lace-schedule) and every tile of every head's
// layout is compared with the interpreter, element by element.
//
//===----------------------------------------------------------------------===//
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"
#include "lace/Layout/Classify.h"
#include "lace/Lowering/LowerToLace.h"
#include "lace/Transforms/LacePasses.h"
#include "lace/Transforms/LayoutTables.h"

#include "../support/TileOracle.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

namespace fe = lace::frontend;
using lace::layout::BlockKind;
using lace::testing::oracleKind;

namespace {

constexpr int kTrialsPerPattern = 40;

/// A random value for parameter `param`, small enough that the pattern
/// varies over sequences of a few hundred tokens.
std::string randomValue(const fe::Param &param, std::mt19937_64 &rng) {
  switch (param.type) {
  case fe::ParamType::Bool:
    return rng() % 2 ? "true" : "false";
  case fe::ParamType::Float:
    return "30.0";
  case fe::ParamType::Int:
    break;
  }
  const std::string &name = param.name;
  bool factor = name.find("stride") != std::string::npos ||
                name.find("block") != std::string::npos ||
                name.find("dilation") != std::string::npos;
  int64_t lo = factor ? 1 : 0;
  int64_t hi = name.find("dilation") != std::string::npos ? 4 : 96;
  if (name == "random_blocks" || name == "globals" || name == "window")
    hi = name == "window" ? 80 : 4;
  return std::to_string(lo + int64_t(rng() % uint64_t(hi - lo + 1)));
}

struct Trial {
  std::string file, pattern;
  std::vector<fe::ParamOverride> params;
  int64_t heads, seqQ, seqK, blockM, blockN;

  std::string describe() const {
    std::ostringstream os;
    os << file << " @" << pattern << " heads=" << heads << " seq_q=" << seqQ
       << " seq_k=" << seqK << " tiles=" << blockM << "x" << blockN;
    for (const fe::ParamOverride &p : params)
      os << " " << p.name << "=" << p.value;
    return os.str();
  }
};

/// Runs kTrialsPerPattern random trials of every pattern of `program`'s main
/// file through the pipeline and compares every tile with the interpreter.
void checkEveryPattern(fe::SourceManager &sources, const fe::Program &program,
                       const std::string &label) {
  mlir::MLIRContext context;
  lace::loadLoweringDialects(context);
  context.printOpOnDiagnostic(false);
  std::string mlirErrors;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    mlirErrors += d.str() + "\n";
    return mlir::success();
  });

  uint64_t seed = std::hash<std::string>{}(label) ^ 0x1ace;
  std::mt19937_64 rng(seed);
  int checkedTrials = 0;
  for (const fe::Pattern *pattern : program.patternsIn(program.mainFile)) {
    if (fe::usesSegments(*pattern))
      continue; // exact layouts need ids: DocumentLayoutTest, DocumentTest
    for (int attempt = 0; attempt < kTrialsPerPattern; ++attempt) {
      Trial trial;
      trial.file = label;
      trial.pattern = pattern->name;
      for (const fe::Param &param : pattern->params)
        trial.params.push_back({param.name, randomValue(param, rng)});
      trial.heads = 1 + int64_t(rng() % 3);
      trial.seqQ = 1 + int64_t(rng() % 300);
      trial.seqK = rng() % 2 ? trial.seqQ : 1 + int64_t(rng() % 300);
      const int64_t blocks[] = {16, 32, 64, 128};
      trial.blockM = blocks[rng() % 4];
      trial.blockN = blocks[rng() % 4];
      SCOPED_TRACE("seed " + std::to_string(seed) + ": " + trial.describe());

      fe::DiagnosticEngine trialDiags(sources);
      std::unique_ptr<fe::Instance> instance =
          fe::instantiate(*pattern, trial.params,
                          {1, trial.heads, trial.seqQ, trial.seqK}, trialDiags);
      if (!instance)
        continue; // parameters the pattern rejects (e.g. summary > stride)

      const fe::Pattern *selected[] = {pattern};
      mlir::OwningOpRef<mlir::ModuleOp> module =
          lace::lowerToLace(context, sources, selected, trial.params);
      ASSERT_TRUE(module);
      lace::PipelineOptions options;
      options.pattern = pattern->name;
      options.heads = trial.heads;
      options.seqQ = trial.seqQ;
      options.seqK = trial.seqK;
      options.blockM = trial.blockM;
      options.blockN = trial.blockN;
      options.numCtas = 8;
      mlir::PassManager pm(&context);
      lace::buildLayoutPipeline(pm, options);
      mlirErrors.clear();
      ASSERT_TRUE(mlir::succeeded(pm.run(*module))) << mlirErrors;

      std::vector<bool> covered(trial.heads, false);
      for (lace::LayoutOp op : module->getOps<lace::LayoutOp>()) {
        lace::layout::BlockLayout layout = lace::decodeLayout(op);
        ASSERT_EQ(layout.numRows,
                  lace::layout::numTiles(trial.seqQ, trial.blockM));
        ASSERT_EQ(layout.numCols,
                  lace::layout::numTiles(trial.seqK, trial.blockN));
        std::optional<lace::layout::BlockLayout> transposed =
            lace::decodeTransposed(op);
        ASSERT_TRUE(transposed);
        EXPECT_TRUE(*transposed == layout.transpose());
        for (int64_t head : op.getHeads()) {
          covered[head] = true;
          for (int64_t row = 0; row < layout.numRows; ++row)
            for (int64_t col = 0; col < layout.numCols; ++col)
              ASSERT_EQ(int(layout.kind(row, col)),
                        int(oracleKind(*instance, head, row, col, trial.blockM,
                                       trial.blockN)))
                  << "head " << head << " tile (" << row << ", " << col << ")";
        }
      }
      for (int64_t head = 0; head < trial.heads; ++head)
        EXPECT_TRUE(covered[head]) << "head " << head << " has no layout";
      ++checkedTrials;
    }
  }
  // Most random parameter sets must be accepted, or the test checks little.
  EXPECT_GE(checkedTrials, kTrialsPerPattern / 2);
  std::cout << label << ": " << checkedTrials << " trials checked\n";
}

class PipelineExactness : public ::testing::TestWithParam<std::string> {};

TEST_P(PipelineExactness, EveryTileMatchesTheInterpreter) {
  const std::string file =
      std::string(LACE_SOURCE_DIR) + "/patterns/" + GetParam();
  fe::DiskFileProvider disk;
  fe::SourceManager sources(disk);
  fe::DiagnosticEngine diags(sources);
  fe::Program program = fe::loadProgram(sources, file, diags);
  ASSERT_TRUE(program.ok) << diags.renderAll();
  checkEveryPattern(sources, program, GetParam());
}

/// Predicates (through the compiled predicate program and its interval
/// evaluator) and the mask algebra, which the library uses little.
TEST(PipelineExactnessExtra, PredicatesAndAlgebra) {
  fe::MemoryFileProvider files;
  files.add("extra.lace", R"lace(
pattern strided_predicate(stride: int = 4) {
  mask = causal & (local(before = stride) | (q - k) % stride == 0);
}
pattern diagonal_bands(w: int = 3) { mask = (q + k) % 5 == 0 | abs(q - k) < w; }
pattern tile_ratio(a: int = 7, c: int = 5) { mask = q / a == k / c; }
pattern per_head(w: int = 8) { mask = h % 2 == 0 ? local(before = w, after = w) : causal; }
pattern minus(w: int = 20) { mask = causal - local(before = w); }
pattern complement(w: int = 6) { mask = ~local(before = w, after = w) | global(tokens = {1, 7}); }
pattern predicate_in_set() { mask = k in {0, 3, 9} || q in 10 .. 20; }
)lace");
  fe::SourceManager sources(files);
  fe::DiagnosticEngine diags(sources);
  fe::Program program = fe::loadProgram(sources, "extra.lace", diags);
  ASSERT_TRUE(program.ok) << diags.renderAll();
  checkEveryPattern(sources, program, "extra.lace");
}

std::vector<std::string> libraryFiles() {
  std::vector<std::string> files;
  for (const auto &entry : std::filesystem::directory_iterator(
           std::string(LACE_SOURCE_DIR) + "/patterns"))
    // document.lace needs run-time segment ids; its exact layouts are
    // classified per call and checked against the interpreter in the e2e
    // DocumentTest (and against elements in DocumentLayoutTest).
    if (entry.path().extension() == ".lace" &&
        entry.path().filename() != "document.lace")
      files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Library, PipelineExactness,
                         ::testing::ValuesIn(libraryFiles()),
                         [](const auto &info) {
                           std::string name = info.param;
                           for (char &c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

} // namespace
