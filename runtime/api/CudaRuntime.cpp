//===- CudaRuntime.cpp - The CUDA backend: NVRTC, the driver, uploads -----===//
#include "Backends.h"
#include "LaunchParams.h"

#include "lace/Runtime/Driver.h"
#include "lace/Runtime/Nvrtc.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <type_traits>
#include <unordered_map>

namespace lace::api {

namespace {

/// A loaded module and its kernel functions (the forward's one, or the
/// backward's dq and dkdv), shared by every Kernel of the same cache key.
struct LoadedModule {
  cuda::Module module;
  std::vector<cuda::Function> functions;
};

template <class T>
Expected<const T *> upload(const cuda::Context &context,
                           const std::vector<T> &values,
                           std::vector<cuda::DeviceBuffer> &keep) {
  if (values.empty())
    return static_cast<const T *>(nullptr);
  const std::size_t bytes = values.size() * sizeof(T);
  Expected<cuda::DeviceBuffer> buffer =
      cuda::DeviceBuffer::allocate(context, bytes);
  if (!buffer)
    return std::move(buffer).error();
  if (auto error = buffer->upload(values.data(), bytes))
    return std::move(*error);
  const T *pointer = static_cast<const T *>(buffer->get());
  keep.push_back(std::move(*buffer));
  return pointer;
}

/// Tables in device memory, and the buffers that hold them.
struct DeviceTables {
  std::vector<cuda::DeviceBuffer> buffers;
  TablePointers pointers;
};

/// The split rows' workspace of `floats` floats, kept in `buffers`; null
/// when there is none (no row is split).
Expected<float *> allocateWorkspace(const cuda::Context &context,
                                    std::int64_t floats,
                                    std::vector<cuda::DeviceBuffer> &buffers) {
  if (floats <= 0)
    return static_cast<float *>(nullptr);
  Expected<cuda::DeviceBuffer> workspace = cuda::DeviceBuffer::allocate(
      context, static_cast<std::size_t>(floats) * sizeof(float));
  if (!workspace)
    return std::move(workspace).error().withContext(
        "allocating the split rows' workspace");
  buffers.push_back(std::move(*workspace));
  return static_cast<float *>(buffers.back().get());
}

/// Uploads `host` into `out` (the workspace is the caller's: see
/// allocateWorkspace).
std::optional<Error> uploadTables(const cuda::Context &context,
                                  const HostTables &host, DeviceTables &out) {
  std::optional<Error> failed;
  auto put = [&](const auto &values) {
    using T = typename std::decay_t<decltype(values)>::value_type;
    auto pointer = upload(context, values, out.buffers);
    if (!pointer) {
      if (!failed)
        failed = pointer.error();
      return static_cast<const T *>(nullptr);
    }
    return *pointer;
  };
  auto tileTables = [&](const LayoutTables &l) {
    return TileTablePointers{put(l.rowOffsets), put(l.runs), put(l.bsrRowPtr),
                             put(l.bsrColIdx), put(l.bsrIsFull)};
  };
  TablePointers &p = out.pointers;
  p.headToLayout = put(host.layout->headToLayout);
  p.rows = tileTables(*host.layout);
  p.cols = tileTables(*host.transposed);
  p.ctaOffsets = put(host.schedule->ctaOffsets);
  p.workItems = put(host.schedule->items);
  p.combines = put(host.schedule->combines);
  return failed;
}

/// Packed documents in device memory: tables, work list, workspace, ids.
class CudaDocuments final : public DocumentLayout {
public:
  CudaDocuments(const Kernel &maker, Tables &tables)
      : DocumentLayout(tables), owner(maker.serial()) {}
  std::uint64_t owner; ///< Kernel::serial() of its maker
  DeviceTables device;
  SegmentIdsRef ids;
};

class CudaKernel final : public Kernel {
public:
  CudaKernel(KernelPlan plan, bool fromCache, double compileSeconds,
             const cuda::Context &context,
             std::shared_ptr<const LoadedModule> forward,
             std::shared_ptr<const LoadedModule> backward,
             std::shared_ptr<const DeviceTables> tables,
             std::vector<cuda::DeviceBuffer> workspace, float *workspacePointer)
      : Kernel(std::move(plan), fromCache, compileSeconds), context_(context),
        forward_(std::move(forward)), backward_(std::move(backward)),
        tables_(std::move(tables)), workspace_(std::move(workspace)),
        pointers_(tables_->pointers) {
    pointers_.workspace = workspacePointer;
  }

  using Kernel::forward;
  std::optional<Error> forward(const TensorRef &q, const TensorRef &k,
                               const TensorRef &v, const TensorRef &o,
                               float *lse, const SegmentIdsRef &segments,
                               void *stream, float scale) const override {
    if (auto error = checkArguments(q, k, v, o, segments, scale))
      return error;
    return runForward(planTables(plan_), pointers_, q, k, v, o, lse, segments,
                      stream, scale);
  }

  std::optional<Error> forward(const TensorRef &q, const TensorRef &k,
                               const TensorRef &v, const TensorRef &o,
                               float *lse, const DocumentLayout &documents,
                               void *stream, float scale) const override {
    auto docs = ownDocuments<CudaDocuments>(documents, *this, "forward");
    if (!docs)
      return std::move(docs).error();
    if (auto error = checkArguments(q, k, v, o, (*docs)->ids, scale))
      return error;
    return runForward(documentTables(documents), (*docs)->device.pointers, q, k,
                      v, o, lse, (*docs)->ids, stream, scale);
  }

  Expected<std::shared_ptr<const DocumentLayout>>
  documents(std::span<const std::int32_t> qIds,
            std::span<const std::int32_t> kIds) const override {
    auto tables = DocumentLayout::build(plan_, qIds, kIds);
    if (!tables)
      return std::move(tables).error();
    if (auto error = context_.setCurrent())
      return std::move(*error);
    auto docs = std::make_shared<CudaDocuments>(*this, *tables);
    if (auto error =
            uploadTables(context_, documentTables(*docs), docs->device))
      return error->withContext("uploading the documents' layout");
    auto workspace =
        allocateWorkspace(context_, workspaceFloats(plan_, docs->schedule()),
                          docs->device.buffers);
    if (!workspace)
      return std::move(workspace).error();
    docs->device.pointers.workspace = *workspace;
    auto q = upload(context_, tables->qIds, docs->device.buffers);
    if (!q)
      return std::move(q).error().withContext("uploading the segment ids");
    auto k = upload(context_, tables->kIds, docs->device.buffers);
    if (!k)
      return std::move(k).error().withContext("uploading the segment ids");
    docs->ids = {*q, *k};
    return std::shared_ptr<const DocumentLayout>(std::move(docs));
  }

  std::optional<Error> backward(const BackwardTensors &t,
                                const SegmentIdsRef &segments, void *stream,
                                float scale) const override {
    if (auto error = checkBackwardArguments(t, segments, scale))
      return error;
    return runBackward(planTables(plan_), pointers_, t, segments, stream,
                       scale);
  }

  std::optional<Error> backward(const BackwardTensors &t,
                                const DocumentLayout &documents, void *stream,
                                float scale) const override {
    auto docs = ownDocuments<CudaDocuments>(documents, *this, "backward");
    if (!docs)
      return std::move(docs).error();
    if (auto error = checkBackwardArguments(t, (*docs)->ids, scale))
      return error;
    return runBackward(documentTables(documents), (*docs)->device.pointers, t,
                       (*docs)->ids, stream, scale);
  }

  bool hasBackward() const override { return backward_ != nullptr; }

private:
  std::optional<Error> runForward(const HostTables &host,
                                  const TablePointers &pointers,
                                  const TensorRef &q, const TensorRef &k,
                                  const TensorRef &v, const TensorRef &o,
                                  float *lse, const SegmentIdsRef &segments,
                                  void *stream, float scale) const {
    if (auto error = context_.setCurrent())
      return error;
    LaceFwdParams params =
        makeParams(plan_, host, pointers, q, k, v, o, lse, segments, scale);
    if (auto error =
            launch(forward_->functions[0], launchShape(plan_, *host.schedule),
                   &params, stream))
      return error->withContext("forward (" + plan_.pattern + ")");
    // Same stream: the combine starts after every piece is written.
    if (host.schedule->numCombines() > 0)
      if (auto error = launch(forward_->functions[1],
                              combineLaunchShape(plan_, *host.schedule),
                              &params, stream))
        return error->withContext("forward combine (" + plan_.pattern + ")");
    return std::nullopt;
  }

  std::optional<Error> runBackward(const HostTables &host,
                                   const TablePointers &pointers,
                                   const BackwardTensors &t,
                                   const SegmentIdsRef &segments, void *stream,
                                   float scale) const {
    if (auto error = context_.setCurrent())
      return error;
    LaceBwdParams params =
        makeBackwardParams(plan_, host, pointers, t, segments, scale);
    // Same stream: dkdv starts after dq has written delta.
    if (auto error = launch(backward_->functions[0], dqLaunchShape(plan_),
                            &params, stream))
      return error->withContext("backward dq (" + plan_.pattern + ")");
    if (auto error = launch(backward_->functions[1], dkdvLaunchShape(plan_),
                            &params, stream))
      return error->withContext("backward dkdv (" + plan_.pattern + ")");
    return std::nullopt;
  }

  static std::optional<Error> launch(const cuda::Function &function,
                                     const LaunchShape &shape, void *params,
                                     void *stream) {
    void *args[] = {params};
    return cuda::launch(function, {shape.grid[0], shape.grid[1], shape.grid[2]},
                        {shape.threads, 1, 1}, shape.sharedBytes,
                        static_cast<cuda::CUstream>(stream), args);
  }

  const cuda::Context &context_;
  std::shared_ptr<const LoadedModule> forward_, backward_;
  /// The plan's tables (shared with every kernel of the same tables), this
  /// kernel's own workspace for split rows (forwards that split rows on
  /// different streams must be ordered, as with a cuBLAS workspace), and
  /// the two together.
  std::shared_ptr<const DeviceTables> tables_;
  std::vector<cuda::DeviceBuffer> workspace_;
  TablePointers pointers_;
};

class CudaRuntime final : public Runtime {
public:
  CudaRuntime(std::unique_ptr<KernelCache> cache, cuda::Device device,
              cuda::Context context, const jit::Nvrtc *nvrtc, std::string arch)
      : device_(std::move(device)), context_(std::move(context)), nvrtc_(nvrtc),
        arch_(std::move(arch)) {
    cache_ = std::move(cache);
  }

  Expected<std::shared_ptr<const Kernel>>
  load(const KernelPlan &plan, const LoadOptions &options) override {
    if (std::string why = plan.validate(); !why.empty())
      return Error("loading " + plan.pattern + ": invalid plan: " + why);
    if (options.backward)
      if (std::string why = plan.validateBackward(); !why.empty())
        return Error("loading the backward of " + plan.pattern + ": " + why);
    const int needed = options.backward
                           ? std::max({plan.spec.sharedBytes(),
                                       plan.spec.backwardDqSharedBytes(),
                                       plan.spec.backwardDkdvSharedBytes()})
                           : plan.spec.sharedBytes();
    if (needed > device_.maxSharedOptin())
      return Error("loading " + plan.pattern + ": the kernel needs " +
                   std::to_string(needed) + " bytes of shared memory, " +
                   device_.name() + " has " +
                   std::to_string(device_.maxSharedOptin()));
    const auto [major, minor] = nvrtc_->version();
    const std::string compiler =
        "nvrtc " + std::to_string(major) + "." + std::to_string(minor);
    bool fromCache = true;
    double seconds = 0;
    // Compiles or finds the module of a pass and loads its functions, each
    // allowed the dynamic shared memory it is launched with.
    auto module = [&](jit::Pass pass,
                      std::vector<std::pair<std::string, int>> functions)
        -> Expected<std::shared_ptr<const LoadedModule>> {
      const KernelKeys::Entry &kernelKey =
          keys_.get(plan, pass, compiler, arch_);
      auto cached = findOrCompile(
          *cache_, kernelKey.key, plan, [&]() -> Expected<Payload> {
            Expected<jit::CompiledKernel> kernel = nvrtc_->compile(
                kernelKey.source,
                pass == jit::Pass::Forward ? plan.spec.name
                                           : plan.spec.name + "_bwd",
                arch_);
            if (!kernel)
              return std::move(kernel).error();
            return Payload{
                std::vector<char>(kernel->cubin.begin(), kernel->cubin.end()),
                "cubin", plan.pattern};
          });
      if (!cached)
        return std::move(cached).error();
      fromCache = fromCache && !cached->compiled;
      seconds += cached->seconds;
      auto loadedModule = loaded(kernelKey.key, *cached->entry, functions);
      if (!loadedModule)
        return std::move(loadedModule)
            .error()
            .withContext("loading " + plan.pattern);
      return loadedModule;
    };
    auto forward =
        module(jit::Pass::Forward, {{plan.spec.name, plan.spec.sharedBytes()},
                                    {plan.spec.combineKernelName(), 0}});
    if (!forward)
      return std::move(forward).error();
    std::shared_ptr<const LoadedModule> backward;
    if (options.backward) {
      auto compiled = module(
          jit::Pass::Backward,
          {{plan.spec.dqKernelName(), plan.spec.backwardDqSharedBytes()},
           {plan.spec.dkdvKernelName(), plan.spec.backwardDkdvSharedBytes()}});
      if (!compiled)
        return std::move(compiled).error();
      backward = std::move(*compiled);
    }

    auto tables = uploadedTables(plan);
    if (!tables)
      return std::move(tables).error();
    std::vector<cuda::DeviceBuffer> workspace;
    auto workspacePointer = allocateWorkspace(
        context_, workspaceFloats(plan, plan.schedule), workspace);
    if (!workspacePointer)
      return std::move(workspacePointer).error().withContext(plan.pattern);
    auto kernel = std::make_shared<CudaKernel>(
        plan, fromCache, seconds, context_, std::move(*forward),
        std::move(backward), std::move(*tables), std::move(workspace),
        *workspacePointer);
    return std::shared_ptr<const Kernel>(std::move(kernel));
  }

  Expected<HostRun> runOnHost(const Kernel &kernel, const AttentionInputs &in,
                              int repeats) override {
    if (auto error = context_.setCurrent())
      return std::move(*error);
    HostRun run;
    run.outputs = AttentionOutputs::poisoned(in);
    std::vector<cuda::DeviceBuffer> keep;
    auto set = uploadSet(kernel, in, run.outputs, nullptr, keep);
    if (!set)
      return std::move(set).error();
    if (set->documents)
      run.documents = set->documents->stats();
    for (int i = 0; i < std::max(1, repeats); ++i) {
      const auto start = std::chrono::steady_clock::now();
      if (auto error = forward(kernel, *set))
        return std::move(*error);
      if (auto error = cuda::synchronize(device_.driver(), nullptr))
        return std::move(*error);
      run.seconds.push_back(secondsSince(start));
    }
    if (auto error = downloadOutputs(*set, keep, run.outputs))
      return std::move(*error);
    return run;
  }

  Expected<HostBackward> backwardOnHost(const Kernel &kernel,
                                        const AttentionInputs &in,
                                        const std::vector<std::uint16_t> &dout,
                                        int repeats) override {
    if (auto error = context_.setCurrent())
      return std::move(*error);
    HostBackward run;
    run.outputs = AttentionOutputs::poisoned(in);
    run.gradients = AttentionGradients::poisoned(in);
    std::vector<cuda::DeviceBuffer> keep;
    auto set = uploadSet(kernel, in, run.outputs, &dout, keep);
    if (!set)
      return std::move(set).error();
    if (set->documents)
      run.documents = set->documents->stats();
    if (auto error = forward(kernel, *set))
      return std::move(*error);
    for (int i = 0; i < std::max(1, repeats); ++i) {
      const auto start = std::chrono::steady_clock::now();
      if (auto error = set->documents
                           ? kernel.backward(set->backward, *set->documents)
                           : kernel.backward(set->backward, set->segments))
        return std::move(*error);
      if (auto error = cuda::synchronize(device_.driver(), nullptr))
        return std::move(*error);
      run.seconds.push_back(secondsSince(start));
    }
    if (auto error = downloadOutputs(*set, keep, run.outputs))
      return std::move(*error);
    for (auto [index, host] : {std::pair{set->dqBuffer, &run.gradients.dq},
                               std::pair{set->dkBuffer, &run.gradients.dk},
                               std::pair{set->dvBuffer, &run.gradients.dv}})
      if (auto error = keep[index].download(host->data(), host->size() * 2))
        return std::move(*error);
    return run;
  }

  Expected<std::vector<double>> time(const Kernel &kernel,
                                     const AttentionInputs &in, int warmup,
                                     int repeats, int rotations,
                                     jit::Pass pass) override {
    if (auto error = context_.setCurrent())
      return std::move(*error);
    const bool backward = pass == jit::Pass::Backward;
    const AttentionOutputs out = AttentionOutputs::poisoned(in);
    const std::vector<std::uint16_t> dout =
        backward ? randomOutputGradient(in, 1) : std::vector<std::uint16_t>{};
    std::vector<cuda::DeviceBuffer> keep;
    std::vector<DeviceSet> sets;
    for (int r = 0; r < std::max(1, rotations); ++r) {
      auto set = uploadSet(kernel, in, out, backward ? &dout : nullptr, keep);
      if (!set)
        return std::move(set).error().withContext(
            "input set " + std::to_string(r) + " (out of device memory?)");
      // The backward reads the forward's O and LSE.
      if (backward)
        if (auto error = forward(kernel, *set))
          return std::move(*error);
      sets.push_back(*set);
    }
    auto start = cuda::Event::create(context_);
    auto end = cuda::Event::create(context_);
    if (!start || !end)
      return (start ? end.error() : start.error());
    std::vector<double> seconds;
    for (int i = 0; i < warmup + repeats; ++i) {
      const DeviceSet &set = sets[static_cast<std::size_t>(i) % sets.size()];
      if (auto error = start->record(nullptr))
        return std::move(*error);
      if (auto error = backward ? kernel.backward(set.backward, set.segments)
                                : forward(kernel, set))
        return std::move(*error);
      if (auto error = end->record(nullptr))
        return std::move(*error);
      Expected<float> ms = cuda::Event::elapsed(*start, *end);
      if (!ms)
        return std::move(ms).error();
      if (i >= warmup)
        seconds.push_back(*ms * 1e-3);
    }
    return seconds;
  }

  Backend backend() const override { return Backend::Cuda; }
  std::string target() const override { return arch_; }
  std::string describe() const override {
    return device_.name() + " (" + arch_ + ", " +
           std::to_string(device_.smCount()) + " SMs)";
  }

private:
  static double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  }

  /// One copy of a problem's inputs, outputs and segment ids in device
  /// memory, and with an upstream gradient the backward's tensors too; the
  /// buffers live in the caller's `keep` (outputs at the indices given, for
  /// copying results back).
  struct DeviceSet {
    AttentionTensors t;
    float *lse = nullptr;
    SegmentIdsRef segments;
    /// The exact layout of the ids, for patterns with segments.
    std::shared_ptr<const DocumentLayout> documents;
    BackwardTensors backward;
    std::size_t oBuffer = 0, lseBuffer = 0;
    std::size_t dqBuffer = 0, dkBuffer = 0, dvBuffer = 0;
  };

  static std::optional<Error> forward(const Kernel &kernel,
                                      const DeviceSet &set) {
    if (set.documents)
      return kernel.forward(set.t.q, set.t.k, set.t.v, set.t.o, set.lse,
                            *set.documents);
    return kernel.forward(set.t.q, set.t.k, set.t.v, set.t.o, set.lse,
                          set.segments);
  }

  static std::optional<Error>
  downloadOutputs(const DeviceSet &set, std::vector<cuda::DeviceBuffer> &keep,
                  AttentionOutputs &outputs) {
    if (auto error =
            keep[set.oBuffer].download(outputs.o.data(), outputs.o.size() * 2))
      return error;
    return keep[set.lseBuffer].download(outputs.lse.data(),
                                        outputs.lse.size() * 4);
  }

  Expected<DeviceSet> uploadSet(const Kernel &kernel, const AttentionInputs &in,
                                const AttentionOutputs &out,
                                const std::vector<std::uint16_t> *dout,
                                std::vector<cuda::DeviceBuffer> &keep) {
    std::optional<Error> failed;
    auto put = [&](const auto &values) {
      using T = typename std::decay_t<decltype(values)>::value_type;
      auto pointer = upload(context_, values, keep);
      if (!pointer) {
        if (!failed)
          failed = pointer.error();
        return static_cast<T *>(nullptr);
      }
      return const_cast<T *>(*pointer);
    };
    DeviceSet set;
    auto *q = put(in.q);
    auto *k = put(in.k);
    auto *v = put(in.v);
    auto *o = put(out.o);
    set.oBuffer = keep.size() - 1;
    set.lse = put(out.lse);
    set.lseBuffer = keep.size() - 1;
    set.segments = {put(in.segmentQ), put(in.segmentK)};
    auto documents = kernel.documentsFor(in);
    if (!documents)
      return std::move(documents).error();
    set.documents = std::move(*documents);
    set.t = contiguousTensors(in, q, k, v, o);
    if (dout) {
      const AttentionGradients poisoned = AttentionGradients::poisoned(in);
      auto *d = put(*dout);
      auto *dq = put(poisoned.dq);
      set.dqBuffer = keep.size() - 1;
      auto *dk = put(poisoned.dk);
      set.dkBuffer = keep.size() - 1;
      auto *dv = put(poisoned.dv);
      set.dvBuffer = keep.size() - 1;
      float *delta = put(std::vector<float>(static_cast<std::size_t>(
          in.shape.batch * in.shape.heads * in.shape.seqQ)));
      set.backward =
          backwardTensors(in, q, k, v, o, d, set.lse, dq, dk, dv, delta);
    }
    if (failed)
      return failed->withContext("copying the inputs to the device");
    return set;
  }

  /// The plan's layout tables in device memory: uploaded once per distinct
  /// layout and shared by every kernel loaded with it.
  Expected<std::shared_ptr<const DeviceTables>>
  uploadedTables(const KernelPlan &plan) {
    std::string identity;
    auto append = [&](const auto &values) {
      identity += "/" + std::to_string(values.size()) + ":";
      identity.append(reinterpret_cast<const char *>(values.data()),
                      values.size() * sizeof(values[0]));
    };
    append(plan.schedule.ctaOffsets);
    append(plan.schedule.items);
    append(plan.schedule.combines);
    for (const LayoutTables *l : {&plan.layout, &plan.transposed}) {
      identity += std::to_string(static_cast<int>(l->form)) + "/" +
                  std::to_string(l->numLayouts) + "/" +
                  std::to_string(l->numRows) + "/" + std::to_string(l->numCols);
      append(l->headToLayout);
      append(l->rowOffsets);
      append(l->runs);
      append(l->bsrRowPtr);
      append(l->bsrColIdx);
      append(l->bsrIsFull);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    std::shared_ptr<const DeviceTables> &slot = tables_[identity];
    if (slot)
      return slot;
    if (auto error = context_.setCurrent())
      return std::move(*error);
    auto tables = std::make_shared<DeviceTables>();
    // No workspace here: these tables are shared, each kernel has its own.
    if (auto error = uploadTables(context_, planTables(plan), *tables))
      return error->withContext("uploading the layout of " + plan.pattern);
    slot = tables;
    return slot;
  }

  Expected<std::shared_ptr<const LoadedModule>>
  loaded(const CacheKey &key, const CacheEntry &entry,
         const std::vector<std::pair<std::string, int>> &functions) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::shared_ptr<const LoadedModule> &slot = modules_[key.hex()];
    if (slot)
      return slot;
    if (auto error = context_.setCurrent())
      return std::move(*error);
    Expected<cuda::Module> module = cuda::Module::load(
        context_, std::string_view(entry.bytes.data(), entry.bytes.size()));
    if (!module)
      return std::move(module).error();
    std::vector<cuda::Function> loadedFunctions;
    for (const auto &[name, sharedBytes] : functions) {
      Expected<cuda::Function> function = module->function(name);
      if (!function)
        return std::move(function).error();
      if (auto error = function->setMaxDynamicSharedBytes(sharedBytes))
        return std::move(*error);
      loadedFunctions.push_back(*function);
    }
    slot = std::make_shared<const LoadedModule>(
        LoadedModule{std::move(*module), std::move(loadedFunctions)});
    return slot;
  }

  cuda::Device device_;
  cuda::Context context_;
  const jit::Nvrtc *nvrtc_;
  std::string arch_;
  KernelKeys keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const LoadedModule>> modules_;
  std::unordered_map<std::string, std::shared_ptr<const DeviceTables>> tables_;
};

} // namespace

Expected<std::unique_ptr<Runtime>>
createCudaRuntime(const RuntimeOptions &options,
                  std::unique_ptr<KernelCache> cache) {
  Expected<cuda::Device> device = cuda::Device::open(options.device);
  if (!device)
    return std::move(device).error();
  Expected<cuda::Context> context = cuda::Context::retain(*device);
  if (!context)
    return std::move(context).error();
  Expected<const jit::Nvrtc *> nvrtc = jit::Nvrtc::load();
  if (!nvrtc)
    return std::move(nvrtc).error();
  std::string arch = options.arch.empty() ? device->arch() : options.arch;
  return std::unique_ptr<Runtime>(std::make_unique<CudaRuntime>(
      std::move(cache), std::move(*device), std::move(*context), *nvrtc,
      std::move(arch)));
}

} // namespace lace::api
