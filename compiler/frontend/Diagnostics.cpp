//===- Diagnostics.cpp ----------------------------------------------------===//
#include "lace/Frontend/Diagnostics.h"

#include <algorithm>
#include <array>
#include <ostream>

namespace lace::frontend {

namespace {
constexpr std::array kKindNames = {
#define LACE_DIAGNOSTIC(Kind) std::string_view(#Kind),
#include "lace/Frontend/Diagnostics.def"
};
constexpr std::array kAllKinds = {
#define LACE_DIAGNOSTIC(Kind) DiagnosticKind::Kind,
#include "lace/Frontend/Diagnostics.def"
};
constexpr std::array kDeclaredSeverities = {
#define LACE_DIAGNOSTIC(Kind) Severity::Error,
#define LACE_WARNING(Kind) Severity::Warning,
#include "lace/Frontend/Diagnostics.def"
};

std::string_view severityName(Severity severity) {
  return severity == Severity::Warning ? "warning" : "error";
}
} // namespace

std::string_view diagnosticKindName(DiagnosticKind kind) {
  auto index = static_cast<std::size_t>(kind);
  return index < kKindNames.size() ? kKindNames[index] : "Unknown";
}

std::span<const DiagnosticKind> allDiagnosticKinds() { return kAllKinds; }

Severity declaredSeverity(DiagnosticKind kind) {
  auto index = static_cast<std::size_t>(kind);
  return index < kDeclaredSeverities.size() ? kDeclaredSeverities[index]
                                            : Severity::Error;
}

DiagnosticBuilder::DiagnosticBuilder(DiagnosticBuilder &&other) noexcept
    : engine_(other.engine_), diagnostic_(std::move(other.diagnostic_)) {
  other.engine_ = nullptr;
}

DiagnosticBuilder::~DiagnosticBuilder() {
  if (engine_)
    engine_->deliver(std::move(diagnostic_));
}

DiagnosticBuilder &DiagnosticBuilder::note(SourceRange range,
                                           std::string message) {
  diagnostic_.notes.push_back({range, std::move(message)});
  return *this;
}

DiagnosticBuilder DiagnosticEngine::emit(DiagnosticKind kind, SourceRange range,
                                         std::string message) {
  Severity severity = declaredSeverity(kind);
  if (warningsAsErrors_)
    severity = Severity::Error;
  if (stopped_)
    return DiagnosticBuilder(nullptr,
                             Diagnostic{kind, severity, range, {}, {}});
  if (errorCount_ >= errorLimit_) {
    stopped_ = true;
    Diagnostic limit{DiagnosticKind::TooManyErrors,
                     Severity::Error,
                     range,
                     "too many errors, stopping after " +
                         std::to_string(errorLimit_),
                     {}};
    ++errorCount_;
    delivered_.push_back(limit);
    if (consumer_)
      consumer_->handle(limit);
    return DiagnosticBuilder(nullptr,
                             Diagnostic{kind, severity, range, {}, {}});
  }
  return DiagnosticBuilder(
      this, Diagnostic{kind, severity, range, std::move(message), {}});
}

void DiagnosticEngine::deliver(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::Error)
    ++errorCount_;
  else
    ++warningCount_;
  delivered_.push_back(std::move(diagnostic));
  if (consumer_)
    consumer_->handle(delivered_.back());
}

/// "severity: message [Kind]\n", the part every rendered line shares.
static void appendMessage(std::string &out, std::string_view severity,
                          std::string_view message, std::string_view kind) {
  out += severity;
  out += ": ";
  out += message;
  if (!kind.empty()) {
    out += " [";
    out += kind;
    out += "]";
  }
  out += '\n';
}

void DiagnosticEngine::renderLocated(std::string &out, SourceRange range,
                                     std::string_view severity,
                                     std::string_view message,
                                     std::string_view kind) const {
  if (!range.valid() ||
      static_cast<std::size_t>(range.file) >= sources_.numFiles()) {
    out += "lace: ";
    appendMessage(out, severity, message, kind);
    return;
  }
  std::uint32_t size =
      static_cast<std::uint32_t>(sources_.contents(range.file).size());
  std::uint32_t begin = std::min(range.begin, size);
  LineColumn lc = sources_.lineColumn(range.file, begin);
  out += sources_.path(range.file);
  out += ':' + std::to_string(lc.line) + ':' + std::to_string(lc.column) + ": ";
  appendMessage(out, severity, message, kind);
  std::string_view line = sources_.lineText(range.file, lc.line);
  out += line;
  out += '\n';
  std::size_t col = lc.column - 1;
  for (std::size_t i = 0; i < col && i < line.size(); ++i)
    out += line[i] == '\t' ? '\t' : ' ';
  out += '^';
  std::uint32_t end = std::min(range.end, size);
  std::size_t length = end > begin ? end - begin : 1;
  std::size_t lineRest = line.size() > col ? line.size() - col : 1;
  length = std::max<std::size_t>(1, std::min(length, lineRest));
  out.append(length - 1, '~');
  out += '\n';
}

std::string DiagnosticEngine::render(const Diagnostic &diagnostic) const {
  std::string out;
  renderLocated(out, diagnostic.range, severityName(diagnostic.severity),
                diagnostic.message, diagnosticKindName(diagnostic.kind));
  for (const DiagnosticNote &note : diagnostic.notes)
    renderLocated(out, note.range, "note", note.message, {});
  return out;
}

std::string DiagnosticEngine::renderAll() const {
  std::string out;
  for (const Diagnostic &d : delivered_)
    out += render(d);
  return out;
}

void StreamDiagnosticConsumer::handle(const Diagnostic &diagnostic) {
  os_ << engine_.render(diagnostic);
  os_.flush();
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view closestName(std::string_view name,
                             std::span<const std::string> candidates) {
  if (name.size() > 64)
    return {};
  std::string_view best;
  std::size_t bestDistance = 0;
  for (const std::string &candidate : candidates) {
    if (candidate == name || candidate.size() > 64)
      continue;
    std::size_t d = editDistance(name, candidate);
    if (best.empty() || d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  std::size_t allowed = std::max<std::size_t>(1, name.size() / 3);
  if (best.empty() || bestDistance > allowed)
    return {};
  return best;
}

} // namespace lace::frontend
