//===- BlockLayout.cpp - Run form, BSR form, transpose, hash, dedupe ------===//
#include "lace/Layout/BlockLayout.h"

#include <algorithm>
#include <cassert>
#include <unordered_map>

namespace lace::layout {

BlockLayout BlockLayout::start(std::int64_t numRows, std::int64_t numCols) {
  BlockLayout l;
  l.numRows = numRows;
  l.numCols = numCols;
  l.rowOffsets.reserve(static_cast<std::size_t>(numRows) + 1);
  l.rowOffsets.push_back(0);
  return l;
}

void BlockLayout::appendRun(std::int32_t begin, std::int32_t end,
                            BlockKind kind) {
  assert(kind != BlockKind::Empty && begin < end && "runs are non-empty");
  if (runs.size() > static_cast<std::size_t>(rowOffsets.back())) {
    Run &last = runs.back();
    assert(last.end <= begin && "runs come in ascending order");
    if (last.end == begin && last.kind == kind) {
      last.end = end;
      return;
    }
  }
  runs.push_back({begin, end, kind});
}

BlockLayout BlockLayout::fromDense(std::int64_t numRows, std::int64_t numCols,
                                   const std::vector<BlockKind> &kinds) {
  BlockLayout l = start(numRows, numCols);
  for (std::int64_t r = 0; r < numRows; ++r) {
    for (std::int64_t c = 0; c < numCols; ++c) {
      const BlockKind k = kinds[static_cast<std::size_t>(r * numCols + c)];
      if (k != BlockKind::Empty)
        l.appendRun(static_cast<std::int32_t>(c),
                    static_cast<std::int32_t>(c + 1), k);
    }
    l.finishRow();
  }
  return l;
}

BlockKind BlockLayout::kind(std::int64_t row, std::int64_t col) const {
  const auto first = runs.begin() + rowOffsets[static_cast<std::size_t>(row)];
  const auto last =
      runs.begin() + rowOffsets[static_cast<std::size_t>(row) + 1];
  auto it =
      std::upper_bound(first, last, col, [](std::int64_t c, const Run &r) {
        return c < r.begin;
      });
  if (it == first)
    return BlockKind::Empty;
  --it;
  return col < it->end ? it->kind : BlockKind::Empty;
}

std::int64_t BlockLayout::rowBlocks(std::int64_t row, BlockKind k) const {
  std::int64_t n = 0;
  for (std::int32_t i = rowOffsets[static_cast<std::size_t>(row)];
       i < rowOffsets[static_cast<std::size_t>(row) + 1]; ++i) {
    const Run &r = runs[static_cast<std::size_t>(i)];
    if (k == BlockKind::Empty || r.kind == k)
      n += r.end - r.begin;
  }
  return k == BlockKind::Empty ? numCols - n : n;
}

std::int64_t BlockLayout::numBlocks(BlockKind k) const {
  std::int64_t n = 0;
  for (const Run &r : runs)
    if (k == BlockKind::Empty || r.kind == k)
      n += r.end - r.begin;
  return k == BlockKind::Empty ? numRows * numCols - n : n;
}

BSR BlockLayout::toBSR() const {
  BSR b;
  b.numRows = numRows;
  b.numCols = numCols;
  b.rowPtr.reserve(static_cast<std::size_t>(numRows) + 1);
  b.rowPtr.push_back(0);
  for (std::int64_t row = 0; row < numRows; ++row) {
    for (std::int32_t i = rowOffsets[static_cast<std::size_t>(row)];
         i < rowOffsets[static_cast<std::size_t>(row) + 1]; ++i) {
      const Run &r = runs[static_cast<std::size_t>(i)];
      for (std::int32_t c = r.begin; c < r.end; ++c) {
        b.colIdx.push_back(c);
        b.isFull.push_back(r.kind == BlockKind::Full);
      }
    }
    b.rowPtr.push_back(static_cast<std::int32_t>(b.colIdx.size()));
  }
  return b;
}

BlockLayout BlockLayout::transpose() const {
  // Counting sort of the non-empty tiles by column; rows come out ascending.
  std::vector<std::int64_t> start(static_cast<std::size_t>(numCols) + 1, 0);
  for (const Run &r : runs) {
    start[static_cast<std::size_t>(r.begin) + 1] += 1;
    if (r.end < numCols)
      start[static_cast<std::size_t>(r.end) + 1] -= 1;
  }
  for (std::int64_t c = 1; c <= numCols; ++c)
    start[static_cast<std::size_t>(c)] +=
        start[static_cast<std::size_t>(c - 1)];
  // start[c + 1] is now the count of column c; make it a prefix sum.
  for (std::int64_t c = 1; c <= numCols; ++c)
    start[static_cast<std::size_t>(c)] +=
        start[static_cast<std::size_t>(c - 1)];
  std::vector<std::int32_t> rows(static_cast<std::size_t>(start.back()));
  std::vector<BlockKind> kinds(rows.size());
  std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
  for (std::int64_t row = 0; row < numRows; ++row)
    for (std::int32_t i = rowOffsets[static_cast<std::size_t>(row)];
         i < rowOffsets[static_cast<std::size_t>(row) + 1]; ++i) {
      const Run &r = runs[static_cast<std::size_t>(i)];
      for (std::int32_t c = r.begin; c < r.end; ++c) {
        const auto at =
            static_cast<std::size_t>(fill[static_cast<std::size_t>(c)]++);
        rows[at] = static_cast<std::int32_t>(row);
        kinds[at] = r.kind;
      }
    }
  BlockLayout t = BlockLayout::start(numCols, numRows);
  for (std::int64_t c = 0; c < numCols; ++c) {
    for (std::int64_t i = start[static_cast<std::size_t>(c)];
         i < start[static_cast<std::size_t>(c) + 1]; ++i)
      t.appendRun(rows[static_cast<std::size_t>(i)],
                  rows[static_cast<std::size_t>(i)] + 1,
                  kinds[static_cast<std::size_t>(i)]);
    t.finishRow();
  }
  return t;
}

std::uint64_t BlockLayout::hash() const {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  };
  mix(static_cast<std::uint64_t>(numRows), 8);
  mix(static_cast<std::uint64_t>(numCols), 8);
  for (std::int32_t o : rowOffsets)
    mix(static_cast<std::uint32_t>(o), 4);
  for (const Run &r : runs) {
    mix(static_cast<std::uint32_t>(r.begin), 4);
    mix(static_cast<std::uint32_t>(r.end), 4);
    mix(static_cast<std::uint8_t>(r.kind), 1);
  }
  return h;
}

LayoutForm chooseForm(const BlockLayout &layout) {
  const std::size_t bsrBytes =
      static_cast<std::size_t>(layout.numRows + 1) * 4 +
      static_cast<std::size_t>(layout.numNonEmpty()) * 5;
  return layout.bytes() <= bsrBytes ? LayoutForm::Runs : LayoutForm::BSR;
}

DedupedLayouts dedupeHeads(std::vector<BlockLayout> layouts) {
  DedupedLayouts out;
  std::unordered_map<std::uint64_t, std::vector<int>> byHash;
  for (BlockLayout &l : layouts) {
    std::vector<int> &candidates = byHash[l.hash()];
    int found = -1;
    for (int i : candidates)
      if (out.unique[static_cast<std::size_t>(i)] == l) {
        found = i;
        break;
      }
    if (found < 0) {
      found = static_cast<int>(out.unique.size());
      candidates.push_back(found);
      out.unique.push_back(std::move(l));
    }
    out.headToLayout.push_back(found);
  }
  return out;
}

} // namespace lace::layout
