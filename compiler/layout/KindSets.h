//===- KindSets.h - Sets of possible tile kinds ---------------------------===//
//
// Internal to the layout library's classifier (Classify.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_KINDSETS_H
#define LACE_LAYOUT_KINDSETS_H

#include "lace/Layout/MaskNode.h"

#include <array>
#include <cstdint>

namespace lace::layout::detail {

/// A tile's possible exact kinds as a set of bits (E, P, F): a primitive
/// answers one bit, a combinator of two Partial tiles two, and the element
/// fallback narrows those to one.
constexpr std::uint8_t kE = 1, kP = 2, kF = 4, kAny = kE | kP | kF;

constexpr std::uint8_t unionOne(std::uint8_t x, std::uint8_t y) {
  if (x == kF || y == kF)
    return kF;
  if (x == kE)
    return y;
  if (y == kE)
    return x;
  return kP | kF; // Partial | Partial: not empty, maybe full
}
constexpr std::uint8_t intersectOne(std::uint8_t x, std::uint8_t y) {
  if (x == kE || y == kE)
    return kE;
  if (x == kF)
    return y;
  if (y == kF)
    return x;
  return kE | kP; // Partial & Partial: not full, maybe empty
}
constexpr std::uint8_t complementSet(std::uint8_t s) {
  return static_cast<std::uint8_t>(((s & kE) ? kF : 0) | (s & kP) |
                                   ((s & kF) ? kE : 0));
}
template <std::uint8_t (*One)(std::uint8_t, std::uint8_t)>
constexpr std::array<std::array<std::uint8_t, 8>, 8> table() {
  std::array<std::array<std::uint8_t, 8>, 8> t{};
  for (unsigned a = 1; a < 8; ++a)
    for (unsigned b = 1; b < 8; ++b)
      for (std::uint8_t x = 1; x <= 4; x <<= 1)
        for (std::uint8_t y = 1; y <= 4; y <<= 1)
          if ((a & x) && (b & y))
            t[a][b] |= One(x, y);
  return t;
}
constexpr auto kUnion = table<unionOne>();
constexpr auto kIntersect = table<intersectOne>();

inline std::uint8_t combine(MaskNode::Kind kind, std::uint8_t a,
                            std::uint8_t b) {
  switch (kind) {
  case MaskNode::Kind::Union:
    return kUnion[a][b];
  case MaskNode::Kind::Intersect:
    return kIntersect[a][b];
  case MaskNode::Kind::Difference:
    return kIntersect[a][complementSet(b)];
  default:
    return complementSet(a);
  }
}

inline BlockKind toKind(std::uint8_t s) {
  return s == kF ? BlockKind::Full
                 : (s == kE ? BlockKind::Empty : BlockKind::Partial);
}

} // namespace lace::layout::detail

#endif // LACE_LAYOUT_KINDSETS_H
