//===- KernelSource.cpp - Assembles the CUDA C++ source of a kernel -------===//

#include "lace/Runtime/KernelSource.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace lace::jit {

namespace detail {
// Defined in the build-generated LaceEmbeddedKernels.cpp.
extern const EmbeddedHeader kEmbeddedHeaders[];
extern const std::size_t kNumEmbeddedHeaders;
extern const char kEmbeddedVersion[];
} // namespace detail

const std::string_view kTemplateVersion = detail::kEmbeddedVersion;

std::string_view passName(Pass pass) {
  return pass == Pass::Forward ? "forward" : "backward";
}

std::string_view dtypeName(DType dtype) {
  return dtype == DType::F16 ? "f16" : "bf16";
}

TileConfig defaultTiles(int headDim) {
  // Measured by `lace-kernel-report [--candidates]` (bench/RESULTS.md):
  // - d <= 64: FlashAttention-2's 128 x 64 with 4 warps, two 16-row m-tiles
  //   per warp: 242-255 registers without spills, 2 CTAs (8 warps) per SM,
  //   160 shared-memory bytes per MMA (288 with one m-tile per warp).
  // - d <= 128: 64 x 64 with 4 warps, one m-tile per warp: 2 CTAs per SM.
  //   Two m-tiles (128 x 64, 4 warps) spill 24-332 bytes; 128 x 64 with 8
  //   warps fits (halving L2 -> SM bytes per MMA) but at 1 CTA per SM, a
  //   trade only a GPU can judge.
  // - d 256: 64 x 32 with 4 warps keeps the accumulators within registers.
  if (headDim <= 64)
    return {128, 64, 4, 2};
  if (headDim <= 128)
    return {64, 64, 4, 2};
  return {64, 32, 4, 2};
}

TileConfig KernelSpec::resolvedTiles() const {
  TileConfig defaults = defaultTiles(headDim);
  TileConfig t = tiles;
  if (t.blockM == 0)
    t.blockM = defaults.blockM;
  if (t.blockN == 0)
    t.blockN = defaults.blockN;
  if (t.warps == 0)
    t.warps = defaults.warps;
  if (t.stages == 0)
    t.stages = defaults.stages;
  return t;
}

int KernelSpec::sharedBytes() const {
  TileConfig t = resolvedTiles();
  // Q, the K and V rings, then the ring of {column, kind} per stage.
  return (t.blockM * headDim + 2 * t.stages * t.blockN * headDim) * 2 +
         2 * t.stages * 4;
}

int KernelSpec::backwardDqSharedBytes() const {
  const TileConfig t = resolvedTiles();
  return sharedBytes() + t.blockM * headDim * 2 + t.blockM * 4;
}

int KernelSpec::backwardDqThreads() const {
  return std::min(resolvedTiles().blockM / 16, 8) * 32;
}

/// DkdvTile's split (lace_attention_bwd.cuh): up to 4 groups of 16 keys,
/// each shared by 2 warps (queries in phase A, head dims in phase B).
static int dkdvParts(const TileConfig &t) { return t.blockN <= 64 ? 2 : 1; }

int KernelSpec::backwardDkdvThreads() const {
  const TileConfig t = resolvedTiles();
  return t.blockN / 16 * dkdvParts(t) * 32;
}

int KernelSpec::backwardDkdvSharedBytes() const {
  // K and V, two stages of Q and dO, the P^T and dS^T chunks
  // ([block_n][32]), two stages of LSE and D per row.
  const TileConfig t = resolvedTiles();
  return (2 * t.blockN * headDim + 4 * t.blockM * headDim) * 2 +
         2 * t.blockN * 32 * 2 + 4 * t.blockM * 4;
}

static bool isIdentifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9'))
    return false;
  for (char c : s)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return false;
  return true;
}

std::string KernelSpec::validate(Pass pass) const {
  TileConfig t = resolvedTiles();
  std::ostringstream why;
  if (headDim % 16 != 0 || headDim < 32 || headDim > 256)
    why << "head dim " << headDim << " is not a multiple of 16 in [32, 256]; ";
  if (t.warps < 1 || t.warps > 8)
    why << "warps " << t.warps << " is not in [1, 8]; ";
  else if (t.blockM % (16 * t.warps) != 0 || t.blockM / (16 * t.warps) > 4)
    why << "block_m " << t.blockM << " does not give each of " << t.warps
        << " warps 1 to 4 whole 16-row tiles; ";
  if (t.blockN % 16 != 0 || t.blockN < 16 || t.blockN > 256)
    why << "block_n " << t.blockN << " is not a multiple of 16 in [16, 256]; ";
  if (t.stages < 2 || t.stages > 4)
    why << "stages " << t.stages << " is not in [2, 4]; ";
  // FwdTile's static_asserts, said before compiling (tiles from options).
  if (t.warps >= 1 && t.warps <= 8 && t.blockM % (16 * t.warps) == 0 &&
      t.blockN % 8 == 0) {
    const int forwardAccumulators =
        t.blockM / t.warps / 16 * (headDim / 8 + t.blockN / 8) * 4;
    if (forwardAccumulators > 192)
      why << "block " << t.blockM << "x" << t.blockN << " with " << t.warps
          << " warps at head dim " << headDim << " needs "
          << forwardAccumulators
          << " accumulator registers per thread (at most 192); ";
  }
  if (sharedBytes() > 227 * 1024)
    why << "the forward needs " << sharedBytes()
        << " bytes of shared memory per CTA (at most 227 KiB); ";
  if (!isIdentifier(name))
    why << "kernel name '" << name << "' is not a C identifier; ";
  if (liveExpr.empty() && liveBody.empty())
    why << "no live expression; ";
  if (pass == Pass::Backward && hasScore() && !hasScoreGrad())
    why << "the score has no derivative for the backward; ";
  if (pass == Pass::Backward) {
    // The static_asserts of DqTile and DkdvTile, said before compiling.
    const int dqRowTiles = t.blockM / 16 / std::min(t.blockM / 16, 8);
    const int dqAccumulators =
        dqRowTiles * (headDim / 8 + 2 * (t.blockN / 8)) * 4;
    const int parts = dkdvParts(t);
    const int dkdvAccumulators =
        (2 * (headDim / parts / 8) + 2 * (32 / parts / 8)) * 4;
    if (headDim > 128)
      why << "the backward takes head dims up to 128 (dK and dV of 16 keys "
             "per warp would not fit in registers at "
          << headDim << "); ";
    else if (t.blockM % 32 != 0)
      why << "the backward needs block_m a multiple of 32 (its dkdv kernel "
             "takes 32 queries at a time), not "
          << t.blockM << "; ";
    else if (headDim / parts % 16 != 0)
      why << "head dim " << headDim << " does not split into " << parts
          << " parts of whole 16-column blocks; ";
    else if (dqAccumulators > 192)
      why << "block " << t.blockM << "x" << t.blockN << " at head dim "
          << headDim << " needs " << dqAccumulators
          << " accumulator registers per dq thread (at most 192); ";
    else if (dkdvAccumulators > 192)
      why << "head dim " << headDim << " needs " << dkdvAccumulators
          << " accumulator registers per dkdv thread (at most 192); ";
    if (backwardDqSharedBytes() > 227 * 1024 ||
        backwardDkdvSharedBytes() > 227 * 1024)
      why << "the backward needs " << backwardDqSharedBytes() << " / "
          << backwardDkdvSharedBytes()
          << " bytes of shared memory per CTA (at most 227 KiB); ";
  }
  std::string s = why.str();
  if (!s.empty())
    s.resize(s.size() - 2);
  return s;
}

std::span<const EmbeddedHeader> KernelSource::headers() {
  return {detail::kEmbeddedHeaders, detail::kNumEmbeddedHeaders};
}

std::string_view KernelSource::templateVersion() { return kTemplateVersion; }

static const EmbeddedHeader *findHeader(std::string_view name) {
  for (const EmbeddedHeader &h : KernelSource::headers())
    if (h.name == name)
      return &h;
  return nullptr;
}

/// The quoted file name of an `#include "..."` line, or empty.
static std::string_view quotedInclude(std::string_view line) {
  std::size_t i = line.find_first_not_of(" \t");
  if (i == std::string_view::npos || line[i] != '#')
    return {};
  i = line.find_first_not_of(" \t", i + 1);
  if (i == std::string_view::npos || line.substr(i, 7) != "include")
    return {};
  std::size_t open = line.find('"', i + 7);
  if (open == std::string_view::npos)
    return {};
  std::size_t close = line.find('"', open + 1);
  if (close == std::string_view::npos)
    return {};
  return line.substr(open + 1, close - open - 1);
}

static bool isPragmaOnce(std::string_view line) {
  std::size_t i = line.find_first_not_of(" \t");
  return i != std::string_view::npos && line.substr(i, 12) == "#pragma once";
}

static void inlineInto(const EmbeddedHeader &header,
                       std::set<std::string_view> &done, std::string &out) {
  if (!done.insert(header.name).second)
    return;
  out += "// ---- begin ";
  out += header.name;
  out += " (embedded) ----\n";
  std::string_view text = header.text;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{}
                                         : text.substr(end + 1);
    std::string_view included = quotedInclude(line);
    if (const EmbeddedHeader *dep =
            included.empty() ? nullptr : findHeader(included)) {
      inlineInto(*dep, done, out);
      continue;
    }
    if (isPragmaOnce(line))
      continue;
    out += line;
    out += '\n';
  }
  out += "// ---- end ";
  out += header.name;
  out += " ----\n";
}

std::string KernelSource::inlined(std::string_view headerName) {
  const EmbeddedHeader *header = findHeader(headerName);
  if (!header)
    return {};
  std::set<std::string_view> done;
  std::string out;
  inlineInto(*header, done, out);
  return out;
}

static std::size_t countLines(const std::string &s) {
  std::size_t n = 0;
  for (char c : s)
    n += c == '\n';
  return n;
}

/// Appends `static ... name(params) { body }`, the user text under a #line
/// of its own so that NVRTC's messages name it, then restores the line
/// numbering of the generated file.
static void appendUserFunction(std::string &out, const std::string &fileName,
                               std::string_view signature,
                               const std::string &expr, const std::string &body,
                               std::string_view label) {
  out += "  static __device__ __forceinline__ ";
  out += signature;
  out += " {\n";
  if (signature.find("LaceFwdParams &p") != std::string_view::npos)
    out += "    (void)p; // read by patterns with `segment`\n";
  if (signature.find("LiveMemo &memo") != std::string_view::npos)
    out += "    (void)memo; // used by random-block tests\n";
  out += "#line 1 \"";
  out += label;
  out += "\"\n";
  if (!body.empty()) {
    out += body;
    out += '\n';
  } else {
    out += "    return (" + expr + ");\n";
  }
  out += "#line " + std::to_string(countLines(out) + 2) + " \"" + fileName +
         "\"\n";
  out += "  }\n";
}

std::string KernelSource::generate(const KernelSpec &spec, Pass pass) {
  const TileConfig t = spec.resolvedTiles();
  const bool forward = pass == Pass::Forward;
  const std::string fileName = spec.name + (forward ? ".cu" : "_bwd.cu");
  std::string out;
  out += "// Generated by Lace KernelSource (template " +
         std::string(kTemplateVersion) + ")\n";
  out += "// " + std::string(passName(pass)) + " kernels of " + spec.name +
         ": " + std::string(dtypeName(spec.dtype)) + ", head_dim " +
         std::to_string(spec.headDim) + ", block " + std::to_string(t.blockM) +
         "x" + std::to_string(t.blockN) + ", " + std::to_string(t.warps) +
         " warps, " + std::to_string(t.stages) + " stages, " +
         std::to_string(forward ? spec.sharedBytes()
                                : spec.backwardDqSharedBytes()) +
         (forward ? "" : "/" + std::to_string(spec.backwardDkdvSharedBytes())) +
         " bytes of dynamic shared memory\n";
  out += "#line " + std::to_string(countLines(out) + 2) + " \"" + fileName +
         "\"\n";
  out += inlined(forward ? "lace_attention_fwd.cuh" : "lace_attention_bwd.cuh");
  out += "#line " + std::to_string(countLines(out) + 2) + " \"" + fileName +
         "\"\n";

  out += "\nstruct LaceTraits {\n";
  out += std::string("  using Element = ") +
         (spec.dtype == DType::F16 ? "half" : "__nv_bfloat16") + ";\n";
  out += "  static constexpr int kHeadDim = " + std::to_string(spec.headDim) +
         ";\n";
  out += "  static constexpr int kBlockM = " + std::to_string(t.blockM) + ";\n";
  out += "  static constexpr int kBlockN = " + std::to_string(t.blockN) + ";\n";
  out += "  static constexpr int kWarps = " + std::to_string(t.warps) + ";\n";
  out += "  static constexpr int kStages = " + std::to_string(t.stages) + ";\n";
  out += "};\n\n";

  if (!spec.helpers.empty())
    out += "// Helpers of the pattern's functions\n" + spec.helpers + "\n";
  out += "struct LacePattern {\n";
  out += std::string("  static constexpr bool has_score = ") +
         (spec.hasScore() ? "true" : "false") + ";\n";
  appendUserFunction(out, fileName,
                     "bool live(const lace::LaceFwdParams &p, int b, int h, "
                     "int q, int k, lace::LiveMemo &memo)",
                     spec.liveExpr, spec.liveBody, "lace_pattern_live");
  // Callers that evaluate one element at a time (the backward).
  out += "  static __device__ __forceinline__ bool live(const "
         "lace::LaceFwdParams &p, int b, int h, int q, int k) {\n"
         "    lace::LiveMemo memo;\n"
         "    return live(p, b, h, q, k, memo);\n"
         "  }\n";
  appendUserFunction(out, fileName,
                     "float score(float s, int b, int h, int q, int k)",
                     spec.hasScore() ? spec.scoreExpr : "s", spec.scoreBody,
                     "lace_pattern_score");
  if (!forward)
    appendUserFunction(out, fileName,
                       "float score_grad(float s, int b, int h, int q, int k)",
                       spec.hasScoreGrad() ? spec.scoreGradExpr : "1.0f",
                       spec.scoreGradBody, "lace_pattern_score_grad");
  out += "};\n\n";

  const std::string threads = std::to_string(t.warps * 32);
  if (forward) {
    out += "static_assert(lace::FwdTile<LaceTraits>::kSmemBytes == " +
           std::to_string(spec.sharedBytes()) +
           ", \"the host and the kernel disagree on the shared memory "
           "size\");\n";
    out += "static_assert(lace::FwdTile<LaceTraits>::kThreads == " + threads +
           ", \"threads per CTA\");\n\n";
    // Minimum one CTA per SM: the persistent grid is sized to what fits,
    // and without it ptxas caps registers at 128 and spills for d 32.
    out += "// Grid (num_ctas): persistent CTAs walking the work list.\n";
    out += "extern \"C\" __global__ void __launch_bounds__(" + threads +
           ", 1)\n" + spec.name +
           "(const lace::LaceFwdParams p) {\n"
           "  lace::attention_fwd_persistent<LaceTraits, LacePattern>(p);\n"
           "}\n";
    out += "// Grid (num_combines): merges the pieces of split rows.\n";
    out += "extern \"C\" __global__ void __launch_bounds__(" + threads + ")\n" +
           spec.combineKernelName() +
           "(const lace::LaceFwdParams p) {\n"
           "  lace::attention_combine<LaceTraits>(p);\n"
           "}\n";
    return out;
  }
  const std::string dkdvThreads = std::to_string(spec.backwardDkdvThreads());
  out += "static_assert(lace::DqTile<LaceTraits>::kSmemBytes == " +
         std::to_string(spec.backwardDqSharedBytes()) +
         ", \"the host and the dq kernel disagree on the shared memory "
         "size\");\n";
  out += "static_assert(lace::DkdvTile<LaceTraits>::kSmemBytes == " +
         std::to_string(spec.backwardDkdvSharedBytes()) +
         ", \"the host and the dkdv kernel disagree on the shared memory "
         "size\");\n";
  out +=
      "static_assert(lace::DkdvTile<LaceTraits>::kThreads == " + dkdvThreads +
      ", \"threads per dkdv CTA\");\n\n";
  const std::string dqThreads = std::to_string(spec.backwardDqThreads());
  out += "static_assert(lace::DqTile<LaceTraits>::kThreads == " + dqThreads +
         ", \"threads per dq CTA\");\n";
  out += "// Grid (q-tiles, heads, batch).\n";
  out += "extern \"C\" __global__ void __launch_bounds__(" + dqThreads + ")\n" +
         spec.dqKernelName() +
         "(const lace::LaceBwdParams p) {\n"
         "  lace::attention_bwd_dq_item<LaceTraits, LacePattern>(\n"
         "      p, blockIdx.z, blockIdx.y, blockIdx.x, "
         "lace::arch::dynamic_smem());\n"
         "}\n";
  out += "// Grid (k-tiles, kv heads, batch).\n";
  out += "extern \"C\" __global__ void __launch_bounds__(" + dkdvThreads +
         ", 1)\n" + spec.dkdvKernelName() +
         "(const lace::LaceBwdParams p) {\n"
         "  lace::attention_bwd_dkdv_item<LaceTraits, LacePattern>(\n"
         "      p, blockIdx.z, blockIdx.y, blockIdx.x, "
         "lace::arch::dynamic_smem());\n"
         "}\n";
  return out;
}

} // namespace lace::jit
