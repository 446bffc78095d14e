//===- LaunchParams.h - LaceFwdParams from a plan and tensors -------------===//
#ifndef LACE_RUNTIME_API_LAUNCHPARAMS_H
#define LACE_RUNTIME_API_LAUNCHPARAMS_H

#include "lace/Runtime/KernelPlan.h"
#include "lace/Runtime/Runtime.h"

#include "lace_params.cuh"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lace::api {

/// Where a backend keeps one LayoutTables (device or host addresses).
struct TileTablePointers {
  const int *rowOffsets = nullptr;
  const int *runs = nullptr;
  const int *bsrRowPtr = nullptr;
  const int *bsrColIdx = nullptr;
  const unsigned char *bsrIsFull = nullptr;
};
/// Where a backend keeps a plan's tables: the forward layout (rows), its
/// transpose (cols, for the backward) and the head map they share.
struct TablePointers {
  const int *headToLayout = nullptr;
  TileTablePointers rows, cols;
  int *status = nullptr;
};
/// Host addresses of a plan's own tables (the emulator's).
TablePointers hostTables(const KernelPlan &plan, int *status);

/// The kernel's parameters; the tensors were checked by
/// Kernel::checkArguments.
LaceFwdParams makeParams(const KernelPlan &plan, const TablePointers &tables,
                         const TensorRef &q, const TensorRef &k,
                         const TensorRef &v, const TensorRef &o, float *lse,
                         const SegmentIdsRef &segments, float scale);
/// The backward kernels' parameters; checked by
/// Kernel::checkBackwardArguments.
LaceBwdParams makeBackwardParams(const KernelPlan &plan,
                                 const TablePointers &tables,
                                 const BackwardTensors &t,
                                 const SegmentIdsRef &segments, float scale);

/// Grid, threads per CTA and dynamic shared memory of one kernel launch.
struct LaunchShape {
  unsigned grid[3];
  unsigned threads;
  unsigned sharedBytes;
};
/// The forward: grid (q-tiles, heads, batch).
LaunchShape launchShape(const KernelPlan &plan);
/// The backward's dq kernel (q-tiles, heads, batch) and dkdv kernel
/// (k-tiles, kv heads, batch), launched in that order.
LaunchShape dqLaunchShape(const KernelPlan &plan);
LaunchShape dkdvLaunchShape(const KernelPlan &plan);

/// The cache key of the plan's kernels of `pass` for a compiler and
/// target.
CacheKey kernelKey(const KernelPlan &plan, jit::Pass pass,
                   const std::string &source,
                   const std::string &compilerIdentity,
                   const std::string &target);

/// Remembers each distinct kernel's generated source and cache key, so that
/// loading a plan whose kernel the runtime has seen costs one map lookup
/// instead of generating the source and hashing it twice.
class KernelKeys {
public:
  struct Entry {
    std::string source;
    CacheKey key;
  };
  /// Thread-safe; the entry lives as long as this object.
  const Entry &get(const KernelPlan &plan, jit::Pass pass,
                   const std::string &compilerIdentity,
                   const std::string &target);

private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
};

/// A kernel from the cache, or compiled by `compile` on a miss (then
/// `compiled` is set and `seconds` is the compile's wall time).
struct CachedKernel {
  std::shared_ptr<const CacheEntry> entry;
  bool compiled = false;
  double seconds = 0;
};
Expected<CachedKernel> findOrCompile(KernelCache &cache, const CacheKey &key,
                                     const KernelPlan &plan,
                                     FunctionRef<Expected<Payload>()> compile);

/// The text of a status word the kernel set (kStatus* bits).
std::string describeStatus(int status);

} // namespace lace::api

#endif // LACE_RUNTIME_API_LAUNCHPARAMS_H
