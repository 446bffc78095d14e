//===- Interpreter.cpp ----------------------------------------------------===//
#include "lace/Frontend/Interpreter.h"

#include "ConstEval.h"
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

struct Instance::Element {
  std::int64_t b, h, q, k;
  float s;
  std::uint64_t gen;
};

/// A normalized union of closed intervals [lo, hi].
struct Instance::SetIntervals {
  std::vector<std::pair<std::int64_t, std::int64_t>> intervals;

  void add(std::int64_t lo, std::int64_t hi) { intervals.push_back({lo, hi}); }
  void normalize() {
    std::sort(intervals.begin(), intervals.end());
    std::vector<std::pair<std::int64_t, std::int64_t>> merged;
    for (auto [lo, hi] : intervals) {
      if (!merged.empty() && lo <= merged.back().second + 1 &&
          merged.back().second != INT64_MAX) {
        merged.back().second = std::max(merged.back().second, hi);
      } else if (!merged.empty() && merged.back().second == INT64_MAX) {
        continue;
      } else {
        merged.push_back({lo, hi});
      }
    }
    intervals = std::move(merged);
  }
  bool contains(std::int64_t v) const {
    auto it = std::upper_bound(intervals.begin(), intervals.end(), v,
                               [](std::int64_t x, const auto &interval) {
                                 return x < interval.first;
                               });
    if (it == intervals.begin())
      return false;
    --it;
    return v <= it->second;
  }
};

struct Instance::Shared {
  std::uint64_t generation = 0;
  std::vector<std::int64_t> segQ, segK;
  std::map<std::pair<const Pattern *, std::vector<std::int64_t>>,
           std::unique_ptr<Instance>>
      subs;
};

struct Instance::Memo {
  std::vector<Value> letValue;
  std::vector<std::uint64_t> letGen;
  std::vector<SetIntervals> letSet;
  std::vector<std::uint64_t> letSetGen;
  std::uint64_t maskGen = ~std::uint64_t{0};
  bool maskValue = false;
  struct RandomCache {
    bool valid = false;
    std::uint64_t seed = 0;
    std::int64_t head = 0, row = 0, numBlocks = 0, perRow = 0;
    std::vector<std::int64_t> blocks;
  };
  std::vector<RandomCache> random; ///< by Expr::id
};

Instance::~Instance() = default;

namespace {

bool isScalar(Type t) {
  return t == Type::Int || t == Type::Float || t == Type::Bool;
}

/// Operand `i` of primitive `e` clamped as the language defines
/// (Primitives.def).
std::int64_t clampedOperand(const Expr &e, std::size_t i, std::int64_t v) {
  return primitiveOperands(e.kind)[i].clamp(v);
}

std::optional<Value> parseValue(ParamType type, const std::string &text,
                                bool &overflow) {
  overflow = false;
  switch (type) {
  case ParamType::Int: {
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '+')
      digits.remove_prefix(1);
    std::int64_t v = 0;
    auto [ptr, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec == std::errc::result_out_of_range) {
      overflow = true;
      return std::nullopt;
    }
    if (ec != std::errc() || ptr != digits.data() + digits.size() ||
        digits.empty())
      return std::nullopt;
    return Value::ofInt(v);
  }
  case ParamType::Bool:
    if (text == "true" || text == "1")
      return Value::ofBool(true);
    if (text == "false" || text == "0")
      return Value::ofBool(false);
    return std::nullopt;
  case ParamType::Float: {
    if (text.empty())
      return std::nullopt;
    char *end = nullptr;
    float v = std::strtof(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(v))
      return std::nullopt;
    return Value::ofFloat(v);
  }
  }
  return std::nullopt;
}

std::optional<std::vector<Value>>
bindParamValues(const Pattern &pattern, std::vector<std::optional<Value>> given,
                DiagnosticEngine &diags) {
  std::vector<Value> values;
  bool ok = true;
  for (std::size_t i = 0; i < pattern.params.size(); ++i) {
    const Param &param = pattern.params[i];
    if (given[i]) {
      values.push_back(*given[i]);
      continue;
    }
    if (!param.defaultValue) {
      diags.emit(DiagnosticKind::MissingParameterValue, param.nameRange,
                 "no value for parameter '" + param.name + "' of pattern '" +
                     pattern.name + "', expected an override such as '" +
                     param.name + "=...' (it has no default)");
      ok = false;
      values.push_back(Value{});
      continue;
    }
    ConstEvaluator evaluator(ConstEnv{&pattern, &values, nullptr, nullptr},
                             &diags);
    auto v = evaluator.eval(*param.defaultValue);
    if (!v) {
      ok = false;
      values.push_back(Value{});
      continue;
    }
    values.push_back(*v);
  }
  if (!ok)
    return std::nullopt;
  return values;
}

void walkSegments(const Pattern &p, std::set<const Pattern *> &seen,
                  bool &found);

void walkSegmentsExpr(const Expr &e, std::set<const Pattern *> &seen,
                      bool &found) {
  if (found)
    return;
  if (e.kind == ExprKind::Segment)
    found = true;
  if (e.kind == ExprKind::PatternCall && e.callee)
    walkSegments(*e.callee, seen, found);
  for (const ExprPtr &operand : e.operands)
    if (operand)
      walkSegmentsExpr(*operand, seen, found);
}

void walkSegments(const Pattern &p, std::set<const Pattern *> &seen,
                  bool &found) {
  if (!seen.insert(&p).second)
    return;
  for (const Let &let : p.lets)
    walkSegmentsExpr(*let.value, seen, found);
  if (p.mask)
    walkSegmentsExpr(*p.mask, seen, found);
}

} // namespace

bool usesSegments(const Pattern &pattern) {
  std::set<const Pattern *> seen;
  bool found = false;
  walkSegments(pattern, seen, found);
  return found;
}

std::optional<std::vector<Value>>
bindParams(const Pattern &pattern, std::span<const ParamOverride> overrides,
           DiagnosticEngine &diags) {
  std::vector<std::optional<Value>> given(pattern.params.size());
  bool ok = true;
  for (const ParamOverride &override : overrides) {
    int index = pattern.findParam(override.name);
    if (index < 0) {
      std::vector<std::string> names;
      for (const Param &param : pattern.params)
        names.push_back(param.name);
      auto builder =
          diags.emit(DiagnosticKind::UnknownParameter, pattern.nameRange,
                     "unknown parameter '" + override.name + "' for pattern '" +
                         pattern.name + "'");
      std::string_view suggestion = closestName(override.name, names);
      if (!suggestion.empty())
        builder.note(
            pattern
                .params[static_cast<std::size_t>(pattern.findParam(suggestion))]
                .nameRange,
            "did you mean '" + std::string(suggestion) + "'?");
      ok = false;
      continue;
    }
    const Param &param = pattern.params[static_cast<std::size_t>(index)];
    bool overflow = false;
    auto v = parseValue(param.type, override.value, overflow);
    if (!v) {
      if (overflow)
        diags.emit(DiagnosticKind::IntegerOverflow, param.nameRange,
                   "value '" + override.value + "' for parameter '" +
                       param.name +
                       "' overflows, expected an int in "
                       "[-2^63, 2^63)");
      else
        diags.emit(DiagnosticKind::InvalidParameterValue, param.nameRange,
                   "value '" + override.value + "' for parameter '" +
                       param.name + "' is not a valid " +
                       std::string(paramTypeName(param.type)) +
                       (param.type == ParamType::Bool
                            ? ", expected true, false, 1 or 0"
                            : ""));
      ok = false;
      continue;
    }
    given[static_cast<std::size_t>(index)] = *v;
  }
  if (!ok)
    return std::nullopt;
  return bindParamValues(pattern, std::move(given), diags);
}

/// Builds instances: binds, folds and checks.
class InstanceBuilder {
public:
  InstanceBuilder(Instance::Shared &shared, const Shape &shape,
                  DiagnosticEngine &diags)
      : shared_(shared), shape_(shape), diags_(diags) {}

  std::unique_ptr<Instance> build(const Pattern &p, std::vector<Value> params) {
    std::unique_ptr<Instance> inst(new Instance());
    inst->pattern_ = &p;
    inst->shape_ = shape_;
    inst->params_ = std::move(params);
    inst->shared_ = &shared_;
    std::size_t n = static_cast<std::size_t>(p.numExprIds);
    inst->constValue_.assign(n, Value{});
    inst->isConst_.assign(n, 0);
    inst->constSet_.assign(n, -1);
    inst->callee_.assign(n, nullptr);
    inst->letConst_.assign(p.lets.size(), std::nullopt);
    inst->memo_ = std::make_unique<Instance::Memo>();
    inst->memo_->letValue.assign(p.lets.size(), Value{});
    inst->memo_->letGen.assign(p.lets.size(), ~std::uint64_t{0});
    inst->memo_->letSet.assign(p.lets.size(), {});
    inst->memo_->letSetGen.assign(p.lets.size(), ~std::uint64_t{0});
    inst->memo_->random.resize(n);
    unsigned errorsBefore = diags_.errorCount();
    building_.push_back(&p);
    for (std::size_t i = 0; i < p.lets.size(); ++i) {
      const Expr &value = *p.lets[i].value;
      fold(*inst, value);
      if (isScalar(value.type) && inst->isConst_[idx(value)])
        inst->letConst_[i] = inst->constValue_[idx(value)];
    }
    fold(*inst, *p.mask);
    if (p.score)
      fold(*inst, *p.score);
    building_.pop_back();
    if (diags_.errorCount() != errorsBefore || diags_.stopped())
      return nullptr;
    return inst;
  }

private:
  static std::size_t idx(const Expr &e) {
    return static_cast<std::size_t>(e.id);
  }

  void fold(Instance &inst, const Expr &e) {
    bool elementConstant = !(e.deps & kElementDeps);
    if (isScalar(e.type) && elementConstant) {
      ConstEvaluator evaluator(
          ConstEnv{inst.pattern_, &inst.params_, &shape_, &inst.letConst_},
          &diags_);
      if (auto v = evaluator.eval(e)) {
        inst.constValue_[idx(e)] = *v;
        inst.isConst_[idx(e)] = 1;
      }
      return;
    }
    if (e.type == Type::IntSet && elementConstant) {
      Instance::SetIntervals set;
      if (materializeConst(inst, e, set)) {
        set.normalize();
        inst.constSet_[idx(e)] = static_cast<std::int32_t>(inst.sets_.size());
        inst.sets_.push_back(
            std::make_unique<Instance::SetIntervals>(std::move(set)));
      }
      // Fold the parts too, for error reporting.
      for (const ExprPtr &operand : e.operands)
        fold(inst, *operand);
      return;
    }
    for (const ExprPtr &operand : e.operands)
      if (operand)
        fold(inst, *operand);
    auto constant = [&](const Expr &arg) -> std::optional<std::int64_t> {
      if (arg.type != Type::Int || !inst.isConst_[idx(arg)])
        return std::nullopt;
      return inst.constValue_[idx(arg)].i;
    };
    if (e.kind == ExprKind::PatternCall) {
      buildCallee(inst, e);
    } else if (isMaskPrimitive(e.kind)) {
      checkPrimitiveValues(e, constant, diags_);
    } else {
      // Sema warned about literal-only divisors already.
      checkElementDivisor(
          e,
          [&](const Expr &divisor) {
            return divisor.deps != 0 ? constant(divisor) : std::nullopt;
          },
          diags_);
    }
  }

  bool materializeConst(Instance &inst, const Expr &e,
                        Instance::SetIntervals &out) {
    ConstEvaluator evaluator(
        ConstEnv{inst.pattern_, &inst.params_, &shape_, &inst.letConst_},
        nullptr);
    switch (e.kind) {
    case ExprKind::Range: {
      auto lo = evaluator.eval(e.operand(0));
      auto hi = evaluator.eval(e.operand(1));
      if (!lo || !hi)
        return false;
      if (lo->i < hi->i)
        out.add(lo->i, hi->i - 1);
      return true;
    }
    case ExprKind::Set:
      for (const ExprPtr &element : e.operands) {
        if (element->type == Type::Int) {
          auto v = evaluator.eval(*element);
          if (!v)
            return false;
          out.add(v->i, v->i);
        } else if (!materializeConst(inst, *element, out)) {
          return false;
        }
      }
      return true;
    case ExprKind::Conditional: {
      auto cond = evaluator.eval(e.operand(0));
      if (!cond)
        return false;
      return materializeConst(inst, e.operand(cond->b ? 1 : 2), out);
    }
    case ExprKind::LetRef: {
      const Expr &value =
          *inst.pattern_->lets[static_cast<std::size_t>(e.index)].value;
      if (inst.constSet_[idx(value)] < 0)
        return false;
      const auto &set =
          *inst.sets_[static_cast<std::size_t>(inst.constSet_[idx(value)])];
      out.intervals.insert(out.intervals.end(), set.intervals.begin(),
                           set.intervals.end());
      return true;
    }
    default:
      return false;
    }
  }

  void buildCallee(Instance &inst, const Expr &call) {
    const Pattern &callee = *call.callee;
    if (!callee.checked)
      return;
    // Sema rejects recursion, but it stops checking after too many errors;
    // instantiation must never recurse without end on such a program.
    if (std::find(building_.begin(), building_.end(), &callee) !=
        building_.end()) {
      diags_.emit(DiagnosticKind::PatternRecursion, call.range,
                  "pattern recursion: '" + callee.name +
                      "' is instantiated while it is being instantiated");
      return;
    }
    std::vector<std::optional<Value>> given(callee.params.size());
    for (std::size_t i = 0; i < call.operands.size(); ++i) {
      const ExprPtr &arg = call.operands[i];
      if (!arg)
        continue;
      if (!inst.isConst_[idx(*arg)])
        return; // an error was reported while folding it
      given[i] = inst.constValue_[idx(*arg)];
    }
    auto params = bindParamValues(callee, std::move(given), diags_);
    if (!params)
      return;
    std::vector<std::int64_t> key;
    for (const Value &v : *params) {
      key.push_back(v.i);
      key.push_back(std::bit_cast<std::int32_t>(v.f));
      key.push_back(v.b);
    }
    auto mapKey = std::make_pair(&callee, std::move(key));
    auto it = shared_.subs.find(mapKey);
    if (it == shared_.subs.end()) {
      std::unique_ptr<Instance> sub = build(callee, std::move(*params));
      if (!sub)
        return;
      it = shared_.subs.emplace(std::move(mapKey), std::move(sub)).first;
    }
    inst.callee_[idx(call)] = it->second.get();
  }

  Instance::Shared &shared_;
  Shape shape_;
  DiagnosticEngine &diags_;
  /// The patterns being built, outermost first.
  std::vector<const Pattern *> building_;
};

std::unique_ptr<Instance> instantiate(const Pattern &pattern,
                                      std::span<const ParamOverride> overrides,
                                      const Shape &shape,
                                      DiagnosticEngine &diags,
                                      const SegmentIds *segments) {
  if (!pattern.checked || !pattern.mask)
    return nullptr;
  bool ok = true;
  auto checkSize = [&](std::int64_t v, const char *name) {
    if (v < 1 || v >= kMaxExtent) {
      diags.emit(DiagnosticKind::InvalidShape, pattern.nameRange,
                 std::string("invalid shape for pattern '") + pattern.name +
                     "': " + name + " is " + std::to_string(v) +
                     ", expected a value in [1, 2^31)");
      ok = false;
    }
  };
  checkSize(shape.batch, "batch");
  checkSize(shape.heads, "heads");
  checkSize(shape.seqQ, "seq_q");
  checkSize(shape.seqK, "seq_k");
  auto shared = std::make_unique<Instance::Shared>();
  if (ok && usesSegments(pattern)) {
    if (!segments || segments->q.empty()) {
      diags.emit(DiagnosticKind::MissingSegmentIds, pattern.nameRange,
                 "pattern '" + pattern.name +
                     "' uses 'segment' but no segment ids were given, "
                     "expected one id per query token");
      ok = false;
    } else {
      const auto &kIds = segments->k.empty() ? segments->q : segments->k;
      if (static_cast<std::int64_t>(segments->q.size()) != shape.seqQ ||
          static_cast<std::int64_t>(kIds.size()) != shape.seqK) {
        diags.emit(
            DiagnosticKind::InvalidSegmentIds, pattern.nameRange,
            "segment ids have " + std::to_string(segments->q.size()) +
                " query and " + std::to_string(kIds.size()) +
                " key entries, expected seq_q = " + std::to_string(shape.seqQ) +
                " and seq_k = " + std::to_string(shape.seqK));
        ok = false;
      } else {
        shared->segQ = segments->q;
        shared->segK = kIds;
      }
    }
  }
  auto params = bindParams(pattern, overrides, diags);
  if (!ok || !params)
    return nullptr;
  InstanceBuilder builder(*shared, shape, diags);
  std::unique_ptr<Instance> root = builder.build(pattern, std::move(*params));
  if (!root)
    return nullptr;
  root->ownedShared_ = std::move(shared);
  return root;
}

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
