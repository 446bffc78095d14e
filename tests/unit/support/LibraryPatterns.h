//===- LibraryPatterns.h - The pattern library, for tests -----------------===//
//
// Every pattern of patterns/*.lace (optionally without the segment ones),
// and parameter values small enough that each pattern varies over a
// problem of a hundred or so tokens (the defaults are sized for real
// sequences). Header-only: each test binary that needs it includes it once.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TESTS_SUPPORT_LIBRARYPATTERNS_H
#define LACE_TESTS_SUPPORT_LIBRARYPATTERNS_H

#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace lace::testing {

struct LibraryPattern {
  std::string file, name;
};

inline void PrintTo(const LibraryPattern &pattern, std::ostream *os) {
  *os << pattern.name;
}

/// The library's patterns, by file then source order. Segment masks need
/// run-time id tables that kernels do not take yet: `withSegments` false
/// leaves them out.
inline std::vector<LibraryPattern> libraryPatterns(bool withSegments) {
  std::vector<LibraryPattern> patterns;
  std::vector<std::string> files;
  for (const auto &entry : std::filesystem::directory_iterator(
           std::string(LACE_SOURCE_DIR) + "/patterns"))
    if (entry.path().extension() == ".lace")
      files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  for (const std::string &file : files) {
    frontend::DiskFileProvider disk;
    frontend::SourceManager sources(disk);
    frontend::DiagnosticEngine diags(sources);
    frontend::Program program = frontend::loadProgram(sources, file, diags);
    for (const frontend::Pattern *pattern : program.patternsIn(program.mainFile))
      if (withSegments || !frontend::usesSegments(*pattern))
        patterns.push_back({file, pattern->name});
  }
  return patterns;
}

/// Small values for the pattern's integer parameters.
inline std::vector<frontend::ParamOverride>
smallParams(const frontend::Pattern &pattern) {
  std::vector<frontend::ParamOverride> params;
  for (const frontend::Param &param : pattern.params) {
    if (param.type != frontend::ParamType::Int)
      continue;
    std::string value = "9";
    if (param.name.find("dilation") != std::string::npos)
      value = "3";
    else if (param.name == "summary" || param.name == "globals" ||
             param.name == "random_blocks")
      value = "2";
    else if (param.name == "block")
      value = "8";
    params.push_back({param.name, value});
  }
  return params;
}

} // namespace lace::testing

#endif // LACE_TESTS_SUPPORT_LIBRARYPATTERNS_H
