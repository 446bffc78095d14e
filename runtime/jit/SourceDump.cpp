//===- SourceDump.cpp - Where generated sources go for people to read -----===//
#include "lace/Runtime/SourceDump.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <vector>

namespace lace::jit {

namespace {
bool writeFile(const std::string &path, std::string_view data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(f);
}
} // namespace

std::string dumpDirectory() {
  const char *dir = std::getenv("LACE_DUMP_DIR");
  return dir ? dir : "";
}

std::string dumpSource(std::string_view text, const std::string &stem,
                       std::string_view extension, bool always) {
  if (std::string dir = dumpDirectory(); !dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::string path =
        (std::filesystem::path(dir) / (stem + std::string(extension)))
            .string();
    if (writeFile(path, text))
      return path;
    return "(could not write " + path + ")";
  }
  if (!always)
    return "(LACE_DUMP_DIR is not set)";
  std::string pattern = (std::filesystem::temp_directory_path() /
                         ("lace-" + stem + "-XXXXXX" + std::string(extension)))
                            .string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  int fd = mkstemps(buf.data(), static_cast<int>(extension.size()));
  if (fd < 0)
    return "(could not create a temporary file)";
  close(fd);
  std::string path(buf.data());
  if (!writeFile(path, text))
    return "(could not write " + path + ")";
  return path;
}

} // namespace lace::jit
