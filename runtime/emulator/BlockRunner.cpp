//===- BlockRunner.cpp - One thread block's threads as fibers -------------===//
#include "BlockRunner.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace lace::emu {

namespace {
thread_local BlockRunner *currentRunner = nullptr;

std::string dim3Text(Dim3 d) {
  return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " +
         std::to_string(d.z) + ")";
}

const char *opName(int op) {
  switch (op) {
  case kOpShuffle:
    return "a shuffle";
  case kOpVote:
    return "a vote";
  case kOpLdmatrix:
    return "ldmatrix";
  case kOpLdmatrixTrans:
    return "ldmatrix.trans";
  case kOpMmaF16:
    return "mma (f16)";
  case kOpMmaBF16:
    return "mma (bf16)";
  }
  return "an unknown collective";
}

std::string hexMask(unsigned mask) {
  std::ostringstream os;
  os << "0x" << std::hex << mask;
  return os.str();
}
} // namespace

BlockRunner::BlockRunner(const LaunchConfig &config) : config_(config) {
  numThreads_ = config.block.x * config.block.y * config.block.z;
  for (unsigned i = 0; i < numThreads_; ++i)
    threads_.push_back(std::make_unique<Thread>(config.stackBytes));
  exchanges_.resize((numThreads_ + 31) / 32);
  shuffle_.seed(config.shuffleSeed);
  smem_.resize(config.sharedBytes);
}

BlockRunner *BlockRunner::current() { return currentRunner; }

std::string BlockRunner::threadName(const Thread &thread) const {
  return "block " + dim3Text(thread.state.block_idx) + " thread " +
         dim3Text(thread.state.thread_idx);
}

void BlockRunner::threadMain(void *runner) {
  auto *self = static_cast<BlockRunner *>(runner);
  self->main_(self->params_);
  self->running_->status = Status::Done;
  self->suspend(); // never resumed
}

void BlockRunner::suspend() {
  Fiber::switchTo(running_->fiber.context(), scheduler_);
}

std::string BlockRunner::run(Dim3 blockIdx, ThreadMain main,
                             const void *params) {
  main_ = main;
  params_ = params;
  error_.clear();
  barrierArrivals_ = 0;
  // Shared memory starts as all-ones bytes (a NaN in half and bfloat16), so
  // that reading what no copy wrote shows up in the results.
  std::memset(smem_.data(), 0xff, smem_.size());
  const Dim3 &b = config_.block;
  for (unsigned i = 0; i < numThreads_; ++i) {
    Thread &t = *threads_[i];
    t.state.thread_idx = {i % b.x, (i / b.x) % b.y, i / (b.x * b.y)};
    t.state.block_idx = blockIdx;
    t.state.block_dim = b;
    t.state.grid_dim = config_.grid;
    t.state.lane = i % 32;
    t.state.warp = i / 32;
    t.state.smem = smem_.data();
    t.state.smem_bytes = static_cast<unsigned>(smem_.size());
    t.state.exchange = &exchanges_[i / 32];
    t.status = Status::Runnable;
    t.pending.clear();
    t.committedGroups = 0;
    t.fiber.reset(&BlockRunner::threadMain, this);
  }

  order_.resize(numThreads_);
  for (unsigned i = 0; i < numThreads_; ++i)
    order_[i] = i;

  BlockRunner *outer = currentRunner;
  currentRunner = this;
  for (;;) {
    bool ran = false;
    for (unsigned index : order_) {
      Thread *thread = threads_[index].get();
      if (thread->status == Status::Runnable) {
        running_ = thread;
        Fiber::switchTo(scheduler_, thread->fiber.context());
        running_ = nullptr;
        ran = true;
        if (thread->status == Status::Failed) {
          currentRunner = outer;
          return error_;
        }
      }
    }
    // Over every thread, not the ones this pass visited: a barrier that
    // reshuffles order_ mid-pass can leave a runnable thread unvisited.
    if (std::all_of(threads_.begin(), threads_.end(),
                    [](const std::unique_ptr<Thread> &thread) {
                      return thread->status == Status::Done;
                    }))
      break;
    if (!ran) {
      currentRunner = outer;
      return describeDeadlock();
    }
  }
  currentRunner = outer;
  return {};
}

std::string BlockRunner::describeDeadlock() const {
  // Name the first thread of each state; counts for the rest.
  std::ostringstream os;
  unsigned atBarrier = 0, exited = 0, atCollective = 0;
  const Thread *firstBarrier = nullptr, *firstExited = nullptr,
               *firstCollective = nullptr;
  for (const std::unique_ptr<Thread> &thread : threads_) {
    switch (thread->status) {
    case Status::AtBarrier:
      atBarrier++;
      firstBarrier = firstBarrier ? firstBarrier : thread.get();
      break;
    case Status::Done:
      exited++;
      firstExited = firstExited ? firstExited : thread.get();
      break;
    case Status::AtCollective:
      atCollective++;
      firstCollective = firstCollective ? firstCollective : thread.get();
      break;
    default:
      break;
    }
  }
  if (atBarrier > 0) {
    os << "__syncthreads not reached by every thread: " << atBarrier
       << " thread(s) wait at it (first: " << threadName(*firstBarrier) << ")";
    if (exited > 0)
      os << "; " << exited << " thread(s) exited without reaching it (first: "
         << threadName(*firstExited) << ")";
    if (atCollective > 0)
      os << "; " << atCollective
         << " thread(s) wait at a warp collective instead (first: "
         << threadName(*firstCollective) << ", "
         << opName(firstCollective->collectiveOp) << ")";
    return os.str();
  }
  os << "warp collective never completed: " << threadName(*firstCollective)
     << " waits at " << opName(firstCollective->collectiveOp) << " with mask "
     << hexMask(firstCollective->collectiveMask)
     << " for lanes that exited or never arrive";
  return os.str();
}

ThreadState *BlockRunner::self() { return &running_->state; }

void BlockRunner::fail(const std::string &what) {
  error_ = threadName(*running_) + ": " + what;
  running_->status = Status::Failed;
  suspend();
  __builtin_unreachable(); // a failed thread is never resumed
}

void BlockRunner::syncThreads() {
  Thread &me = *running_;
  if (++barrierArrivals_ == numThreads_) {
    barrierArrivals_ = 0;
    for (const std::unique_ptr<Thread> &thread : threads_)
      if (thread->status == Status::AtBarrier)
        thread->status = Status::Runnable;
    // Reordered under run()'s loop over order_: that pass may visit a
    // thread twice or not at all, which only moves it to the next pass.
    if (config_.shuffleSeed != 0)
      std::shuffle(order_.begin(), order_.end(), shuffle_);
    return;
  }
  me.status = Status::AtBarrier;
  suspend();
}

void BlockRunner::warpCollective(unsigned mask, int op, CombineFn combine) {
  Thread &me = *running_;
  const unsigned lane = me.state.lane;
  if (!(mask >> lane & 1u))
    fail(std::string(opName(op)) + " with mask " + hexMask(mask) +
         " that does not include the calling lane " + std::to_string(lane));
  const unsigned warpBase = me.state.warp * 32;
  bool everyoneHere = true;
  for (unsigned l = 0; l < 32; ++l) {
    if (l == lane || !(mask >> l & 1u))
      continue;
    if (warpBase + l >= numThreads_)
      fail(std::string(opName(op)) + " with mask " + hexMask(mask) +
           " naming lane " + std::to_string(l) + ", which the block lacks");
    const Thread &other = *threads_[warpBase + l];
    switch (other.status) {
    case Status::AtCollective:
      if (other.collectiveMask != mask || other.collectiveOp != op)
        fail("mismatched warp collective: this lane is at " +
             std::string(opName(op)) + " with mask " + hexMask(mask) +
             ", lane " + std::to_string(l) + " at " +
             opName(other.collectiveOp) + " with mask " +
             hexMask(other.collectiveMask));
      break;
    case Status::Done:
      fail(std::string(opName(op)) + " with mask " + hexMask(mask) + ": lane " +
           std::to_string(l) + " has exited");
    case Status::AtBarrier:
      fail(std::string(opName(op)) + " with mask " + hexMask(mask) + ": lane " +
           std::to_string(l) +
           " waits at __syncthreads instead (divergent warp)");
    default:
      everyoneHere = false;
    }
  }
  if (everyoneHere) {
    combine(*me.state.exchange, mask, me.state);
    for (unsigned l = 0; l < 32; ++l)
      if ((mask >> l & 1u) && l != lane)
        threads_[warpBase + l]->status = Status::Runnable;
    return;
  }
  me.status = Status::AtCollective;
  me.collectiveMask = mask;
  me.collectiveOp = op;
  suspend();
}

void BlockRunner::cpAsync(unsigned smemOffset, const void *src, int srcBytes) {
  if (smemOffset % 16 != 0 || smemOffset + 16 > smem_.size())
    fail("cp.async destination " + std::to_string(smemOffset) +
         " outside the " + std::to_string(smem_.size()) +
         " bytes of shared memory or not 16-byte aligned");
  if (srcBytes != 0 && reinterpret_cast<std::uintptr_t>(src) % 16 != 0)
    fail("cp.async source not 16-byte aligned");
  running_->pending.push_back(
      {smemOffset, src, srcBytes, running_->committedGroups});
}

void BlockRunner::cpAsyncCommit() { running_->committedGroups++; }

void BlockRunner::cpAsyncWait(int pending) {
  // Copies land only here, so a read of a stage before its wait sees the
  // poisoned or previous contents, as it could on a GPU.
  Thread &me = *running_;
  const long long complete = me.committedGroups - pending;
  std::size_t kept = 0;
  for (PendingCopy &copy : me.pending) {
    if (copy.group < complete) {
      unsigned char *dst = smem_.data() + copy.smemOffset;
      std::memcpy(dst, copy.src, static_cast<std::size_t>(copy.srcBytes));
      std::memset(dst + copy.srcBytes, 0,
                  16 - static_cast<std::size_t>(copy.srcBytes));
    } else {
      me.pending[kept++] = copy;
    }
  }
  me.pending.resize(kept);
}

} // namespace lace::emu
