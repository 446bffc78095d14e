//===- ConstEval.h - Checked evaluation of constant expressions -----------===//
//
// Internal to the frontend. Evaluates expressions that do not vary per
// element with checked arithmetic, reporting division by zero and overflow.
// Sema uses it with nothing bound (literal-only expressions); instantiation
// binds parameter values, the shape and folded lets.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_CONSTEVAL_H
#define LACE_FRONTEND_CONSTEVAL_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Semantics.h"

#include "ScalarOps.h"

#include <functional>
#include <optional>
#include <vector>

namespace lace::frontend {

struct ConstEnv {
  const Pattern *pattern = nullptr;
  const std::vector<Value> *params = nullptr; ///< null: unknown
  const Shape *shape = nullptr;               ///< null: unknown
  /// Folded let values (nullopt: not constant), null: unknown.
  const std::vector<std::optional<Value>> *lets = nullptr;
};

class ConstEvaluator {
public:
  /// `diags` null: evaluate silently.
  ConstEvaluator(ConstEnv env, DiagnosticEngine *diags)
      : env_(env), diags_(diags) {}

  /// The value, or nullopt when not constant in this environment or on an
  /// error (reported, and failed() is set).
  std::optional<Value> eval(const Expr &e);
  /// Membership in an IntSet expression; nullopt when not constant.
  std::optional<bool> contains(const Expr &set, std::int64_t v);
  bool failed() const { return failed_; }

private:
  std::optional<Value> fail(DiagnosticKind kind, const Expr &e,
                            std::string message);
  /// The value of `result`, or its fault reported at `e`.
  std::optional<Value> checked(const Expr &e, ScalarResult result);
  std::optional<Value> evalUnary(const Expr &e);
  std::optional<Value> evalBinary(const Expr &e);
  std::optional<Value> evalMath(const Expr &e);

  ConstEnv env_;
  DiagnosticEngine *diags_;
  bool failed_ = false;
};

/// Reports constant primitive arguments that are out of their domain
/// (negative extents, factors below one, absurd sizes, conflicting
/// dilation/granularity). `constant` returns an argument's value when it is
/// known. Returns false if something was reported.
bool checkPrimitiveValues(
    const Expr &primitive,
    const std::function<std::optional<std::int64_t>(const Expr &)> &constant,
    DiagnosticEngine &diags);

/// Warns (ConstantZeroDivisor) about an integer '/' or '%' that varies per
/// element but whose divisor is a constant 0: evaluation defines x / 0 = 0
/// and x % 0 = x, which is never a useful way to write those values.
/// `constant` returns the divisor's value when it is known.
void checkElementDivisor(
    const Expr &division,
    const std::function<std::optional<std::int64_t>(const Expr &)> &constant,
    DiagnosticEngine &diags);

} // namespace lace::frontend

#endif // LACE_FRONTEND_CONSTEVAL_H
