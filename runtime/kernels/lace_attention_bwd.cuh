//===- lace_attention_bwd.cuh - Block-sparse FlashAttention-2 backward ----===//
//
// The gradients of the forward (lace_attention_fwd.cuh) in two kernels that
// use no floating-point atomics, so every run gives the same bits:
//
//  - dq: one CTA per q-tile row of one (batch, head), the forward's CTA
//    shape. It first computes D = rowsum(dO * O) of its rows (written to
//    the `delta` workspace for the other kernel), then walks the row's
//    k-tiles in the forward layout and, recomputing P from the saved LSE,
//    accumulates dQ = scale * sum_k dS K in registers.
//  - dkdv: one CTA per k-tile of one (batch, kv head). It walks the
//    transposed layout (per k-tile its q-tiles) of every query head of the
//    GQA group in a fixed order; per chunk of 32 queries its warps compute
//    S^T and dP^T, stage P^T and dS^T in shared memory and accumulate
//    dV = P^T dO and dK = scale * dS^T Q in registers (DkdvTile).
//
// With S = scale * Q K^T, T = score(S) (the pattern's modifier; T = S
// without one), P = exp(T - LSE) on live elements: dP = dO V^T,
// dT = P * (dP - D), dS = dT * score'(S) (score_grad, generated from the
// same score IR as score). Full tiles run without mask code; Partial tiles
// evaluate Pattern::live per element; empty tiles are never visited. A row
// without a live key (LSE = -inf) has P = 0 and so zero gradients.
//
// The dq kernel reads the forward tiles' traits; the dkdv kernel derives
// its CTA from them (DkdvTile). See docs/kernels.md.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "lace_attention_fwd.cuh"

namespace lace {

/// The forward's traits with the dq kernel's warps: one 16-row m-tile per
/// warp (up to 8 warps), since dQ, S and dP take three accumulator sets
/// where the forward holds two.
template <class Traits> struct DqTraits : Traits {
  static constexpr int kWarps =
      Traits::kBlockM / 16 < 8 ? Traits::kBlockM / 16 : 8;
};

/// The dq kernel: the forward's CTA geometry plus a dO tile and D of the
/// rows.
template <class Traits> struct DqTile : FwdTile<DqTraits<Traits>> {
  using Fwd = FwdTile<DqTraits<Traits>>;
  /// Dynamic shared memory: Q, dO, kStages K and V tiles, D per row.
  static constexpr int kSmemBytes =
      Fwd::kSmemBytes + Fwd::kQElems * Fwd::kElemBytes + Fwd::kBlockM * 4;
  /// fp32 accumulators per thread: dQ, S and dP.
  static constexpr int kAccRegisters =
      Fwd::kMTiles * (Fwd::kDimTiles + 2 * Fwd::kKeyTiles) * 4;
  static_assert(kAccRegisters <= 192,
                "dq accumulators alone would exceed the register file");
  static_assert(kSmemBytes <= 227 * 1024,
                "dq shared memory above the sm_90 limit of 227 KiB per CTA");
};

/// The dkdv kernel, FlashAttention-2's split: block_n keys per CTA in
/// groups of 16, each q-tile of the column processed kQChunk = 32 queries
/// at a time in two phases. Phase A: warp (group g, part j) computes S^T
/// and dP^T of its 16 keys and the j-th 16 queries of the chunk, and writes
/// P^T and dS^T (16-bit) to shared memory. Phase B: warp (group g, part j)
/// accumulates dV += P^T dO and dK += dS^T Q for its 16 keys and the j-th
/// half of head_dim. So each thread holds dK and dV of 16 keys x head_dim /
/// 2 (64 registers at head dim 128) instead of the whole head dim, which
/// did not fit without spills. With block_n > 64 (more than 4 groups) a
/// warp takes a whole group alone (kParts 1).
template <class Traits>
struct DkdvTile
    : SmemTile<typename Traits::Element, Traits::kHeadDim,
               Traits::kBlockN / 16 * (Traits::kBlockN <= 64 ? 2 : 1) * 32> {
  using Base =
      SmemTile<typename Traits::Element, Traits::kHeadDim,
               Traits::kBlockN / 16 * (Traits::kBlockN <= 64 ? 2 : 1) * 32>;
  using Element = typename Traits::Element;
  using Base::kDimTiles;
  using Base::kElemBytes;
  using Base::kHeadDim;
  using Base::kThreads;
  static constexpr int kBlockM = Traits::kBlockM;
  static constexpr int kBlockN = Traits::kBlockN;
  static constexpr int kGroups = kBlockN / 16; ///< 16-key groups
  static constexpr int kParts = kBlockN <= 64 ? 2 : 1;
  static constexpr int kWarps = kGroups * kParts;
  /// Q/dO ring depth: one tile computed while the next lands.
  static constexpr int kStages = 2;
  static constexpr int kQChunk = 32;
  static constexpr int kQPart = kQChunk / kParts;    ///< phase A queries/warp
  static constexpr int kPartTiles = kQPart / 8;      ///< n-tiles of S^T
  static constexpr int kDimPart = kHeadDim / kParts; ///< phase B dims/warp
  static constexpr int kDimPartTiles = kDimPart / 8;
  /// The P^T and dS^T tiles of a chunk: [block_n keys][32 queries].
  using ChunkTile = SmemTile<Element, kQChunk, kThreads>;
  static constexpr int kChunkBytes = kBlockN * kQChunk * kElemBytes;
  static constexpr int kQElems = kBlockM * kHeadDim;
  static constexpr int kKVElems = kBlockN * kHeadDim;
  /// Dynamic shared memory: K, V, kStages Q and dO tiles, the P^T and dS^T
  /// chunks, and per stage the LSE (log2 units) and D of the tile's rows.
  static constexpr int kSmemBytes =
      (2 * kKVElems + 2 * kStages * kQElems) * kElemBytes + 2 * kChunkBytes +
      2 * kStages * kBlockM * 4;
  static constexpr int kAccRegisters = (2 * kDimPartTiles + 2 * kPartTiles) * 4;

  static_assert(kBlockN % 16 == 0 && kBlockN >= 16 && kBlockN <= 256,
                "block_n must give whole 16-key groups (1 to 16 of them)");
  static_assert(kBlockM % kQChunk == 0, "block_m must be a multiple of 32");
  static_assert(kDimPart % 16 == 0,
                "each half of head_dim must be whole 16-column blocks");
  static_assert(kAccRegisters <= 192,
                "dkdv accumulators alone would exceed the register file");
  static_assert(kSmemBytes <= 227 * 1024,
                "dkdv shared memory above the sm_90 limit of 227 KiB per CTA");
};

/// Sum over the 32 lanes of a warp, in a fixed order (every lane gets the
/// same bits). Every lane of the warp must call it.
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2)
    x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

/// The LSE of a row in log2 units, for P = 2^(T log2(e) - this): +inf for a
/// row past seq_q or without a live key (LSE = -inf), which makes its P 0.
__device__ __forceinline__ float lse_log2(const LaceFwdParams &p, int b, int h,
                                          int q) {
  const float inf = __int_as_float(0x7f800000);
  if (q >= p.seq_q)
    return inf;
  const float lse = p.lse[b * p.lse_stride_b + h * p.lse_stride_h + q];
  return lse == -inf ? inf : lse * 1.4426950408889634f;
}

/// P and dS of one score element, in place: `s` holds the raw Q.K on entry
/// and P on return, `dp` holds dO.V on entry and dS on return (before the
/// final multiplication by the softmax scale, done once on the sums).
template <class Pattern>
__device__ __forceinline__ void
probability_and_grad(float &s, float &dp, bool dead, float scale, float lse2,
                     float delta, int b, int h, int q, int k) {
  constexpr float kLog2e = 1.4426950408889634f;
  const float x = s * scale;
  float t = x, slope = 1.f;
  if constexpr (Pattern::has_score) {
    t = Pattern::score(x, b, h, q, k);
    slope = Pattern::score_grad(x, b, h, q, k);
  }
  const float prob = dead ? 0.f : arch::fast_exp2(t * kLog2e - lse2);
  s = prob;
  dp = prob * (dp - delta) * slope;
}

/// A TileCursor over the transposed layouts of the query heads
/// [h, h_end) of one GQA group, one column each, head after head.
struct GroupCursor {
  TileCursor tiles;
  int h = 0, h_end = 0;
  bool valid = false;

  __device__ __forceinline__ void start(const LaceBwdParams &bp, int h_begin,
                                        int h_stop, int col) {
    h = h_begin - 1;
    h_end = h_stop;
    valid = false;
    nextHead(bp, col);
  }
  __device__ __forceinline__ void next(const LaceBwdParams &bp, int col) {
    tiles.next(bp.cols, bp.fwd.status);
    valid = tiles.valid;
    if (!valid)
      nextHead(bp, col);
  }

private:
  __device__ __forceinline__ void nextHead(const LaceBwdParams &bp, int col) {
    const LaceFwdParams &p = bp.fwd;
    while (!valid && ++h < h_end) {
      const int slot = p.head_to_layout[h];
      if (slot < 0 || slot >= p.num_layouts) {
        arch::report_error(p.status, kStatusBadLayoutIndex);
        h = h_end;
        return;
      }
      tiles.start(bp.cols, p.status, slot, col);
      valid = tiles.valid;
    }
  }
};

/// dQ of one work item: q-tile `row` of head `h`, batch `b`.
template <class Traits, class Pattern>
__device__ __forceinline__ void attention_bwd_dq_item(const LaceBwdParams &bp,
                                                      int b, int h, int row,
                                                      unsigned char *smem) {
  using Tile = DqTile<Traits>;
  using T = typename Tile::Element;
  constexpr int kMT = Tile::kMTiles, kNT = Tile::kKeyTiles,
                kDT = Tile::kDimTiles;
  const LaceFwdParams &p = bp.fwd;

  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int q_begin = row * Tile::kBlockM;
  const int kv_head = h / (p.heads / p.kv_heads);

  const T *q_src = static_cast<const T *>(p.q) + b * p.q_stride_b +
                   h * p.q_stride_h + q_begin * p.q_stride_s;
  const T *do_src = static_cast<const T *>(bp.dout) + b * bp.do_stride_b +
                    h * bp.do_stride_h + q_begin * bp.do_stride_s;
  const T *k_src =
      static_cast<const T *>(p.k) + b * p.k_stride_b + kv_head * p.k_stride_h;
  const T *v_src =
      static_cast<const T *>(p.v) + b * p.v_stride_b + kv_head * p.v_stride_h;

  constexpr unsigned kTileBytes = Tile::kKVElems * Tile::kElemBytes;
  constexpr unsigned kQBytes = Tile::kQElems * Tile::kElemBytes;
  const unsigned s_q = arch::smem_addr(smem);
  const unsigned s_do = s_q + kQBytes;
  const unsigned s_k = s_do + kQBytes;
  const unsigned s_v = s_k + Tile::kStages * kTileBytes;
  float *s_delta = reinterpret_cast<float *>(smem + 2 * kQBytes +
                                             2 * Tile::kStages * kTileBytes);

  const int layout_slot = p.head_to_layout[h];
  TileCursor load, compute;
  if (layout_slot >= 0 && layout_slot < p.num_layouts) {
    load.start(p.rows, p.status, layout_slot, row);
    compute = load;
  } else {
    arch::report_error(p.status, kStatusBadLayoutIndex);
  }

  const TileCopy<Tile, Tile::kBlockN> k_copy(tid, p.k_stride_s);
  const TileCopy<Tile, Tile::kBlockN> v_copy(tid, p.v_stride_s);
  auto issue_kv = [&](int stage, int col) {
    issue_kv_tile(p, k_copy, v_copy, s_k, s_v, k_src, v_src, stage, col);
  };

  // Prologue: Q and dO join the first K/V group (as in the forward).
  TileCopy<Tile, Tile::kBlockM>(tid, p.q_stride_s)
      .issue(s_q, q_src, p.seq_q - q_begin);
  TileCopy<Tile, Tile::kBlockM>(tid, bp.do_stride_s)
      .issue(s_do, do_src, p.seq_q - q_begin);
#pragma unroll
  for (int stage = 0; stage < Tile::kStages - 1; ++stage) {
    if (load.valid) {
      issue_kv(stage, load.col);
      load.next(p.rows, p.status);
    }
    arch::cp_async_commit();
  }

  // D = rowsum(dO * O) while the copies fly: each warp its own rows, the
  // lanes across head_dim in 16-byte chunks, summed in a fixed order.
  {
    const T *o_rows =
        static_cast<const T *>(p.o) + b * p.o_stride_b + h * p.o_stride_h;
    const T *do_rows = static_cast<const T *>(bp.dout) + b * bp.do_stride_b +
                       h * bp.do_stride_h;
    for (int r = warp * Tile::kRowsPerWarp; r < (warp + 1) * Tile::kRowsPerWarp;
         ++r) {
      const int q = q_begin + r;
      float sum = 0.f;
      if (q < p.seq_q)
        for (int c = lane; c < Tile::kChunks; c += 32) {
          const unsigned *o4 = reinterpret_cast<const unsigned *>(
              o_rows + q * p.o_stride_s + c * 8);
          const unsigned *d4 = reinterpret_cast<const unsigned *>(
              do_rows + q * bp.do_stride_s + c * 8);
#pragma unroll
          for (int j = 0; j < 4; ++j) {
            float o0, o1, d0, d1;
            arch::unpack2<T>(o4[j], o0, o1);
            arch::unpack2<T>(d4[j], d0, d1);
            sum += o0 * d0 + o1 * d1;
          }
        }
      sum = warp_sum(sum);
      if (lane == 0) {
        s_delta[r] = sum;
        if (q < p.seq_q)
          bp.delta[b * p.lse_stride_b + h * p.lse_stride_h + q] = sum;
      }
    }
  }
  __syncthreads();

  const int lane_row0 = q_begin + warp * Tile::kRowsPerWarp + lane / 4;
  float row_lse2[kMT][2], row_delta[kMT][2];
  float acc_dq[kMT][kDT][4];
#pragma unroll
  for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
    for (int half_row = 0; half_row < 2; ++half_row) {
      const int r =
          warp * Tile::kRowsPerWarp + mt * 16 + half_row * 8 + lane / 4;
      row_lse2[mt][half_row] = lse_log2(p, b, h, q_begin + r);
      row_delta[mt][half_row] = s_delta[r];
    }
#pragma unroll
    for (int dt = 0; dt < kDT; ++dt)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        acc_dq[mt][dt][e] = 0.f;
  }

  const LaneOffsets<Tile> qv_lane(lane % 16, lane / 16);
  const LaneOffsets<Tile> k_lane(lane % 8 + (lane / 16) * 8, (lane / 8) % 2);
  const int last_col = (p.seq_k - 1) / Tile::kBlockN;
  const bool clipped_last = p.seq_k % Tile::kBlockN != 0;

  int stage = 0;
  while (compute.valid) {
    arch::cp_async_wait<Tile::kStages - 2>();
    __syncthreads();
    {
      const int next_stage = (stage + Tile::kStages - 1) % Tile::kStages;
      if (load.valid) {
        issue_kv(next_stage, load.col);
        load.next(p.rows, p.status);
      }
      arch::cp_async_commit();
    }
    const unsigned k_tile = s_k + stage * kTileBytes;
    const unsigned v_tile = s_v + stage * kTileBytes;

    // S = Q K^T and dP = dO V^T.
    float s[kMT][kNT][4], dp[kMT][kNT][4];
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          s[mt][nt][e] = dp[mt][nt][e] = 0.f;
#pragma unroll
    for (int ks = 0; ks < Tile::kHeadDim / 16; ++ks) {
      unsigned a[kMT][4], g[kMT][4];
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) {
        const int r0 = warp * Tile::kRowsPerWarp + mt * 16;
        arch::ldmatrix_x4(a[mt], s_q + qv_lane.at(r0, ks));
        arch::ldmatrix_x4(g[mt], s_do + qv_lane.at(r0, ks));
      }
#pragma unroll
      for (int np = 0; np < kNT / 2; ++np) {
        unsigned bk[4], bv[4];
        arch::ldmatrix_x4(bk, k_tile + k_lane.at(np * 16, ks));
        arch::ldmatrix_x4(bv, v_tile + k_lane.at(np * 16, ks));
#pragma unroll
        for (int mt = 0; mt < kMT; ++mt) {
          arch::mma_m16n8k16<T>(s[mt][2 * np], a[mt], bk[0], bk[1]);
          arch::mma_m16n8k16<T>(s[mt][2 * np + 1], a[mt], bk[2], bk[3]);
          arch::mma_m16n8k16<T>(dp[mt][2 * np], g[mt], bv[0], bv[1]);
          arch::mma_m16n8k16<T>(dp[mt][2 * np + 1], g[mt], bv[2], bv[3]);
        }
      }
    }

    const int key0 = compute.col * Tile::kBlockN + 2 * (lane % 4);
    const bool partial = compute.kind == kTilePartial;
    const bool edge = clipped_last && compute.col == last_col;
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int q = lane_row0 + mt * 16 + (e / 2) * 8;
          const int k = key0 + nt * 8 + (e % 2);
          bool dead = false;
          if (partial || edge) {
            dead = k >= p.seq_k;
            if (partial)
              dead = dead || !Pattern::live(p, b, h, q, k);
          }
          probability_and_grad<Pattern>(s[mt][nt][e], dp[mt][nt][e], dead,
                                        p.softmax_scale, row_lse2[mt][e / 2],
                                        row_delta[mt][e / 2], b, h, q, k);
        }

    // dQ += dS K: dS's accumulators are the A fragment (as P in the
    // forward); K read transposed is the B fragment (as V in the forward).
#pragma unroll
    for (int kk = 0; kk < Tile::kBlockN / 16; ++kk) {
      unsigned a[kMT][4];
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) {
        a[mt][0] = arch::pack2<T>(dp[mt][2 * kk][0], dp[mt][2 * kk][1]);
        a[mt][1] = arch::pack2<T>(dp[mt][2 * kk][2], dp[mt][2 * kk][3]);
        a[mt][2] = arch::pack2<T>(dp[mt][2 * kk + 1][0], dp[mt][2 * kk + 1][1]);
        a[mt][3] = arch::pack2<T>(dp[mt][2 * kk + 1][2], dp[mt][2 * kk + 1][3]);
      }
#pragma unroll
      for (int dpair = 0; dpair < kDT / 2; ++dpair) {
        unsigned bk[4];
        arch::ldmatrix_x4_trans(bk, k_tile + qv_lane.at(kk * 16, dpair));
#pragma unroll
        for (int mt = 0; mt < kMT; ++mt) {
          arch::mma_m16n8k16<T>(acc_dq[mt][2 * dpair], a[mt], bk[0], bk[1]);
          arch::mma_m16n8k16<T>(acc_dq[mt][2 * dpair + 1], a[mt], bk[2], bk[3]);
        }
      }
    }
    stage = (stage + 1) % Tile::kStages;
    compute.next(p.rows, p.status);
  }
  arch::cp_async_wait<0>();
  __syncthreads();

  T *dq_dst = static_cast<T *>(bp.dq) + b * bp.dq_stride_b + h * bp.dq_stride_h;
#pragma unroll
  for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
    for (int half_row = 0; half_row < 2; ++half_row) {
      const int q = lane_row0 + mt * 16 + half_row * 8;
      if (q >= p.seq_q)
        continue;
      T *dq_row = dq_dst + static_cast<long long>(q) * bp.dq_stride_s;
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt)
        *reinterpret_cast<unsigned *>(dq_row + dt * 8 + 2 * (lane % 4)) =
            arch::pack2<T>(acc_dq[mt][dt][2 * half_row] * p.softmax_scale,
                           acc_dq[mt][dt][2 * half_row + 1] * p.softmax_scale);
    }
}

/// dK and dV of one work item: k-tile `col` of kv head `kv_head`, batch `b`.
template <class Traits, class Pattern>
__device__ __forceinline__ void
attention_bwd_dkdv_item(const LaceBwdParams &bp, int b, int kv_head, int col,
                        unsigned char *smem) {
  using Tile = DkdvTile<Traits>;
  using Chunk = typename Tile::ChunkTile;
  using T = typename Tile::Element;
  constexpr int kNT = Tile::kPartTiles, kPT = Tile::kDimPartTiles;
  const LaceFwdParams &p = bp.fwd;

  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int group = warp % Tile::kGroups; // this warp's 16 keys
  const int part = warp / Tile::kGroups;  // its queries (A) and dims (B)
  const int key_begin = col * Tile::kBlockN;
  const int heads_per_kv = p.heads / p.kv_heads;

  constexpr unsigned kKVBytes = Tile::kKVElems * Tile::kElemBytes;
  constexpr unsigned kQBytes = Tile::kQElems * Tile::kElemBytes;
  const unsigned s_k = arch::smem_addr(smem);
  const unsigned s_v = s_k + kKVBytes;
  const unsigned s_q = s_v + kKVBytes;
  const unsigned s_do = s_q + Tile::kStages * kQBytes;
  const unsigned s_p = s_do + Tile::kStages * kQBytes;
  const unsigned s_ds = s_p + Tile::kChunkBytes;
  unsigned char *chunk_base = smem + 2 * kKVBytes + 2 * Tile::kStages * kQBytes;
  float *s_lse2 = reinterpret_cast<float *>(chunk_base + 2 * Tile::kChunkBytes);
  // s_delta follows s_lse2 by kRowsStaged floats: one index reaches both.
  constexpr int kRowsStaged = Tile::kStages * Tile::kBlockM;
  float *s_delta = s_lse2 + kRowsStaged;

  // The ring has two stages: one q-tile computed while the next lands. A
  // cursor walks the tiles to load; the tile being computed is a small
  // record of what was issued (a second cursor would cost registers).
  static_assert(Tile::kStages == 2, "the dkdv loop keeps one tile in flight");
  struct Issued {
    int h, tile;
    bool partial, valid;
  };
  GroupCursor load;
  load.start(bp, kv_head * heads_per_kv, (kv_head + 1) * heads_per_kv, col);

  // Issues Q and dO of the next tile of `load` into `stage` and stores the
  // rows' LSE and D there (plain stores: the next barrier publishes them
  // with the copies). The copies' addressing is rebuilt per tile rather
  // than kept in registers across the loop.
  auto issue_next = [&](int into) -> Issued {
    const Issued issued{load.h, load.tiles.col, load.tiles.kind == kTilePartial,
                        true};
    const int q0 = issued.tile * Tile::kBlockM;
    TileCopy<Tile, Tile::kBlockM>(tid, p.q_stride_s)
        .issue(s_q + into * kQBytes,
               static_cast<const T *>(p.q) + b * p.q_stride_b +
                   issued.h * p.q_stride_h +
                   static_cast<long long>(q0) * p.q_stride_s,
               p.seq_q - q0);
    TileCopy<Tile, Tile::kBlockM>(tid, bp.do_stride_s)
        .issue(s_do + into * kQBytes,
               static_cast<const T *>(bp.dout) + b * bp.do_stride_b +
                   issued.h * bp.do_stride_h +
                   static_cast<long long>(q0) * bp.do_stride_s,
               p.seq_q - q0);
    for (int r = tid; r < Tile::kBlockM; r += Tile::kThreads) {
      const int q = q0 + r;
      s_lse2[into * Tile::kBlockM + r] = lse_log2(p, b, issued.h, q);
      s_delta[into * Tile::kBlockM + r] =
          q < p.seq_q
              ? bp.delta[b * p.lse_stride_b + issued.h * p.lse_stride_h + q]
              : 0.f;
    }
    load.next(bp, col);
    return issued;
  };

  // Prologue: K and V join the first Q/dO group.
  TileCopy<Tile, Tile::kBlockN>(tid, p.k_stride_s)
      .issue(s_k,
             static_cast<const T *>(p.k) + b * p.k_stride_b +
                 kv_head * p.k_stride_h +
                 static_cast<long long>(key_begin) * p.k_stride_s,
             p.seq_k - key_begin);
  TileCopy<Tile, Tile::kBlockN>(tid, p.v_stride_s)
      .issue(s_v,
             static_cast<const T *>(p.v) + b * p.v_stride_b +
                 kv_head * p.v_stride_h +
                 static_cast<long long>(key_begin) * p.v_stride_s,
             p.seq_k - key_begin);
  Issued pending{0, 0, false, false};
  if (load.valid)
    pending = issue_next(0);
  arch::cp_async_commit();

  float acc_dk[kPT][4], acc_dv[kPT][4];
#pragma unroll
  for (int dt = 0; dt < kPT; ++dt)
#pragma unroll
    for (int e = 0; e < 4; ++e)
      acc_dk[dt][e] = acc_dv[dt][e] = 0.f;

  // ldmatrix addressing: A operands (K, V; P^T, dS^T) and transposed B
  // operands (dO, Q for phase B) read rows lane % 16, chunk lane / 16;
  // B operands of phase A (Q, dO) rows lane % 8 + 8 (lane / 16), chunk
  // (lane / 8) % 2.
  const LaneOffsets<Tile> row_lane(lane % 16, lane / 16);
  const LaneOffsets<Tile> col_lane(lane % 8 + (lane / 16) * 8, (lane / 8) % 2);
  const LaneOffsets<Chunk> chunk_lane(lane % 16, lane / 16);
  // Key of element e / 2 == 0 of this lane's rows.
  const int lane_key0 = key_begin + group * 16 + lane / 4;

  int stage = 0;
  while (pending.valid) {
    const Issued current = pending;
    arch::cp_async_wait<0>();
    __syncthreads();
    pending.valid = false;
    if (load.valid)
      pending = issue_next(stage ^ 1);
    arch::cp_async_commit();
    const int h = current.h;
    const int q_tile0 = current.tile * Tile::kBlockM;
    const int row_base = stage * Tile::kBlockM;
    const unsigned q_tile = s_q + stage * kQBytes;
    const unsigned do_tile = s_do + stage * kQBytes;

#pragma unroll 1
    for (int c0 = 0; c0 < Tile::kBlockM; c0 += Tile::kQChunk) {
      // ---- Phase A: S^T = K Q^T and dP^T = V dO^T for 16 keys x kQPart
      // queries, then P^T and dS^T into the chunk buffers.
      {
        const int qa = c0 + part * Tile::kQPart; // first query of the part
        float s[kNT][4], dp[kNT][4];
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e)
            s[nt][e] = dp[nt][e] = 0.f;
#pragma unroll
        for (int ks = 0; ks < Tile::kHeadDim / 16; ++ks) {
          unsigned ak[4], av[4];
          arch::ldmatrix_x4(ak, s_k + row_lane.at(group * 16, ks));
          arch::ldmatrix_x4(av, s_v + row_lane.at(group * 16, ks));
#pragma unroll
          for (int np = 0; np < kNT / 2; ++np) {
            unsigned bq[4], bg[4];
            arch::ldmatrix_x4(bq, q_tile + col_lane.at(qa + np * 16, ks));
            arch::ldmatrix_x4(bg, do_tile + col_lane.at(qa + np * 16, ks));
            arch::mma_m16n8k16<T>(s[2 * np], ak, bq[0], bq[1]);
            arch::mma_m16n8k16<T>(s[2 * np + 1], ak, bq[2], bq[3]);
            arch::mma_m16n8k16<T>(dp[2 * np], av, bg[0], bg[1]);
            arch::mma_m16n8k16<T>(dp[2 * np + 1], av, bg[2], bg[3]);
          }
        }
        // Element e of n-tile nt: key row lane_key0 + (e / 2) * 8, query
        // qa + nt * 8 + 2 (lane % 4) + e % 2. Queries past seq_q have LSE
        // +inf (P = 0); keys past seq_k are computed and never stored.
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int r = qa + nt * 8 + 2 * (lane % 4) + (e % 2);
            const int q = q_tile0 + r;
            const int k = lane_key0 + (e / 2) * 8;
            bool dead = false;
            if (current.partial)
              dead =
                  q >= p.seq_q || k >= p.seq_k || !Pattern::live(p, b, h, q, k);
            probability_and_grad<Pattern>(s[nt][e], dp[nt][e], dead,
                                          p.softmax_scale, s_lse2[row_base + r],
                                          s_lse2[kRowsStaged + row_base + r], b,
                                          h, q, k);
          }
        // Two 16-bit values per store: (key row, query column pair).
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
          for (int half_row = 0; half_row < 2; ++half_row) {
            const int row = group * 16 + half_row * 8 + lane / 4;
            const int column = part * Tile::kQPart + nt * 8 + 2 * (lane % 4);
            const int at = (Chunk::offset(row, column / 8) + column % 8) *
                           Tile::kElemBytes;
            *reinterpret_cast<unsigned *>(chunk_base + at) =
                arch::pack2<T>(s[nt][2 * half_row], s[nt][2 * half_row + 1]);
            *reinterpret_cast<unsigned *>(chunk_base + Tile::kChunkBytes + at) =
                arch::pack2<T>(dp[nt][2 * half_row], dp[nt][2 * half_row + 1]);
          }
      }
      // Every warp's P^T and dS^T rows are in place.
      __syncthreads();

      // ---- Phase B: dV += P^T dO and dK += dS^T Q for 16 keys and the
      // dims of this warp's part. The loop over parts is unrolled and all
      // but one copy skipped (a warp-uniform branch), so the dims' block
      // index stays a constant in each copy, as ldmatrix addressing needs.
#pragma unroll
      for (int copy = 0; copy < Tile::kParts; ++copy) {
        if (copy != part)
          continue;
        const int first_block = copy * Tile::kDimPart / 16;
#pragma unroll
        for (int kk = 0; kk < Tile::kQChunk / 16; ++kk) {
          unsigned ap[4], ad[4];
          arch::ldmatrix_x4(ap, s_p + chunk_lane.at(group * 16, kk));
          arch::ldmatrix_x4(ad, s_ds + chunk_lane.at(group * 16, kk));
#pragma unroll
          for (int dpair = 0; dpair < kPT / 2; ++dpair) {
            unsigned bg[4], bq[4];
            arch::ldmatrix_x4_trans(
                bg, do_tile + row_lane.at(c0 + kk * 16, first_block + dpair));
            arch::ldmatrix_x4_trans(
                bq, q_tile + row_lane.at(c0 + kk * 16, first_block + dpair));
            arch::mma_m16n8k16<T>(acc_dv[2 * dpair], ap, bg[0], bg[1]);
            arch::mma_m16n8k16<T>(acc_dv[2 * dpair + 1], ap, bg[2], bg[3]);
            arch::mma_m16n8k16<T>(acc_dk[2 * dpair], ad, bq[0], bq[1]);
            arch::mma_m16n8k16<T>(acc_dk[2 * dpair + 1], ad, bq[2], bq[3]);
          }
        }
      }
      // Every warp has read the chunk before the next one overwrites it:
      // one buffer and a second barrier, rather than two buffers, keeps two
      // CTAs on an sm_90 SM at head dim 128.
      __syncthreads();
    }
    stage ^= 1;
  }
  arch::cp_async_wait<0>();
  __syncthreads();

  T *dk_dst =
      static_cast<T *>(bp.dk) + b * bp.dk_stride_b + kv_head * bp.dk_stride_h;
  T *dv_dst =
      static_cast<T *>(bp.dv) + b * bp.dv_stride_b + kv_head * bp.dv_stride_h;
#pragma unroll
  for (int half_row = 0; half_row < 2; ++half_row) {
    const int k = lane_key0 + half_row * 8;
    if (k >= p.seq_k)
      continue;
    T *dk_row = dk_dst + static_cast<long long>(k) * bp.dk_stride_s;
    T *dv_row = dv_dst + static_cast<long long>(k) * bp.dv_stride_s;
#pragma unroll
    for (int dt = 0; dt < kPT; ++dt) {
      const int c = part * Tile::kDimPart + dt * 8 + 2 * (lane % 4);
      *reinterpret_cast<unsigned *>(dk_row + c) =
          arch::pack2<T>(acc_dk[dt][2 * half_row] * p.softmax_scale,
                         acc_dk[dt][2 * half_row + 1] * p.softmax_scale);
      *reinterpret_cast<unsigned *>(dv_row + c) = arch::pack2<T>(
          acc_dv[dt][2 * half_row], acc_dv[dt][2 * half_row + 1]);
    }
  }
}

} // namespace lace
