//===- Fiber.h - Stackful coroutines for emulated CUDA threads ------------===//
//
// Every emulated CUDA thread of a block is a fiber with its own stack; the
// block's scheduler switches between them at barriers and warp-collective
// operations. On x86-64 the switch is a dozen instructions (callee-saved
// registers, MXCSR and the x87 control word) — a block of 128 threads
// switches about 60,000 times per K/V tile, so swapcontext's signal-mask
// system call would dominate; elsewhere ucontext is used.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_EMULATOR_FIBER_H
#define LACE_RUNTIME_EMULATOR_FIBER_H

#include <cstddef>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace lace::emu {

/// Where a suspended flow of control continues.
struct FiberContext {
#if defined(__x86_64__)
  void *stackPointer = nullptr;
#else
  ucontext_t context;
#endif
};

/// A stack (mmap'ed, with an inaccessible guard page below it so that an
/// overflow faults instead of corrupting a neighbour) and the context that
/// runs on it.
class Fiber {
public:
  using Entry = void (*)(void *argument);

  explicit Fiber(std::size_t stackBytes);
  ~Fiber();
  Fiber(const Fiber &) = delete;
  Fiber &operator=(const Fiber &) = delete;

  /// Prepares the fiber to run entry(argument) from the top of its stack
  /// at the next switchTo. `entry` must never return: it ends by switching
  /// away for good.
  void reset(Entry entry, void *argument);

  FiberContext &context() { return context_; }

  /// Saves the running context into `from` and continues `to`.
  static void switchTo(FiberContext &from, FiberContext &to);

private:
  void *mapping_ = nullptr;
  std::size_t mappingBytes_ = 0;
  FiberContext context_;
};

} // namespace lace::emu

#endif // LACE_RUNTIME_EMULATOR_FIBER_H
