//===- lace_tiles.cuh - Tile machinery shared by the forward and backward -===//
//
// The swizzled shared-memory tile geometry, the cp.async tile copies, the
// ldmatrix lane addressing, the cursor that walks one row of a block layout
// (runs or BSR, every read bounds-checked) and the segment test of packed
// sequences. The forward (lace_attention_fwd.cuh) and the backward
// (lace_attention_bwd.cuh) kernels are built from these.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "lace_arch.cuh"
#include "lace_params.cuh"
#include "lace_semantics.cuh"

namespace lace {

/// The shared-memory geometry every kernel's tiles share: [rows, head_dim]
/// 16-bit tiles of 16-byte chunks with an XOR swizzle, copied by kThreads
/// threads. TileCopy and LaneOffsets read these members.
template <class ElementT, int HeadDim, int Threads> struct SmemTile {
  using Element = ElementT;
  static constexpr int kHeadDim = HeadDim;
  static constexpr int kThreads = Threads;
  /// 16-byte chunks per row of a tile in shared memory, and the XOR swizzle
  /// group: chunk c of row r lives at chunk c ^ (r % kSwizzle), so the 8 rows
  /// an ldmatrix reads hit distinct banks.
  static constexpr int kChunks = kHeadDim / 8;
  static constexpr int kSwizzle = kChunks % 8 == 0   ? 8
                                  : kChunks % 4 == 0 ? 4
                                  : kChunks % 2 == 0 ? 2
                                                     : 1;
  static constexpr int kElemBytes = static_cast<int>(sizeof(Element));
  static constexpr int kDimTiles =
      kHeadDim / 8; ///< n-tiles of a [16, d] product

  static_assert(sizeof(Element) == 2, "Element must be half or __nv_bfloat16");
  static_assert(kHeadDim % 16 == 0 && kHeadDim >= 32 && kHeadDim <= 256,
                "head dim must be a multiple of 16 in [32, 256] (mma k-step "
                "16, ldmatrix_x4 loads 16 columns)");

  /// Element offset of (row, column chunk) in a swizzled tile.
  static __device__ __forceinline__ int offset(int row, int chunk) {
    return row * kHeadDim + ((chunk ^ (row % kSwizzle)) << 3);
  }
};

/// Walks the non-empty tiles of one row of one layout in column order, from
/// either table form, with every table read bounds-checked: a bad entry
/// reports a status bit and ends the row.
struct TileCursor {
  int col = 0;  ///< current k-tile column
  int kind = 0; ///< kTilePartial or kTileFull
  bool valid = false;

  int index = 0; ///< run index (runs) or entry index (BSR)
  int index_end = 0;
  int col_end = 0; ///< runs: end of the current run (clipped to hi)
  int hi = 0;      ///< the column window's end (its start only matters to
                   ///< the first tile: later ones lie after it)

  // The table and the status word are passed to every call rather than
  // kept: kernel parameters need no registers, copies of their addresses
  // would (two 64-bit pointers per cursor).
  /// Row `row` of layout `layout`, only its columns in [col_lo, col_hi)
  /// (a piece of a split row; 0 and 0x7fffffff: the whole row).
  __device__ __forceinline__ void start(const LaceTileTable &table, int *status,
                                        int layout, int row, int col_lo = 0,
                                        int col_hi = 0x7fffffff) {
    valid = false;
    hi = col_hi;
    const long long slot =
        static_cast<long long>(layout) * (table.num_rows + 1) + row;
    const bool runs = table.form == kLayoutRuns;
    const int *offsets = runs ? table.row_offsets : table.bsr_row_ptr;
    const long long limit = runs ? table.num_runs : table.bsr_nnz;
    const int begin = offsets[slot];
    const int end = offsets[slot + 1];
    if (begin < 0 || begin > end || end > limit) {
      arch::report_error(status, kStatusBadRowOffset);
      return;
    }
    index = begin;
    index_end = end;
    if (runs)
      enterRun(table, status, col_lo);
    else
      enterEntry(table, status, col_lo);
  }

  __device__ __forceinline__ void next(const LaceTileTable &table,
                                       int *status) {
    if (table.form == kLayoutRuns) {
      if (++col < col_end)
        return;
      ++index;
      enterRun(table, status, 0);
    } else {
      ++index;
      enterEntry(table, status, 0);
    }
  }

private:
  __device__ __forceinline__ void enterRun(const LaceTileTable &table,
                                           int *status, int lo) {
    valid = false;
    for (; index < index_end; ++index) {
      const int *run = table.runs + 3ll * index;
      const int begin = run[0], end = run[1], k = run[2];
      if (begin < 0 || begin >= end || end > table.num_cols ||
          (k != kTilePartial && k != kTileFull)) {
        arch::report_error(status, kStatusBadTile);
        return;
      }
      if (end <= lo)
        continue; // before the window
      if (begin >= hi)
        return; // runs ascend: nothing more in the window
      col = begin > lo ? begin : lo;
      col_end = end < hi ? end : hi;
      kind = k;
      valid = true;
      return;
    }
  }

  __device__ __forceinline__ void enterEntry(const LaceTileTable &table,
                                             int *status, int lo) {
    valid = false;
    for (; index < index_end; ++index) {
      const int c = table.bsr_col_idx[index];
      if (c < 0 || c >= table.num_cols) {
        arch::report_error(status, kStatusBadTile);
        return;
      }
      if (c < lo)
        continue;
      if (c >= hi)
        return;
      col = c;
      kind = table.bsr_is_full[index] ? kTileFull : kTilePartial;
      valid = true;
      return;
    }
  }
};

/// Per-thread addressing of the cp.async copies of a [Rows, head_dim] tile.
/// When the threads cover whole rows (kEven), thread tid copies chunk
/// tid % kChunks of rows tid / kChunks + i * kStep; otherwise (head dim 96)
/// chunk ids tid + i * kThreads are decoded one by one. Only the thread id
/// and the row stride (a kernel parameter, which needs no register) are
/// kept: the offsets are a few integer operations per copy, while keeping
/// them cost about 7 registers per copy object across the k-tile loop.
template <class Tile, int Rows> struct TileCopy {
  static constexpr int kStep = Tile::kThreads / Tile::kChunks; ///< rows
  static constexpr bool kEven =
      Tile::kThreads % Tile::kChunks == 0 && kStep > 0 && Rows % kStep == 0;
  static constexpr int kIters =
      kEven ? Rows / kStep
            : (Rows * Tile::kChunks + Tile::kThreads - 1) / Tile::kThreads;
  int tid;
  long long stride;

  __device__ __forceinline__ TileCopy(int thread, long long row_stride)
      : tid(thread), stride(row_stride) {}

  /// Issues the copies of the tile at `src` into the tile at shared address
  /// `dst`; rows >= valid_rows are zero-filled.
  template <class Element>
  __device__ __forceinline__ void issue(unsigned dst, const Element *src,
                                        int valid_rows) const {
    if constexpr (!kEven) {
#pragma unroll
      for (int i = 0; i < kIters; ++i) {
        const int id = tid + i * Tile::kThreads;
        if (id < Rows * Tile::kChunks) {
          const int row = id / Tile::kChunks, c = id % Tile::kChunks;
          const bool in_range = row < valid_rows;
          arch::cp_async_16(dst + Tile::offset(row, c) * Tile::kElemBytes,
                            in_range ? src + row * stride + c * 8 : src,
                            in_range);
        }
      }
      return;
    }
    const int row0 = tid / Tile::kChunks, chunk = tid % Tile::kChunks;
    const int smem_offset = Tile::offset(row0, chunk);
    const Element *from = src + row0 * stride + chunk * 8;
#pragma unroll
    for (int i = 0; i < kIters; ++i) {
      const int row = row0 + i * kStep;
      // The swizzle of a row repeats every kSwizzle rows: when kStep is a
      // multiple of it the shared offset only moves by whole rows.
      const int to = kStep % Tile::kSwizzle == 0
                         ? smem_offset + i * kStep * Tile::kHeadDim
                         : Tile::offset(row, chunk);
      const bool in_range = row < valid_rows;
      arch::cp_async_16(dst + to * Tile::kElemBytes, in_range ? from : src,
                        in_range);
      from += kStep * stride;
    }
  }
};

/// The K and V tiles of k-tile `col` copied into stage `stage` of their
/// rings (at shared addresses s_k and s_v, kTileBytes apart per stage); rows
/// past seq_k are zero-filled. The forward and the dq kernel stream K and V
/// this way.
template <class Tile, class Element>
__device__ __forceinline__ void issue_kv_tile(
    const LaceFwdParams &p, const TileCopy<Tile, Tile::kBlockN> &k_copy,
    const TileCopy<Tile, Tile::kBlockN> &v_copy, unsigned s_k, unsigned s_v,
    const Element *k_src, const Element *v_src, int stage, int col) {
  constexpr unsigned kTileBytes =
      Tile::kBlockN * Tile::kHeadDim * Tile::kElemBytes;
  const int key0 = col * Tile::kBlockN;
  k_copy.issue(s_k + stage * kTileBytes,
               k_src + static_cast<long long>(key0) * p.k_stride_s,
               p.seq_k - key0);
  v_copy.issue(s_v + stage * kTileBytes,
               v_src + static_cast<long long>(key0) * p.v_stride_s,
               p.seq_k - key0);
}

/// Offsets of a lane's ldmatrix row address in a swizzled tile, for a lane
/// that reads row `lane_row` (mod 16) and column chunk `lane_chunk` (0 or 1)
/// of each 16x16 block. The XOR of the swizzle only touches the low bits of
/// the chunk, so one per-lane register serves every k-step (four per tile
/// kept one variant per register and spilled at 128 x 64, head dim 128).
template <class Tile> struct LaneOffsets {
  static_assert(Tile::kSwizzle >= 2, "rows of an even number of chunks");
  /// Byte offset of the lane's row with the swizzle's XOR bits of its chunk
  /// ORed in: a row is a multiple of kSwizzle chunks long, so those bits of
  /// the row offset are zero and the XOR of any k-step's chunk is one LOP3
  /// on this one register.
  unsigned lane;

  __device__ __forceinline__ LaneOffsets(int lane_row, int lane_chunk) {
    const int x = lane_chunk ^ (lane_row % Tile::kSwizzle);
    lane = static_cast<unsigned>(lane_row * Tile::kHeadDim * Tile::kElemBytes) |
           static_cast<unsigned>(x << 4);
  }

  /// Byte offset of this lane's address for the 16x16 block at (r0, ks).
  __device__ __forceinline__ unsigned at(int r0, int ks) const {
    const int chunk = 2 * ks;
    const unsigned block = static_cast<unsigned>(
        (r0 * Tile::kHeadDim + (chunk & ~(Tile::kSwizzle - 1)) * 8) *
        Tile::kElemBytes);
    return block +
           (lane ^ static_cast<unsigned>((chunk % Tile::kSwizzle) << 4));
  }
};

/// Do query q and key k lie in the same segment (packed sequences)? The
/// generated live() of a pattern with `segment` calls this. Positions past
/// seq_q or seq_k (the padding of the last tiles) are in none; they read the
/// last token's id instead of branching (no branch per element).
__device__ __forceinline__ bool same_segment(const LaceFwdParams &p, int q,
                                             int k) {
  const bool in_range = (q < p.seq_q) & (k < p.seq_k);
  return in_range & (p.q_segment_ids[q < p.seq_q ? q : p.seq_q - 1] ==
                     p.k_segment_ids[k < p.seq_k ? k : p.seq_k - 1]);
}

} // namespace lace
