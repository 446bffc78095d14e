//===- DialectTest.cpp - the C++ API of the lace dialect ------------------===//
#include "lace/Dialect/LaceOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {

class DialectTest : public ::testing::Test {
protected:
  DialectTest() {
    context.loadDialect<lace::LaceDialect, arith::ArithDialect>();
  }

  OwningOpRef<ModuleOp> parse(StringRef source) {
    return parseSourceString<ModuleOp>(source, &context);
  }

  MLIRContext context;
};

TEST_F(DialectTest, BuilderProducesAVerifiedPatternWithNamedParameters) {
  OpBuilder builder(&context);
  Location loc = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());

  auto pattern = builder.create<lace::PatternOp>(
      loc, "window", ArrayRef<StringRef>{"before", "causal_only"},
      ArrayRef<Type>{builder.getI64Type(), builder.getI1Type()},
      ArrayRef<Attribute>{builder.getI64IntegerAttr(128),
                          builder.getUnitAttr()});
  Block &body = pattern.getBody().front();
  builder.setInsertionPointToEnd(&body);
  Value zero = builder.create<arith::ConstantIntOp>(loc, 0, 64);
  Value window =
      builder.create<lace::LocalOp>(loc, body.getArgument(0), zero, Value());
  builder.create<lace::YieldOp>(loc, ValueRange{window});

  ASSERT_TRUE(succeeded(verify(*module)));
  EXPECT_EQ(pattern.getNumParams(), 2u);
  EXPECT_EQ(pattern.getMask(), window);
  EXPECT_FALSE(pattern.getScore());

  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  EXPECT_NE(printed.find("lace.pattern @window(%before: i64 = 128, "
                         "%causal_only: i1)"),
            std::string::npos)
      << printed;
}

TEST_F(DialectTest, ScoreIsTheSecondYieldedValue) {
  OwningOpRef<ModuleOp> module = parse(R"mlir(
    lace.pattern @p() {
      %m = lace.causal
      %sc = lace.score(%s, %b, %h, %q, %k) {
        lace.yield %s : f32
      }
      lace.yield %m, %sc : !lace.mask, !lace.score
    })mlir");
  ASSERT_TRUE(module);
  auto pattern = *module->getOps<lace::PatternOp>().begin();
  ASSERT_TRUE(pattern.getScore());
  EXPECT_TRUE(isa<lace::ScoreOp>(pattern.getScore().getDefiningOp()));
  EXPECT_TRUE(isa<lace::CausalOp>(pattern.getMask().getDefiningOp()));
}

TEST_F(DialectTest, CanonicalizerAppliesTheMaskAlgebra) {
  OwningOpRef<ModuleOp> module = parse(R"mlir(
    lace.pattern @p() {
      %c = lace.causal
      %n = lace.complement %c
      %u = lace.union %c, %n
      %i = lace.intersect %u, %c
      lace.yield %i : !lace.mask
    })mlir");
  ASSERT_TRUE(module);
  PassManager pm(&context);
  pm.addPass(createCanonicalizerPass());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  // (causal | ~causal) & causal == full & causal == causal
  auto pattern = *module->getOps<lace::PatternOp>().begin();
  EXPECT_TRUE(isa<lace::CausalOp>(pattern.getMask().getDefiningOp()));
}

TEST_F(DialectTest, VerifierRejectsNegativeConstantExtent) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    diagnostics += diag.str();
    return success();
  });
  OwningOpRef<ModuleOp> module = parse(R"mlir(
    lace.pattern @p() {
      %c = arith.constant -3 : i64
      %m = lace.local before %c after %c
      lace.yield %m : !lace.mask
    })mlir");
  EXPECT_FALSE(module);
  EXPECT_NE(diagnostics.find("expected the 'before' extent to be at least 0, "
                             "got -3"),
            std::string::npos)
      << diagnostics;
}

TEST_F(DialectTest, VarKindsRoundTripThroughTheirNames) {
  for (lace::VarKind kind :
       {lace::VarKind::Batch, lace::VarKind::Head, lace::VarKind::BatchSize,
        lace::VarKind::Heads, lace::VarKind::SeqQ, lace::VarKind::SeqK})
    EXPECT_EQ(lace::symbolizeVarKind(lace::stringifyVarKind(kind)), kind);
}

} // namespace
