//===- lace_emu_abi.cuh - Between the CPU emulator and a kernel object ----===//
//
// A kernel compiled for the emulator (lace_emu_device.cuh) is a shared
// object with no undefined symbols of Lace's: at load time the emulator
// hands it this table of functions (lace_emu_bind), and every CUDA builtin
// the kernel uses calls through it. Both sides compile this one file; the
// version is checked at bind time.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace lace {
namespace emu {

/// Bumped whenever anything below changes shape or meaning.
enum : int { kAbiVersion = 1 };

struct Dim3 {
  unsigned x, y, z;
};

/// What a warp-collective operation is, so that lanes arriving at different
/// operations are reported instead of silently exchanging garbage.
enum CollectiveOp : int {
  kOpShuffle = 1,
  kOpVote = 2,
  kOpLdmatrix = 3,
  kOpLdmatrixTrans = 4,
  kOpMmaF16 = 5,
  kOpMmaBF16 = 6,
};

/// Inputs and outputs of one warp-collective operation, one row per lane.
struct WarpExchange {
  unsigned in[32][16];
  unsigned out[32][16];
};

/// One emulated CUDA thread, as its kernel code sees it.
struct ThreadState {
  Dim3 thread_idx, block_idx, block_dim, grid_dim;
  unsigned lane, warp;
  unsigned char *smem;   ///< the block's dynamic shared memory
  unsigned smem_bytes;
  WarpExchange *exchange; ///< this thread's warp's
};

/// Runs once per collective, when the last participating lane arrives and
/// before any of them continues: reads `in` of the lanes in `mask` and
/// writes their `out` rows only (other lanes of the warp may be between a
/// collective of their own and reading its results). `self` is the last lane's state (for shared memory).
using CombineFn = void (*)(WarpExchange &exchange, unsigned mask,
                           const ThreadState &self);

struct Hooks {
  int abi_version;
  /// The calling thread.
  ThreadState *(*self)();
  /// __syncthreads: returns when every thread of the block has arrived.
  void (*sync_threads)();
  /// The rendezvous of the lanes in `mask` (which must include the caller)
  /// at a warp-collective operation `op`; see CombineFn.
  void (*warp_collective)(unsigned mask, int op, CombineFn combine);
  /// cp.async of 16 bytes into shared memory at byte offset `smem_offset`;
  /// `src_bytes` (0 or 16) are read from `src`, the rest zero-filled. The
  /// copy lands when a cp_async_wait covers its group.
  void (*cp_async)(unsigned smem_offset, const void *src, int src_bytes);
  void (*cp_async_commit)();
  /// Completes every committed group but the newest `pending`.
  void (*cp_async_wait)(int pending);
  /// Stops the kernel with an error naming the block and thread; does not
  /// return.
  void (*fail)(const char *what);
};

} // namespace emu
} // namespace lace
