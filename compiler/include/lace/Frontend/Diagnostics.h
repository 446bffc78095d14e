//===- Diagnostics.h - Diagnostic kinds, engine and rendering -------------===//
//
// Carbon-style diagnostics: every kind is declared once in Diagnostics.def,
// as an error or a warning, emitted where it is detected, and rendered as
//
//   file:line:col: error: message [Kind]      (or "warning:")
//   <source line>
//   ^~~~
//   file:line:col: note: parameter declared here
//   ...
//
// Errors are values: the frontend never throws or aborts on user input; it
// reports through a DiagnosticEngine and returns empty/failed results.
// Warnings are reported the same way but fail nothing, unless the engine
// promotes them to errors (setWarningsAsErrors, the tool's --werror).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_DIAGNOSTICS_H
#define LACE_FRONTEND_DIAGNOSTICS_H

#include "lace/Frontend/SourceManager.h"

#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lace::frontend {

enum class DiagnosticKind : std::uint16_t {
#define LACE_DIAGNOSTIC(Kind) Kind,
#include "lace/Frontend/Diagnostics.def"
};

enum class Severity : std::uint8_t { Error, Warning };

/// "UnknownName" for DiagnosticKind::UnknownName.
std::string_view diagnosticKindName(DiagnosticKind kind);
/// The severity a kind is declared with in Diagnostics.def.
Severity declaredSeverity(DiagnosticKind kind);
/// Every kind, in declaration order.
std::span<const DiagnosticKind> allDiagnosticKinds();

struct DiagnosticNote {
  SourceRange range; ///< may be invalid (note without location)
  std::string message;
};

struct Diagnostic {
  DiagnosticKind kind;
  /// The declared severity, or Error for a warning promoted by the engine.
  Severity severity;
  SourceRange range; ///< may be invalid for command-line level problems
  std::string message;
  std::vector<DiagnosticNote> notes;
};

/// Receives each diagnostic once it is complete (with its notes).
class DiagnosticConsumer {
public:
  virtual ~DiagnosticConsumer() = default;
  virtual void handle(const Diagnostic &diagnostic) = 0;
};

class DiagnosticEngine;

/// Returned by DiagnosticEngine::emit; add notes, then the diagnostic is
/// delivered when the builder goes out of scope.
class DiagnosticBuilder {
public:
  DiagnosticBuilder(DiagnosticBuilder &&other) noexcept;
  DiagnosticBuilder(const DiagnosticBuilder &) = delete;
  DiagnosticBuilder &operator=(const DiagnosticBuilder &) = delete;
  DiagnosticBuilder &operator=(DiagnosticBuilder &&) = delete;
  ~DiagnosticBuilder();

  DiagnosticBuilder &note(SourceRange range, std::string message);

private:
  friend class DiagnosticEngine;
  DiagnosticBuilder(DiagnosticEngine *engine, Diagnostic diagnostic)
      : engine_(engine), diagnostic_(std::move(diagnostic)) {}
  DiagnosticEngine *engine_;
  Diagnostic diagnostic_;
};

class DiagnosticEngine {
public:
  /// After this many errors one TooManyErrors diagnostic is emitted and later
  /// ones are dropped.
  static constexpr unsigned kDefaultErrorLimit = 20;

  explicit DiagnosticEngine(const SourceManager &sources,
                            DiagnosticConsumer *consumer = nullptr)
      : sources_(sources), consumer_(consumer) {}

  /// Reports a diagnostic of `kind`, with the kind's severity. Messages are
  /// lowercase, without a final period, and say what was expected.
  DiagnosticBuilder emit(DiagnosticKind kind, SourceRange range,
                         std::string message);

  /// Errors delivered so far (promoted warnings included); warnings are not
  /// counted, so a stage that compares counts fails only on errors.
  unsigned errorCount() const { return errorCount_; }
  bool hasErrors() const { return errorCount_ != 0; }
  unsigned warningCount() const { return warningCount_; }
  /// True once the error limit was hit: callers may stop early.
  bool stopped() const { return stopped_; }
  void setErrorLimit(unsigned limit) { errorLimit_ = limit; }
  /// Report every later warning as an error (-Werror).
  void setWarningsAsErrors(bool enabled) { warningsAsErrors_ = enabled; }
  /// Every delivered diagnostic, in order.
  const std::vector<Diagnostic> &diagnostics() const { return delivered_; }

  /// The text form of one diagnostic (with source line, carets and notes).
  std::string render(const Diagnostic &diagnostic) const;
  /// All delivered diagnostics, rendered.
  std::string renderAll() const;
  const SourceManager &sources() const { return sources_; }

private:
  friend class DiagnosticBuilder;
  void deliver(Diagnostic diagnostic);
  void renderLocated(std::string &out, SourceRange range,
                     std::string_view severity, std::string_view message,
                     std::string_view kind) const;

  const SourceManager &sources_;
  DiagnosticConsumer *consumer_;
  std::vector<Diagnostic> delivered_;
  unsigned errorCount_ = 0;
  unsigned warningCount_ = 0;
  unsigned errorLimit_ = kDefaultErrorLimit;
  bool stopped_ = false;
  bool warningsAsErrors_ = false;
};

/// Renders every diagnostic to a stream as it arrives.
class StreamDiagnosticConsumer final : public DiagnosticConsumer {
public:
  StreamDiagnosticConsumer(std::ostream &os, const DiagnosticEngine &engine)
      : os_(os), engine_(engine) {}
  void handle(const Diagnostic &diagnostic) override;

private:
  std::ostream &os_;
  const DiagnosticEngine &engine_;
};

/// Levenshtein distance (for "did you mean" notes).
std::size_t editDistance(std::string_view a, std::string_view b);
/// The candidate closest to `name`, if close enough to be a plausible typo.
std::string_view closestName(std::string_view name,
                             std::span<const std::string> candidates);

} // namespace lace::frontend

#endif // LACE_FRONTEND_DIAGNOSTICS_H
