//===- KernelSourceTest.cpp - The assembled kernel source -----------------===//

#include "lace/Runtime/KernelSource.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

using namespace lace::jit;

namespace {

/// Every `#include` target of a source, as written ("x" or <x>).
std::vector<std::string> includes(std::string_view source) {
  std::vector<std::string> out;
  std::istringstream in{std::string(source)};
  std::string line;
  while (std::getline(in, line)) {
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos || line[i] != '#')
      continue;
    std::size_t word = line.find_first_not_of(" \t", i + 1);
    if (word == std::string::npos || line.compare(word, 7, "include") != 0)
      continue;
    std::size_t start = line.find_first_of("\"<", word + 7);
    std::size_t end = line.find_first_of("\">", start + 1);
    out.push_back(line.substr(start, end - start + 1));
  }
  return out;
}

TEST(KernelSource, EmbedsEveryTemplate) {
  std::set<std::string> names;
  for (const EmbeddedHeader &h : KernelSource::headers()) {
    names.insert(std::string(h.name));
    EXPECT_FALSE(h.text.empty()) << h.name;
  }
  EXPECT_TRUE(names.count("lace_arch.cuh"));
  EXPECT_TRUE(names.count("lace_params.cuh"));
  EXPECT_TRUE(names.count("lace_attention_fwd.cuh"));
  EXPECT_EQ(KernelSource::templateVersion().size(), 16u);
  EXPECT_EQ(KernelSource::templateVersion(), kTemplateVersion);
}

// Everything Lace-specific comes from the embedded headers: the assembled
// source includes nothing from disk but CUDA's own headers.
TEST(KernelSource, IncludesOnlyCudaHeaders) {
  KernelSpec spec;
  spec.liveExpr = "k <= q";
  spec.scoreExpr = "30.0f * tanhf(s / 30.0f)";
  const std::string source = KernelSource::generate(spec);
  const std::set<std::string> allowed = {"<cuda_fp16.h>", "<cuda_bf16.h>"};
  const std::vector<std::string> found = includes(source);
  EXPECT_FALSE(found.empty());
  for (const std::string &inc : found)
    EXPECT_TRUE(allowed.count(inc)) << "the source includes " << inc;
  // Each kernel header appears once; the emulator's (lace_emu_*,
  // lace_float16) are embedded for the emulator's source only, and the
  // backward's for the backward source only.
  const std::string backward = KernelSource::generate(spec, Pass::Backward);
  for (const std::string *text : {&source, &backward})
    for (const EmbeddedHeader &h : KernelSource::headers()) {
      const std::string name(h.name);
      const std::string mark = "// ---- begin " + name;
      std::size_t first = text->find(mark);
      if (name.rfind("lace_emu_", 0) == 0 || name == "lace_float16.cuh" ||
          (text == &source && name == "lace_attention_bwd.cuh")) {
        EXPECT_EQ(first, std::string::npos) << name;
        continue;
      }
      EXPECT_NE(first, std::string::npos) << name;
      EXPECT_EQ(text->find(mark, first + 1), std::string::npos) << name;
    }
  EXPECT_EQ(source.find("#pragma once"), std::string::npos);
  EXPECT_EQ(backward.find("#pragma once"), std::string::npos);
}

TEST(KernelSource, GeneratesTraitsPatternAndWrapper) {
  KernelSpec spec;
  spec.dtype = DType::BF16;
  spec.headDim = 128;
  spec.liveExpr = "(q - k) % 7 == 0";
  spec.name = "my_kernel";
  const std::string source = KernelSource::generate(spec);
  EXPECT_NE(source.find("using Element = __nv_bfloat16;"), std::string::npos);
  EXPECT_NE(source.find("kHeadDim = 128;"), std::string::npos);
  EXPECT_NE(source.find("return ((q - k) % 7 == 0);"), std::string::npos);
  EXPECT_NE(source.find("has_score = false;"), std::string::npos);
  EXPECT_NE(source.find("extern \"C\" __global__"), std::string::npos);
  EXPECT_NE(source.find("my_kernel(const lace::LaceFwdParams p)"),
            std::string::npos);
  EXPECT_EQ(source, KernelSource::generate(spec)) << "not deterministic";
  spec.liveExpr = "k <= q";
  EXPECT_NE(source, KernelSource::generate(spec));
}

TEST(KernelSource, FunctionBodiesAsEmitCWritesThem) {
  KernelSpec spec;
  spec.liveBody = "  bool v1 = k <= q;\n  return v1;";
  spec.scoreBody = "  float v2 = s * 0.5f;\n  return v2;";
  const std::string source = KernelSource::generate(spec);
  EXPECT_NE(source.find("bool v1 = k <= q;"), std::string::npos);
  EXPECT_NE(source.find("has_score = true;"), std::string::npos);
}

TEST(KernelSpec, DefaultsAndSharedMemory) {
  KernelSpec spec;
  spec.headDim = 64;
  TileConfig t = spec.resolvedTiles();
  EXPECT_EQ(t.blockM, 128);
  EXPECT_EQ(t.blockN, 64);
  EXPECT_EQ(t.warps, 4); // two 16-row m-tiles per warp
  EXPECT_EQ(t.stages, 2);
  EXPECT_EQ(spec.threads(), 128);
  // Q 128x64 plus 2 stages of K and V 64x64, 2 bytes each, and the ring of
  // {column, kind} per stage.
  EXPECT_EQ(spec.sharedBytes(), (128 * 64 + 2 * 2 * 64 * 64) * 2 + 2 * 2 * 4);
  EXPECT_EQ(spec.validate(), "");
}

TEST(KernelSpec, ValidateSaysWhatIsWrong) {
  KernelSpec spec;
  spec.headDim = 72;
  spec.tiles = {48, 24, 4, 1};
  spec.name = "1bad";
  const std::string why = spec.validate();
  EXPECT_NE(why.find("head dim 72"), std::string::npos) << why;
  EXPECT_NE(why.find("block_m 48"), std::string::npos) << why;
  EXPECT_NE(why.find("block_n 24"), std::string::npos) << why;
  EXPECT_NE(why.find("stages 1"), std::string::npos) << why;
  EXPECT_NE(why.find("'1bad'"), std::string::npos) << why;
}

/// Tiles from options that FwdTile's static_asserts would refuse are said
/// before compiling: too many accumulators, too much shared memory.
TEST(KernelSpec, ForwardLimitsAreSaidBeforeCompiling) {
  KernelSpec spec;
  spec.headDim = 128;
  spec.tiles = {64, 64, 1, 2}; // 4 m-tiles of 16 rows x (16 + 8) tiles
  std::string why = spec.validate();
  EXPECT_NE(why.find("needs 384 accumulator registers"), std::string::npos)
      << why;
  spec.headDim = 256;
  spec.tiles = {128, 128, 8, 4};
  why = spec.validate();
  EXPECT_NE(why.find("bytes of shared memory per CTA (at most 227 KiB)"),
            std::string::npos)
      << why;
  spec.headDim = 128;
  spec.tiles = {128, 64, 4, 2}; // two m-tiles: 192 accumulators, allowed
  EXPECT_EQ(spec.validate(), "");
}

} // namespace

namespace {

TEST(KernelSpec, BackwardLimitsAreSaidBeforeCompiling) {
  KernelSpec spec;
  spec.liveExpr = "k <= q";
  EXPECT_EQ(spec.validate(Pass::Backward), "");
  EXPECT_EQ(spec.backwardDkdvThreads(), 256); // 4 groups x 2 warps
  spec.scoreExpr = "30.0f * tanhf(s / 30.0f)";
  EXPECT_EQ(spec.validate(), "");
  EXPECT_EQ(spec.validate(Pass::Backward),
            "the score has no derivative for the backward");
  spec.scoreGradExpr = "1.0f - tanhf(s / 30.0f) * tanhf(s / 30.0f)";
  EXPECT_EQ(spec.validate(Pass::Backward), "");
  spec.headDim = 256;
  EXPECT_EQ(spec.validate(Pass::Backward),
            "the backward takes head dims up to 128 (dK and dV of 16 keys per "
            "warp would not fit in registers at 256)");
  spec.headDim = 64;
  spec.tiles = {16, 64, 1, 2};
  EXPECT_EQ(spec.validate(), "");
  EXPECT_EQ(spec.validate(Pass::Backward),
            "the backward needs block_m a multiple of 32 (its dkdv kernel "
            "takes 32 queries at a time), not 16");
}

} // namespace
