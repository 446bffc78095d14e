//===- KernelReport.cpp - Forward-kernel resources and occupancy ----------===//
//
// For every pattern of patterns/*.lace (default parameters) x {f16, bf16} x
// head dim {64, 128} x {sm_80, sm_90}: the generated forward module compiled
// by NVRTC, ptxas's registers, spills and static shared memory of the
// persistent entry, the dynamic shared memory of its tile configuration,
// and the CTAs and warps per SM those allow under the architecture's
// occupancy rules. Then, per tile configuration, the bytes one k-tile step
// moves per m16n8k16 MMA (shared-memory reads and L2->SM loads), computed
// from the kernel's structure (docs/kernels.md).
//
//   lace-kernel-report [--quick | --candidates]
//     --quick: causal only; --candidates: the tile configurations weighed
//     against the defaults (kCandidates), f16, for a few patterns
//
//===----------------------------------------------------------------------===//
#include "lace/Compiler.h"
#include "lace/Runtime/KernelSource.h"
#include "lace/Runtime/Nvrtc.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace {

/// The occupancy rules both architectures share (CUDA programming guide,
/// "Compute capabilities"), and the shared memory that differs.
struct Arch {
  const char *name;
  int sharedPerSM; ///< bytes a CTA set may use per SM
};
constexpr Arch kArchs[] = {{"sm_80", 167936}, {"sm_90", 233472}};
constexpr int kRegistersPerSM = 65536;
constexpr int kMaxWarpsPerSM = 64;
constexpr int kMaxCtasPerSM = 32;
constexpr int kReservedSharedPerCta = 1024; ///< the driver's, per CTA
constexpr int kRegisterUnit = 256;          ///< a warp's allocation unit

struct Occupancy {
  int ctas = 0;
  const char *limit = "";
};

Occupancy occupancy(const Arch &arch, int registers, int threads,
                    int sharedBytes) {
  const int warps = (threads + 31) / 32;
  const int perWarp =
      (registers * 32 + kRegisterUnit - 1) / kRegisterUnit * kRegisterUnit;
  const int byRegisters =
      perWarp > 0 ? std::min(kRegistersPerSM / perWarp, kMaxWarpsPerSM) / warps
                  : kMaxCtasPerSM;
  const int byThreads = kMaxWarpsPerSM / warps;
  const int byShared = arch.sharedPerSM / (sharedBytes + kReservedSharedPerCta);
  Occupancy o{std::min({byRegisters, byThreads, byShared, kMaxCtasPerSM}), ""};
  o.limit = o.ctas == byRegisters ? "registers"
            : o.ctas == byShared  ? "shared memory"
            : o.ctas == byThreads ? "threads"
                                  : "CTAs";
  return o;
}

/// One k-tile step of the forward (lace_attention_fwd.cuh): every warp reads
/// its Q rows and all of the K and V tiles from shared memory by ldmatrix;
/// the CTA loads K and V (cp.async) once; QK^T and PV issue
/// 2 * block_m * block_n * head_dim / (16 * 8 * 16) MMAs.
void bytesPerMma(int headDim, const lace::jit::TileConfig &t) {
  const double elem = 2;
  const double mmas = 2.0 * t.blockM * t.blockN * headDim / (16 * 8 * 16);
  const double shared =
      (double(t.warps) * 2 * t.blockN * headDim + double(t.blockM) * headDim) *
      elem;
  const double global = 2.0 * t.blockN * headDim * elem;
  std::printf("d%-4d %4dx%-4d %5d %8.0f %12.0f %12.1f %12.0f %12.1f\n", headDim,
              t.blockM, t.blockN, t.warps, mmas, shared, shared / mmas, global,
              global / mmas);
}

/// One row of the report: the pattern's forward for `tiles` (zero fields:
/// the defaults) compiled for each architecture. False on a failure (said
/// on stderr).
bool reportPattern(
    const lace::jit::Nvrtc &nvrtc, lace::Compiler &compiler,
    const std::string &name, lace::DType dtype, int headDim,
    const lace::jit::TileConfig &tiles,
    std::map<std::pair<int, std::string>, lace::jit::TileConfig> &configs) {
  lace::PlanOptions options;
  options.dtype = dtype;
  options.headDim = headDim;
  options.tiles = tiles;
  auto plan = compiler.plan({1, 4, 0, 4096, 0}, options);
  if (!plan) // patterns whose parameters have no defaults are skipped
    return true;
  const lace::jit::TileConfig t = plan->spec.resolvedTiles();
  char label[32];
  std::snprintf(label, sizeof label, "%dx%d/%dw", t.blockM, t.blockN, t.warps);
  configs[{headDim, label}] = t;
  const std::string source =
      lace::jit::KernelSource::generate(plan->spec, lace::jit::Pass::Forward);
  bool ok = true;
  for (const Arch &arch : kArchs) {
    auto compiled = nvrtc.compile(source, plan->spec.name, arch.name);
    if (!compiled) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(),
                   compiled.error().str().c_str());
      ok = false;
      continue;
    }
    const lace::jit::PtxasInfo &info = compiled->ptxasInfo;
    const int shared = plan->spec.sharedBytes() + info.sharedBytes;
    const Occupancy o =
        occupancy(arch, info.registers, plan->spec.threads(), shared);
    std::printf("%-30s %-5s %4d %-12s %-6s %5d %3d/%-3d %7d %5d %6d  %s\n",
                name.c_str(), std::string(lace::jit::dtypeName(dtype)).c_str(),
                headDim, label, arch.name, info.registers, info.spillStores,
                info.spillLoads, shared, o.ctas, o.ctas * t.warps, o.limit);
    std::fflush(stdout);
  }
  return ok;
}

/// Tile configurations weighed against the defaults (docs/kernels.md):
/// FlashAttention-2's two m-tiles per warp, and 8 warps at d 128.
const std::map<int, std::vector<lace::jit::TileConfig>> kCandidates = {
    {64, {{0, 0, 0, 0}, {128, 64, 4, 2}, {64, 64, 4, 2}}},
    {128, {{0, 0, 0, 0}, {128, 64, 4, 2}, {128, 64, 8, 2}, {128, 32, 4, 2}}},
};
const char *const kCandidatePatterns[] = {
    "dense",          "causal_attention",
    "sliding_window", "sparse_transformer_strided",
    "bigbird",        "document_causal"};

} // namespace

int main(int argc, char **argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const bool candidates = argc > 1 && std::strcmp(argv[1], "--candidates") == 0;
  auto nvrtc = lace::jit::Nvrtc::load();
  if (!nvrtc) {
    std::fprintf(stderr, "lace-kernel-report: %s\n",
                 nvrtc.error().str().c_str());
    return 1;
  }
  std::vector<std::filesystem::path> files;
  for (const auto &entry : std::filesystem::directory_iterator(
           std::string(LACE_SOURCE_DIR) + "/patterns"))
    if (entry.path().extension() == ".lace" &&
        (!quick || entry.path().filename() == "causal.lace"))
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());

  const auto [major, minor] = (*nvrtc)->version();
  std::printf("forward kernel (persistent entry), NVRTC %d.%d, default "
              "parameters, seq 4096, 4 heads%s\n",
              major, minor,
              candidates ? ", candidate tile configurations" : "");
  std::printf("%-30s %-5s %4s %-12s %-6s %5s %7s %7s %5s %6s  %s\n", "pattern",
              "dtype", "d", "tiles", "arch", "regs", "spills", "smem", "ctas",
              "warps", "limited by");
  std::map<std::pair<int, std::string>, lace::jit::TileConfig> configs;
  int failures = 0;
  for (const auto &file : files) {
    auto compiler = lace::Compiler::fromFile(file.string());
    if (!compiler) {
      std::fprintf(stderr, "%s\n", compiler.error().str().c_str());
      return 1;
    }
    for (const std::string &name : (*compiler)->patterns()) {
      if (candidates && std::find(std::begin(kCandidatePatterns),
                                  std::end(kCandidatePatterns),
                                  name) == std::end(kCandidatePatterns))
        continue;
      if (auto error = (*compiler)->select(name))
        return 1;
      if (candidates) {
        for (const auto &[headDim, list] : kCandidates)
          for (const lace::jit::TileConfig &tiles : list)
            failures +=
                !reportPattern(**nvrtc, **compiler, name, lace::DType::F16,
                               headDim, tiles, configs);
        continue;
      }
      for (const lace::DType dtype : {lace::DType::F16, lace::DType::BF16})
        for (const int headDim : {64, 128})
          failures += !reportPattern(**nvrtc, **compiler, name, dtype, headDim,
                                     {}, configs);
    }
  }
  std::printf("spills: bytes stored/loaded; smem: dynamic + static bytes per "
              "CTA; ctas, warps: per SM from registers (256-register warp "
              "units of 64K), warps (64), shared memory (%d/%d KiB less 1 "
              "KiB per CTA) and 32 CTAs\n\n",
              kArchs[0].sharedPerSM / 1024, kArchs[1].sharedPerSM / 1024);

  std::printf("bytes moved per m16n8k16 MMA in one k-tile step (16-bit "
              "elements)\n");
  std::printf("%-5s %-9s %5s %8s %12s %12s %12s %12s\n", "dim", "tile", "warps",
              "MMAs", "smem bytes", "smem/MMA", "L2->SM bytes", "L2->SM/MMA");
  for (const auto &[key, t] : configs)
    bytesPerMma(key.first, t);
  return failures ? 1 : 0;
}
