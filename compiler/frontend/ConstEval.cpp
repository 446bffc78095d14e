//===- ConstEval.cpp ------------------------------------------------------===//
#include "ConstEval.h"

#include "lace/Frontend/Primitives.h"

#include <cmath>
#include <string>

namespace lace::frontend {

std::optional<Value> ConstEvaluator::fail(DiagnosticKind kind, const Expr &e,
                                          std::string message) {
  failed_ = true;
  if (diags_)
    diags_->emit(kind, e.range, std::move(message));
  return std::nullopt;
}

std::optional<Value> ConstEvaluator::eval(const Expr &e) {
  switch (e.kind) {
  case ExprKind::IntLiteral:
    return Value::ofInt(e.intValue);
  case ExprKind::FloatLiteral:
    return Value::ofFloat(e.floatValue);
  case ExprKind::BoolLiteral:
    return Value::ofBool(e.boolValue);
  case ExprKind::ParamRef:
    if (!env_.params || e.index < 0 ||
        static_cast<std::size_t>(e.index) >= env_.params->size())
      return std::nullopt;
    return (*env_.params)[static_cast<std::size_t>(e.index)];
  case ExprKind::LetRef:
    if (!env_.lets || e.index < 0 ||
        static_cast<std::size_t>(e.index) >= env_.lets->size())
      return std::nullopt;
    return (*env_.lets)[static_cast<std::size_t>(e.index)];
  case ExprKind::BuiltinRef:
    if (!env_.shape)
      return std::nullopt;
    switch (e.builtin) {
    case Builtin::Batch:
      return Value::ofInt(env_.shape->batch);
    case Builtin::Heads:
      return Value::ofInt(env_.shape->heads);
    case Builtin::SeqQ:
      return Value::ofInt(env_.shape->seqQ);
    case Builtin::SeqK:
      return Value::ofInt(env_.shape->seqK);
    default:
      return std::nullopt;
    }
  case ExprKind::Unary:
    return evalUnary(e);
  case ExprKind::Binary:
    return evalBinary(e);
  case ExprKind::Conditional: {
    if (e.type == Type::Mask || e.type == Type::IntSet)
      return std::nullopt;
    auto cond = eval(e.operand(0));
    if (!cond)
      return std::nullopt;
    return eval(e.operand(cond->b ? 1 : 2));
  }
  case ExprKind::In: {
    auto x = eval(e.operand(0));
    if (!x)
      return std::nullopt;
    auto in = contains(e.operand(1), x->i);
    if (!in)
      return std::nullopt;
    return Value::ofBool(*in);
  }
  case ExprKind::MathCall:
    return evalMath(e);
  default:
    return std::nullopt;
  }
}

std::optional<bool> ConstEvaluator::contains(const Expr &set, std::int64_t v) {
  switch (set.kind) {
  case ExprKind::Range: {
    auto lo = eval(set.operand(0));
    if (!lo)
      return std::nullopt;
    auto hi = eval(set.operand(1));
    if (!hi)
      return std::nullopt;
    return lo->i <= v && v < hi->i;
  }
  case ExprKind::Set: {
    bool found = false;
    for (const ExprPtr &element : set.operands) {
      std::optional<bool> in;
      if (element->type == Type::Int) {
        auto x = eval(*element);
        if (!x)
          return std::nullopt;
        in = x->i == v;
      } else {
        in = contains(*element, v);
      }
      if (!in)
        return std::nullopt;
      found = found || *in;
    }
    return found;
  }
  case ExprKind::Conditional: {
    auto cond = eval(set.operand(0));
    if (!cond)
      return std::nullopt;
    return contains(set.operand(cond->b ? 1 : 2), v);
  }
  case ExprKind::LetRef:
    // Set-valued lets are materialized once by the interpreter; following
    // them here could take exponential time (`let b = {a, a};`).
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

std::optional<Value> ConstEvaluator::checked(const Expr &e,
                                             ScalarResult result) {
  switch (result.fault) {
  case ScalarFault::None:
    return result.value;
  case ScalarFault::Overflow:
    return fail(DiagnosticKind::IntegerOverflow, e,
                "integer overflow in constant expression, expected a result "
                "in [-2^63, 2^63)");
  case ScalarFault::DivisionByZero:
    if (e.kind == ExprKind::MathCall)
      return fail(DiagnosticKind::DivisionByZero, e,
                  "division by zero in constant expression, expected a "
                  "non-zero head count for 'alibi_slope'");
    return fail(DiagnosticKind::DivisionByZero, e,
                std::string("division by zero in constant expression, "
                            "expected a non-zero divisor for '") +
                    (e.op == Op::DivInt ? "/" : "%") + "'");
  case ScalarFault::FloatToInt:
    return fail(DiagnosticKind::IntegerOverflow, e,
                "float value does not fit in an int in constant expression");
  case ScalarFault::NotAnOperator:
    break;
  }
  return std::nullopt;
}

std::optional<Value> ConstEvaluator::evalUnary(const Expr &e) {
  auto a = eval(e.operand(0));
  if (!a)
    return std::nullopt;
  return checked(e, unaryOp<Arithmetic::Checked>(e.op, *a));
}

std::optional<Value> ConstEvaluator::evalBinary(const Expr &e) {
  // Short-circuit like evaluation does.
  if (e.op == Op::AndBool || e.op == Op::OrBool) {
    auto a = eval(e.operand(0));
    if (!a)
      return std::nullopt;
    if (e.op == Op::AndBool ? !a->b : a->b)
      return Value::ofBool(a->b);
    return eval(e.operand(1));
  }
  auto a = eval(e.operand(0));
  if (!a)
    return std::nullopt;
  auto b = eval(e.operand(1));
  if (!b)
    return std::nullopt;
  return checked(e, binaryOp<Arithmetic::Checked>(e.op, *a, *b));
}

std::optional<Value> ConstEvaluator::evalMath(const Expr &e) {
  Value args[2];
  for (std::size_t i = 0; i < e.operands.size() && i < 2; ++i) {
    auto v = eval(*e.operands[i]);
    if (!v)
      return std::nullopt;
    args[i] = *v;
  }
  return checked(
      e, mathOp<Arithmetic::Checked>(e.math, e.type == Type::Float, args));
}

namespace {

bool checkTokens(
    const Expr &e,
    const std::function<std::optional<std::int64_t>(const Expr &)> &constant,
    DiagnosticEngine &diags) {
  bool ok = true;
  if (e.type == Type::Int) {
    if (auto v = constant(e); v && *v >= kMaxExtent) {
      diags.emit(DiagnosticKind::ValueOutOfRange, e.range,
                 "token index " + std::to_string(*v) +
                     " is out of range, expected a value below 2^31");
      ok = false;
    }
    return ok;
  }
  if (e.kind == ExprKind::Range || e.kind == ExprKind::Set)
    for (const ExprPtr &operand : e.operands)
      ok = checkTokens(*operand, constant, diags) && ok;
  return ok;
}

} // namespace

bool checkPrimitiveValues(
    const Expr &primitive,
    const std::function<std::optional<std::int64_t>(const Expr &)> &constant,
    DiagnosticEngine &diags) {
  if (primitive.kind == ExprKind::Global)
    return checkTokens(primitive.operand(0), constant, diags);
  const std::span<const PrimitiveOperand> rules =
      primitiveOperands(primitive.kind);
  bool ok = true;
  std::string callee(exprKindName(primitive.kind));
  for (std::size_t i = 0; i < rules.size() && i < primitive.operands.size();
       ++i) {
    const Expr &arg = primitive.operand(i);
    if (arg.implicit)
      continue;
    auto v = constant(arg);
    if (!v)
      continue;
    const PrimitiveOperand &rule = rules[i];
    std::string what = "argument '" + std::string(rule.name) + "' of '" +
                       callee + "' is " + std::to_string(*v);
    if (*v < rule.minimum) {
      std::string expected =
          rule.belowMinimum == DiagnosticKind::ValueOutOfRange
              ? ", expected a seed in [0, 2^63)"
              : ", expected a value >= " + std::to_string(rule.minimum);
      diags.emit(rule.belowMinimum, arg.range, what + expected);
      ok = false;
    } else if (*v > rule.maximum) {
      diags.emit(DiagnosticKind::ValueOutOfRange, arg.range,
                 what + ", expected a value below 2^31");
      ok = false;
    }
  }
  if (primitive.kind == ExprKind::Local) {
    const Expr &dilation = primitive.operand(2);
    const Expr &granularity = primitive.operand(3);
    auto d = constant(dilation);
    auto g = constant(granularity);
    if (d && g && *d != 1 && *g != 1) {
      diags
          .emit(DiagnosticKind::ConflictingArguments, granularity.range,
                "'local' cannot take both a dilation and a granularity, "
                "expected at most one of them different from 1")
          .note(dilation.range, "dilation given here");
      ok = false;
    }
  }
  return ok;
}

void checkElementDivisor(
    const Expr &division,
    const std::function<std::optional<std::int64_t>(const Expr &)> &constant,
    DiagnosticEngine &diags) {
  if (division.kind != ExprKind::Binary ||
      (division.op != Op::DivInt && division.op != Op::ModInt) ||
      !(division.deps & kElementDeps))
    return;
  auto divisor = constant(division.operand(1));
  if (!divisor || *divisor != 0)
    return;
  diags.emit(DiagnosticKind::ConstantZeroDivisor, division.range,
             division.op == Op::DivInt
                 ? "divisor of '/' is always 0 (x / 0 is 0 for every "
                   "element), expected a non-zero divisor"
                 : "divisor of '%' is always 0 (x % 0 is x for every "
                   "element), expected a non-zero divisor");
}

} // namespace lace::frontend
