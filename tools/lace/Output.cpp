//===- Output.cpp - -o FILE, stdout and progress lines --------------------===//
#include "Output.h"

#include "lace/Runtime/AtomicFile.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace lace::tool {

namespace {

/// Devices, FIFOs and the like (-o /dev/null, -o /dev/stdout) are written
/// in place: renaming over them would replace them by a regular file.
int writeInPlace(const std::filesystem::path &path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  if (out)
    return 0;
  std::cerr << "lace: error: cannot write '" << path.string() << "'\n";
  return 1;
}

} // namespace

int writeOutput(const std::string &path, std::string_view text) {
  if (path.empty() || path == "-") {
    std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::cout.flush();
    if (std::cout)
      return 0;
    std::cerr << "lace: error: cannot write to stdout\n";
    return 1;
  }
  // A link is followed: its target is what gets replaced.
  std::error_code ec;
  std::filesystem::path target = path;
  if (std::filesystem::is_symlink(target, ec))
    target = std::filesystem::weakly_canonical(target, ec);
  const std::filesystem::file_status status =
      std::filesystem::status(target, ec);
  if (std::filesystem::is_directory(status)) {
    std::cerr << "lace: error: cannot write '" << path << "': it is a folder\n";
    return 1;
  }
  if (std::filesystem::exists(status) &&
      !std::filesystem::is_regular_file(status))
    return writeInPlace(target, text);
  if (auto error = writeFileAtomically(target, {text})) {
    std::cerr << "lace: error: " << error->str() << "\n";
    return 1;
  }
  return 0;
}

void progress(const std::string &what) {
  static const bool terminal = ::isatty(STDERR_FILENO) == 1;
  if (terminal)
    std::cerr << "lace: " << what << "...\n";
}

} // namespace lace::tool
