//===- Semantics.h - Exact value semantics shared by every Lace stage -----===//
//
// The arithmetic and the random generator of the language, as plain
// functions. The interpreter uses them; code generators must match them
// bit for bit (docs/language.md states the same in words).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_SEMANTICS_H
#define LACE_FRONTEND_SEMANTICS_H

#include "lace/Support/RandomBlocks.h"
#include "lace_semantics.cuh"

#include <cstdint>
#include <optional>
#include <vector>

namespace lace::frontend {

// --- Integers: 64-bit two's complement --------------------------------------

/// Wrapping (evaluation-time) arithmetic.
inline std::int64_t wrapAdd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) +
                                   static_cast<std::uint64_t>(b));
}
inline std::int64_t wrapSub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) -
                                   static_cast<std::uint64_t>(b));
}
inline std::int64_t wrapMul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) *
                                   static_cast<std::uint64_t>(b));
}
inline std::int64_t wrapNeg(std::int64_t a) { return wrapSub(0, a); }

/// Floor division (Python): -7/2 = -4. x/0 = 0; INT64_MIN / -1 wraps to
/// INT64_MIN. The one definition is lace_semantics.cuh's, which the kernels
/// call too.
inline std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  return sem::floor_div<long long>(a, b);
}
/// Floor modulo (Python): -7%2 = 1, 7%-2 = -1; the result has the sign of
/// b. x%0 = x.
inline std::int64_t floorMod(std::int64_t a, std::int64_t b) {
  return sem::floor_mod<long long>(a, b);
}

/// Checked (constant-expression) arithmetic: nullopt on overflow.
std::optional<std::int64_t> checkedAdd(std::int64_t a, std::int64_t b);
std::optional<std::int64_t> checkedSub(std::int64_t a, std::int64_t b);
std::optional<std::int64_t> checkedMul(std::int64_t a, std::int64_t b);
/// nullopt on overflow (INT64_MIN / -1); the caller diagnoses b == 0 first.
std::optional<std::int64_t> checkedFloorDiv(std::int64_t a, std::int64_t b);

/// int(f): truncation toward zero; NaN gives 0, out-of-range values
/// saturate to INT64_MIN/INT64_MAX.
std::int64_t floatToInt(float f);
/// The same conversion, nullopt where it would saturate or for NaN.
std::optional<std::int64_t> checkedFloatToInt(float f);

/// alibi_slope(h, n) = 2^(-8 (h+1) / n), computed in double and rounded to
/// float; n == 0 gives 1.
float alibiSlope(std::int64_t head, std::int64_t numHeads);

// --- Random blocks (BigBird) -------------------------------------------------

/// SplitMix64 finalizer (lace_semantics.cuh's).
inline std::uint64_t splitMix64(std::uint64_t x) { return sem::mix(x); }

/// draw(j) = mix(mix(mix(mix(seed + 0x9e3779b97f4a7c15) ^ head) ^ row) ^ j).
inline std::uint64_t randomDraw(std::uint64_t seed, std::uint64_t head,
                                std::uint64_t row, std::uint64_t j) {
  return sem::mix(sem::random_base(seed, head, row) ^ j);
}

/// The sets of random key blocks (lace/Support/RandomBlocks.h).
using ::lace::randomBlocks;
using ::lace::randomBlocksInto;

} // namespace lace::frontend

namespace lace::frontend {

/// A scalar value; which field is meaningful follows the expression's type
/// (Int: i, Float: f, Bool and Mask: b).
struct Value {
  std::int64_t i = 0;
  float f = 0;
  bool b = false;

  static Value ofInt(std::int64_t v) { return {v, 0, false}; }
  static Value ofFloat(float v) { return {0, v, false}; }
  static Value ofBool(bool v) { return {0, 0, v}; }
};

/// The shape an instance is specialized to.
struct Shape {
  std::int64_t batch = 1;
  std::int64_t heads = 1;
  std::int64_t seqQ = 1;
  std::int64_t seqK = 1;
};

/// Limit for sizes, extents, strides and tokens (exclusive): 2^31.
inline constexpr std::int64_t kMaxExtent = std::int64_t{1} << 31;

} // namespace lace::frontend
#endif // LACE_FRONTEND_SEMANTICS_H
