//===- BackwardTest.cpp - Backward kernels on the emulator vs float64 -----===//
//
// Layer 4 of docs/verification for training: each pattern's backward
// kernels (dq over the forward layout, dkdv over the transposed layout) run
// on the emulator after its forward, and dQ, dK and dV are compared with
// the analytic float64 gradients of the interpreter's mask and score
// (Reference.h), per tensor. Gradients are poisoned (NaN) before every run.
// Determinism: two runs with different thread orders give the same bits.
//
//===----------------------------------------------------------------------===//
#include "EndToEndSupport.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>

namespace {

using namespace lace::testing;

struct BackwardRun {
  lace::GradientAgreement agreement;
  lace::AttentionGradients gradients;
};

/// Plans `c`, lets `damage` break the plan, loads the forward and backward
/// kernels into `runtime`, runs both and compares the gradients.
BackwardRun runBackward(const lace::Compiler &compiler, const Case &c,
                        lace::Runtime &runtime = emulator(),
                        void (*damage)(lace::KernelPlan &) = nullptr) {
  lace::PlanOptions options;
  options.dtype = c.dtype;
  options.headDim = c.headDim;
  options.tiles = c.tiles;
  lace::Expected<lace::KernelPlan> plan = compiler.plan(c.shape, options);
  if (!plan) {
    ADD_FAILURE() << plan.error().str();
    return {};
  }
  if (damage)
    damage(*plan);
  lace::LoadOptions load;
  load.backward = true;
  auto kernel = runtime.load(*plan, load);
  if (!kernel) {
    ADD_FAILURE() << kernel.error().str();
    return {};
  }
  const lace::ProblemShape s = c.shape.resolved();
  lace::AttentionInputs in =
      lace::randomInputs(s, c.dtype, c.headDim, c.seed, plan->usesSegments);
  const std::vector<std::uint16_t> dout =
      lace::randomOutputGradient(in, c.seed);
  lace::Expected<lace::HostBackward> run =
      runtime.backwardOnHost(**kernel, in, dout);
  if (!run) {
    ADD_FAILURE() << run.error().str();
    return {};
  }
  auto reference = compiler.referenceBackward(in, dout);
  if (!reference) {
    ADD_FAILURE() << reference.error().str();
    return {};
  }
  return {lace::compareGradients(*reference, in, run->gradients, kTolerance),
          std::move(run->gradients)};
}

void print(const std::string &what, const Case &c,
           const lace::GradientAgreement &a) {
  std::printf("%-28s %s: dq %.2e, dk %.2e, dv %.2e\n", what.c_str(),
              c.describe().c_str(), a.dqError, a.dkError, a.dvError);
}

class LibraryBackward : public ::testing::TestWithParam<LibraryPattern> {};

/// fp16 and bf16 at head dims 64 and 128, GQA (4 heads over 2: dK and dV
/// summed over two query heads), a length that is not a multiple of any
/// tile, small parameters so that every tile kind occurs.
TEST_P(LibraryBackward, GradientsMatchTheFloat64Reference) {
  std::unique_ptr<lace::Compiler> compiler = load(GetParam(), true);
  ASSERT_TRUE(compiler);
  for (lace::DType dtype : {lace::DType::F16, lace::DType::BF16})
    for (int headDim : {64, 128}) {
      Case c;
      c.shape = {1, 4, 2, 150, 150};
      c.dtype = dtype;
      c.headDim = headDim;
      c.seed = stableHash(GetParam().name) % 100000 + 3 +
               static_cast<std::uint64_t>(headDim) +
               (dtype == lace::DType::BF16 ? 7 : 0);
      lace::GradientAgreement a = runBackward(*compiler, c).agreement;
      EXPECT_EQ(a.failure, "") << c.describe();
      print(GetParam().name, c, a);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Library, LibraryBackward,
    ::testing::ValuesIn(lace::testing::libraryPatterns(true)),
    [](const auto &info) { return info.param.name; });

/// Rows without a live key (zero gradients) and a layout per head.
constexpr const char *kExtraPatterns = R"lace(
pattern every_fifth_row_dead(every: int = 5) {
  mask = causal & (q % every != 0);
}
pattern widening_per_head(base: int = 10) {
  mask = causal & (q - k < base * (h + 1));
}
)lace";

/// Random patterns, shapes and parameters as for the forward: lengths that
/// are not tile multiples, seq_q != seq_k, GQA and MQA, batches, head dims
/// 32 to 128, other tile shapes, per-head layouts, dead rows and packed
/// documents. LACE_E2E_SEED=<n> replays a run.
TEST(RandomBackward, RandomPatternsShapesAndParameters) {
  const std::uint64_t seed = baseSeed() + 1;
  std::printf("base seed %llu (LACE_E2E_SEED + 1)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](int lo, int hi) {
    return static_cast<int>(lo +
                            rng() % static_cast<std::uint64_t>(hi - lo + 1));
  };
  std::vector<LibraryPattern> pool = lace::testing::libraryPatterns(true);
  const LibraryPattern document =
      *std::find_if(pool.begin(), pool.end(), [](const LibraryPattern &p) {
        return p.name == "document_causal";
      });
  const lace::jit::TileConfig tileChoices[] = {
      {}, {64, 32, 4, 2}, {32, 64, 2, 3}, {64, 64, 2, 2}};
  // Fixed positions for the cases that must occur in every run: dead rows,
  // per-head layouts, packed documents; the rest drawn from the library.
  constexpr int kTrials = 10;
  for (int trial = 0; trial < kTrials; ++trial) {
    LibraryPattern library = pool[rng() % pool.size()];
    if (trial == 0)
      library = {"", "every_fifth_row_dead"};
    else if (trial == 1)
      library = {"", "widening_per_head"};
    else if (trial >= kTrials - 2)
      library = document;
    std::unique_ptr<lace::Compiler> compiler;
    if (library.file.empty()) {
      auto fromSource =
          lace::Compiler::fromSource("extra.lace", kExtraPatterns);
      ASSERT_TRUE(fromSource) << fromSource.error().str();
      compiler = std::move(*fromSource);
      ASSERT_FALSE(compiler->select(library.name));
    } else {
      compiler = load(library, true);
      ASSERT_TRUE(compiler);
    }
    Case c;
    const int kvHeads = pick(1, 2);
    c.shape = {pick(1, 2), kvHeads * pick(1, 3), kvHeads, pick(1, 200),
               pick(1, 200)};
    c.dtype = rng() % 2 ? lace::DType::BF16 : lace::DType::F16;
    const int dims[] = {32, 64, 96, 128};
    c.headDim = dims[rng() % 4];
    c.tiles = tileChoices[rng() % 4];
    c.seed = rng() % 1000000;
    SCOPED_TRACE(library.name + " " + c.describe());
    lace::GradientAgreement a = runBackward(*compiler, c).agreement;
    EXPECT_EQ(a.failure, "");
    print("trial " + std::to_string(trial) + " " + library.name, c, a);
  }
}

/// Bit-for-bit reproducible gradients: the same problem twice, each time
/// with the emulated threads resuming in a different order after every
/// barrier, gives identical dQ, dK and dV.
TEST(BackwardDeterminism, TwoRunsGiveTheSameBits) {
  lace::RuntimeOptions options;
  options.backend = lace::Backend::Emulator;
  options.emulatorShuffleSeed = baseSeed() + 12345;
  lace::CacheConfig cache;
  cache.directory = LACE_TEST_CACHE_DIR;
  options.cache = cache;
  auto other = lace::Runtime::create(options);
  ASSERT_TRUE(other) << other.error().str();
  // BigBird: random, global and window tiles, GQA.
  for (const LibraryPattern &library : lace::testing::libraryPatterns(false)) {
    if (library.name != "bigbird")
      continue;
    std::unique_ptr<lace::Compiler> compiler = load(library, true);
    ASSERT_TRUE(compiler);
    Case c;
    c.shape = {1, 4, 2, 150, 150};
    c.seed = 77;
    BackwardRun first = runBackward(*compiler, c);
    BackwardRun second = runBackward(*compiler, c, **other);
    EXPECT_EQ(first.agreement.failure, "");
    EXPECT_EQ(first.gradients.dq, second.gradients.dq);
    EXPECT_EQ(first.gradients.dk, second.gradients.dk);
    EXPECT_EQ(first.gradients.dv, second.gradients.dv);
    return;
  }
  FAIL() << "no bigbird pattern in the library";
}

// ---- The checks can fail -------------------------------------------------

/// Causal attention over 150 tokens with its transposed layout damaged.
lace::GradientAgreement runDamaged(void (*damage)(lace::KernelPlan &)) {
  auto compiler = lace::Compiler::fromSource(
      "damaged.lace", "pattern damaged() { mask = causal; }\n");
  EXPECT_TRUE(compiler);
  Case c;
  c.shape = {1, 2, 2, 150, 150};
  c.seed = 5;
  return runBackward(**compiler, c, emulator(), damage).agreement;
}

/// Every tile of `l` marked Full.
void markEveryTileFull(lace::LayoutTables &l) {
  for (std::uint8_t &full : l.bsrIsFull)
    full = 1;
  for (std::size_t i = 2; i < l.runs.size(); i += 3)
    l.runs[i] = 2;
}

/// The first tile of the last row dropped from `l`.
void dropFirstTileOfLastRow(lace::LayoutTables &l) {
  const std::size_t slot = static_cast<std::size_t>(l.numRows - 1);
  if (l.form == lace::LayoutTables::Form::BSR) {
    const std::int32_t i = l.bsrRowPtr[slot];
    ASSERT_LT(i, l.bsrRowPtr[slot + 1]);
    l.bsrColIdx.erase(l.bsrColIdx.begin() + i);
    l.bsrIsFull.erase(l.bsrIsFull.begin() + i);
    for (std::int32_t &offset : l.bsrRowPtr)
      if (offset > i)
        --offset;
    return;
  }
  const std::int32_t run = l.rowOffsets[slot];
  ASSERT_LT(run, l.rowOffsets[slot + 1]);
  l.runs[3 * run] += 1; // the row's first run starts one tile later
  if (l.runs[3 * run] == l.runs[3 * run + 1]) {
    l.runs.erase(l.runs.begin() + 3 * run, l.runs.begin() + 3 * run + 3);
    for (std::int32_t &offset : l.rowOffsets)
      if (offset > run)
        --offset;
  }
}

TEST(BrokenBackward, APartialTileRunAsFullInTheTransposedLayoutIsCaught) {
  lace::GradientAgreement a = runDamaged(
      [](lace::KernelPlan &plan) { markEveryTileFull(plan.transposed); });
  EXPECT_NE(a.failure, "");
  std::printf("transposed partial tile run as full: %s\n", a.failure.c_str());
}

TEST(BrokenBackward, ASkippedTileInTheTransposedLayoutIsCaught) {
  // The last k-tile row of the transpose: the keys of the diagonal's end,
  // whose first q-tile is dropped.
  lace::GradientAgreement a = runDamaged(
      [](lace::KernelPlan &plan) { dropFirstTileOfLastRow(plan.transposed); });
  EXPECT_NE(a.failure, "");
  std::printf("skipped tile in the transposed layout: %s\n", a.failure.c_str());
}

TEST(BrokenBackward, APartialTileRunAsFullInTheDqPassIsCaught) {
  // The forward layout is also the dq kernel's: its damage shows in dQ.
  lace::GradientAgreement a = runDamaged(
      [](lace::KernelPlan &plan) { markEveryTileFull(plan.layout); });
  EXPECT_NE(a.failure, "");
  EXPECT_GE(a.dqError, kTolerance);
  std::printf("forward-layout partial tile run as full: %s\n",
              a.failure.c_str());
}

// ---- Argument errors -----------------------------------------------------

TEST(BackwardArguments, BadArgumentsAreClearErrors) {
  auto compiler = lace::Compiler::fromSource(
      "args.lace", "pattern args() { mask = causal; }\n");
  ASSERT_TRUE(compiler);
  const lace::ProblemShape shape{1, 2, 2, 64, 64};
  auto plan = (*compiler)->plan(shape);
  ASSERT_TRUE(plan) << plan.error().str();
  auto forwardOnly = emulator().load(*plan);
  ASSERT_TRUE(forwardOnly) << forwardOnly.error().str();
  lace::LoadOptions withBackward;
  withBackward.backward = true;
  auto kernel = emulator().load(*plan, withBackward);
  ASSERT_TRUE(kernel) << kernel.error().str();
  EXPECT_FALSE((*forwardOnly)->hasBackward());
  EXPECT_TRUE((*kernel)->hasBackward());
  EXPECT_EQ((*kernel)->backwardWorkspaceFloats(), 2 * 64);

  lace::AttentionInputs in = lace::randomInputs(shape, lace::DType::F16, 64, 1);
  lace::AttentionOutputs out = lace::AttentionOutputs::poisoned(in);
  lace::AttentionGradients g = lace::AttentionGradients::poisoned(in);
  std::vector<std::uint16_t> dout = lace::randomOutputGradient(in, 1);
  std::vector<float> delta(128);
  auto good = [&] {
    return lace::backwardTensors(
        in, in.q.data(), in.k.data(), in.v.data(), out.o.data(), dout.data(),
        out.lse.data(), g.dq.data(), g.dk.data(), g.dv.data(), delta.data());
  };
  auto message = [](const std::shared_ptr<const lace::Kernel> &k,
                    const lace::BackwardTensors &t) {
    std::optional<lace::Error> error = k->backward(t);
    return error ? error->message() : std::string("no error");
  };
  EXPECT_EQ(message(*forwardOnly, good()),
            "backward: args was loaded without its backward kernels: load it "
            "with LoadOptions::backward");
  lace::BackwardTensors t = good();
  t.lse = nullptr;
  EXPECT_EQ(message(*kernel, t),
            "backward: lse is null (pass the forward's log-sum-exp)");
  t = good();
  t.delta = nullptr;
  EXPECT_EQ(message(*kernel, t),
            "backward: delta is null (a workspace of 128 floats)");
  t = good();
  t.dout.shape[1] = 63;
  EXPECT_EQ(message(*kernel, t),
            "backward: dout has shape [1, 63, 2, 64], the kernel was planned "
            "for [1, 64, 2, 64] ([batch, seq, heads, head_dim])");
  t = good();
  t.dk.data = nullptr;
  EXPECT_EQ(message(*kernel, t), "backward: dk is null");
  t = good();
  t.dv.strides[1] = 100;
  EXPECT_EQ(message(*kernel, t),
            "backward: dv stride 100 of dimension 1 is not a non-negative "
            "multiple of 8 elements (the kernel copies 16 bytes at a time)");
  t = good();
  t.dq.data = t.q.data;
  EXPECT_EQ(message(*kernel, t),
            "backward: dq aliases an input (the kernels read the inputs while "
            "they write the gradients)");
  t = good();
  t.dout.data = static_cast<const char *>(t.dout.data) + 2;
  EXPECT_EQ(message(*kernel, t), "backward: dout is not 16-byte aligned");
}

TEST(BackwardArguments, PackedDocumentsNeedTheirSegmentIds) {
  for (const LibraryPattern &library : lace::testing::libraryPatterns(true)) {
    if (library.name != "document_causal")
      continue;
    std::unique_ptr<lace::Compiler> compiler = load(library, false);
    ASSERT_TRUE(compiler);
    const lace::ProblemShape shape{1, 1, 1, 64, 64};
    auto plan = compiler->plan(shape);
    ASSERT_TRUE(plan) << plan.error().str();
    lace::LoadOptions withBackward;
    withBackward.backward = true;
    auto kernel = emulator().load(*plan, withBackward);
    ASSERT_TRUE(kernel) << kernel.error().str();
    lace::AttentionInputs in =
        lace::randomInputs(shape, lace::DType::F16, 64, 1, true);
    lace::AttentionOutputs out = lace::AttentionOutputs::poisoned(in);
    lace::AttentionGradients g = lace::AttentionGradients::poisoned(in);
    std::vector<std::uint16_t> dout = lace::randomOutputGradient(in, 1);
    std::vector<float> delta(64);
    auto error = (*kernel)->backward(lace::backwardTensors(
        in, in.q.data(), in.k.data(), in.v.data(), out.o.data(), dout.data(),
        out.lse.data(), g.dq.data(), g.dk.data(), g.dv.data(), delta.data()));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->message(), "backward: document_causal uses segment ids: "
                                "pass them (SegmentIdsRef)");
    return;
  }
  FAIL() << "no document_causal pattern in the library";
}

} // namespace
