//===- CacheFile.h - Entry files, locks and the cache directory -----------===//
//
// The on-disk half of the kernel cache, internal to LaceCache. An entry file
// is a 96-byte header, the payload, then the metadata (a flat JSON object):
//
//   offset size  field
//        0    8  magic "LACEKC\0\1"
//        8    4  format version (little-endian u32, currently 1)
//       12    4  header size (u32, 96)
//       16   32  key (the raw SHA-256 digest; also the file name in hex)
//       48    8  payload size (u64)
//       56    4  metadata size (u32)
//       60    4  reserved, zero
//       64   32  checksum: SHA-256 of payload followed by metadata
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_CACHE_CACHEFILE_H
#define LACE_RUNTIME_CACHE_CACHEFILE_H

#include "lace/Runtime/Error.h"
#include "lace/Runtime/KernelCache.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace lace::cache_file {

inline constexpr char kMagic[8] = {'L', 'A', 'C', 'E', 'K', 'C', '\0', '\1'};
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderSize = 96;
inline constexpr std::string_view kEntrySuffix = ".lkc";
inline constexpr std::string_view kLockSuffix = ".lock";
inline constexpr std::string_view kTempMarker = ".tmp.";

std::string encodeMetadata(const EntryMetadata &metadata);
Expected<EntryMetadata> decodeMetadata(std::string_view json);

/// The outcome of reading one entry file. `problem` says what is wrong with
/// a damaged file; `device`/`inode` name the file that was read, so that a
/// damaged one is removed only if it has not been replaced meanwhile.
struct ReadResult {
  enum class Status { Valid, Missing, Damaged, Unreadable };
  Status status = Status::Missing;
  std::shared_ptr<CacheEntry> entry;
  std::string problem;
  std::uint64_t fileBytes = 0;
  dev_t device = 0;
  ino_t inode = 0;
};

/// Reads and verifies `path` against `expectedKey`. With `touch`, a valid
/// entry's mtime is set to now (the LRU clock). Never locks.
ReadResult readEntryFile(const std::filesystem::path &path,
                         const Sha256Digest &expectedKey, bool touch);

/// Writes a temporary file next to `path` and renames it over `path`.
std::optional<Error> writeEntryFile(const std::filesystem::path &path,
                                    const CacheEntry &entry);

/// Unlinks `path` if it is still the file (device, inode) that was read.
void removeIfSame(const std::filesystem::path &path, dev_t device, ino_t inode);

/// An exclusive flock on a lock file, held until destruction. The holder
/// unlinks the file before unlocking, and acquire() retries when the file it
/// locked is no longer the one at `path`, so no lock files are left behind.
class FileLock {
public:
  static Expected<FileLock> acquire(const std::filesystem::path &path);
  FileLock(FileLock &&other) noexcept;
  FileLock &operator=(FileLock &&other) = delete;
  ~FileLock();

private:
  FileLock(int fd, std::filesystem::path path)
      : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

/// A file in the cache directory, classified by its name.
struct DirectoryFile {
  enum class Kind { Entry, Lock, Temporary, Other };
  Kind kind = Kind::Other;
  std::filesystem::path path;
  std::string keyHex; ///< entries only
  std::uint64_t bytes = 0;
  std::int64_t mtimeNs = 0;
};

/// Every file in `directory` (not recursive); a missing directory is empty.
Expected<std::vector<DirectoryFile>>
scanDirectory(const std::filesystem::path &directory);

/// mkdir -p, creating missing directories with mode 0700.
std::optional<Error> createPrivateDirectories(const std::filesystem::path &dir);

} // namespace lace::cache_file

#endif // LACE_RUNTIME_CACHE_CACHEFILE_H
