//===- CheckCommand.cpp - `lace check FILE` -------------------------------===//
//
// Parses and checks a file; prints diagnostics and exits 1 on error, or one
// summary line per pattern:
//   pattern causal_window(window=256): mask intersect(causal, local), no score
// A pattern whose parameters all have values (defaults or --param) is also
// instantiated at a small shape, so check reports everything `show` would.
// --werror turns warnings into errors.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Session.h"

#include <cstdio>
#include <iostream>

namespace lace::tool {

using namespace lace::frontend;

namespace {

std::string formatValue(ParamType type, const Value &v) {
  switch (type) {
  case ParamType::Int:
    return std::to_string(v.i);
  case ParamType::Bool:
    return v.b ? "true" : "false";
  case ParamType::Float: {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(v.f));
    return buffer;
  }
  }
  return "?";
}

/// The shape check instantiates at: small, with two heads so that per-head
/// arguments are folded for more than head 0.
constexpr Shape kCheckShape{1, 2, 128, 128};

/// Instantiates `pattern` at kCheckShape, reporting what instantiation
/// reports. Segment ids are a run-time input, so one document stands in for
/// any valid ids.
std::unique_ptr<Instance>
instantiateForCheck(const Pattern &pattern,
                    std::span<const ParamOverride> overrides,
                    DiagnosticEngine &diags) {
  SegmentIds oneDocument;
  oneDocument.q.assign(static_cast<std::size_t>(kCheckShape.seqQ), 0);
  oneDocument.k.assign(static_cast<std::size_t>(kCheckShape.seqK), 0);
  return instantiate(pattern, overrides, kCheckShape, diags,
                     usesSegments(pattern) ? &oneDocument : nullptr);
}

/// A short structural description, two levels deep.
std::string describe(const Expr &e, int depth) {
  std::string name(exprKindName(e.kind));
  if (e.kind == ExprKind::PatternCall)
    name = e.name;
  bool combinator =
      e.kind == ExprKind::Union || e.kind == ExprKind::Intersect ||
      e.kind == ExprKind::Difference || e.kind == ExprKind::Complement ||
      e.kind == ExprKind::Conditional;
  if (!combinator || depth == 0)
    return name;
  std::string out = name + "(";
  bool first = true;
  for (const ExprPtr &operand : e.operands) {
    if (operand->type != Type::Mask)
      continue;
    out += first ? "" : ", ";
    out += describe(*operand, depth - 1);
    first = false;
  }
  return out + ")";
}

} // namespace

int runCheck(std::span<const std::string> args) {
  PatternOptions options;
  bool warningsAsErrors = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--werror") {
      warningsAsErrors = true;
      continue;
    }
    std::string error;
    if (!parsePatternOption(args, i, options, error))
      return usageError("unknown option '" + args[i] +
                        "' for 'check', expected --pattern NAME, --param "
                        "name=value or --werror");
    if (!error.empty())
      return usageError(error);
  }
  if (options.file.empty())
    return usageError("'check' expects a file: lace check FILE");
  Session session;
  session.diags().setWarningsAsErrors(warningsAsErrors);
  if (!session.load(options.file))
    return 1;
  std::optional<std::vector<const Pattern *>> selected =
      session.selectPatterns(options.pattern);
  if (!selected)
    return 1;
  const std::vector<const Pattern *> &patterns = *selected;
  if (options.pattern.empty() && !options.params.empty() && patterns.size() > 1)
    return usageError("--param needs --pattern when '" + options.file +
                      "' defines several patterns");
  bool ok = true;
  for (const Pattern *pattern : patterns) {
    bool complete = true;
    for (const Param &param : pattern->params) {
      bool given = false;
      for (const ParamOverride &o : options.params)
        given = given || o.name == param.name;
      complete = complete && (given || param.defaultValue);
    }
    std::optional<std::vector<Value>> values;
    if (complete) {
      auto instance =
          instantiateForCheck(*pattern, options.params, session.diags());
      if (!instance) {
        // A constant can depend on the shape (seq_q, heads): say which.
        std::cerr << "lace: note: '" << pattern->name
                  << "' was instantiated at batch " << kCheckShape.batch << ", "
                  << kCheckShape.heads
                  << " heads, seq_q = seq_k = " << kCheckShape.seqQ << "\n";
        ok = false;
        continue;
      }
      values.emplace();
      for (std::size_t i = 0; i < instance->numParams(); ++i)
        values->push_back(instance->paramValue(i));
    } else if (!options.params.empty()) {
      // Reports the parameters still without a value.
      values = bindParams(*pattern, options.params, session.diags());
      if (!values) {
        ok = false;
        continue;
      }
    }
    std::string params;
    if (values) {
      for (std::size_t i = 0; i < values->size(); ++i)
        params += (i ? ", " : "") + pattern->params[i].name + "=" +
                  formatValue(pattern->params[i].type, (*values)[i]);
    } else {
      for (std::size_t i = 0; i < pattern->params.size(); ++i)
        params += (i ? ", " : "") + pattern->params[i].name + ": " +
                  std::string(paramTypeName(pattern->params[i].type)) +
                  (pattern->params[i].defaultValue ? "" : " (required)");
    }
    std::cout << "pattern " << pattern->name << "(" << params << "): mask "
              << describe(*pattern->mask, 2) << ", "
              << (pattern->score ? "score" : "no score") << "\n";
  }
  return ok ? 0 : 1;
}

} // namespace lace::tool
