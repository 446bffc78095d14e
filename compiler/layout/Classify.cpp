//===- Classify.cpp - Exact block classification of a mask ----------------===//
//
// Kinds are handled as sets of possible exact kinds (bit E, P, F): a
// primitive answers a single bit (exact), a combinator of two Partial tiles
// answers two bits, and the element fallback narrows those to one. The
// fallback refines an undecided tile as a quadtree of sub-rectangles, each
// classified structurally (rectSet), down to single elements only where the
// structure cannot decide.
//
//===----------------------------------------------------------------------===//
#include "lace/Layout/Classify.h"

#include "IdRuns.h"
#include "KindSets.h"
#include "Spans.h"

#include "lace/Support/RandomBlocks.h"
#include "lace_semantics.cuh"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <unordered_map>

namespace lace::layout {

constexpr auto floorDiv = sem::floor_div<long long>;
constexpr auto floorMod = sem::floor_mod<long long>;
using Kind = MaskNode::Kind;
using namespace detail;

namespace {

std::int64_t ceilDiv(std::int64_t a, std::int64_t b) {
  return -floorDiv(-a, b);
}

/// A rectangle of elements, bounds inclusive.
struct Rect {
  std::int64_t q0, q1, k0, k1;
};

/// Columns [b, e) with a set of possible kinds (never exactly {E}).
struct IRun {
  std::int64_t b, e;
  std::uint8_t set;
};
using Runs = std::vector<IRun>;

/// Appends a run in ascending order. A run overlapping the previous one is
/// trimmed: for the d-set and column-set primitives two pieces only ever
/// share Partial columns (pieces are separated by gaps), see docs/layout.md.
void add(Runs &out, std::int64_t b, std::int64_t e, std::uint8_t set) {
  if (b >= e || set == kE)
    return;
  if (!out.empty()) {
    IRun &last = out.back();
    if (b < last.e) {
      b = last.e;
      if (b >= e)
        return;
    }
    if (last.e == b && last.set == set) {
      last.e = e;
      return;
    }
  }
  out.push_back({b, e, set});
}

struct Prepared {
  std::vector<Piece> pieces; ///< d-set primitives
  /// The node's mask is a function of d alone made of intervals (causal,
  /// windows, and any combination of them): `pieces` holds it exactly, so
  /// combinators of such nodes never need the fallback.
  bool intervalsOnly = false;
  Spans global;       ///< Global: token spans (unclipped)
  Runs globalColumns; ///< Global: the column runs of k in G
};

class Classifier {
public:
  Classifier(const MaskNode &root, Shape shape, Tiles tiles,
             const SegmentIds *segments)
      : root_(root), shape_(shape), bm_(tiles.blockM), bn_(tiles.blockN),
        numRows_(numTiles(shape.seqQ, tiles.blockM)),
        numCols_(numTiles(shape.seqK, tiles.blockN)), segments_(segments) {
    prepare(root);
    if (hasSegments()) {
      sortedIds_ = segQ_.build(segments_->q);
      // Keys "as q" share the query runs: no second pass over the tokens.
      if (segments_->k.empty())
        segK_ = segQ_;
      else
        sortedIds_ = sortedIds_ && segK_.build(segments_->k);
    }
  }

  BlockLayout run() {
    BlockLayout layout = BlockLayout::start(numRows_, numCols_);
    Runs runs;
    for (std::int64_t row = 0; row < numRows_; ++row) {
      const std::int64_t q0 = row * bm_;
      const std::int64_t q1 = std::min(shape_.seqQ, q0 + bm_) - 1;
      runs.clear();
      rowRuns(root_, q0, q1, runs);
      for (const IRun &r : runs) {
        if (r.set == kP || r.set == kF) {
          layout.appendRun(static_cast<std::int32_t>(r.b),
                           static_cast<std::int32_t>(r.e), toKind(r.set));
          continue;
        }
        for (std::int64_t c = r.b; c < r.e; ++c) {
          BlockKind k = refine(tileRect(q0, q1, c), r.set);
          if (k != BlockKind::Empty)
            layout.appendRun(static_cast<std::int32_t>(c),
                             static_cast<std::int32_t>(c + 1), k);
        }
      }
      layout.finishRow();
    }
    layout.stats = stats_;
    return layout;
  }

private:
  std::int64_t k1(std::int64_t c) const {
    return std::min(shape_.seqK, (c + 1) * bn_) - 1;
  }
  Rect tileRect(std::int64_t q0, std::int64_t q1, std::int64_t c) const {
    return {q0, q1, c * bn_, k1(c)};
  }
  const Prepared &prep(const MaskNode &n) const { return prepared_.at(&n); }
  bool hasSegments() const { return segments_ && !segments_->q.empty(); }

  // --- Preparation (row independent) ----------------------------------------

  void prepare(const MaskNode &n, std::size_t depth = 0) {
    // Two scratch rows per combinator level, sized once (rowRuns holds
    // references into it while recursing).
    scratch_.resize(std::max(scratch_.size(), 2 * depth + 2));
    Prepared &p = prepared_[&n];
    switch (n.kind) {
    case Kind::Causal:
      p.pieces = {{0, kInf, 1}};
      break;
    case Kind::Local:
      p.pieces = {{-n.after, n.before, 1}};
      break;
    case Kind::Dilated:
      if (n.dilation <= 1)
        p.pieces = {{-n.after, n.before, 1}};
      else
        p.pieces = {{-n.after * n.dilation, n.before * n.dilation, n.dilation}};
      break;
    case Kind::Strided:
      if (n.length <= 1) {
        p.pieces = {{0, kInf, 1}};
      } else {
        const std::int64_t l = n.length;
        // d in [0, l] plus the multiples of l from 2l on: separated by the
        // gap [l + 1, 2l - 1].
        p.pieces = {{2 * l, floorDiv(kInf, l) * l, l}, {0, l, 1}};
      }
      break;
    case Kind::Global: {
      Spans spans;
      for (std::int64_t t : n.tokens)
        spans.push_back({t, t});
      for (const auto &[first, last] : n.ranges)
        if (first < last)
          spans.push_back({first, last - 1});
      std::sort(spans.begin(), spans.end());
      for (const auto &s : spans) {
        if (!p.global.empty() && s.first <= p.global.back().second + 1)
          p.global.back().second = std::max(p.global.back().second, s.second);
        else
          p.global.push_back(s);
      }
      for (const auto &[s0, s1] : p.global) {
        keySpanBand(p.globalColumns, std::max<std::int64_t>(s0, 0),
                    std::min(s1, shape_.seqK - 1), true);
      }
      break;
    }
    default:
      break;
    }
    for (const auto &c : n.children)
      prepare(*c, depth + 1);
    combineIntervals(n, p);
  }

  void combineIntervals(const MaskNode &n, Prepared &p) {
    auto isIntervals = [&](const MaskNode &c) {
      return c.kind == Kind::Full || c.kind == Kind::Empty ||
             prepared_.at(&c).intervalsOnly;
    };
    auto spans = [&](const MaskNode &c) {
      if (c.kind == Kind::Full)
        return Spans{{-kInf, kInf}};
      return c.kind == Kind::Empty ? Spans{} : spansOf(prepared_.at(&c).pieces);
    };
    switch (n.kind) {
    case Kind::Causal:
    case Kind::Local:
    case Kind::Dilated:
    case Kind::Strided:
      p.intervalsOnly = (n.kind != Kind::Local || n.granularity <= 1) &&
                        std::all_of(p.pieces.begin(), p.pieces.end(),
                                    [](const Piece &x) { return x.m == 1; });
      return;
    case Kind::Complement:
      if (isIntervals(*n.children[0])) {
        p.pieces = piecesOf(complementSpans(spans(*n.children[0])));
        p.intervalsOnly = true;
      }
      return;
    case Kind::Union:
    case Kind::Intersect:
    case Kind::Difference: {
      if (!isIntervals(*n.children[0]) || !isIntervals(*n.children[1]))
        return;
      const Spans a = spans(*n.children[0]), b = spans(*n.children[1]);
      p.pieces = piecesOf(n.kind == Kind::Union ? uniteSpans(a, b)
                          : n.kind == Kind::Intersect
                              ? intersectSpans(a, b)
                              : intersectSpans(a, complementSpans(b)));
      p.intervalsOnly = true;
      return;
    }
    default:
      return;
    }
  }

  /// Columns [lo, hi] non-empty, [fLo, fHi] of them Full (when allowed).
  void emitBand(Runs &out, std::int64_t lo, std::int64_t hi, std::int64_t fLo,
                std::int64_t fHi, bool allowFull) const {
    lo = std::max<std::int64_t>(lo, 0);
    hi = std::min(hi, numCols_ - 1);
    if (lo > hi)
      return;
    fLo = std::max(fLo, lo);
    fHi = std::min(fHi, hi);
    if (!allowFull || fLo > fHi) {
      add(out, lo, hi + 1, kP);
      return;
    }
    add(out, lo, fLo, kP);
    add(out, fLo, fHi + 1, kF);
    add(out, fHi + 1, hi + 1, kP);
  }

  /// The columns holding keys [s, e] (inside [0, seqK)): non-empty, and
  /// Full (when allowed) where all of a column's keys lie in [s, e].
  void keySpanBand(Runs &out, std::int64_t s, std::int64_t e,
                   bool allowFull) const {
    if (s > e)
      return;
    const std::int64_t fHi =
        e >= shape_.seqK - 1 ? numCols_ - 1 : floorDiv(e + 1, bn_) - 1;
    emitBand(out, s / bn_, e / bn_, ceilDiv(s, bn_), fHi, allowFull);
  }

  // --- Row runs
  // ---------------------------------------------------------------

  /// Tiles of row [q0, q1] whose differences meet d in [a, b], in closed
  /// form: with dmax(c) = q1 - c*bn and dmin(c) = q0 - k1(c), both
  /// non-increasing in c, column c is non-empty iff dmax(c) >= a and
  /// dmin(c) <= b, Full iff dmin(c) >= a and dmax(c) <= b.
  void dInterval(std::int64_t q0, std::int64_t q1, std::int64_t a,
                 std::int64_t b, bool allowFull, Runs &out) const {
    if (a > b || q0 - b > shape_.seqK - 1 || q1 - a < 0)
      return;
    const std::int64_t lo = floorDiv(q0 - b, bn_);
    const std::int64_t hi = floorDiv(q1 - a, bn_);
    const std::int64_t fLo = ceilDiv(q1 - b, bn_);
    const std::int64_t fHi = shape_.seqK - 1 <= q0 - a
                                 ? numCols_ - 1
                                 : floorDiv(q0 - a + 1, bn_) - 1;
    emitBand(out, lo, hi, fLo, fHi, allowFull);
  }

  void dSetRow(const std::vector<Piece> &pieces, std::int64_t q0,
               std::int64_t q1, Runs &out) {
    const std::int64_t rlo = q0 - (shape_.seqK - 1), rhi = q1;
    bool dense = false;
    for (const Piece &p : pieces) {
      std::int64_t a = std::max(p.a, rlo), b = std::min(p.b, rhi);
      if (p.m == 1) {
        dInterval(q0, q1, a, b, true, out);
        continue;
      }
      a = ceilDiv(a, p.m) * p.m;
      b = floorDiv(b, p.m) * p.m;
      if (a > b)
        continue;
      if (p.m <= (q1 - q0) + bn_) {
        // Every full-width tile meeting [a, b] holds a multiple of m (it is
        // at least m wide, or contains a or b); none is Full (two or more
        // differences). Only the clipped last column needs a closer look.
        dInterval(q0, q1, a, b, false, out);
        dense = true;
      } else {
        sparseLattice(q0, q1, a, b, p.m, out);
        // A tile holding one point is Full only if it is a single element.
        dense |= q0 == q1;
      }
    }
    if (dense && shape_.seqK % bn_ != 0)
      fixLastColumn(out, dSetKind(pieces, q0 - (shape_.seqK - 1),
                                  q1 - (numCols_ - 1) * bn_));
  }

  /// The multiples of m in [a, b] (clipped to the row's differences, so
  /// q1 - d >= 0 and q0 - d <= seqK - 1), each touching the columns
  /// (q0 - d) / bn .. (q1 - d) / bn as Partial. Both quotients grow by m / bn
  /// (carrying the remainder) from one point to the next: no division in
  /// the loop, time proportional to the points.
  void sparseLattice(std::int64_t q0, std::int64_t q1, std::int64_t a,
                     std::int64_t b, std::int64_t m, Runs &out) const {
    const std::int64_t mq = m / bn_, mr = m % bn_;
    std::int64_t hq = (q1 - b) / bn_, hr = (q1 - b) % bn_;
    std::int64_t y = q0 - b, lq = 0, lr = 0;
    if (y >= 0) {
      lq = y / bn_;
      lr = y % bn_;
    }
    for (std::int64_t d = b; d >= a; d -= m) {
      add(out, y < 0 ? 0 : lq, std::min(hq, numCols_ - 1) + 1, kP);
      hq += mq;
      hr += mr;
      if (hr >= bn_) {
        hr -= bn_;
        ++hq;
      }
      const bool wasNegative = y < 0;
      y += m;
      if (y < 0)
        continue;
      if (wasNegative) {
        lq = y / bn_;
        lr = y % bn_;
      } else {
        lq += mq;
        lr += mr;
        if (lr >= bn_) {
          lr -= bn_;
          ++lq;
        }
      }
    }
  }

  /// Replaces the kind of the last column (the runs end at or before it).
  void fixLastColumn(Runs &out, std::uint8_t set) const {
    const std::int64_t c = numCols_ - 1;
    if (!out.empty() && out.back().e > c) {
      if (out.back().b == c)
        out.pop_back();
      else
        out.back().e = c;
    }
    add(out, c, c + 1, set);
  }

  /// Granular window: D = q/g - k/g in [Dlo, Dhi], by binary search over
  /// the monotone per-column bounds of D.
  void granularRow(const MaskNode &n, std::int64_t q0, std::int64_t q1,
                   Runs &out) const {
    const std::int64_t g = n.granularity;
    const std::int64_t dLo = ceilDiv(-n.after, g), dHi = floorDiv(n.before, g);
    const std::int64_t Q0 = floorDiv(q0, g), Q1 = floorDiv(q1, g);
    auto dMin = [&](std::int64_t c) { return Q0 - floorDiv(k1(c), g); };
    auto dMax = [&](std::int64_t c) { return Q1 - floorDiv(c * bn_, g); };
    // Every predicate below is false before column `from` (D > dHi there)
    // and true from column `to` on (D < dLo): search only between.
    const std::int64_t from =
        std::max<std::int64_t>(0, floorDiv((Q0 - dHi) * g, bn_) - 1);
    const std::int64_t to =
        std::min(numCols_, ceilDiv((Q1 - dLo + 1) * g, bn_) + 1);
    auto first = [&](auto pred) {
      std::int64_t lo = from, hi = std::max(from, to);
      while (lo < hi) {
        std::int64_t mid = lo + (hi - lo) / 2;
        if (pred(mid))
          hi = mid;
        else
          lo = mid + 1;
      }
      return lo;
    };
    const std::int64_t hi =
        first([&](std::int64_t c) { return dMax(c) < dLo; }) - 1;
    const std::int64_t lo =
        first([&](std::int64_t c) { return dMin(c) <= dHi; });
    const std::int64_t fHi =
        first([&](std::int64_t c) { return dMin(c) < dLo; }) - 1;
    const std::int64_t fLo =
        first([&](std::int64_t c) { return dMax(c) <= dHi; });
    emitBand(out, lo, hi, fLo, fHi, true);
  }

  void globalRow(const MaskNode &n, std::int64_t q0, std::int64_t q1,
                 Runs &out) const {
    const Prepared &p = prep(n);
    const std::uint8_t qs = spanSet(p.global, q0, q1);
    if (qs == kF) {
      add(out, 0, numCols_, kF);
      return;
    }
    if (qs == kE) {
      out.insert(out.end(), p.globalColumns.begin(), p.globalColumns.end());
      return;
    }
    std::int64_t at = 0;
    for (const IRun &r : p.globalColumns) {
      add(out, at, r.b, kP);
      add(out, r.b, r.e, r.set);
      at = r.e;
    }
    add(out, at, numCols_, kP);
  }

  /// Inclusive column intervals of one g-row's chosen random blocks.
  void randomColumns(const MaskNode &n, std::int64_t gRow, Spans &touched,
                     Spans &full) const {
    const std::int64_t g = n.granularity;
    const std::int64_t numBlocks = ceilDiv(n.seqK, g);
    std::vector<std::int64_t> &chosen = chosen_;
    randomBlocksInto(n.seed, n.head, gRow, numBlocks, n.perRow, chosen);
    touched.clear();
    full.clear();
    for (std::size_t i = 0; i < chosen.size();) {
      std::size_t j = i;
      while (j + 1 < chosen.size() && chosen[j + 1] == chosen[j] + 1)
        ++j;
      const std::int64_t s = chosen[i] * g;
      const std::int64_t e = std::min(shape_.seqK, (chosen[j] + 1) * g) - 1;
      i = j + 1;
      if (s > e)
        continue;
      const std::int64_t lo = s / bn_, hi = e / bn_;
      if (!touched.empty() && lo <= touched.back().second + 1)
        touched.back().second = hi;
      else
        touched.push_back({lo, hi});
      const std::int64_t fLo = ceilDiv(s, bn_);
      const std::int64_t fHi =
          e >= shape_.seqK - 1 ? numCols_ - 1 : floorDiv(e + 1, bn_) - 1;
      if (fLo <= fHi)
        full.push_back({fLo, fHi});
    }
  }

  /// out = a | b for sorted span lists (adjacent spans coalesce).
  static void unite(const Spans &a, const Spans &b, Spans &out) {
    out.clear();
    std::size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
      const auto &s =
          (j == b.size() || (i < a.size() && a[i] < b[j])) ? a[i++] : b[j++];
      if (!out.empty() && s.first <= out.back().second + 1)
        out.back().second = std::max(out.back().second, s.second);
      else
        out.push_back(s);
    }
  }
  void randomRow(const MaskNode &n, std::int64_t q0, std::int64_t q1,
                 Runs &out) {
    const std::int64_t g = n.granularity;
    Spans &touched = spans_[0], &full = spans_[1], &t = spans_[2],
          &f = spans_[3], &tmp = spans_[4];
    touched.clear();
    full.assign(1, {0, numCols_ - 1});
    for (std::int64_t r = floorDiv(q0, g); r <= floorDiv(q1, g); ++r) {
      randomColumns(n, r, t, f);
      unite(touched, t, tmp);
      touched.swap(tmp);
      intersectSpansInto(full, f, tmp);
      full.swap(tmp);
    }
    std::size_t j = 0;
    for (const auto &[lo, hi] : touched) {
      std::int64_t at = lo;
      for (; j < full.size() && full[j].first <= hi; ++j) {
        add(out, at, full[j].first, kP);
        add(out, full[j].first, full[j].second + 1, kF);
        at = full[j].second + 1;
      }
      add(out, at, hi + 1, kP);
    }
  }

  void prefixRow(const MaskNode &n, std::int64_t q0, std::int64_t q1,
                 Runs &out) const {
    const std::int64_t x = std::max(n.length - 1, q0);
    const std::int64_t y = std::max(n.length - 1, q1);
    if (y < 0)
      return;
    const std::int64_t fHi =
        shape_.seqK - 1 <= x ? numCols_ - 1 : floorDiv(x + 1, bn_) - 1;
    emitBand(out, 0, floorDiv(y, bn_), 0, fHi, true);
  }

  /// One rectangle per tile, for the primitives without a run form.
  void tileByTile(const MaskNode &n, std::int64_t q0, std::int64_t q1,
                  std::int64_t lo, std::int64_t hi, Runs &out) {
    lo = std::max<std::int64_t>(lo, 0);
    hi = std::min(hi, numCols_ - 1);
    for (std::int64_t c = lo; c <= hi; ++c) {
      ++stats_.tileVisits;
      add(out, c, c + 1, rectSet(n, tileRect(q0, q1, c)));
    }
  }

  /// With sorted ids every id is one run on each side, and a q-tile's
  /// queries of id s see exactly the key run of s: per id of the q-tile one
  /// band of columns. Tiles of the band holding only s keys are Full when
  /// every query of the q-tile has id s, else every tile of it is Partial.
  /// O(ids in the q-tile * log runs) per row; no tile is visited.
  void segmentRow(std::int64_t q0, std::int64_t q1, Runs &out) const {
    if (!hasSegments())
      return;
    if (!sortedIds_) {
      add(out, 0, numCols_, kAny);
      return;
    }
    const auto [qa, qb] = segQ_.slice(q0, q1);
    const bool oneId = qa == qb;
    std::size_t j = 0;
    for (std::size_t i = qa; i <= qb; ++i) {
      j = segK_.firstIdAtLeast(segQ_.id[i], j);
      if (j == segK_.numRuns())
        return;
      if (segK_.id[j] == segQ_.id[i])
        keySpanBand(out, segK_.start[j], segK_.start[j + 1] - 1, oneId);
    }
  }

  void rowRuns(const MaskNode &n, std::int64_t q0, std::int64_t q1, Runs &out,
               std::size_t depth = 0) {
    if (!n.children.empty() && prep(n).intervalsOnly) {
      dSetRow(prep(n).pieces, q0, q1, out);
      return;
    }
    switch (n.kind) {
    case Kind::Full:
      add(out, 0, numCols_, kF);
      return;
    case Kind::Empty:
      return;
    case Kind::Causal:
    case Kind::Dilated:
    case Kind::Strided:
      dSetRow(prep(n).pieces, q0, q1, out);
      return;
    case Kind::Local:
      if (n.granularity > 1)
        granularRow(n, q0, q1, out);
      else
        dSetRow(prep(n).pieces, q0, q1, out);
      return;
    case Kind::Fixed:
      tileByTile(n, q0, q1, 0, floorDiv(q1, bn_), out);
      return;
    case Kind::Global:
      globalRow(n, q0, q1, out);
      return;
    case Kind::Random:
      randomRow(n, q0, q1, out);
      return;
    case Kind::Prefix:
      prefixRow(n, q0, q1, out);
      return;
    case Kind::Segment:
      segmentRow(q0, q1, out);
      return;
    case Kind::Predicate:
      if (n.range)
        tileByTile(n, q0, q1, 0, numCols_ - 1, out);
      else
        add(out, 0, numCols_, kAny);
      return;
    case Kind::Union:
    case Kind::Intersect:
    case Kind::Difference:
    case Kind::Complement: {
      Runs &a = scratch_[2 * depth], &b = scratch_[2 * depth + 1];
      a.clear();
      b.clear();
      rowRuns(*n.children[0], q0, q1, a, depth + 1);
      if (n.kind != Kind::Complement)
        rowRuns(*n.children[1], q0, q1, b, depth + 1);
      sweep(n.kind, a, b, out);
      return;
    }
    }
  }

  /// Merges two rows of runs by sweeping their boundaries.
  void sweep(Kind kind, const Runs &a, const Runs &b, Runs &out) const {
    std::size_t i = 0, j = 0;
    for (std::int64_t x = 0; x < numCols_;) {
      while (i < a.size() && a[i].e <= x)
        ++i;
      while (j < b.size() && b[j].e <= x)
        ++j;
      const bool inA = i < a.size() && a[i].b <= x;
      const bool inB = j < b.size() && b[j].b <= x;
      const std::int64_t nextA =
          i < a.size() ? (inA ? a[i].e : a[i].b) : numCols_;
      const std::int64_t nextB =
          j < b.size() ? (inB ? b[j].e : b[j].b) : numCols_;
      const std::int64_t y = std::min(nextA, nextB);
      add(out, x, y, combine(kind, inA ? a[i].set : kE, inB ? b[j].set : kE));
      x = y;
    }
  }

  // --- One rectangle
  // ----------------------------------------------------------

  static std::uint8_t dSetKind(const std::vector<Piece> &pieces, std::int64_t x,
                               std::int64_t y) {
    bool any = false;
    for (const Piece &p : pieces) {
      const std::int64_t lo = std::max(x, p.a), hi = std::min(y, p.b);
      if (lo > hi)
        continue;
      if (p.m == 1) {
        if (p.a <= x && y <= p.b)
          return kF;
        any = true;
      } else if (floorDiv(hi, p.m) * p.m >= lo) {
        if (x == y)
          return kF;
        any = true;
      }
    }
    return any ? kP : kE;
  }

  /// kF if [t0, t1] lies in the spans, kE if it misses them, else kP.
  static std::uint8_t spanSet(const Spans &spans, std::int64_t t0,
                              std::int64_t t1) {
    auto it = std::lower_bound(
        spans.begin(), spans.end(), t0,
        [](const auto &s, std::int64_t t) { return s.second < t; });
    if (it == spans.end() || it->first > t1)
      return kE;
    return (it->first <= t0 && t1 <= it->second) ? kF : kP;
  }

  static std::uint8_t fixedSet(const MaskNode &n, const Rect &r) {
    if (r.k0 > r.q1)
      return kE;
    const std::int64_t l = n.length;
    const std::int64_t s = std::min(n.summary, l);
    if (s >= l)
      return r.k1 <= r.q0 ? kF : kP;
    // Summary columns: k % l >= l - s.
    auto firstB = [&](std::int64_t x) {
      std::int64_t m = floorMod(x, l);
      return m >= l - s ? x : x + (l - s - m);
    };
    auto firstNonB = [&](std::int64_t x) {
      std::int64_t m = floorMod(x, l);
      return m < l - s ? x : x + (l - m);
    };
    auto lastNonB = [&](std::int64_t y) {
      std::int64_t m = floorMod(y, l);
      return m < l - s ? y : y - m + (l - s - 1);
    };
    const bool summaryLive = s > 0 && firstB(r.k0) <= std::min(r.k1, r.q1);
    const bool blockLive = std::max(floorDiv(r.q0, l), floorDiv(r.k0, l)) <=
                           std::min(floorDiv(r.q1, l), floorDiv(r.k1, l));
    if (!summaryLive && !blockLive)
      return kE;
    if (r.k1 > r.q0)
      return kP;
    const std::int64_t nb = firstNonB(r.k0);
    if (nb > r.k1)
      return kF;
    const std::int64_t j = floorDiv(r.q0, l);
    if (floorDiv(r.q1, l) == j && floorDiv(nb, l) == j &&
        floorDiv(lastNonB(r.k1), l) == j)
      return kF;
    return kP;
  }

  std::uint8_t randomSet(const MaskNode &n, const Rect &r) const {
    const std::int64_t g = n.granularity;
    const std::int64_t numBlocks = ceilDiv(n.seqK, g);
    const std::int64_t c0 = floorDiv(r.k0, g), c1 = floorDiv(r.k1, g);
    bool any = false, all = true;
    for (std::int64_t row = floorDiv(r.q0, g); row <= floorDiv(r.q1, g);
         ++row) {
      const std::vector<std::int64_t> chosen =
          randomBlocks(n.seed, n.head, row, numBlocks, n.perRow);
      const auto hits = std::upper_bound(chosen.begin(), chosen.end(), c1) -
                        std::lower_bound(chosen.begin(), chosen.end(), c0);
      any |= hits > 0;
      all &= hits == c1 - c0 + 1;
    }
    return all ? kF : (any ? kP : kE);
  }

  std::uint8_t segmentSet(const Rect &r) const {
    if (!hasSegments())
      return kE;
    if (!sortedIds_) {
      if (r.q0 != r.q1 || r.k0 != r.k1)
        return kAny;
      const auto &ids = segments_->k.empty() ? segments_->q : segments_->k;
      return segments_->q[static_cast<std::size_t>(r.q0)] ==
                     ids[static_cast<std::size_t>(r.k0)]
                 ? kF
                 : kE;
    }
    auto [qa, qb] = segQ_.slice(r.q0, r.q1);
    auto [ka, kb] = segK_.slice(r.k0, r.k1);
    if (qa == qb && ka == kb)
      return segQ_.id[qa] == segK_.id[ka] ? kF : kE;
    while (qa <= qb && ka <= kb) {
      if (segQ_.id[qa] == segK_.id[ka])
        return kP;
      if (segQ_.id[qa] < segK_.id[ka])
        ++qa;
      else
        ++ka;
    }
    return kE;
  }

  /// The possible kinds of one rectangle, structurally (a single bit for
  /// every primitive; always a single bit for a 1x1 rectangle).
  std::uint8_t rectSet(const MaskNode &n, const Rect &r) const {
    if (!n.children.empty() && prep(n).intervalsOnly)
      return dSetKind(prep(n).pieces, r.q0 - r.k1, r.q1 - r.k0);
    switch (n.kind) {
    case Kind::Full:
      return kF;
    case Kind::Empty:
      return kE;
    case Kind::Causal:
    case Kind::Dilated:
    case Kind::Strided:
      return dSetKind(prep(n).pieces, r.q0 - r.k1, r.q1 - r.k0);
    case Kind::Local: {
      if (n.granularity <= 1)
        return dSetKind(prep(n).pieces, r.q0 - r.k1, r.q1 - r.k0);
      const std::int64_t g = n.granularity;
      const std::int64_t lo = ceilDiv(-n.after, g), hi = floorDiv(n.before, g);
      const std::int64_t x = floorDiv(r.q0, g) - floorDiv(r.k1, g);
      const std::int64_t y = floorDiv(r.q1, g) - floorDiv(r.k0, g);
      if (y < lo || x > hi)
        return kE;
      return (lo <= x && y <= hi) ? kF : kP;
    }
    case Kind::Fixed:
      return fixedSet(n, r);
    case Kind::Global: {
      const Spans &g = prep(n).global;
      const std::uint8_t qs = spanSet(g, r.q0, r.q1);
      const std::uint8_t ks = spanSet(g, r.k0, r.k1);
      if (qs == kF || ks == kF)
        return kF;
      return (qs == kE && ks == kE) ? kE : kP;
    }
    case Kind::Random:
      return randomSet(n, r);
    case Kind::Prefix: {
      if (r.k1 <= std::max(n.length - 1, r.q0))
        return kF;
      return r.k0 > std::max(n.length - 1, r.q1) ? kE : kP;
    }
    case Kind::Segment:
      return segmentSet(r);
    case Kind::Predicate:
      if (r.q0 == r.q1 && r.k0 == r.k1)
        return n.element(r.q0, r.k0) ? kF : kE;
      if (n.range) {
        const Tri t = n.range({r.q0, r.q1}, {r.k0, r.k1});
        return t == Tri::True ? kF : (t == Tri::False ? kE : kAny);
      }
      return kAny;
    case Kind::Union:
    case Kind::Intersect:
    case Kind::Difference: {
      const std::uint8_t a = rectSet(*n.children[0], r);
      // Short cuts that need no second operand.
      if (n.kind == Kind::Union && a == kF)
        return kF;
      if (n.kind != Kind::Union && a == kE)
        return kE;
      return combine(n.kind, a, rectSet(*n.children[1], r));
    }
    case Kind::Complement:
      return complementSet(rectSet(*n.children[0], r));
    }
    return kAny;
  }

  /// The exact kind of an undecided tile: a quadtree of sub-rectangles,
  /// stopping as soon as a live and a dead element are both known.
  BlockKind refine(const Rect &tile, std::uint8_t possible) {
    ++stats_.fallbackBlocks;
    bool live = !(possible & kE), dead = !(possible & kF);
    std::vector<Rect> stack{tile};
    while (!stack.empty() && !(live && dead)) {
      const Rect r = stack.back();
      stack.pop_back();
      const std::uint8_t s = rectSet(root_, r);
      ++stats_.fallbackRects;
      if (r.q0 == r.q1 && r.k0 == r.k1)
        ++stats_.fallbackElements;
      if (s == kF || s == kP || !(s & kE))
        live = true;
      if (s == kE || s == kP || !(s & kF))
        dead = true;
      if (s == kE || s == kP || s == kF)
        continue;
      if (r.q1 - r.q0 >= r.k1 - r.k0) {
        const std::int64_t mid = r.q0 + (r.q1 - r.q0) / 2;
        stack.push_back({mid + 1, r.q1, r.k0, r.k1});
        stack.push_back({r.q0, mid, r.k0, r.k1});
      } else {
        const std::int64_t mid = r.k0 + (r.k1 - r.k0) / 2;
        stack.push_back({r.q0, r.q1, mid + 1, r.k1});
        stack.push_back({r.q0, r.q1, r.k0, mid});
      }
    }
    if (!live)
      return BlockKind::Empty;
    return dead ? BlockKind::Partial : BlockKind::Full;
  }

  const MaskNode &root_;
  Shape shape_;
  std::int64_t bm_, bn_, numRows_, numCols_;
  const SegmentIds *segments_;
  IdRuns segQ_, segK_; ///< valid when sortedIds_
  bool sortedIds_ = false;
  std::unordered_map<const MaskNode *, Prepared> prepared_;
  std::vector<Runs> scratch_;
  std::array<Spans, 5> spans_;               ///< randomRow's working lists
  mutable std::vector<std::int64_t> chosen_; ///< randomColumns' buffer
  LayoutStats stats_;
};

} // namespace

BlockLayout classify(const MaskNode &mask, Shape shape, Tiles tiles,
                     const SegmentIds *segments) {
  assert(tiles.blockM > 0 && tiles.blockN > 0 && "tile sizes must be positive");
  if (shape.seqQ <= 0 || shape.seqK <= 0)
    return BlockLayout::start(0, 0);
  return Classifier(mask, shape, tiles, segments).run();
}

BlockKind classifyBlockByElements(const MaskNode &mask, Shape shape,
                                  Tiles tiles, std::int64_t row,
                                  std::int64_t col,
                                  const SegmentIds *segments) {
  const std::int64_t q0 = row * tiles.blockM;
  const std::int64_t q1 = std::min(shape.seqQ, q0 + tiles.blockM);
  const std::int64_t k0 = col * tiles.blockN;
  const std::int64_t k1 = std::min(shape.seqK, k0 + tiles.blockN);
  bool live = false, dead = false;
  for (std::int64_t q = q0; q < q1; ++q)
    for (std::int64_t k = k0; k < k1; ++k)
      (mask.live(q, k, segments) ? live : dead) = true;
  if (!live)
    return BlockKind::Empty;
  return dead ? BlockKind::Partial : BlockKind::Full;
}

BlockLayout classifyByElements(const MaskNode &mask, Shape shape, Tiles tiles,
                               const SegmentIds *segments) {
  const std::int64_t rows = numTiles(shape.seqQ, tiles.blockM);
  const std::int64_t cols = numTiles(shape.seqK, tiles.blockN);
  BlockLayout layout = BlockLayout::start(rows, cols);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const BlockKind k =
          classifyBlockByElements(mask, shape, tiles, r, c, segments);
      if (k != BlockKind::Empty)
        layout.appendRun(static_cast<std::int32_t>(c),
                         static_cast<std::int32_t>(c + 1), k);
    }
    layout.finishRow();
  }
  return layout;
}

} // namespace lace::layout
