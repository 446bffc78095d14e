//===- Runtime.h - Load and launch Lace kernels ---------------------------===//
//
//   auto runtime = lace::Runtime::create();          // LACE_DEVICE, cache
//   auto kernel = (*runtime)->load(plan);            // compile or cache hit
//   (*kernel)->forward(q, k, v, o, lse, stream);     // any number of times
//
// The backend is a CUDA device (the driver loaded with dlopen, kernels
// compiled by NVRTC) or the CPU emulator (kernels compiled by the host C++
// compiler); both compile the same generated source and share the kernel
// cache. Layout tables are uploaded once per loaded kernel and reused.
// Every failure is an Error that says what was being done.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_RUNTIME_H
#define LACE_RUNTIME_RUNTIME_H

#include "lace/Runtime/Error.h"
#include "lace/Runtime/HostTensors.h"
#include "lace/Runtime/KernelCache.h"
#include "lace/Runtime/KernelPlan.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace lace {

enum class Backend { Cuda, Emulator };

/// "cuda" / "emulator".
std::string_view backendName(Backend backend);

struct RuntimeOptions {
  /// Unset: $LACE_DEVICE ("cuda", "emulator" or "auto"), else auto: CUDA
  /// when a device is present, the emulator otherwise.
  std::optional<Backend> backend;
  int device = 0; ///< CUDA device ordinal
  /// CUDA: the arch to compile for ("sm_80"...); empty: the device's.
  std::string arch;
  /// Unset: CacheConfig::fromEnvironment().
  std::optional<CacheConfig> cache;
  /// Emulator: OS threads running blocks (0: one per core).
  unsigned emulatorWorkers = 0;
  /// Emulator: nonzero shuffles the threads' order after every barrier
  /// (emu::LaunchConfig::shuffleSeed). Unset: $LACE_EMU_SHUFFLE, else 0.
  std::optional<unsigned long long> emulatorShuffleSeed;
};

/// A [batch, seq, heads, head_dim] tensor: the data pointer (device memory
/// for CUDA, host memory for the emulator) and strides in elements. The last
/// dimension must be contiguous; the pointer 16-byte aligned and the other
/// strides multiples of 8 (the kernel moves 16 bytes at a time).
struct TensorRef {
  const void *data = nullptr;
  std::array<std::int64_t, 4> shape{};
  std::array<std::int64_t, 4> strides{};

  /// A contiguous tensor of the given shape.
  static TensorRef contiguous(const void *data, std::int64_t batch,
                              std::int64_t seq, std::int64_t heads,
                              std::int64_t headDim);
};

/// Contiguous q, k, v and o of `inputs`' shape at the given addresses (host
/// or device memory).
struct AttentionTensors {
  TensorRef q, k, v, o;
};
AttentionTensors contiguousTensors(const AttentionInputs &inputs, const void *q,
                                   const void *k, const void *v, const void *o);

/// The segment (document) ids of packed sequences, for patterns that use
/// `segment`: int32 per query token [seq_q] and per key token [seq_k] (null:
/// the query ids, when seq_k == seq_q), the same for every batch row (pack
/// documents into one row for per-row layouts). Device memory for CUDA.
struct SegmentIdsRef {
  const std::int32_t *q = nullptr;
  const std::int32_t *k = nullptr;
};

/// The tensors of Kernel::backward. q, k, v, o and lse are the forward's
/// (o and lse as forward wrote them); dout is dL/dO with o's shape; dq, dk
/// and dv take q's, k's and v's shapes (summed over the query heads of a
/// GQA group for dk and dv). `delta` is a workspace of
/// Kernel::backwardWorkspaceFloats() floats (device memory for CUDA).
struct BackwardTensors {
  TensorRef q, k, v, o, dout;
  const float *lse = nullptr; ///< [batch, heads, seq_q], contiguous
  TensorRef dq, dk, dv;
  float *delta = nullptr;
};

/// Contiguous backward tensors of `inputs`' shape at the given addresses.
BackwardTensors backwardTensors(const AttentionInputs &inputs, const void *q,
                                const void *k, const void *v, const void *o,
                                const void *dout, const float *lse, void *dq,
                                void *dk, void *dv, float *delta);

/// What Runtime::load compiles besides the forward kernel.
/// The exact tile layout, work list and ids of one packed batch of
/// documents, made by Kernel::documents() on the host from the ids (or by
/// Kernel::varlen() from FlashAttention's cu_seqlens) and uploaded once:
/// build it once per batch and pass it to every layer's forward and
/// backward, as FlexAttention reuses a BlockMask. Tiles that lie across
/// documents only are skipped; tiles inside one document take the
/// pattern's own classification.
class DocumentLayout {
public:
  virtual ~DocumentLayout() = default;
  /// Per q-tile row its k-tiles (same grid and head map as the plan's).
  const LayoutTables &layout() const { return layout_; }
  /// Per k-tile row its q-tiles (the backward's).
  const LayoutTables &transposed() const { return transposed_; }
  /// The forward's work list over layout(), for the plan's CTA count.
  const ScheduleTables &schedule() const { return schedule_; }
  /// Host wall time of classify, tables and schedule (not the upload).
  double buildSeconds() const { return buildSeconds_; }
  /// Non-empty tiles over every head and batch entry, and the same for the
  /// plan's superset layout (what the kernel computes without this).
  std::int64_t computedTiles() const { return computedTiles_; }
  std::int64_t supersetTiles() const { return supersetTiles_; }
  DocumentStats stats() const {
    return {buildSeconds_,          computedTiles_,
            supersetTiles_,         computedFlops_,
            schedule_.imbalance,    schedule_.imbalanceBeforeSplit,
            schedule_.numCombines()};
  }

  /// What a backend keeps: filled in by DocumentLayout::build.
  struct Tables {
    LayoutTables layout, transposed;
    ScheduleTables schedule;
    std::vector<std::int32_t> qIds, kIds;
    double buildSeconds = 0;
    std::int64_t computedTiles = 0, supersetTiles = 0;
    double computedFlops = 0;
  };
  /// Classifies each layout of `plan` against the ids (k empty: the query
  /// ids) and schedules the result. Errors name what is wrong with the ids.
  static Expected<Tables> build(const KernelPlan &plan,
                                std::span<const std::int32_t> qIds,
                                std::span<const std::int32_t> kIds);

protected:
  /// Takes the tables' layouts and schedule; leaves the ids to the backend.
  explicit DocumentLayout(Tables &tables)
      : layout_(std::move(tables.layout)),
        transposed_(std::move(tables.transposed)),
        schedule_(std::move(tables.schedule)),
        buildSeconds_(tables.buildSeconds),
        computedTiles_(tables.computedTiles),
        supersetTiles_(tables.supersetTiles),
        computedFlops_(tables.computedFlops) {}
  LayoutTables layout_, transposed_;
  ScheduleTables schedule_;
  double buildSeconds_;
  std::int64_t computedTiles_, supersetTiles_;
  double computedFlops_;
};

struct LoadOptions {
  /// Also the backward kernels (Kernel::backward).
  bool backward = false;
};

class Kernel {
public:
  virtual ~Kernel() = default;

  /// O = softmax(scale * Q K^T masked by the pattern) V and, when `lse` is
  /// not null, the natural-log sum of exponentials per row into the
  /// contiguous [batch, heads, seq_q] float tensor `lse` (-inf and O = 0
  /// for a row without a live key). `scale` 0 means 1/sqrt(head_dim).
  /// `stream`: a CUstream (null: the default stream); ignored by the
  /// emulator, which returns when the output is written. `segments` is
  /// required by patterns with `segment` and ignored by the others.
  virtual std::optional<Error>
  forward(const TensorRef &q, const TensorRef &k, const TensorRef &v,
          const TensorRef &o, float *lse, const SegmentIdsRef &segments,
          void *stream = nullptr, float scale = 0.f) const = 0;
  /// The same for patterns without `segment`.
  std::optional<Error> forward(const TensorRef &q, const TensorRef &k,
                               const TensorRef &v, const TensorRef &o,
                               float *lse, void *stream = nullptr,
                               float scale = 0.f) const {
    return forward(q, k, v, o, lse, SegmentIdsRef{}, stream, scale);
  }

  /// The same for packed documents, with their exact layout (documents()):
  /// only the tiles that the ids make live are computed.
  virtual std::optional<Error>
  forward(const TensorRef &q, const TensorRef &k, const TensorRef &v,
          const TensorRef &o, float *lse, const DocumentLayout &documents,
          void *stream = nullptr, float scale = 0.f) const = 0;

  /// The exact layout of packed documents for this kernel's pattern (one
  /// that uses `segment`): int32 ids per query token [seq_q] and per key
  /// token [seq_k] (empty: the query ids), host memory, the same for every
  /// batch entry; non-decreasing ids are the fast path, any ids are exact.
  virtual Expected<std::shared_ptr<const DocumentLayout>>
  documents(std::span<const std::int32_t> qIds,
            std::span<const std::int32_t> kIds = {}) const = 0;
  /// The same from FlashAttention-style cumulative offsets: sequence s
  /// holds tokens [cu[s], cu[s + 1]); cu starts at 0 and ends at seq_q
  /// (seq_k for the keys; empty: as the queries).
  Expected<std::shared_ptr<const DocumentLayout>>
  varlen(std::span<const std::int64_t> cuSeqlensQ,
         std::span<const std::int64_t> cuSeqlensK = {}) const;

  /// dQ, dK and dV of the forward above for the upstream gradient dO:
  /// deterministic (no floating-point atomics: two runs give the same
  /// bits), zero gradients for rows without a live key. The same argument
  /// checks as forward; `segments` as for forward. Needs a kernel loaded
  /// with LoadOptions::backward.
  virtual std::optional<Error> backward(const BackwardTensors &tensors,
                                        const SegmentIdsRef &segments = {},
                                        void *stream = nullptr,
                                        float scale = 0.f) const = 0;
  /// The backward of the documents forward (the same DocumentLayout).
  virtual std::optional<Error> backward(const BackwardTensors &tensors,
                                        const DocumentLayout &documents,
                                        void *stream = nullptr,
                                        float scale = 0.f) const = 0;
  /// Whether the backward kernels were loaded.
  virtual bool hasBackward() const = 0;
  /// Floats of the `delta` workspace backward needs: batch * heads * seq_q.
  std::int64_t backwardWorkspaceFloats() const {
    return plan_.shape.batch * plan_.shape.heads * plan_.shape.seqQ;
  }

  /// The exact layout of `inputs`' segment ids (null when the pattern has
  /// no segments): what runOnHost and backwardOnHost run with.
  Expected<std::shared_ptr<const DocumentLayout>>
  documentsFor(const AttentionInputs &inputs) const;

  const KernelPlan &plan() const { return plan_; }
  /// Unique over the process's kernels (an address may be reused): what a
  /// DocumentLayout remembers of the kernel that made it.
  std::uint64_t serial() const { return serial_; }
  /// Whether load() found the compiled kernel in the cache.
  bool fromCache() const { return fromCache_; }
  double compileSeconds() const { return compileSeconds_; }

protected:
  Kernel(KernelPlan plan, bool fromCache, double compileSeconds)
      : plan_(std::move(plan)), fromCache_(fromCache),
        compileSeconds_(compileSeconds), serial_(nextSerial()) {}
  /// The shape and scale checks forward() does before any launch.
  std::optional<Error> checkArguments(const TensorRef &q, const TensorRef &k,
                                      const TensorRef &v, const TensorRef &o,
                                      const SegmentIdsRef &segments,
                                      float scale) const;
  /// The checks backward() does before any launch.
  std::optional<Error> checkBackwardArguments(const BackwardTensors &tensors,
                                              const SegmentIdsRef &segments,
                                              float scale) const;
  KernelPlan plan_;
  bool fromCache_ = false;
  double compileSeconds_ = 0;

private:
  static std::uint64_t nextSerial();
  std::uint64_t serial_;
};

class Runtime {
public:
  static Expected<std::unique_ptr<Runtime>> create(RuntimeOptions options = {});
  virtual ~Runtime() = default;

  /// Compiles (or finds in the cache) the plan's kernel, and with
  /// `options.backward` its backward kernels, and uploads its layout tables.
  virtual Expected<std::shared_ptr<const Kernel>>
  load(const KernelPlan &plan, const LoadOptions &options = {}) = 0;

  /// Runs `kernel` `repeats` times on host-resident inputs (copied to the
  /// device and back for CUDA) and times each run.
  virtual Expected<HostRun> runOnHost(const Kernel &kernel,
                                      const AttentionInputs &inputs,
                                      int repeats = 1) = 0;

  /// Runs the forward and then the backward of `kernel` on host-resident
  /// inputs and the upstream gradient `dout` ([b, seq_q, h, d] elements),
  /// `repeats` times; times the backward alone.
  virtual Expected<HostBackward>
  backwardOnHost(const Kernel &kernel, const AttentionInputs &inputs,
                 const std::vector<std::uint16_t> &dout, int repeats = 1) = 0;

  /// Times `kernel` on copies of `inputs`: `warmup` untimed runs, then
  /// `repeats` timed ones cycling over `rotations` input sets (so that a
  /// GPU's L2 cache does not hold the inputs between runs). CUDA times each
  /// run with events; the emulator with the wall clock. Seconds per run.
  /// Pass::Backward times the backward (after one forward per input set).
  virtual Expected<std::vector<double>>
  time(const Kernel &kernel, const AttentionInputs &inputs, int warmup,
       int repeats, int rotations, jit::Pass pass = jit::Pass::Forward) = 0;

  virtual Backend backend() const = 0;
  /// "sm_90", "host-x86_64", ...: the cache key's target.
  virtual std::string target() const = 0;
  /// A line for people: the device or the emulator and its compiler.
  virtual std::string describe() const = 0;
  KernelCache &cache() { return *cache_; }

protected:
  std::unique_ptr<KernelCache> cache_;
};

} // namespace lace

#endif // LACE_RUNTIME_RUNTIME_H
