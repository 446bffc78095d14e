//===- CacheFile.cpp - Entry files, locks and the cache directory ---------===//
#include "CacheFile.h"

#include "lace/Runtime/AtomicFile.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lace::cache_file {

namespace fs = std::filesystem;

namespace {

std::string systemError(const std::string &what, const fs::path &path,
                        int error) {
  return what + " '" + path.string() + "': " + std::strerror(error);
}

void storeLittleEndian(std::uint8_t *out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint64_t loadLittleEndian(const std::uint8_t *in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= std::uint64_t(in[i]) << (8 * i);
  return value;
}

/// pread until `size` bytes arrived; false on EOF or an error (errno set).
bool readFully(int fd, void *buffer, std::size_t size, std::uint64_t offset) {
  auto *out = static_cast<char *>(buffer);
  while (size > 0) {
    ssize_t got = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      if (got == 0)
        errno = 0;
      return false;
    }
    out += got;
    size -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

Sha256Digest bodyChecksum(const std::vector<char> &payload,
                          std::string_view metadata) {
  Sha256 hasher;
  hasher.update(payload.data(), payload.size());
  hasher.update(metadata);
  return hasher.finish();
}

/// Closes the descriptor on every path out of a function.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Verifies the header of a `fileBytes`-long file; returns the problem, or
/// an empty string and the two sizes.
std::string checkHeader(const std::uint8_t *header, std::uint64_t fileBytes,
                        const Sha256Digest &expectedKey,
                        std::uint64_t &payloadBytes,
                        std::uint32_t &metadataBytes) {
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0)
    return "not a lace cache entry (bad magic)";
  std::uint64_t version = loadLittleEndian(header + 8, 4);
  if (version != kFormatVersion)
    return "format version " + std::to_string(version) + ", expected " +
           std::to_string(kFormatVersion);
  if (loadLittleEndian(header + 12, 4) != kHeaderSize ||
      loadLittleEndian(header + 60, 4) != 0)
    return "malformed header";
  if (std::memcmp(header + 16, expectedKey.data(), expectedKey.size()) != 0)
    return "key in the header does not match the file name";
  payloadBytes = loadLittleEndian(header + 48, 8);
  metadataBytes = static_cast<std::uint32_t>(loadLittleEndian(header + 56, 4));
  std::uint64_t body = fileBytes - kHeaderSize;
  if (payloadBytes > body || metadataBytes != body - payloadBytes)
    return "size mismatch: header says " +
           std::to_string(kHeaderSize + payloadBytes + metadataBytes) +
           " bytes, file has " + std::to_string(fileBytes) +
           (fileBytes < kHeaderSize + payloadBytes + metadataBytes
                ? " (truncated)"
                : "");
  return {};
}

} // namespace

ReadResult readEntryFile(const fs::path &path, const Sha256Digest &expectedKey,
                         bool touch) {
  ReadResult result;
  FdGuard file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    result.status = errno == ENOENT ? ReadResult::Status::Missing
                                    : ReadResult::Status::Unreadable;
    result.problem = systemError("cannot open", path, errno);
    return result;
  }
  struct stat info;
  if (::fstat(file.fd, &info) != 0) {
    result.status = ReadResult::Status::Unreadable;
    result.problem = systemError("cannot stat", path, errno);
    return result;
  }
  result.device = info.st_dev;
  result.inode = info.st_ino;
  result.fileBytes = static_cast<std::uint64_t>(info.st_size);
  auto damaged = [&](std::string problem) {
    result.status = ReadResult::Status::Damaged;
    result.problem = std::move(problem);
    return result;
  };
  if (!S_ISREG(info.st_mode))
    return damaged("not a regular file");
  if (result.fileBytes < kHeaderSize)
    return damaged("truncated: " + std::to_string(result.fileBytes) +
                   " bytes, shorter than the header");

  std::uint8_t header[kHeaderSize];
  if (!readFully(file.fd, header, sizeof header, 0))
    return damaged("truncated while reading the header");
  std::uint64_t payloadBytes = 0;
  std::uint32_t metadataBytes = 0;
  if (std::string problem = checkHeader(header, result.fileBytes, expectedKey,
                                        payloadBytes, metadataBytes);
      !problem.empty())
    return damaged(std::move(problem));

  auto entry = std::make_shared<CacheEntry>();
  entry->key = expectedKey;
  entry->bytes.resize(payloadBytes);
  std::string metadata(metadataBytes, '\0');
  if (!readFully(file.fd, entry->bytes.data(), payloadBytes, kHeaderSize) ||
      !readFully(file.fd, metadata.data(), metadataBytes,
                 kHeaderSize + payloadBytes))
    return damaged("truncated while reading the payload");
  Sha256Digest checksum = bodyChecksum(entry->bytes, metadata);
  if (std::memcmp(checksum.data(), header + 64, checksum.size()) != 0)
    return damaged("checksum mismatch");
  Expected<EntryMetadata> decoded = decodeMetadata(metadata);
  if (!decoded)
    return damaged(decoded.error().message());
  entry->metadata = std::move(*decoded);
  if (touch)
    ::futimens(file.fd, nullptr); // best effort: a read-only cache still hits
  result.status = ReadResult::Status::Valid;
  result.entry = std::move(entry);
  return result;
}

std::optional<Error> writeEntryFile(const fs::path &path,
                                    const CacheEntry &entry) {
  std::string metadata = encodeMetadata(entry.metadata);
  std::uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  storeLittleEndian(header + 8, kFormatVersion, 4);
  storeLittleEndian(header + 12, kHeaderSize, 4);
  std::memcpy(header + 16, entry.key.data(), entry.key.size());
  storeLittleEndian(header + 48, entry.bytes.size(), 8);
  storeLittleEndian(header + 56, metadata.size(), 4);
  Sha256Digest checksum = bodyChecksum(entry.bytes, metadata);
  std::memcpy(header + 64, checksum.data(), checksum.size());

  return writeFileAtomically(
      path,
      {std::string_view(reinterpret_cast<const char *>(header), sizeof header),
       std::string_view(entry.bytes.data(), entry.bytes.size()), metadata},
      0600, kTempMarker);
}

void removeIfSame(const fs::path &path, dev_t device, ino_t inode) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && info.st_dev == device &&
      info.st_ino == inode)
    ::unlink(path.c_str());
}

Expected<FileLock> FileLock::acquire(const fs::path &path) {
  for (;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return Error(systemError("cannot open lock file", path, errno));
    int locked;
    do
      locked = ::flock(fd, LOCK_EX);
    while (locked != 0 && errno == EINTR);
    if (locked != 0) {
      int error = errno;
      ::close(fd);
      return Error(systemError("cannot lock", path, error));
    }
    // The previous holder may have unlinked the file before we got the lock;
    // then a newcomer could lock a fresh file at the same path, so retry.
    struct stat held, current;
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &current) == 0 &&
        held.st_dev == current.st_dev && held.st_ino == current.st_ino)
      return FileLock(fd, path);
    ::close(fd);
  }
}

FileLock::FileLock(FileLock &&other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

FileLock::~FileLock() {
  if (fd_ < 0)
    return;
  ::unlink(path_.c_str());
  ::close(fd_);
}

Expected<std::vector<DirectoryFile>> scanDirectory(const fs::path &directory) {
  std::vector<DirectoryFile> files;
  DIR *dir = ::opendir(directory.c_str());
  if (!dir) {
    if (errno == ENOENT)
      return files;
    return Error(
        systemError("cannot read the cache directory", directory, errno));
  }
  while (const dirent *item = ::readdir(dir)) {
    std::string_view name = item->d_name;
    if (name == "." || name == "..")
      continue;
    DirectoryFile file;
    file.path = directory / name;
    struct stat info;
    if (::lstat(file.path.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
      continue; // removed meanwhile, or not ours to touch
    file.bytes = static_cast<std::uint64_t>(info.st_size);
    file.mtimeNs = std::int64_t(info.st_mtim.tv_sec) * 1'000'000'000 +
                   info.st_mtim.tv_nsec;
    bool hexStem =
        name.size() >= 64 && name.find_first_not_of("0123456789abcdef") >= 64;
    if (hexStem && name.size() == 64 + kEntrySuffix.size() &&
        name.substr(64) == kEntrySuffix) {
      file.kind = DirectoryFile::Kind::Entry;
      file.keyHex = std::string(name.substr(0, 64));
    } else if (hexStem && name.substr(64) == kLockSuffix) {
      file.kind = DirectoryFile::Kind::Lock;
    } else if (hexStem && name.find(kTempMarker) != std::string_view::npos) {
      file.kind = DirectoryFile::Kind::Temporary;
    }
    files.push_back(std::move(file));
  }
  ::closedir(dir);
  return files;
}

std::optional<Error> createPrivateDirectories(const fs::path &dir) {
  fs::path prefix;
  for (const fs::path &component : dir) {
    prefix /= component;
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return Error(
          systemError("cannot create the cache directory", prefix, errno));
  }
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
    return Error("cache directory '" + dir.string() + "' is not a directory");
  return std::nullopt;
}

} // namespace lace::cache_file
