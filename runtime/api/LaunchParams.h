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
/// The host tables of one launch: the plan's own, or a DocumentLayout's
/// (same grid and head map, the exact layout of one call's ids).
struct HostTables {
  const LayoutTables *layout = nullptr;
  const LayoutTables *transposed = nullptr;
  const ScheduleTables *schedule = nullptr;
};
HostTables planTables(const KernelPlan &plan);
HostTables documentTables(const DocumentLayout &documents);

/// Where a backend keeps those tables: the forward layout (rows), its
/// transpose (cols, for the backward), the head map they share, the work
/// list, and the workspace of split rows' partial results.
struct TablePointers {
  const int *headToLayout = nullptr;
  TileTablePointers rows, cols;
  const int *ctaOffsets = nullptr;
  const int *workItems = nullptr;
  const int *combines = nullptr;
  float *workspace = nullptr; ///< workspaceFloats() floats
  int *status = nullptr;
};
/// Host addresses of `tables` (the emulator's), with `workspace` and
/// `status` the caller's.
TablePointers hostPointers(const HostTables &tables, float *workspace,
                           int *status);
/// Floats of the workspace the split rows of `schedule` need.
std::int64_t workspaceFloats(const KernelPlan &plan,
                             const ScheduleTables &schedule);

/// The kernel's parameters; the tensors were checked by
/// Kernel::checkArguments.
LaceFwdParams makeParams(const KernelPlan &plan, const HostTables &host,
                         const TablePointers &tables, const TensorRef &q,
                         const TensorRef &k, const TensorRef &v,
                         const TensorRef &o, float *lse,
                         const SegmentIdsRef &segments, float scale);
/// The backward kernels' parameters; checked by
/// Kernel::checkBackwardArguments.
LaceBwdParams makeBackwardParams(const KernelPlan &plan, const HostTables &host,
                                 const TablePointers &tables,
                                 const BackwardTensors &t,
                                 const SegmentIdsRef &segments, float scale);

/// `documents` as the backend's own type, made by `owner`; an error naming
/// `call` for one another kernel (or backend) made. Documents keep their
/// maker's serial(), not its address, which a later kernel may reuse.
template <class Documents>
Expected<const Documents *> ownDocuments(const DocumentLayout &documents,
                                         const Kernel &owner,
                                         const char *call) {
  const auto *own = dynamic_cast<const Documents *>(&documents);
  if (!own || own->owner != owner.serial())
    return Error(std::string(call) + " (" + owner.plan().pattern +
                 "): the DocumentLayout was made by another kernel; make it "
                 "with this kernel's documents()");
  return own;
}

/// Grid, threads per CTA and dynamic shared memory of one kernel launch.
struct LaunchShape {
  unsigned grid[3];
  unsigned threads;
  unsigned sharedBytes;
};
/// The forward: a persistent grid of the schedule's CTAs; then, when rows
/// were split, the combine step: one CTA per split row (grid 0: none).
LaunchShape launchShape(const KernelPlan &plan, const ScheduleTables &schedule);
LaunchShape combineLaunchShape(const KernelPlan &plan,
                               const ScheduleTables &schedule);
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
