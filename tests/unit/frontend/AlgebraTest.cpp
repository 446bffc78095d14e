//===- AlgebraTest.cpp - Mask algebra laws on random patterns -------------===//
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <random>

namespace lace::frontend::test {
namespace {

/// A random mask expression over small parameters.
std::string randomMask(std::mt19937 &rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  auto num = [&](int lo, int hi) {
    return std::to_string(lo + pick(hi - lo + 1));
  };
  if (depth > 0 && pick(3) == 0) {
    std::string a = randomMask(rng, depth - 1), b = randomMask(rng, depth - 1);
    switch (pick(4)) {
    case 0:
      return "(" + a + " | " + b + ")";
    case 1:
      return "(" + a + " & " + b + ")";
    case 2:
      return "(" + a + " - " + b + ")";
    default:
      return "~" + a;
    }
  }
  switch (pick(11)) {
  case 0:
    return "causal";
  case 1:
    return "local(before = " + num(0, 4) + ", after = " + num(0, 3) + ")";
  case 2:
    return "local(before = " + num(0, 4) + ", dilation = " + num(1, 3) + ")";
  case 3:
    return "local(before = " + num(0, 4) + ", after = " + num(0, 4) +
           ", granularity = " + num(1, 4) + ")";
  case 4:
    return "strided(stride = " + num(1, 5) + ")";
  case 5:
    return "fixed(stride = " + num(1, 5) + ", summary = " + num(0, 2) + ")";
  case 6:
    return "global(tokens = " + num(0, 3) + " .. " + num(0, 6) + ")";
  case 7:
    return "random(per_row = " + num(0, 3) + ", granularity = " + num(1, 3) +
           ", seed = " + num(0, 99) + ")";
  case 8:
    return "prefix(length = " + num(0, 5) + ")";
  case 9:
    return "((q * " + num(1, 3) + " + k + h) % " + num(2, 4) + " == 0)";
  default:
    return "local(before = h, after = " + num(0, 2) + ")";
  }
}

TEST(AlgebraTest, LawsHoldOnRandomPatterns) {
  std::mt19937 rng(1234);
  const std::vector<std::pair<std::string, std::string>> laws = {
      {"ma | mb", "mb | ma"},      {"ma & mb", "mb & ma"},
      {"~(ma | mb)", "~ma & ~mb"}, {"~(ma & mb)", "~ma | ~mb"},
      {"ma - mb", "ma & ~mb"},     {"~~ma", "ma"},
      {"ma | (mb & ma)", "ma"},    {"(ma | mb) & mc", "(ma & mc) | (mb & mc)"},
  };
  for (int trial = 0; trial < 40; ++trial) {
    std::string a = randomMask(rng, 2), b = randomMask(rng, 2),
                c = randomMask(rng, 1);
    std::string text = "";
    for (std::size_t i = 0; i < laws.size(); ++i)
      text += "pattern lhs" + std::to_string(i) + "() { let ma = " + a +
              "; let mb = " + b + "; let mc = " + c +
              "; mask = " + laws[i].first + "; }\n" + "pattern rhs" +
              std::to_string(i) + "() { let ma = " + a + "; let mb = " + b +
              "; let mc = " + c + "; mask = " + laws[i].second + "; }\n";
    Compiled compiled(text);
    ASSERT_TRUE(compiled.ok()) << text << compiled.errors();
    std::int64_t seq = 9 + static_cast<std::int64_t>(rng() % 12);
    Shape shape{1, 3, seq, seq + static_cast<std::int64_t>(rng() % 3)};
    for (std::size_t i = 0; i < laws.size(); ++i) {
      auto lhs = compiled.instantiate("lhs" + std::to_string(i), shape);
      auto rhs = compiled.instantiate("rhs" + std::to_string(i), shape);
      ASSERT_TRUE(lhs && rhs) << compiled.errors();
      for (std::int64_t h = 0; h < shape.heads; ++h)
        ASSERT_EQ(grid(*lhs, h), grid(*rhs, h))
            << laws[i].first << " vs " << laws[i].second << "\na = " << a
            << "\nb = " << b << "\nc = " << c;
    }
  }
}

TEST(AlgebraTest, BoolOperandsBecomePredicates) {
  EXPECT_EQ(maskGrid("causal - (q == k)", 3), lines({"...", "#..", "##."}));
  EXPECT_EQ(maskGrid("(q == k) | (k == 0)", 3), lines({"#..", "##.", "#.#"}));
  EXPECT_EQ(maskGrid("~(q == k)", 2), lines({".#", "#."}));
}

} // namespace
} // namespace lace::frontend::test
