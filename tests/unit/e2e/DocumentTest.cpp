//===- DocumentTest.cpp - Packed documents and split rows, end to end -----===//
//
// Packed documents run with the exact layout of their ids
// (Kernel::documents), forward and backward, against the float64
// reference; the persistent schedule's split rows and combine step give the
// output of unsplit rows; misuse is a clear error.
//
//===----------------------------------------------------------------------===//
#include "../support/TileOracle.h"
#include "EndToEndSupport.h"

#include "lace/Runtime/PlanTables.h"

#include <random>

namespace {

using namespace lace::testing;

constexpr const char *kDocumentPatterns = R"(
pattern doc_causal() { mask = document & causal; }
pattern doc_sliding(window: int = 40) {
  mask = document & causal & local(before = window - 1);
}
pattern doc_longformer(window: int = 32) {
  mask = document & (local(before = window / 2, after = window / 2) | global(tokens = 0 .. 3));
}
)";

std::unique_ptr<lace::Compiler> documentCompiler(const std::string &name) {
  auto compiler =
      lace::Compiler::fromSource("documents.lace", kDocumentPatterns);
  EXPECT_TRUE(compiler) << compiler.error().str();
  EXPECT_FALSE((*compiler)->select(name));
  return std::move(*compiler);
}

/// `count` documents of random lengths (at least 1 token each) covering
/// `seq` tokens.
std::vector<std::int32_t> randomDocuments(std::mt19937_64 &rng,
                                          std::int64_t seq, int count) {
  std::vector<std::int64_t> cuts = {0, seq};
  for (int i = 1; i < count && i < seq; ++i)
    cuts.push_back(1 + static_cast<std::int64_t>(rng() % (seq - 1)));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<std::int32_t> ids(static_cast<std::size_t>(seq));
  for (std::size_t d = 0; d + 1 < cuts.size(); ++d)
    std::fill(ids.begin() + cuts[d], ids.begin() + cuts[d + 1],
              static_cast<std::int32_t>(d));
  return ids;
}

/// Every tile of `documents` against the interpreter, element by element:
/// Empty iff no element is live, Full iff every in-range element is.
void expectTilesMatchTheInterpreter(const std::string &pattern,
                                    const lace::KernelPlan &plan,
                                    const lace::DocumentLayout &documents,
                                    const std::vector<std::int32_t> &ids) {
  namespace fe = lace::frontend;
  fe::MemoryFileProvider memory;
  memory.add("documents.lace", kDocumentPatterns);
  fe::SourceManager sources(memory);
  fe::DiagnosticEngine diags(sources);
  fe::Program program = fe::loadProgram(sources, "documents.lace", diags);
  fe::SegmentIds segments;
  segments.q.assign(ids.begin(), ids.end());
  const lace::ProblemShape &s = plan.shape;
  auto instance =
      fe::instantiate(*program.find(pattern), {},
                      {s.batch, s.heads, s.seqQ, s.seqK}, diags, &segments);
  ASSERT_TRUE(instance) << diags.renderAll();
  const lace::LayoutTables &tables = documents.layout();
  const lace::jit::TileConfig t = plan.spec.resolvedTiles();
  for (std::int64_t h = 0; h < s.heads; ++h) {
    const lace::layout::BlockLayout blocks = lace::blockLayout(
        tables, tables.headToLayout[static_cast<std::size_t>(h)]);
    for (std::int64_t r = 0; r < blocks.numRows; ++r)
      for (std::int64_t c = 0; c < blocks.numCols; ++c) {
        const lace::layout::BlockKind expected =
            lace::testing::oracleKind(*instance, h, r, c, t.blockM, t.blockN);
        ASSERT_EQ(blocks.kind(r, c), expected)
            << "head " << h << " tile (" << r << ", " << c << ")";
      }
  }
}

struct DocumentCase {
  const char *pattern;
  int documents;
  std::int64_t seq;
  std::uint64_t seed;
};

class Documents : public ::testing::TestWithParam<DocumentCase> {};

TEST_P(Documents, ForwardAndBackwardMatchTheReferenceAndSkipWork) {
  const DocumentCase &dc = GetParam();
  std::unique_ptr<lace::Compiler> compiler = documentCompiler(dc.pattern);
  const lace::ProblemShape shape{1, 2, 1, dc.seq, dc.seq};
  lace::PlanOptions options;
  options.tiles = {32, 32, 2, 2};
  auto plan = compiler->plan(shape, options);
  ASSERT_TRUE(plan) << plan.error().str();
  ASSERT_EQ(plan->runTimeMasks.size(), std::size_t(plan->layout.numLayouts));
  auto kernel = emulator().load(*plan, {.backward = true});
  ASSERT_TRUE(kernel) << kernel.error().str();

  lace::AttentionInputs in =
      lace::randomInputs(shape.resolved(), options.dtype, 64, dc.seed);
  std::mt19937_64 rng(dc.seed);
  in.segmentQ = randomDocuments(rng, dc.seq, dc.documents);
  auto documents = (*kernel)->documents(in.segmentQ);
  ASSERT_TRUE(documents) << documents.error().str();
  EXPECT_EQ((*documents)
                ->schedule()
                .validate(shape.resolved(), (*documents)->layout()),
            "");
  expectTilesMatchTheInterpreter(dc.pattern, *plan, **documents, in.segmentQ);
  // Documents only remove tiles from the superset.
  EXPECT_LE((*documents)->computedTiles(), (*documents)->supersetTiles());
  if (dc.documents >= 8) {
    EXPECT_LT((*documents)->computedTiles(), (*documents)->supersetTiles());
  }

  const std::vector<std::uint16_t> dout =
      lace::randomOutputGradient(in, dc.seed);
  auto run = emulator().backwardOnHost(**kernel, in, dout);
  ASSERT_TRUE(run) << run.error().str();
  ASSERT_TRUE(run->documents);
  EXPECT_EQ(run->documents->computedTiles, (*documents)->computedTiles());
  auto reference = compiler->reference(in);
  ASSERT_TRUE(reference) << reference.error().str();
  const lace::Agreement forward =
      lace::compareWithReference(*reference, in, run->outputs, kTolerance);
  EXPECT_EQ(forward.failure, "");
  auto gradients = compiler->referenceBackward(in, dout);
  ASSERT_TRUE(gradients) << gradients.error().str();
  const lace::GradientAgreement backward =
      lace::compareGradients(*gradients, in, run->gradients, kTolerance);
  EXPECT_EQ(backward.failure, "");
  std::printf("%-15s %2d documents seq %4lld: %lld of %lld tiles, out %.2e, "
              "dq %.2e, dk %.2e, dv %.2e\n",
              dc.pattern, dc.documents, static_cast<long long>(dc.seq),
              static_cast<long long>((*documents)->computedTiles()),
              static_cast<long long>((*documents)->supersetTiles()),
              forward.outError, backward.dqError, backward.dkError,
              backward.dvError);
}

INSTANTIATE_TEST_SUITE_P(
    PackedBatches, Documents,
    ::testing::Values(DocumentCase{"doc_causal", 1, 77, 1},
                      DocumentCase{"doc_causal", 12, 301, 2},
                      DocumentCase{"doc_causal", 64, 333, 3},
                      DocumentCase{"doc_sliding", 9, 290, 4},
                      DocumentCase{"doc_longformer", 7, 257, 5},
                      DocumentCase{"doc_longformer", 40, 200, 6}),
    [](const ::testing::TestParamInfo<DocumentCase> &info) {
      return std::string(info.param.pattern) + "_" +
             std::to_string(info.param.documents) + "docs";
    });

TEST(Documents, VarlenOffsetsGiveTheLayoutOfTheirIds) {
  std::unique_ptr<lace::Compiler> compiler = documentCompiler("doc_causal");
  lace::PlanOptions options;
  options.tiles = {32, 32, 2, 2};
  auto plan = compiler->plan({1, 1, 1, 100, 100}, options);
  ASSERT_TRUE(plan) << plan.error().str();
  auto kernel = emulator().load(*plan);
  ASSERT_TRUE(kernel) << kernel.error().str();
  // Rows 2 and 3 (queries 64..99, document 2) skip k-tile 0 (document 0).
  const std::vector<std::int64_t> cu = {0, 40, 41, 100};
  std::vector<std::int32_t> ids(100, 2);
  std::fill(ids.begin(), ids.begin() + 40, 0);
  ids[40] = 1;
  auto fromOffsets = (*kernel)->varlen(cu);
  auto fromIds = (*kernel)->documents(ids);
  ASSERT_TRUE(fromOffsets) << fromOffsets.error().str();
  ASSERT_TRUE(fromIds) << fromIds.error().str();
  EXPECT_EQ((*fromOffsets)->layout().runs, (*fromIds)->layout().runs);
  EXPECT_EQ((*fromOffsets)->layout().rowOffsets,
            (*fromIds)->layout().rowOffsets);
  EXPECT_EQ((*fromIds)->computedTiles(), 8);
  EXPECT_EQ((*fromIds)->supersetTiles(), 10);
}

TEST(Documents, MisuseIsAClearError) {
  std::unique_ptr<lace::Compiler> compiler = documentCompiler("doc_causal");
  lace::PlanOptions options;
  options.tiles = {32, 32, 2, 2};
  auto plan = compiler->plan({1, 1, 1, 64, 64}, options);
  ASSERT_TRUE(plan) << plan.error().str();
  auto kernel = emulator().load(*plan);
  auto other = emulator().load(*plan);
  ASSERT_TRUE(kernel && other);
  auto message = [](auto result) {
    return result ? std::string("no error") : result.error().message();
  };
  EXPECT_EQ(message((*kernel)->documents(std::vector<std::int32_t>(63, 0))),
            "documents: 63 query ids for seq_q 64");
  EXPECT_NE(message((*kernel)->varlen(std::vector<std::int64_t>{0, 10, 9, 64}))
                .find("cu_seqlens_q must start at 0, never decrease"),
            std::string::npos);
  EXPECT_NE(message((*kernel)->varlen(std::vector<std::int64_t>{0, 63}))
                .find("end at seq_q (64)"),
            std::string::npos);
  // A plan whose run-time mask was damaged (a hand-edited bundle).
  lace::KernelPlan damaged = *plan;
  damaged.runTimeMasks[0] = "(intersect segment";
  auto damagedKernel = emulator().load(damaged);
  ASSERT_TRUE(damagedKernel) << damagedKernel.error().str();
  EXPECT_NE(message((*damagedKernel)->documents(std::vector<std::int32_t>(64)))
                .find("the plan's run-time mask is damaged: offset"),
            std::string::npos);
  // A layout belongs to the kernel that made it (its device tables).
  auto documents = (*other)->documents(std::vector<std::int32_t>(64, 0));
  ASSERT_TRUE(documents);
  alignas(16) static std::uint16_t data[64 * 64];
  auto t = lace::TensorRef::contiguous(data, 1, 64, 1, 64);
  auto error = (*kernel)->forward(t, t, t, t, nullptr, **documents);
  ASSERT_TRUE(error);
  EXPECT_NE(error->message().find("made by another kernel"), std::string::npos);
  // Patterns without segments have no document layout.
  auto causal =
      lace::Compiler::fromSource("c.lace", "pattern c() { mask = causal; }\n");
  ASSERT_TRUE(causal);
  auto causalPlan = (*causal)->plan({1, 1, 1, 64, 64}, options);
  ASSERT_TRUE(causalPlan);
  auto causalKernel = emulator().load(*causalPlan);
  ASSERT_TRUE(causalKernel);
  EXPECT_NE(message((*causalKernel)->documents(std::vector<std::int32_t>(64)))
                .find("does not use segment ids"),
            std::string::npos);
}

// ---- The persistent schedule ---------------------------------------------

/// Causal attention over few CTAs splits the long rows: the pieces and the
/// combine step give the unsplit rows' output (and both the reference's).
TEST(Schedule, SplitRowsAndTheCombineGiveTheUnsplitOutput) {
  auto compiler = lace::Compiler::fromSource(
      "split.lace", "pattern c() { mask = causal; }\n");
  ASSERT_TRUE(compiler);
  const lace::ProblemShape shape{2, 2, 1, 300, 300};
  lace::PlanOptions split;
  split.tiles = {32, 32, 2, 2};
  split.numCtas = 64;
  lace::PlanOptions whole = split;
  whole.splitFactor = 0;
  auto splitPlan = (*compiler)->plan(shape, split);
  auto wholePlan = (*compiler)->plan(shape, whole);
  ASSERT_TRUE(splitPlan && wholePlan);
  ASSERT_GT(splitPlan->schedule.numCombines(), 0);
  ASSERT_EQ(wholePlan->schedule.numCombines(), 0);
  EXPECT_LT(splitPlan->schedule.imbalance,
            splitPlan->schedule.imbalanceBeforeSplit);
  std::printf("causal seq 300, 64 CTAs: %lld split rows, imbalance %.3f -> "
              "%.3f\n",
              static_cast<long long>(splitPlan->schedule.numCombines()),
              splitPlan->schedule.imbalanceBeforeSplit,
              splitPlan->schedule.imbalance);

  lace::AttentionInputs in =
      lace::randomInputs(shape.resolved(), split.dtype, 64, 7);
  auto run = [&](const lace::KernelPlan &plan) {
    auto kernel = emulator().load(plan);
    EXPECT_TRUE(kernel) << kernel.error().str();
    auto result = emulator().runOnHost(**kernel, in);
    EXPECT_TRUE(result) << result.error().str();
    return std::move(result->outputs);
  };
  const lace::AttentionOutputs pieces = run(*splitPlan);
  const lace::AttentionOutputs rows = run(*wholePlan);
  auto reference = (*compiler)->reference(in);
  ASSERT_TRUE(reference);
  EXPECT_EQ(
      lace::compareWithReference(*reference, in, pieces, kTolerance).failure,
      "");
  // Split against unsplit: the same kernel arithmetic up to the merge.
  lace::ReferenceOutputs unsplit;
  unsplit.o.resize(rows.o.size());
  for (std::size_t i = 0; i < rows.o.size(); ++i)
    unsplit.o[i] = lace::elementToFloat(split.dtype, rows.o[i]);
  unsplit.lse.assign(rows.lse.begin(), rows.lse.end());
  const lace::Agreement a =
      lace::compareWithReference(unsplit, in, pieces, 1e-3);
  EXPECT_EQ(a.failure, "");
  std::printf("split vs unsplit: out %.2e, lse %.2e\n", a.outError, a.lseError);
}

} // namespace
