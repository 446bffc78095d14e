//===- PatternToCpp.cpp - a specialised pattern as CUDA C++ functions -----===//
#include "lace/Codegen/PatternToCpp.h"

#include "lace/Dialect/LaceOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace lace;

namespace {

/// The first lines of every body: copies of the coordinates in the body's
/// integer type, `int` for a live body in 32-bit arithmetic (fitsInt32),
/// else `long long`.
std::string prelude(bool narrow) {
  return std::string("\n  const ") + (narrow ? "int" : "long long") +
         " Q = q, K = k, B = b, H = h;\n  (void)Q; (void)K; (void)B; "
         "(void)H;\n";
}

/// BigBird's counter-based generator (docs/language.md), its steps from
/// lace_semantics.cuh. The generator is `__noinline__`: partial tiles call
/// it rarely, and inlined its loop and set would cost the main loop
/// registers (it spilled at head dim 64).
constexpr const char *kRandomHelpers = R"cpp(
// Is key block `col` among the `per_row` blocks Floyd's algorithm picks for
// query block `row` of head `head` out of `n` blocks (per_row <= 64)?
__device__ __noinline__ bool lace_random_live(unsigned long long seed,
                                              long long head, long long row,
                                              long long col, long long n,
                                              long long per_row) {
  long long take = per_row < n ? per_row : n;
  const unsigned long long base = ::lace::sem::random_base(
      seed, (unsigned long long)head, (unsigned long long)row);
  long long chosen[64];
  long long count = 0;
  for (long long j = n - take; j < n && count < 64; ++j) {
    long long t = ::lace::sem::random_candidate(base, j);
    bool seen = false;
    for (long long i = 0; i < count; ++i) seen = seen || chosen[i] == t;
    chosen[count++] = seen ? j : t;
  }
  for (long long i = 0; i < count; ++i)
    if (chosen[i] == col) return true;
  return false;
}
// lace_random_live through the tile's memo (lace::LiveMemo): `site` names
// the call site, whose seed, block count and per-row count are fixed. The
// key has no batch: a memo lives for one tile, of one (batch, head).
__device__ __forceinline__ bool lace_random_memo(
    ::lace::LiveMemo &memo, int site, unsigned long long seed, long long head,
    long long row, long long col, long long n, long long per_row) {
  if (memo.site != site || memo.head != head || memo.row != row ||
      memo.col != col) {
    memo.site = site;
    memo.head = (int)head;
    memo.row = (int)row;
    memo.col = (int)col;
    memo.live = lace_random_live(seed, head, row, col, n, per_row);
  }
  return memo.live;
}
)cpp";

/// An integer literal: `long long`, or `int` in a 32-bit body.
std::string literal(int64_t value, bool narrow = false) {
  if (narrow)
    return "(" + std::to_string(value) + ")";
  // INT64_MIN has no literal form.
  if (value == INT64_MIN)
    return "(-9223372036854775807LL - 1)";
  return "(" + std::to_string(value) + "LL)";
}

/// Magnitudes below which a live body computes in 32 bits: every value the
/// primitives form from Q, K and their operands (Q - K, the block offset
/// (Q / g - K / g) * g, seq_k + g - 1, stride - summary) then stays below
/// 2^31.
constexpr int64_t kNarrowLimit = int64_t{1} << 30;

/// Can the live functions of `module` compute in 32-bit integers? Only
/// when every operand of every mask primitive is a constant below
/// kNarrowLimit, the sequences are shorter than it, and no predicate (whose
/// arithmetic is the user's, unbounded) is present: 64-bit integer work costs
/// partial tiles two to four instructions per operation.
bool fitsInt32(ModuleOp module, int64_t seqQ, int64_t seqK) {
  if (seqQ >= kNarrowLimit || seqK >= kNarrowLimit)
    return false;
  bool fits = true;
  module.walk([&](PatternOp pattern) {
    if (!pattern->hasAttr("lace.heads"))
      return;
    llvm::SmallVector<Value> work{pattern.getMask()};
    while (!work.empty() && fits) {
      Operation *op = work.pop_back_val().getDefiningOp();
      if (!op || isa<PredicateOp>(op)) {
        fits = false;
        break;
      }
      for (Value operand : op->getOperands()) {
        if (isa<MaskType>(operand.getType())) {
          work.push_back(operand);
          continue;
        }
        APInt value;
        if (!matchPattern(operand, m_ConstantInt(&value)) ||
            value.getSignificantBits() > 63 ||
            std::abs(value.getSExtValue()) >= kNarrowLimit)
          fits = false;
      }
    }
  });
  return fits;
}

std::string floatLiteral(double value) {
  if (std::isnan(value))
    return "__int_as_float(0x7fc00000)";
  if (std::isinf(value))
    return value > 0 ? "__int_as_float(0x7f800000)"
                     : "__int_as_float(0xff800000)";
  char text[64];
  std::snprintf(text, sizeof text, "%.9gf", value);
  std::string out = text;
  if (out.find_first_of(".en") == std::string::npos)
    out.insert(out.size() - 1, ".0");
  return "(" + out + ")";
}

class Emitter {
public:
  /// `narrow`: integers are `int` (fitsInt32 said so), else `long long`.
  explicit Emitter(llvm::raw_string_ostream &os, bool narrow = false)
      : os(os), narrow(narrow) {}

  /// The C++ expression of a mask value; predicate and score regions are
  /// emitted as lambdas into `os` first.
  FailureOr<std::string> mask(Value value, int64_t seqK);
  /// Emits the score region as statements ending in `return`.
  LogicalResult score(ScoreOp op);
  /// Emits the score region and its derivative in `s` (forward mode: one
  /// `const float dN` per float value) as statements ending in `return`.
  LogicalResult scoreGrad(ScoreOp op);
  bool usesRandom = false;
  int randomSites = 0; ///< random-block tests emitted (memo call sites)

private:
  FailureOr<std::string> scalar(Value value);
  /// d value / d s of a float value of the score region (0 for values from
  /// outside it), after the value statements were emitted.
  FailureOr<std::string> derivative(Value value);
  llvm::DenseMap<Value, std::string> derivatives;
  Value scoreArgument;
  LogicalResult statements(Block &block, llvm::ArrayRef<std::string> args);
  /// `const T vN = <op>;` for one op with one result.
  LogicalResult emitOp(Operation &op);
  /// The text of a primitive's operand: a literal, or a value computed in
  /// the pattern body (from the head index when it was left symbolic).
  FailureOr<std::string> operand(Value value) { return scalar(value); }

  /// `::lace::sem::NAME<I>` of lace_semantics.cuh, I the body's integers.
  std::string semantic(const char *name) const {
    return std::string("::lace::sem::") + name + "<" +
           (narrow ? "int" : "long long") + ">";
  }
  llvm::raw_string_ostream &os;
  bool narrow;
  llvm::DenseMap<Value, std::string> names;
  unsigned counter = 0;
};

LogicalResult Emitter::statements(Block &block,
                                  llvm::ArrayRef<std::string> args) {
  for (auto [arg, name] : llvm::zip(block.getArguments(), args))
    names[arg] = name;
  for (Operation &op : block.without_terminator())
    if (failed(emitOp(op)))
      return failure();
  return success();
}

LogicalResult Emitter::emitOp(Operation &op) {
  if (op.getNumResults() != 1)
    return op.emitError() << "'" << op.getName()
                          << "' is not supported by the kernel generator";
  std::string name = "v" + std::to_string(counter++);
  Type type = op.getResult(0).getType();
  std::string cType = type.isF32()        ? "float"
                      : type.isInteger(1) ? "bool"
                      : narrow            ? "int"
                                          : "long long";
  llvm::SmallVector<std::string> in;
  for (Value operand : op.getOperands()) {
    FailureOr<std::string> text = scalar(operand);
    if (failed(text))
      return failure();
    in.push_back(*text);
  }
  auto binary = [&](const char *symbol) {
    return "(" + in[0] + " " + symbol + " " + in[1] + ")";
  };
  auto call = [&](const char *fn) {
    std::string text = std::string(fn) + "(";
    for (size_t i = 0; i < in.size(); ++i)
      text += (i ? ", " : "") + in[i];
    return text + ")";
  };
  std::optional<std::string> expr =
      llvm::TypeSwitch<Operation *, std::optional<std::string>>(&op)
          .Case([&](arith::ConstantOp constant) -> std::optional<std::string> {
            if (auto i = dyn_cast<IntegerAttr>(constant.getValue()))
              return type.isInteger(1)
                         ? std::string(i.getInt() ? "true" : "false")
                         : literal(i.getInt(), narrow);
            if (auto f = dyn_cast<FloatAttr>(constant.getValue()))
              return floatLiteral(f.getValueAsDouble());
            return std::nullopt;
          })
          .Case([&](arith::AddIOp) { return binary("+"); })
          .Case([&](arith::SubIOp) { return binary("-"); })
          .Case([&](arith::MulIOp) { return binary("*"); })
          .Case([&](arith::FloorDivSIOp) {
            return call(semantic("floor_div").c_str());
          })
          .Case([&](arith::DivSIOp) {
            return "(" + in[1] + " == 0 ? " + literal(0, narrow) + " : " +
                   binary("/") + ")";
          })
          .Case([&](arith::RemSIOp) {
            return "(" + in[1] + " == 0 ? " + literal(0, narrow) + " : " +
                   binary("%") + ")";
          })
          .Case([&](arith::MinSIOp) {
            return "(" + in[0] + " < " + in[1] + " ? " + in[0] + " : " + in[1] +
                   ")";
          })
          .Case([&](arith::MaxSIOp) {
            return "(" + in[0] + " > " + in[1] + " ? " + in[0] + " : " + in[1] +
                   ")";
          })
          .Case([&](math::AbsIOp) {
            return "(" + in[0] + " < 0 ? -" + in[0] + " : " + in[0] + ")";
          })
          .Case([&](arith::AndIOp) {
            return type.isInteger(1) ? binary("&&") : binary("&");
          })
          .Case([&](arith::OrIOp) {
            return type.isInteger(1) ? binary("||") : binary("|");
          })
          .Case([&](arith::XOrIOp) {
            return type.isInteger(1) ? binary("!=") : binary("^");
          })
          .Case([&](arith::SelectOp) {
            return "(" + in[0] + " ? " + in[1] + " : " + in[2] + ")";
          })
          .Case([&](arith::CmpIOp cmp) -> std::optional<std::string> {
            using P = arith::CmpIPredicate;
            switch (cmp.getPredicate()) {
            case P::eq:
              return binary("==");
            case P::ne:
              return binary("!=");
            case P::slt:
              return binary("<");
            case P::sle:
              return binary("<=");
            case P::sgt:
              return binary(">");
            case P::sge:
              return binary(">=");
            default:
              return std::nullopt;
            }
          })
          .Case([&](arith::CmpFOp cmp) -> std::optional<std::string> {
            using P = arith::CmpFPredicate;
            switch (cmp.getPredicate()) {
            case P::OEQ:
              return binary("==");
            case P::UNE:
              return binary("!=");
            case P::OLT:
              return binary("<");
            case P::OLE:
              return binary("<=");
            case P::OGT:
              return binary(">");
            case P::OGE:
              return binary(">=");
            default:
              return std::nullopt;
            }
          })
          .Case([&](arith::AddFOp) { return binary("+"); })
          .Case([&](arith::SubFOp) { return binary("-"); })
          .Case([&](arith::MulFOp) { return binary("*"); })
          .Case([&](arith::DivFOp) { return binary("/"); })
          .Case([&](arith::NegFOp) { return "(-" + in[0] + ")"; })
          .Case([&](arith::MinimumFOp) { return call("fminf"); })
          .Case([&](arith::MaximumFOp) { return call("fmaxf"); })
          .Case([&](arith::SIToFPOp) { return "((float)" + in[0] + ")"; })
          .Case([&](arith::FPToSIOp) { return "((long long)" + in[0] + ")"; })
          .Case([&](math::AbsFOp) { return call("fabsf"); })
          .Case([&](math::TanhOp) { return call("tanhf"); })
          .Case([&](math::ExpOp) { return call("expf"); })
          .Case([&](math::Exp2Op) { return call("exp2f"); })
          .Case([&](math::LogOp) { return call("logf"); })
          .Case([&](math::SqrtOp) { return call("sqrtf"); })
          .Default([](Operation *) { return std::nullopt; });
  if (!expr)
    return op.emitError() << "'" << op.getName()
                          << "' is not supported by the kernel generator";
  os << "    const " << cType << " " << name << " = " << *expr << ";\n";
  names[op.getResult(0)] = name;
  return success();
}

FailureOr<std::string> Emitter::scalar(Value value) {
  auto known = names.find(value);
  if (known != names.end())
    return known->second;
  // Values captured from the specialised body are constants.
  if (auto constant = value.getDefiningOp<arith::ConstantOp>()) {
    if (auto i = dyn_cast<IntegerAttr>(constant.getValue()))
      return value.getType().isInteger(1)
                 ? std::string(i.getInt() ? "true" : "false")
                 : literal(i.getInt(), narrow);
    if (auto f = dyn_cast<FloatAttr>(constant.getValue()))
      return floatLiteral(f.getValueAsDouble());
  }
  Operation *def = value.getDefiningOp();
  if (!def)
    return failure();
  if (auto var = dyn_cast<VarOp>(def)) {
    if (var.getKind() == VarKind::Head)
      return std::string("H");
    if (var.getKind() == VarKind::Batch)
      return std::string("B");
    return def->emitError() << "expected lace-specialize to bind this size";
  }
  // A body value the head index feeds: emit its operands, then itself.
  for (Value input : def->getOperands())
    if (failed(scalar(input)))
      return failure();
  if (failed(emitOp(*def)))
    return failure();
  return names.lookup(value);
}

FailureOr<std::string> Emitter::mask(Value value, int64_t seqK) {
  Operation *op = value.getDefiningOp();
  auto sub = [&](Value v) { return mask(v, seqK); };
  auto pair = [&](Value a, Value b, const char *fmt) -> FailureOr<std::string> {
    FailureOr<std::string> x = sub(a);
    if (failed(x))
      return failure();
    FailureOr<std::string> y = sub(b);
    if (failed(y))
      return failure();
    // Both sides are pure: `|` and `&` evaluate both without a branch
    // (ptxas if-converts the mask of a tile), except before BigBird's
    // generator, which is worth skipping when the left side decides.
    std::string text = fmt;
    if (y->find("lace_random_memo(") == std::string::npos) {
      for (auto [logical, bitwise] : {std::pair{"||", "|"}, {"&&", "&"}})
        if (std::size_t at = text.find(logical); at != std::string::npos)
          text.replace(at, 2, bitwise);
    }
    text.replace(text.find("$a"), 2, *x);
    text.replace(text.find("$b"), 2, *y);
    return text;
  };
  const std::string d = "(Q - K)";
  const std::string div = semantic("floor_div"), mod = semantic("floor_mod");
  bool operandFailed = false;
  auto v = [&](Value operand) -> std::string {
    FailureOr<std::string> text = scalar(operand);
    if (failed(text)) {
      operandFailed = true;
      return "0";
    }
    return *text;
  };
  FailureOr<std::string> result =
      llvm::TypeSwitch<Operation *, FailureOr<std::string>>(op)
          .Case([](FullOp) { return std::string("true"); })
          .Case([](EmptyOp) { return std::string("false"); })
          // The element tests of lace_semantics.cuh, written out rather than
          // called: through its inline functions ptxas allocated the tight
          // kernels differently (bigbird at head dim 64 spilled 88 bytes at
          // 255 registers). LibraryKernel.GeneratedFunctionsMatchThe-
          // Interpreter holds them to the same answers on every element.
          .Case([](CausalOp) { return std::string("(K <= Q)"); })
          .Case([&](LocalOp local) -> FailureOr<std::string> {
            std::string before = v(local.getBefore());
            std::string after = v(local.getAfter());
            std::string offset = d;
            if (local.getGranularity()) {
              std::string g = v(local.getGranularity());
              offset = "((" + div + "(Q, " + g + ") - " + div + "(K, " + g +
                       ")) * " + g + ")";
            }
            return "(" + offset + " >= -" + after + " & " + offset +
                   " <= " + before + ")";
          })
          // Dilated, strided and fixed keep `&&`/`||` around the remainder:
          // evaluated on every element it cost up to 60 registers more
          // (dilated) for no fewer instructions (lace-kernel-report,
          // bench/kernels/sass_counts.py).
          .Case([&](DilatedOp dilated) -> FailureOr<std::string> {
            std::string m = v(dilated.getDilation());
            std::string steps = div + "(" + d + ", " + m + ")";
            return "(" + mod + "(" + d + ", " + m + ") == 0 && " + steps +
                   " >= -" + v(dilated.getAfter()) + " & " + steps +
                   " <= " + v(dilated.getBefore()) + ")";
          })
          .Case([&](StridedOp strided) -> FailureOr<std::string> {
            std::string l = v(strided.getStride());
            return "(K <= Q & (" + d + " < " + l + " || " + mod + "(" + d +
                   ", " + l + ") == 0))";
          })
          .Case([&](FixedOp fixed) -> FailureOr<std::string> {
            std::string l = v(fixed.getStride());
            std::string c = v(fixed.getSummary());
            return "(K <= Q & (" + div + "(K, " + l + ") == " + div + "(Q, " +
                   l + ") || " + mod + "(K, " + l + ") >= " + l + " - " + c +
                   "))";
          })
          .Case([&](GlobalOp global) -> FailureOr<std::string> {
            auto member = [&](const std::string &x) {
              std::string text = "false";
              for (Value token : global.getTokens())
                text += " | " + x + " == " + v(token);
              if (global.getLo())
                text += " | (" + x + " >= " + v(global.getLo()) + " & " + x +
                        " < " + v(global.getHi()) + ")";
              return "(" + text + ")";
            };
            return "(" + member("Q") + " | " + member("K") + ")";
          })
          .Case([&](RandomOp random) -> FailureOr<std::string> {
            APInt perRow;
            if (!matchPattern(random.getPerRow(), m_ConstantInt(&perRow)) ||
                perRow.getSExtValue() > 64)
              return random.emitError() << "the kernel generator needs a "
                                           "constant per-row count of "
                                           "at most 64 random blocks";
            usesRandom = true;
            std::string g = v(random.getGranularity());
            return "lace_random_memo(memo, " + std::to_string(randomSites++) +
                   ", (unsigned long long)" + v(random.getSeed()) + ", H, " +
                   div + "(Q, " + g + "), " + div + "(K, " + g + "), " + div +
                   "(" + literal(seqK, narrow) + " + " + g + " - 1, " + g +
                   "), " + literal(perRow.getSExtValue(), narrow) + ")";
          })
          .Case([&](PrefixOp prefix) -> FailureOr<std::string> {
            return "(K < " + v(prefix.getLength()) + " | K <= Q)";
          })
          .Case([&](PredicateOp predicate) -> FailureOr<std::string> {
            std::string name = "pred" + std::to_string(counter++);
            os << "  auto " << name
               << " = [&](long long b, long long h, long long q, long long k) "
                  "-> bool {\n";
            if (failed(statements(predicate.getBody().front(),
                                  {"b", "h", "q", "k"})))
              return failure();
            auto yield =
                cast<YieldOp>(predicate.getBody().front().getTerminator());
            FailureOr<std::string> result = scalar(yield.getValues()[0]);
            if (failed(result))
              return failure();
            os << "    return " << *result << ";\n  };\n";
            return name + "(B, H, Q, K)";
          })
          .Case([&](UnionOp u) {
            return pair(u.getLhs(), u.getRhs(), "($a || $b)");
          })
          .Case([&](IntersectOp i) {
            return pair(i.getLhs(), i.getRhs(), "($a && $b)");
          })
          .Case([&](DifferenceOp df) {
            return pair(df.getLhs(), df.getRhs(), "($a && !$b)");
          })
          .Case([&](ComplementOp c) -> FailureOr<std::string> {
            FailureOr<std::string> inner = sub(c.getInput());
            if (failed(inner))
              return failure();
            return "(!" + *inner + ")";
          })
          .Case([&](SegmentOp) -> FailureOr<std::string> {
            // The ids are kernel parameters (LaceFwdParams::*_segment_ids).
            return std::string("::lace::same_segment(p, (int)Q, (int)K)");
          })
          .Default([&](Operation *other) -> FailureOr<std::string> {
            return other->emitError() << "expected a lace mask op";
          });
  if (operandFailed)
    return failure();
  return result;
}

LogicalResult Emitter::score(ScoreOp op) {
  if (failed(statements(op.getBody().front(), {"s", "B", "H", "Q", "K"})))
    return failure();
  auto yield = cast<YieldOp>(op.getBody().front().getTerminator());
  FailureOr<std::string> result = scalar(yield.getValues()[0]);
  if (failed(result))
    return failure();
  os << "    return " << *result << ";\n";
  return success();
}

FailureOr<std::string> Emitter::derivative(Value value) {
  if (value == scoreArgument)
    return std::string("1.0f");
  auto known = derivatives.find(value);
  if (known != derivatives.end())
    return known->second;
  Operation *op = value.getDefiningOp();
  if (!op || !value.getType().isF32() ||
      op->getParentOfType<ScoreOp>() == nullptr)
    return std::string("0.0f"); // an index, or a constant of the pattern
  llvm::SmallVector<std::string> in, d;
  for (Value operand : op->getOperands()) {
    FailureOr<std::string> text = scalar(operand);
    if (failed(text))
      return failure();
    in.push_back(*text);
    if (operand.getType().isF32()) {
      FailureOr<std::string> dText = derivative(operand);
      if (failed(dText))
        return failure();
      d.push_back(*dText);
    } else {
      d.push_back("0.0f");
    }
  }
  const std::string r = names.lookup(value);
  std::optional<std::string> expr =
      llvm::TypeSwitch<Operation *, std::optional<std::string>>(op)
          .Case([&](arith::ConstantOp) { return std::string("0.0f"); })
          .Case([&](arith::SIToFPOp) { return std::string("0.0f"); })
          .Case([&](arith::AddFOp) { return "(" + d[0] + " + " + d[1] + ")"; })
          .Case([&](arith::SubFOp) { return "(" + d[0] + " - " + d[1] + ")"; })
          .Case([&](arith::MulFOp) {
            return "(" + d[0] + " * " + in[1] + " + " + in[0] + " * " + d[1] +
                   ")";
          })
          .Case([&](arith::DivFOp) {
            return "((" + d[0] + " - " + r + " * " + d[1] + ") / " + in[1] +
                   ")";
          })
          .Case([&](arith::NegFOp) { return "(-" + d[0] + ")"; })
          .Case([&](arith::MinimumFOp) {
            return "(" + in[0] + " <= " + in[1] + " ? " + d[0] + " : " + d[1] +
                   ")";
          })
          .Case([&](arith::MaximumFOp) {
            return "(" + in[0] + " >= " + in[1] + " ? " + d[0] + " : " + d[1] +
                   ")";
          })
          .Case([&](arith::SelectOp) {
            return "(" + in[0] + " ? " + d[1] + " : " + d[2] + ")";
          })
          .Case([&](math::AbsFOp) {
            return "(" + in[0] + " < 0.0f ? -" + d[0] + " : " + d[0] + ")";
          })
          .Case([&](math::TanhOp) {
            return "(" + d[0] + " * (1.0f - " + r + " * " + r + "))";
          })
          .Case([&](math::ExpOp) { return "(" + d[0] + " * " + r + ")"; })
          .Case([&](math::Exp2Op) {
            return "(" + d[0] + " * " + r + " * 0.693147181f)";
          })
          .Case([&](math::LogOp) { return "(" + d[0] + " / " + in[0] + ")"; })
          .Case([&](math::SqrtOp) {
            return "(" + d[0] + " / (2.0f * " + r + "))";
          })
          .Default([](Operation *) { return std::nullopt; });
  if (!expr)
    return op->emitError() << "'" << op->getName()
                           << "' has no derivative in the kernel generator";
  const std::string name = "d" + r;
  os << "    const float " << name << " = " << *expr << ";\n";
  derivatives[value] = name;
  return name;
}

LogicalResult Emitter::scoreGrad(ScoreOp op) {
  Block &body = op.getBody().front();
  scoreArgument = body.getArgument(0);
  if (failed(statements(body, {"s", "B", "H", "Q", "K"})))
    return failure();
  auto yield = cast<YieldOp>(body.getTerminator());
  FailureOr<std::string> result = derivative(yield.getValues()[0]);
  if (failed(result))
    return failure();
  os << "    return " << *result << ";\n";
  derivatives.clear();
  return success();
}

std::string headCondition(llvm::ArrayRef<int64_t> heads, bool narrow) {
  std::string text;
  for (int64_t head : heads)
    text += (text.empty() ? "" : " || ") + ("H == " + literal(head, narrow));
  return "(" + text + ")";
}

} // namespace

FailureOr<PatternFunctions> lace::emitPatternFunctions(ModuleOp module,
                                                       bool allowNarrow) {
  auto problem = module->getAttrOfType<DictionaryAttr>("lace.problem");
  if (!problem)
    return module.emitError()
           << "expected a module specialised by lace-specialize";
  int64_t seqK = cast<IntegerAttr>(problem.get("seq_k")).getInt();
  int64_t seqQ = cast<IntegerAttr>(problem.get("seq_q")).getInt();
  int64_t numHeads = cast<IntegerAttr>(problem.get("heads")).getInt();
  bool everyHead = false; ///< one branch for every head: no head test
  const auto branches =
      llvm::count_if(module.getOps<PatternOp>(), [](PatternOp pattern) {
        return pattern->hasAttr("lace.heads");
      });
  const bool narrow = allowNarrow && fitsInt32(module, seqQ, seqK);

  std::string live, liveBranches, score, scoreBranches, grad, gradBranches;
  llvm::raw_string_ostream liveOs(live), scoreOs(score), gradOs(grad);
  Emitter liveEmitter(liveOs, narrow), scoreEmitter(scoreOs),
      gradEmitter(gradOs);
  llvm::raw_string_ostream liveBranchOs(liveBranches),
      scoreBranchOs(scoreBranches), gradBranchOs(gradBranches);
  bool hasScore = false;
  for (PatternOp pattern : module.getOps<PatternOp>()) {
    auto heads = pattern->getAttrOfType<DenseI64ArrayAttr>("lace.heads");
    if (!heads)
      continue;
    FailureOr<std::string> expr = liveEmitter.mask(pattern.getMask(), seqK);
    if (failed(expr))
      return failure();
    // One branch for every head needs no test: a branch per element around
    // each evaluation keeps the compiler from sharing loads (the segment
    // ids) and values between the elements of a tile.
    everyHead = static_cast<int64_t>(heads.size()) == numHeads && branches == 1;
    if (everyHead)
      liveBranchOs << "  return " << *expr << ";\n";
    else
      liveBranchOs << "  if " << headCondition(heads.asArrayRef(), narrow)
                   << " return " << *expr << ";\n";
    if (Value scoreValue = pattern.getScore()) {
      hasScore = true;
      scoreBranchOs << "  if " << headCondition(heads.asArrayRef(), false)
                    << " {\n";
      if (failed(scoreEmitter.score(scoreValue.getDefiningOp<ScoreOp>())))
        return failure();
      scoreBranchOs << scoreOs.str() << "  }\n";
      score.clear();
      gradBranchOs << "  if " << headCondition(heads.asArrayRef(), false)
                   << " {\n";
      if (failed(gradEmitter.scoreGrad(scoreValue.getDefiningOp<ScoreOp>())))
        return failure();
      gradBranchOs << gradOs.str() << "  }\n";
      grad.clear();
    }
  }
  PatternFunctions functions;
  functions.helpers = liveEmitter.usesRandom ? kRandomHelpers : "";
  functions.narrow = narrow;
  functions.liveBody = prelude(narrow) + liveOs.str() + liveBranchOs.str() +
                       (everyHead ? "" : "  return false;\n");
  if (hasScore) {
    functions.scoreBody =
        prelude(false) + scoreBranchOs.str() + "  return s;\n";
    functions.scoreGradBody =
        prelude(false) + gradBranchOs.str() + "  return 1.0f;\n";
  }
  return functions;
}
