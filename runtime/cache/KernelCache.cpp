//===- KernelCache.cpp - Memory and disk cache of compiled kernels --------===//
#include "lace/Runtime/KernelCache.h"

#include "CacheFile.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <mutex>

namespace lace {

namespace fs = std::filesystem;
using cache_file::DirectoryFile;
using cache_file::ReadResult;

namespace {

std::int64_t unixMillisecondsNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<const CacheEntry> makeEntry(const CacheKey &key,
                                            Payload payload, double compileMs) {
  auto entry = std::make_shared<CacheEntry>();
  entry->key = key.digest();
  entry->bytes = std::move(payload.bytes);
  entry->metadata.kind = std::move(payload.kind);
  entry->metadata.arch = key.arch();
  entry->metadata.label = std::move(payload.label);
  entry->metadata.createdUnixMs = unixMillisecondsNow();
  entry->metadata.compileMs = compileMs;
  return entry;
}

/// Temporaries older than this belong to a writer that died.
constexpr std::int64_t kStaleTemporaryNs = 3600ll * 1'000'000'000;

} // namespace

std::size_t KernelCache::DigestHash::operator()(const Sha256Digest &d) const {
  std::size_t hash;
  std::memcpy(&hash, d.data(), sizeof hash); // already uniformly distributed
  return hash;
}

KernelCache::KernelCache(CacheConfig config) : config_(std::move(config)) {}

void KernelCache::warn(const std::string &message) const {
  if (config_.onWarning)
    config_.onWarning(message);
  else
    std::cerr << "lace: warning: cache: " << message << "\n";
}

fs::path KernelCache::entryPath(const CacheKey &key) const {
  return directory() / (key.hex() + std::string(cache_file::kEntrySuffix));
}

bool KernelCache::ensureDirectory() {
  if (directoryReady_.load(std::memory_order_acquire))
    return true;
  if (std::optional<Error> error =
          cache_file::createPrivateDirectories(directory())) {
    warn(error->message() + "; kernels are not stored on disk");
    return false;
  }
  directoryReady_.store(true, std::memory_order_release);
  return true;
}

std::shared_ptr<const CacheEntry>
KernelCache::lookupMemory(const Sha256Digest &key) {
  if (config_.maxMemoryEntries == 0)
    return nullptr;
  std::shared_lock lock(memoryMutex_);
  auto found = memory_.find(key);
  if (found == memory_.end())
    return nullptr;
  found->second.lastUse.store(useClock_.fetch_add(1) + 1,
                              std::memory_order_relaxed);
  return found->second.entry;
}

std::shared_ptr<const CacheEntry>
KernelCache::rememberInMemory(std::shared_ptr<const CacheEntry> entry) {
  if (config_.maxMemoryEntries == 0)
    return entry;
  std::unique_lock lock(memoryMutex_);
  auto [slot, inserted] = memory_.try_emplace(entry->key);
  if (inserted)
    slot->second.entry = std::move(entry);
  slot->second.lastUse.store(useClock_.fetch_add(1) + 1,
                             std::memory_order_relaxed);
  std::shared_ptr<const CacheEntry> result = slot->second.entry;
  // A linear scan for the least recently used slot: it runs only when a
  // compile or a disk read has just happened, which costs far more.
  while (memory_.size() > config_.maxMemoryEntries) {
    auto oldest = std::min_element(
        memory_.begin(), memory_.end(), [](const auto &a, const auto &b) {
          return a.second.lastUse.load(std::memory_order_relaxed) <
                 b.second.lastUse.load(std::memory_order_relaxed);
        });
    memory_.erase(oldest);
  }
  return result;
}

std::shared_ptr<const CacheEntry>
KernelCache::readFromDisk(const CacheKey &key) {
  if (!diskEnabled())
    return nullptr;
  fs::path path = entryPath(key);
  ReadResult read =
      cache_file::readEntryFile(path, key.digest(), /*touch=*/true);
  switch (read.status) {
  case ReadResult::Status::Valid:
    return std::move(read.entry);
  case ReadResult::Status::Missing:
    return nullptr;
  case ReadResult::Status::Unreadable:
    warn(read.problem);
    return nullptr;
  case ReadResult::Status::Damaged:
    corruptEntries_.fetch_add(1);
    warn("damaged entry '" + path.string() + "': " + read.problem +
         "; removing it");
    cache_file::removeIfSame(path, read.device, read.inode);
    return nullptr;
  }
  return nullptr;
}

void KernelCache::writeToDisk(const CacheEntry &entry) {
  fs::path path = entryPath(CacheKey::fromDigest(entry.key));
  if (std::optional<Error> error = cache_file::writeEntryFile(path, entry))
    warn(error->message());
}

std::shared_ptr<const CacheEntry> KernelCache::findCached(const CacheKey &key) {
  if (!config_.enabled)
    return nullptr;
  if (auto entry = lookupMemory(key.digest())) {
    memoryHits_.fetch_add(1, std::memory_order_relaxed);
    return entry;
  }
  if (auto entry = readFromDisk(key)) {
    diskHits_.fetch_add(1, std::memory_order_relaxed);
    return rememberInMemory(std::move(entry));
  }
  return nullptr;
}

std::shared_ptr<const CacheEntry> KernelCache::lookup(const CacheKey &key) {
  std::shared_ptr<const CacheEntry> entry = findCached(key);
  if (!entry)
    misses_.fetch_add(1, std::memory_order_relaxed);
  return entry;
}

Expected<std::shared_ptr<const CacheEntry>>
KernelCache::getOrCompile(const CacheKey &key, CompileFn compile) {
  if (std::shared_ptr<const CacheEntry> entry = findCached(key))
    return entry;

  std::optional<cache_file::FileLock> writerLock;
  if (diskEnabled() && ensureDirectory()) {
    fs::path lockPath =
        directory() / (key.hex() + std::string(cache_file::kLockSuffix));
    Expected<cache_file::FileLock> lock =
        cache_file::FileLock::acquire(lockPath);
    if (lock) {
      writerLock.emplace(std::move(*lock));
      // Another thread or process may have stored it while we waited.
      if (std::shared_ptr<const CacheEntry> entry = findCached(key))
        return entry;
    } else {
      warn(lock.error().message() + "; compiling without storing");
    }
  }

  misses_.fetch_add(1, std::memory_order_relaxed);
  auto start = std::chrono::steady_clock::now();
  Expected<Payload> payload = compile();
  compiles_.fetch_add(1, std::memory_order_relaxed);
  if (!payload)
    return std::move(std::move(payload).error().withContext(
        "compiling kernel " + key.hex().substr(0, 16)));
  double compileMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  std::shared_ptr<const CacheEntry> entry =
      makeEntry(key, std::move(*payload), compileMs);
  if (!config_.enabled)
    return entry;
  if (!writerLock)
    return rememberInMemory(std::move(entry));
  writeToDisk(*entry);
  // In memory before the lock is released: threads that waited on it then
  // share this entry instead of reading the file back.
  entry = rememberInMemory(std::move(entry));
  writerLock.reset();
  if (Expected<std::uint64_t> evicted = evictToCap(); !evicted)
    warn(evicted.error().message());
  return entry;
}

std::shared_ptr<const CacheEntry>
KernelCache::insert(const CacheKey &key, Payload payload, double compileMs) {
  std::shared_ptr<const CacheEntry> entry =
      makeEntry(key, std::move(payload), compileMs);
  if (!config_.enabled)
    return entry;
  if (diskEnabled() && ensureDirectory()) {
    fs::path lockPath =
        directory() / (key.hex() + std::string(cache_file::kLockSuffix));
    if (Expected<cache_file::FileLock> lock =
            cache_file::FileLock::acquire(lockPath))
      writeToDisk(*entry);
    else
      warn(lock.error().message());
    if (Expected<std::uint64_t> evicted = evictToCap(); !evicted)
      warn(evicted.error().message());
  }
  // insert() replaces: a caller that inserts means this payload is current.
  {
    std::unique_lock lock(memoryMutex_);
    memory_.erase(entry->key);
  }
  return rememberInMemory(std::move(entry));
}

Expected<std::uint64_t> KernelCache::evictToCap() {
  if (!diskEnabled())
    return std::uint64_t(0);
  Expected<std::vector<DirectoryFile>> files =
      cache_file::scanDirectory(directory());
  if (!files)
    return std::move(files).error();
  std::vector<DirectoryFile> entries;
  std::uint64_t total = 0;
  std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  for (DirectoryFile &file : *files) {
    if (file.kind == DirectoryFile::Kind::Temporary &&
        now - file.mtimeNs > kStaleTemporaryNs)
      ::unlink(file.path.c_str());
    if (file.kind != DirectoryFile::Kind::Entry)
      continue;
    total += file.bytes;
    entries.push_back(std::move(file));
  }
  if (total <= config_.maxDiskBytes)
    return std::uint64_t(0);
  std::sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) {
    return a.mtimeNs != b.mtimeNs ? a.mtimeNs < b.mtimeNs : a.keyHex < b.keyHex;
  });
  std::uint64_t evicted = 0;
  for (const DirectoryFile &file : entries) {
    if (total <= config_.maxDiskBytes)
      break;
    // A reader that already opened the file keeps reading it; one that has
    // not yet opened it sees a miss and recompiles.
    if (::unlink(file.path.c_str()) == 0) {
      ++evicted;
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    total -= file.bytes; // also when another process removed it first
  }
  return evicted;
}

CacheStats KernelCache::stats() const {
  CacheStats stats;
  stats.memoryHits = memoryHits_.load();
  stats.diskHits = diskHits_.load();
  stats.misses = misses_.load();
  stats.compiles = compiles_.load();
  stats.corruptEntries = corruptEntries_.load();
  stats.evictions = evictions_.load();
  {
    std::shared_lock lock(memoryMutex_);
    stats.memoryEntries = memory_.size();
  }
  if (diskEnabled())
    if (Expected<std::vector<DirectoryFile>> files =
            cache_file::scanDirectory(directory()))
      for (const DirectoryFile &file : *files)
        if (file.kind == DirectoryFile::Kind::Entry) {
          ++stats.diskEntries;
          stats.diskBytes += file.bytes;
        }
  return stats;
}

Expected<std::vector<ListedEntry>> KernelCache::list() const {
  std::vector<ListedEntry> listed;
  if (directory().empty())
    return listed;
  Expected<std::vector<DirectoryFile>> files =
      cache_file::scanDirectory(directory());
  if (!files)
    return std::move(files).error();
  for (const DirectoryFile &file : *files) {
    if (file.kind != DirectoryFile::Kind::Entry)
      continue;
    ListedEntry item;
    item.keyHex = file.keyHex;
    item.fileBytes = file.bytes;
    item.lastUseUnixMs = file.mtimeNs / 1'000'000;
    ReadResult read = cache_file::readEntryFile(
        file.path, *digestFromHex(file.keyHex), /*touch=*/false);
    if (read.status == ReadResult::Status::Valid) {
      item.payloadBytes = read.entry->bytes.size();
      item.metadata = std::move(read.entry->metadata);
    } else if (read.status == ReadResult::Status::Missing) {
      continue; // evicted or cleared meanwhile
    } else {
      item.problem = read.problem;
    }
    listed.push_back(std::move(item));
  }
  std::sort(listed.begin(), listed.end(), [](const auto &a, const auto &b) {
    return a.lastUseUnixMs != b.lastUseUnixMs
               ? a.lastUseUnixMs > b.lastUseUnixMs
               : a.keyHex < b.keyHex;
  });
  return listed;
}

Expected<std::uint64_t> KernelCache::clear() {
  {
    std::unique_lock lock(memoryMutex_);
    memory_.clear();
  }
  if (directory().empty())
    return std::uint64_t(0);
  Expected<std::vector<DirectoryFile>> files =
      cache_file::scanDirectory(directory());
  if (!files)
    return std::move(files).error();
  std::uint64_t removed = 0;
  for (const DirectoryFile &file : *files)
    if (file.kind != DirectoryFile::Kind::Other &&
        ::unlink(file.path.c_str()) == 0 &&
        file.kind == DirectoryFile::Kind::Entry)
      ++removed;
  return removed;
}

} // namespace lace
