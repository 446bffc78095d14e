//===- Semantics.cpp ------------------------------------------------------===//
#include "lace/Frontend/Semantics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lace::frontend {

std::optional<std::int64_t> checkedAdd(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return std::nullopt;
  return r;
}
std::optional<std::int64_t> checkedSub(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    return std::nullopt;
  return r;
}
std::optional<std::int64_t> checkedMul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}
std::optional<std::int64_t> checkedFloorDiv(std::int64_t a, std::int64_t b) {
  if (b == -1 && a == std::numeric_limits<std::int64_t>::min())
    return std::nullopt;
  return floorDiv(a, b);
}

std::optional<std::int64_t> checkedFloatToInt(float f) {
  if (std::isnan(f))
    return std::nullopt;
  double t = std::trunc(static_cast<double>(f));
  // 2^63 is exactly representable; anything >= it does not fit.
  if (t >= 9223372036854775808.0 || t < -9223372036854775808.0)
    return std::nullopt;
  return static_cast<std::int64_t>(t);
}

std::int64_t floatToInt(float f) {
  if (std::isnan(f))
    return 0;
  if (auto v = checkedFloatToInt(f))
    return *v;
  return f > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

float alibiSlope(std::int64_t head, std::int64_t numHeads) {
  if (numHeads == 0)
    return 1.0f;
  double exponent =
      -8.0 * (static_cast<double>(head) + 1.0) / static_cast<double>(numHeads);
  return static_cast<float>(std::exp2(exponent));
}

} // namespace lace::frontend
