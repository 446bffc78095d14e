//===- KernelCache.h - Memory and disk cache of compiled kernels ----------===//
//
// getOrCompile() returns the binary for a key: from memory, else from disk
// ($LACE_CACHE_DIR), else by calling the compile callback and storing what it
// returns. Every disk read is verified (magic, format version, key, sizes,
// SHA-256 of the body); a damaged entry is reported, counted, removed and
// rebuilt, never returned. Writers of one key serialise on `<key>.lock`
// (flock), check again, then write a temporary file and rename() it into
// place; readers never lock. The disk cache is capped in bytes and evicts the
// least recently used entries (a disk hit refreshes the file's mtime).
// docs/cache.md has the file format and the protocol.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_KERNELCACHE_H
#define LACE_RUNTIME_KERNELCACHE_H

#include "lace/Runtime/CacheKey.h"
#include "lace/Runtime/Error.h"
#include "lace/Runtime/FunctionRef.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace lace {

/// What a compiler produced: the bytes (a cubin, a shared object, anything)
/// and a description kept in the entry's metadata.
struct Payload {
  std::vector<char> bytes;
  std::string kind;  ///< "cubin", "ptx", "so", ...
  std::string label; ///< for people: the kernel or pattern name
};

/// The metadata blob stored after the payload (a flat JSON object on disk).
struct EntryMetadata {
  std::string kind;
  std::string arch;
  std::string label;
  std::int64_t createdUnixMs = 0;
  double compileMs = 0;
};

struct CacheEntry {
  Sha256Digest key;
  std::vector<char> bytes;
  EntryMetadata metadata;
};

/// Counters are this process's (this KernelCache's); the disk figures are
/// measured when stats() is called.
struct CacheStats {
  std::uint64_t memoryHits = 0;
  std::uint64_t diskHits = 0;
  std::uint64_t misses = 0;         ///< neither memory nor disk had it
  std::uint64_t compiles = 0;       ///< compile callbacks run
  std::uint64_t corruptEntries = 0; ///< damaged or foreign files found
  std::uint64_t evictions = 0;      ///< disk entries removed for the cap
  std::uint64_t diskBytes = 0;
  std::uint64_t diskEntries = 0;
  std::uint64_t memoryEntries = 0;
};

/// One file in the cache directory, as `lace cache list` shows it.
struct ListedEntry {
  std::string keyHex;
  std::uint64_t fileBytes = 0;
  std::uint64_t payloadBytes = 0;
  std::int64_t lastUseUnixMs = 0; ///< the file's mtime
  EntryMetadata metadata;
  std::string problem; ///< empty when the entry verifies
};

struct CacheConfig {
  static constexpr std::uint64_t kDefaultMaxDiskBytes = 1ull << 30;
  static constexpr std::size_t kDefaultMaxMemoryEntries = 512;

  /// false: nothing is cached, every call compiles (LACE_CACHE_DISABLE=1).
  bool enabled = true;
  /// The disk cache's directory; empty keeps the cache in memory only.
  std::filesystem::path directory;
  std::uint64_t maxDiskBytes = kDefaultMaxDiskBytes;
  /// 0 turns the memory cache off (every lookup goes to disk).
  std::size_t maxMemoryEntries = kDefaultMaxMemoryEntries;
  /// Where problems that are not errors go (damaged entries, an unwritable
  /// directory). Unset: "lace: warning: cache: ..." on stderr.
  std::function<void(const std::string &)> onWarning;

  /// LACE_CACHE_DISABLE, LACE_CACHE_DIR (else $XDG_CACHE_HOME/lace, else
  /// ~/.cache/lace), LACE_CACHE_MAX_BYTES (bytes, or with a K/M/G suffix).
  static Expected<CacheConfig> fromEnvironment();
  /// The directory the environment names; fails when there is no home.
  static Expected<std::filesystem::path> defaultDirectory();
};

class KernelCache {
public:
  using CompileFn = FunctionRef<Expected<Payload>()>;

  explicit KernelCache(CacheConfig config);
  KernelCache(const KernelCache &) = delete;
  KernelCache &operator=(const KernelCache &) = delete;

  /// The cached entry, or the result of `compile`, stored. A compile error is
  /// returned as is (with the key as context) and nothing is stored.
  Expected<std::shared_ptr<const CacheEntry>> getOrCompile(const CacheKey &key,
                                                           CompileFn compile);

  /// Memory, then disk; null on a miss. Never locks the disk cache.
  std::shared_ptr<const CacheEntry> lookup(const CacheKey &key);

  /// Stores `payload` under `key` (memory and disk) and returns the entry.
  /// Disk problems are warnings: the entry is still returned.
  std::shared_ptr<const CacheEntry> insert(const CacheKey &key, Payload payload,
                                           double compileMs = 0);

  CacheStats stats() const;
  /// Every entry file, verified (read-only: damaged ones are reported only).
  Expected<std::vector<ListedEntry>> list() const;
  /// Removes every entry, lock and temporary file; returns the entries
  /// removed. Also empties the memory cache.
  Expected<std::uint64_t> clear();
  /// Removes least recently used entries until the disk cache fits the cap;
  /// returns how many were removed.
  Expected<std::uint64_t> evictToCap();

  const CacheConfig &config() const { return config_; }
  bool diskEnabled() const { return config_.enabled && !directory().empty(); }
  const std::filesystem::path &directory() const { return config_.directory; }
  /// Where the entry for `key` lives (whether or not it exists).
  std::filesystem::path entryPath(const CacheKey &key) const;

private:
  struct DigestHash {
    std::size_t operator()(const Sha256Digest &digest) const;
  };
  struct MemorySlot {
    std::shared_ptr<const CacheEntry> entry;
    mutable std::atomic<std::uint64_t> lastUse{0};
  };

  /// Memory, then disk, counting hits but not misses.
  std::shared_ptr<const CacheEntry> findCached(const CacheKey &key);
  std::shared_ptr<const CacheEntry> lookupMemory(const Sha256Digest &key);
  std::shared_ptr<const CacheEntry>
  rememberInMemory(std::shared_ptr<const CacheEntry> entry);
  /// A verified disk entry or null; a damaged file is reported and removed.
  std::shared_ptr<const CacheEntry> readFromDisk(const CacheKey &key);
  void writeToDisk(const CacheEntry &entry);
  bool ensureDirectory();
  void warn(const std::string &message) const;

  CacheConfig config_;
  mutable std::shared_mutex memoryMutex_;
  std::unordered_map<Sha256Digest, MemorySlot, DigestHash> memory_;
  std::atomic<std::uint64_t> useClock_{0};
  std::atomic<bool> directoryReady_{false};

  mutable std::atomic<std::uint64_t> memoryHits_{0}, diskHits_{0}, misses_{0},
      compiles_{0}, corruptEntries_{0}, evictions_{0};
};

} // namespace lace

#endif // LACE_RUNTIME_KERNELCACHE_H
