//===- SemanticsTest.cpp - Integer semantics and the random generator -----===//
#include "TestUtil.h"

#include "lace/Frontend/Semantics.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

namespace lace::frontend::test {
namespace {

TEST(IntegerTest, FloorDivisionAndModulo) {
  EXPECT_EQ(floorDiv(-7, 2), -4);
  EXPECT_EQ(floorMod(-7, 2), 1);
  EXPECT_EQ(floorDiv(7, -2), -4);
  EXPECT_EQ(floorMod(7, -2), -1);
  EXPECT_EQ(floorDiv(-7, -2), 3);
  EXPECT_EQ(floorMod(-7, -2), -1);
  EXPECT_EQ(floorDiv(7, 2), 3);
  EXPECT_EQ(floorMod(7, 2), 1);
  EXPECT_EQ(floorDiv(-6, 3), -2);
  EXPECT_EQ(floorMod(-6, 3), 0);
  EXPECT_EQ(floorDiv(5, 0), 0);
  EXPECT_EQ(floorMod(5, 0), 5);
  const auto min = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(floorDiv(min, -1), min);
  EXPECT_EQ(floorMod(min, -1), 0);
  EXPECT_FALSE(checkedFloorDiv(min, -1));
  EXPECT_FALSE(checkedAdd(std::numeric_limits<std::int64_t>::max(), 1));
  EXPECT_EQ(wrapAdd(std::numeric_limits<std::int64_t>::max(), 1), min);
}

TEST(IntegerTest, ConstantFloorSemanticsInTheLanguage) {
  Compiled c(R"(
    pattern p(a: int = -7 / 2, m: int = -7 % 2, c: int = 7 % -2,
              d: int = int(-2.7), e: int = abs(-3)) { mask = causal; }
  )");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 1, 1, 1});
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->paramValue(0).i, -4);
  EXPECT_EQ(inst->paramValue(1).i, 1);
  EXPECT_EQ(inst->paramValue(2).i, -1);
  EXPECT_EQ(inst->paramValue(3).i, -2);
  EXPECT_EQ(inst->paramValue(4).i, 3);
}

TEST(IntegerTest, EvaluationTimeDivisionByZeroAndWrap) {
  Compiled c(R"(
    pattern p() {
      mask = (q - k) / k == 0 && (q - k) % k == q;
    }
    pattern floor() { mask = (q - k) / 2 == -2; }
    pattern wrap(big: int = 9223372036854775807) { mask = big + q < 0; }
  )");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 1, 3, 3});
  ASSERT_TRUE(inst);
  // Column k = 0: x/0 = 0 and x%0 = x.
  for (int q = 0; q < 3; ++q)
    EXPECT_TRUE(inst->mask(0, 0, q, 0));
  auto floor = c.instantiate("floor", Shape{1, 1, 8, 8});
  ASSERT_TRUE(floor);
  // d = -4 and d = -3 floor-divide to -2.
  EXPECT_TRUE(floor->mask(0, 0, 0, 4));
  EXPECT_TRUE(floor->mask(0, 0, 0, 3));
  EXPECT_FALSE(floor->mask(0, 0, 0, 2));
  auto wrap = c.instantiate("wrap", Shape{1, 1, 2, 2});
  ASSERT_TRUE(wrap);
  EXPECT_FALSE(wrap->mask(0, 0, 0, 0));
  EXPECT_TRUE(wrap->mask(0, 0, 1, 0));
}

/// The generator written out independently, straight from the spec.
std::vector<std::int64_t> referenceBlocks(std::uint64_t seed, std::uint64_t h,
                                          std::uint64_t r, std::int64_t N,
                                          std::int64_t perRow) {
  auto mix = [](std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
  };
  std::int64_t n = std::min(perRow, N);
  std::set<std::int64_t> chosen;
  for (std::int64_t j = N - n; j < N; ++j) {
    std::uint64_t draw =
        mix(mix(mix(mix(seed + 0x9e3779b97f4a7c15ULL) ^ h) ^ r) ^
            static_cast<std::uint64_t>(j));
    auto t =
        static_cast<std::int64_t>(draw % static_cast<std::uint64_t>(j + 1));
    chosen.insert(chosen.count(t) ? j : t);
  }
  return {chosen.begin(), chosen.end()};
}

TEST(ConstantZeroDivisorTest, LiteralDivisorsWarnWhenChecked) {
  Compiled c(R"(
    pattern p() {
      let zero = 0;
      mask = ((q - k) % 0 == 1 | local(before = h / (1 - 1))) & q / zero == 0;
    }
  )");
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_EQ(c.count(DiagnosticKind::ConstantZeroDivisor), 3u) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 1, 3, 3});
  ASSERT_TRUE(inst) << c.errors();
  // Instantiation does not repeat them; the values stay x % 0 = x, x / 0 = 0.
  EXPECT_EQ(c.count(DiagnosticKind::ConstantZeroDivisor), 3u) << c.errors();
  EXPECT_EQ(grid(*inst), lines({"#..", "##.", ".##"}));
}

TEST(ConstantZeroDivisorTest, FoldedDivisorsWarnWhenInstantiated) {
  Compiled c("pattern p(w: int = 2) { mask = (q - k) % (w - 2) == 1; }");
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_FALSE(c.has(DiagnosticKind::ConstantZeroDivisor));
  auto inst = c.instantiate("p", Shape{1, 1, 3, 3});
  ASSERT_TRUE(inst) << c.errors();
  EXPECT_EQ(c.count(DiagnosticKind::ConstantZeroDivisor), 1u);
  EXPECT_EQ(grid(*inst), lines({"...", "#..", ".#."}));
  ASSERT_TRUE(c.instantiate("p", Shape{1, 1, 3, 3}, {{"w", "4"}}));
  EXPECT_EQ(c.count(DiagnosticKind::ConstantZeroDivisor), 1u);
}

TEST(ConstantZeroDivisorTest, NotForVaryingDivisorsOrConstantExpressions) {
  Compiled varying(R"(
    pattern p() { mask = (q - k) / k == 0 & q % 2 == 0; score = s / 0.0; }
  )");
  ASSERT_TRUE(varying.ok()) << varying.errors();
  ASSERT_TRUE(varying.instantiate("p", Shape{1, 1, 2, 2}));
  EXPECT_EQ(varying.errors(), "");
  // Without per-element values a zero divisor is an error, not a warning.
  Compiled literal("pattern p() { mask = local(before = 4 / 0); }");
  EXPECT_TRUE(literal.has(DiagnosticKind::DivisionByZero));
  Compiled folded("pattern p(w: int = 0) { mask = local(before = 4 / w); }");
  ASSERT_TRUE(folded.ok()) << folded.errors();
  EXPECT_FALSE(folded.instantiate("p", Shape{1, 1, 2, 2}));
  EXPECT_EQ(folded.kinds(),
            std::vector<DiagnosticKind>{DiagnosticKind::DivisionByZero});
}

TEST(RandomTest, MatchesReferenceAndCounts) {
  for (std::uint64_t seed : {0ull, 1ull, 12345ull, (1ull << 62)})
    for (std::int64_t h = 0; h < 3; ++h)
      for (std::int64_t row = 0; row < 20; ++row)
        for (std::int64_t N : {1, 5, 16, 100})
          for (std::int64_t n : {0, 1, 3, 16, 200}) {
            auto blocks = randomBlocks(seed, h, row, N, n);
            ASSERT_EQ(blocks,
                      referenceBlocks(seed, static_cast<std::uint64_t>(h),
                                      static_cast<std::uint64_t>(row), N, n));
            ASSERT_EQ(static_cast<std::int64_t>(blocks.size()), std::min(n, N));
            ASSERT_TRUE(std::is_sorted(blocks.begin(), blocks.end()));
            ASSERT_EQ(
                std::set<std::int64_t>(blocks.begin(), blocks.end()).size(),
                blocks.size());
            for (std::int64_t b : blocks)
              ASSERT_TRUE(b >= 0 && b < N);
          }
}

TEST(RandomTest, DeterministicAndSeedSensitive) {
  EXPECT_EQ(randomBlocks(3, 1, 2, 64, 8), randomBlocks(3, 1, 2, 64, 8));
  EXPECT_NE(randomBlocks(3, 1, 2, 64, 8), randomBlocks(4, 1, 2, 64, 8));
  EXPECT_NE(randomBlocks(3, 1, 2, 64, 8), randomBlocks(3, 0, 2, 64, 8));
  // A fixed golden value: any change of the generator changes layouts.
  EXPECT_EQ(randomBlocks(0, 0, 0, 16, 3), referenceBlocks(0, 0, 0, 16, 3));
}

TEST(RandomTest, ExactCountPerRowInThePattern) {
  Compiled c("pattern p() { mask = random(per_row = 3, seed = 42); }");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 4, 37, 23});
  ASSERT_TRUE(inst);
  for (std::int64_t h = 0; h < 4; ++h)
    for (std::int64_t q = 0; q < 37; ++q) {
      int live = 0;
      for (std::int64_t k = 0; k < 23; ++k)
        live += inst->mask(0, h, q, k);
      EXPECT_EQ(live, 3);
    }
}

} // namespace
} // namespace lace::frontend::test
