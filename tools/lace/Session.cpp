//===- Session.cpp --------------------------------------------------------===//
#include "Session.h"

#include <iostream>

namespace lace::tool {

using namespace lace::frontend;

int usageError(const std::string &message) {
  std::cerr << "lace: error: " << message << "\n";
  return 1;
}

bool takeValue(std::span<const std::string> args, std::size_t &i,
               std::string_view flag, std::string &value) {
  const std::string &arg = args[i];
  if (arg == flag) {
    if (i + 1 >= args.size())
      return false;
    value = args[++i];
    return true;
  }
  if (arg.size() > flag.size() && arg.compare(0, flag.size(), flag) == 0 &&
      arg[flag.size()] == '=') {
    value = arg.substr(flag.size() + 1);
    return true;
  }
  return false;
}

bool parsePatternOption(std::span<const std::string> args, std::size_t &i,
                        PatternOptions &options, std::string &error) {
  const std::string &arg = args[i];
  std::string value;
  if ((arg == "--pattern" || arg == "--param") && i + 1 >= args.size()) {
    error = "option '" + arg + "' expects a value";
    return true;
  }
  if (takeValue(args, i, "--pattern", value)) {
    options.pattern = value;
    return true;
  }
  if (takeValue(args, i, "--param", value)) {
    std::size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "--param expects name=value, found '" + value + "'";
      return true;
    }
    options.params.push_back({value.substr(0, eq), value.substr(eq + 1)});
    return true;
  }
  if (!arg.empty() && arg[0] != '-') {
    if (!options.file.empty()) {
      error =
          "more than one input file ('" + options.file + "' and '" + arg + "')";
      return true;
    }
    options.file = arg;
    return true;
  }
  return false;
}

Session::Session()
    : sources_(disk_), diags_(sources_, &consumer_),
      consumer_(std::cerr, diags_) {}

bool Session::load(const std::string &file) {
  file_ = file;
  program_ = loadProgram(sources_, file, diags_);
  return program_.ok;
}

std::optional<std::vector<const Pattern *>>
Session::selectPatterns(const std::string &name) {
  if (!name.empty()) {
    const Pattern *pattern = select(name);
    if (!pattern)
      return std::nullopt;
    return std::vector<const Pattern *>{pattern};
  }
  std::vector<const Pattern *> patterns =
      program_.patternsIn(program_.mainFile);
  if (patterns.empty() && !select(""))
    return std::nullopt;
  return patterns;
}

const Pattern *Session::select(const std::string &name) {
  if (name.empty()) {
    auto patterns = program_.patternsIn(program_.mainFile);
    if (patterns.empty()) {
      // The file as a whole is at fault: point at its start.
      diags_.emit(DiagnosticKind::NoPattern,
                  SourceRange{program_.mainFile, 0, 0},
                  "'" + file_ +
                      "' defines no pattern, expected at least one "
                      "'pattern NAME(...) { ... }'");
      return nullptr;
    }
    return patterns.front();
  }
  if (const Pattern *pattern = program_.find(name))
    return pattern;
  std::vector<std::string> names;
  for (const Pattern *pattern : program_.allPatterns())
    names.push_back(pattern->name);
  auto builder =
      diags_.emit(DiagnosticKind::UnknownPattern, SourceRange{},
                  "unknown pattern '" + name + "' in '" + file_ + "'");
  std::string_view suggestion = closestName(name, names);
  if (!suggestion.empty())
    builder.note(program_.find(suggestion)->nameRange,
                 "did you mean '" + std::string(suggestion) + "'?");
  return nullptr;
}

} // namespace lace::tool
