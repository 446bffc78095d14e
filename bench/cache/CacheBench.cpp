//===- CacheBench.cpp - Kernel cache hit and miss costs -------------------===//
//
// Medians over many repeats of: a memory-cache hit, a disk-cache hit (open,
// read and SHA-256-verify a cubin-sized payload) and a miss + insert (write a
// temporary, rename, check the cap). The compile itself is a copy, so the
// miss row is the cache's own overhead. Usage:
//   lace-cache-bench [--payload-bytes N] [--repeats N] [--dir DIR]
//
//===----------------------------------------------------------------------===//
#include "lace/Runtime/KernelCache.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace lace;
using Clock = std::chrono::steady_clock;

namespace {

struct Summary {
  double median, p10, p90; // microseconds
};

Summary summarise(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return samples[static_cast<std::size_t>(q * double(samples.size() - 1))];
  };
  return {at(0.5), at(0.1), at(0.9)};
}

template <typename Fn> double timeMicros(Fn &&fn) {
  auto start = Clock::now();
  fn();
  return std::chrono::duration<double, std::micro>(Clock::now() - start)
      .count();
}

void printRow(const char *name, const Summary &s) {
  std::printf("| %-34s | %12.3f | %12.3f | %12.3f |\n", name, s.median, s.p10,
              s.p90);
}

} // namespace

int main(int argc, char **argv) {
  std::size_t payloadBytes = 200 * 1024;
  int repeats = 400;
  std::filesystem::path dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--payload-bytes")
      payloadBytes = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--repeats")
      repeats = std::atoi(argv[i + 1]);
    else if (flag == "--dir")
      dir = argv[i + 1];
  }
  bool ownDir = dir.empty();
  if (ownDir) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "lace-cache-bench-XXXXXX")
            .string();
    if (!::mkdtemp(pattern.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = pattern;
  }

  Payload payload;
  payload.bytes.resize(payloadBytes);
  for (std::size_t i = 0; i < payloadBytes; ++i)
    payload.bytes[i] = static_cast<char>(i * 2654435761u >> 13);
  payload.kind = "cubin";
  auto compile = [&]() -> Expected<Payload> { return payload; };

  CacheConfig config;
  config.directory = dir;
  CacheKey key =
      CacheKey::forKernel("bench ir", "fwd-1", "nvrtc bench", "sm_80", {"-O3"});

  // Memory hit: batches of lookups, since one takes less than the clock's
  // own overhead; the median is over the per-lookup batch means.
  KernelCache memoryCache(config);
  if (!memoryCache.getOrCompile(key, compile))
    return 1;
  constexpr int kBatch = 1000;
  std::vector<double> memorySamples;
  for (int r = 0; r < repeats; ++r)
    memorySamples.push_back(timeMicros([&] {
                              for (int i = 0; i < kBatch; ++i)
                                if (!memoryCache.getOrCompile(key, compile))
                                  std::abort();
                            }) /
                            kBatch);

  // Disk hit: no memory cache, so every call opens, reads and verifies.
  CacheConfig diskOnly = config;
  diskOnly.maxMemoryEntries = 0;
  KernelCache diskCache(diskOnly);
  std::vector<double> diskSamples;
  for (int r = 0; r < repeats; ++r)
    diskSamples.push_back(timeMicros([&] {
      if (!diskCache.getOrCompile(key, compile))
        std::abort();
    }));

  // Miss + insert: a new key each time.
  std::vector<double> missSamples;
  for (int r = 0; r < repeats; ++r) {
    CacheKey fresh = CacheKeyBuilder().add("n", std::to_string(r)).build();
    missSamples.push_back(timeMicros([&] {
      if (!diskCache.getOrCompile(fresh, compile))
        std::abort();
    }));
  }

  std::vector<double> hashSamples;
  for (int r = 0; r < repeats; ++r)
    hashSamples.push_back(timeMicros([&] {
      volatile auto digest =
          Sha256::hash(payload.bytes.data(), payload.bytes.size())[0];
      (void)digest;
    }));

  CacheStats stats = diskCache.stats();
  if (stats.diskHits != static_cast<std::uint64_t>(repeats) ||
      stats.compiles != static_cast<std::uint64_t>(repeats)) {
    std::fprintf(stderr, "unexpected counters: %llu disk hits, %llu compiles\n",
                 static_cast<unsigned long long>(stats.diskHits),
                 static_cast<unsigned long long>(stats.compiles));
    return 1;
  }

  Summary memory = summarise(memorySamples), disk = summarise(diskSamples),
          miss = summarise(missSamples), hash = summarise(hashSamples);
  std::printf("kernel cache, payload %zu bytes, %d repeats, directory %s\n\n",
              payloadBytes, repeats, dir.c_str());
  std::printf("| %-34s | %12s | %12s | %12s |\n", "operation", "median us",
              "p10 us", "p90 us");
  std::printf("|%s|%s|%s|%s|\n", std::string(36, '-').c_str(),
              std::string(14, '-').c_str(), std::string(14, '-').c_str(),
              std::string(14, '-').c_str());
  printRow("memory hit (getOrCompile)", memory);
  printRow("disk hit (open+read+verify)", disk);
  printRow("miss + insert (write+rename+cap)", miss);
  printRow("sha-256 of the payload alone", hash);
  std::printf("\ndisk hit / memory hit: %.0fx; sha-256 %.0f MB/s\n",
              disk.median / memory.median, double(payloadBytes) / hash.median);
  std::printf("not measured: loading the module image on a GPU "
              "(cuModuleLoadData); this machine has no GPU, and the runtime "
              "does that after the cache returns the bytes\n");
  if (ownDir)
    std::filesystem::remove_all(dir);
  return 0;
}
