//===- Parser.h - Recursive-descent parser for .lace files ----------------===//
#ifndef LACE_FRONTEND_PARSER_H
#define LACE_FRONTEND_PARSER_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Diagnostics.h"

#include <memory>
#include <string>
#include <vector>

namespace lace::frontend {

/// Expressions nest at most this deep (parentheses, unary chains and the
/// resulting tree alike), so that no recursive walk can exhaust the stack.
inline constexpr unsigned kMaxNestingDepth = 200;

struct Import {
  std::string path;  ///< as written
  SourceRange range; ///< the string literal
};

struct ParsedFile {
  FileId file = kNoFile;
  std::vector<Import> imports;
  std::vector<std::unique_ptr<Pattern>> patterns;
};

/// Lexes and parses one file. Syntax errors are reported; recovery skips to
/// the next statement or pattern, and patterns with syntax errors are kept
/// with `parseErrors` set (Sema does not check them).
ParsedFile parseFile(const SourceManager &sources, FileId file,
                     DiagnosticEngine &diags);

} // namespace lace::frontend

#endif // LACE_FRONTEND_PARSER_H
