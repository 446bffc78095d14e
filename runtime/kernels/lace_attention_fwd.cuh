//===- lace_attention_fwd.cuh - Block-sparse FlashAttention-2 forward -----===//
//
// One CTA computes one q-tile (block_m query rows) of one (batch, head): it
// walks the tile row of the head's block layout (runs or BSR), streams each
// non-empty K/V tile through a cp.async ring of `stages` buffers, computes
// S = Q K^T and O += P V on tensor cores (lace_arch.cuh) and keeps the
// softmax online in fp32. Full tiles run without any mask code; Partial tiles
// evaluate Pattern::live per element; the last k-tile, when seq_k is not a
// multiple of block_n, also masks keys >= seq_k. O leaves through shared
// memory in 16-byte stores. See docs/kernels.md.
//
// Traits (generated): Element (half or __nv_bfloat16), kHeadDim, kBlockM,
// kBlockN, kWarps, kStages. Pattern (generated): has_score,
// live(params, b, h, q, k, memo) -> bool (memo: a LiveMemo that lives for
// one tile), score(s, b, h, q, k) -> float. softmax_scale must be positive
// (the host checks): the row max is taken over raw scores.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "lace_tiles.cuh"

namespace lace {

/// Derived constants and the shared-memory layout of one forward kernel.
template <class Traits>
struct FwdTile : SmemTile<typename Traits::Element, Traits::kHeadDim,
                          Traits::kWarps * 32> {
  using Base =
      SmemTile<typename Traits::Element, Traits::kHeadDim, Traits::kWarps * 32>;
  using Element = typename Traits::Element;
  using Base::kDimTiles;
  using Base::kHeadDim;
  using Base::kThreads;
  static constexpr int kBlockM = Traits::kBlockM;
  static constexpr int kBlockN = Traits::kBlockN;
  static constexpr int kWarps = Traits::kWarps;
  static constexpr int kStages = Traits::kStages;
  /// Each warp owns kRowsPerWarp consecutive query rows: kMTiles mma tiles of
  /// 16 rows.
  static constexpr int kRowsPerWarp = kBlockM / kWarps;
  static constexpr int kMTiles = kRowsPerWarp / 16;
  static constexpr int kKeyTiles = kBlockN / 8; ///< n-tiles of S
  static constexpr int kQElems = kBlockM * kHeadDim;
  static constexpr int kKVElems = kBlockN * kHeadDim;
  /// Dynamic shared memory: Q (and O in the epilogue), then kStages K
  /// tiles, then kStages V tiles, then the tile ring: {column, kind} of the
  /// k-tile in each stage.
  static constexpr int kRingOffset =
      (kQElems + 2 * kStages * kKVElems) * static_cast<int>(sizeof(Element));
  static constexpr int kSmemBytes = kRingOffset + 2 * kStages * 4;
  /// fp32 accumulators per thread: O plus S (plus about 40 for addresses,
  /// softmax state and fragments), which must fit in 255 registers.
  static constexpr int kAccRegisters = kMTiles * (kDimTiles + kKeyTiles) * 4;

  static_assert(kWarps >= 1 && kWarps <= 8, "1 to 8 warps per CTA");
  static_assert(kBlockM % (16 * kWarps) == 0,
                "block_m must give every warp whole 16-row mma tiles");
  static_assert(kMTiles <= 4, "at most 64 query rows per warp");
  static_assert(kBlockN % 16 == 0 && kBlockN >= 16 && kBlockN <= 256,
                "block_n must be a multiple of 16 (one P k-step, one "
                "ldmatrix_x4 of K covers 16 keys)");
  static_assert(kStages >= 2 && kStages <= 4,
                "the cp.async ring needs 2 to 4 stages");
  static_assert(kAccRegisters <= 192,
                "accumulators alone would exceed the register file (spills): "
                "lower block_m per warp or block_n");
  static_assert(kSmemBytes <= 227 * 1024,
                "shared memory above the sm_90 limit of 227 KiB per CTA");
};

/// Sets S to -inf where the key is out of range (k >= seq_k) and, when
/// kPattern, where Pattern::live is false. Only Partial tiles and the clipped
/// last column come here. live() runs on every element, out-of-range keys
/// included (its answer is then unused; same_segment clamps the ids it
/// reads): without a branch per element ptxas if-converts the tile.
template <class Tile, class Pattern, bool kPattern>
__device__ __forceinline__ void
mask_tile(const LaceFwdParams &p, float (&s)[Tile::kMTiles][Tile::kKeyTiles][4],
          int b, int h, int row0, int key0, int seq_k) {
  LiveMemo memo;
#pragma unroll
  for (int mt = 0; mt < Tile::kMTiles; ++mt)
#pragma unroll
    for (int nt = 0; nt < Tile::kKeyTiles; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int q = row0 + mt * 16 + (e / 2) * 8;
        const int k = key0 + nt * 8 + (e % 2);
        bool dead = k >= seq_k;
        if constexpr (kPattern)
          dead = dead | !Pattern::live(p, b, h, q, k, memo);
        if (dead)
          s[mt][nt][e] = -__int_as_float(0x7f800000);
      }
}

/// One work item of the schedule (lace_params.cuh, LaceFwdParams::work_items).
struct WorkItem {
  int b, h, row;      ///< batch, head, q-tile
  int col_lo, col_hi; ///< the k-tiles [col_lo, col_hi) it covers
  int slot;           ///< >= 0: a piece of a split row (its workspace slot)
};

/// The forward pass of one work item: q-tile `row` of head `h`, batch `b`,
/// over its k-tiles in [col_lo, col_hi). A whole row writes O and LSE; a
/// piece writes its own normalised O (fp32) and LSE to workspace slot
/// `slot`, for attention_combine.
template <class Traits, class Pattern>
__device__ __forceinline__ void attention_fwd_item(const LaceFwdParams &p,
                                                   const WorkItem &item,
                                                   unsigned char *smem) {
  using Tile = FwdTile<Traits>;
  using T = typename Tile::Element;
  constexpr int kMT = Tile::kMTiles, kNT = Tile::kKeyTiles,
                kDT = Tile::kDimTiles;
  constexpr float kLog2e = 1.4426950408889634f;
  constexpr float kLn2 = 0.6931471805599453f;
  const float neg_inf = -__int_as_float(0x7f800000);

  const int b = item.b, h = item.h, row = item.row;
  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int q_begin = row * Tile::kBlockM;
  const int kv_head = h / (p.heads / p.kv_heads);

  const T *q_src = static_cast<const T *>(p.q) + b * p.q_stride_b +
                   h * p.q_stride_h + q_begin * p.q_stride_s;
  const T *k_src =
      static_cast<const T *>(p.k) + b * p.k_stride_b + kv_head * p.k_stride_h;
  const T *v_src =
      static_cast<const T *>(p.v) + b * p.v_stride_b + kv_head * p.v_stride_h;

  // Shared addresses (32-bit) of the Q tile and the K and V rings.
  constexpr unsigned kTileBytes = Tile::kKVElems * Tile::kElemBytes;
  const unsigned s_q = arch::smem_addr(smem);
  const unsigned s_k = s_q + Tile::kQElems * Tile::kElemBytes;
  const unsigned s_v = s_k + Tile::kStages * kTileBytes;

  // One cursor walks the row, kStages - 1 tiles ahead of the compute; the
  // {column, kind} of each tile in flight waits in the ring in shared
  // memory (thread 0 writes it, the loop's barrier publishes it) instead of
  // a second cursor in registers.
  const int layout_slot = p.head_to_layout[h];
  TileCursor load;
  if (layout_slot >= 0 && layout_slot < p.num_layouts)
    load.start(p.rows, p.status, layout_slot, row, item.col_lo, item.col_hi);
  else
    arch::report_error(p.status, kStatusBadLayoutIndex);
  int *const ring = reinterpret_cast<int *>(smem + Tile::kRingOffset);

  const TileCopy<Tile, Tile::kBlockN> k_copy(tid, p.k_stride_s);
  const TileCopy<Tile, Tile::kBlockN> v_copy(tid, p.v_stride_s);
  int issued = 0; ///< k-tiles whose copies have been issued
  // Issues the next tile of the row (if any) into `stage` and closes a
  // cp.async group either way: every thread commits the same number of
  // groups (empty ones included), so the group index of tile t is t.
  auto issue_next = [&](int stage) {
    if (load.valid) {
      issue_kv_tile(p, k_copy, v_copy, s_k, s_v, k_src, v_src, stage, load.col);
      if (tid == 0) {
        ring[2 * stage] = load.col;
        ring[2 * stage + 1] = load.kind;
      }
      ++issued;
      load.next(p.rows, p.status);
    }
    arch::cp_async_commit();
  };

  // Prologue: Q joins the first K/V group; kStages - 1 groups in flight. A
  // row without a tile (fully masked) loads nothing and writes O = 0,
  // LSE = -inf.
  if (load.valid)
    TileCopy<Tile, Tile::kBlockM>(tid, p.q_stride_s)
        .issue(s_q, q_src, p.seq_q - q_begin);
#pragma unroll
  for (int stage = 0; stage < Tile::kStages - 1; ++stage)
    issue_next(stage);

  float acc_o[kMT][kDT][4];
  // Scores stay raw (no scale) until the exponent: 2^(s * c - max * c) is
  // one FFMA per element with c = scale * log2(e). A score modifier sees
  // the scaled score and returns natural units, so c = log2(e) then.
  const float exp_scale =
      Pattern::has_score ? kLog2e : p.softmax_scale * kLog2e;
  float row_max[kMT][2]; // max of the raw (or modified) scores
  float row_sum[kMT][2]; // this thread's part of sum 2^((x - row_max) c)
#pragma unroll
  for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
    for (int dt = 0; dt < kDT; ++dt)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        acc_o[mt][dt][e] = 0.f;
    row_max[mt][0] = row_max[mt][1] = neg_inf;
    row_sum[mt][0] = row_sum[mt][1] = 0.f;
  }

  // ldmatrix addressing: Q and V read rows lane % 16, chunk lane / 16 of a
  // 16x16 block; K reads rows lane % 8 + 8 (lane / 16), chunk (lane / 8) % 2.
  const LaneOffsets<Tile> qv_lane(lane % 16, lane / 16);
  const LaneOffsets<Tile> k_lane(lane % 8 + (lane / 16) * 8, (lane / 8) % 2);

  // Query row of element e / 2 == 0 of m-tile 0 for this lane.
  const int lane_row0 = q_begin + warp * Tile::kRowsPerWarp + lane / 4;
  const int last_col = (p.seq_k - 1) / Tile::kBlockN;
  const bool clipped_last = p.seq_k % Tile::kBlockN != 0;

  int stage = 0;
  for (int t = 0; t < issued; ++t) {
    // Tile t's group has landed for this thread; the barrier makes every
    // thread's copies (and the ring entry) visible and ends all reads of
    // the stage written next (tile t - 1's).
    arch::cp_async_wait<Tile::kStages - 2>();
    __syncthreads();
    const int col = ring[2 * stage], kind = ring[2 * stage + 1];
    issue_next((stage + Tile::kStages - 1) % Tile::kStages);

    const unsigned k_tile = s_k + stage * kTileBytes;
    const unsigned v_tile = s_v + stage * kTileBytes;

    // S = Q K^T.
    float s[kMT][kNT][4];
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          s[mt][nt][e] = 0.f;
#pragma unroll
    for (int ks = 0; ks < Tile::kHeadDim / 16; ++ks) {
      unsigned a[kMT][4];
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt)
        arch::ldmatrix_x4(
            a[mt], s_q + qv_lane.at(warp * Tile::kRowsPerWarp + mt * 16, ks));
#pragma unroll
      for (int np = 0; np < kNT / 2; ++np) {
        unsigned bk[4];
        arch::ldmatrix_x4(bk, k_tile + k_lane.at(np * 16, ks));
#pragma unroll
        for (int mt = 0; mt < kMT; ++mt) {
          arch::mma_m16n8k16<T>(s[mt][2 * np], a[mt], bk[0], bk[1]);
          arch::mma_m16n8k16<T>(s[mt][2 * np + 1], a[mt], bk[2], bk[3]);
        }
      }
    }

    // The score modifier sees the scaled raw score.
    const int key0 = col * Tile::kBlockN + 2 * (lane % 4);
    if constexpr (Pattern::has_score) {
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e)
            s[mt][nt][e] = Pattern::score(s[mt][nt][e] * p.softmax_scale, b, h,
                                          lane_row0 + mt * 16 + (e / 2) * 8,
                                          key0 + nt * 8 + (e % 2));
    }
    if (kind == kTilePartial)
      mask_tile<Tile, Pattern, true>(p, s, b, h, lane_row0, key0, p.seq_k);
    else if (clipped_last && col == last_col)
      mask_tile<Tile, Pattern, false>(p, s, b, h, lane_row0, key0, p.seq_k);

    // Online softmax: new max, rescale O and the sums, P = 2^(x c - max c).
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
      for (int half_row = 0; half_row < 2; ++half_row) {
        float new_max = row_max[mt][half_row];
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt)
          new_max = fmaxf(new_max, fmaxf(s[mt][nt][2 * half_row],
                                         s[mt][nt][2 * half_row + 1]));
        new_max = arch::quad_max(new_max);
        // A row with nothing live so far keeps max -inf; subtracting 0
        // instead keeps 2^(-inf - ...) = 0 and avoids inf - inf.
        const float base = (new_max == neg_inf ? 0.f : new_max) * exp_scale;
        // The old max through the same rounded product as `base`: an
        // unchanged max rescales by exactly 1 (an FFMA would leave the
        // product's rounding error, compounding over the row's tiles).
        const float rescale =
            arch::fast_exp2(row_max[mt][half_row] * exp_scale - base);
        row_max[mt][half_row] = new_max;
        row_sum[mt][half_row] *= rescale;
#pragma unroll
        for (int dt = 0; dt < kDT; ++dt) {
          acc_o[mt][dt][2 * half_row] *= rescale;
          acc_o[mt][dt][2 * half_row + 1] *= rescale;
        }
#pragma unroll
        for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float prob = arch::fast_exp2(
                fmaf(s[mt][nt][2 * half_row + e], exp_scale, -base));
            s[mt][nt][2 * half_row + e] = prob;
            row_sum[mt][half_row] += prob;
          }
      }

    // O += P V: the S accumulators of key tiles 2kk, 2kk + 1 are exactly the
    // A fragment of k-step kk (rows g / g + 8, keys 2t.. / 2t + 8..).
#pragma unroll
    for (int kk = 0; kk < Tile::kBlockN / 16; ++kk) {
      unsigned a[kMT][4];
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) {
        a[mt][0] = arch::pack2<T>(s[mt][2 * kk][0], s[mt][2 * kk][1]);
        a[mt][1] = arch::pack2<T>(s[mt][2 * kk][2], s[mt][2 * kk][3]);
        a[mt][2] = arch::pack2<T>(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
        a[mt][3] = arch::pack2<T>(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
      }
#pragma unroll
      for (int dp = 0; dp < kDT / 2; ++dp) {
        unsigned bv[4];
        arch::ldmatrix_x4_trans(bv, v_tile + qv_lane.at(kk * 16, dp));
#pragma unroll
        for (int mt = 0; mt < kMT; ++mt) {
          arch::mma_m16n8k16<T>(acc_o[mt][2 * dp], a[mt], bv[0], bv[1]);
          arch::mma_m16n8k16<T>(acc_o[mt][2 * dp + 1], a[mt], bv[2], bv[3]);
        }
      }
    }

    stage = (stage + 1) % Tile::kStages;
  }
  // No copy may still target shared memory when the item ends (a persistent
  // loop reuses it).
  arch::cp_async_wait<0>();
  __syncthreads();

  // Epilogue: O = acc / sum (0 for a row without a live key), LSE = ln(sum
  // of e^s) = (max c + log2(sum)) * ln 2 (-inf for such a row). A whole row
  // stages O in the Q tile's shared memory (Q is dead; the swizzle keeps the
  // quads' 4-byte writes free of bank conflicts at head dims 64, 128 and
  // 256, two-way at 32 and 96) and then stores it in
  // 16-byte chunks, whole rows per group of threads; a piece of a split row
  // writes O and LSE in fp32 to its workspace slot.
  // Only a piece has a slot (the workspace may be null otherwise).
  const bool piece = item.slot >= 0;
  const int epi_tid = arch::fresh_thread_index();
  const int epi_lane = epi_tid % 32;
  const int epi_row0 = epi_tid / 32 * Tile::kRowsPerWarp + epi_lane / 4;
#pragma unroll
  for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
    for (int half_row = 0; half_row < 2; ++half_row) {
      const float sum = arch::quad_sum(row_sum[mt][half_row]);
      const int r = epi_row0 + mt * 16 + half_row * 8; // row in the tile
      const int q = q_begin + r;
      const bool dead = !(sum > 0.f);
      const float inv = dead ? 0.f : 1.f / sum;
      const float lse =
          dead ? neg_inf
               : (row_max[mt][half_row] * exp_scale + __log2f(sum)) * kLn2;
      if (piece) {
        if (q >= p.seq_q)
          continue;
        const long long piece_row =
            static_cast<long long>(item.slot) * Tile::kBlockM + r;
        float *o_row = p.partial_o + piece_row * Tile::kHeadDim;
#pragma unroll
        for (int dt = 0; dt < kDT; ++dt) {
          o_row[dt * 8 + 2 * (lane % 4)] = acc_o[mt][dt][2 * half_row] * inv;
          o_row[dt * 8 + 2 * (lane % 4) + 1] =
              acc_o[mt][dt][2 * half_row + 1] * inv;
        }
        if (lane % 4 == 0)
          p.partial_lse[piece_row] = lse;
        continue;
      }
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt)
        *reinterpret_cast<unsigned *>(
            smem +
            (Tile::offset(r, dt) + 2 * (epi_lane % 4)) * Tile::kElemBytes) =
            arch::pack2<T>(acc_o[mt][dt][2 * half_row] * inv,
                           acc_o[mt][dt][2 * half_row + 1] * inv);
      if (p.lse != nullptr && lane % 4 == 0 && q < p.seq_q)
        p.lse[b * p.lse_stride_b + h * p.lse_stride_h + q] = lse;
    }
  if (!piece) {
    __syncthreads();
    T *o_dst = static_cast<T *>(p.o) + b * p.o_stride_b + h * p.o_stride_h;
    constexpr int kTileChunks = Tile::kBlockM * Tile::kChunks;
#pragma unroll
    for (int i = 0; i < (kTileChunks + Tile::kThreads - 1) / Tile::kThreads;
         ++i) {
      const int id = epi_tid + i * Tile::kThreads;
      const int r = id / Tile::kChunks, c = id % Tile::kChunks;
      if ((kTileChunks % Tile::kThreads == 0 || id < kTileChunks) &&
          q_begin + r < p.seq_q)
        arch::copy_16(
            o_dst + static_cast<long long>(q_begin + r) * p.o_stride_s + c * 8,
            smem + Tile::offset(r, c) * Tile::kElemBytes);
    }
  }
  // The next item of a persistent CTA overwrites the Q tile and the ring.
  __syncthreads();
}

/// Record `index` of the work list, or false (and a status bit) when it is
/// out of range. Every thread of the CTA reads the same record, so the
/// answer is uniform.
__device__ __forceinline__ bool read_work_item(const LaceFwdParams &p,
                                               int index, WorkItem &item) {
  const int *w = p.work_items + kWorkItemFields * index;
  item = {w[0], w[1], w[2], w[3], w[4], w[7]};
  const int splits = w[6];
  const bool ok = item.b >= 0 && item.b < p.batch && item.h >= 0 &&
                  item.h < p.heads && item.row >= 0 &&
                  item.row < p.rows.num_rows && item.col_lo >= 0 &&
                  item.col_lo < item.col_hi && item.col_hi <= p.rows.num_cols &&
                  splits >= 1 && (splits == 1) == (item.slot == -1) &&
                  item.slot >= -1 && item.slot < p.num_slots;
  if (!ok)
    arch::report_error(p.status, kStatusBadWorkItem);
  return ok;
}

/// The forward's entry point: a persistent grid of p.num_ctas CTAs, each
/// running its slice of the work list in order (longest items first, as
/// the LPT schedule assigned them), kThreads threads, FwdTile::kSmemBytes
/// of dynamic shared memory.
template <class Traits, class Pattern>
__device__ __forceinline__ void
attention_fwd_persistent(const LaceFwdParams &p) {
  const int cta = blockIdx.x;
  if (cta >= p.num_ctas)
    return;
  const int begin = p.cta_offsets[cta], end = p.cta_offsets[cta + 1];
  if (begin < 0 || begin > end || end > p.num_items) {
    arch::report_error(p.status, kStatusBadWorkItem);
    return;
  }
  for (int i = begin; i < end; ++i) {
    WorkItem item;
    if (read_work_item(p, i, item))
      attention_fwd_item<Traits, Pattern>(p, item, arch::dynamic_smem());
  }
}

/// The combine step: CTA i merges the pieces of split row p.combines[i]
/// (docs/layout.md, combineSplits): lse = log(sum_j exp(lse_j)),
/// O = sum_j exp(lse_j - lse) O_j; O = 0 and lse = -inf when no piece has a
/// live key. Warps take rows, lanes two adjacent columns at a time.
template <class Traits>
__device__ __forceinline__ void attention_combine(const LaceFwdParams &p) {
  using T = typename Traits::Element;
  constexpr int kBlockM = Traits::kBlockM, kHeadDim = Traits::kHeadDim;
  const float neg_inf = -__int_as_float(0x7f800000);
  if (static_cast<int>(blockIdx.x) >= p.num_combines)
    return;
  const int *c = p.combines + kCombineFields * blockIdx.x;
  const int b = c[0], h = c[1], row = c[2], first = c[3], pieces = c[4];
  if (b < 0 || b >= p.batch || h < 0 || h >= p.heads || row < 0 ||
      row >= p.rows.num_rows || first < 0 || pieces < 1 ||
      pieces > p.num_slots - first) {
    arch::report_error(p.status, kStatusBadWorkItem);
    return;
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  T *o_dst = static_cast<T *>(p.o) + b * p.o_stride_b + h * p.o_stride_h;
  for (int r = warp; r < kBlockM; r += Traits::kWarps) {
    const int q = row * kBlockM + r;
    if (q >= p.seq_q)
      break;
    const float *lse = p.partial_lse + static_cast<long long>(first) * kBlockM;
    float m = neg_inf;
    for (int j = 0; j < pieces; ++j)
      m = fmaxf(m, lse[j * kBlockM + r]);
    float total = neg_inf;
    if (m != neg_inf) {
      float sum = 0.f;
      for (int j = 0; j < pieces; ++j)
        sum += expf(lse[j * kBlockM + r] - m);
      total = m + logf(sum);
    }
    T *o_row = o_dst + static_cast<long long>(q) * p.o_stride_s;
    for (int d = 2 * lane; d < kHeadDim; d += 64) {
      float o0 = 0.f, o1 = 0.f;
      if (total != neg_inf)
        for (int j = 0; j < pieces; ++j) {
          const float w = expf(lse[j * kBlockM + r] - total);
          const float *o_piece =
              p.partial_o +
              (static_cast<long long>(first + j) * kBlockM + r) * kHeadDim;
          o0 += w * o_piece[d];
          o1 += w * o_piece[d + 1];
        }
      *reinterpret_cast<unsigned *>(o_row + d) = arch::pack2<T>(o0, o1);
    }
    if (p.lse != nullptr && lane == 0)
      p.lse[b * p.lse_stride_b + h * p.lse_stride_h + q] = total;
  }
}

} // namespace lace
