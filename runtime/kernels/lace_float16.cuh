//===- lace_float16.cuh - IEEE half and bfloat16 conversions in plain C++ -===//
//
// Bit-exact conversions between float and the two 16-bit formats the
// kernels take, with round-to-nearest-even as __float2half_rn and
// __float2bfloat16_rn do. Plain C++ with no includes: the emulator's half
// and __nv_bfloat16 are built on these, and host code (tests, the reference,
// `lace run`) uses the same functions to fill and read tensors.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace lace {
namespace f16 {

inline unsigned floatBits(float f) {
  unsigned u;
  __builtin_memcpy(&u, &f, 4);
  return u;
}

inline float bitsFloat(unsigned u) {
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

/// float -> binary16, round to nearest even; NaN stays NaN (quiet),
/// overflow gives infinity, tiny values become subnormals or zero.
inline unsigned short floatToHalf(float value) {
  const unsigned u = floatBits(value);
  const unsigned sign = (u >> 16) & 0x8000u;
  const unsigned magnitude = u & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) // inf or NaN
    return static_cast<unsigned short>(
        sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x200u : 0u));
  if (magnitude >= 0x477ff000u) // rounds to >= 65520: infinity
    return static_cast<unsigned short>(sign | 0x7c00u);
  if (magnitude < 0x38800000u) { // below 2^-14: subnormal half or zero
    if (magnitude < 0x33000000u) // below 2^-25: rounds to zero
      return static_cast<unsigned short>(sign);
    const unsigned exponent = magnitude >> 23;
    const unsigned mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    const unsigned shift = 126u - exponent; // 14..24 + 1
    unsigned result = mantissa >> shift;
    const unsigned rest = mantissa & ((1u << shift) - 1u);
    const unsigned halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (result & 1u)))
      ++result;
    return static_cast<unsigned short>(sign | result);
  }
  // Normal: rebias the exponent (127 -> 15) and round 13 mantissa bits.
  unsigned result = (magnitude - 0x38000000u) >> 13;
  const unsigned rest = magnitude & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (result & 1u)))
    ++result; // may carry into the exponent, which is the right rounding
  return static_cast<unsigned short>(sign | result);
}

/// binary16 -> float (exact).
inline float halfToFloat(unsigned short bits) {
  const unsigned sign = static_cast<unsigned>(bits & 0x8000u) << 16;
  const unsigned exponent = (bits >> 10) & 0x1fu;
  unsigned mantissa = bits & 0x3ffu;
  if (exponent == 0x1fu)
    return bitsFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0)
      return bitsFloat(sign);
    // Subnormal: value = mantissa * 2^-24, exact in float.
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  return bitsFloat(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

/// float -> bfloat16 (the top half of a float), round to nearest even;
/// NaN stays a quiet NaN.
inline unsigned short floatToBfloat16(float value) {
  const unsigned u = floatBits(value);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return static_cast<unsigned short>((u >> 16) | 0x40u);
  return static_cast<unsigned short>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/// bfloat16 -> float (exact).
inline float bfloat16ToFloat(unsigned short bits) {
  return bitsFloat(static_cast<unsigned>(bits) << 16);
}

} // namespace f16
} // namespace lace
