//===- EndToEndTest.cpp - Kernels run on the emulator vs the reference ----===//
//
// Layer 4 of docs/verification: each library pattern is compiled (frontend,
// lowering, layout pipeline, kernel generation), loaded by the runtime's
// emulator backend and run on seeded random inputs; O and LSE are compared
// with the float64 dense reference on the interpreter. Outputs are poisoned
// (NaN) before every run, so anything left unwritten fails.
//
//===----------------------------------------------------------------------===//
#include "lace/Compiler.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Reference.h"
#include "lace/Runtime/Runtime.h"

#include "../support/LibraryPatterns.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>

namespace {

using lace::testing::LibraryPattern;

/// The relative error bound for 16-bit inputs (docs/verification.md).
constexpr double kTolerance = 1e-2;

lace::Runtime &emulator() {
  static std::unique_ptr<lace::Runtime> runtime = [] {
    lace::RuntimeOptions options;
    options.backend = lace::Backend::Emulator;
    lace::CacheConfig cache;
    cache.directory = LACE_TEST_CACHE_DIR;
    options.cache = cache;
    auto created = lace::Runtime::create(options);
    if (!created) {
      std::fprintf(stderr, "%s\n", created.error().str().c_str());
      std::abort();
    }
    return std::move(*created);
  }();
  return *runtime;
}

/// Everything one run needs to be replayed from a failure message.
struct Case {
  lace::ProblemShape shape;
  lace::DType dtype = lace::DType::F16;
  int headDim = 64;
  std::uint64_t seed = 1;
  lace::jit::TileConfig tiles;

  std::string describe() const {
    return std::string(lace::jit::dtypeName(dtype)) + " d" +
           std::to_string(headDim) + " batch " + std::to_string(shape.batch) +
           " heads " + std::to_string(shape.heads) + "/" +
           std::to_string(shape.kvHeads) + " seq " +
           std::to_string(shape.seqQ) + "x" + std::to_string(shape.seqK) +
           " seed " + std::to_string(seed);
  }
};

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
      lace::randomInputs(s, c.dtype, c.headDim, c.seed);
  std::vector<std::uint16_t> o(static_cast<std::size_t>(
                                   s.batch * s.seqQ * s.heads * c.headDim),
                               0xffff); // NaN in both formats
  std::vector<float> lse(static_cast<std::size_t>(s.batch * s.heads * s.seqQ),
                         std::numeric_limits<float>::quiet_NaN());
  auto q = lace::TensorRef::contiguous(in.q.data(), s.batch, s.seqQ, s.heads,
                                       c.headDim);
  auto k = lace::TensorRef::contiguous(in.k.data(), s.batch, s.seqK,
                                       s.kvHeads, c.headDim);
  auto v = lace::TensorRef::contiguous(in.v.data(), s.batch, s.seqK,
                                       s.kvHeads, c.headDim);
  auto out = lace::TensorRef::contiguous(o.data(), s.batch, s.seqQ, s.heads,
                                         c.headDim);
  if (auto error = (*kernel)->forward(q, k, v, out, lse.data())) {
    ADD_FAILURE() << error->str();
    return {};
  }
  auto instance = compiler.instantiate(s);
  if (!instance) {
    ADD_FAILURE() << instance.error().str();
    return {};
  }
  return lace::compareWithReference(
      lace::referenceAttention(**instance, in), in, o, lse, kTolerance);
}

std::unique_ptr<lace::Compiler> load(const LibraryPattern &library,
                                     bool smallParams) {
  auto compiler = lace::Compiler::fromFile(library.file);
  EXPECT_TRUE(compiler) << compiler.error().str();
  if (!compiler)
    return nullptr;
  EXPECT_FALSE((*compiler)->select(library.name));
  if (smallParams) {
    lace::frontend::DiskFileProvider disk;
    lace::frontend::SourceManager sources(disk);
    lace::frontend::DiagnosticEngine diags(sources);
    lace::frontend::Program program =
        lace::frontend::loadProgram(sources, library.file, diags);
    for (const auto &param :
         lace::testing::smallParams(*program.find(library.name)))
      (*compiler)->setParam(param.name, param.value);
  }
  return std::move(*compiler);
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
      c.seed = std::hash<std::string>{}(GetParam().name) % 100000 +
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
    ::testing::ValuesIn(lace::testing::libraryPatterns(false)),
    [](const auto &info) { return info.param.name; });

} // namespace
