//===- EmulatorRuntime.cpp - The CPU emulator backend ---------------------===//
#include "Backends.h"
#include "LaunchParams.h"

#include "lace/Runtime/EmulatorKernel.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace lace::api {

namespace {

std::string hostTarget() {
#if defined(__x86_64__)
  return "host-x86_64";
#elif defined(__aarch64__)
  return "host-aarch64";
#else
  return "host";
#endif
}

/// The inputs' segment ids (host memory), if any.
SegmentIdsRef hostSegments(const AttentionInputs &in) {
  SegmentIdsRef ids;
  if (!in.segmentQ.empty())
    ids.q = in.segmentQ.data();
  if (!in.segmentK.empty())
    ids.k = in.segmentK.data();
  return ids;
}

class EmulatorKernel final : public Kernel {
public:
  EmulatorKernel(KernelPlan plan, bool fromCache, double compileSeconds,
                 std::shared_ptr<emu::KernelObject> object, unsigned workers,
                 unsigned long long shuffleSeed)
      : Kernel(std::move(plan), fromCache, compileSeconds),
        object_(std::move(object)), workers_(workers),
        shuffleSeed_(shuffleSeed) {}

  using Kernel::forward;
  std::optional<Error> forward(const TensorRef &q, const TensorRef &k,
                               const TensorRef &v, const TensorRef &o,
                               float *lse, const SegmentIdsRef &segments,
                               void * /*stream*/, float scale) const override {
    if (auto error = checkArguments(q, k, v, o, segments))
      return error;
    const LayoutTables &l = plan_.layout;
    int status = 0;
    TablePointers tables{l.headToLayout.data(), l.rowOffsets.data(),
                         l.runs.data(),         l.bsrRowPtr.data(),
                         l.bsrColIdx.data(),    l.bsrIsFull.data(),
                         &status};
    const LaceFwdParams params =
        makeParams(plan_, tables, q, k, v, o, lse, segments, scale);
    const LaunchShape shape = launchShape(plan_);
    emu::LaunchConfig config;
    config.grid = {shape.grid[0], shape.grid[1], shape.grid[2]};
    config.block = {shape.threads, 1, 1};
    config.sharedBytes = shape.sharedBytes;
    config.workers = workers_;
    config.shuffleSeed = shuffleSeed_;
    if (auto error = object_->launch(config, &params))
      return error->withContext("forward (" + plan_.pattern + ")");
    if (status != 0)
      return Error("forward (" + plan_.pattern +
                   "): the kernel found malformed layout tables: " +
                   describeStatus(status));
    return std::nullopt;
  }

private:
  std::shared_ptr<emu::KernelObject> object_;
  unsigned workers_;
  unsigned long long shuffleSeed_;
};

class EmulatorRuntime final : public Runtime {
public:
  EmulatorRuntime(std::unique_ptr<KernelCache> cache, emu::HostCompiler compiler,
                  unsigned workers, unsigned long long shuffleSeed)
      : compiler_(std::move(compiler)), workers_(workers),
        shuffleSeed_(shuffleSeed) {
    cache_ = std::move(cache);
  }

  Expected<std::shared_ptr<const Kernel>> load(const KernelPlan &plan) override {
    if (std::string why = plan.validate(); !why.empty())
      return Error("loading " + plan.pattern + ": invalid plan: " + why);
    const KernelKeys::Entry &kernelKey =
        keys_.get(plan, compiler_.identity(), target());
    const std::string &source = kernelKey.source;
    const CacheKey &key = kernelKey.key;
    auto cached = findOrCompile(*cache_, key, plan, [&]() -> Expected<Payload> {
      Expected<std::vector<char>> object = compiler_.compile(
          emu::emulatorSource(source, plan.spec.name), "lace_" + plan.pattern);
      if (!object)
        return std::move(object).error();
      return Payload{std::move(*object), "so", plan.pattern};
    });
    if (!cached)
      return std::move(cached).error();
    Expected<std::shared_ptr<emu::KernelObject>> object =
        loaded(key, *cached->entry, plan);
    if (!object)
      return std::move(object).error();
    auto kernel = std::make_shared<EmulatorKernel>(plan, !cached->compiled,
                                                   cached->seconds,
                                                   std::move(*object),
                                                   workers_, shuffleSeed_);
    return std::shared_ptr<const Kernel>(std::move(kernel));
  }

  Expected<HostRun> runOnHost(const Kernel &kernel, const AttentionInputs &in,
                              int repeats) override {
    HostRun run;
    run.outputs = AttentionOutputs::poisoned(in);
    const AttentionTensors t = contiguousTensors(
        in, in.q.data(), in.k.data(), in.v.data(), run.outputs.o.data());
    for (int i = 0; i < std::max(1, repeats); ++i) {
      const auto start = std::chrono::steady_clock::now();
      if (auto error = kernel.forward(t.q, t.k, t.v, t.o, run.outputs.lse.data(),
                                      hostSegments(in)))
        return std::move(*error);
      run.seconds.push_back(std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count());
    }
    return run;
  }

  Expected<std::vector<double>> time(const Kernel &kernel,
                                     const AttentionInputs &inputs, int warmup,
                                     int repeats, int /*rotations*/) override {
    // No cache to defeat on the emulator: one input set.
    Expected<HostRun> run = runOnHost(kernel, inputs, warmup + repeats);
    if (!run)
      return std::move(run).error();
    return std::vector<double>(run->seconds.begin() + warmup, run->seconds.end());
  }

  Backend backend() const override { return Backend::Emulator; }
  std::string target() const override { return hostTarget(); }
  std::string describe() const override {
    return "CPU emulator (" + compiler_.identity() + ")";
  }

private:
  /// One loaded object per key for the runtime's lifetime.
  Expected<std::shared_ptr<emu::KernelObject>>
  loaded(const CacheKey &key, const CacheEntry &entry, const KernelPlan &plan) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::shared_ptr<emu::KernelObject> &slot = objects_[key.hex()];
    if (!slot) {
      auto object = emu::KernelObject::load(entry.bytes, "lace_" + plan.pattern);
      if (!object)
        return std::move(object).error().withContext("loading " + plan.pattern);
      slot = std::move(*object);
    }
    return slot;
  }

  emu::HostCompiler compiler_;
  KernelKeys keys_;
  unsigned workers_;
  unsigned long long shuffleSeed_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<emu::KernelObject>> objects_;
};

} // namespace

Expected<std::unique_ptr<Runtime>>
createEmulatorRuntime(const RuntimeOptions &options,
                      std::unique_ptr<KernelCache> cache) {
  Expected<emu::HostCompiler> compiler = emu::HostCompiler::find();
  if (!compiler)
    return std::move(compiler).error();
  unsigned long long shuffleSeed = 0;
  if (options.emulatorShuffleSeed) {
    shuffleSeed = *options.emulatorShuffleSeed;
  } else if (const char *env = std::getenv("LACE_EMU_SHUFFLE")) {
    shuffleSeed = std::strtoull(env, nullptr, 10);
  }
  return std::unique_ptr<Runtime>(std::make_unique<EmulatorRuntime>(
      std::move(cache), std::move(*compiler), options.emulatorWorkers,
      shuffleSeed));
}

} // namespace lace::api
