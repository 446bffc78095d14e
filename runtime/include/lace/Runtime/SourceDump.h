//===- SourceDump.h - Where generated sources go for people to read -------===//
#ifndef LACE_RUNTIME_SOURCEDUMP_H
#define LACE_RUNTIME_SOURCEDUMP_H

#include <string>
#include <string_view>

namespace lace::jit {

/// Writes `text` to $LACE_DUMP_DIR/<stem><extension> when LACE_DUMP_DIR is
/// set, else to a fresh temporary file (when `always`), and returns the
/// path, or a parenthesised note saying why there is none.
std::string dumpSource(std::string_view text, const std::string &stem,
                       std::string_view extension, bool always = true);

/// $LACE_DUMP_DIR, or empty.
std::string dumpDirectory();

} // namespace lace::jit

#endif // LACE_RUNTIME_SOURCEDUMP_H
