//===- PatternChecker.h - Checking one pattern ----------------------------===//
//
// Internal to the frontend: Sema.cpp checks one pattern (names, types,
// calls, constants); CheckProgram.cpp checks a program of them.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_PATTERNCHECKER_H
#define LACE_FRONTEND_PATTERNCHECKER_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Diagnostics.h"

#include <functional>
#include <map>
#include <string>

namespace lace::frontend {

using PatternMap = std::map<std::string, const Pattern *, std::less<>>;

/// Resolves and checks `pattern` against the program's `patterns`; false
/// (reported) when it is unusable.
bool checkPattern(Pattern &pattern, const PatternMap &patterns,
                  DiagnosticEngine &diags);

} // namespace lace::frontend

#endif // LACE_FRONTEND_PATTERNCHECKER_H
