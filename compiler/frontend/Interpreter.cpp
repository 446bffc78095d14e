//===- Interpreter.cpp - Evaluating an instance, element by element -------===//
//
// The executable definition of a pattern: mask, score and the score's
// derivative at one element, over the Instance that Instantiate.cpp built.
//
//===----------------------------------------------------------------------===//
#include "InstanceState.h"
#include "ScalarOps.h"
#include "lace/Frontend/Primitives.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

namespace lace::frontend {

namespace {

/// Operand `i` of primitive `e` clamped as the language defines
/// (Primitives.def).
std::int64_t clampedOperand(const Expr &e, std::size_t i, std::int64_t v) {
  return primitiveOperands(e.kind)[i].clamp(v);
}

} // namespace

std::optional<Value> Instance::constantValue(const Expr &e) const {
  if (e.id < 0 || static_cast<std::size_t>(e.id) >= isConst_.size() ||
      !isConst_[static_cast<std::size_t>(e.id)])
    return std::nullopt;
  return constValue_[static_cast<std::size_t>(e.id)];
}

bool Instance::mask(std::int64_t b, std::int64_t h, std::int64_t q,
                    std::int64_t k) const {
  Element x{b, h, q, k, 0.0f, ++shared_->generation};
  return memoMask(x);
}

float Instance::score(float s, std::int64_t b, std::int64_t h, std::int64_t q,
                      std::int64_t k) const {
  if (!pattern_->score)
    return s;
  Element x{b, h, q, k, s, ++shared_->generation};
  return eval(*pattern_->score, x).f;
}

double Instance::scoreDerivative(float s, std::int64_t b, std::int64_t h,
                                 std::int64_t q, std::int64_t k) const {
  if (!pattern_->score)
    return 1.0;
  Element x{b, h, q, k, s, ++shared_->generation};
  return derivative(*pattern_->score, x);
}

/// d e / d s for a Float expression, by the chain rule over the same AST
/// eval() runs (the values of sub-expressions come from eval). Anything
/// not Float, and anything folded to a constant, has derivative 0.
double Instance::derivative(const Expr &e, const Element &x) const {
  if (e.type != Type::Float || isConst_[static_cast<std::size_t>(e.id)])
    return 0.0;
  auto d = [&](int i) { return derivative(e.operand(i), x); };
  auto value = [&](int i) -> double { return eval(e.operand(i), x).f; };
  switch (e.kind) {
  case ExprKind::BuiltinRef:
    return e.builtin == Builtin::S ? 1.0 : 0.0;
  case ExprKind::LetRef:
    return derivative(*pattern_->lets[static_cast<std::size_t>(e.index)].value,
                      x);
  case ExprKind::Unary:
    return e.op == Op::NegFloat ? -d(0) : 0.0;
  case ExprKind::Binary:
    switch (e.op) {
    case Op::AddFloat:
      return d(0) + d(1);
    case Op::SubFloat:
      return d(0) - d(1);
    case Op::MulFloat:
      return d(0) * value(1) + value(0) * d(1);
    case Op::DivFloat: {
      const double b = value(1);
      return (d(0) * b - value(0) * d(1)) / (b * b);
    }
    default:
      return 0.0;
    }
  case ExprKind::Conditional:
    return d(eval(e.operand(0), x).b ? 1 : 2);
  case ExprKind::MathCall:
    switch (e.math) {
    case MathFunction::Min:
      return value(0) <= value(1) ? d(0) : d(1);
    case MathFunction::Max:
      return value(0) >= value(1) ? d(0) : d(1);
    case MathFunction::Abs:
      return value(0) < 0 ? -d(0) : d(0);
    case MathFunction::Tanh: {
      const double t = std::tanh(value(0));
      return d(0) * (1.0 - t * t);
    }
    case MathFunction::Exp:
      return d(0) * std::exp(value(0));
    case MathFunction::Log:
      return d(0) / value(0);
    case MathFunction::Sqrt:
      return d(0) / (2.0 * std::sqrt(value(0)));
    default: // to_float, alibi_slope: not functions of s
      return 0.0;
    }
  default:
    return 0.0;
  }
}

bool Instance::memoMask(const Element &x) const {
  if (memo_->maskGen == x.gen)
    return memo_->maskValue;
  bool live = evalMask(*pattern_->mask, x);
  memo_->maskGen = x.gen;
  memo_->maskValue = live;
  return live;
}

Value Instance::letValue(std::size_t i, const Element &x) const {
  if (letConst_[i])
    return *letConst_[i];
  if (memo_->letGen[i] == x.gen)
    return memo_->letValue[i];
  const Expr &value = *pattern_->lets[i].value;
  Value v = value.type == Type::Mask ? Value::ofBool(evalMask(value, x))
                                     : eval(value, x);
  memo_->letGen[i] = x.gen;
  memo_->letValue[i] = v;
  return v;
}

const Instance::SetIntervals &Instance::letSet(std::size_t i,
                                               const Element &x) const {
  const Expr &value = *pattern_->lets[i].value;
  if (constSet_[static_cast<std::size_t>(value.id)] >= 0)
    return *sets_[static_cast<std::size_t>(
        constSet_[static_cast<std::size_t>(value.id)])];
  SetIntervals &memo = memo_->letSet[i];
  if (memo_->letSetGen[i] == x.gen)
    return memo;
  SetIntervals fresh;
  std::function<void(const Expr &)> add = [&](const Expr &e) {
    if (constSet_[static_cast<std::size_t>(e.id)] >= 0) {
      const auto &set = *sets_[static_cast<std::size_t>(
          constSet_[static_cast<std::size_t>(e.id)])];
      fresh.intervals.insert(fresh.intervals.end(), set.intervals.begin(),
                             set.intervals.end());
      return;
    }
    switch (e.kind) {
    case ExprKind::Range: {
      std::int64_t lo = eval(e.operand(0), x).i, hi = eval(e.operand(1), x).i;
      if (lo < hi)
        fresh.add(lo, hi - 1);
      return;
    }
    case ExprKind::Set:
      for (const ExprPtr &element : e.operands) {
        if (element->type == Type::Int) {
          std::int64_t v = eval(*element, x).i;
          fresh.add(v, v);
        } else {
          add(*element);
        }
      }
      return;
    case ExprKind::Conditional:
      add(e.operand(eval(e.operand(0), x).b ? 1 : 2));
      return;
    case ExprKind::LetRef: {
      const SetIntervals &other = letSet(static_cast<std::size_t>(e.index), x);
      fresh.intervals.insert(fresh.intervals.end(), other.intervals.begin(),
                             other.intervals.end());
      return;
    }
    default:
      return;
    }
  };
  add(value);
  fresh.normalize();
  memo = std::move(fresh);
  memo_->letSetGen[i] = x.gen;
  return memo;
}

bool Instance::contains(const Expr &set, std::int64_t v,
                        const Element &x) const {
  std::int32_t constant = constSet_[static_cast<std::size_t>(set.id)];
  if (constant >= 0)
    return sets_[static_cast<std::size_t>(constant)]->contains(v);
  switch (set.kind) {
  case ExprKind::Range:
    return eval(set.operand(0), x).i <= v && v < eval(set.operand(1), x).i;
  case ExprKind::Set:
    for (const ExprPtr &element : set.operands) {
      if (element->type == Type::Int ? eval(*element, x).i == v
                                     : contains(*element, v, x))
        return true;
    }
    return false;
  case ExprKind::Conditional:
    return contains(set.operand(eval(set.operand(0), x).b ? 1 : 2), v, x);
  case ExprKind::LetRef:
    return letSet(static_cast<std::size_t>(set.index), x).contains(v);
  default:
    return false;
  }
}

Value Instance::eval(const Expr &e, const Element &x) const {
  std::size_t id = static_cast<std::size_t>(e.id);
  if (isConst_[id])
    return constValue_[id];
  switch (e.kind) {
  case ExprKind::IntLiteral:
    return Value::ofInt(e.intValue);
  case ExprKind::FloatLiteral:
    return Value::ofFloat(e.floatValue);
  case ExprKind::BoolLiteral:
    return Value::ofBool(e.boolValue);
  case ExprKind::ParamRef:
    return params_[static_cast<std::size_t>(e.index)];
  case ExprKind::LetRef:
    return letValue(static_cast<std::size_t>(e.index), x);
  case ExprKind::BuiltinRef:
    switch (e.builtin) {
    case Builtin::B:
      return Value::ofInt(x.b);
    case Builtin::H:
      return Value::ofInt(x.h);
    case Builtin::Q:
      return Value::ofInt(x.q);
    case Builtin::K:
      return Value::ofInt(x.k);
    case Builtin::S:
      return Value::ofFloat(x.s);
    case Builtin::Batch:
      return Value::ofInt(shape_.batch);
    case Builtin::Heads:
      return Value::ofInt(shape_.heads);
    case Builtin::SeqQ:
      return Value::ofInt(shape_.seqQ);
    case Builtin::SeqK:
      return Value::ofInt(shape_.seqK);
    }
    return Value{};
  case ExprKind::Unary:
    return unaryOp<Arithmetic::Wrapping>(e.op, eval(e.operand(0), x)).value;
  case ExprKind::Binary: {
    if (e.op == Op::AndBool)
      return Value::ofBool(eval(e.operand(0), x).b && eval(e.operand(1), x).b);
    if (e.op == Op::OrBool)
      return Value::ofBool(eval(e.operand(0), x).b || eval(e.operand(1), x).b);
    const Value a = eval(e.operand(0), x);
    return binaryOp<Arithmetic::Wrapping>(e.op, a, eval(e.operand(1), x)).value;
  }
  case ExprKind::Conditional:
    if (e.type == Type::Mask)
      return Value::ofBool(evalMask(e, x));
    return eval(e.operand(eval(e.operand(0), x).b ? 1 : 2), x);
  case ExprKind::In:
    return Value::ofBool(contains(e.operand(1), eval(e.operand(0), x).i, x));
  case ExprKind::MathCall: {
    Value args[2];
    for (std::size_t i = 0; i < e.operands.size() && i < 2; ++i)
      args[i] = eval(*e.operands[i], x);
    return mathOp<Arithmetic::Wrapping>(e.math, e.type == Type::Float, args)
        .value;
  }
  default:
    if (e.type == Type::Mask)
      return Value::ofBool(evalMask(e, x));
    return Value{};
  }
}

bool Instance::evalRandom(const Expr &e, const Element &x) const {
  std::int64_t perRow = clampedOperand(e, 0, eval(e.operand(0), x).i);
  std::int64_t g = clampedOperand(e, 1, eval(e.operand(1), x).i);
  std::int64_t seedValue = eval(e.operand(2), x).i;
  std::uint64_t seed =
      seedValue < 0 ? 0 : static_cast<std::uint64_t>(seedValue);
  std::int64_t numBlocks = (shape_.seqK + g - 1) / g;
  std::int64_t n = std::min(perRow, numBlocks);
  std::int64_t row = floorDiv(x.q, g);
  Memo::RandomCache &cache = memo_->random[static_cast<std::size_t>(e.id)];
  if (!cache.valid || cache.seed != seed || cache.head != x.h ||
      cache.row != row || cache.numBlocks != numBlocks || cache.perRow != n) {
    cache.blocks = randomBlocks(seed, x.h, row, numBlocks, n);
    cache.valid = true;
    cache.seed = seed;
    cache.head = x.h;
    cache.row = row;
    cache.numBlocks = numBlocks;
    cache.perRow = n;
  }
  return std::binary_search(cache.blocks.begin(), cache.blocks.end(),
                            floorDiv(x.k, g));
}

bool Instance::evalMask(const Expr &e, const Element &x) const {
  switch (e.kind) {
  case ExprKind::Causal:
    return sem::causal<long long>(x.q, x.k);
  case ExprKind::Local:
  case ExprKind::Dilated: {
    std::int64_t before = clampedOperand(e, 0, eval(e.operand(0), x).i);
    std::int64_t after = clampedOperand(e, 1, eval(e.operand(1), x).i);
    std::int64_t m = clampedOperand(e, 2, eval(e.operand(2), x).i);
    std::int64_t g = e.kind == ExprKind::Local
                         ? clampedOperand(e, 3, eval(e.operand(3), x).i)
                         : 1;
    // Dilation takes precedence when both vary per head (documented).
    if (m != 1)
      return sem::dilated<long long>(x.q, x.k, before, after, m);
    if (g != 1)
      return sem::local_blocks<long long>(x.q, x.k, before, after, g);
    return sem::local<long long>(x.q, x.k, before, after);
  }
  case ExprKind::Strided: {
    std::int64_t stride = clampedOperand(e, 0, eval(e.operand(0), x).i);
    return sem::strided<long long>(x.q, x.k, stride);
  }
  case ExprKind::Fixed: {
    std::int64_t stride = clampedOperand(e, 0, eval(e.operand(0), x).i);
    std::int64_t summary = clampedOperand(e, 1, eval(e.operand(1), x).i);
    return sem::fixed<long long>(x.q, x.k, stride, summary);
  }
  case ExprKind::Global: {
    const Expr &tokens = e.operand(0);
    if (tokens.type == Type::Int) {
      std::int64_t t = eval(tokens, x).i;
      return x.q == t || x.k == t;
    }
    return contains(tokens, x.q, x) || contains(tokens, x.k, x);
  }
  case ExprKind::Random:
    return evalRandom(e, x);
  case ExprKind::Prefix: {
    std::int64_t length = clampedOperand(e, 0, eval(e.operand(0), x).i);
    return sem::prefix<long long>(x.q, x.k, length);
  }
  case ExprKind::Segment: {
    const auto &segQ = shared_->segQ;
    const auto &segK = shared_->segK;
    if (x.q < 0 || x.k < 0 || static_cast<std::size_t>(x.q) >= segQ.size() ||
        static_cast<std::size_t>(x.k) >= segK.size())
      return false;
    return segQ[static_cast<std::size_t>(x.q)] ==
           segK[static_cast<std::size_t>(x.k)];
  }
  case ExprKind::Full:
    return true;
  case ExprKind::Empty:
    return false;
  case ExprKind::Predicate:
    return eval(e.operand(0), x).b;
  case ExprKind::PatternCall: {
    const Instance *callee = callee_[static_cast<std::size_t>(e.id)];
    return callee && callee->memoMask(x);
  }
  case ExprKind::Union:
    return evalMask(e.operand(0), x) || evalMask(e.operand(1), x);
  case ExprKind::Intersect:
    return evalMask(e.operand(0), x) && evalMask(e.operand(1), x);
  case ExprKind::Difference:
    return evalMask(e.operand(0), x) && !evalMask(e.operand(1), x);
  case ExprKind::Complement:
    return !evalMask(e.operand(0), x);
  case ExprKind::Conditional:
    return eval(e.operand(0), x).b ? evalMask(e.operand(1), x)
                                   : evalMask(e.operand(2), x);
  case ExprKind::LetRef:
    return letValue(static_cast<std::size_t>(e.index), x).b;
  default:
    return eval(e, x).b;
  }
}

} // namespace lace::frontend
