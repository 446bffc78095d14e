//===- LibraryKernelTest.cpp - every library pattern as a kernel ----------===//
//
// Every library pattern goes through the frontend, lowering, lace-specialize
// and the kernel generator; its `live`/`score` functions are (1) compiled on
// the host and compared with the interpreter on every element of a small
// problem, and (2) compiled into the fused kernel by NVRTC for sm_80 and
// sm_90 in fp16/bf16 x head dim 64/128, with no spill to local memory.
//
//===----------------------------------------------------------------------===//
#include "lace/Codegen/PatternToCpp.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"
#include "lace/Lowering/LowerToLace.h"
#include "lace/Runtime/KernelSource.h"
#include "lace/Runtime/Nvrtc.h"
#include "lace/Transforms/LacePasses.h"

#include "../support/LibraryPatterns.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <random>

namespace fe = lace::frontend;

namespace {

using lace::testing::LibraryPattern;
using lace::testing::smallParams;

std::vector<LibraryPattern> libraryPatterns() {
  return lace::testing::libraryPatterns(/*withSegments=*/true);
}

struct Generated {
  // The instance refers to the program's patterns: keep them alive.
  fe::DiskFileProvider disk;
  std::unique_ptr<fe::SourceManager> sources;
  std::unique_ptr<fe::Program> program;
  lace::PatternFunctions functions;
  std::unique_ptr<fe::Instance> instance;
};

/// Lowers, specialises (heads, seq) and generates the pattern's functions.
std::unique_ptr<Generated> generate(const LibraryPattern &library,
                                    int64_t heads, int64_t seq, bool small,
                                    bool allowNarrow = true) {
  auto generated = std::make_unique<Generated>();
  Generated &out = *generated;
  out.sources = std::make_unique<fe::SourceManager>(out.disk);
  fe::SourceManager &sources = *out.sources;
  fe::DiagnosticEngine diags(sources);
  out.program = std::make_unique<fe::Program>(
      fe::loadProgram(sources, library.file, diags));
  const fe::Pattern *pattern = out.program->find(library.name);
  EXPECT_TRUE(pattern);
  if (!pattern)
    return generated;
  std::vector<fe::ParamOverride> params =
      small ? smallParams(*pattern) : std::vector<fe::ParamOverride>{};
  // Segment masks need run-time ids to instantiate: their kernels are
  // compared with the interpreter end to end instead.
  if (!fe::usesSegments(*pattern)) {
    out.instance =
        fe::instantiate(*pattern, params, {1, heads, seq, seq}, diags);
    EXPECT_TRUE(out.instance) << diags.renderAll();
  }

  mlir::MLIRContext context;
  const fe::Pattern *selected[] = {pattern};
  mlir::OwningOpRef<mlir::ModuleOp> module =
      lace::lowerToLace(context, sources, selected, params);
  mlir::PassManager pm(&context);
  lace::LaceSpecializeOptions options;
  options.patternName = library.name;
  options.heads = heads;
  options.seqQ = seq;
  options.blockM = 64;
  options.blockN = 64;
  options.perHead = false; // one kernel for all heads: `h` stays symbolic
  pm.addPass(lace::createLaceSpecialize(options));
  EXPECT_TRUE(mlir::succeeded(pm.run(*module)));
  mlir::FailureOr<lace::PatternFunctions> functions =
      lace::emitPatternFunctions(*module, allowNarrow);
  EXPECT_TRUE(mlir::succeeded(functions));
  if (mlir::succeeded(functions))
    out.functions = *functions;
  return generated;
}

class LibraryKernel : public ::testing::TestWithParam<LibraryPattern> {};

/// The kernel spec of a pattern's generated functions, default tiles.
lace::jit::KernelSpec kernelSpec(const lace::PatternFunctions &functions,
                                 lace::jit::DType dtype, int headDim,
                                 const std::string &pattern) {
  lace::jit::KernelSpec spec;
  spec.dtype = dtype;
  spec.headDim = headDim;
  spec.liveBody = functions.liveBody;
  spec.scoreBody = functions.scoreBody;
  spec.scoreGradBody = functions.scoreGradBody;
  spec.helpers = functions.helpers;
  spec.name = "lace_" + pattern;
  return spec;
}

/// The generated functions, compiled for the host, agree with the
/// interpreter on every element (and every score) of a small problem.
TEST_P(LibraryKernel, GeneratedFunctionsMatchTheInterpreter) {
  constexpr int64_t kHeads = 3, kSeq = 96;
  // Both integer widths of the live body: 32 bits where the plan allows it
  // (what kernels get), and the 64-bit form the others keep.
  for (const bool allowNarrow : {true, false}) {
    SCOPED_TRACE(allowNarrow ? "32-bit live body allowed" : "64-bit live body");
    std::unique_ptr<Generated> owner =
        generate(GetParam(), kHeads, kSeq, /*small=*/true, allowNarrow);
    Generated &generated = *owner;
    if (fe::usesSegments(*generated.program->find(GetParam().name)))
      GTEST_SKIP() << "segment ids are kernel parameters, which this host "
                      "harness does not build; LaceEndToEndTests runs these "
                      "patterns' kernels against the interpreter";
    ASSERT_TRUE(generated.instance);
    ASSERT_FALSE(generated.functions.liveBody.empty());

    std::filesystem::path dir =
        std::filesystem::temp_directory_path() /
        ("lace-codegen-" + std::to_string(getpid()) + "-" + GetParam().name +
         (allowNarrow ? "-32" : "-64"));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "pattern.cpp")
        << "#include <cmath>\n#define __device__\n#define __forceinline__ "
           "inline\n#define __noinline__ __attribute__((noinline))\n"
        << "#include \"" LACE_SOURCE_DIR "/runtime/kernels/lace_params.cuh\"\n"
        << "#include \"" LACE_SOURCE_DIR
           "/runtime/kernels/lace_semantics.cuh\"\n"
        << generated.functions.helpers
        // One memo across every call, as a tile's elements share one: the
        // loop below changes head, row and column under it.
        << "static lace::LiveMemo memo;\n"
        << "extern \"C\" bool live(int b, int h, int q, int k) {\n"
        << generated.functions.liveBody << "}\n"
        << "extern \"C\" float score(float s, int b, int h, int q, int k) {\n"
        << (generated.functions.scoreBody.empty()
                ? "  return s;\n"
                : generated.functions.scoreBody)
        << "}\n"
        << "extern \"C\" float score_grad(float s, int b, int h, int q, int k) "
           "{\n"
        << (generated.functions.scoreGradBody.empty()
                ? "  return 1.0f;\n"
                : generated.functions.scoreGradBody)
        << "}\n";
    std::string command =
        std::string(LACE_HOST_CXX) + " -std=c++17 -O1 -shared -fPIC -o " +
        (dir / "pattern.so").string() + " " + (dir / "pattern.cpp").string() +
        " 2> " + (dir / "compile.log").string();
    ASSERT_EQ(std::system(command.c_str()), 0)
        << "host compile failed; see " << (dir / "compile.log").string();
    void *handle = dlopen((dir / "pattern.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_TRUE(handle) << dlerror();
    auto live =
        reinterpret_cast<bool (*)(int, int, int, int)>(dlsym(handle, "live"));
    auto score = reinterpret_cast<float (*)(float, int, int, int, int)>(
        dlsym(handle, "score"));
    auto scoreGrad = reinterpret_cast<float (*)(float, int, int, int, int)>(
        dlsym(handle, "score_grad"));
    ASSERT_TRUE(live && score && scoreGrad);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> raw(-40.0f, 40.0f);
    int64_t mismatches = 0;
    for (int64_t h = 0; h < kHeads; ++h)
      for (int64_t q = 0; q < kSeq; ++q)
        for (int64_t k = 0; k < kSeq; ++k) {
          bool expected = generated.instance->mask(0, h, q, k);
          if (live(0, int(h), int(q), int(k)) != expected && ++mismatches < 5)
            ADD_FAILURE() << "live(h=" << h << ", q=" << q << ", k=" << k
                          << ") != interpreter (" << expected << ")";
          float s = raw(rng);
          float want = generated.instance->score(s, 0, h, q, k);
          float got = score(s, 0, int(h), int(q), int(k));
          if (std::fabs(got - want) > 1e-4f * (1.0f + std::fabs(want)) &&
              ++mismatches < 5)
            ADD_FAILURE() << "score(" << s << ", h=" << h << ", q=" << q
                          << ", k=" << k << ") = " << got << ", expected "
                          << want;
          // The backward's derivative, generated from the same IR, against
          // the interpreter's exact one.
          const double slope =
              generated.instance->scoreDerivative(s, 0, h, q, k);
          const float gotSlope = scoreGrad(s, 0, int(h), int(q), int(k));
          if (std::fabs(gotSlope - slope) > 1e-4 * (1.0 + std::fabs(slope)) &&
              ++mismatches < 5)
            ADD_FAILURE() << "score_grad(" << s << ", h=" << h << ", q=" << q
                          << ", k=" << k << ") = " << gotSlope << ", expected "
                          << slope;
        }
    // The memo again, in an order where head, q-block and k-block change
    // independently between calls (a stale answer would show here).
    std::vector<std::array<int, 3>> shuffled;
    for (int h = 0; h < kHeads; ++h)
      for (int q = 0; q < kSeq; ++q)
        for (int k = 0; k < kSeq; ++k)
          shuffled.push_back({h, q, k});
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (const auto &[h, q, k] : shuffled)
      if (live(0, h, q, k) != generated.instance->mask(0, h, q, k) &&
          ++mismatches < 5)
        ADD_FAILURE() << "shuffled: live(h=" << h << ", q=" << q << ", k=" << k
                      << ") != interpreter";
    EXPECT_EQ(mismatches, 0);
    dlclose(handle);
    std::filesystem::remove_all(dir);
  }
}

/// The kernel for the pattern (defaults, 4 heads, 4096 tokens) compiles
/// through NVRTC for sm_80 and sm_90, fp16 and bf16, head dims 64 and 128,
/// without spilling to local memory.
TEST_P(LibraryKernel, CompilesThroughNvrtcWithoutSpills) {
  lace::Expected<const lace::jit::Nvrtc *> nvrtc = lace::jit::Nvrtc::load();
#ifndef LACE_JIT_REQUIRE_NVRTC
  if (!nvrtc)
    GTEST_SKIP() << "no CUDA toolkit at configure time: "
                 << nvrtc.error().str();
#endif
  ASSERT_TRUE(nvrtc) << nvrtc.error().str();
  std::unique_ptr<Generated> owner =
      generate(GetParam(), 4, 4096, /*small=*/false);
  Generated &generated = *owner;
  for (lace::jit::DType dtype : {lace::jit::DType::F16, lace::jit::DType::BF16})
    for (int headDim : {64, 128}) {
      const lace::jit::KernelSpec spec =
          kernelSpec(generated.functions, dtype, headDim, GetParam().name);
      ASSERT_EQ(spec.validate(), "");
      std::string source = lace::jit::KernelSource::generate(spec);
      for (const char *arch : {"sm_80", "sm_90"}) {
        SCOPED_TRACE(std::string(lace::jit::dtypeName(dtype)) + " d" +
                     std::to_string(headDim) + " " + arch);
        lace::Expected<lace::jit::CompiledKernel> kernel =
            (*nvrtc)->compile(source, spec.name, arch);
        ASSERT_TRUE(kernel) << kernel.error().str();
        const lace::jit::PtxasInfo &info = kernel->ptxasInfo;
        ASSERT_TRUE(info.parsed) << kernel->log;
        EXPECT_EQ(info.spillStores, 0) << kernel->log;
        EXPECT_EQ(info.spillLoads, 0) << kernel->log;
        EXPECT_LE(info.registers, 255);
        std::printf("%-32s %-4s d%-3d %s: %3d registers, %6d B stack, "
                    "%.2f s\n",
                    GetParam().name.c_str(),
                    std::string(lace::jit::dtypeName(dtype)).c_str(), headDim,
                    arch, info.registers, info.stackBytes, kernel->seconds);
      }
    }
}

/// CTAs of `threads` threads using `registers` each and `sharedBytes` of
/// dynamic shared memory that fit on one SM of `arch` (the occupancy rules
/// of sm_80 and sm_90: 64K registers allocated per warp in units of 256,
/// 2048 threads, 32 CTAs, 164 / 228 KiB of shared memory with 1 KiB
/// reserved per CTA).
int ctasPerSm(const std::string &arch, int threads, int registers,
              int sharedBytes) {
  const int warps = (threads + 31) / 32;
  const int perWarp = (registers * 32 + 255) / 256 * 256;
  const int byRegisters = 65536 / (perWarp * warps);
  const int smem = (arch == "sm_80" ? 164 : 228) * 1024;
  const int bySmem = smem / (sharedBytes + 1024);
  return std::min({byRegisters, bySmem, 2048 / threads, 32});
}

/// The backward kernels (dq and dkdv) of the pattern compile through NVRTC
/// for sm_80 and sm_90, fp16 and bf16, head dims 64 and 128, without
/// spilling; registers, shared memory and occupancy are printed for
/// bench/RESULTS.md.
TEST_P(LibraryKernel, BackwardCompilesThroughNvrtcWithoutSpills) {
  lace::Expected<const lace::jit::Nvrtc *> nvrtc = lace::jit::Nvrtc::load();
#ifndef LACE_JIT_REQUIRE_NVRTC
  if (!nvrtc)
    GTEST_SKIP() << "no CUDA toolkit at configure time: "
                 << nvrtc.error().str();
#endif
  ASSERT_TRUE(nvrtc) << nvrtc.error().str();
  std::unique_ptr<Generated> owner =
      generate(GetParam(), 4, 4096, /*small=*/false);
  Generated &generated = *owner;
  for (lace::jit::DType dtype : {lace::jit::DType::F16, lace::jit::DType::BF16})
    for (int headDim : {64, 128}) {
      const lace::jit::KernelSpec spec =
          kernelSpec(generated.functions, dtype, headDim, GetParam().name);
      ASSERT_EQ(spec.validate(lace::jit::Pass::Backward), "");
      std::string source =
          lace::jit::KernelSource::generate(spec, lace::jit::Pass::Backward);
      for (const char *arch : {"sm_80", "sm_90"}) {
        SCOPED_TRACE(std::string(lace::jit::dtypeName(dtype)) + " d" +
                     std::to_string(headDim) + " " + arch);
        lace::Expected<lace::jit::CompiledKernel> kernel =
            (*nvrtc)->compile(source, spec.name + "_bwd", arch);
        ASSERT_TRUE(kernel) << kernel.error().str();
        const lace::jit::PtxasInfo dq =
            lace::jit::parsePtxasInfo(kernel->log, spec.dqKernelName());
        const lace::jit::PtxasInfo dkdv =
            lace::jit::parsePtxasInfo(kernel->log, spec.dkdvKernelName());
        ASSERT_TRUE(dq.parsed && dkdv.parsed) << kernel->log;
        // No local arrays either: every accumulator index is a constant
        // after unrolling (a loop left rolled puts them on the stack). The
        // one frame allowed is that of BigBird's out-of-line generator, its
        // 64-entry set (512 bytes), which ptxas counts in its caller's.
        const int allowedStack =
            spec.helpers.find("lace_random_live") != std::string::npos ? 512
                                                                       : 0;
        for (const lace::jit::PtxasInfo *info : {&dq, &dkdv}) {
          EXPECT_EQ(info->spillStores, 0) << kernel->log;
          EXPECT_EQ(info->spillLoads, 0) << kernel->log;
          EXPECT_LE(info->stackBytes, allowedStack) << kernel->log;
          EXPECT_LE(info->registers, 255);
        }
        const int dqSmem = spec.backwardDqSharedBytes();
        const int dkdvSmem = spec.backwardDkdvSharedBytes();
        std::printf(
            "%-28s %-4s d%-3d %s: dq %3d regs %6d B smem %d CTA/SM, dkdv %3d "
            "regs %6d B smem %d CTA/SM, spills %d/%d B, %.2f s\n",
            GetParam().name.c_str(),
            std::string(lace::jit::dtypeName(dtype)).c_str(), headDim, arch,
            dq.registers, dqSmem,
            ctasPerSm(arch, spec.backwardDqThreads(), dq.registers, dqSmem),
            dkdv.registers, dkdvSmem,
            ctasPerSm(arch, spec.backwardDkdvThreads(), dkdv.registers,
                      dkdvSmem),
            dq.spillStores, dkdv.spillStores, kernel->seconds);
      }
    }
}

/// The live body computes in 32 bits exactly when every value it forms is
/// bounded at plan time: library patterns at 4096 tokens do; a predicate (the
/// user's own arithmetic), an operand of 2^30 or more, or a sequence that
/// long keep 64 bits.
TEST(KernelGenerator, ThirtyTwoBitArithmeticOnlyWhenBounded) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("lace-codegen-narrow-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "narrow.lace")
      << "pattern window(w: int = 256) { mask = local(before = w, after = 0); "
         "}\n"
         "pattern huge_window() { mask = local(before = 1073741824, after = "
         "0); }\n"
         "pattern predicate() { mask = (q - k) % 3 == 0; }\n";
  const std::string file = (dir / "narrow.lace").string();
  auto narrow = [&](const std::string &name, int64_t seq) {
    std::unique_ptr<Generated> generated =
        generate({file, name}, 2, seq, /*small=*/false);
    return generated->functions.narrow &&
           generated->functions.liveBody.find("const int Q") !=
               std::string::npos;
  };
  EXPECT_TRUE(narrow("window", 4096));
  EXPECT_FALSE(narrow("huge_window", 4096));
  EXPECT_FALSE(narrow("predicate", 4096));
  EXPECT_FALSE(narrow("window", int64_t{1} << 30));
  for (const LibraryPattern &library : libraryPatterns()) {
    std::unique_ptr<Generated> generated =
        generate(library, 4, 4096, /*small=*/false);
    const bool hasPredicate = generated->functions.liveBody.find(
                                  "[&](long long b") != std::string::npos;
    EXPECT_EQ(generated->functions.narrow, !hasPredicate) << library.name;
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Library, LibraryKernel,
                         ::testing::ValuesIn(libraryPatterns()),
                         [](const auto &info) { return info.param.name; });

} // namespace
