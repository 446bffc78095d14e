//===- AtomicFile.cpp - Temporary, write, rename --------------------------===//
#include "lace/Runtime/AtomicFile.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace lace {

namespace {

std::string systemError(const std::string &what,
                        const std::filesystem::path &path, int error) {
  return what + " '" + path.string() + "': " + std::strerror(error);
}

bool writeFully(int fd, std::string_view bytes) {
  const char *in = bytes.data();
  std::size_t size = bytes.size();
  while (size > 0) {
    ssize_t put = ::write(fd, in, size);
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      return false;
    in += put;
    size -= static_cast<std::size_t>(put);
  }
  return true;
}

} // namespace

std::optional<Error>
writeFileAtomically(const std::filesystem::path &path,
                    std::initializer_list<std::string_view> parts, mode_t mode,
                    std::string_view marker) {
  // pid + a process-wide counter is unique among live writers; O_EXCL and a
  // retry cover a temporary left behind by a dead process with the same pid.
  static std::atomic<std::uint64_t> counter{0};
  std::filesystem::path temporary;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temporary = path;
    temporary += std::string(marker) + std::to_string(::getpid()) + "." +
                 std::to_string(counter.fetch_add(1));
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                mode);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0)
    return Error(
        systemError("cannot create a temporary file for", path, errno));
  bool written = true;
  for (std::string_view part : parts)
    written = written && writeFully(fd, part);
  int writeErrno = errno;
  if (::close(fd) != 0 && written) {
    written = false;
    writeErrno = errno;
  }
  if (written && ::rename(temporary.c_str(), path.c_str()) == 0)
    return std::nullopt;
  const int error = written ? errno : writeErrno;
  ::unlink(temporary.c_str());
  return Error(systemError(written ? "cannot rename into" : "cannot write",
                           written ? path : temporary, error));
}

} // namespace lace
