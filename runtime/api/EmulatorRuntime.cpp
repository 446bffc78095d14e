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

/// Packed documents in host memory: the ids are the kernel's too.
class EmulatorDocuments final : public DocumentLayout {
public:
  EmulatorDocuments(const Kernel &maker, Tables tables)
      : DocumentLayout(tables), owner(maker.serial()),
        qIds(std::move(tables.qIds)), kIds(std::move(tables.kIds)),
        workspace(static_cast<std::size_t>(
            workspaceFloats(maker.plan(), schedule()))) {}
  SegmentIdsRef ids() const {
    return {qIds.data(), kIds.empty() ? nullptr : kIds.data()};
  }
  std::uint64_t owner; ///< Kernel::serial() of its maker
  std::vector<std::int32_t> qIds, kIds;
  mutable std::vector<float> workspace;
};

class EmulatorKernel final : public Kernel {
public:
  EmulatorKernel(KernelPlan plan, bool fromCache, double compileSeconds,
                 std::shared_ptr<emu::KernelObject> forward,
                 std::shared_ptr<emu::KernelObject> backward, unsigned workers,
                 unsigned long long shuffleSeed)
      : Kernel(std::move(plan), fromCache, compileSeconds),
        forward_(std::move(forward)), backward_(std::move(backward)),
        workers_(workers), shuffleSeed_(shuffleSeed),
        workspace_(
            static_cast<std::size_t>(workspaceFloats(plan_, plan_.schedule))) {}

  using Kernel::forward;
  std::optional<Error> forward(const TensorRef &q, const TensorRef &k,
                               const TensorRef &v, const TensorRef &o,
                               float *lse, const SegmentIdsRef &segments,
                               void * /*stream*/, float scale) const override {
    if (auto error = checkArguments(q, k, v, o, segments, scale))
      return error;
    std::lock_guard<std::mutex> lock(workspaceMutex_);
    return runForward(planTables(plan_), workspace_.data(), q, k, v, o, lse,
                      segments, scale);
  }

  std::optional<Error> forward(const TensorRef &q, const TensorRef &k,
                               const TensorRef &v, const TensorRef &o,
                               float *lse, const DocumentLayout &documents,
                               void * /*stream*/, float scale) const override {
    auto docs = ownDocuments<EmulatorDocuments>(documents, *this, "forward");
    if (!docs)
      return std::move(docs).error();
    if (auto error = checkArguments(q, k, v, o, (*docs)->ids(), scale))
      return error;
    std::lock_guard<std::mutex> lock(workspaceMutex_);
    return runForward(documentTables(documents), (*docs)->workspace.data(), q,
                      k, v, o, lse, (*docs)->ids(), scale);
  }

  Expected<std::shared_ptr<const DocumentLayout>>
  documents(std::span<const std::int32_t> qIds,
            std::span<const std::int32_t> kIds) const override {
    auto tables = DocumentLayout::build(plan_, qIds, kIds);
    if (!tables)
      return std::move(tables).error();
    return std::shared_ptr<const DocumentLayout>(
        std::make_shared<EmulatorDocuments>(*this, std::move(*tables)));
  }

  std::optional<Error> backward(const BackwardTensors &t,
                                const SegmentIdsRef &segments,
                                void * /*stream*/, float scale) const override {
    if (auto error = checkBackwardArguments(t, segments, scale))
      return error;
    return runBackward(planTables(plan_), t, segments, scale);
  }

  std::optional<Error> backward(const BackwardTensors &t,
                                const DocumentLayout &documents,
                                void * /*stream*/, float scale) const override {
    auto docs = ownDocuments<EmulatorDocuments>(documents, *this, "backward");
    if (!docs)
      return std::move(docs).error();
    if (auto error = checkBackwardArguments(t, (*docs)->ids(), scale))
      return error;
    return runBackward(documentTables(documents), t, (*docs)->ids(), scale);
  }

  bool hasBackward() const override { return backward_ != nullptr; }

private:
  std::optional<Error> runForward(const HostTables &host, float *workspace,
                                  const TensorRef &q, const TensorRef &k,
                                  const TensorRef &v, const TensorRef &o,
                                  float *lse, const SegmentIdsRef &segments,
                                  float scale) const {
    int status = 0;
    const LaceFwdParams params =
        makeParams(plan_, host, hostPointers(host, workspace, &status), q, k, v,
                   o, lse, segments, scale);
    if (auto error = run(*forward_, plan_.spec.name,
                         launchShape(plan_, *host.schedule), &params, status))
      return error->withContext("forward (" + plan_.pattern + ")");
    // The combine step reads every piece: it starts after the forward.
    if (host.schedule->numCombines() > 0)
      if (auto error =
              run(*forward_, plan_.spec.combineKernelName(),
                  combineLaunchShape(plan_, *host.schedule), &params, status))
        return error->withContext("forward combine (" + plan_.pattern + ")");
    return std::nullopt;
  }

  std::optional<Error> runBackward(const HostTables &host,
                                   const BackwardTensors &t,
                                   const SegmentIdsRef &segments,
                                   float scale) const {
    int status = 0;
    const LaceBwdParams params = makeBackwardParams(
        plan_, host, hostPointers(host, nullptr, &status), t, segments, scale);
    // dq writes delta, which dkdv reads: one launch after the other.
    if (auto error = run(*backward_, plan_.spec.dqKernelName(),
                         dqLaunchShape(plan_), &params, status))
      return error->withContext("backward dq (" + plan_.pattern + ")");
    if (auto error = run(*backward_, plan_.spec.dkdvKernelName(),
                         dkdvLaunchShape(plan_), &params, status))
      return error->withContext("backward dkdv (" + plan_.pattern + ")");
    return std::nullopt;
  }

  std::optional<Error> run(const emu::KernelObject &object,
                           const std::string &entry, const LaunchShape &shape,
                           const void *params, const int &status) const {
    if (shape.grid[0] == 0)
      return std::nullopt; // nothing to launch
    emu::LaunchConfig config;
    config.grid = {shape.grid[0], shape.grid[1], shape.grid[2]};
    config.block = {shape.threads, 1, 1};
    config.sharedBytes = shape.sharedBytes;
    config.workers = workers_;
    config.shuffleSeed = shuffleSeed_;
    if (auto error = object.launch(config, entry, params))
      return error;
    if (status != 0)
      return Error("the kernel found malformed layout tables: " +
                   describeStatus(status));
    return std::nullopt;
  }

  std::shared_ptr<emu::KernelObject> forward_, backward_;
  unsigned workers_;
  unsigned long long shuffleSeed_;
  /// The plan's split rows' partial results; the emulator runs one forward
  /// at a time per kernel.
  mutable std::mutex workspaceMutex_;
  mutable std::vector<float> workspace_;
};

class EmulatorRuntime final : public Runtime {
public:
  EmulatorRuntime(std::unique_ptr<KernelCache> cache,
                  emu::HostCompiler compiler, unsigned workers,
                  unsigned long long shuffleSeed)
      : compiler_(std::move(compiler)), workers_(workers),
        shuffleSeed_(shuffleSeed) {
    cache_ = std::move(cache);
  }

  Expected<std::shared_ptr<const Kernel>>
  load(const KernelPlan &plan, const LoadOptions &options) override {
    if (std::string why = plan.validate(); !why.empty())
      return Error("loading " + plan.pattern + ": invalid plan: " + why);
    if (options.backward)
      if (std::string why = plan.validateBackward(); !why.empty())
        return Error("loading the backward of " + plan.pattern + ": " + why);
    bool fromCache = true;
    double seconds = 0;
    auto object = [&](jit::Pass pass, std::vector<emu::KernelEntry> entries)
        -> Expected<std::shared_ptr<emu::KernelObject>> {
      const KernelKeys::Entry &kernelKey =
          keys_.get(plan, pass, compiler_.identity(), target());
      const std::string label =
          "lace_" + plan.pattern + (pass == jit::Pass::Forward ? "" : "_bwd");
      auto cached = findOrCompile(
          *cache_, kernelKey.key, plan, [&]() -> Expected<Payload> {
            Expected<std::vector<char>> bytes = compiler_.compile(
                emu::emulatorSource(kernelKey.source, entries), label);
            if (!bytes)
              return std::move(bytes).error();
            return Payload{std::move(*bytes), "so", plan.pattern};
          });
      if (!cached)
        return std::move(cached).error();
      fromCache = fromCache && !cached->compiled;
      seconds += cached->seconds;
      return loaded(kernelKey.key, *cached->entry, label);
    };
    auto forward = object(jit::Pass::Forward,
                          {{plan.spec.name, "LaceFwdParams"},
                           {plan.spec.combineKernelName(), "LaceFwdParams"}});
    if (!forward)
      return std::move(forward).error();
    std::shared_ptr<emu::KernelObject> backward;
    if (options.backward) {
      auto compiled = object(jit::Pass::Backward,
                             {{plan.spec.dqKernelName(), "LaceBwdParams"},
                              {plan.spec.dkdvKernelName(), "LaceBwdParams"}});
      if (!compiled)
        return std::move(compiled).error();
      backward = std::move(*compiled);
    }
    auto kernel = std::make_shared<EmulatorKernel>(
        plan, fromCache, seconds, std::move(*forward), std::move(backward),
        workers_, shuffleSeed_);
    return std::shared_ptr<const Kernel>(std::move(kernel));
  }

  Expected<HostRun> runOnHost(const Kernel &kernel, const AttentionInputs &in,
                              int repeats) override {
    HostRun run;
    run.outputs = AttentionOutputs::poisoned(in);
    auto documents = kernel.documentsFor(in);
    if (!documents)
      return std::move(documents).error();
    if (*documents)
      run.documents = (*documents)->stats();
    const AttentionTensors t = contiguousTensors(
        in, in.q.data(), in.k.data(), in.v.data(), run.outputs.o.data());
    for (int i = 0; i < std::max(1, repeats); ++i) {
      const auto start = std::chrono::steady_clock::now();
      float *lse = run.outputs.lse.data();
      if (auto error =
              *documents
                  ? kernel.forward(t.q, t.k, t.v, t.o, lse, **documents)
                  : kernel.forward(t.q, t.k, t.v, t.o, lse, hostSegments(in)))
        return std::move(*error);
      run.seconds.push_back(secondsSince(start));
    }
    return run;
  }

  Expected<HostBackward> backwardOnHost(const Kernel &kernel,
                                        const AttentionInputs &in,
                                        const std::vector<std::uint16_t> &dout,
                                        int repeats) override {
    Expected<HostRun> forward = runOnHost(kernel, in, 1);
    if (!forward)
      return std::move(forward).error();
    HostBackward run;
    run.outputs = std::move(forward->outputs);
    run.documents = forward->documents;
    auto documents = kernel.documentsFor(in);
    if (!documents)
      return std::move(documents).error();
    run.gradients = AttentionGradients::poisoned(in);
    std::vector<float> delta(
        static_cast<std::size_t>(kernel.backwardWorkspaceFloats()));
    const BackwardTensors t = backwardTensors(
        in, in.q.data(), in.k.data(), in.v.data(), run.outputs.o.data(),
        dout.data(), run.outputs.lse.data(), run.gradients.dq.data(),
        run.gradients.dk.data(), run.gradients.dv.data(), delta.data());
    for (int i = 0; i < std::max(1, repeats); ++i) {
      const auto start = std::chrono::steady_clock::now();
      if (auto error = *documents ? kernel.backward(t, **documents)
                                  : kernel.backward(t, hostSegments(in)))
        return std::move(*error);
      run.seconds.push_back(secondsSince(start));
    }
    return run;
  }

  Expected<std::vector<double>> time(const Kernel &kernel,
                                     const AttentionInputs &inputs, int warmup,
                                     int repeats, int /*rotations*/,
                                     jit::Pass pass) override {
    // No cache to defeat on the emulator: one input set.
    std::vector<double> seconds;
    if (pass == jit::Pass::Forward) {
      Expected<HostRun> run = runOnHost(kernel, inputs, warmup + repeats);
      if (!run)
        return std::move(run).error();
      seconds = std::move(run->seconds);
    } else {
      Expected<HostBackward> run = backwardOnHost(
          kernel, inputs, randomOutputGradient(inputs, 1), warmup + repeats);
      if (!run)
        return std::move(run).error();
      seconds = std::move(run->seconds);
    }
    return std::vector<double>(seconds.begin() + warmup, seconds.end());
  }

  Backend backend() const override { return Backend::Emulator; }
  std::string target() const override { return hostTarget(); }
  std::string describe() const override {
    return "CPU emulator (" + compiler_.identity() + ")";
  }

private:
  static double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  }

  /// One loaded object per key for the runtime's lifetime.
  Expected<std::shared_ptr<emu::KernelObject>>
  loaded(const CacheKey &key, const CacheEntry &entry,
         const std::string &label) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::shared_ptr<emu::KernelObject> &slot = objects_[key.hex()];
    if (!slot) {
      auto object = emu::KernelObject::load(entry.bytes, label);
      if (!object)
        return std::move(object).error().withContext("loading " + label);
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
  return std::unique_ptr<Runtime>(
      std::make_unique<EmulatorRuntime>(std::move(cache), std::move(*compiler),
                                        options.emulatorWorkers, shuffleSeed));
}

} // namespace lace::api
