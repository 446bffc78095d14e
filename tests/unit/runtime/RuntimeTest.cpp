//===- RuntimeTest.cpp - The host API: plans, loading, argument checks ----===//
//
// lace::Compiler and lace::Runtime on the emulator backend: plans are
// consistent, loads hit the kernel cache (memory, disk, shared between
// patterns with the same IR), every bad argument is a clear error, and the
// C API reports failures as messages.
//
//===----------------------------------------------------------------------===//
#include "lace/Runtime/Runtime.h"
#include "lace/Compiler.h"
#include "lace/Runtime/KernelBundle.h"
#include "lace/lace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

/// A runtime on the emulator with a fresh disk cache under `dir`.
std::unique_ptr<lace::Runtime> emulator(const fs::path &dir) {
  lace::RuntimeOptions options;
  options.backend = lace::Backend::Emulator;
  lace::CacheConfig cache;
  cache.directory = dir;
  options.cache = cache;
  auto runtime = lace::Runtime::create(options);
  EXPECT_TRUE(runtime) << runtime.error().str();
  return runtime ? std::move(*runtime) : nullptr;
}

struct ScratchDir {
  fs::path path = fs::temp_directory_path() /
                  ("lace-runtime-test-" + std::to_string(getpid()));
  ScratchDir() { fs::remove_all(path); }
  ~ScratchDir() { fs::remove_all(path); }
};

std::unique_ptr<lace::Compiler> compile(const std::string &source) {
  auto compiler = lace::Compiler::fromSource("test.lace", source);
  EXPECT_TRUE(compiler) << compiler.error().str();
  return compiler ? std::move(*compiler) : nullptr;
}

lace::KernelPlan causalPlan(int seq = 100) {
  auto compiler = compile("pattern c() { mask = causal; }\n");
  auto plan = compiler->plan({1, 2, 0, seq, 0});
  EXPECT_TRUE(plan) << plan.error().str();
  return *plan;
}

TEST(Plan, DescribesTheKernelAndTheLayout) {
  lace::KernelPlan plan = causalPlan(300);
  EXPECT_EQ(plan.validate(), "");
  EXPECT_EQ(plan.shape.kvHeads, 2);
  EXPECT_EQ(plan.shape.seqK, 300);
  // d64 tiles are 128 x 64: 3 x 5 tiles, one layout for both heads.
  EXPECT_EQ(plan.layout.numRows, 3);
  EXPECT_EQ(plan.layout.numCols, 5);
  EXPECT_EQ(plan.layout.numLayouts, 1);
  EXPECT_EQ(plan.layout.headToLayout, (std::vector<std::int32_t>{0, 0}));
  EXPECT_EQ(plan.layout.nonEmptyTiles(0), 2 + 4 + 5);
  // Rows 0-127: keys [0, 128); 128-255: [0, 256); 256-299: [0, 300).
  EXPECT_NEAR(plan.computedFlops() / plan.denseFlops(),
              (128.0 * 128 + 128.0 * 256 + 44.0 * 300) / (300.0 * 300), 1e-12);
  EXPECT_NE(plan.kernelIr.find("lace_kernel"), std::string::npos);
  EXPECT_NE(plan.spec.liveBody.find("return"), std::string::npos);
}

TEST(Plan, BadShapesAndOptionsAreErrors) {
  auto compiler = compile("pattern c() { mask = causal; }\n");
  struct Bad {
    lace::ProblemShape shape;
    int headDim;
    const char *message;
  } cases[] = {
      {{1, 4, 3, 64, 0}, 64, "kv_heads 3 does not divide heads 4"},
      {{0, 4, 0, 64, 0}, 64, "batch 0 is not in [1, 65535]"},
      {{1, 4, 0, 0, 0}, 64, "seq_q 0 is not in [1, 2^31)"},
      {{1, 4, 0, 64, -1}, 64, "seq_k -1 is not in [1, 2^31)"},
      {{1, 4, 0, 64, 0}, 40, "head dim 40 is not a multiple of 16"},
  };
  for (const Bad &bad : cases) {
    lace::PlanOptions options;
    options.headDim = bad.headDim;
    auto plan = compiler->plan(bad.shape, options);
    ASSERT_FALSE(plan) << bad.message;
    EXPECT_NE(plan.error().message().find(bad.message), std::string::npos)
        << plan.error().message();
  }
  lace::PlanOptions tiles;
  tiles.tiles = {96, 64, 4, 2};
  auto plan = compiler->plan({1, 1, 0, 64, 0}, tiles);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message().find("block_m 96"), std::string::npos);
}

TEST(Plan, BadFilesAndParametersComeWithDiagnostics) {
  auto broken = lace::Compiler::fromSource(
      "bad.lace", "pattern p() {\n  mask = causl;\n}\n");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().details().find("bad.lace:2:10: error:"),
            std::string::npos)
      << broken.error().str();
  EXPECT_NE(broken.error().details().find("^"), std::string::npos);

  auto compiler = compile("pattern w(window: int = 4) { mask = local(before "
                          "= window, after = 0); }\n");
  compiler->setParam("window", "lots");
  auto plan = compiler->plan({1, 1, 0, 64, 0});
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().details().find("test.lace:1:"), std::string::npos)
      << plan.error().str();
  EXPECT_TRUE(compiler->select("nope").has_value());
  EXPECT_EQ(compiler->select("nope")->message(),
            "no pattern named 'nope' (the file defines w)");
}

TEST(Plan, ValidateCatchesMalformedTables) {
  lace::KernelPlan plan = causalPlan(300);
  lace::KernelPlan bad = plan;
  bad.layout.headToLayout[1] = 3;
  EXPECT_NE(bad.validate().find("head 1 names layout 3 of 1"),
            std::string::npos);
  bad = plan;
  bad.layout.numCols = 4;
  EXPECT_NE(bad.validate().find("need 3 x 5"), std::string::npos);
  bad = plan;
  if (bad.layout.form == lace::LayoutTables::Form::BSR)
    bad.layout.bsrColIdx.back() = 9;
  else
    bad.layout.runs[bad.layout.runs.size() - 2] = 9;
  EXPECT_NE(bad.validate().find("outside [0, 5)"), std::string::npos)
      << bad.validate();
}

TEST(Runtime, LoadsHitTheMemoryThenTheDiskCache) {
  ScratchDir scratch;
  lace::KernelPlan plan = causalPlan();
  {
    auto runtime = emulator(scratch.path);
    auto first = runtime->load(plan);
    ASSERT_TRUE(first) << first.error().str();
    EXPECT_FALSE((*first)->fromCache());
    auto second = runtime->load(plan);
    ASSERT_TRUE(second);
    EXPECT_TRUE((*second)->fromCache());
    EXPECT_EQ(runtime->cache().stats().memoryHits, 1u);
  }
  auto fresh = emulator(scratch.path); // a new process would see the same
  auto third = fresh->load(plan);
  ASSERT_TRUE(third);
  EXPECT_TRUE((*third)->fromCache());
  EXPECT_EQ(fresh->cache().stats().diskHits, 1u);
}

TEST(Runtime, PatternsWithTheSameIrShareAKernelAndOthersDoNot) {
  ScratchDir scratch;
  auto runtime = emulator(scratch.path);
  auto a =
      compile("pattern first() { mask = causal; }\n")->plan({1, 2, 0, 90, 0});
  auto b =
      compile("pattern second() { mask = causal; }\n")->plan({1, 2, 0, 90, 0});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(runtime->load(*a));
  auto shared = runtime->load(*b);
  ASSERT_TRUE(shared);
  EXPECT_TRUE((*shared)->fromCache());
  // Another dtype, head dim or tile shape is another kernel.
  auto compiler = compile("pattern first() { mask = causal; }\n");
  lace::PlanOptions options;
  options.dtype = lace::DType::BF16;
  auto bf16 = compiler->plan({1, 2, 0, 90, 0}, options);
  ASSERT_TRUE(bf16);
  auto other = runtime->load(*bf16);
  ASSERT_TRUE(other);
  EXPECT_FALSE((*other)->fromCache());
}

TEST(Runtime, BadTensorsAreClearErrors) {
  ScratchDir scratch;
  auto runtime = emulator(scratch.path);
  lace::KernelPlan plan = causalPlan();
  auto kernel = runtime->load(plan);
  ASSERT_TRUE(kernel);
  alignas(16) static std::uint16_t data[2 * 100 * 2 * 64 + 8];
  auto good = lace::TensorRef::contiguous(data, 1, 100, 2, 64);
  auto check = [&](lace::TensorRef q, const std::string &message) {
    auto error = (*kernel)->forward(q, good, good, good, nullptr);
    ASSERT_TRUE(error) << message;
    EXPECT_NE(error->message().find(message), std::string::npos)
        << error->message();
  };
  auto shape = good;
  shape.shape[1] = 99;
  check(shape, "q has shape [1, 99, 2, 64], the kernel was planned for [1, "
               "100, 2, 64]");
  auto strided = good;
  strided.strides[3] = 2;
  check(strided, "q must be contiguous in head_dim");
  auto odd = good;
  odd.strides[1] = 129;
  check(odd, "stride 129 of dimension 1 is not a non-negative multiple of 8");
  auto misaligned = good;
  misaligned.data = data + 1;
  check(misaligned, "q is not 16-byte aligned");
  auto null = good;
  null.data = nullptr;
  check(null, "q is null");
  // The kernel folds the scale into the exponent after the max over raw
  // scores: only a positive, finite scale (or 0, the default) is right.
  for (float scale : {-0.125f, std::numeric_limits<float>::infinity(),
                      std::numeric_limits<float>::quiet_NaN()}) {
    auto error = (*kernel)->forward(good, good, good, good, nullptr,
                                    lace::SegmentIdsRef{}, nullptr, scale);
    ASSERT_TRUE(error) << scale;
    EXPECT_NE(error->message().find("is not positive and finite"),
              std::string::npos)
        << error->message();
  }
  EXPECT_FALSE((*kernel)->forward(good, good, good, good, nullptr));
  EXPECT_FALSE((*kernel)->forward(good, good, good, good, nullptr,
                                  lace::SegmentIdsRef{}, nullptr, 0.125f));
}

TEST(Runtime, SegmentPatternsNeedTheirIds) {
  ScratchDir scratch;
  auto runtime = emulator(scratch.path);
  auto compiler = compile("pattern docs() { mask = segment & causal; }\n");
  auto plan = compiler->plan({1, 2, 0, 100, 0});
  ASSERT_TRUE(plan) << plan.error().str();
  EXPECT_TRUE(plan->usesSegments);
  // Ids arrive at run time: every non-empty tile is Partial.
  for (std::uint8_t full : plan->layout.bsrIsFull)
    EXPECT_EQ(full, 0);
  for (std::size_t i = 2; i < plan->layout.runs.size(); i += 3)
    EXPECT_EQ(plan->layout.runs[i], 1);
  auto kernel = runtime->load(*plan);
  ASSERT_TRUE(kernel) << kernel.error().str();
  alignas(16) static std::uint16_t data[100 * 2 * 64];
  auto t = lace::TensorRef::contiguous(data, 1, 100, 2, 64);
  auto error = (*kernel)->forward(t, t, t, t, nullptr);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message(),
            "forward: docs uses segment ids: pass them (SegmentIdsRef)");
  std::vector<std::int32_t> ids(100, 0);
  EXPECT_FALSE((*kernel)->forward(t, t, t, t, nullptr, {ids.data(), nullptr}));
  // A segment under a complement would make the layout unsound: refused.
  auto negated = compile("pattern other() { mask = causal - segment; }\n");
  auto refused = negated->plan({1, 1, 0, 64, 0});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().str().find("on the right of a difference"),
            std::string::npos)
      << refused.error().str();
}

TEST(Runtime, AnInvalidPlanIsRejectedAtLoad) {
  ScratchDir scratch;
  auto runtime = emulator(scratch.path);
  lace::KernelPlan plan = causalPlan();
  plan.layout.headToLayout = {0};
  auto kernel = runtime->load(plan);
  ASSERT_FALSE(kernel);
  EXPECT_NE(kernel.error().message().find("invalid plan: layout: "
                                          "head_to_layout has 1 entries for 2 "
                                          "heads"),
            std::string::npos)
      << kernel.error().message();
}

TEST(Runtime, BadBackendChoicesAreErrors) {
  setenv("LACE_DEVICE", "tpu", 1);
  auto runtime = lace::Runtime::create();
  unsetenv("LACE_DEVICE");
  ASSERT_FALSE(runtime);
  EXPECT_EQ(runtime.error().message(),
            "LACE_DEVICE is 'tpu': expected cuda, emulator or auto");
  // No GPU driver here: asking for CUDA explicitly fails with the driver's
  // reason (on a GPU machine this succeeds instead).
  lace::RuntimeOptions cuda;
  cuda.backend = lace::Backend::Cuda;
  auto gpu = lace::Runtime::create(cuda);
  if (!gpu) {
    EXPECT_FALSE(gpu.error().message().empty());
  }
}

// ---- Kernel bundles -----------------------------------------------------

lace::BundledPlan bundledBigBird() {
  auto compiler = compile("pattern bb(seed: int = 3) {\n"
                          "  mask = causal | random(per_row = 1, granularity "
                          "= 32, seed = seed);\n}\n");
  compiler->setParam("seed", "11");
  lace::PlanOptions options;
  options.dtype = lace::DType::BF16;
  options.headDim = 128;
  auto plan = compiler->plan({2, 4, 2, 200, 170}, options);
  EXPECT_TRUE(plan) << plan.error().str();
  lace::BundledPlan bundled = compiler->bundle(std::move(*plan));
  bundled.metadata["note"] = "two\nlines";
  return bundled;
}

TEST(Bundle, RoundTripsEveryField) {
  lace::BundledPlan original = bundledBigBird();
  const std::string text = lace::writeBundle({original, original});
  auto read = lace::readBundle(text, "test.lacebundle");
  ASSERT_TRUE(read) << read.error().str();
  ASSERT_EQ(read->size(), 2u);
  const lace::BundledPlan &back = (*read)[1];
  const lace::KernelPlan &a = original.plan, &b = back.plan;
  EXPECT_EQ(b.pattern, a.pattern);
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.kernelIr, a.kernelIr);
  EXPECT_EQ(b.spec.liveBody, a.spec.liveBody);
  EXPECT_EQ(b.spec.helpers, a.spec.helpers);
  EXPECT_EQ(lace::jit::KernelSource::generate(b.spec),
            lace::jit::KernelSource::generate(a.spec));
  EXPECT_EQ(b.layout.form, a.layout.form);
  EXPECT_EQ(b.layout.headToLayout, a.layout.headToLayout);
  EXPECT_EQ(b.layout.rowOffsets, a.layout.rowOffsets);
  EXPECT_EQ(b.layout.runs, a.layout.runs);
  EXPECT_EQ(b.layout.bsrColIdx, a.layout.bsrColIdx);
  EXPECT_EQ(b.layout.bsrIsFull, a.layout.bsrIsFull);
  EXPECT_EQ(b.computedFlops(), a.computedFlops());
  EXPECT_EQ(b.schedule.numCtas, a.schedule.numCtas);
  EXPECT_EQ(b.schedule.ctaOffsets, a.schedule.ctaOffsets);
  EXPECT_EQ(b.schedule.items, a.schedule.items);
  EXPECT_EQ(b.schedule.combines, a.schedule.combines);
  EXPECT_EQ(b.schedule.numSlots, a.schedule.numSlots);
  EXPECT_EQ(b.validate(), "");
  ASSERT_EQ(back.sources.size(), 1u);
  EXPECT_EQ(back.sources[0].text, original.sources[0].text);
  EXPECT_EQ(back.params, original.params);
  EXPECT_EQ(back.metadata.at("note"), "two\nlines");
  // The bundled sources reproduce the reference without the compiler.
  lace::AttentionInputs in =
      lace::randomInputs(b.shape, b.spec.dtype, b.spec.headDim, 3);
  auto fromBundle = lace::referenceForBundle(back, in);
  ASSERT_TRUE(fromBundle) << fromBundle.error().str();
  EXPECT_EQ(fromBundle->lse.size(), 2u * 4 * 200);
}

/// What the backward needs travels too: the transposed layout (BSR here,
/// BigBird's random blocks) and the score's derivative.
TEST(Bundle, RoundTripsTheBackward) {
  auto compiler = compile("pattern capped() {\n"
                          "  mask = causal | random(per_row = 1, granularity "
                          "= 32, seed = 2);\n"
                          "  score = 5.0 * tanh(s / 5.0);\n}\n");
  auto plan = compiler->plan({1, 2, 1, 300, 300});
  ASSERT_TRUE(plan) << plan.error().str();
  ASSERT_EQ(plan->validateBackward(), "");
  ASSERT_FALSE(plan->spec.scoreGradBody.empty());
  const std::string text = lace::writeBundle({compiler->bundle(*plan)});
  auto read = lace::readBundle(text, "b.lacebundle");
  ASSERT_TRUE(read) << read.error().str();
  const lace::KernelPlan &a = *plan, &b = (*read)[0].plan;
  EXPECT_EQ(b.spec.scoreGradBody, a.spec.scoreGradBody);
  EXPECT_EQ(
      lace::jit::KernelSource::generate(b.spec, lace::jit::Pass::Backward),
      lace::jit::KernelSource::generate(a.spec, lace::jit::Pass::Backward));
  const lace::LayoutTables &t = a.transposed, &u = b.transposed;
  EXPECT_EQ(t.numRows, a.layout.numCols);
  EXPECT_EQ(t.numCols, a.layout.numRows);
  EXPECT_EQ(u.form, t.form);
  EXPECT_EQ(u.numLayouts, t.numLayouts);
  EXPECT_EQ(u.numRows, t.numRows);
  EXPECT_EQ(u.numCols, t.numCols);
  EXPECT_EQ(u.headToLayout, t.headToLayout);
  EXPECT_EQ(u.rowOffsets, t.rowOffsets);
  EXPECT_EQ(u.runs, t.runs);
  EXPECT_EQ(u.bsrRowPtr, t.bsrRowPtr);
  EXPECT_EQ(u.bsrColIdx, t.bsrColIdx);
  EXPECT_EQ(u.bsrIsFull, t.bsrIsFull);
  EXPECT_EQ(b.validateBackward(), "");
}

TEST(Bundle, CarriesTheRunTimeMasksOfSegmentPatterns) {
  auto compiler = compile("pattern docs() { mask = document & causal; }\n");
  auto plan = compiler->plan({1, 2, 0, 100, 0});
  ASSERT_TRUE(plan) << plan.error().str();
  ASSERT_EQ(plan->runTimeMasks,
            std::vector<std::string>{"(intersect segment causal)"});
  auto read = lace::readBundle(lace::writeBundle({compiler->bundle(*plan)}),
                               "d.lacebundle");
  ASSERT_TRUE(read) << read.error().str();
  EXPECT_EQ((*read)[0].plan.runTimeMasks, plan->runTimeMasks);
  EXPECT_EQ((*read)[0].plan.validate(), "");
}

TEST(Plan, AnInconsistentScheduleIsRefused) {
  // One row of 4 k-tiles: a whole item, or pieces chaining [0, 4).
  const lace::ProblemShape shape{1, 1, 1, 64, 256};
  lace::LayoutTables layout;
  layout.numRows = 1;
  layout.numCols = 4;
  auto schedule = [](std::vector<std::int32_t> items,
                     std::vector<std::int32_t> combines = {},
                     std::int32_t slots = 0) {
    lace::ScheduleTables s;
    s.numCtas = 2;
    const auto n = static_cast<std::int32_t>(items.size() / 8);
    s.ctaOffsets = {0, n / 2, n};
    s.items = std::move(items);
    s.combines = std::move(combines);
    s.numSlots = slots;
    return s;
  };
  auto why = [&](const lace::ScheduleTables &s) {
    return s.validate(shape, layout);
  };
  EXPECT_EQ(why(schedule({0, 0, 0, 0, 4, 0, 1, -1})), "");
  EXPECT_EQ(why(schedule({0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 4, 1, 2, 1},
                         {0, 0, 0, 0, 2}, 2)),
            "");
  // Halves that are both "whole", a gap, an empty window, pieces never
  // merged, a row combined twice, no schedule at all.
  EXPECT_NE(why(schedule({0, 0, 0, 0, 2, 0, 1, -1, 0, 0, 0, 2, 4, 0, 1, -1})),
            "");
  EXPECT_NE(why(schedule({0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 2, 4, 1, 2, 1},
                         {0, 0, 0, 0, 2}, 2))
                .find("do not chain"),
            std::string::npos);
  EXPECT_NE(why(schedule({0, 0, 0, 0, 4, 0, 2, 0, 0, 0, 0, 4, 4, 1, 2, 1},
                         {0, 0, 0, 0, 2}, 2))
                .find("columns empty"),
            std::string::npos);
  EXPECT_NE(
      why(schedule({0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 4, 1, 2, 1}, {}, 2))
          .find("never combined"),
      std::string::npos);
  EXPECT_NE(why(schedule({0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 4, 1, 2, 1},
                         {0, 0, 0, 0, 2, 0, 0, 0, 0, 2}, 2))
                .find("its row is combined twice"),
            std::string::npos);
  EXPECT_NE(why(schedule({0, 0, 1, 0, 4, 0, 1, -1})).find("outside"),
            std::string::npos);
  EXPECT_NE(why(lace::ScheduleTables{}).find("num_ctas >= 1"),
            std::string::npos);
  // And through the plan.
  lace::KernelPlan plan = causalPlan(300);
  ASSERT_EQ(plan.validate(), "");
  plan.schedule.items[4] -= 1;
  EXPECT_NE(plan.validate().find("schedule: "), std::string::npos);
}

TEST(Bundle, DamagedOrForeignFilesAreClearErrors) {
  const std::string text = lace::writeBundle({bundledBigBird()});
  auto error = [](std::string_view bad) {
    auto read = lace::readBundle(bad, "b.lacebundle");
    EXPECT_FALSE(read);
    return read ? std::string() : read.error().message();
  };
  EXPECT_EQ(
      error("PK\x03\x04zip"),
      "b.lacebundle is not a Lace kernel bundle (no 'lace-bundle' header)");
  EXPECT_NE(error("lace-bundle 2\nplans 0\n")
                .find("is a version 2 bundle; this runtime reads version 4"),
            std::string::npos);
  EXPECT_NE(error(text.substr(0, text.size() / 2)).find("truncated"),
            std::string::npos);
  std::string unknown = text;
  unknown.replace(unknown.find("head_dim"), 8, "head_dix");
  EXPECT_NE(error(unknown).find("b.lacebundle:8: unexpected 'head_dix'"),
            std::string::npos)
      << error(unknown);
  std::string inconsistent = text;
  inconsistent.replace(inconsistent.find("head_to_layout 4"), 16,
                       "head_to_layout 3");
  EXPECT_NE(error(inconsistent).find("announces 3 values and has 4"),
            std::string::npos)
      << error(inconsistent);
  std::string badTables = text;
  badTables.replace(badTables.find("layout_dims "), 12, "layout_dims 9");
  EXPECT_NE(error(badTables).find("inconsistent"), std::string::npos)
      << error(badTables);
}

TEST(CApi, ReportsFailuresAsMessages) {
  lace_compiler *compiler = nullptr;
  EXPECT_EQ(lace_compiler_open("/no/such/file.lace", &compiler), LACE_ERROR);
  EXPECT_EQ(compiler, nullptr);
  EXPECT_NE(std::string(lace_last_error()).find("/no/such/file.lace"),
            std::string::npos);
  EXPECT_EQ(lace_compiler_open(nullptr, &compiler), LACE_ERROR);
  EXPECT_STREQ(lace_last_error(), "lace_compiler_open: path is null");
  ASSERT_EQ(lace_compiler_open_source(
                "c.lace", "pattern c() { mask = causal; }", &compiler),
            LACE_OK);
  lace_shape shape{1, 2, 0, 64, 0};
  lace_plan *plan = nullptr;
  EXPECT_EQ(lace_compiler_plan(compiler, &shape, static_cast<lace_dtype>(7), 64,
                               &plan),
            LACE_ERROR);
  EXPECT_STREQ(lace_last_error(), "lace_compiler_plan: unknown dtype 7");
  ASSERT_EQ(lace_compiler_plan(compiler, &shape, LACE_DTYPE_BF16, 64, &plan),
            LACE_OK);
  EXPECT_GT(lace_plan_density(plan), 0.5);
  EXPECT_EQ(lace_runtime_load(nullptr, plan, nullptr), LACE_ERROR);
  EXPECT_STREQ(lace_last_error(), "lace_runtime_load: runtime is null");
  lace_plan_free(plan);
  lace_compiler_free(compiler);
}

TEST(CApi, PackedDocumentsSkipTilesBetweenDocuments) {
  lace_compiler *compiler = nullptr;
  ASSERT_EQ(
      lace_compiler_open_source(
          "d.lace", "pattern d() { mask = document & causal; }", &compiler),
      LACE_OK);
  lace_shape shape{1, 1, 0, 256, 0};
  lace_plan *plan = nullptr;
  ASSERT_EQ(lace_compiler_plan(compiler, &shape, LACE_DTYPE_F16, 64, &plan),
            LACE_OK)
      << lace_last_error();
  lace_runtime *runtime = nullptr;
  ASSERT_EQ(lace_runtime_create(LACE_BACKEND_EMULATOR, 0, &runtime), LACE_OK)
      << lace_last_error();
  lace_kernel *kernel = nullptr;
  ASSERT_EQ(lace_runtime_load(runtime, plan, &kernel), LACE_OK)
      << lace_last_error();
  // Two documents of 128 tokens over 128 x 64 tiles: the second q-tile row
  // skips the first document's two k-tiles (4 of the 6 causal tiles).
  const int64_t cu[] = {0, 128, 256};
  lace_documents *documents = nullptr;
  ASSERT_EQ(lace_kernel_varlen(kernel, cu, nullptr, 3, &documents), LACE_OK)
      << lace_last_error();
  EXPECT_EQ(lace_documents_computed_tiles(documents), 4);
  EXPECT_EQ(lace_documents_superset_tiles(documents), 6);
  // The build was timed (a layout takes microseconds, not zero), and a
  // null handle reads as 0.
  EXPECT_GT(lace_documents_build_ms(documents), 0.0);
  EXPECT_EQ(lace_documents_build_ms(nullptr), 0.0);
  alignas(16) static std::uint16_t data[256 * 64];
  lace_tensor t{data, {1, 256, 1, 64}, {256 * 64, 64, 64, 1}};
  EXPECT_EQ(lace_kernel_forward_documents(kernel, &t, &t, &t, &t, nullptr,
                                          documents, nullptr, 0.0f),
            LACE_OK)
      << lace_last_error();
  EXPECT_EQ(lace_kernel_forward_documents(kernel, &t, &t, &t, &t, nullptr,
                                          nullptr, nullptr, 0.0f),
            LACE_ERROR);
  EXPECT_STREQ(lace_last_error(),
               "lace_kernel_forward_documents: documents is null");
  alignas(16) static std::uint16_t grads[3][256 * 64];
  lace_tensor dq{grads[0], {1, 256, 1, 64}, {256 * 64, 64, 64, 1}};
  lace_tensor dk{grads[1], {1, 256, 1, 64}, {256 * 64, 64, 64, 1}};
  lace_tensor dv{grads[2], {1, 256, 1, 64}, {256 * 64, 64, 64, 1}};
  std::vector<float> lse(256), delta(256);
  // The kernel was loaded without its backward: a clear error.
  EXPECT_EQ(lace_kernel_backward_documents(
                kernel, &t, &t, &t, &t, &t, lse.data(), &dq, &dk, &dv,
                delta.data(), documents, nullptr, 0.0f),
            LACE_ERROR);
  EXPECT_NE(std::string(lace_last_error()).find("without its backward"),
            std::string::npos);
  const int32_t shortIds[] = {0, 0, 1};
  lace_documents *bad = nullptr;
  EXPECT_EQ(lace_kernel_documents(kernel, shortIds, 3, nullptr, 0, &bad),
            LACE_ERROR);
  EXPECT_STREQ(lace_last_error(), "documents: 3 query ids for seq_q 256");
  lace_documents_free(documents);
  lace_kernel_free(kernel);
  lace_runtime_free(runtime);
  lace_plan_free(plan);
  lace_compiler_free(compiler);
}

} // namespace
