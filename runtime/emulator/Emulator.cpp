//===- Emulator.cpp - Grid launch over worker threads and the hook table --===//
#include "BlockRunner.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace lace::emu {

namespace {

BlockRunner &runner() { return *BlockRunner::current(); }

ThreadState *hookSelf() { return runner().self(); }
void hookSyncThreads() { runner().syncThreads(); }
void hookWarpCollective(unsigned mask, int op, CombineFn combine) {
  runner().warpCollective(mask, op, combine);
}
void hookCpAsync(unsigned smemOffset, const void *src, int srcBytes) {
  runner().cpAsync(smemOffset, src, srcBytes);
}
void hookCpAsyncCommit() { runner().cpAsyncCommit(); }
void hookCpAsyncWait(int pending) { runner().cpAsyncWait(pending); }
void hookFail(const char *what) { runner().fail(what); }

const Hooks kHooks = {kAbiVersion,       &hookSelf,         &hookSyncThreads,
                      &hookWarpCollective, &hookCpAsync,    &hookCpAsyncCommit,
                      &hookCpAsyncWait,  &hookFail};

} // namespace

const Hooks &hookTable() { return kHooks; }

std::optional<Error> launch(ThreadMain main, const LaunchConfig &config,
                            const void *params) {
  const Dim3 &g = config.grid, &b = config.block;
  const unsigned long long threads =
      static_cast<unsigned long long>(b.x) * b.y * b.z;
  if (threads == 0 || threads > kMaxThreadsPerBlock)
    return Error("emulator launch: " + std::to_string(threads) +
                 " threads per block (1 to " +
                 std::to_string(kMaxThreadsPerBlock) + " allowed)");
  if (config.sharedBytes > kMaxSharedBytes)
    return Error("emulator launch: " + std::to_string(config.sharedBytes) +
                 " bytes of dynamic shared memory (at most " +
                 std::to_string(kMaxSharedBytes) + ")");
  const unsigned long long blocks =
      static_cast<unsigned long long>(g.x) * g.y * g.z;
  if (blocks == 0)
    return std::nullopt;

  unsigned workers = config.workers;
  if (workers == 0)
    workers = std::max(1u, std::thread::hardware_concurrency());
  workers = static_cast<unsigned>(
      std::min<unsigned long long>(workers, blocks));

  std::atomic<unsigned long long> next{0};
  std::atomic<bool> failed{false};
  std::mutex errorMutex;
  std::string firstError;
  auto work = [&] {
    BlockRunner blockRunner(config);
    for (;;) {
      if (failed.load(std::memory_order_relaxed))
        return;
      const unsigned long long i = next.fetch_add(1);
      if (i >= blocks)
        return;
      const Dim3 blockIdx{static_cast<unsigned>(i % g.x),
                          static_cast<unsigned>(i / g.x % g.y),
                          static_cast<unsigned>(i / g.x / g.y)};
      std::string error = blockRunner.run(blockIdx, main, params);
      if (!error.empty()) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!failed.exchange(true))
          firstError = std::move(error);
        return;
      }
    }
  };
  if (workers == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; ++w)
      pool.emplace_back(work);
    for (std::thread &t : pool)
      t.join();
  }
  if (failed)
    return Error("kernel failed on the emulator: " + firstError);
  return std::nullopt;
}

} // namespace lace::emu
