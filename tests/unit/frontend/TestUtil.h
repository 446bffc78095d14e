//===- TestUtil.h - Helpers for frontend unit tests -----------------------===//
#ifndef LACE_TESTS_UNIT_FRONTEND_TESTUTIL_H
#define LACE_TESTS_UNIT_FRONTEND_TESTUTIL_H

#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"

#include <memory>
#include <string>
#include <vector>

namespace lace::frontend::test {

/// A program compiled from in-memory files ("main.lace" plus extras).
struct Compiled {
  MemoryFileProvider files;
  SourceManager sources{files};
  DiagnosticEngine diags{sources};
  Program program;

  explicit Compiled(
      const std::string &text,
      const std::vector<std::pair<std::string, std::string>> &extra = {}) {
    files.add("main.lace", text);
    for (const auto &[path, contents] : extra)
      files.add(path, contents);
    program = loadProgram(sources, "main.lace", diags);
  }

  bool ok() const { return program.ok; }
  std::string errors() const { return diags.renderAll(); }
  /// Kinds of all diagnostics, in order.
  std::vector<DiagnosticKind> kinds() const {
    std::vector<DiagnosticKind> out;
    for (const Diagnostic &d : diags.diagnostics())
      out.push_back(d.kind);
    return out;
  }
  bool has(DiagnosticKind kind) const { return count(kind) != 0; }
  /// How many diagnostics of `kind` were delivered.
  std::size_t count(DiagnosticKind kind) const {
    std::size_t n = 0;
    for (const Diagnostic &d : diags.diagnostics())
      n += d.kind == kind;
    return n;
  }
  const Pattern &pattern(const std::string &name) const {
    return *program.find(name);
  }
  std::unique_ptr<Instance>
  instantiate(const std::string &name, Shape shape,
              std::vector<ParamOverride> overrides = {},
              const SegmentIds *segments = nullptr) {
    const Pattern *p = program.find(name);
    if (!p)
      return nullptr;
    return lace::frontend::instantiate(*p, overrides, shape, diags, segments);
  }
};

/// The grid of head h (batch 0): one line per query, '#' live, '.' not,
/// rows joined with '\n' (no trailing newline).
inline std::string grid(const Instance &inst, std::int64_t h = 0) {
  std::string out;
  for (std::int64_t q = 0; q < inst.shape().seqQ; ++q) {
    if (q)
      out += '\n';
    for (std::int64_t k = 0; k < inst.shape().seqK; ++k)
      out += inst.mask(0, h, q, k) ? '#' : '.';
  }
  return out;
}

/// Lines to one string, for writing expected grids readably.
inline std::string lines(std::initializer_list<const char *> rows) {
  std::string out;
  for (const char *row : rows) {
    if (!out.empty())
      out += '\n';
    out += row;
  }
  return out;
}

/// Compiles `pattern p() { mask = <mask>; }` and returns its grid.
inline std::string maskGrid(const std::string &mask, std::int64_t seq,
                            const SegmentIds *segments = nullptr) {
  Compiled c("pattern p() { mask = " + mask + "; }");
  if (!c.ok())
    return "compile error: " + c.errors();
  auto inst = c.instantiate("p", Shape{1, 1, seq, seq}, {}, segments);
  if (!inst)
    return "instantiate error: " + c.errors();
  return grid(*inst);
}

} // namespace lace::frontend::test

#endif // LACE_TESTS_UNIT_FRONTEND_TESTUTIL_H
