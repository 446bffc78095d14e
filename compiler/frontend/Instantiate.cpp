//===- Instantiate.cpp - A pattern specialised to parameters and a shape --===//
//
// instantiate(): parameters bound, segment ids checked, constants folded,
// callees instantiated with their arguments; the Instance it returns is
// what Interpreter.cpp evaluates.
//
//===----------------------------------------------------------------------===//
#include "ConstEval.h"
#include "InstanceState.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

namespace lace::frontend {

Instance::~Instance() = default;

namespace {

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

} // namespace lace::frontend
