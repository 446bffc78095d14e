//===- BlockRunner.h - One thread block's threads as fibers ---------------===//
//
// A BlockRunner belongs to one worker OS thread and runs one block at a time.
// Its scheduler resumes runnable threads in order; a thread runs until it
// waits (at __syncthreads or a warp collective), finishes or fails. The
// last thread to reach a barrier, or the last lane to reach a collective,
// releases the others and carries on without switching. When no thread can
// run and not all have finished, the block is deadlocked: the error says who
// waits where.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_EMULATOR_BLOCKRUNNER_H
#define LACE_RUNTIME_EMULATOR_BLOCKRUNNER_H

#include "Fiber.h"

#include "lace/Runtime/Emulator.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace lace::emu {

class BlockRunner {
public:
  explicit BlockRunner(const LaunchConfig &config);

  /// Runs block `blockIdx` of the grid; empty on success, else the error.
  std::string run(Dim3 blockIdx, ThreadMain main, const void *params);

  /// The runner of the calling OS thread while a block runs (hooks use it).
  static BlockRunner *current();

  // The hooks' implementations, for the running thread.
  ThreadState *self();
  void syncThreads();
  void warpCollective(unsigned mask, int op, CombineFn combine);
  void cpAsync(unsigned smemOffset, const void *src, int srcBytes);
  void cpAsyncCommit();
  void cpAsyncWait(int pending);
  [[noreturn]] void fail(const std::string &what);

private:
  enum class Status { Runnable, AtBarrier, AtCollective, Done, Failed };

  struct PendingCopy {
    unsigned smemOffset;
    const void *src;
    int srcBytes;
    long long group;
  };

  struct Thread {
    explicit Thread(std::size_t stackBytes) : fiber(stackBytes) {}
    Fiber fiber;
    ThreadState state{};
    Status status = Status::Runnable;
    unsigned collectiveMask = 0;
    int collectiveOp = 0;
    std::vector<PendingCopy> pending;
    long long committedGroups = 0;
  };

  static void threadMain(void *runner);
  /// Switches from the running thread back to the scheduler.
  void suspend();
  std::string describeDeadlock() const;
  std::string threadName(const Thread &thread) const;

  LaunchConfig config_;
  unsigned numThreads_ = 0;
  std::vector<std::unique_ptr<Thread>> threads_;
  std::vector<unsigned> order_; ///< the scheduler's resume order
  std::mt19937_64 shuffle_;
  std::vector<WarpExchange> exchanges_;
  std::vector<unsigned char> smem_;
  FiberContext scheduler_;
  Thread *running_ = nullptr;
  unsigned barrierArrivals_ = 0;
  ThreadMain main_ = nullptr;
  const void *params_ = nullptr;
  std::string error_;
};

} // namespace lace::emu

#endif // LACE_RUNTIME_EMULATOR_BLOCKRUNNER_H
