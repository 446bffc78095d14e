//===- KernelCacheConcurrencyTest.cpp - Many compilers, one key -----------===//
//
// Processes (fork) and threads that ask for the same key at the same time
// must all succeed with the same bytes. The fake compiler is slow so that the
// requests overlap, and it writes its pid into the payload, so that two
// compiles would be visible as two different payloads. Correctness never
// depends on timing: the children start together on a pipe barrier.
//
//===----------------------------------------------------------------------===//
#include "CacheTestSupport.h"

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace lace {
namespace {

constexpr int kWorkers = 8;
constexpr std::size_t kPayloadBytes = 200 * 1024;

Payload slowCompile(const std::filesystem::path &compileLog) {
  int log = ::open(compileLog.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  std::string line = std::to_string(::getpid()) + "\n";
  (void)!::write(log, line.data(), line.size());
  ::close(log);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  std::string bytes = "compiled by " + std::to_string(::getpid()) + " ";
  bytes.resize(kPayloadBytes, 'c');
  return test::payloadOf(bytes);
}

/// The child's whole life: wait for the start, get the entry, write its
/// bytes to `output`. Exits 0 on success; never returns.
[[noreturn]] void runChild(int barrier, const std::filesystem::path &directory,
                           const CacheKey &key,
                           const std::filesystem::path &compileLog,
                           const std::filesystem::path &output) {
  char ignored;
  (void)!::read(barrier, &ignored, 1); // returns at EOF: the parent let go
  CacheConfig config;
  config.directory = directory;
  config.onWarning = [](const std::string &) {};
  KernelCache cache(config);
  auto entry = cache.getOrCompile(
      key, [&]() -> Expected<Payload> { return slowCompile(compileLog); });
  if (!entry)
    ::_exit(2);
  test::writeFile(output, test::textOf(**entry));
  ::_exit(0);
}

std::vector<std::string> lines(const std::string &text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1)
    out.push_back(text.substr(start, end - start));
  return out;
}

TEST(KernelCacheConcurrency, ProcessesCompilingTheSameKeyAgree) {
  test::ScratchDirectory scratch;
  std::filesystem::path directory = scratch.path() / "cache";
  std::filesystem::path compileLog = scratch.path() / "compiles.log";
  CacheKey key = CacheKey::forKernel("ir", "fwd-1", "nvrtc", "sm_80", {});

  int barrier[2];
  ASSERT_EQ(::pipe(barrier), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kWorkers; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      ::close(barrier[1]);
      runChild(barrier[0], directory, key, compileLog,
               scratch.path() / ("out." + std::to_string(i)));
    }
    children.push_back(pid);
  }
  ::close(barrier[0]);
  ::close(barrier[1]); // every child's read() returns now

  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "child " << child << " failed, status " << status;
  }

  std::vector<std::string> compiles = lines(test::readFile(compileLog));
  ASSERT_GE(compiles.size(), 1u);
  EXPECT_EQ(compiles.size(), 1u)
      << "the writer lock and the check after it should make one compile";

  CacheConfig config;
  config.directory = directory;
  KernelCache verifier(config);
  std::shared_ptr<const CacheEntry> final = verifier.lookup(key);
  ASSERT_TRUE(final) << "the final entry does not verify";
  EXPECT_EQ(verifier.stats().corruptEntries, 0u);
  std::string expected = test::textOf(*final);
  EXPECT_EQ(expected.size(), kPayloadBytes);
  for (int i = 0; i < kWorkers; ++i)
    EXPECT_EQ(test::readFile(scratch.path() / ("out." + std::to_string(i))),
              expected)
        << "worker " << i << " got a different payload";

  // Nothing but the entry is left: temporaries renamed, locks unlinked.
  std::vector<std::string> names;
  for (const auto &item : std::filesystem::directory_iterator(directory))
    names.push_back(item.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{key.hex() + ".lkc"});
}

TEST(KernelCacheConcurrency, ThreadsShareOneCompile) {
  test::ScratchDirectory scratch;
  CacheConfig config;
  config.directory = scratch.path() / "cache";
  KernelCache cache(config);
  CacheKey key = CacheKeyBuilder().add("ir", "threads").build();
  std::atomic<int> compiles{0};
  std::vector<std::shared_ptr<const CacheEntry>> results(kWorkers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWorkers; ++i)
    threads.emplace_back([&, i] {
      auto entry = cache.getOrCompile(key, [&]() -> Expected<Payload> {
        ++compiles;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return test::payloadOf("thread " + std::to_string(i));
      });
      if (entry)
        results[i] = *entry;
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(compiles.load(), 1);
  for (int i = 0; i < kWorkers; ++i) {
    ASSERT_TRUE(results[i]) << "thread " << i << " failed";
    EXPECT_EQ(results[i], results[0]) << "thread " << i;
  }
}

TEST(KernelCacheConcurrency, ConcurrentReadersOfManyKeys) {
  test::ScratchDirectory scratch;
  CacheConfig config;
  config.directory = scratch.path() / "cache";
  config.maxMemoryEntries = 4; // force disk reads and memory evictions
  KernelCache cache(config);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        int n = (round * 7 + t) % 16;
        CacheKey key = CacheKeyBuilder().add("n", std::to_string(n)).build();
        auto entry = cache.getOrCompile(key, [&]() -> Expected<Payload> {
          return test::payloadOf("value " + std::to_string(n));
        });
        if (!entry || test::textOf(**entry) != "value " + std::to_string(n))
          ++failures;
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(cache.stats().memoryEntries, 4u);
}

} // namespace
} // namespace lace
