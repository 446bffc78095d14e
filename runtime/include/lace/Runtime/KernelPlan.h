//===- KernelPlan.h - Everything the runtime needs to run one pattern -----===//
//
// A KernelPlan is the compiler's output for one pattern at one problem
// shape: the kernel (its spec: dtype, head dim, tiles and the pattern's
// live/score functions as C++ text), the canonical IR it came from (the
// cache key), and the block layout of every head in the table form the
// kernel reads. It is plain data: the runtime needs no compiler to use one,
// which is what kernel bundles carry to machines without LLVM/MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_KERNELPLAN_H
#define LACE_RUNTIME_KERNELPLAN_H

#include "lace/Runtime/Error.h"
#include "lace/Runtime/KernelSource.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lace {

using jit::DType;

/// The attention problem: tensors are [batch, seq, heads, head_dim].
struct ProblemShape {
  std::int64_t batch = 1;
  std::int64_t heads = 1;
  std::int64_t kvHeads = 0; ///< 0: heads (GQA/MQA: a divisor of heads)
  std::int64_t seqQ = 0;
  std::int64_t seqK = 0; ///< 0: seqQ

  /// kvHeads and seqK with their defaults filled in.
  ProblemShape resolved() const;
  /// Empty when valid, else what is wrong.
  std::string validate() const;
  friend bool operator==(const ProblemShape &, const ProblemShape &) = default;
};

/// The tables of lace_params.cuh: every distinct head layout, in one form.
struct LayoutTables {
  enum class Form : int { Runs = 0, BSR = 1 };
  Form form = Form::Runs;
  std::int32_t numLayouts = 0;
  std::int32_t numRows = 0;
  std::int32_t numCols = 0;
  std::vector<std::int32_t> headToLayout; ///< [heads]
  /// Runs: [numLayouts * (numRows + 1)] offsets into runs, runs as
  /// {begin, end, kind} triples (kind 1 Partial, 2 Full).
  std::vector<std::int32_t> rowOffsets;
  std::vector<std::int32_t> runs;
  /// BSR: [numLayouts * (numRows + 1)] row pointers, column indices
  /// ascending per row, and 1 for Full / 0 for Partial.
  std::vector<std::int32_t> bsrRowPtr;
  std::vector<std::int32_t> bsrColIdx;
  std::vector<std::uint8_t> bsrIsFull;

  /// Non-empty tiles of layout `layout`.
  std::int64_t nonEmptyTiles(std::int32_t layout) const;
  /// Every invariant the kernel relies on (it also checks them as it reads
  /// and reports bad entries through its status word); empty when valid.
  std::string validate(std::int64_t heads) const;
  /// Bytes uploaded to the device.
  std::size_t bytes() const;
};

/// The forward kernel's work list: lace-schedule's tables, which the
/// persistent kernel walks (lace_params.cuh).
struct ScheduleTables {
  static constexpr int kItemFields = 8;    ///< see `items`
  static constexpr int kCombineFields = 5; ///< see `combines`
  /// Persistent CTAs: the forward's grid.
  std::int32_t numCtas = 0;
  /// CTA c runs items[ctaOffsets[c] .. ctaOffsets[c + 1]) in order.
  std::vector<std::int32_t> ctaOffsets;
  /// {batch, head, row, col_begin, col_end, split, num_splits, slot}
  /// records: q-tile `row` over k-tiles [col_begin, col_end); a piece of a
  /// split row (num_splits > 1) writes its partial O and LSE to workspace
  /// slot `slot` (-1 otherwise).
  std::vector<std::int32_t> items;
  /// {batch, head, row, first_slot, num_splits} per split row: the combine
  /// step merges slots first_slot .. first_slot + num_splits - 1.
  std::vector<std::int32_t> combines;
  std::int32_t numSlots = 0; ///< the workspace's tiles
  /// max / mean CTA load after splitting rows, and with whole rows.
  double imbalance = 1;
  double imbalanceBeforeSplit = 1;
  /// The split threshold it was built with (PlanOptions::splitFactor), so
  /// that a DocumentLayout's schedule splits the same way.
  double splitFactor = 1;

  std::int64_t numItems() const {
    return static_cast<std::int64_t>(items.size()) / kItemFields;
  }
  std::int64_t numCombines() const {
    return static_cast<std::int64_t>(combines.size()) / kCombineFields;
  }
  /// Every record in range of the shape and the layout, every (batch, head,
  /// row) covered by exactly one whole item or by its pieces, every slot
  /// used once; empty when valid.
  std::string validate(const ProblemShape &shape,
                       const LayoutTables &layout) const;
};

struct KernelPlan {
  std::string pattern;  ///< for people: the pattern's name
  std::string kernelIr; ///< the specialised IR the kernel was generated from
  jit::KernelSpec spec;
  ProblemShape shape; ///< resolved
  /// The forward layout: per q-tile row its k-tiles.
  LayoutTables layout;
  /// Its transpose, which the backward walks: per k-tile row its q-tiles
  /// (numRows and numCols swapped, the same head map), as the layout
  /// pipeline materialises it.
  LayoutTables transposed;
  /// The forward's work list over `layout`.
  ScheduleTables schedule;
  /// The pattern uses `segment`: forward() needs the segment ids.
  bool usesSegments = false;
  /// With segments: per layout of `layout`, its mask tree as text
  /// (lace/Layout/MaskText.h), from which Kernel::documents() classifies the
  /// exact layout of each call's ids. `layout` itself is the superset every
  /// call can use (every tile that any ids could make live, as Partial).
  std::vector<std::string> runTimeMasks;
  /// Wall time of the layout pipeline that built `layout` (specialise,
  /// classify, materialise, schedule), on the machine that planned it.
  double layoutSeconds = 0;

  /// FLOPs of the computed tiles (4 * head_dim per element, QK^T and PV;
  /// edge tiles clipped to the sequence lengths), over every batch and head.
  double computedFlops() const;
  /// The same for another layout of this plan's grid (packed documents').
  double computedFlops(const LayoutTables &layout) const;
  /// The same for dense attention of this shape (every key, every query).
  double denseFlops() const;
  /// The backward's useful FLOPs on the computed tiles: five matmuls (S,
  /// dP, dV, dK, dQ) to the forward's two, as FlashAttention counts them;
  /// the dq kernel's recomputation of S and dP is not counted.
  double backwardFlops() const { return 2.5 * computedFlops(); }
  /// Empty when the plan is consistent (spec, shape, tables).
  std::string validate() const;
  /// Whether the plan carries what the backward needs (the transposed
  /// layout, the score's derivative); empty when it does.
  std::string validateBackward() const;
};

} // namespace lace

#endif // LACE_RUNTIME_KERNELPLAN_H
