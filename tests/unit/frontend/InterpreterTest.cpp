//===- InterpreterTest.cpp - Primitive values against hand-worked grids ---===//
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <cmath>

namespace lace::frontend::test {
namespace {

TEST(PrimitiveTest, Causal) {
  EXPECT_EQ(maskGrid("causal", 4), lines({"#...", "##..", "###.", "####"}));
}

TEST(PrimitiveTest, FullAndEmpty) {
  EXPECT_EQ(maskGrid("full", 2), lines({"##", "##"}));
  EXPECT_EQ(maskGrid("empty", 2), lines({"..", ".."}));
}

TEST(PrimitiveTest, LocalSymmetric) {
  EXPECT_EQ(maskGrid("local(before = 1, after = 1)", 5),
            lines({"##...", "###..", ".###.", "..###", "...##"}));
}

TEST(PrimitiveTest, LocalDefaultsIsDiagonal) {
  EXPECT_EQ(maskGrid("local", 3), lines({"#..", ".#.", "..#"}));
}

TEST(PrimitiveTest, LocalDilation) {
  // d % 2 == 0 and 0 <= d / 2 <= 2.
  EXPECT_EQ(
      maskGrid("local(before = 2, dilation = 2)", 6),
      lines({"#.....", ".#....", "#.#...", ".#.#..", "#.#.#.", ".#.#.#"}));
  EXPECT_EQ(maskGrid("dilated(before = 2, dilation = 2)", 6),
            maskGrid("local(before = 2, dilation = 2)", 6));
}

TEST(PrimitiveTest, LocalGranularity) {
  // D = q/2 - k/2, live iff 0 <= 2 D <= 2.
  EXPECT_EQ(
      maskGrid("local(before = 2, granularity = 2)", 6),
      lines({"##....", "##....", "####..", "####..", "..####", "..####"}));
}

TEST(PrimitiveTest, Strided) {
  EXPECT_EQ(maskGrid("strided(stride = 3)", 7),
            lines({"#......", "##.....", "###....", "####...", ".####..",
                   "..####.", "#..####"}));
}

TEST(PrimitiveTest, Fixed) {
  EXPECT_EQ(maskGrid("fixed(stride = 3, summary = 1)", 7),
            lines({"#......", "##.....", "###....", "..##...", "..###..",
                   "..####.", "..#..##"}));
}

TEST(PrimitiveTest, GlobalSetAndRange) {
  EXPECT_EQ(maskGrid("global(tokens = {1, 4})", 5),
            lines({".#..#", "#####", ".#..#", ".#..#", "#####"}));
  EXPECT_EQ(maskGrid("global(tokens = 0 .. 1)", 3),
            lines({"###", "#..", "#.."}));
  EXPECT_EQ(maskGrid("global(tokens = 2)", 3), lines({"..#", "..#", "###"}));
}

TEST(PrimitiveTest, Prefix) {
  EXPECT_EQ(maskGrid("prefix(length = 2)", 4),
            lines({"##..", "##..", "###.", "####"}));
}

TEST(PrimitiveTest, Segment) {
  SegmentIds ids{{0, 0, 1, 1}, {}};
  EXPECT_EQ(maskGrid("segment", 4, &ids),
            lines({"##..", "##..", "..##", "..##"}));
  EXPECT_EQ(maskGrid("document & causal", 4, &ids),
            lines({"#...", "##..", "..#.", "..##"}));
}

TEST(PrimitiveTest, SegmentWithoutIdsIsAnError) {
  Compiled c("pattern p() { mask = segment; }");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.instantiate("p", Shape{1, 1, 4, 4}), nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::MissingSegmentIds));
  SegmentIds wrong{{0, 1}, {}};
  EXPECT_EQ(c.instantiate("p", Shape{1, 1, 4, 4}, {}, &wrong), nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::InvalidSegmentIds));
}

TEST(PrimitiveTest, Predicate) {
  EXPECT_EQ(maskGrid("(q + k) % 2 == 0", 3), lines({"#.#", ".#.", "#.#"}));
}

TEST(PrimitiveTest, RandomMatchesRandomBlocks) {
  Compiled c("pattern p(n: int = 2) { mask = random(per_row = n, "
             "granularity = 2, seed = 7); }");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 3, 20, 20});
  ASSERT_TRUE(inst);
  for (std::int64_t h = 0; h < 3; ++h)
    for (std::int64_t q = 0; q < 20; ++q) {
      auto blocks = randomBlocks(7, h, q / 2, 10, 2);
      ASSERT_EQ(blocks.size(), 2u);
      int live = 0;
      for (std::int64_t k = 0; k < 20; ++k) {
        bool expected = std::binary_search(blocks.begin(), blocks.end(), k / 2);
        EXPECT_EQ(inst->mask(0, h, q, k), expected);
        live += expected;
      }
      EXPECT_EQ(live, 4); // 2 blocks of 2 keys
    }
}

TEST(PrimitiveTest, PatternCallUsesCalleeMaskAndIgnoresScore) {
  Compiled c(R"(
    pattern w(window: int = 4) { mask = local(before = window); score = s * 2.0; }
    pattern p() { mask = w(window = 1) & causal; }
  )");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 1, 3, 3});
  ASSERT_TRUE(inst);
  EXPECT_EQ(grid(*inst), lines({"#..", "##.", ".##"}));
  EXPECT_EQ(inst->score(1.5f, 0, 0, 0, 0), 1.5f);
}

TEST(PrimitiveTest, PerHeadDilation) {
  Compiled c("pattern p() { mask = local(before = 1, dilation = 1 + h); }");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 2, 4, 4});
  ASSERT_TRUE(inst);
  EXPECT_EQ(grid(*inst, 0), lines({"#...", "##..", ".##.", "..##"}));
  EXPECT_EQ(grid(*inst, 1), lines({"#...", ".#..", "#.#.", ".#.#"}));
}

TEST(ScoreTest, SoftcapAndAlibi) {
  Compiled c(R"(
    pattern cap(c: float = 2.0) { mask = causal; score = c * tanh(s / c); }
    pattern alibi() { mask = causal; score = s - alibi_slope(h, heads) * float(q - k); }
  )");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto capped = c.instantiate("cap", Shape{1, 1, 4, 4});
  ASSERT_TRUE(capped);
  EXPECT_FLOAT_EQ(capped->score(1.0f, 0, 0, 1, 0),
                  2.0f * std::tanh(1.0f / 2.0f));
  auto alibi = c.instantiate("alibi", Shape{1, 8, 4, 4});
  ASSERT_TRUE(alibi);
  // Head 0 of 8: slope 2^-1.
  EXPECT_FLOAT_EQ(alibi->score(1.0f, 0, 0, 3, 1), 1.0f - 0.5f * 2.0f);
  EXPECT_FLOAT_EQ(alibiSlope(7, 8), 1.0f / 256.0f);
}

TEST(ParamTest, OverridesAndDefaults) {
  Compiled c(R"(
    pattern p(a: int = 3, c2: int = a * 2, on: bool = true, f: float = 0.5) {
      mask = on ? local(before = b) : empty;
    }
  )");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 1, 8, 8}, {{"a", "1"}});
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->paramValue(0).i, 1);
  EXPECT_EQ(inst->paramValue(1).i, 2); // default over the overridden a
  EXPECT_TRUE(inst->paramValue(2).b);
  EXPECT_FLOAT_EQ(inst->paramValue(3).f, 0.5f);
  auto off = c.instantiate("p", Shape{1, 1, 2, 2},
                           {{"on", "false"}, {"f", "1e-3"}, {"c2", "-0"}});
  ASSERT_TRUE(off);
  EXPECT_EQ(grid(*off), lines({"..", ".."}));
  EXPECT_FLOAT_EQ(off->paramValue(3).f, 1e-3f);
}

TEST(ParamTest, OverrideErrors) {
  Compiled c("pattern p(window: int = 3, x: int) { mask = local(before = "
             "window + x); }");
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_EQ(c.instantiate("p", Shape{1, 1, 4, 4}, {{"x", "1"}, {"windw", "2"}}),
            nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::UnknownParameter));
  EXPECT_NE(c.errors().find("did you mean 'window'?"), std::string::npos);
  EXPECT_EQ(c.instantiate("p", Shape{1, 1, 4, 4}), nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::MissingParameterValue));
  EXPECT_EQ(c.instantiate("p", Shape{1, 1, 4, 4}, {{"x", "1.5"}}), nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::InvalidParameterValue));
  EXPECT_EQ(
      c.instantiate("p", Shape{1, 1, 4, 4}, {{"x", "99999999999999999999"}}),
      nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::IntegerOverflow));
  // A negative extent reached through an override is caught when folding.
  EXPECT_EQ(c.instantiate("p", Shape{1, 1, 4, 4}, {{"x", "-5"}}), nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::NegativeExtent));
  EXPECT_EQ(c.instantiate("p", Shape{1, 1, 0, 4}, {{"x", "1"}}), nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::InvalidShape));
}

TEST(ParamTest, OverflowInDefaultIsReportedAtInstantiation) {
  Compiled c("pattern p(a: int = 4611686018427387904, c2: int = a * 2) { "
             "mask = causal; }");
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_EQ(c.instantiate("p", Shape{1, 1, 2, 2}), nullptr);
  EXPECT_TRUE(c.has(DiagnosticKind::IntegerOverflow));
}

TEST(InterpreterTest, LetsAreMemoizedNotExponential) {
  std::string text = "pattern p() { let a0 = causal;";
  for (int i = 1; i < 60; ++i)
    text += " let a" + std::to_string(i) + " = a" + std::to_string(i - 1) +
            " | a" + std::to_string(i - 1) + ";";
  text += " mask = a59; }";
  Compiled c(text);
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 1, 4, 4});
  ASSERT_TRUE(inst);
  EXPECT_EQ(grid(*inst), lines({"#...", "##..", "###.", "####"}));
}

TEST(InterpreterTest, IntSetLets) {
  Compiled c(R"(
    pattern p() {
      let g = {0, 3 .. 5};
      let per_head = h == 0 ? {1} : 2 .. 4;
      mask = global(tokens = g) | (q == k && k in per_head);
    }
  )");
  ASSERT_TRUE(c.ok()) << c.errors();
  auto inst = c.instantiate("p", Shape{1, 2, 6, 6});
  ASSERT_TRUE(inst);
  EXPECT_EQ(grid(*inst, 0), lines({"######", "##.##.", "#..##.", "######",
                                   "######", "#..##."}));
  EXPECT_EQ(grid(*inst, 1), lines({"######", "#..##.", "#.###.", "######",
                                   "######", "#..##."}));
}

} // namespace
} // namespace lace::frontend::test

namespace lace::frontend::test {
namespace {

// Found by the fuzzer (tests/fuzz/regressions/): in a program with many
// errors, a pattern that calls itself through another could still be marked
// checked. Instantiating it must report the recursion, not overflow the
// stack. The input is the fuzzer's, loaded the way the fuzzer loads it.
TEST(InstantiateTest, FuzzerRecursionRegression) {
  std::ifstream in(std::string(LACE_SOURCE_DIR) +
                   "/tests/fuzz/regressions/recursion-after-error-limit.lace",
                   std::ios::binary);
  ASSERT_TRUE(in);
  std::string source((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
  MemoryFileProvider files;
  files.add("fuzz.lace", source);
  files.add("common.lace",
            "pattern causal_window(window: int = 4) { mask = causal & "
            "local(before = window - 1); }\n"
            "pattern leading_globals(count: int = 1) { mask = global(tokens "
            "= 0 .. count); }\n");
  SourceManager sources(files);
  DiagnosticEngine diags(sources);
  Program program = loadProgram(sources, "fuzz.lace", diags);
  EXPECT_FALSE(program.ok);
  int recursions = 0;
  for (const Pattern *pattern : program.allPatterns()) {
    if (!pattern->checked)
      continue;
    DiagnosticEngine local(sources);
    std::unique_ptr<Instance> instance =
        instantiate(*pattern, {}, Shape{2, 3, 8, 8}, local);
    for (const Diagnostic &d : local.diagnostics())
      recursions += d.kind == DiagnosticKind::PatternRecursion;
  }
  EXPECT_GT(recursions, 0);
}

} // namespace
} // namespace lace::frontend::test
