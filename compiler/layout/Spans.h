//===- Spans.h - Interval algebra on differences and tokens ---------------===//
//
// Internal to the layout library's classifier (Classify.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_SPANS_H
#define LACE_LAYOUT_SPANS_H

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace lace::layout::detail {

/// The bound of the span algebra's universe, [-kInf, kInf].
constexpr std::int64_t kInf = std::int64_t{1} << 50;

/// One piece of a set of differences d = q - k: an interval [a, b] (m == 1)
/// or the multiples of m in [a, b] (m >= 2, a and b multiples of m).
/// Pieces are stored by descending d and separated by gaps.
struct Piece {
  std::int64_t a, b, m;
};

/// Inclusive, merged, sorted token intervals.
using Spans = std::vector<std::pair<std::int64_t, std::int64_t>>;

// Set algebra on ascending, gap-separated interval lists within
// [-kInf, kInf] (for combinations of interval-only d-sets).
inline Spans spansOf(const std::vector<Piece> &pieces) {
  Spans out;
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it)
    if (it->a <= it->b)
      out.push_back({it->a, it->b});
  return out;
}
inline std::vector<Piece> piecesOf(const Spans &spans) {
  std::vector<Piece> out;
  for (auto it = spans.rbegin(); it != spans.rend(); ++it)
    out.push_back({it->first, it->second, 1});
  return out;
}
inline Spans complementSpans(const Spans &a) {
  Spans out;
  std::int64_t at = -kInf;
  for (const auto &[lo, hi] : a) {
    if (lo > at)
      out.push_back({at, lo - 1});
    at = hi + 1;
  }
  if (at <= kInf)
    out.push_back({at, kInf});
  return out;
}
/// out = a & b (cleared first; it must not alias a or b).
inline void intersectSpansInto(const Spans &a, const Spans &b, Spans &out) {
  out.clear();
  for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    const std::int64_t lo = std::max(a[i].first, b[j].first);
    const std::int64_t hi = std::min(a[i].second, b[j].second);
    if (lo <= hi)
      out.push_back({lo, hi});
    if (a[i].second < b[j].second)
      ++i;
    else
      ++j;
  }
}
inline Spans intersectSpans(const Spans &a, const Spans &b) {
  Spans out;
  intersectSpansInto(a, b, out);
  return out;
}
inline Spans uniteSpans(const Spans &a, const Spans &b) {
  return complementSpans(
      intersectSpans(complementSpans(a), complementSpans(b)));
}

} // namespace lace::layout::detail

#endif // LACE_LAYOUT_SPANS_H
