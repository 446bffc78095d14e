//===- EndToEndSupport.h - The emulator runtime and cases of e2e tests ----===//
//
// Shared by the forward and backward end-to-end tests (one test binary):
// the emulator runtime (threads shuffled after every barrier), the
// replayable case description, library patterns with small parameters and
// the stable per-name seed.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TESTS_E2E_ENDTOENDSUPPORT_H
#define LACE_TESTS_E2E_ENDTOENDSUPPORT_H

#include "lace/Compiler.h"
#include "lace/Reference.h"
#include "lace/Runtime/Runtime.h"

#include "../support/LibraryPatterns.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace lace::testing {

/// The relative error bound for 16-bit inputs (docs/verification.md).
inline constexpr double kTolerance = 1e-2;

inline std::uint64_t baseSeed() {
  if (const char *env = std::getenv("LACE_E2E_SEED"))
    return std::strtoull(env, nullptr, 10);
  return 20261129;
}

inline lace::Runtime &emulator() {
  static std::unique_ptr<lace::Runtime> runtime = [] {
    lace::RuntimeOptions options;
    options.backend = lace::Backend::Emulator;
    // Threads resume in a new order after every barrier: a missing
    // __syncthreads in the kernel changes results instead of hiding.
    options.emulatorShuffleSeed = baseSeed();
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

inline std::unique_ptr<lace::Compiler> load(const LibraryPattern &library,
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

/// FNV-1a: the same seed for a name everywhere.
inline std::uint64_t stableHash(const std::string &text) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

} // namespace lace::testing

#endif // LACE_TESTS_E2E_ENDTOENDSUPPORT_H
