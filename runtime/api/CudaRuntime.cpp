//===- CudaRuntime.cpp - The CUDA backend: NVRTC, the driver, uploads -----===//
#include "Backends.h"
#include "LaunchParams.h"

#include "lace/Runtime/Driver.h"
#include "lace/Runtime/Nvrtc.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>

namespace lace::api {

namespace {

/// A loaded module and its kernel function, shared by every Kernel of the
/// same cache key.
struct LoadedModule {
  cuda::Module module;
  cuda::Function function;
};

/// The layout tables in device memory: uploaded once per loaded kernel.
struct DeviceTables {
  std::vector<cuda::DeviceBuffer> buffers;
  TablePointers pointers;
};

template <class T>
Expected<const T *> upload(const cuda::Context &context,
                           const std::vector<T> &values,
                           std::vector<cuda::DeviceBuffer> &keep) {
  if (values.empty())
    return static_cast<const T *>(nullptr);
  const std::size_t bytes = values.size() * sizeof(T);
  Expected<cuda::DeviceBuffer> buffer = cuda::DeviceBuffer::allocate(context, bytes);
  if (!buffer)
    return std::move(buffer).error();
  if (auto error = buffer->upload(values.data(), bytes))
    return std::move(*error);
  const T *pointer = static_cast<const T *>(buffer->get());
  keep.push_back(std::move(*buffer));
  return pointer;
}

class CudaKernel final : public Kernel {
public:
  CudaKernel(KernelPlan plan, bool fromCache, double compileSeconds,
             const cuda::Context &context,
             std::shared_ptr<const LoadedModule> module,
             std::shared_ptr<const DeviceTables> tables)
      : Kernel(std::move(plan), fromCache, compileSeconds), context_(context), module_(std::move(module)),
        tables_(std::move(tables)) {}

  using Kernel::forward;
  std::optional<Error> forward(const TensorRef &q, const TensorRef &k,
                               const TensorRef &v, const TensorRef &o,
                               float *lse, const SegmentIdsRef &segments,
                               void *stream, float scale) const override {
    if (auto error = checkArguments(q, k, v, o, segments))
      return error;
    if (auto error = context_.setCurrent())
      return error;
    LaceFwdParams params =
        makeParams(plan_, tables_->pointers, q, k, v, o, lse, segments, scale);
    const LaunchShape shape = launchShape(plan_);
    void *args[] = {&params};
    if (auto error = cuda::launch(
            module_->function, {shape.grid[0], shape.grid[1], shape.grid[2]},
            {shape.threads, 1, 1}, shape.sharedBytes,
            static_cast<cuda::CUstream>(stream), args))
      return error->withContext("forward (" + plan_.pattern + ")");
    return std::nullopt;
  }

private:
  const cuda::Context &context_;
  std::shared_ptr<const LoadedModule> module_;
  std::shared_ptr<const DeviceTables> tables_;
};

class CudaRuntime final : public Runtime {
public:
  CudaRuntime(std::unique_ptr<KernelCache> cache, cuda::Device device,
              cuda::Context context, const jit::Nvrtc *nvrtc, std::string arch)
      : device_(std::move(device)), context_(std::move(context)),
        nvrtc_(nvrtc), arch_(std::move(arch)) {
    cache_ = std::move(cache);
  }

  Expected<std::shared_ptr<const Kernel>> load(const KernelPlan &plan) override {
    if (std::string why = plan.validate(); !why.empty())
      return Error("loading " + plan.pattern + ": invalid plan: " + why);
    if (plan.spec.sharedBytes() > device_.maxSharedOptin())
      return Error("loading " + plan.pattern + ": the kernel needs " +
                   std::to_string(plan.spec.sharedBytes()) +
                   " bytes of shared memory, " + device_.name() + " has " +
                   std::to_string(device_.maxSharedOptin()));
    const auto [major, minor] = nvrtc_->version();
    const KernelKeys::Entry &kernelKey = keys_.get(
        plan, "nvrtc " + std::to_string(major) + "." + std::to_string(minor),
        arch_);
    const std::string &source = kernelKey.source;
    const CacheKey &key = kernelKey.key;
    auto cached = findOrCompile(*cache_, key, plan, [&]() -> Expected<Payload> {
      Expected<jit::CompiledKernel> kernel =
          nvrtc_->compile(source, plan.spec.name, arch_);
      if (!kernel)
        return std::move(kernel).error();
      return Payload{std::vector<char>(kernel->cubin.begin(), kernel->cubin.end()),
                     "cubin", plan.pattern};
    });
    if (!cached)
      return std::move(cached).error();
    auto module = loaded(key, *cached->entry, plan);
    if (!module)
      return std::move(module).error().withContext("loading " + plan.pattern);

    auto tables = uploadedTables(plan);
    if (!tables)
      return std::move(tables).error();
    auto kernel = std::make_shared<CudaKernel>(plan, !cached->compiled,
                                               cached->seconds, context_,
                                               std::move(*module),
                                               std::move(*tables));
    return std::shared_ptr<const Kernel>(std::move(kernel));
  }

  Expected<HostRun> runOnHost(const Kernel &kernel, const AttentionInputs &in,
                              int repeats) override {
    if (auto error = context_.setCurrent())
      return std::move(*error);
    HostRun run;
    run.outputs = AttentionOutputs::poisoned(in);
    std::vector<cuda::DeviceBuffer> keep;
    auto set = uploadSet(in, run.outputs, keep);
    if (!set)
      return std::move(set).error();
    for (int i = 0; i < std::max(1, repeats); ++i) {
      const auto start = std::chrono::steady_clock::now();
      if (auto error = kernel.forward(set->t.q, set->t.k, set->t.v, set->t.o,
                                      set->lse, set->segments))
        return std::move(*error);
      if (auto error = cuda::synchronize(device_.driver(), nullptr))
        return std::move(*error);
      run.seconds.push_back(std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count());
    }
    if (auto error = keep[set->oBuffer].download(run.outputs.o.data(),
                                                 run.outputs.o.size() * 2))
      return std::move(*error);
    if (auto error = keep[set->lseBuffer].download(
            run.outputs.lse.data(), run.outputs.lse.size() * 4))
      return std::move(*error);
    return run;
  }

  Expected<std::vector<double>> time(const Kernel &kernel,
                                     const AttentionInputs &in, int warmup,
                                     int repeats, int rotations) override {
    if (auto error = context_.setCurrent())
      return std::move(*error);
    const AttentionOutputs out = AttentionOutputs::poisoned(in);
    std::vector<cuda::DeviceBuffer> keep;
    std::vector<DeviceSet> sets;
    for (int r = 0; r < std::max(1, rotations); ++r) {
      auto set = uploadSet(in, out, keep);
      if (!set)
        return std::move(set).error().withContext(
            "input set " + std::to_string(r) + " (out of device memory?)");
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
      if (auto error = kernel.forward(set.t.q, set.t.k, set.t.v, set.t.o,
                                      set.lse, set.segments))
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
  /// One copy of a problem's inputs, outputs and segment ids in device
  /// memory; the buffers live in the caller's `keep` (O and LSE at the
  /// indices given, for copying results back).
  struct DeviceSet {
    AttentionTensors t;
    float *lse = nullptr;
    SegmentIdsRef segments;
    std::size_t oBuffer = 0, lseBuffer = 0;
  };

  Expected<DeviceSet> uploadSet(const AttentionInputs &in,
                                const AttentionOutputs &out,
                                std::vector<cuda::DeviceBuffer> &keep) {
    auto q = upload(context_, in.q, keep);
    auto k = upload(context_, in.k, keep);
    auto v = upload(context_, in.v, keep);
    auto o = upload(context_, out.o, keep);
    const std::size_t oBuffer = keep.size() - 1;
    auto lse = upload(context_, out.lse, keep);
    const std::size_t lseBuffer = keep.size() - 1;
    auto segmentQ = upload(context_, in.segmentQ, keep);
    auto segmentK = upload(context_, in.segmentK, keep);
    for (const Error *error :
         {q ? nullptr : &q.error(), k ? nullptr : &k.error(),
          v ? nullptr : &v.error(), o ? nullptr : &o.error(),
          lse ? nullptr : &lse.error(), segmentQ ? nullptr : &segmentQ.error(),
          segmentK ? nullptr : &segmentK.error()})
      if (error)
        return Error(*error).withContext("copying the inputs to the device");
    return DeviceSet{contiguousTensors(in, *q, *k, *v, *o),
                     const_cast<float *>(*lse),
                     {*segmentQ, *segmentK},
                     oBuffer,
                     lseBuffer};
  }

  /// The plan's layout tables in device memory: uploaded once per distinct
  /// layout and shared by every kernel loaded with it.
  Expected<std::shared_ptr<const DeviceTables>>
  uploadedTables(const KernelPlan &plan) {
    const LayoutTables &l = plan.layout;
    std::string identity = std::to_string(static_cast<int>(l.form)) + "/" +
                           std::to_string(l.numLayouts) + "/" +
                           std::to_string(l.numQTiles) + "/" +
                           std::to_string(l.numKTiles);
    auto append = [&](const auto &values) {
      identity += "/" + std::to_string(values.size()) + ":";
      identity.append(reinterpret_cast<const char *>(values.data()),
                      values.size() * sizeof(values[0]));
    };
    append(l.headToLayout);
    append(l.rowOffsets);
    append(l.runs);
    append(l.bsrRowPtr);
    append(l.bsrColIdx);
    append(l.bsrIsFull);
    std::lock_guard<std::mutex> lock(mutex_);
    std::shared_ptr<const DeviceTables> &slot = tables_[identity];
    if (slot)
      return slot;
    if (auto error = context_.setCurrent())
      return std::move(*error);
    auto tables = std::make_shared<DeviceTables>();
    auto h2l = upload(context_, l.headToLayout, tables->buffers);
    auto offsets = upload(context_, l.rowOffsets, tables->buffers);
    auto runs = upload(context_, l.runs, tables->buffers);
    auto rowPtr = upload(context_, l.bsrRowPtr, tables->buffers);
    auto colIdx = upload(context_, l.bsrColIdx, tables->buffers);
    auto isFull = upload(context_, l.bsrIsFull, tables->buffers);
    for (const Error *error :
         {h2l ? nullptr : &h2l.error(), offsets ? nullptr : &offsets.error(),
          runs ? nullptr : &runs.error(), rowPtr ? nullptr : &rowPtr.error(),
          colIdx ? nullptr : &colIdx.error(),
          isFull ? nullptr : &isFull.error()})
      if (error)
        return Error(*error).withContext("uploading the layout of " +
                                         plan.pattern);
    tables->pointers = {*h2l, *offsets, *runs, *rowPtr, *colIdx, *isFull,
                        nullptr};
    slot = tables;
    return slot;
  }

  Expected<std::shared_ptr<const LoadedModule>>
  loaded(const CacheKey &key, const CacheEntry &entry, const KernelPlan &plan) {
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
    Expected<cuda::Function> function = module->function(plan.spec.name);
    if (!function)
      return std::move(function).error();
    if (auto error = function->setMaxDynamicSharedBytes(plan.spec.sharedBytes()))
      return std::move(*error);
    slot = std::make_shared<const LoadedModule>(
        LoadedModule{std::move(*module), *function});
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
