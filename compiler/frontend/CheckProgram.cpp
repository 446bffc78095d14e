//===- CheckProgram.cpp - Checking a program of patterns ------------------===//
//
// Duplicate pattern names, each pattern's own checks (Sema.cpp), recursion
// in the call graph, and patterns that call unusable ones.
//
//===----------------------------------------------------------------------===//
#include "PatternChecker.h"
#include "lace/Frontend/Program.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

namespace lace::frontend {

namespace {

void collectCalls(const Expr &e, std::vector<const Expr *> &calls) {
  if (e.kind == ExprKind::PatternCall)
    calls.push_back(&e);
  for (const ExprPtr &operand : e.operands)
    if (operand)
      collectCalls(*operand, calls);
}

std::vector<const Expr *> patternCalls(const Pattern &p) {
  std::vector<const Expr *> calls;
  for (const Let &let : p.lets)
    collectCalls(*let.value, calls);
  if (p.mask)
    collectCalls(*p.mask, calls);
  return calls;
}

/// Reports cycles in the pattern call graph; returns patterns on a cycle.
class RecursionChecker {
public:
  RecursionChecker(DiagnosticEngine &diags) : diags_(diags) {}

  void visit(const Pattern *p) {
    if (state_[p] == 2)
      return;
    state_[p] = 1;
    stack_.push_back(p);
    for (const Expr *call : patternCalls(*p)) {
      const Pattern *callee = call->callee;
      if (state_[callee] == 1) {
        std::string chain;
        auto start = std::find(stack_.begin(), stack_.end(), callee);
        for (auto it = start; it != stack_.end(); ++it) {
          chain += "'" + (*it)->name + "' -> ";
          onCycle.insert(*it);
        }
        chain += "'" + callee->name + "'";
        diags_.emit(DiagnosticKind::PatternRecursion, call->range,
                    "pattern recursion: " + chain +
                        ", expected pattern calls to form no cycle");
      } else {
        visit(callee);
      }
    }
    stack_.pop_back();
    state_[p] = 2;
  }

  std::set<const Pattern *> onCycle;

private:
  DiagnosticEngine &diags_;
  std::map<const Pattern *, int> state_;
  std::vector<const Pattern *> stack_;
};

} // namespace

void checkProgram(Program &program, DiagnosticEngine &diags) {
  PatternMap patterns;
  std::vector<Pattern *> all;
  for (ParsedFile &file : program.files)
    for (auto &pattern : file.patterns) {
      if (pattern->name.empty())
        continue;
      auto [it, inserted] = patterns.emplace(pattern->name, pattern.get());
      if (!inserted) {
        diags
            .emit(DiagnosticKind::DuplicatePattern, pattern->nameRange,
                  "duplicate pattern '" + pattern->name +
                      "', expected each pattern name once in a program")
            .note(it->second->nameRange, "pattern declared here");
        pattern->parseErrors = true;
        continue;
      }
      all.push_back(pattern.get());
    }
  for (Pattern *pattern : all) {
    if (diags.stopped())
      return;
    if (pattern->parseErrors)
      continue;
    pattern->checked = checkPattern(*pattern, patterns, diags);
  }
  RecursionChecker recursion(diags);
  for (Pattern *pattern : all)
    if (pattern->checked)
      recursion.visit(pattern);
  for (Pattern *pattern : all)
    if (recursion.onCycle.count(pattern))
      pattern->checked = false;
  // A pattern that calls an unusable pattern is unusable too.
  for (bool changed = true; changed;) {
    changed = false;
    for (Pattern *pattern : all) {
      if (!pattern->checked)
        continue;
      for (const Expr *call : patternCalls(*pattern))
        if (!call->callee->checked) {
          pattern->checked = false;
          changed = true;
          break;
        }
    }
  }
}

} // namespace lace::frontend
