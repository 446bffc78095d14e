//===- Float16Test.cpp - lace_float16.cuh against exhaustive references ---===//
#include "lace_float16.cuh"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace {

using namespace lace::f16;

/// Every finite half converts to float and back unchanged.
TEST(Float16, EveryHalfRoundTrips) {
  for (unsigned bits = 0; bits < 0x10000u; ++bits) {
    const auto h = static_cast<unsigned short>(bits);
    const float f = halfToFloat(h);
    if (std::isnan(f)) {
      EXPECT_EQ(bits & 0x7c00u, 0x7c00u);
      EXPECT_NE(bits & 0x3ffu, 0u);
      EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(f))));
      continue;
    }
    ASSERT_EQ(floatToHalf(f), h) << "bits " << bits;
  }
}

/// Rounding to nearest even: the midpoint between two neighbouring halves
/// goes to the even one; just above it goes up. Checked over every pair of
/// neighbours, subnormals included.
TEST(Float16, RoundsToNearestEven) {
  for (unsigned bits = 0; bits < 0x7bffu; ++bits) {
    const double lo = halfToFloat(static_cast<unsigned short>(bits));
    const double hi = halfToFloat(static_cast<unsigned short>(bits + 1));
    const float mid = static_cast<float>((lo + hi) / 2);
    ASSERT_EQ((lo + hi) / 2, static_cast<double>(mid)); // exact in float
    const unsigned even = (bits & 1u) ? bits + 1 : bits;
    ASSERT_EQ(floatToHalf(mid), even) << "between " << lo << " and " << hi;
    ASSERT_EQ(floatToHalf(std::nextafter(mid, 1e9f)), bits + 1);
    ASSERT_EQ(floatToHalf(std::nextafter(mid, -1e9f)), bits);
    ASSERT_EQ(floatToHalf(-mid), even | 0x8000u);
  }
}

TEST(Float16, SpecialValues) {
  EXPECT_EQ(floatToHalf(65504.f), 0x7bffu);
  EXPECT_EQ(floatToHalf(65519.f), 0x7bffu);
  EXPECT_EQ(floatToHalf(65520.f), 0x7c00u); // rounds to infinity
  EXPECT_EQ(floatToHalf(INFINITY), 0x7c00u);
  EXPECT_EQ(floatToHalf(-INFINITY), 0xfc00u);
  EXPECT_EQ(floatToHalf(1e-9f), 0u);
  EXPECT_EQ(floatToHalf(-0.f), 0x8000u);
  EXPECT_EQ(floatToHalf(5.9604644775390625e-8f), 1u); // smallest subnormal
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
}

TEST(Bfloat16, RoundsToNearestEvenAndKeepsNaN) {
  EXPECT_EQ(floatToBfloat16(1.f), 0x3f80u);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1).
  EXPECT_EQ(floatToBfloat16(1.00390625f), 0x3f80u);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to even (up).
  EXPECT_EQ(floatToBfloat16(1.01171875f), 0x3f82u);
  EXPECT_EQ(floatToBfloat16(std::nextafter(1.00390625f, 2.f)), 0x3f81u);
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBfloat16(NAN))));
  EXPECT_EQ(floatToBfloat16(INFINITY), 0x7f80u);
  for (unsigned bits = 0; bits < 0x10000u; ++bits) {
    const float f = bfloat16ToFloat(static_cast<unsigned short>(bits));
    if (!std::isnan(f)) {
      ASSERT_EQ(floatToBfloat16(f), bits);
    }
  }
}

} // namespace
