//===- EndToEndTest.cpp - Kernels run on the emulator vs the reference ----===//
//
// Layer 4 of docs/verification: each library pattern is compiled (frontend,
// lowering, layout pipeline, kernel generation), loaded by the runtime's
// emulator backend and run on seeded random inputs; O and LSE are compared
// with the float64 dense reference on the interpreter. Outputs are poisoned
// (NaN) before every run, so anything left unwritten fails.
//
//===----------------------------------------------------------------------===//
#include "EndToEndSupport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>

namespace {

using namespace lace::testing;

/// Plans, loads and runs one case; returns how it compares.
lace::Agreement runCase(const lace::Compiler &compiler, const Case &c) {
  lace::PlanOptions options;
  options.dtype = c.dtype;
  options.headDim = c.headDim;
  options.tiles = c.tiles;
  lace::Expected<lace::KernelPlan> plan = compiler.plan(c.shape, options);
  if (!plan) {
    ADD_FAILURE() << plan.error().str();
    return {};
  }
  auto kernel = emulator().load(*plan);
  if (!kernel) {
    ADD_FAILURE() << kernel.error().str();
    return {};
  }
  const lace::ProblemShape s = c.shape.resolved();
  lace::AttentionInputs in =
      lace::randomInputs(s, c.dtype, c.headDim, c.seed, plan->usesSegments);
  lace::Expected<lace::HostRun> run = emulator().runOnHost(**kernel, in);
  if (!run) {
    ADD_FAILURE() << run.error().str();
    return {};
  }
  auto reference = compiler.reference(in);
  if (!reference) {
    ADD_FAILURE() << reference.error().str();
    return {};
  }
  return lace::compareWithReference(*reference, in, run->outputs, kTolerance);
}

class LibraryEndToEnd : public ::testing::TestWithParam<LibraryPattern> {};

/// fp16 and bf16 at head dims 64 and 128, GQA (4 heads over 2), a length
/// that is not a multiple of any tile, small parameters so that every tile
/// kind occurs.
TEST_P(LibraryEndToEnd, MatchesTheFloat64Reference) {
  std::unique_ptr<lace::Compiler> compiler = load(GetParam(), true);
  ASSERT_TRUE(compiler);
  for (lace::DType dtype : {lace::DType::F16, lace::DType::BF16})
    for (int headDim : {64, 128}) {
      Case c;
      c.shape = {1, 4, 2, 150, 150};
      c.dtype = dtype;
      c.headDim = headDim;
      c.seed = stableHash(GetParam().name) % 100000 +
               static_cast<std::uint64_t>(headDim) +
               (dtype == lace::DType::BF16 ? 7 : 0);
      lace::Agreement a = runCase(*compiler, c);
      EXPECT_EQ(a.failure, "") << c.describe();
      std::printf("%-28s %s: out error %.2e, lse error %.2e\n",
                  GetParam().name.c_str(), c.describe().c_str(), a.outError,
                  a.lseError);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Library, LibraryEndToEnd,
    ::testing::ValuesIn(lace::testing::libraryPatterns(true)),
    [](const auto &info) { return info.param.name; });

// ---- Random problems ---------------------------------------------------

/// Patterns beyond the library: rows with no live key at all, and a
/// predicate whose layout differs per head.
constexpr const char *kExtraPatterns = R"lace(
pattern every_fifth_row_dead(every: int = 5) {
  mask = causal & (q % every != 0);
}
pattern widening_per_head(base: int = 10) {
  mask = causal & (q - k < base * (h + 1));
}
)lace";

/// Random patterns, parameters and shapes: lengths that are not tile
/// multiples, seq_q != seq_k, GQA and MQA, several batches, head dims 32 to
/// 128, other tile shapes, per-head layouts and dead rows. Every trial
/// prints its seed; LACE_E2E_SEED=<n> replays a run.
TEST(RandomEndToEnd, RandomPatternsShapesAndParameters) {
  const std::uint64_t seed = baseSeed();
  std::printf("base seed %llu (LACE_E2E_SEED)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](int lo, int hi) {
    return static_cast<int>(lo +
                            rng() % static_cast<std::uint64_t>(hi - lo + 1));
  };
  std::vector<LibraryPattern> pool = lace::testing::libraryPatterns(true);
  pool.push_back({"", "every_fifth_row_dead"});
  pool.push_back({"", "widening_per_head"});
  const lace::jit::TileConfig tileChoices[] = {
      {}, {64, 32, 4, 2}, {32, 64, 2, 3}, {64, 64, 2, 2}};
  // The last trials are packed documents (run-time segment ids).
  const auto document =
      std::find_if(pool.begin(), pool.end(), [](const LibraryPattern &p) {
        return p.name == "document_causal";
      });
  ASSERT_NE(document, pool.end());
  constexpr int kTrials = 16, kDocumentTrials = 2;
  for (int trial = 0; trial < kTrials; ++trial) {
    const LibraryPattern &library = trial >= kTrials - kDocumentTrials
                                        ? *document
                                        : pool[rng() % pool.size()];
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
    c.shape = {pick(1, 2), kvHeads * pick(1, 3), kvHeads, pick(1, 260),
               pick(1, 260)};
    c.dtype = rng() % 2 ? lace::DType::BF16 : lace::DType::F16;
    const int dims[] = {32, 64, 96, 128};
    c.headDim = dims[rng() % 4];
    c.tiles = tileChoices[rng() % 4];
    c.seed = rng() % 1000000;
    SCOPED_TRACE(library.name + " " + c.describe());
    lace::Agreement a = runCase(*compiler, c);
    EXPECT_EQ(a.failure, "");
    std::printf("trial %2d %-28s %s tiles %dx%d: out error %.2e, lse error "
                "%.2e\n",
                trial, library.name.c_str(), c.describe().c_str(),
                c.tiles.blockM, c.tiles.blockN, a.outError, a.lseError);
  }
}

/// A q-tile whose rows have no live key has no tile at all: its work item
/// loads no Q and writes O = 0 and LSE = -inf (the forward's empty-row
/// path), at d64's 128-row tiles (row 0) and d128's 64-row tiles (rows 0
/// and 1); the rows after it run as usual.
TEST(EdgeCases, QueryTilesWithoutAnyKeyWriteZerosAndMinusInfinity) {
  auto compiler = lace::Compiler::fromSource(
      "late.lace", "pattern late_queries() { mask = causal & (q >= 160); }\n");
  ASSERT_TRUE(compiler) << compiler.error().str();
  for (int headDim : {64, 128}) {
    Case c;
    c.shape = {2, 2, 1, 300, 300};
    c.headDim = headDim;
    c.seed = 11 + static_cast<std::uint64_t>(headDim);
    lace::PlanOptions options;
    options.headDim = headDim;
    lace::Expected<lace::KernelPlan> plan = (*compiler)->plan(c.shape, options);
    ASSERT_TRUE(plan) << plan.error().str();
    // The case must reach the path: the first q-tile row is empty.
    const lace::LayoutTables &l = plan->layout;
    const std::vector<std::int32_t> &offsets =
        l.form == lace::LayoutTables::Form::BSR ? l.bsrRowPtr : l.rowOffsets;
    ASSERT_GE(offsets.size(), 2u);
    EXPECT_EQ(offsets[0], offsets[1]) << "d" << headDim;
    lace::Agreement a = runCase(**compiler, c);
    EXPECT_EQ(a.failure, "") << c.describe();
    std::printf("late_queries %s: out error %.2e, lse error %.2e\n",
                c.describe().c_str(), a.outError, a.lseError);
  }
}

// ---- The checks can fail -------------------------------------------------

/// Plans causal attention and lets `damage` break the plan (its layout or
/// its kernel) before it runs.
lace::Agreement runDamaged(void (*damage)(lace::KernelPlan &)) {
  auto compiler = lace::Compiler::fromSource(
      "damaged.lace", "pattern damaged() { mask = causal; }\n");
  EXPECT_TRUE(compiler);
  const lace::ProblemShape shape{1, 2, 2, 150, 150};
  lace::PlanOptions options;
  lace::Expected<lace::KernelPlan> plan = (*compiler)->plan(shape, options);
  EXPECT_TRUE(plan) << plan.error().str();
  damage(*plan);
  auto kernel = emulator().load(*plan);
  EXPECT_TRUE(kernel) << kernel.error().str();
  lace::AttentionInputs in = lace::randomInputs(shape, options.dtype, 64, 5);
  lace::Expected<lace::HostRun> run = emulator().runOnHost(**kernel, in);
  EXPECT_TRUE(run);
  auto reference = (*compiler)->reference(in);
  EXPECT_TRUE(reference);
  return lace::compareWithReference(*reference, in, run->outputs, kTolerance);
}

TEST(BrokenKernels, AWrongMaskInPartialTilesIsCaught) {
  lace::Agreement a = runDamaged([](lace::KernelPlan &plan) {
    plan.spec.liveBody = "  return k < q; // strict: drops the diagonal\n";
  });
  EXPECT_NE(a.failure, "");
  std::printf("wrong partial-tile mask: %s\n", a.failure.c_str());
}

/// Drops the first Full tile from the layout, in whichever form it is.
void dropFirstFullTile(lace::KernelPlan &plan) {
  lace::LayoutTables &l = plan.layout;
  if (l.form == lace::LayoutTables::Form::BSR) {
    for (std::size_t i = 0; i < l.bsrIsFull.size(); ++i)
      if (l.bsrIsFull[i]) {
        l.bsrColIdx.erase(l.bsrColIdx.begin() + static_cast<long>(i));
        l.bsrIsFull.erase(l.bsrIsFull.begin() + static_cast<long>(i));
        for (std::int32_t &offset : l.bsrRowPtr)
          if (offset > static_cast<std::int32_t>(i))
            --offset;
        return;
      }
  } else {
    for (std::size_t i = 0; i + 2 < l.runs.size(); i += 3)
      if (l.runs[i + 2] == 2) {
        if (l.runs[i + 1] - l.runs[i] > 1) {
          l.runs[i] += 1; // the run now starts one tile later
          return;
        }
        l.runs.erase(l.runs.begin() + static_cast<long>(i),
                     l.runs.begin() + static_cast<long>(i) + 3);
        for (std::int32_t &offset : l.rowOffsets)
          if (offset > static_cast<std::int32_t>(i / 3))
            --offset;
        return;
      }
  }
  ADD_FAILURE() << "the layout has no full tile";
}

TEST(BrokenKernels, ASkippedFullTileIsCaught) {
  lace::Agreement a = runDamaged(dropFirstFullTile);
  EXPECT_NE(a.failure, "");
  std::printf("skipped full tile: %s\n", a.failure.c_str());
}

TEST(BrokenKernels, APartialTileRunAsFullIsCaught) {
  lace::Agreement a = runDamaged([](lace::KernelPlan &plan) {
    // Every tile "full": the diagonal tiles run without their mask.
    for (std::uint8_t &full : plan.layout.bsrIsFull)
      full = 1;
    for (std::size_t i = 2; i < plan.layout.runs.size(); i += 3)
      plan.layout.runs[i] = 2;
  });
  EXPECT_NE(a.failure, "");
  std::printf("partial tile run as full: %s\n", a.failure.c_str());
}

} // namespace
