//===- ParserTest.cpp - Syntax, precedence and checked AST shape ----------===//
#include "TestUtil.h"

#include <gtest/gtest.h>

namespace lace::frontend::test {
namespace {

TEST(ParserTest, PrecedenceOfMaskAndComparisonOperators) {
  // '==' binds tighter than '|', '|' looser than '&'.
  Compiled c("pattern p(stride: int = 4) { mask = causal & (local(before = "
             "stride) | (q - k) % stride == 0); }");
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_EQ(dumpExpr(*c.pattern("p").mask),
            "(intersect (causal) (union (local $param0 0 1 1) (predicate "
            "(eq_int (floormod_int (sub_int q k) $param0) 0))))");
}

TEST(ParserTest, RangeBindsTighterThanInAndLooserThanPlus) {
  Compiled c("pattern p() { mask = q in 1 .. k + 1; }");
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_EQ(dumpExpr(*c.pattern("p").mask),
            "(predicate (in q (range 1 (add_int k 1))))");
}

TEST(ParserTest, ConditionalIsLowest) {
  Compiled c(
      "pattern p(on: bool = true) { mask = on || false ? causal : full; }");
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_EQ(dumpExpr(*c.pattern("p").mask),
            "(cond (or $param0 false) (causal) (full))");
}

TEST(ParserTest, CheckedNodesHaveTypesAndDeps) {
  Compiled c("pattern p() { let x = h * 2; mask = local(before = x); score = "
             "s * float(x); }");
  ASSERT_TRUE(c.ok()) << c.errors();
  const Pattern &p = c.pattern("p");
  EXPECT_EQ(p.mask->kind, ExprKind::Local);
  EXPECT_EQ(p.mask->operand(0).kind, ExprKind::LetRef);
  EXPECT_EQ(p.mask->operand(0).deps, DepH);
  EXPECT_TRUE(p.mask->operand(2).implicit);
  EXPECT_EQ(p.score->type, Type::Float);
  EXPECT_EQ(p.score->deps, DepS | DepH);
  EXPECT_GT(p.numExprIds, 0);
}

TEST(ParserTest, CommentsAndTrailingCommas) {
  Compiled c("/* block\n comment */ pattern p(a: int = 1,) { // line\n mask = "
             "global(tokens = {0, 1,},); }");
  EXPECT_TRUE(c.ok()) << c.errors();
}

TEST(ParserTest, ImportsLoadOnceAndResolveRelatively) {
  Compiled c("import \"lib/a.lace\"; import \"lib/b.lace\"; pattern p() { mask "
             "= a() | b(); }",
             {{"lib/a.lace", "import \"common.lace\"; pattern a() { mask = "
                             "common(); }"},
              {"lib/b.lace", "import \"./common.lace\"; pattern b() { mask = "
                             "common(); }"},
              {"lib/common.lace", "pattern common() { mask = causal; }"}});
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_EQ(c.program.files.size(), 4u);
}

TEST(ParserTest, ImportCycleAndMissingFile) {
  Compiled c("import \"x.lace\"; pattern p() { mask = causal; }",
             {{"x.lace", "import \"main.lace\"; import \"nope.lace\";"}});
  EXPECT_TRUE(c.has(DiagnosticKind::ImportCycle));
  EXPECT_TRUE(c.has(DiagnosticKind::ImportNotFound));
}

TEST(ParserTest, RecoversAfterAnErrorInAStatement) {
  Compiled c("pattern p() { let x = ; let y = 1 +; mask = causal; }\n"
             "pattern q() { mask = ) ; }");
  EXPECT_EQ(c.kinds(),
            (std::vector<DiagnosticKind>{DiagnosticKind::ExpectedExpression,
                                         DiagnosticKind::ExpectedExpression,
                                         DiagnosticKind::ExpectedExpression}));
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  Compiled a("pattern p() { mask = " + deep + "q; }");
  EXPECT_TRUE(a.has(DiagnosticKind::NestingTooDeep));
  std::string chain = "q";
  for (int i = 0; i < 5000; ++i)
    chain += " + q";
  Compiled b("pattern p() { mask = " + chain + " == k; }");
  EXPECT_TRUE(b.has(DiagnosticKind::NestingTooDeep));
  Compiled u("pattern p() { mask = " + std::string(100000, '~') + "causal; }");
  EXPECT_TRUE(u.has(DiagnosticKind::NestingTooDeep));
}

TEST(ParserTest, RecursionThroughPatternCalls) {
  Compiled c("pattern a() { mask = b(); } pattern b() { mask = causal | a; }");
  EXPECT_TRUE(c.has(DiagnosticKind::PatternRecursion));
  EXPECT_FALSE(c.pattern("a").checked);
}

} // namespace
} // namespace lace::frontend::test
