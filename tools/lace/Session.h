//===- Session.h - Shared plumbing of lace subcommands --------------------===//
//
// Loads a .lace file with diagnostics printed to stderr, parses the options
// every pattern-level subcommand shares (--pattern, --param) and selects the
// pattern.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TOOLS_LACE_SESSION_H
#define LACE_TOOLS_LACE_SESSION_H

#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lace::tool {

/// Prints "lace: error: <message>" to stderr; returns exit status 1.
int usageError(const std::string &message);

/// Options every pattern-level subcommand accepts.
struct PatternOptions {
  std::string file;
  std::string pattern; ///< empty: every pattern (check) / the first (show)
  std::vector<frontend::ParamOverride> params;
};

/// Consumes --pattern NAME, --param name=value and the file argument at
/// args[i]; returns false if args[i] is none of them. Reports malformed
/// values through `error` (set non-empty).
bool parsePatternOption(std::span<const std::string> args, std::size_t &i,
                        PatternOptions &options, std::string &error);

/// Parses "--flag VALUE" or "--flag=VALUE" at args[i].
bool takeValue(std::span<const std::string> args, std::size_t &i,
               std::string_view flag, std::string &value);

class Session {
public:
  Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// Loads and checks `file`; false (diagnostics printed) on error.
  bool load(const std::string &file);
  /// The named pattern, or the first pattern of the main file when `name`
  /// is empty; null after printing a diagnostic.
  const frontend::Pattern *select(const std::string &name);
  /// The named pattern, or every pattern of the main file when `name` is
  /// empty; nullopt after printing a diagnostic (unknown name, no pattern).
  std::optional<std::vector<const frontend::Pattern *>>
  selectPatterns(const std::string &name);

  frontend::DiagnosticEngine &diags() { return diags_; }
  const frontend::Program &program() const { return program_; }
  frontend::SourceManager &sources() { return sources_; }

private:
  frontend::DiskFileProvider disk_;
  frontend::SourceManager sources_;
  frontend::DiagnosticEngine diags_;
  frontend::StreamDiagnosticConsumer consumer_;
  frontend::Program program_;
  std::string file_;
};

} // namespace lace::tool

#endif // LACE_TOOLS_LACE_SESSION_H
