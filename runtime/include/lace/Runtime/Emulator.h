//===- Emulator.h - Runs CUDA kernels on the CPU --------------------------===//
//
// The emulator backend: a grid of thread blocks, each block's threads as
// fibers that switch at __syncthreads and at warp-collective operations,
// blocks spread over worker threads (see docs/emulator.md). Kernel code is
// compiled against lace_emu_device.cuh and reaches the emulator only through
// the hook table below (lace_emu_abi.cuh).
//
// Misuse is an error naming the block and thread, never a hang: a barrier
// that some thread cannot reach (it exited, or waits at a warp collective),
// lanes of one warp at different collectives or with different masks, a
// shared-memory address outside the launch's dynamic shared memory.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_EMULATOR_H
#define LACE_RUNTIME_EMULATOR_H

#include "lace/Runtime/Error.h"

#include "lace_emu_abi.cuh"

#include <cstddef>
#include <optional>

namespace lace::emu {

/// The code of one emulated thread: a kernel object's thread entry, which
/// calls the kernel with the launch's parameters.
using ThreadMain = void (*)(const void *params);

struct LaunchConfig {
  Dim3 grid{1, 1, 1};
  Dim3 block{1, 1, 1};
  unsigned sharedBytes = 0; ///< dynamic shared memory per block
  /// OS threads running blocks; 0: one per core.
  unsigned workers = 0;
  /// Stack of each emulated thread (kernels use 2-4 KiB; a guard page
  /// below makes an overflow fault).
  std::size_t stackBytes = 64 * 1024;
  /// Nonzero: after every __syncthreads the threads of the block resume in
  /// a new pseudo-random order from this seed, so that a missing barrier
  /// shows up as a wrong result instead of hiding behind a fixed order.
  unsigned long long shuffleSeed = 0;
};

/// Limits the emulator enforces like a device would (sm_90's).
inline constexpr unsigned kMaxThreadsPerBlock = 1024;
inline constexpr unsigned kMaxSharedBytes = 227 * 1024;

/// Runs the grid to completion. On a failure of any thread, the first
/// failure (in block order of detection) is returned and no further blocks
/// start.
std::optional<Error> launch(ThreadMain main, const LaunchConfig &config,
                            const void *params);

/// The table kernel objects are bound to (lace_emu_bind).
const Hooks &hookTable();

} // namespace lace::emu

#endif // LACE_RUNTIME_EMULATOR_H
