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

/// Where a backend keeps the layout tables (device or host addresses).
struct TablePointers {
  const int *headToLayout = nullptr;
  const int *rowOffsets = nullptr;
  const int *runs = nullptr;
  const int *bsrRowPtr = nullptr;
  const int *bsrColIdx = nullptr;
  const unsigned char *bsrIsFull = nullptr;
  int *status = nullptr;
};

/// The kernel's parameters; the tensors were checked by
/// Kernel::checkArguments.
LaceFwdParams makeParams(const KernelPlan &plan, const TablePointers &tables,
                         const TensorRef &q, const TensorRef &k,
                         const TensorRef &v, const TensorRef &o, float *lse,
                         const SegmentIdsRef &segments, float scale);

/// Grid (q-tiles, heads, batch), threads per CTA and dynamic shared memory.
struct LaunchShape {
  unsigned grid[3];
  unsigned threads;
  unsigned sharedBytes;
};
LaunchShape launchShape(const KernelPlan &plan);

/// The cache key of the plan's kernel for a compiler and target.
CacheKey kernelKey(const KernelPlan &plan, const std::string &source,
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
  const Entry &get(const KernelPlan &plan, const std::string &compilerIdentity,
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
