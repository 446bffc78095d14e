//===- MaskFromIR.cpp - specialised lace IR to a layout MaskNode ----------===//
#include "lace/Transforms/MaskFromIR.h"

#include "lace/Frontend/Semantics.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace lace;
using layout::Interval;
using layout::MaskNode;
using layout::Tri;

namespace {

int64_t constantOf(Value value) {
  APInt constant;
  bool matched = matchPattern(value, m_ConstantInt(&constant));
  assert(matched && "lace-specialize leaves only constant operands");
  (void)matched;
  return constant.getSExtValue();
}

//===----------------------------------------------------------------------===//
// Predicate regions as a flat program
//===----------------------------------------------------------------------===//

/// One instruction of a compiled predicate: dst = op(a, b, c) over int64
/// registers (i1 values are 0 or 1).
struct Instruction {
  enum class Code : uint8_t {
    Add, Sub, Mul, FloorDiv, DivTrunc, RemTrunc, Min, Max, Abs, And, Or, Xor,
    Select, CmpEq, CmpNe, CmpLt, CmpLe, CmpGt, CmpGe, CmpULt, CmpULe, CmpUGt,
    CmpUGe,
  };
  Code code;
  bool isBool; ///< the result is an i1
  unsigned dst, a, b, c;
};

/// Registers 0 and 1 are q and k; constants and the head index follow.
struct Program {
  std::vector<int64_t> initial; ///< register file before the first step
  std::vector<Instruction> code;
  unsigned result = 0;
};

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

int64_t wrap(__int128 value) { return static_cast<int64_t>(value); }

int64_t evaluate(const Instruction &in, const std::vector<int64_t> &r) {
  using C = Instruction::Code;
  int64_t a = r[in.a], b = r[in.b];
  switch (in.code) {
  case C::Add: return wrap(__int128(a) + b);
  case C::Sub: return wrap(__int128(a) - b);
  case C::Mul: return wrap(__int128(a) * b);
  case C::FloorDiv: return frontend::floorDiv(a, b);
  case C::DivTrunc: return b == 0 || (a == kMin && b == -1) ? 0 : a / b;
  case C::RemTrunc: return b == 0 || b == -1 ? 0 : a % b;
  case C::Min: return std::min(a, b);
  case C::Max: return std::max(a, b);
  case C::Abs: return a < 0 ? wrap(-__int128(a)) : a;
  case C::And: return a & b;
  case C::Or: return a | b;
  case C::Xor: return a ^ b;
  case C::Select: return a ? b : r[in.c];
  case C::CmpEq: return a == b;
  case C::CmpNe: return a != b;
  case C::CmpLt: return a < b;
  case C::CmpLe: return a <= b;
  case C::CmpGt: return a > b;
  case C::CmpGe: return a >= b;
  case C::CmpULt: return uint64_t(a) < uint64_t(b);
  case C::CmpULe: return uint64_t(a) <= uint64_t(b);
  case C::CmpUGt: return uint64_t(a) > uint64_t(b);
  case C::CmpUGe: return uint64_t(a) >= uint64_t(b);
  }
  return 0;
}

Interval top() { return {kMin, kMax}; }
Interval point(int64_t v) { return {v, v}; }
Interval hull(Interval x, Interval y) {
  return {std::min(x.lo, y.lo), std::max(x.hi, y.hi)};
}
/// An interval from exact bounds, or top when a bound overflows.
Interval bounded(__int128 lo, __int128 hi) {
  if (lo < kMin || hi > kMax)
    return top();
  return {int64_t(lo), int64_t(hi)};
}
Interval fromTri(Tri t) {
  return t == Tri::True ? point(1) : t == Tri::False ? point(0) : Interval{0, 1};
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
    std::vector<int64_t> scratch(std::max({in.a, in.b, in.c}) + 1);
    scratch[in.a] = a.lo;
    scratch[in.b] = b.lo;
    return point(evaluate(in, scratch));
  }
  auto compare = [&](bool alwaysTrue, bool alwaysFalse) {
    return fromTri(alwaysTrue ? Tri::True : alwaysFalse ? Tri::False
                                                        : Tri::Unknown);
  };
  switch (in.code) {
  case C::Add: return bounded(__int128(a.lo) + b.lo, __int128(a.hi) + b.hi);
  case C::Sub: return bounded(__int128(a.lo) - b.hi, __int128(a.hi) - b.lo);
  case C::Mul: {
    __int128 p[] = {__int128(a.lo) * b.lo, __int128(a.lo) * b.hi,
                    __int128(a.hi) * b.lo, __int128(a.hi) * b.hi};
    return bounded(*std::min_element(p, p + 4), *std::max_element(p, p + 4));
  }
  case C::FloorDiv:
    if (b.lo == b.hi && b.lo > 0)
      return {frontend::floorDiv(a.lo, b.lo), frontend::floorDiv(a.hi, b.lo)};
    return top();
  case C::RemTrunc: {
    if (b.lo != b.hi || b.lo == 0 || b.lo == kMin)
      return top();
    int64_t m = b.lo < 0 ? -b.lo : b.lo;
    if (a.lo >= 0 && a.lo / m == a.hi / m)
      return {a.lo % m, a.hi % m};
    if (a.hi <= 0 && a.lo / m == a.hi / m)
      return {a.lo % m, a.hi % m};
    return {a.lo < 0 ? -(m - 1) : 0, a.hi > 0 ? m - 1 : 0};
  }
  case C::Min: return {std::min(a.lo, b.lo), std::min(a.hi, b.hi)};
  case C::Max: return {std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
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
      return fromTri(x == Tri::True || y == Tri::True ? Tri::True
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
  case C::CmpEq: return compare(points && a.lo == b.lo, a.hi < b.lo || b.hi < a.lo);
  case C::CmpNe: return compare(a.hi < b.lo || b.hi < a.lo, points && a.lo == b.lo);
  case C::CmpLt: return compare(a.hi < b.lo, a.lo >= b.hi);
  case C::CmpLe: return compare(a.hi <= b.lo, a.lo > b.hi);
  case C::CmpGt: return compare(a.lo > b.hi, a.hi <= b.lo);
  case C::CmpGe: return compare(a.lo >= b.hi, a.hi < b.lo);
  default:
    // Unsigned comparisons agree with signed ones on non-negative ranges.
    if (a.lo >= 0 && b.lo >= 0) {
      Instruction signedIn = in;
      signedIn.code = C(unsigned(in.code) - unsigned(C::CmpULt) +
                        unsigned(C::CmpLt));
      return evaluateRange(signedIn, r);
    }
    return fromTri(Tri::Unknown);
  }
}

class PredicateCompiler {
public:
  PredicateCompiler(PredicateOp op, int64_t head) : op(op), head(head) {}

  /// Fails after reporting on the first op it cannot interpret.
  LogicalResult compile(Program &program);

private:
  FailureOr<unsigned> reg(Value value, Program &program);

  PredicateOp op;
  int64_t head;
  llvm::DenseMap<Value, unsigned> registers;
};

FailureOr<unsigned> PredicateCompiler::reg(Value value, Program &program) {
  auto known = registers.find(value);
  if (known != registers.end())
    return known->second;
  APInt constant;
  if (!matchPattern(value, m_ConstantInt(&constant))) {
    if (Operation *def = value.getDefiningOp())
      def->emitError() << "expected a constant: only the predicate's own ops "
                          "may vary per element";
    else
      op.emitError() << "unexpected block argument in a predicate";
    return failure();
  }
  unsigned index = program.initial.size();
  program.initial.push_back(value.getType().isInteger(1)
                                ? int64_t(constant.getZExtValue())
                                : constant.getSExtValue());
  registers[value] = index;
  return index;
}

LogicalResult PredicateCompiler::compile(Program &program) {
  Block &block = op.getBody().front();
  if (!block.getArgument(0).use_empty())
    return op.emitError() << "predicates that read the batch index 'b' cannot "
                             "be classified per head; use one layout per "
                             "batch entry";
  program.initial = {0, 0, head};
  registers[block.getArgument(2)] = 0; // q
  registers[block.getArgument(3)] = 1; // k
  registers[block.getArgument(1)] = 2; // h
  using C = Instruction::Code;
  for (Operation &inner : block.without_terminator()) {
    if (matchPattern(&inner, m_Constant()))
      continue; // materialised on first use
    std::optional<C> code =
        llvm::TypeSwitch<Operation *, std::optional<C>>(&inner)
            .Case([](arith::AddIOp) { return C::Add; })
            .Case([](arith::SubIOp) { return C::Sub; })
            .Case([](arith::MulIOp) { return C::Mul; })
            .Case([](arith::FloorDivSIOp) { return C::FloorDiv; })
            .Case([](arith::DivSIOp) { return C::DivTrunc; })
            .Case([](arith::RemSIOp) { return C::RemTrunc; })
            .Case([](arith::MinSIOp) { return C::Min; })
            .Case([](arith::MaxSIOp) { return C::Max; })
            .Case([](math::AbsIOp) { return C::Abs; })
            .Case([](arith::AndIOp) { return C::And; })
            .Case([](arith::OrIOp) { return C::Or; })
            .Case([](arith::XOrIOp) { return C::Xor; })
            .Case([](arith::SelectOp) { return C::Select; })
            .Case([](arith::CmpIOp cmp) -> std::optional<C> {
              switch (cmp.getPredicate()) {
              case arith::CmpIPredicate::eq: return C::CmpEq;
              case arith::CmpIPredicate::ne: return C::CmpNe;
              case arith::CmpIPredicate::slt: return C::CmpLt;
              case arith::CmpIPredicate::sle: return C::CmpLe;
              case arith::CmpIPredicate::sgt: return C::CmpGt;
              case arith::CmpIPredicate::sge: return C::CmpGe;
              case arith::CmpIPredicate::ult: return C::CmpULt;
              case arith::CmpIPredicate::ule: return C::CmpULe;
              case arith::CmpIPredicate::ugt: return C::CmpUGt;
              case arith::CmpIPredicate::uge: return C::CmpUGe;
              }
              return std::nullopt;
            })
            .Default([](Operation *) { return std::nullopt; });
    if (!code || inner.getNumResults() != 1)
      return inner.emitError()
             << "'" << inner.getName()
             << "' is not supported in predicates by the layout passes";
    Instruction in{*code, inner.getResult(0).getType().isInteger(1), 0, 0, 0,
                   0};
    unsigned *slots[] = {&in.a, &in.b, &in.c};
    for (auto [i, operand] : llvm::enumerate(inner.getOperands())) {
      FailureOr<unsigned> r = reg(operand, program);
      if (failed(r))
        return failure();
      *slots[i] = *r;
    }
    if (inner.getNumOperands() == 1)
      in.b = in.a;
    in.dst = program.initial.size();
    program.initial.push_back(0);
    registers[inner.getResult(0)] = in.dst;
    program.code.push_back(in);
  }
  auto yield = cast<YieldOp>(block.getTerminator());
  FailureOr<unsigned> result = reg(yield.getValues()[0], program);
  if (failed(result))
    return failure();
  program.result = *result;
  return success();
}

std::unique_ptr<MaskNode> predicateNode(std::shared_ptr<const Program> program) {
  auto element = [program](int64_t q, int64_t k) {
    std::vector<int64_t> r = program->initial;
    r[0] = q;
    r[1] = k;
    for (const Instruction &in : program->code)
      r[in.dst] = evaluate(in, r);
    return r[program->result] != 0;
  };
  auto range = [program](Interval q, Interval k) {
    std::vector<Interval> r;
    r.reserve(program->initial.size());
    for (int64_t v : program->initial)
      r.push_back(point(v));
    r[0] = q;
    r[1] = k;
    for (const Instruction &in : program->code)
      r[in.dst] = evaluateRange(in, r);
    return toTri(r[program->result]);
  };
  return MaskNode::predicate(element, range);
}

//===----------------------------------------------------------------------===//
// Structured ops
//===----------------------------------------------------------------------===//

std::unique_ptr<MaskNode> build(Value mask, int64_t head, int64_t seqK) {
  Operation *op = mask.getDefiningOp();
  if (!op) {
    emitError(mask.getLoc()) << "expected a mask computed by lace ops";
    return nullptr;
  }
  auto binary = [&](auto combine, Value lhs, Value rhs)
      -> std::unique_ptr<MaskNode> {
    std::unique_ptr<MaskNode> a = build(lhs, head, seqK);
    std::unique_ptr<MaskNode> b = a ? build(rhs, head, seqK) : nullptr;
    return b ? combine(std::move(a), std::move(b)) : nullptr;
  };
  return llvm::TypeSwitch<Operation *, std::unique_ptr<MaskNode>>(op)
      .Case([](FullOp) { return MaskNode::full(); })
      .Case([](EmptyOp) { return MaskNode::empty(); })
      .Case([](CausalOp) { return MaskNode::causal(); })
      .Case([](LocalOp local) {
        return MaskNode::local(constantOf(local.getBefore()),
                               constantOf(local.getAfter()),
                               local.getGranularity()
                                   ? constantOf(local.getGranularity())
                                   : 1);
      })
      .Case([](DilatedOp dilated) {
        return MaskNode::dilated(constantOf(dilated.getBefore()),
                                 constantOf(dilated.getAfter()),
                                 constantOf(dilated.getDilation()));
      })
      .Case([](StridedOp strided) {
        return MaskNode::strided(constantOf(strided.getStride()));
      })
      .Case([](FixedOp fixed) {
        return MaskNode::fixed(constantOf(fixed.getStride()),
                               constantOf(fixed.getSummary()));
      })
      .Case([](GlobalOp global) {
        std::vector<int64_t> tokens;
        for (Value token : global.getTokens())
          tokens.push_back(constantOf(token));
        std::vector<std::pair<int64_t, int64_t>> ranges;
        if (global.getLo())
          ranges.push_back(
              {constantOf(global.getLo()), constantOf(global.getHi())});
        return MaskNode::global(std::move(tokens), std::move(ranges));
      })
      .Case([&](RandomOp random) {
        return MaskNode::random(constantOf(random.getPerRow()),
                                constantOf(random.getGranularity()),
                                uint64_t(constantOf(random.getSeed())), head,
                                seqK);
      })
      .Case([](PrefixOp prefix) {
        return MaskNode::prefix(constantOf(prefix.getLength()));
      })
      .Case([](SegmentOp) { return MaskNode::segment(); })
      .Case([&](PredicateOp predicate) -> std::unique_ptr<MaskNode> {
        auto program = std::make_shared<Program>();
        if (failed(PredicateCompiler(predicate, head).compile(*program)))
          return nullptr;
        return predicateNode(std::move(program));
      })
      .Case([&](UnionOp op) {
        return binary(MaskNode::unite, op.getLhs(), op.getRhs());
      })
      .Case([&](IntersectOp op) {
        return binary(MaskNode::intersect, op.getLhs(), op.getRhs());
      })
      .Case([&](DifferenceOp op) {
        return binary(MaskNode::difference, op.getLhs(), op.getRhs());
      })
      .Case([&](ComplementOp op) -> std::unique_ptr<MaskNode> {
        std::unique_ptr<MaskNode> inner = build(op.getInput(), head, seqK);
        return inner ? MaskNode::complement(std::move(inner)) : nullptr;
      })
      .Default([](Operation *other) -> std::unique_ptr<MaskNode> {
        other->emitError() << "expected a lace mask op, got '"
                           << other->getName() << "'";
        return nullptr;
      });
}

} // namespace

std::unique_ptr<MaskNode> lace::maskFromIR(PatternOp pattern, int64_t head,
                                           int64_t seqK) {
  return build(pattern.getMask(), head, seqK);
}

bool lace::usesSegments(PatternOp pattern) {
  bool found = false;
  pattern.walk([&](SegmentOp) { found = true; });
  return found;
}
