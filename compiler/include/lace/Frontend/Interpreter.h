//===- Interpreter.h - The executable definition of a pattern -------------===//
//
// An Instance is a checked Pattern specialized to parameter values and a
// problem shape. It evaluates mask(b, h, q, k) and score(s, b, h, q, k)
// directly from the checked AST; everything that does not vary per element
// is folded once at instantiation. This is the oracle every other Lace stage
// is tested against.
//
//   auto inst = instantiate(*pattern, {{"window", "64"}}, Shape{1, 2, 128,
//   128},
//                           diags);
//   if (inst) live = inst->mask(0, h, q, k);
//
// An Instance caches per-element state (let values, random blocks): use one
// Instance per thread.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_INTERPRETER_H
#define LACE_FRONTEND_INTERPRETER_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Semantics.h"
#include "lace/Support/SegmentIds.h"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lace::frontend {

/// `name=value` with the value spelled as on the command line: an int
/// (decimal, optional sign), a bool (true/false/1/0) or a float.
struct ParamOverride {
  std::string name;
  std::string value;
};

/// Per-token document ids for `segment` (lace/Support/SegmentIds.h).
using SegmentIds = ::lace::SegmentIds;

/// Parses overrides and evaluates defaults, in parameter order. Reports
/// unknown names (with a suggestion), unparsable values, missing values and
/// overflow. Returns one Value per parameter.
std::optional<std::vector<Value>>
bindParams(const Pattern &pattern, std::span<const ParamOverride> overrides,
           DiagnosticEngine &diags);

/// True if the pattern's mask uses `segment`, directly or through calls.
bool usesSegments(const Pattern &pattern);

class Instance {
public:
  ~Instance();
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;

  /// Is element (b, h, q, k) live? Indices must lie inside the shape.
  bool mask(std::int64_t b, std::int64_t h, std::int64_t q,
            std::int64_t k) const;
  /// The modified score; `s` itself when the pattern has no score.
  float score(float s, std::int64_t b, std::int64_t h, std::int64_t q,
              std::int64_t k) const;
  bool hasScore() const { return pattern_->score != nullptr; }
  /// d score / d s at (s, b, h, q, k), exact (forward-mode over the score
  /// expression); 1 when the pattern has no score. The backward's chain
  /// rule through the score modifier.
  double scoreDerivative(float s, std::int64_t b, std::int64_t h,
                         std::int64_t q, std::int64_t k) const;

  const Pattern &pattern() const { return *pattern_; }
  const Shape &shape() const { return shape_; }
  std::size_t numParams() const { return params_.size(); }
  /// Value of parameter i (field per its ParamType).
  Value paramValue(std::size_t i) const { return params_[i]; }
  /// The folded value of an expression that does not vary per element
  /// (after instantiation), e.g. a primitive's argument; nullopt otherwise.
  std::optional<Value> constantValue(const Expr &e) const;

  struct Shared;
  struct Element;
  struct SetIntervals;

private:
  friend std::unique_ptr<Instance>
  instantiate(const Pattern &, std::span<const ParamOverride>, const Shape &,
              DiagnosticEngine &, const SegmentIds *);
  friend class InstanceBuilder;
  Instance() = default;

  Value eval(const Expr &e, const Element &x) const;
  double derivative(const Expr &e, const Element &x) const;
  bool evalMask(const Expr &e, const Element &x) const;
  bool contains(const Expr &set, std::int64_t v, const Element &x) const;
  bool evalRandom(const Expr &e, const Element &x) const;
  Value letValue(std::size_t i, const Element &x) const;
  const SetIntervals &letSet(std::size_t i, const Element &x) const;
  bool memoMask(const Element &x) const;

  const Pattern *pattern_ = nullptr;
  Shape shape_;
  std::vector<Value> params_;
  Shared *shared_ = nullptr;            ///< owned by the root instance
  std::unique_ptr<Shared> ownedShared_; ///< root only
  std::vector<Value> constValue_;       ///< by Expr::id
  std::vector<std::uint8_t> isConst_;   ///< by Expr::id
  std::vector<std::int32_t> constSet_;  ///< by Expr::id: index or -1
  std::vector<std::unique_ptr<SetIntervals>> sets_;
  std::vector<const Instance *> callee_; ///< by Expr::id (PatternCall)
  std::vector<std::optional<Value>> letConst_;
  struct Memo;
  std::unique_ptr<Memo> memo_;
};

/// Binds parameters, validates the shape (all sizes in [1, 2^31)) and the
/// segment ids, folds constants and checks constant primitive arguments.
/// Returns null after reporting when something is wrong. The pattern (and
/// its Program) must outlive the Instance.
std::unique_ptr<Instance> instantiate(const Pattern &pattern,
                                      std::span<const ParamOverride> overrides,
                                      const Shape &shape,
                                      DiagnosticEngine &diags,
                                      const SegmentIds *segments = nullptr);

} // namespace lace::frontend

#endif // LACE_FRONTEND_INTERPRETER_H
