//===- MaskTextTest.cpp - Mask trees as text and back ---------------------===//
#include "lace/Layout/MaskText.h"
#include "lace/Layout/Classify.h"
#include "lace/Layout/PredicateProgram.h"

#include <gtest/gtest.h>

namespace {

using namespace lace::layout;
using Code = Instruction::Code;

/// (q - k) % 3 == 0, as lace-classify-blocks would compile it.
std::shared_ptr<const PredicateProgram> everyThird() {
  auto p = std::make_shared<PredicateProgram>();
  p->initial = {0, 0, 3, 0, 0, 0, 0};
  p->code = {{Code::Sub, false, 4, 0, 1, 0},
             {Code::RemTrunc, false, 5, 4, 2, 0},
             {Code::CmpEq, true, 6, 5, 3, 0}};
  p->result = 6;
  return p;
}

std::unique_ptr<MaskNode> everyKind() {
  auto windows = MaskNode::unite(
      MaskNode::intersect(MaskNode::causal(), MaskNode::local(40, 3, 2)),
      MaskNode::dilated(8, 8, 3));
  auto blocks = MaskNode::unite(
      MaskNode::difference(MaskNode::strided(16), MaskNode::fixed(32, 4)),
      MaskNode::complement(MaskNode::prefix(5)));
  auto tokens =
      MaskNode::unite(MaskNode::global({0, 7}, {{20, 24}}),
                      MaskNode::random(2, 16, 18446744073709551615ull, 3, 300));
  auto rest = MaskNode::unite(
      MaskNode::intersect(predicateNode(everyThird()), MaskNode::full()),
      MaskNode::empty());
  return MaskNode::intersect(
      MaskNode::segment(),
      MaskNode::unite(MaskNode::unite(std::move(windows), std::move(blocks)),
                      MaskNode::unite(std::move(tokens), std::move(rest))));
}

TEST(MaskText, EveryKindRoundTripsToTheSameMask) {
  const std::unique_ptr<MaskNode> mask = everyKind();
  const std::string text = printMask(*mask);
  ASSERT_FALSE(text.empty());
  ParsedMask parsed = parseMask(text);
  ASSERT_TRUE(parsed.mask) << parsed.error;
  EXPECT_EQ(printMask(*parsed.mask), text);
  EXPECT_TRUE(hasSegment(*parsed.mask));
  // The same elements and the same layout.
  lace::SegmentIds ids;
  for (int t = 0; t < 300; ++t)
    ids.q.push_back(t / 70);
  for (std::int64_t q = 0; q < 300; q += 7)
    for (std::int64_t k = 0; k < 300; k += 3)
      ASSERT_EQ(mask->live(q, k, &ids), parsed.mask->live(q, k, &ids))
          << q << ", " << k;
  EXPECT_EQ(classify(*mask, {300, 300}, {32, 64}, &ids),
            classify(*parsed.mask, {300, 300}, {32, 64}, &ids));
}

TEST(MaskText, APredicateWithoutItsProgramCannotBePrinted) {
  auto handMade = MaskNode::predicate(
      [](std::int64_t q, std::int64_t k) { return q == k; });
  EXPECT_EQ(
      printMask(*MaskNode::unite(MaskNode::causal(), std::move(handMade))), "");
}

TEST(MaskText, DamagedTextIsAnErrorWithItsOffset) {
  struct Bad {
    const char *text;
    const char *error;
  } cases[] = {
      {"(local 1 2)", "offset 10: expected a number"},
      {"(local 1 2 0)", "offset 12: expected a granularity or dilation >= 1"},
      {"(wavy 3)", "offset 5: unknown mask 'wavy'"},
      {"causal causal", "offset 7: text after the mask"},
      {"(union causal)", "offset 13: expected a mask, got ''"},
      {"(global [1 2] [3])",
       "offset 17: expected global ranges as lo hi pairs"},
      {"(predicate 9 [0 0] [])", "offset 21: bad predicate: result register "
                                 "out of range"},
      {"(predicate 2 [0 0 0] [99 0 2 0 1 0])",
       "offset 35: unknown predicate instruction"},
      {"(predicate 2 [0 0 0] [0 0 0 0 1 0])",
       "offset 34: bad predicate: register 0 written twice"},
      {"", "offset 0: expected a mask, got ''"},
  };
  for (const Bad &bad : cases) {
    ParsedMask parsed = parseMask(bad.text);
    EXPECT_FALSE(parsed.mask) << bad.text;
    EXPECT_EQ(parsed.error, bad.error) << bad.text;
  }
  std::string deep;
  for (int i = 0; i < 300; ++i)
    deep += "(complement ";
  deep += "causal" + std::string(300, ')');
  EXPECT_NE(parseMask(deep).error.find("nested too deeply"), std::string::npos);
}

} // namespace
