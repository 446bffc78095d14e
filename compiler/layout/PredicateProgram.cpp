//===- PredicateProgram.cpp - Exact and interval evaluation ---------------===//
#include "lace/Layout/PredicateProgram.h"

#include "lace/Support/RandomBlocks.h"
#include "lace_semantics.cuh"

#include <algorithm>
#include <limits>
#include <string>

namespace lace::layout {

namespace {

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::int64_t wrap(__int128 value) { return static_cast<std::int64_t>(value); }

std::int64_t evaluate(const Instruction &in,
                      const std::vector<std::int64_t> &r) {
  using C = Instruction::Code;
  std::int64_t a = r[in.a], b = r[in.b];
  switch (in.code) {
  case C::Add:
    return wrap(__int128(a) + b);
  case C::Sub:
    return wrap(__int128(a) - b);
  case C::Mul:
    return wrap(__int128(a) * b);
  case C::FloorDiv:
    return sem::floor_div<long long>(a, b);
  case C::DivTrunc:
    return b == 0 || (a == kMin && b == -1) ? 0 : a / b;
  case C::RemTrunc:
    return b == 0 || b == -1 ? 0 : a % b;
  case C::Min:
    return std::min(a, b);
  case C::Max:
    return std::max(a, b);
  case C::Abs:
    return a < 0 ? wrap(-__int128(a)) : a;
  case C::And:
    return a & b;
  case C::Or:
    return a | b;
  case C::Xor:
    return a ^ b;
  case C::Select:
    return a ? b : r[in.c];
  case C::CmpEq:
    return a == b;
  case C::CmpNe:
    return a != b;
  case C::CmpLt:
    return a < b;
  case C::CmpLe:
    return a <= b;
  case C::CmpGt:
    return a > b;
  case C::CmpGe:
    return a >= b;
  case C::CmpULt:
    return std::uint64_t(a) < std::uint64_t(b);
  case C::CmpULe:
    return std::uint64_t(a) <= std::uint64_t(b);
  case C::CmpUGt:
    return std::uint64_t(a) > std::uint64_t(b);
  case C::CmpUGe:
    return std::uint64_t(a) >= std::uint64_t(b);
  }
  return 0;
}

Interval top() { return {kMin, kMax}; }
Interval point(std::int64_t v) { return {v, v}; }
Interval hull(Interval x, Interval y) {
  return {std::min(x.lo, y.lo), std::max(x.hi, y.hi)};
}
/// An interval from exact bounds, or top when a bound overflows.
Interval bounded(__int128 lo, __int128 hi) {
  if (lo < kMin || hi > kMax)
    return top();
  return {std::int64_t(lo), std::int64_t(hi)};
}
Interval fromTri(Tri t) {
  return t == Tri::True    ? point(1)
         : t == Tri::False ? point(0)
                           : Interval{0, 1};
}
Tri toTri(Interval x) {
  if (x.lo == x.hi)
    return x.lo ? Tri::True : Tri::False;
  return x.lo > 0 || x.hi < 0 ? Tri::True : Tri::Unknown;
}

Interval evaluateRange(const Instruction &in, const std::vector<Interval> &r) {
  using C = Instruction::Code;
  Interval a = r[in.a], b = r[in.b];
  bool points = a.lo == a.hi && b.lo == b.hi;
  if (points && in.code != C::Select) {
    std::vector<std::int64_t> scratch(std::max({in.a, in.b, in.c}) + 1);
    scratch[in.a] = a.lo;
    scratch[in.b] = b.lo;
    return point(evaluate(in, scratch));
  }
  auto compare = [&](bool alwaysTrue, bool alwaysFalse) {
    return fromTri(alwaysTrue    ? Tri::True
                   : alwaysFalse ? Tri::False
                                 : Tri::Unknown);
  };
  switch (in.code) {
  case C::Add:
    return bounded(__int128(a.lo) + b.lo, __int128(a.hi) + b.hi);
  case C::Sub:
    return bounded(__int128(a.lo) - b.hi, __int128(a.hi) - b.lo);
  case C::Mul: {
    __int128 p[] = {__int128(a.lo) * b.lo, __int128(a.lo) * b.hi,
                    __int128(a.hi) * b.lo, __int128(a.hi) * b.hi};
    return bounded(*std::min_element(p, p + 4), *std::max_element(p, p + 4));
  }
  case C::FloorDiv:
    if (b.lo == b.hi && b.lo > 0)
      return {sem::floor_div<long long>(a.lo, b.lo),
              sem::floor_div<long long>(a.hi, b.lo)};
    return top();
  case C::RemTrunc: {
    if (b.lo != b.hi || b.lo == 0 || b.lo == kMin)
      return top();
    std::int64_t m = b.lo < 0 ? -b.lo : b.lo;
    if (a.lo >= 0 && a.lo / m == a.hi / m)
      return {a.lo % m, a.hi % m};
    if (a.hi <= 0 && a.lo / m == a.hi / m)
      return {a.lo % m, a.hi % m};
    return {a.lo < 0 ? -(m - 1) : 0, a.hi > 0 ? m - 1 : 0};
  }
  case C::Min:
    return {std::min(a.lo, b.lo), std::min(a.hi, b.hi)};
  case C::Max:
    return {std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
  case C::Abs:
    if (a.lo >= 0)
      return a;
    if (a.hi <= 0)
      return bounded(-__int128(a.hi), -__int128(a.lo));
    return bounded(0, std::max(-__int128(a.lo), __int128(a.hi)));
  case C::And:
  case C::Or:
  case C::Xor: {
    if (!in.isBool)
      return top();
    Tri x = toTri(a), y = toTri(b);
    if (in.code == C::And)
      return fromTri(x == Tri::False || y == Tri::False ? Tri::False
                     : x == Tri::True && y == Tri::True ? Tri::True
                                                        : Tri::Unknown);
    if (in.code == C::Or)
      return fromTri(x == Tri::True || y == Tri::True     ? Tri::True
                     : x == Tri::False && y == Tri::False ? Tri::False
                                                          : Tri::Unknown);
    if (x == Tri::Unknown || y == Tri::Unknown)
      return fromTri(Tri::Unknown);
    return fromTri((x == Tri::True) != (y == Tri::True) ? Tri::True
                                                        : Tri::False);
  }
  case C::Select: {
    Tri condition = toTri(a);
    if (condition == Tri::True)
      return b;
    if (condition == Tri::False)
      return r[in.c];
    return hull(b, r[in.c]);
  }
  case C::CmpEq:
    return compare(points && a.lo == b.lo, a.hi < b.lo || b.hi < a.lo);
  case C::CmpNe:
    return compare(a.hi < b.lo || b.hi < a.lo, points && a.lo == b.lo);
  case C::CmpLt:
    return compare(a.hi < b.lo, a.lo >= b.hi);
  case C::CmpLe:
    return compare(a.hi <= b.lo, a.lo > b.hi);
  case C::CmpGt:
    return compare(a.lo > b.hi, a.hi <= b.lo);
  case C::CmpGe:
    return compare(a.lo >= b.hi, a.hi < b.lo);
  case C::DivTrunc:
    // Truncating division (arith.divsi): monotone in a for a fixed positive
    // divisor, like FloorDiv, but rounding toward zero.
    if (b.lo == b.hi && b.lo > 0)
      return {a.lo / b.lo, a.hi / b.lo};
    return top();
  case C::CmpULt:
  case C::CmpULe:
  case C::CmpUGt:
  case C::CmpUGe:
    // Unsigned comparisons agree with signed ones on non-negative ranges.
    if (a.lo >= 0 && b.lo >= 0) {
      Instruction signedIn = in;
      signedIn.code =
          C(unsigned(in.code) - unsigned(C::CmpULt) + unsigned(C::CmpLt));
      return evaluateRange(signedIn, r);
    }
    return fromTri(Tri::Unknown);
  }
  return top();
}

} // namespace

std::string PredicateProgram::validate() const {
  if (initial.size() < 2)
    return "a predicate program needs the registers q and k";
  std::vector<bool> written(initial.size(), false);
  for (const Instruction &in : code) {
    if (unsigned(in.code) >= Instruction::kNumCodes)
      return "unknown instruction code " + std::to_string(unsigned(in.code));
    for (unsigned r : {in.dst, in.a, in.b, in.c})
      if (r >= initial.size())
        return "register " + std::to_string(r) + " out of range";
    if (in.dst < 2 || written[in.dst])
      return "register " + std::to_string(in.dst) + " written twice";
    written[in.dst] = true;
  }
  if (result >= initial.size())
    return "result register out of range";
  return "";
}

bool PredicateProgram::element(std::int64_t q, std::int64_t k) const {
  std::vector<std::int64_t> r = initial;
  r[0] = q;
  r[1] = k;
  for (const Instruction &in : code)
    r[in.dst] = evaluate(in, r);
  return r[result] != 0;
}

Tri PredicateProgram::range(Interval q, Interval k) const {
  std::vector<Interval> r;
  r.reserve(initial.size());
  for (std::int64_t v : initial)
    r.push_back(point(v));
  r[0] = q;
  r[1] = k;
  for (const Instruction &in : code)
    r[in.dst] = evaluateRange(in, r);
  return toTri(r[result]);
}

std::unique_ptr<MaskNode>
predicateNode(std::shared_ptr<const PredicateProgram> program) {
  auto element = [program](std::int64_t q, std::int64_t k) {
    return program->element(q, k);
  };
  auto range = [program](Interval q, Interval k) {
    return program->range(q, k);
  };
  std::unique_ptr<MaskNode> node = MaskNode::predicate(element, range);
  node->program = std::move(program);
  return node;
}

} // namespace lace::layout
