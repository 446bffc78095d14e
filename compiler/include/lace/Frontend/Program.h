//===- Program.h - Loading and checking a .lace program -------------------===//
//
//   lace::frontend::DiskFileProvider disk;
//   lace::frontend::SourceManager sources(disk);
//   lace::frontend::DiagnosticEngine diags(sources);
//   lace::frontend::Program program =
//       lace::frontend::loadProgram(sources, "patterns/longformer.lace",
//       diags);
//   if (!program.ok) { std::cerr << diags.renderAll(); ... }
//   const Pattern *p = program.find("longformer");
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_PROGRAM_H
#define LACE_FRONTEND_PROGRAM_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Parser.h"

#include <string>
#include <string_view>
#include <vector>

namespace lace::frontend {

/// Every file reached from the main file, parsed and checked.
struct Program {
  /// Load order: every file comes after the files it imports.
  std::vector<ParsedFile> files;
  FileId mainFile = kNoFile;
  /// True when loading and checking reported no error.
  bool ok = false;

  /// A pattern by name (pattern names are global across files), or null.
  const Pattern *find(std::string_view name) const;
  /// The patterns defined in one file, in source order.
  std::vector<const Pattern *> patternsIn(FileId file) const;
  /// All patterns, in load order.
  std::vector<const Pattern *> allPatterns() const;
};

/// Loads `path` and, transitively, its imports through `sources`' provider,
/// then checks every pattern. Never throws; problems go to `diags`.
Program loadProgram(SourceManager &sources, const std::string &path,
                    DiagnosticEngine &diags);

/// Checks the patterns of an already parsed program in place (used by
/// loadProgram; exposed for tools that assemble files themselves).
void checkProgram(Program &program, DiagnosticEngine &diags);

} // namespace lace::frontend

#endif // LACE_FRONTEND_PROGRAM_H
