//===- KernelSource.h - Assembles the CUDA C++ source of a kernel ---------===//
//
// The kernel templates (runtime/kernels/*.cuh) are embedded into the library
// at build time. generate() turns a KernelSpec (dtype, tile traits, the
// pattern's live/score functions as C++ text) into one self-contained CUDA
// C++ source: the embedded headers inlined, then the generated Traits and
// Pattern structs and an extern "C" kernel with a stable name. The only
// #includes left are CUDA's own (<cuda_fp16.h>, <cuda_bf16.h>).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_KERNELSOURCE_H
#define LACE_RUNTIME_KERNELSOURCE_H

#include <span>
#include <string>
#include <string_view>

namespace lace::jit {

enum class DType { F16, BF16 };

/// Which kernels a source holds: the forward, or the two backward kernels
/// (dq, then dkdv; lace_attention_bwd.cuh).
enum class Pass { Forward, Backward };

/// "forward" / "backward".
std::string_view passName(Pass pass);

/// "f16" / "bf16".
std::string_view dtypeName(DType dtype);

/// Tile traits of the forward kernel (see docs/kernels.md).
struct TileConfig {
  int blockM = 0; ///< query rows per CTA
  int blockN = 0; ///< keys per K/V tile
  int warps = 0;  ///< blockM / warps must be a multiple of 16
  int stages = 0; ///< cp.async ring depth, 2..4
};

/// The default tiles for a head dim (zero-spill on sm_80 and sm_90; the
/// reasons are beside the table in KernelSource.cpp): d 32, 64: 128 x 64,
/// 4 warps (two m-tiles each); d 96, 128: 64 x 64, 4 warps; d 256: 64 x 32,
/// 4 warps; all with 2 stages.
TileConfig defaultTiles(int headDim);

struct KernelSpec {
  DType dtype = DType::F16;
  int headDim = 64;
  /// Zero fields take defaultTiles(headDim).
  TileConfig tiles;
  /// `live(p, b, h, q, k) -> bool` (p: the kernel's LaceFwdParams, the rest
  /// int): a C++ expression, e.g. "k <= q",
  /// or, when liveBody is set, the whole function body (with `return`), as
  /// EmitC produces it.
  std::string liveExpr = "true";
  std::string liveBody;
  /// `score(s, b, h, q, k) -> float` applied to the scaled raw score before
  /// masking; empty for none. scoreBody as for liveBody.
  std::string scoreExpr;
  std::string scoreBody;
  /// d score / d s at (s, b, h, q, k), for the backward: as for score (the
  /// code generator derives it from the same score IR).
  std::string scoreGradExpr;
  std::string scoreGradBody;
  /// Device functions the bodies above call (namespace scope, before them),
  /// e.g. a `__noinline__` helper kept out of the kernel's registers.
  std::string helpers;
  /// The extern "C" kernel symbol: a C identifier.
  std::string name = "lace_attention_fwd_kernel";

  /// Tiles with the defaults filled in.
  TileConfig resolvedTiles() const;
  bool hasScore() const { return !scoreExpr.empty() || !scoreBody.empty(); }
  bool hasScoreGrad() const {
    return !scoreGradExpr.empty() || !scoreGradBody.empty();
  }
  /// Dynamic shared memory the kernel needs at launch (bytes): Q plus
  /// `stages` K and V tiles.
  int sharedBytes() const;
  /// Threads per CTA.
  int threads() const { return resolvedTiles().warps * 32; }
  /// The backward kernels' launch: dq has the forward's tiles with one
  /// 16-row m-tile per warp (up to 8 warps) and dO and D added to its
  /// shared memory; dkdv two warps per 16 keys up to block_n 64, one above
  /// (lace_attention_bwd.cuh).
  int backwardDqSharedBytes() const;
  int backwardDqThreads() const;
  int backwardDkdvSharedBytes() const;
  int backwardDkdvThreads() const;
  /// Extern "C" names of the kernels of a pass.
  /// The forward module's second entry: the combine step of split rows.
  std::string combineKernelName() const { return name + "_combine"; }
  std::string dqKernelName() const { return name + "_bwd_dq"; }
  std::string dkdvKernelName() const { return name + "_bwd_dkdv"; }
  /// Empty when the spec is valid, else what is wrong (the same rules the
  /// kernel's static_asserts check). The backward also needs the score's
  /// derivative when there is a score.
  std::string validate(Pass pass = Pass::Forward) const;
};

struct EmbeddedHeader {
  std::string_view name; ///< file name, e.g. "lace_arch.cuh"
  std::string_view text;
};

class KernelSource {
public:
  /// The embedded runtime/kernels/*.cuh, as they were at build time.
  static std::span<const EmbeddedHeader> headers();
  /// A hash of every embedded header's text (part of the cache key).
  static std::string_view templateVersion();
  /// The complete source of the kernel. Call KernelSpec::validate() first:
  /// an invalid spec still gives a source, which then fails to compile
  /// with the static_assert that explains why.
  static std::string generate(const KernelSpec &spec,
                              Pass pass = Pass::Forward);
  /// An embedded header with its own `#include "lace_*.cuh"` lines inlined
  /// (once each) and `#pragma once` dropped; empty if there is none.
  static std::string inlined(std::string_view headerName);
};

/// Same as KernelSource::templateVersion(): hex SHA-256 prefix of the
/// embedded template texts, computed at build time.
extern const std::string_view kTemplateVersion;

} // namespace lace::jit

#endif // LACE_RUNTIME_KERNELSOURCE_H
