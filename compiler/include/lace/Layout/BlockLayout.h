//===- BlockLayout.h - The block-sparse structure of one head -------------===//
//
// A BlockLayout says, for every (q-tile row, k-tile column), whether the
// tile is Empty, Partial or Full. It is stored as runs: per row a sorted list
// of maximal column ranges [begin, end) of one non-empty kind; columns in no
// run are Empty. Banded patterns (causal, windows, prefix, globals) cost
// O(rows) memory. `toBSR()` gives the FlexAttention-style CSR form.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_BLOCKLAYOUT_H
#define LACE_LAYOUT_BLOCKLAYOUT_H

#include "lace/Layout/MaskNode.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lace::layout {

/// Columns [begin, end) of one row, all of kind `kind` (Partial or Full).
struct Run {
  std::int32_t begin = 0;
  std::int32_t end = 0;
  BlockKind kind = BlockKind::Partial;

  friend bool operator==(const Run &, const Run &) = default;
};

/// How a layout was obtained (filled by classify and the builders).
struct LayoutStats {
  /// Tiles whose kind the structural pass could not decide (Partial
  /// combined with Partial, predicates without an interval evaluator) and
  /// that were resolved element by element.
  std::int64_t fallbackBlocks = 0;
  /// Sub-rectangles of those tiles classified structurally while refining
  /// them (a quadtree: halves until each is decided).
  std::int64_t fallbackRects = 0;
  /// Single elements evaluated by that refinement.
  std::int64_t fallbackElements = 0;
  /// Tiles visited one at a time (predicates, fixed) rather than as whole
  /// runs.
  std::int64_t tileVisits = 0;
};

/// The CSR form FlexAttention uses (kv_num_blocks / kv_indices and
/// full_kv_num_blocks / full_kv_indices in one structure): row r's
/// non-empty columns are colIdx[rowPtr[r] .. rowPtr[r+1]), ascending, with
/// isFull[i] telling Full from Partial.
struct BSR {
  std::int64_t numRows = 0;
  std::int64_t numCols = 0;
  std::vector<std::int32_t> rowPtr; ///< [numRows + 1]
  std::vector<std::int32_t> colIdx; ///< [number of non-empty tiles]
  std::vector<std::uint8_t> isFull; ///< [number of non-empty tiles]

  std::size_t bytes() const {
    return rowPtr.size() * 4 + colIdx.size() * 4 + isFull.size();
  }
  friend bool operator==(const BSR &, const BSR &) = default;
};

/// Which stored form is smaller for a layout (see chooseForm).
enum class LayoutForm : std::uint8_t { Runs, BSR };

struct BlockLayout {
  std::int64_t numRows = 0;
  std::int64_t numCols = 0;
  std::vector<std::int32_t> rowOffsets; ///< [numRows + 1], into runs
  std::vector<Run> runs;                ///< per row sorted, disjoint, maximal
  LayoutStats stats;                    ///< not part of equality or hash

  /// The kind of tile (row, col), by binary search in the row's runs.
  BlockKind kind(std::int64_t row, std::int64_t col) const;
  /// Number of tiles of `kind` (Empty counts the gaps).
  std::int64_t numBlocks(BlockKind kind) const;
  std::int64_t numNonEmpty() const {
    return numBlocks(BlockKind::Partial) + numBlocks(BlockKind::Full);
  }
  /// Cost of one row: the sum of its run lengths, by kind.
  std::int64_t rowBlocks(std::int64_t row, BlockKind kind) const;

  BSR toBSR() const;
  /// Per k-tile column its q-tile rows (for the backward pass), as a layout
  /// with numRows and numCols swapped; transpose().transpose() == *this.
  BlockLayout transpose() const;
  /// Storage of the run form: offsets plus runs (9 bytes each, packed).
  std::size_t bytes() const { return rowOffsets.size() * 4 + runs.size() * 9; }
  /// A stable 64-bit hash of the dimensions and runs (FNV-1a over a fixed
  /// little-endian encoding): the same on every machine and build.
  std::uint64_t hash() const;

  /// Appends a run to the last row under construction, merging it with
  /// the previous run when adjacent and of the same kind. Runs must come in
  /// ascending column order.
  void appendRun(std::int32_t begin, std::int32_t end, BlockKind kind);
  /// Closes the current row (rows are built in order).
  void finishRow() {
    rowOffsets.push_back(static_cast<std::int32_t>(runs.size()));
  }
  /// Starts an empty layout of the given size (then appendRun/finishRow
  /// once per row).
  static BlockLayout start(std::int64_t numRows, std::int64_t numCols);
  /// Builds the run form from a dense grid (row-major numRows x numCols).
  static BlockLayout fromDense(std::int64_t numRows, std::int64_t numCols,
                               const std::vector<BlockKind> &kinds);

  friend bool operator==(const BlockLayout &a, const BlockLayout &b) {
    return a.numRows == b.numRows && a.numCols == b.numCols &&
           a.rowOffsets == b.rowOffsets && a.runs == b.runs;
  }
};

/// Runs when `bytes()` <= `toBSR().bytes()`, else BSR. Runs win for banded
/// layouts (one or three runs per row); BSR wins when runs are mostly single
/// tiles (random, strided), since a one-tile run costs 9 bytes and a BSR
/// entry 5.
LayoutForm chooseForm(const BlockLayout &layout);

/// Distinct layouts and, per head, the index of its layout.
struct DedupedLayouts {
  std::vector<BlockLayout> unique;
  std::vector<int> headToLayout;
};
/// Groups equal layouts (by hash, confirmed by equality), keeping the first
/// occurrence's order.
DedupedLayouts dedupeHeads(std::vector<BlockLayout> layouts);

} // namespace lace::layout

#endif // LACE_LAYOUT_BLOCKLAYOUT_H
