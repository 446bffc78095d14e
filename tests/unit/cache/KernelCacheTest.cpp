//===- KernelCacheTest.cpp - Hits, misses, damage, eviction, settings -----===//
#include "CacheTestSupport.h"

#include <fcntl.h>
#include <sys/stat.h>

namespace lace {
namespace {

using test::payloadOf;
using test::ScopedEnv;
using test::textOf;

class KernelCacheTest : public ::testing::Test {
protected:
  CacheConfig
  config(std::uint64_t maxDiskBytes = CacheConfig::kDefaultMaxDiskBytes) {
    CacheConfig config;
    config.directory = scratch.path() / "cache";
    config.maxDiskBytes = maxDiskBytes;
    config.onWarning = warnings.sink();
    return config;
  }

  /// A compiler that records each call and returns `text`.
  auto compilerOf(std::string text) {
    return [this, text]() -> Expected<Payload> {
      ++compileCalls;
      return payloadOf(text);
    };
  }

  std::string get(KernelCache &cache, const CacheKey &key,
                  const std::string &text) {
    auto entry = cache.getOrCompile(key, compilerOf(text));
    EXPECT_TRUE(entry) << (entry ? "" : entry.error().str());
    return entry ? textOf(**entry) : std::string();
  }

  test::ScratchDirectory scratch;
  test::WarningLog warnings;
  int compileCalls = 0;
  CacheKey key =
      CacheKey::forKernel("ir-1", "fwd-1", "nvrtc 12.4", "sm_80", {"-O3"});
};

TEST_F(KernelCacheTest, MissCompilesThenMemoryHit) {
  KernelCache cache(config());
  EXPECT_EQ(get(cache, key, "binary"), "binary");
  EXPECT_EQ(get(cache, key, "other"), "binary");
  EXPECT_EQ(compileCalls, 1);
  CacheStats stats = cache.stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.compiles, 1u);
  EXPECT_EQ(stats.memoryHits, 1u);
  EXPECT_EQ(stats.diskHits, 0u);
  EXPECT_EQ(stats.diskEntries, 1u);
  EXPECT_EQ(stats.memoryEntries, 1u);
}

TEST_F(KernelCacheTest, SecondCacheHitsOnDisk) {
  {
    KernelCache writer(config());
    get(writer, key, "binary");
  }
  KernelCache reader(config());
  std::shared_ptr<const CacheEntry> entry = reader.lookup(key);
  ASSERT_TRUE(entry);
  EXPECT_EQ(textOf(*entry), "binary");
  EXPECT_EQ(entry->metadata.kind, "cubin");
  EXPECT_EQ(entry->metadata.arch, "sm_80");
  EXPECT_EQ(entry->metadata.label, "test");
  EXPECT_GT(entry->metadata.createdUnixMs, 0);
  EXPECT_EQ(reader.stats().diskHits, 1u);
  EXPECT_EQ(reader.lookup(key), entry) << "the disk hit is kept in memory";
  EXPECT_EQ(reader.stats().memoryHits, 1u);
  EXPECT_EQ(compileCalls, 1);
}

TEST_F(KernelCacheTest, LookupMissCountsAndReturnsNull) {
  KernelCache cache(config());
  EXPECT_FALSE(cache.lookup(key));
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().compiles, 0u);
}

TEST_F(KernelCacheTest, ChangingAnyKeyPartMisses) {
  KernelCache cache(config());
  get(cache, key, "base");
  std::vector<CacheKey> variants = {
      CacheKey::forKernel("ir-2", "fwd-1", "nvrtc 12.4", "sm_80", {"-O3"}),
      CacheKey::forKernel("ir-1", "fwd-2", "nvrtc 12.4", "sm_80", {"-O3"}),
      CacheKey::forKernel("ir-1", "fwd-1", "nvrtc 12.5", "sm_80", {"-O3"}),
      CacheKey::forKernel("ir-1", "fwd-1", "nvrtc 12.4", "sm_90", {"-O3"}),
      CacheKey::forKernel("ir-1", "fwd-1", "nvrtc 12.4", "sm_80", {"-O2"}),
  };
  for (std::size_t i = 0; i < variants.size(); ++i)
    EXPECT_EQ(get(cache, variants[i], "variant" + std::to_string(i)),
              "variant" + std::to_string(i))
        << "variant " << i << " hit the base entry";
  EXPECT_EQ(compileCalls, 1 + static_cast<int>(variants.size()));
  EXPECT_EQ(get(cache, key, "unused"), "base");
}

TEST_F(KernelCacheTest, CompileErrorIsReturnedAndNothingStored) {
  KernelCache cache(config());
  auto failing = []() -> Expected<Payload> {
    return Error("nvrtc failed", "kernel.cu(3): error: expected a ';'");
  };
  auto result = cache.getOrCompile(key, failing);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("compiling kernel"),
            std::string::npos);
  EXPECT_NE(result.error().message().find("nvrtc failed"), std::string::npos);
  EXPECT_EQ(result.error().details(), "kernel.cu(3): error: expected a ';'");
  EXPECT_FALSE(std::filesystem::exists(cache.entryPath(key)));
  EXPECT_EQ(get(cache, key, "fixed"), "fixed");
}

/// Damages the stored entry with `damage`, then checks that a fresh cache
/// reports it, counts it, recompiles and replaces the file.
class DamagedEntryTest : public KernelCacheTest {
protected:
  void expectRebuilt(
      const std::function<void(const std::filesystem::path &)> &damage,
      std::string_view problem) {
    {
      KernelCache writer(config());
      get(writer, key, std::string(4096, 'k'));
    }
    std::filesystem::path path = KernelCache(config()).entryPath(key);
    damage(path);
    KernelCache reader(config());
    EXPECT_FALSE(reader.lookup(key))
        << "a damaged entry must never be returned";
    EXPECT_EQ(reader.stats().corruptEntries, 1u);
    EXPECT_TRUE(warnings.contains(problem))
        << "expected a warning about " << problem;
    EXPECT_FALSE(std::filesystem::exists(path)) << "damaged entry not removed";

    EXPECT_EQ(get(reader, key, "rebuilt"), "rebuilt");
    EXPECT_EQ(reader.stats().compiles, 1u);
    KernelCache verifier(config());
    std::shared_ptr<const CacheEntry> replaced = verifier.lookup(key);
    ASSERT_TRUE(replaced) << "the rebuilt entry was not stored";
    EXPECT_EQ(textOf(*replaced), "rebuilt");
    EXPECT_EQ(verifier.stats().corruptEntries, 0u);
  }
};

TEST_F(DamagedEntryTest, FlippedPayloadByte) {
  expectRebuilt(
      [](const std::filesystem::path &path) {
        std::string bytes = test::readFile(path);
        bytes[96 + 1000] ^= 0x01;
        test::writeFile(path, bytes);
      },
      "checksum mismatch");
}

TEST_F(DamagedEntryTest, TruncatedFile) {
  expectRebuilt(
      [](const std::filesystem::path &path) {
        std::filesystem::resize_file(path, 96 + 2000);
      },
      "truncated");
}

TEST_F(DamagedEntryTest, TruncatedInsideHeader) {
  expectRebuilt(
      [](const std::filesystem::path &path) {
        std::filesystem::resize_file(path, 40);
      },
      "shorter than the header");
}

TEST_F(DamagedEntryTest, ForeignFile) {
  expectRebuilt(
      [](const std::filesystem::path &path) {
        test::writeFile(path, std::string(4096, 'x'));
      },
      "bad magic");
}

TEST_F(DamagedEntryTest, EntryOfAnotherKey) {
  expectRebuilt(
      [this](const std::filesystem::path &path) {
        KernelCache other(config());
        CacheKey otherKey = CacheKeyBuilder().add("other", "1").build();
        get(other, otherKey, "other");
        std::filesystem::copy_file(
            other.entryPath(otherKey), path,
            std::filesystem::copy_options::overwrite_existing);
      },
      "key in the header does not match");
}

TEST_F(DamagedEntryTest, NewerFormatVersion) {
  expectRebuilt(
      [](const std::filesystem::path &path) {
        std::string bytes = test::readFile(path);
        bytes[8] = 2;
        test::writeFile(path, bytes);
      },
      "format version 2");
}

TEST_F(DamagedEntryTest, ExtraTrailingBytes) {
  expectRebuilt(
      [](const std::filesystem::path &path) {
        test::writeFile(path, test::readFile(path) + "junk");
      },
      "size mismatch");
}

TEST_F(KernelCacheTest, EvictsLeastRecentlyUsedUnderCap) {
  const std::string payload(10'000, 'p');
  std::vector<CacheKey> keys;
  for (int i = 0; i < 4; ++i)
    keys.push_back(CacheKeyBuilder().add("n", std::to_string(i)).build());
  KernelCache writer(config());
  for (int i = 0; i < 3; ++i)
    get(writer, keys[i], payload);
  std::uint64_t entryBytes = writer.stats().diskBytes / 3;
  ASSERT_GT(entryBytes, payload.size());

  // Give the entries distinct, old last-use times (0 oldest) so that the
  // test does not depend on the file system's timestamp resolution.
  for (int i = 0; i < 3; ++i) {
    timespec times[2] = {{1000 + i, 0}, {1000 + i, 0}};
    ASSERT_EQ(
        ::utimensat(AT_FDCWD, writer.entryPath(keys[i]).c_str(), times, 0), 0);
  }
  // A disk hit on entry 0 makes it the most recently used.
  CacheConfig capped = config(3 * entryBytes);
  capped.maxMemoryEntries = 0;
  KernelCache cache(capped);
  ASSERT_TRUE(cache.lookup(keys[0]));
  get(cache, keys[3], payload);

  EXPECT_TRUE(std::filesystem::exists(cache.entryPath(keys[0])));
  EXPECT_FALSE(std::filesystem::exists(cache.entryPath(keys[1])))
      << "the least recently used entry survived";
  EXPECT_TRUE(std::filesystem::exists(cache.entryPath(keys[2])));
  EXPECT_TRUE(std::filesystem::exists(cache.entryPath(keys[3])));
  CacheStats stats = cache.stats();
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_EQ(stats.diskEntries, 3u);
  EXPECT_LE(stats.diskBytes, 3 * entryBytes);
}

TEST_F(KernelCacheTest, EvictToCapAfterLoweringTheCap) {
  {
    KernelCache writer(config());
    for (int i = 0; i < 5; ++i)
      get(writer, CacheKeyBuilder().add("n", std::to_string(i)).build(),
          std::string(1000, 'p'));
  }
  KernelCache cache(config(/*maxDiskBytes=*/0));
  Expected<std::uint64_t> evicted = cache.evictToCap();
  ASSERT_TRUE(evicted);
  EXPECT_EQ(*evicted, 5u);
  EXPECT_EQ(cache.stats().diskEntries, 0u);
}

TEST_F(KernelCacheTest, MemoryCacheKeepsAtMostItsCap) {
  CacheConfig small = config();
  small.maxMemoryEntries = 2;
  KernelCache cache(small);
  std::vector<CacheKey> keys;
  for (int i = 0; i < 3; ++i)
    keys.push_back(CacheKeyBuilder().add("n", std::to_string(i)).build());
  get(cache, keys[0], "0");
  get(cache, keys[1], "1");
  get(cache, keys[0], "0"); // 1 is now the least recently used
  get(cache, keys[2], "2");
  EXPECT_EQ(cache.stats().memoryEntries, 2u);
  std::uint64_t diskHitsBefore = cache.stats().diskHits;
  get(cache, keys[0], "0");
  EXPECT_EQ(cache.stats().diskHits, diskHitsBefore) << "0 was evicted";
  get(cache, keys[1], "1");
  EXPECT_EQ(cache.stats().diskHits, diskHitsBefore + 1) << "1 was kept";
}

TEST_F(KernelCacheTest, DisabledCompilesEveryTime) {
  ScopedEnv disable("LACE_CACHE_DISABLE", "1");
  ScopedEnv dir("LACE_CACHE_DIR", (scratch.path() / "cache").c_str());
  Expected<CacheConfig> fromEnv = CacheConfig::fromEnvironment();
  ASSERT_TRUE(fromEnv);
  EXPECT_FALSE(fromEnv->enabled);
  KernelCache cache(*fromEnv);
  EXPECT_EQ(get(cache, key, "a"), "a");
  EXPECT_EQ(get(cache, key, "b"), "b");
  EXPECT_EQ(compileCalls, 2);
  EXPECT_FALSE(cache.lookup(key));
  EXPECT_FALSE(std::filesystem::exists(scratch.path() / "cache"));
}

TEST_F(KernelCacheTest, DisableZeroMeansEnabled) {
  ScopedEnv disable("LACE_CACHE_DISABLE", "0");
  Expected<CacheConfig> fromEnv = CacheConfig::fromEnvironment();
  ASSERT_TRUE(fromEnv);
  EXPECT_TRUE(fromEnv->enabled);
}

TEST_F(KernelCacheTest, DirectoryFromEnvironment) {
  ScopedEnv home("HOME", "/home/someone");
  {
    ScopedEnv dir("LACE_CACHE_DIR", "/explicit/dir");
    ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(*CacheConfig::defaultDirectory(), "/explicit/dir");
  }
  ScopedEnv noDir("LACE_CACHE_DIR", nullptr);
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(*CacheConfig::defaultDirectory(), "/xdg/lace");
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "relative/is/ignored");
    EXPECT_EQ(*CacheConfig::defaultDirectory(), "/home/someone/.cache/lace");
  }
  ScopedEnv noXdg("XDG_CACHE_HOME", nullptr);
  EXPECT_EQ(*CacheConfig::defaultDirectory(), "/home/someone/.cache/lace");
}

TEST_F(KernelCacheTest, CreatesTheDirectoryPrivate) {
  std::filesystem::path nested = scratch.path() / "xdg" / "lace";
  ScopedEnv noDir("LACE_CACHE_DIR", nullptr);
  ScopedEnv xdg("XDG_CACHE_HOME", (scratch.path() / "xdg").c_str());
  Expected<CacheConfig> fromEnv = CacheConfig::fromEnvironment();
  ASSERT_TRUE(fromEnv);
  EXPECT_EQ(fromEnv->directory, nested);
  KernelCache cache(*fromEnv);
  get(cache, key, "x");
  struct stat info;
  ASSERT_EQ(::stat(nested.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  EXPECT_TRUE(std::filesystem::exists(cache.entryPath(key)));
}

TEST_F(KernelCacheTest, MaxBytesFromEnvironment) {
  {
    ScopedEnv cap("LACE_CACHE_MAX_BYTES", "64M");
    EXPECT_EQ(CacheConfig::fromEnvironment()->maxDiskBytes, 64ull << 20);
  }
  {
    ScopedEnv cap("LACE_CACHE_MAX_BYTES", "12345");
    EXPECT_EQ(CacheConfig::fromEnvironment()->maxDiskBytes, 12345u);
  }
  ScopedEnv cap("LACE_CACHE_MAX_BYTES", "lots");
  Expected<CacheConfig> bad = CacheConfig::fromEnvironment();
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("LACE_CACHE_MAX_BYTES"),
            std::string::npos);
}

TEST_F(KernelCacheTest, UnwritableDirectoryStillCompiles) {
  test::writeFile(scratch.path() / "file", "not a directory");
  CacheConfig broken = config();
  broken.directory = scratch.path() / "file" / "cache";
  KernelCache cache(broken);
  EXPECT_EQ(get(cache, key, "x"), "x");
  EXPECT_TRUE(warnings.contains("cannot create the cache directory"));
  EXPECT_EQ(get(cache, key, "y"), "x") << "still cached in memory";
}

TEST_F(KernelCacheTest, ListClearAndStats) {
  KernelCache cache(config());
  CacheKey other = CacheKeyBuilder().add("n", "2").build();
  get(cache, key, "first");
  get(cache, other, "second!");
  test::writeFile(cache.directory() / "notes.txt", "not ours");
  Expected<std::vector<ListedEntry>> listed = cache.list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  for (const ListedEntry &entry : *listed) {
    EXPECT_TRUE(entry.problem.empty()) << entry.problem;
    EXPECT_EQ(entry.metadata.kind, "cubin");
    EXPECT_EQ(entry.payloadBytes, entry.keyHex == key.hex() ? 5u : 7u);
  }
  test::writeFile(cache.entryPath(other), "garbage");
  listed = cache.list();
  ASSERT_TRUE(listed);
  int damaged = 0;
  for (const ListedEntry &entry : *listed)
    damaged += !entry.problem.empty();
  EXPECT_EQ(damaged, 1);

  Expected<std::uint64_t> removed = cache.clear();
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(cache.stats().diskEntries, 0u);
  EXPECT_EQ(cache.stats().memoryEntries, 0u);
  EXPECT_TRUE(std::filesystem::exists(cache.directory() / "notes.txt"))
      << "clear removes only the cache's own files";
}

TEST_F(KernelCacheTest, InsertReplacesAndLookupFinds) {
  KernelCache cache(config());
  cache.insert(key, payloadOf("one"));
  cache.insert(key, payloadOf("two"));
  ASSERT_TRUE(cache.lookup(key));
  EXPECT_EQ(textOf(*cache.lookup(key)), "two");
  KernelCache fresh(config());
  ASSERT_TRUE(fresh.lookup(key));
  EXPECT_EQ(textOf(*fresh.lookup(key)), "two");
}

} // namespace
} // namespace lace
