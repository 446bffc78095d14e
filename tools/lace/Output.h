//===- Output.h - Where a command's output goes (-o FILE or stdout) -------===//
#ifndef LACE_TOOLS_LACE_OUTPUT_H
#define LACE_TOOLS_LACE_OUTPUT_H

#include <string>
#include <string_view>

namespace lace::tool {

/// Writes `text` to `path` atomically (a temporary renamed into place), or
/// to stdout when `path` is empty or "-". Prints "lace: error: ..." and
/// returns 1 when the file cannot be written; 0 otherwise.
int writeOutput(const std::string &path, std::string_view text);

/// "lace: <what>..." on stderr, only when it is a terminal, so that scripts
/// and tests see quiet output.
void progress(const std::string &what);

} // namespace lace::tool

#endif // LACE_TOOLS_LACE_OUTPUT_H
