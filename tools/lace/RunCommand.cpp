//===- RunCommand.cpp - lace run: compile, run and check one pattern ------===//
//
// `lace run FILE --seq N --heads H --head-dim D --dtype bf16` plans the
// pattern for the shape, loads its kernel (on the GPU when there is one, on
// the emulator otherwise, or as --device says), runs it on seeded random
// inputs, checks O and LSE against the float64 reference and prints the
// error and the time. Exit status 1 when the check fails.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "LayoutOptions.h"
#include "Session.h"

#include "lace/Compiler.h"
#include "lace/Reference.h"
#include "lace/Runtime/Runtime.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>

namespace lace::tool {

namespace {

struct RunOptions {
  PatternOptions pattern;
  LayoutOptions shape;
  int headDim = 64;
  DType dtype = DType::F16;
  std::string device = "auto";
  std::uint64_t seed = 1;
  int repeat = 1;
  bool check = true;
  bool tilesGiven = false;
};

constexpr double kTolerance = 1e-2;

bool parseInt(const std::string &text, std::int64_t &value) {
  auto [end, status] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  return status == std::errc() && end == text.data() + text.size();
}

/// Consumes one option of `lace run`; false if args[i] is none of them.
bool parseRunOption(std::span<const std::string> args, std::size_t &i,
                    RunOptions &options, std::string &error) {
  std::string value;
  std::int64_t number = 0;
  if (takeValue(args, i, "--head-dim", value)) {
    if (!parseInt(value, number) || number <= 0)
      error = "expected a positive integer for --head-dim, got '" + value + "'";
    options.headDim = static_cast<int>(number);
  } else if (takeValue(args, i, "--dtype", value)) {
    if (value == "f16" || value == "fp16")
      options.dtype = DType::F16;
    else if (value == "bf16")
      options.dtype = DType::BF16;
    else
      error = "expected f16 or bf16 for --dtype, got '" + value + "'";
  } else if (takeValue(args, i, "--device", value)) {
    if (value != "auto" && value != "cuda" && value != "emulator")
      error = "expected auto, cuda or emulator for --device, got '" + value + "'";
    options.device = value;
  } else if (takeValue(args, i, "--seed", value)) {
    if (!parseInt(value, number) || number < 0)
      error = "expected a non-negative integer for --seed, got '" + value + "'";
    options.seed = static_cast<std::uint64_t>(number);
  } else if (takeValue(args, i, "--repeat", value)) {
    if (!parseInt(value, number) || number < 1 || number > 1000)
      error = "expected 1 to 1000 for --repeat, got '" + value + "'";
    options.repeat = static_cast<int>(number);
  } else if (args[i] == "--no-check") {
    options.check = false;
  } else {
    return false;
  }
  return true;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

} // namespace

int runRun(std::span<const std::string> args) {
  RunOptions options;
  options.shape.blockM = options.shape.blockN = 0; // the kernel's defaults
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string error;
    const std::string &arg = args[i];
    if (arg == "--block-m" || arg == "--block-n" ||
        arg.rfind("--block-", 0) == 0)
      options.tilesGiven = true;
    if (!parseRunOption(args, i, options, error) &&
        !parseLayoutOption(args, i, options.shape, error) &&
        !parsePatternOption(args, i, options.pattern, error))
      error = "unknown option '" + arg + "'";
    if (!error.empty())
      return usageError(error);
  }
  if (options.pattern.file.empty())
    return usageError("expected a .lace file");
  if (options.shape.seqQ <= 0)
    return usageError("expected --seq N");

  auto compiler = Compiler::fromFile(options.pattern.file);
  if (!compiler) {
    std::cerr << "lace: error: " << compiler.error().str() << "\n";
    return 1;
  }
  if (!options.pattern.pattern.empty())
    if (auto error = (*compiler)->select(options.pattern.pattern)) {
      std::cerr << "lace: error: " << error->str() << "\n";
      return 1;
    }
  for (const frontend::ParamOverride &param : options.pattern.params)
    (*compiler)->setParam(param.name, param.value);

  const LayoutOptions &s = options.shape;
  const ProblemShape shape{s.batch, s.heads, s.kvHeads, s.seqQ, s.seqK};
  PlanOptions planOptions;
  planOptions.dtype = options.dtype;
  planOptions.headDim = options.headDim;
  planOptions.tiles.blockM = static_cast<int>(s.blockM);
  planOptions.tiles.blockN = static_cast<int>(s.blockN);
  Expected<KernelPlan> plan = (*compiler)->plan(shape, planOptions);
  if (!plan) {
    std::cerr << "lace: error: " << plan.error().str() << "\n";
    return 1;
  }
  const ProblemShape &ps = plan->shape;
  const jit::TileConfig tiles = plan->spec.resolvedTiles();
  std::printf("pattern %s: %s, head dim %d, batch %lld, heads %lld (kv %lld), "
              "seq %lld x %lld\n",
              plan->pattern.c_str(),
              std::string(jit::dtypeName(options.dtype)).c_str(),
              options.headDim, static_cast<long long>(ps.batch),
              static_cast<long long>(ps.heads),
              static_cast<long long>(ps.kvHeads),
              static_cast<long long>(ps.seqQ), static_cast<long long>(ps.seqK));
  std::printf("plan: %d x %d tiles of %d x %d, %d distinct head layout(s), "
              "%.1f%% of dense FLOPs computed (%.3g GFLOP)\n",
              plan->layout.numQTiles, plan->layout.numKTiles, tiles.blockM,
              tiles.blockN, plan->layout.numLayouts,
              100.0 * plan->computedFlops() / plan->denseFlops(),
              plan->computedFlops() * 1e-9);

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
  auto kernel = (*runtime)->load(*plan);
  if (!kernel) {
    std::cerr << "lace: error: " << kernel.error().str() << "\n";
    return 1;
  }
  if ((*kernel)->fromCache())
    std::printf("kernel: from the cache\n");
  else
    std::printf("kernel: compiled in %.2f s\n", (*kernel)->compileSeconds());

  AttentionInputs inputs =
      randomInputs(ps, options.dtype, options.headDim, options.seed);
  Expected<HostRun> run = (*runtime)->runOnHost(**kernel, inputs, options.repeat);
  if (!run) {
    std::cerr << "lace: error: " << run.error().str() << "\n";
    return 1;
  }
  const double seconds = median(run->seconds);
  std::printf("run: %.4f s (median of %d), %.4g GFLOP/s on computed tiles\n",
              seconds, options.repeat, plan->computedFlops() / seconds * 1e-9);
  if (!options.check)
    return 0;
  Expected<ReferenceOutputs> reference = (*compiler)->reference(inputs);
  if (!reference) {
    std::cerr << "lace: error: " << reference.error().str() << "\n";
    return 1;
  }
  Agreement agreement =
      compareWithReference(*reference, inputs, run->outputs, kTolerance);
  std::printf("check against the float64 reference (seed %llu): output error "
              "%.2e, LSE error %.2e: %s\n",
              static_cast<unsigned long long>(options.seed),
              agreement.outError, agreement.lseError,
              agreement.failure.empty() ? "ok"
                                        : ("FAILED: " + agreement.failure).c_str());
  return agreement.failure.empty() ? 0 : 1;
}

} // namespace lace::tool
