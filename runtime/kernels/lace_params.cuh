//===- lace_params.cuh - Kernel parameters shared by host and device ------===//
//
// The one argument of every forward kernel. Plain C++ with no includes, so
// the host launcher, the emulator and NVRTC all compile this same file.
// Strides are in elements; the last dimension of every tensor is contiguous,
// base pointers are 16-byte aligned and the q/k/v/o strides are multiples of
// 8 elements (cp.async moves 16 bytes). Offsets are computed in 64 bits.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace lace {

/// Kinds of a tile in the layout tables (BlockKind in lace/Layout).
enum : int { kTileEmpty = 0, kTilePartial = 1, kTileFull = 2 };
/// Which layout tables the kernel reads.
enum : int { kLayoutRuns = 0, kLayoutBSR = 1 };
/// Bits ORed into *status when a table entry is out of range (the row is
/// then treated as having no further tiles).
enum : int {
  kStatusBadLayoutIndex = 1, ///< head_to_layout[h] outside [0, num_layouts)
  kStatusBadRowOffset = 2,   ///< row_offsets / bsr_row_ptr outside the table
  kStatusBadTile = 4,        ///< a run or column outside [0, num_cols)
  kStatusBadWorkItem = 8,    ///< a work-list or combine record out of range
};

/// What live() remembers between the elements of one tile: the last answer
/// of a random-block test (BigBird), keyed by its call site and block
/// indices, which most elements of a tile share. The generator then runs
/// once or twice per tile and thread instead of once per element.
struct LiveMemo {
  int site = -1, head = -1, row = -1, col = -1;
  bool live = false;
};

/// Ints per record of LaceFwdParams::work_items and ::combines.
enum : int { kWorkItemFields = 8, kCombineFields = 5 };

/// The tables of one or more block layouts in one form (lace/Layout). Row r
/// of layout l owns entries [offsets[l * (num_rows + 1) + r], ... + r + 1).
/// The forward layout's rows are q-tiles and its columns k-tiles; the
/// transposed layout the backward walks has them swapped.
struct LaceTileTable {
  int form;     ///< kLayoutRuns or kLayoutBSR
  int num_rows; ///< rows of every layout
  int num_cols; ///< columns of every layout
  /// Runs form: `runs` holds [num_runs][3] = {begin, end, kind} (columns
  /// [begin, end) of kind kTilePartial or kTileFull).
  const int *row_offsets; ///< [num_layouts * (num_rows + 1)]
  const int *runs;        ///< [num_runs * 3]
  long long num_runs;
  /// BSR form.
  const int *bsr_row_ptr;           ///< [num_layouts * (num_rows + 1)]
  const int *bsr_col_idx;           ///< [bsr_nnz], ascending per row
  const unsigned char *bsr_is_full; ///< [bsr_nnz], 1 = Full, 0 = Partial
  long long bsr_nnz;
};

struct LaceFwdParams {
  // ---- Tensors -------------------------------------------------------------
  const void
      *q; ///< [batch, seq_q, heads, head_dim] (element type of the kernel)
  const void *k; ///< [batch, seq_k, kv_heads, head_dim]
  const void *v; ///< [batch, seq_k, kv_heads, head_dim]
  void *o;       ///< [batch, seq_q, heads, head_dim], same element type as q
  float *lse;    ///< [batch, heads, seq_q], natural log; -inf for dead rows;
                 ///< may be null (not written)
  long long q_stride_b, q_stride_s, q_stride_h;
  long long k_stride_b, k_stride_s, k_stride_h;
  long long v_stride_b, v_stride_s, v_stride_h;
  long long o_stride_b, o_stride_s, o_stride_h;
  long long lse_stride_b, lse_stride_h; ///< seq_q is contiguous
  int batch, heads, kv_heads;           ///< kv_heads divides heads (GQA/MQA)
  int seq_q, seq_k;
  float softmax_scale; ///< usually 1/sqrt(head_dim)

  // ---- Block layout (one or more distinct head layouts) --------------------
  int num_layouts;
  const int *head_to_layout; ///< [heads], index of the layout of head h
  /// The forward layout: per q-tile row its k-tiles.
  LaceTileTable rows;

  // ---- Work list (lace-schedule) ------------------------------------------
  /// Persistent CTA c (blockIdx.x) runs work items [cta_offsets[c],
  /// cta_offsets[c + 1]) in order, each {batch, head, row, col_begin,
  /// col_end, split, num_splits, slot}: q-tile `row` over k-tiles
  /// [col_begin, col_end). An item with slot >= 0 is a piece of a split row
  /// and writes its own softmax-normalised O and LSE to the workspace
  /// instead of o and lse; the combine kernel merges the pieces of each
  /// `combines` record {batch, head, row, first_slot, num_splits}.
  int num_ctas;
  const int *cta_offsets; ///< [num_ctas + 1]
  const int *work_items;  ///< [num_items * kWorkItemFields]
  long long num_items;
  const int *combines; ///< [num_combines * kCombineFields]
  int num_combines;
  int num_slots;
  float *partial_o;   ///< [num_slots, block_m, head_dim]
  float *partial_lse; ///< [num_slots, block_m], natural log

  /// Packed sequences, for patterns with `segment`: the segment (document)
  /// id of every query and key token, [seq_q] and [seq_k] int32, the same
  /// for every batch row (as the language defines `segment`); null for
  /// other patterns.
  const int *q_segment_ids;
  const int *k_segment_ids;

  /// Optional (may be null): malformed-table bits (kStatus*) are ORed here.
  int *status;
};

/// The one argument of the backward kernels: the forward's problem (q, k,
/// v, o, lse, the forward layout, segment ids) plus the gradients. The dq
/// kernel walks `fwd.rows` and writes dq and delta; the dkdv kernel walks
/// `cols` (the transposed layout) and reads delta.
struct LaceBwdParams {
  LaceFwdParams fwd; ///< fwd.lse is required (the forward's, natural log)
  const void *dout;  ///< [batch, seq_q, heads, head_dim], dL/dO
  void *dq;          ///< [batch, seq_q, heads, head_dim]
  void *dk;          ///< [batch, seq_k, kv_heads, head_dim]
  void *dv;          ///< [batch, seq_k, kv_heads, head_dim]
  long long do_stride_b, do_stride_s, do_stride_h;
  long long dq_stride_b, dq_stride_s, dq_stride_h;
  long long dk_stride_b, dk_stride_s, dk_stride_h;
  long long dv_stride_b, dv_stride_s, dv_stride_h;
  /// Workspace [batch, heads, seq_q] (strides as lse): D = rowsum(dO * O),
  /// written by the dq kernel, read by the dkdv kernel.
  float *delta;
  /// The transposed layout: per k-tile row its q-tiles (same layout
  /// indices as fwd.rows).
  LaceTileTable cols;
};

} // namespace lace
