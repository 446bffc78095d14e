//===- ScalarOps.h - The language's scalar operators, once ----------------===//
//
// Internal to the frontend. What every unary, binary and math operator of
// the language computes, written once for both evaluators: constant
// expressions (ConstEvaluator) take the Checked arithmetic, where integer
// overflow and division by zero are faults that become diagnostics; element
// evaluation (the interpreter) takes the Wrapping arithmetic of
// Semantics.h, which never fails. `&&` and `||` short-circuit, so the
// evaluators keep those.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_SCALAROPS_H
#define LACE_FRONTEND_SCALAROPS_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Semantics.h"

#include <algorithm>
#include <cmath>

namespace lace::frontend {

enum class Arithmetic { Checked, Wrapping };

/// Why a Checked operation has no value (Wrapping ones always have one).
enum class ScalarFault {
  None,
  Overflow,       ///< an integer result outside [-2^63, 2^63)
  DivisionByZero, ///< '/' or '%' by 0, alibi_slope over 0 heads
  FloatToInt,     ///< int(f) of NaN or out of range
  NotAnOperator,  ///< the node's op is not one of these (no value)
};

struct ScalarResult {
  Value value;
  ScalarFault fault = ScalarFault::None;
};

namespace scalar {
inline ScalarResult of(Value v) { return {v, ScalarFault::None}; }
inline ScalarResult fault(ScalarFault f) { return {Value{}, f}; }
inline ScalarResult ofInt(std::optional<std::int64_t> v) {
  return v ? of(Value::ofInt(*v)) : fault(ScalarFault::Overflow);
}
} // namespace scalar

template <Arithmetic A> ScalarResult unaryOp(Op op, Value a) {
  switch (op) {
  case Op::NegInt:
    if constexpr (A == Arithmetic::Checked)
      return scalar::ofInt(checkedSub(0, a.i));
    else
      return scalar::of(Value::ofInt(wrapNeg(a.i)));
  case Op::NegFloat:
    return scalar::of(Value::ofFloat(-a.f));
  case Op::NotBool:
    return scalar::of(Value::ofBool(!a.b));
  default:
    return scalar::fault(ScalarFault::NotAnOperator);
  }
}

/// Every binary operator but AndBool and OrBool.
template <Arithmetic A> ScalarResult binaryOp(Op op, Value a, Value b) {
  constexpr bool checked = A == Arithmetic::Checked;
  switch (op) {
  case Op::AddInt:
    if constexpr (checked)
      return scalar::ofInt(checkedAdd(a.i, b.i));
    else
      return scalar::of(Value::ofInt(wrapAdd(a.i, b.i)));
  case Op::SubInt:
    if constexpr (checked)
      return scalar::ofInt(checkedSub(a.i, b.i));
    else
      return scalar::of(Value::ofInt(wrapSub(a.i, b.i)));
  case Op::MulInt:
    if constexpr (checked)
      return scalar::ofInt(checkedMul(a.i, b.i));
    else
      return scalar::of(Value::ofInt(wrapMul(a.i, b.i)));
  case Op::DivInt:
    if (checked && b.i == 0)
      return scalar::fault(ScalarFault::DivisionByZero);
    if constexpr (checked)
      return scalar::ofInt(checkedFloorDiv(a.i, b.i));
    else
      return scalar::of(Value::ofInt(floorDiv(a.i, b.i)));
  case Op::ModInt:
    if (checked && b.i == 0)
      return scalar::fault(ScalarFault::DivisionByZero);
    return scalar::of(Value::ofInt(floorMod(a.i, b.i)));
  case Op::AddFloat:
    return scalar::of(Value::ofFloat(a.f + b.f));
  case Op::SubFloat:
    return scalar::of(Value::ofFloat(a.f - b.f));
  case Op::MulFloat:
    return scalar::of(Value::ofFloat(a.f * b.f));
  case Op::DivFloat:
    return scalar::of(Value::ofFloat(a.f / b.f));
  case Op::EqInt:
    return scalar::of(Value::ofBool(a.i == b.i));
  case Op::NeInt:
    return scalar::of(Value::ofBool(a.i != b.i));
  case Op::LtInt:
    return scalar::of(Value::ofBool(a.i < b.i));
  case Op::LeInt:
    return scalar::of(Value::ofBool(a.i <= b.i));
  case Op::GtInt:
    return scalar::of(Value::ofBool(a.i > b.i));
  case Op::GeInt:
    return scalar::of(Value::ofBool(a.i >= b.i));
  case Op::EqFloat:
    return scalar::of(Value::ofBool(a.f == b.f));
  case Op::NeFloat:
    return scalar::of(Value::ofBool(a.f != b.f));
  case Op::LtFloat:
    return scalar::of(Value::ofBool(a.f < b.f));
  case Op::LeFloat:
    return scalar::of(Value::ofBool(a.f <= b.f));
  case Op::GtFloat:
    return scalar::of(Value::ofBool(a.f > b.f));
  case Op::GeFloat:
    return scalar::of(Value::ofBool(a.f >= b.f));
  case Op::EqBool:
    return scalar::of(Value::ofBool(a.b == b.b));
  case Op::NeBool:
    return scalar::of(Value::ofBool(a.b != b.b));
  default:
    return scalar::fault(ScalarFault::NotAnOperator);
  }
}

/// `args` holds the call's operands (one, or two for min, max and
/// alibi_slope); `isFloat` is the node's type.
template <Arithmetic A>
ScalarResult mathOp(MathFunction fn, bool isFloat, const Value *args) {
  constexpr bool checked = A == Arithmetic::Checked;
  const Value &a = args[0];
  switch (fn) {
  case MathFunction::Min:
    return scalar::of(isFloat ? Value::ofFloat(std::fmin(a.f, args[1].f))
                              : Value::ofInt(std::min(a.i, args[1].i)));
  case MathFunction::Max:
    return scalar::of(isFloat ? Value::ofFloat(std::fmax(a.f, args[1].f))
                              : Value::ofInt(std::max(a.i, args[1].i)));
  case MathFunction::Abs:
    if (isFloat)
      return scalar::of(Value::ofFloat(std::fabs(a.f)));
    if (a.i >= 0)
      return scalar::of(a);
    return unaryOp<A>(Op::NegInt, a);
  case MathFunction::ToFloat:
    return scalar::of(Value::ofFloat(static_cast<float>(a.i)));
  case MathFunction::ToInt:
    if constexpr (checked) {
      const std::optional<std::int64_t> v = checkedFloatToInt(a.f);
      return v ? scalar::of(Value::ofInt(*v))
               : scalar::fault(ScalarFault::FloatToInt);
    } else {
      return scalar::of(Value::ofInt(floatToInt(a.f)));
    }
  case MathFunction::Tanh:
    return scalar::of(Value::ofFloat(std::tanh(a.f)));
  case MathFunction::Exp:
    return scalar::of(Value::ofFloat(std::exp(a.f)));
  case MathFunction::Log:
    return scalar::of(Value::ofFloat(std::log(a.f)));
  case MathFunction::Sqrt:
    return scalar::of(Value::ofFloat(std::sqrt(a.f)));
  case MathFunction::AlibiSlope:
    if (checked && args[1].i == 0)
      return scalar::fault(ScalarFault::DivisionByZero);
    return scalar::of(Value::ofFloat(alibiSlope(a.i, args[1].i)));
  }
  return scalar::fault(ScalarFault::NotAnOperator);
}

} // namespace lace::frontend

#endif // LACE_FRONTEND_SCALAROPS_H
