//===- Parameters.cpp - Binding a pattern's parameters --------------------===//
//
// Overrides (name=value text) parsed by each parameter's type, defaults
// evaluated as constant expressions, unknown names reported with a
// suggestion.
//
//===----------------------------------------------------------------------===//
#include "ConstEval.h"
#include "InstanceState.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace lace::frontend {

namespace {

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

} // namespace

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

} // namespace lace::frontend
