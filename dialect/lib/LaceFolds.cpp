//===- LaceFolds.cpp - folders and canonicalisation of the mask algebra ---===//
//
// Folders return an existing value; rewrites that need a new `lace.full` or
// `lace.empty` are canonicalisation patterns.
//
//===----------------------------------------------------------------------===//
#include "lace/Dialect/LaceOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace lace;

template <typename OpTy>
static bool isDefinedBy(Value value) {
  return value.getDefiningOp<OpTy>() != nullptr;
}

/// True when one of `a`, `b` is the complement of the other.
static bool areComplements(Value a, Value b) {
  auto isComplementOf = [](Value maybeComplement, Value other) {
    auto complement = maybeComplement.getDefiningOp<ComplementOp>();
    return complement && complement.getInput() == other;
  };
  return isComplementOf(a, b) || isComplementOf(b, a);
}

OpFoldResult UnionOp::fold(FoldAdaptor) {
  Value lhs = getLhs(), rhs = getRhs();
  if (lhs == rhs || isDefinedBy<EmptyOp>(rhs) || isDefinedBy<FullOp>(lhs))
    return lhs;
  if (isDefinedBy<EmptyOp>(lhs) || isDefinedBy<FullOp>(rhs))
    return rhs;
  return {};
}

OpFoldResult IntersectOp::fold(FoldAdaptor) {
  Value lhs = getLhs(), rhs = getRhs();
  if (lhs == rhs || isDefinedBy<FullOp>(rhs) || isDefinedBy<EmptyOp>(lhs))
    return lhs;
  if (isDefinedBy<FullOp>(lhs) || isDefinedBy<EmptyOp>(rhs))
    return rhs;
  return {};
}

OpFoldResult DifferenceOp::fold(FoldAdaptor) {
  if (isDefinedBy<EmptyOp>(getRhs()) || isDefinedBy<EmptyOp>(getLhs()))
    return getLhs();
  return {};
}

OpFoldResult ComplementOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<ComplementOp>())
    return inner.getInput();
  return {};
}

namespace {
/// union(x, ~x) -> full
struct UnionWithComplement : OpRewritePattern<UnionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnionOp op,
                                PatternRewriter &rewriter) const override {
    if (!areComplements(op.getLhs(), op.getRhs()))
      return failure();
    rewriter.replaceOpWithNewOp<FullOp>(op);
    return success();
  }
};

/// intersect(x, ~x) -> empty
struct IntersectWithComplement : OpRewritePattern<IntersectOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(IntersectOp op,
                                PatternRewriter &rewriter) const override {
    if (!areComplements(op.getLhs(), op.getRhs()))
      return failure();
    rewriter.replaceOpWithNewOp<EmptyOp>(op);
    return success();
  }
};

/// difference(x, x) -> empty; difference(x, full) -> empty;
/// difference(x, ~y) -> intersect(x, y)
struct SimplifyDifference : OpRewritePattern<DifferenceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DifferenceOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getLhs() == op.getRhs() || isDefinedBy<FullOp>(op.getRhs())) {
      rewriter.replaceOpWithNewOp<EmptyOp>(op);
      return success();
    }
    if (auto complement = op.getRhs().getDefiningOp<ComplementOp>()) {
      rewriter.replaceOpWithNewOp<IntersectOp>(op, op.getLhs(),
                                               complement.getInput());
      return success();
    }
    return failure();
  }
};

/// complement(full) -> empty; complement(empty) -> full
struct ComplementOfConstant : OpRewritePattern<ComplementOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ComplementOp op,
                                PatternRewriter &rewriter) const override {
    if (isDefinedBy<FullOp>(op.getInput())) {
      rewriter.replaceOpWithNewOp<EmptyOp>(op);
      return success();
    }
    if (isDefinedBy<EmptyOp>(op.getInput())) {
      rewriter.replaceOpWithNewOp<FullOp>(op);
      return success();
    }
    return failure();
  }
};

/// dilated(before, after, dilation = 1) -> local(before, after)
struct UndilatedWindow : OpRewritePattern<DilatedOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DilatedOp op,
                                PatternRewriter &rewriter) const override {
    if (!matchPattern(op.getDilation(), m_One()))
      return failure();
    rewriter.replaceOpWithNewOp<LocalOp>(op, op.getBefore(), op.getAfter(),
                                         /*granularity=*/Value());
    return success();
  }
};
} // namespace

void UnionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<UnionWithComplement>(context);
}

void IntersectOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<IntersectWithComplement>(context);
}

void DifferenceOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<SimplifyDifference>(context);
}

void ComplementOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<ComplementOfConstant>(context);
}

void DilatedOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<UndilatedWindow>(context);
}
