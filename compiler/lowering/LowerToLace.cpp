//===- LowerToLace.cpp - checked .lace patterns to the lace dialect -------===//
//
// Scalars that do not depend on (q, k, s) are emitted in the pattern body,
// where primitives can use them; a boolean over (q, k) becomes a
// `lace.predicate` whose region recomputes only what varies per element and
// captures the rest from the body. Calls to other patterns are inlined with
// their own parameter frame.
//
//===----------------------------------------------------------------------===//
#include "lace/Lowering/LowerToLace.h"

#include "lace/Dialect/LaceOps.h"
#include "lace/Frontend/Primitives.h"
#include "lace/Frontend/Semantics.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>

using namespace mlir;
namespace fe = lace::frontend;

void lace::loadLoweringDialects(MLIRContext &context) {
  context.loadDialect<LaceDialect, arith::ArithDialect, math::MathDialect>();
}

namespace {

constexpr std::uint8_t kPerElement = fe::DepQ | fe::DepK | fe::DepS;

bool variesPerElement(const fe::Expr &expr) {
  return (expr.deps & kPerElement) != 0;
}

/// A literal that Sema filled in for an omitted argument with this value.
bool isImplicitInt(const fe::Expr &expr, std::int64_t value) {
  return expr.implicit && expr.kind == fe::ExprKind::IntLiteral &&
         expr.intValue == value;
}

/// The values a pattern's names resolve to while its expressions are lowered:
/// one frame per pattern, and one more per inlined pattern call.
struct Frame {
  const fe::Pattern *pattern = nullptr;
  llvm::SmallVector<Value> params;
  /// Body-level values, by expression (lets are lowered once per frame).
  llvm::DenseMap<const fe::Expr *, Value> body;
};

/// The coordinates inside a `lace.predicate` or `lace.score` region.
struct RegionScope {
  /// Binds the arguments of a predicate region (b, h, q, k) or of a score
  /// region (s, b, h, q, k).
  explicit RegionScope(Block &block) {
    unsigned first = block.getNumArguments() == 5 ? 1 : 0;
    if (first)
      s = block.getArgument(0);
    b = block.getArgument(first);
    h = block.getArgument(first + 1);
    q = block.getArgument(first + 2);
    k = block.getArgument(first + 3);
  }
  Value s, b, h, q, k;
  llvm::DenseMap<const fe::Expr *, Value> values;
};

class PatternLowering {
public:
  PatternLowering(OpBuilder &builder, const fe::SourceManager &sources)
      : builder(builder), sources(sources) {}

  lace::PatternOp lower(const fe::Pattern &pattern,
                        std::span<const fe::ParamOverride> overrides);

private:
  Location loc(fe::SourceRange range);

  // Scalars.
  Value lowerScalar(const fe::Expr &expr, Frame &frame);
  Value emitScalar(const fe::Expr &expr, Frame &frame);
  Value lowerBuiltin(const fe::Expr &expr);
  Value lowerUnary(const fe::Expr &expr, Frame &frame);
  Value lowerBinary(const fe::Expr &expr, Frame &frame);
  Value lowerMath(const fe::Expr &expr, Frame &frame);
  Value lowerIn(Value element, const fe::Expr &set, Frame &frame, Location at);
  Value floorDivOrMod(Value lhs, Value rhs, bool modulo, Location at);
  Value intConstant(std::int64_t value, Location at);
  Value clampAtLeast(Value value, std::int64_t minimum, Location at);
  /// Operand `i` of `primitive` clamped to its minimum (Primitives.def).
  Value clampOperand(const fe::Expr &primitive, std::size_t i, Value value,
                     Location at) {
    return clampAtLeast(value, fe::primitiveOperands(primitive.kind)[i].minimum,
                        at);
  }

  // Masks.
  Value lowerMask(const fe::Expr &expr, Frame &frame);
  Value lowerLocal(const fe::Expr &expr, Frame &frame);
  Value lowerGlobal(const fe::Expr &expr, const fe::Expr &tokens, Frame &frame);
  Value lowerPatternCall(const fe::Expr &expr, Frame &frame);
  /// A binary mask op; operands are lowered left to right so that the IR
  /// follows the source order.
  template <typename OpTy>
  Value lowerMaskPair(const fe::Expr &expr, Frame &frame, Location at) {
    Value lhs = lowerMask(expr.operand(0), frame);
    Value rhs = lowerMask(expr.operand(1), frame);
    return builder.create<OpTy>(at, lhs, rhs);
  }
  Value predicate(const fe::Expr &condition, Frame &frame, Location at);
  Value selectMask(const fe::Expr &condition, Value whenTrue, Value whenFalse,
                   Frame &frame, Location at);
  Value lowerScore(const fe::Expr &score, Frame &frame);

  /// Emits, at body level, every maximal scalar subtree of `expr` that does
  /// not vary per element, so that a region built next can capture them.
  void hoist(const fe::Expr &expr, Frame &frame);
  /// Runs `emit` with `scope` as the current region, inside `block`.
  void inRegion(Block &block, RegionScope &scope,
                const std::function<void()> &emit);

  const fe::Expr &resolveLet(const fe::Expr &expr, Frame &frame);
  /// The op of the pattern body whose region is being built.
  Operation *insertionOpInBody() {
    return patternBody->findAncestorOpInBlock(
        *builder.getInsertionBlock()->getParentOp());
  }

  OpBuilder &builder;
  const fe::SourceManager &sources;
  Block *patternBody = nullptr;
  RegionScope *region = nullptr;
};

Location PatternLowering::loc(fe::SourceRange range) {
  if (!range.valid())
    return builder.getUnknownLoc();
  fe::LineColumn at = sources.lineColumn(range.file, range.begin);
  return FileLineColLoc::get(builder.getContext(),
                             std::string(sources.path(range.file)), at.line,
                             at.column);
}

Value PatternLowering::intConstant(std::int64_t value, Location at) {
  return builder.create<arith::ConstantIntOp>(at, value, 64);
}

/// Dynamic primitive arguments are clamped as the language defines (an extent
/// below 0 counts as 0, a factor below 1 as 1), so the dialect's operands
/// always satisfy its structural rules.
Value PatternLowering::clampAtLeast(Value value, std::int64_t minimum,
                                    Location at) {
  APInt constant;
  if (matchPattern(value, m_ConstantInt(&constant)) &&
      constant.getSExtValue() >= minimum)
    return value;
  return builder.create<arith::MaxSIOp>(at, value, intConstant(minimum, at));
}

const fe::Expr &PatternLowering::resolveLet(const fe::Expr &expr,
                                            Frame &frame) {
  const fe::Expr *current = &expr;
  while (current->kind == fe::ExprKind::LetRef)
    current = frame.pattern->lets[current->index].value.get();
  return *current;
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

Value PatternLowering::lowerScalar(const fe::Expr &expr, Frame &frame) {
  bool atBodyLevel = !region || !variesPerElement(expr);
  auto &memo = atBodyLevel ? frame.body : region->values;
  if (Value known = memo.lookup(&expr))
    return known;
  Value value;
  if (atBodyLevel && region) {
    // hoist() normally emitted it already; if not, emit it in the body just
    // before the op whose region is being built, where it dominates the use.
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(insertionOpInBody());
    RegionScope *saved = region;
    region = nullptr;
    value = emitScalar(expr, frame);
    region = saved;
  } else {
    value = emitScalar(expr, frame);
  }
  memo[&expr] = value;
  return value;
}

Value PatternLowering::emitScalar(const fe::Expr &expr, Frame &frame) {
  Location at = loc(expr.range);
  switch (expr.kind) {
  case fe::ExprKind::IntLiteral:
    return intConstant(expr.intValue, at);
  case fe::ExprKind::FloatLiteral:
    return builder.create<arith::ConstantFloatOp>(
        at, APFloat(expr.floatValue), cast<FloatType>(builder.getF32Type()));
  case fe::ExprKind::BoolLiteral:
    return builder.create<arith::ConstantIntOp>(at, expr.boolValue, 1);
  case fe::ExprKind::ParamRef:
    return frame.params[expr.index];
  case fe::ExprKind::LetRef:
    return lowerScalar(*frame.pattern->lets[expr.index].value, frame);
  case fe::ExprKind::BuiltinRef:
    return lowerBuiltin(expr);
  case fe::ExprKind::Unary:
    return lowerUnary(expr, frame);
  case fe::ExprKind::Binary:
    return lowerBinary(expr, frame);
  case fe::ExprKind::Conditional: {
    Value condition = lowerScalar(expr.operand(0), frame);
    Value whenTrue = lowerScalar(expr.operand(1), frame);
    Value whenFalse = lowerScalar(expr.operand(2), frame);
    return builder.create<arith::SelectOp>(at, condition, whenTrue, whenFalse);
  }
  case fe::ExprKind::In:
    return lowerIn(lowerScalar(expr.operand(0), frame), expr.operand(1), frame,
                   at);
  case fe::ExprKind::MathCall:
    return lowerMath(expr, frame);
  default:
    llvm_unreachable("not a scalar expression after Sema");
  }
}

Value PatternLowering::lowerBuiltin(const fe::Expr &expr) {
  Location at = loc(expr.range);
  auto var = [&](lace::VarKind kind) -> Value {
    return builder.create<lace::VarOp>(at, kind);
  };
  switch (expr.builtin) {
  case fe::Builtin::B:
    return region ? region->b : var(lace::VarKind::Batch);
  case fe::Builtin::H:
    return region ? region->h : var(lace::VarKind::Head);
  case fe::Builtin::Q:
    return region->q;
  case fe::Builtin::K:
    return region->k;
  case fe::Builtin::S:
    return region->s;
  case fe::Builtin::Batch:
    return var(lace::VarKind::BatchSize);
  case fe::Builtin::Heads:
    return var(lace::VarKind::Heads);
  case fe::Builtin::SeqQ:
    return var(lace::VarKind::SeqQ);
  case fe::Builtin::SeqK:
    return var(lace::VarKind::SeqK);
  }
  llvm_unreachable("unknown builtin");
}

Value PatternLowering::lowerUnary(const fe::Expr &expr, Frame &frame) {
  Location at = loc(expr.range);
  Value operand = lowerScalar(expr.operand(0), frame);
  switch (expr.op) {
  case fe::Op::NegInt:
    return builder.create<arith::SubIOp>(at, intConstant(0, at), operand);
  case fe::Op::NegFloat:
    return builder.create<arith::NegFOp>(at, operand);
  case fe::Op::NotBool:
    return builder.create<arith::XOrIOp>(
        at, operand, builder.create<arith::ConstantIntOp>(at, 1, 1));
  default:
    llvm_unreachable("not a unary operator");
  }
}

/// The language's division floors and defines x / 0 = 0 and x % 0 = x, so
/// that evaluation never traps; a known non-zero divisor needs no guard.
Value PatternLowering::floorDivOrMod(Value lhs, Value rhs, bool modulo,
                                     Location at) {
  APInt constant;
  bool knownNonZero =
      matchPattern(rhs, m_ConstantInt(&constant)) && !constant.isZero();
  Value zero = intConstant(0, at);
  Value isZero;
  Value divisor = rhs;
  if (!knownNonZero) {
    // A divisor from the body is guarded once in the body, not per element.
    OpBuilder::InsertionGuard guard(builder);
    if (region && rhs.getParentBlock() == patternBody)
      builder.setInsertionPoint(insertionOpInBody());
    Value guardZero = intConstant(0, at);
    isZero = builder.create<arith::CmpIOp>(at, arith::CmpIPredicate::eq, rhs,
                                           guardZero);
    divisor =
        builder.create<arith::SelectOp>(at, isZero, intConstant(1, at), rhs);
  }
  Value result;
  if (!modulo) {
    result = builder.create<arith::FloorDivSIOp>(at, lhs, divisor);
  } else {
    // remsi truncates; move a remainder whose sign differs from the
    // divisor's by one divisor.
    Value rem = builder.create<arith::RemSIOp>(at, lhs, divisor);
    Value nonZero =
        builder.create<arith::CmpIOp>(at, arith::CmpIPredicate::ne, rem, zero);
    Value remNegative =
        builder.create<arith::CmpIOp>(at, arith::CmpIPredicate::slt, rem, zero);
    Value divisorNegative = builder.create<arith::CmpIOp>(
        at, arith::CmpIPredicate::slt, divisor, zero);
    Value signsDiffer =
        builder.create<arith::XOrIOp>(at, remNegative, divisorNegative);
    Value adjust = builder.create<arith::AndIOp>(at, nonZero, signsDiffer);
    Value adjusted = builder.create<arith::AddIOp>(at, rem, divisor);
    result = builder.create<arith::SelectOp>(at, adjust, adjusted, rem);
  }
  if (!knownNonZero)
    result = builder.create<arith::SelectOp>(at, isZero, modulo ? lhs : zero,
                                             result);
  return result;
}

Value PatternLowering::lowerBinary(const fe::Expr &expr, Frame &frame) {
  Location at = loc(expr.range);
  Value lhs = lowerScalar(expr.operand(0), frame);
  Value rhs = lowerScalar(expr.operand(1), frame);
  using P = arith::CmpIPredicate;
  using F = arith::CmpFPredicate;
  auto cmpi = [&](P predicate) -> Value {
    return builder.create<arith::CmpIOp>(at, predicate, lhs, rhs);
  };
  auto cmpf = [&](F predicate) -> Value {
    return builder.create<arith::CmpFOp>(at, predicate, lhs, rhs);
  };
  switch (expr.op) {
  case fe::Op::AddInt:
    return builder.create<arith::AddIOp>(at, lhs, rhs);
  case fe::Op::SubInt:
    return builder.create<arith::SubIOp>(at, lhs, rhs);
  case fe::Op::MulInt:
    return builder.create<arith::MulIOp>(at, lhs, rhs);
  case fe::Op::DivInt:
    return floorDivOrMod(lhs, rhs, /*modulo=*/false, at);
  case fe::Op::ModInt:
    return floorDivOrMod(lhs, rhs, /*modulo=*/true, at);
  case fe::Op::AddFloat:
    return builder.create<arith::AddFOp>(at, lhs, rhs);
  case fe::Op::SubFloat:
    return builder.create<arith::SubFOp>(at, lhs, rhs);
  case fe::Op::MulFloat:
    return builder.create<arith::MulFOp>(at, lhs, rhs);
  case fe::Op::DivFloat:
    return builder.create<arith::DivFOp>(at, lhs, rhs);
  case fe::Op::EqInt:
  case fe::Op::EqBool:
    return cmpi(P::eq);
  case fe::Op::NeInt:
  case fe::Op::NeBool:
    return cmpi(P::ne);
  case fe::Op::LtInt:
    return cmpi(P::slt);
  case fe::Op::LeInt:
    return cmpi(P::sle);
  case fe::Op::GtInt:
    return cmpi(P::sgt);
  case fe::Op::GeInt:
    return cmpi(P::sge);
  case fe::Op::EqFloat:
    return cmpf(F::OEQ);
  case fe::Op::NeFloat:
    return cmpf(F::UNE);
  case fe::Op::LtFloat:
    return cmpf(F::OLT);
  case fe::Op::LeFloat:
    return cmpf(F::OLE);
  case fe::Op::GtFloat:
    return cmpf(F::OGT);
  case fe::Op::GeFloat:
    return cmpf(F::OGE);
  case fe::Op::AndBool:
    return builder.create<arith::AndIOp>(at, lhs, rhs);
  case fe::Op::OrBool:
    return builder.create<arith::OrIOp>(at, lhs, rhs);
  default:
    llvm_unreachable("not a binary operator");
  }
}

Value PatternLowering::lowerMath(const fe::Expr &expr, Frame &frame) {
  Location at = loc(expr.range);
  llvm::SmallVector<Value> args;
  for (const fe::ExprPtr &operand : expr.operands)
    args.push_back(lowerScalar(*operand, frame));
  bool isFloat = expr.type == fe::Type::Float;
  switch (expr.math) {
  case fe::MathFunction::Min:
    return isFloat ? builder.create<arith::MinimumFOp>(at, args[0], args[1])
                         .getResult()
                   : builder.create<arith::MinSIOp>(at, args[0], args[1])
                         .getResult();
  case fe::MathFunction::Max:
    return isFloat ? builder.create<arith::MaximumFOp>(at, args[0], args[1])
                         .getResult()
                   : builder.create<arith::MaxSIOp>(at, args[0], args[1])
                         .getResult();
  case fe::MathFunction::Abs:
    return isFloat ? builder.create<math::AbsFOp>(at, args[0]).getResult()
                   : builder.create<math::AbsIOp>(at, args[0]).getResult();
  case fe::MathFunction::ToFloat:
    return builder.create<arith::SIToFPOp>(at, builder.getF32Type(), args[0]);
  case fe::MathFunction::ToInt:
    return builder.create<arith::FPToSIOp>(at, builder.getI64Type(), args[0]);
  case fe::MathFunction::Tanh:
    return builder.create<math::TanhOp>(at, args[0]);
  case fe::MathFunction::Exp:
    return builder.create<math::ExpOp>(at, args[0]);
  case fe::MathFunction::Log:
    return builder.create<math::LogOp>(at, args[0]);
  case fe::MathFunction::Sqrt:
    return builder.create<math::SqrtOp>(at, args[0]);
  case fe::MathFunction::AlibiSlope: {
    // 2^(-8 (h + 1) / n)
    Type f32 = builder.getF32Type();
    Value next = builder.create<arith::AddIOp>(at, args[0], intConstant(1, at));
    Value nextFloat = builder.create<arith::SIToFPOp>(at, f32, next);
    Value minusEight = builder.create<arith::ConstantFloatOp>(
        at, APFloat(-8.0f), cast<FloatType>(f32));
    Value numerator = builder.create<arith::MulFOp>(at, nextFloat, minusEight);
    Value exponent = builder.create<arith::DivFOp>(
        at, numerator, builder.create<arith::SIToFPOp>(at, f32, args[1]));
    return builder.create<math::Exp2Op>(at, exponent);
  }
  }
  llvm_unreachable("unknown math function");
}

/// `element in set` for a range, a set literal (of ints and sets), or a
/// single int.
Value PatternLowering::lowerIn(Value element, const fe::Expr &set, Frame &frame,
                               Location at) {
  const fe::Expr &resolved = resolveLet(set, frame);
  switch (resolved.kind) {
  case fe::ExprKind::Range: {
    Value lo = lowerScalar(resolved.operand(0), frame);
    Value hi = lowerScalar(resolved.operand(1), frame);
    Value aboveLo = builder.create<arith::CmpIOp>(at, arith::CmpIPredicate::sge,
                                                  element, lo);
    Value belowHi = builder.create<arith::CmpIOp>(at, arith::CmpIPredicate::slt,
                                                  element, hi);
    return builder.create<arith::AndIOp>(at, aboveLo, belowHi);
  }
  case fe::ExprKind::Set: {
    Value any = builder.create<arith::ConstantIntOp>(at, 0, 1);
    for (const fe::ExprPtr &member : resolved.operands)
      any = builder.create<arith::OrIOp>(at, any,
                                         lowerIn(element, *member, frame, at));
    return any;
  }
  default:
    if (resolved.type == fe::Type::Int)
      return builder.create<arith::CmpIOp>(
          at, arith::CmpIPredicate::eq, element, lowerScalar(resolved, frame));
    if (resolved.kind == fe::ExprKind::Conditional) {
      Value condition = lowerScalar(resolved.operand(0), frame);
      Value inThen = lowerIn(element, resolved.operand(1), frame, at);
      Value inElse = lowerIn(element, resolved.operand(2), frame, at);
      return builder.create<arith::SelectOp>(at, condition, inThen, inElse);
    }
    llvm_unreachable("not an integer set after Sema");
  }
}

//===----------------------------------------------------------------------===//
// Regions
//===----------------------------------------------------------------------===//

void PatternLowering::hoist(const fe::Expr &expr, Frame &frame) {
  if (fe::isScalar(expr.type) && !variesPerElement(expr)) {
    RegionScope *saved = region;
    region = nullptr;
    lowerScalar(expr, frame);
    region = saved;
    return;
  }
  if (expr.kind == fe::ExprKind::LetRef) {
    hoist(*frame.pattern->lets[expr.index].value, frame);
    return;
  }
  for (const fe::ExprPtr &operand : expr.operands)
    if (operand)
      hoist(*operand, frame);
}

void PatternLowering::inRegion(Block &block, RegionScope &scope,
                               const std::function<void()> &emit) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&block);
  RegionScope *saved = region;
  region = &scope;
  emit();
  region = saved;
}

Value PatternLowering::predicate(const fe::Expr &condition, Frame &frame,
                                 Location at) {
  hoist(condition, frame);
  auto op = builder.create<lace::PredicateOp>(at);
  Block &block = op.getBody().front();
  RegionScope scope(block);
  inRegion(block, scope, [&] {
    Value live = lowerScalar(condition, frame);
    builder.create<lace::YieldOp>(at, ValueRange{live});
  });
  return op;
}

Value PatternLowering::lowerScore(const fe::Expr &score, Frame &frame) {
  Location at = loc(score.range);
  hoist(score, frame);
  auto op = builder.create<lace::ScoreOp>(at);
  Block &block = op.getBody().front();
  RegionScope scope(block);
  inRegion(block, scope, [&] {
    Value result = lowerScalar(score, frame);
    builder.create<lace::YieldOp>(at, ValueRange{result});
  });
  return op;
}

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

/// `condition ? whenTrue : whenFalse` on masks:
/// (whenTrue & cond) | (whenFalse & ~cond), with cond as a predicate.
Value PatternLowering::selectMask(const fe::Expr &condition, Value whenTrue,
                                  Value whenFalse, Frame &frame, Location at) {
  Value live = predicate(condition, frame, at);
  Value dead = builder.create<lace::ComplementOp>(at, live);
  Value keepTrue = builder.create<lace::IntersectOp>(at, whenTrue, live);
  Value keepFalse = builder.create<lace::IntersectOp>(at, whenFalse, dead);
  return builder.create<lace::UnionOp>(at, keepTrue, keepFalse);
}

Value PatternLowering::lowerLocal(const fe::Expr &expr, Frame &frame) {
  Location at = loc(expr.range);
  Value before = clampOperand(expr, 0, lowerScalar(expr.operand(0), frame), at);
  Value after = clampOperand(expr, 1, lowerScalar(expr.operand(1), frame), at);
  const fe::Expr &dilationExpr = expr.operand(2);
  bool hasGranularity =
      expr.kind == fe::ExprKind::Local && !isImplicitInt(expr.operand(3), 1);
  bool hasDilation = !isImplicitInt(dilationExpr, 1);
  Value granularity;
  if (hasGranularity)
    granularity =
        clampOperand(expr, 3, lowerScalar(expr.operand(3), frame), at);
  if (!hasDilation)
    return builder.create<lace::LocalOp>(at, before, after, granularity);
  Value dilation = clampOperand(expr, 2, lowerScalar(dilationExpr, frame), at);
  Value dilated = builder.create<lace::DilatedOp>(at, before, after, dilation);
  if (!hasGranularity)
    return dilated;
  // Both given and not known to be 1: the dilation takes precedence when it
  // is not 1 (docs/language.md); `lace-specialize` folds the choice.
  Value blocked = builder.create<lace::LocalOp>(at, before, after, granularity);
  auto op = builder.create<lace::PredicateOp>(at);
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(&op.getBody().front());
    Value isDilated = builder.create<arith::CmpIOp>(
        at, arith::CmpIPredicate::ne, dilation, intConstant(1, at));
    builder.create<lace::YieldOp>(at, ValueRange{isDilated});
  }
  Value notDilated = builder.create<lace::ComplementOp>(at, op);
  Value keepDilated = builder.create<lace::IntersectOp>(at, dilated, op);
  Value keepBlocked =
      builder.create<lace::IntersectOp>(at, blocked, notDilated);
  return builder.create<lace::UnionOp>(at, keepDilated, keepBlocked);
}

/// Global tokens stay structured for ranges, ints and set literals of them;
/// any other set becomes the predicate `q in S || k in S`.
Value PatternLowering::lowerGlobal(const fe::Expr &expr, const fe::Expr &tokens,
                                   Frame &frame) {
  Location at = loc(expr.range);
  const fe::Expr &set = resolveLet(tokens, frame);
  if (!variesPerElement(set)) {
    if (set.kind == fe::ExprKind::Range) {
      Value lo = clampOperand(expr, 0, lowerScalar(set.operand(0), frame), at);
      Value hi = builder.create<arith::MaxSIOp>(
          at, lo, lowerScalar(set.operand(1), frame));
      return builder.create<lace::GlobalOp>(at, ValueRange{}, lo, hi);
    }
    if (set.type == fe::Type::Int) {
      Value token = lowerScalar(set, frame);
      return builder.create<lace::GlobalOp>(at, ValueRange{token}, Value(),
                                            Value());
    }
    if (set.kind == fe::ExprKind::Set) {
      llvm::SmallVector<Value> singles;
      Value result;
      for (const fe::ExprPtr &member : set.operands) {
        const fe::Expr &resolved = resolveLet(*member, frame);
        if (resolved.type == fe::Type::Int) {
          singles.push_back(lowerScalar(resolved, frame));
          continue;
        }
        Value part = lowerGlobal(expr, resolved, frame);
        result =
            result ? builder.create<lace::UnionOp>(at, result, part).getResult()
                   : part;
      }
      if (!singles.empty()) {
        Value part =
            builder.create<lace::GlobalOp>(at, singles, Value(), Value());
        result =
            result ? builder.create<lace::UnionOp>(at, result, part).getResult()
                   : part;
      }
      return result ? result : builder.create<lace::EmptyOp>(at).getResult();
    }
  }
  // General sets: evaluate membership per element.
  hoist(set, frame);
  auto op = builder.create<lace::PredicateOp>(at);
  Block &block = op.getBody().front();
  RegionScope scope(block);
  inRegion(block, scope, [&] {
    Value inQ = lowerIn(scope.q, set, frame, at);
    Value inK = lowerIn(scope.k, set, frame, at);
    builder.create<lace::YieldOp>(
        at, ValueRange{builder.create<arith::OrIOp>(at, inQ, inK)});
  });
  return op;
}

Value PatternLowering::lowerPatternCall(const fe::Expr &expr, Frame &frame) {
  const fe::Pattern &callee = *expr.callee;
  Frame calleeFrame;
  calleeFrame.pattern = &callee;
  for (std::size_t i = 0; i < callee.params.size(); ++i) {
    if (expr.operands[i]) {
      calleeFrame.params.push_back(lowerScalar(*expr.operands[i], frame));
      continue;
    }
    // The callee's default, which may use the callee's earlier parameters.
    calleeFrame.params.push_back(
        lowerScalar(*callee.params[i].defaultValue, calleeFrame));
  }
  return lowerMask(*callee.mask, calleeFrame);
}

Value PatternLowering::lowerMask(const fe::Expr &expr, Frame &frame) {
  Location at = loc(expr.range);
  auto operand = [&](std::size_t i) {
    return lowerScalar(expr.operand(i), frame);
  };
  switch (expr.kind) {
  case fe::ExprKind::Full:
    return builder.create<lace::FullOp>(at);
  case fe::ExprKind::Empty:
    return builder.create<lace::EmptyOp>(at);
  case fe::ExprKind::Causal:
    return builder.create<lace::CausalOp>(at);
  case fe::ExprKind::Local:
  case fe::ExprKind::Dilated:
    return lowerLocal(expr, frame);
  case fe::ExprKind::Strided:
    return builder.create<lace::StridedOp>(
        at, clampOperand(expr, 0, operand(0), at));
  case fe::ExprKind::Fixed: {
    Value stride = clampOperand(expr, 0, operand(0), at);
    Value summary = builder.create<arith::MinSIOp>(
        at, clampOperand(expr, 1, operand(1), at), stride);
    return builder.create<lace::FixedOp>(at, stride, summary);
  }
  case fe::ExprKind::Global:
    return lowerGlobal(expr, expr.operand(0), frame);
  case fe::ExprKind::Random: {
    Value perRow = clampOperand(expr, 0, operand(0), at);
    Value granularity = clampOperand(expr, 1, operand(1), at);
    Value seed = clampOperand(expr, 2, operand(2), at);
    return builder.create<lace::RandomOp>(at, perRow, granularity, seed);
  }
  case fe::ExprKind::Prefix:
    return builder.create<lace::PrefixOp>(
        at, clampOperand(expr, 0, operand(0), at));
  case fe::ExprKind::Segment:
    return builder.create<lace::SegmentOp>(at);
  case fe::ExprKind::Predicate:
    return predicate(expr.operand(0), frame, at);
  case fe::ExprKind::PatternCall:
    return lowerPatternCall(expr, frame);
  case fe::ExprKind::Union:
    return lowerMaskPair<lace::UnionOp>(expr, frame, at);
  case fe::ExprKind::Intersect:
    return lowerMaskPair<lace::IntersectOp>(expr, frame, at);
  case fe::ExprKind::Difference:
    return lowerMaskPair<lace::DifferenceOp>(expr, frame, at);
  case fe::ExprKind::Complement:
    return builder.create<lace::ComplementOp>(
        at, lowerMask(expr.operand(0), frame));
  case fe::ExprKind::Conditional: {
    Value whenTrue = lowerMask(expr.operand(1), frame);
    Value whenFalse = lowerMask(expr.operand(2), frame);
    return selectMask(expr.operand(0), whenTrue, whenFalse, frame, at);
  }
  case fe::ExprKind::LetRef:
    return lowerMask(*frame.pattern->lets[expr.index].value, frame);
  default:
    llvm_unreachable("not a mask expression after Sema");
  }
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

mlir::Type paramType(OpBuilder &builder, fe::ParamType type) {
  switch (type) {
  case fe::ParamType::Int:
    return builder.getI64Type();
  case fe::ParamType::Bool:
    return builder.getI1Type();
  case fe::ParamType::Float:
    return builder.getF32Type();
  }
  llvm_unreachable("unknown parameter type");
}

bool usesParamIn(const fe::Expr &expr, const std::vector<bool> &params) {
  if (expr.kind == fe::ExprKind::ParamRef && params[expr.index])
    return true;
  for (const fe::ExprPtr &operand : expr.operands)
    if (operand && usesParamIn(*operand, params))
      return true;
  return false;
}

/// The default of each parameter with `overrides` applied, or UnitAttr where
/// no value is known without one.
llvm::SmallVector<Attribute>
paramDefaults(OpBuilder &builder, const fe::SourceManager &sources,
              const fe::Pattern &pattern,
              std::span<const fe::ParamOverride> overrides) {
  std::vector<fe::ParamOverride> applicable;
  std::vector<bool> unknown(pattern.params.size(), false);
  for (std::size_t i = 0; i < pattern.params.size(); ++i) {
    const fe::Param &param = pattern.params[i];
    auto given = std::find_if(overrides.begin(), overrides.end(),
                              [&](auto &o) { return o.name == param.name; });
    if (given != overrides.end()) {
      applicable.push_back(*given);
      continue;
    }
    unknown[i] =
        !param.defaultValue || usesParamIn(*param.defaultValue, unknown);
    if (unknown[i]) // a placeholder keeps the others computable
      applicable.push_back(
          {param.name, param.type == fe::ParamType::Bool ? "false" : "0"});
  }
  fe::DiagnosticEngine silent(sources);
  std::optional<std::vector<fe::Value>> values =
      fe::bindParams(pattern, applicable, silent);
  llvm::SmallVector<Attribute> defaults;
  for (std::size_t i = 0; i < pattern.params.size(); ++i) {
    if (!values || unknown[i]) {
      defaults.push_back(builder.getUnitAttr());
      continue;
    }
    const fe::Value &value = (*values)[i];
    switch (pattern.params[i].type) {
    case fe::ParamType::Int:
      defaults.push_back(builder.getI64IntegerAttr(value.i));
      break;
    case fe::ParamType::Bool:
      defaults.push_back(builder.getBoolAttr(value.b));
      break;
    case fe::ParamType::Float:
      defaults.push_back(builder.getF32FloatAttr(value.f));
      break;
    }
  }
  return defaults;
}

lace::PatternOp
PatternLowering::lower(const fe::Pattern &pattern,
                       std::span<const fe::ParamOverride> overrides) {
  llvm::SmallVector<llvm::StringRef> names;
  llvm::SmallVector<mlir::Type> types;
  for (const fe::Param &param : pattern.params) {
    names.push_back(param.name);
    types.push_back(paramType(builder, param.type));
  }
  auto op = builder.create<lace::PatternOp>(
      loc(pattern.nameRange), pattern.name, names, types,
      paramDefaults(builder, sources, pattern, overrides));
  for (auto [arg, param] :
       llvm::zip(op.getBody().getArguments(), pattern.params))
    arg.setLoc(loc(param.nameRange));

  OpBuilder::InsertionGuard guard(builder);
  patternBody = &op.getBody().front();
  builder.setInsertionPointToEnd(patternBody);
  Frame frame;
  frame.pattern = &pattern;
  frame.params.assign(patternBody->getArguments().begin(),
                      patternBody->getArguments().end());
  llvm::SmallVector<Value> yielded{lowerMask(*pattern.mask, frame)};
  if (pattern.score)
    yielded.push_back(lowerScore(*pattern.score, frame));
  builder.create<lace::YieldOp>(loc(pattern.range), yielded);
  return op;
}

} // namespace

OwningOpRef<ModuleOp>
lace::lowerToLace(MLIRContext &context, const fe::SourceManager &sources,
                  std::span<const fe::Pattern *const> patterns,
                  std::span<const fe::ParamOverride> overrides) {
  loadLoweringDialects(context);
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  for (const fe::Pattern *pattern : patterns) {
    PatternLowering lowering(builder, sources);
    lowering.lower(*pattern, overrides);
  }
  // Lowering emits a constant at each use; CSE shares them without changing
  // the structure the user wrote (canonicalisation is left to the pipeline).
  PassManager cleanup(&context);
  cleanup.addPass(createCSEPass());
  if (failed(cleanup.run(*module)))
    return nullptr;
  return module;
}
