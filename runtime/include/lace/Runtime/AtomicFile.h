//===- AtomicFile.h - Write a file so that readers see old or new, whole --===//
//
// The kernel cache, kernel bundles and the `lace` tool's -o all replace
// files other processes may be reading: each write goes to a unique
// temporary in the same folder (`<path><marker><pid>.<n>`, created with
// O_EXCL) and is renamed into place, so a reader sees the old file or the
// whole new one, and a failed write leaves no partial file behind.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_ATOMICFILE_H
#define LACE_RUNTIME_ATOMICFILE_H

#include "lace/Runtime/Error.h"

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <sys/types.h>

namespace lace {

/// The temporary's marker unless the caller names its own (the cache does,
/// to recognise its leftovers).
inline constexpr std::string_view kAtomicTempMarker = ".tmp.";

/// Writes the concatenation of `parts` to `path` (permissions `mode`);
/// errors say which file and why.
std::optional<Error>
writeFileAtomically(const std::filesystem::path &path,
                    std::initializer_list<std::string_view> parts,
                    mode_t mode = 0644,
                    std::string_view marker = kAtomicTempMarker);

} // namespace lace

#endif // LACE_RUNTIME_ATOMICFILE_H
