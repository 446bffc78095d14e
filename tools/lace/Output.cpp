//===- Output.cpp - -o FILE, stdout and progress lines --------------------===//
#include "Output.h"

#include "lace/Runtime/AtomicFile.h"

#include <iostream>
#include <unistd.h>

namespace lace::tool {

int writeOutput(const std::string &path, std::string_view text) {
  if (path.empty() || path == "-") {
    std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  if (auto error = writeFileAtomically(path, {text})) {
    std::cerr << "lace: error: " << error->str() << "\n";
    return 1;
  }
  return 0;
}

bool showProgress() {
  static const bool terminal = ::isatty(STDERR_FILENO) == 1;
  return terminal;
}

void progress(const std::string &what) {
  if (showProgress())
    std::cerr << "lace: " << what << "...\n";
}

} // namespace lace::tool
