//===- RunCommand.cpp - lace run: compile, run and check one pattern ------===//
//
// `lace run FILE --seq N --heads H --head-dim D --dtype bf16` plans the
// pattern for the shape (or `lace run --bundle FILE` takes a plan from a
// kernel bundle), loads its kernel (on the GPU when there is one, on the
// emulator otherwise, or as --device says), runs it on seeded random inputs,
// checks O and LSE against the float64 reference and prints the error and
// the time. With --backward it also runs the backward kernels on a random
// upstream gradient and checks dQ, dK and dV against the float64 reference
// gradients. Exit status 1 when a check fails.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Output.h"
#include "Session.h"

#include "lace/Reference.h"
#include "lace/Runtime/KernelBundle.h"
#include "lace/Runtime/Runtime.h"

#ifdef LACE_WITH_MLIR
#include "KernelOptions.h"
#include "lace/Compiler.h"
#endif

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>
#include <iostream>

namespace lace::tool {

namespace {

struct RunOptions {
  std::string bundle;
  std::size_t index = 0;
  std::string device = "auto";
  std::uint64_t seed = 1;
  int repeat = 1;
  bool check = true;
  bool backward = false;
  /// Segment patterns: this many documents of equal length (0: random
  /// lengths, as randomInputs draws them).
  std::int64_t documents = 0;
};

constexpr double kTolerance = 1e-2;

template <class T> bool parseNumber(const std::string &text, T &value) {
  auto [end, status] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  return status == std::errc() && end == text.data() + text.size();
}

/// Consumes one option of `lace run` itself; false if args[i] is none.
bool parseRunOption(std::span<const std::string> args, std::size_t &i,
                    RunOptions &options, std::string &error) {
  std::string value;
  if (takeValue(args, i, "--bundle", value)) {
    options.bundle = value;
  } else if (takeValue(args, i, "--index", value)) {
    if (!parseNumber(value, options.index))
      error =
          "expected a non-negative integer for --index, got '" + value + "'";
  } else if (takeValue(args, i, "--device", value)) {
    if (value != "auto" && value != "cuda" && value != "emulator")
      error =
          "expected auto, cuda or emulator for --device, got '" + value + "'";
    options.device = value;
  } else if (takeValue(args, i, "--documents", value)) {
    if (!parseNumber(value, options.documents) || options.documents < 1)
      error =
          "expected a positive integer for --documents, got '" + value + "'";
  } else if (takeValue(args, i, "--seed", value)) {
    if (!parseNumber(value, options.seed))
      error = "expected a non-negative integer for --seed, got '" + value + "'";
  } else if (takeValue(args, i, "--repeat", value)) {
    if (!parseNumber(value, options.repeat) || options.repeat < 1 ||
        options.repeat > 1000)
      error = "expected 1 to 1000 for --repeat, got '" + value + "'";
  } else if (args[i] == "--no-check") {
    options.check = false;
  } else if (args[i] == "--backward") {
    options.backward = true;
  } else {
    return false;
  }
  return true;
}

/// The float64 references of the plan's pattern (from the compiler or the
/// bundle's sources).
struct References {
  std::function<Expected<ReferenceOutputs>(const AttentionInputs &)> forward;
  std::function<Expected<ReferenceGradients>(
      const AttentionInputs &, const std::vector<std::uint16_t> &)>
      backward;
};

/// Runs the backward on the same inputs and checks the gradients.
int runBackward(Runtime &runtime, const Kernel &kernel,
                const AttentionInputs &inputs, const RunOptions &options,
                const References &references) {
  const KernelPlan &plan = kernel.plan();
  const std::vector<std::uint16_t> dout =
      randomOutputGradient(inputs, options.seed);
  Expected<HostBackward> run =
      runtime.backwardOnHost(kernel, inputs, dout, options.repeat);
  if (!run) {
    std::cerr << "lace: error: " << run.error().str() << "\n";
    return 1;
  }
  const double flops = plan.backwardFlops();
  const double seconds = median(run->seconds);
  std::printf("backward: %.4f s (median of %d), %.4g GFLOP/s on computed "
              "tiles\n",
              seconds, options.repeat, flops / seconds * 1e-9);
  if (!options.check)
    return 0;
  Expected<ReferenceGradients> expected = references.backward(inputs, dout);
  if (!expected) {
    std::cerr << "lace: error: " << expected.error().str() << "\n";
    return 1;
  }
  GradientAgreement agreement =
      compareGradients(*expected, inputs, run->gradients, kTolerance);
  std::printf("check of the gradients against the float64 reference: dQ "
              "error %.2e, dK error %.2e, dV error %.2e: %s\n",
              agreement.dqError, agreement.dkError, agreement.dvError,
              agreement.failure.empty()
                  ? "ok"
                  : ("FAILED: " + agreement.failure).c_str());
  return agreement.failure.empty() ? 0 : 1;
}

int runPlan(const KernelPlan &plan, const RunOptions &options,
            const References &references) {
  const ProblemShape &ps = plan.shape;
  const jit::TileConfig tiles = plan.spec.resolvedTiles();
  std::printf("pattern %s: %s, head dim %d, batch %lld, heads %lld (kv %lld), "
              "seq %lld x %lld\n",
              plan.pattern.c_str(),
              std::string(jit::dtypeName(plan.spec.dtype)).c_str(),
              plan.spec.headDim, static_cast<long long>(ps.batch),
              static_cast<long long>(ps.heads),
              static_cast<long long>(ps.kvHeads),
              static_cast<long long>(ps.seqQ), static_cast<long long>(ps.seqK));
  std::printf("plan: %d x %d tiles of %d x %d, %d distinct head layout(s), "
              "%.1f%% of dense FLOPs computed (%.3g GFLOP)\n",
              plan.layout.numRows, plan.layout.numCols, tiles.blockM,
              tiles.blockN, plan.layout.numLayouts,
              100.0 * plan.computedFlops() / plan.denseFlops(),
              plan.computedFlops() * 1e-9);

  RuntimeOptions runtimeOptions;
  if (options.device == "cuda")
    runtimeOptions.backend = Backend::Cuda;
  else if (options.device == "emulator")
    runtimeOptions.backend = Backend::Emulator;
  auto runtime = Runtime::create(runtimeOptions);
  if (!runtime) {
    std::cerr << "lace: error: " << runtime.error().str() << "\n";
    return 1;
  }
  std::printf("device: %s\n", (*runtime)->describe().c_str());
  LoadOptions load;
  load.backward = options.backward;
  progress(std::string("loading the kernel") +
           (options.backward ? "s (forward and backward)" : "") +
           " (compiling on a cache miss)");
  auto kernel = (*runtime)->load(plan, load);
  if (!kernel) {
    std::cerr << "lace: error: " << kernel.error().str() << "\n";
    return 1;
  }
  if ((*kernel)->fromCache())
    std::printf("kernel: from the cache\n");
  else
    std::printf("kernel: compiled in %.2f s\n", (*kernel)->compileSeconds());

  AttentionInputs inputs = randomInputs(ps, plan.spec.dtype, plan.spec.headDim,
                                        options.seed, plan.usesSegments);
  if (plan.usesSegments && options.documents > 0) {
    if (options.documents > ps.seqQ || ps.seqK != ps.seqQ) {
      std::cerr << "lace: error: --documents needs seq_k == seq_q and at "
                   "most seq documents\n";
      return 1;
    }
    const std::int64_t length = ps.seqQ / options.documents;
    for (std::int64_t t = 0; t < ps.seqQ; ++t)
      inputs.segmentQ[static_cast<std::size_t>(t)] = static_cast<std::int32_t>(
          std::min(options.documents - 1, t / length));
  }
  progress("running on the " + std::string(backendName((*runtime)->backend())) +
           (options.repeat > 1 ? " " + std::to_string(options.repeat) + " times"
                               : std::string()));
  Expected<HostRun> run =
      (*runtime)->runOnHost(**kernel, inputs, options.repeat);
  if (!run) {
    std::cerr << "lace: error: " << run.error().str() << "\n";
    return 1;
  }
  if (run->documents)
    std::printf("documents: layout built in %.3f ms on the host, %lld of "
                "%lld tiles computed (%.2f%% of the all-partial plan)\n",
                run->documents->buildSeconds * 1e3,
                static_cast<long long>(run->documents->computedTiles),
                static_cast<long long>(run->documents->supersetTiles),
                run->documents->supersetTiles
                    ? 100.0 * double(run->documents->computedTiles) /
                          double(run->documents->supersetTiles)
                    : 0.0);
  // The schedule the kernel ran: the documents' own with segment ids.
  const ScheduleTables &planned = plan.schedule;
  const DocumentStats *ran = run->documents ? &*run->documents : nullptr;
  std::printf(
      "schedule: %d persistent CTAs, imbalance %.2f (%.2f with whole "
      "rows), %lld split rows\n",
      planned.numCtas, ran ? ran->imbalance : planned.imbalance,
      ran ? ran->imbalanceBeforeSplit : planned.imbalanceBeforeSplit,
      static_cast<long long>(ran ? ran->splitRows : planned.numCombines()));
  const double seconds = median(run->seconds);
  const double flops =
      run->documents ? run->documents->computedFlops : plan.computedFlops();
  std::printf("run: %.4f s (median of %d), %.4g GFLOP/s on computed tiles\n",
              seconds, options.repeat, flops / seconds * 1e-9);
  if (!options.check)
    return options.backward
               ? runBackward(**runtime, **kernel, inputs, options, references)
               : 0;
  Expected<ReferenceOutputs> expected = references.forward(inputs);
  if (!expected) {
    std::cerr << "lace: error: " << expected.error().str() << "\n";
    return 1;
  }
  Agreement agreement =
      compareWithReference(*expected, inputs, run->outputs, kTolerance);
  std::printf("check against the float64 reference (seed %llu): output error "
              "%.2e, LSE error %.2e: %s\n",
              static_cast<unsigned long long>(options.seed), agreement.outError,
              agreement.lseError,
              agreement.failure.empty()
                  ? "ok"
                  : ("FAILED: " + agreement.failure).c_str());
  const int forwardStatus = agreement.failure.empty() ? 0 : 1;
  if (!options.backward)
    return forwardStatus;
  return std::max(forwardStatus, runBackward(**runtime, **kernel, inputs,
                                             options, references));
}

} // namespace

int runRun(std::span<const std::string> args) {
  RunOptions options;
#ifdef LACE_WITH_MLIR
  PatternOptions pattern;
  LayoutOptions shape;
  KernelOptions kernel;
#endif
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string error;
    bool known = parseRunOption(args, i, options, error);
#ifdef LACE_WITH_MLIR
    known = known || parseKernelOption(args, i, kernel, error) ||
            parseLayoutOption(args, i, shape, error) ||
            parsePatternOption(args, i, pattern, error);
#endif
    if (!known)
      error = args[i].empty() || args[i][0] != '-'
                  ? "this build has no compiler (LACE_RUNTIME_ONLY): expected "
                    "--bundle FILE, not '" +
                        args[i] + "'"
                  : "unknown option '" + args[i] + "'";
    if (!error.empty())
      return usageError(error);
  }

  if (!options.bundle.empty()) {
    auto bundle = loadBundleFile(options.bundle);
    if (!bundle) {
      std::cerr << "lace: error: " << bundle.error().str() << "\n";
      return 1;
    }
    if (options.index >= bundle->size())
      return usageError("--index " + std::to_string(options.index) + ": " +
                        options.bundle + " holds " +
                        std::to_string(bundle->size()) + " plan(s)");
    const BundledPlan &bundled = (*bundle)[options.index];
    return runPlan(bundled.plan, options,
                   {[&](const AttentionInputs &inputs) {
                      return referenceForBundle(bundled, inputs);
                    },
                    [&](const AttentionInputs &inputs,
                        const std::vector<std::uint16_t> &dout) {
                      return referenceBackwardForBundle(bundled, inputs, dout);
                    }});
  }
#ifdef LACE_WITH_MLIR
  if (pattern.file.empty())
    return usageError("expected a .lace file or --bundle FILE");
  if (shape.seqQ <= 0)
    return usageError("expected --seq N");
  KernelPlan plan;
  std::unique_ptr<Compiler> compiler =
      planFromOptions(pattern, shape, kernel, plan);
  if (!compiler)
    return 1;
  return runPlan(plan, options,
                 {[&](const AttentionInputs &inputs) {
                    return compiler->reference(inputs);
                  },
                  [&](const AttentionInputs &inputs,
                      const std::vector<std::uint16_t> &dout) {
                    return compiler->referenceBackward(inputs, dout);
                  }});
#else
  return usageError("this build has no compiler: expected --bundle FILE");
#endif
}

} // namespace lace::tool
