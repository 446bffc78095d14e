//===- RuntimeBench.cpp - Kernel load latency: compile, disk hit, memory hit ===//
//
//   lace-runtime-bench --bundle FILE [--device cuda|emulator] [--repeats N]
//
// Medians of Runtime::load for the bundle's first plan: a cold compile
// (NVRTC, or the host compiler for the emulator; cache disabled), a
// disk-cache hit in a fresh Runtime (read and verify the entry, load the
// module image or shared object, upload the layout tables), and a
// memory-cache hit (the same Runtime again). Not a test: it asserts nothing.
//
//===----------------------------------------------------------------------===//
#include "lace/Runtime/KernelBundle.h"
#include "lace/Runtime/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using namespace lace;
using Clock = std::chrono::steady_clock;

namespace {

std::unique_ptr<Runtime> makeRuntime(Backend backend, const CacheConfig &cache) {
  RuntimeOptions options;
  options.backend = backend;
  options.cache = cache;
  auto runtime = Runtime::create(options);
  if (!runtime) {
    std::fprintf(stderr, "lace-runtime-bench: %s\n", runtime.error().str().c_str());
    std::exit(1);
  }
  return std::move(*runtime);
}

double loadMicros(Runtime &runtime, const KernelPlan &plan) {
  const auto start = Clock::now();
  auto kernel = runtime.load(plan);
  const double us =
      std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  if (!kernel) {
    std::fprintf(stderr, "lace-runtime-bench: %s\n", kernel.error().str().c_str());
    std::exit(1);
  }
  return us;
}

} // namespace

int main(int argc, char **argv) {
  std::string bundlePath;
  Backend backend = Backend::Emulator;
  int repeats = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--bundle")
      bundlePath = value;
    else if (flag == "--device")
      backend = value == "cuda" ? Backend::Cuda : Backend::Emulator;
    else if (flag == "--repeats")
      repeats = std::max(3, std::atoi(value.c_str()));
  }
  if (bundlePath.empty()) {
    std::fprintf(stderr, "usage: lace-runtime-bench --bundle FILE [--device "
                         "cuda|emulator] [--repeats N]\n");
    return 2;
  }
  auto bundle = loadBundleFile(bundlePath);
  if (!bundle || bundle->empty()) {
    std::fprintf(stderr, "lace-runtime-bench: %s\n",
                 bundle ? "empty bundle" : bundle.error().str().c_str());
    return 1;
  }
  const KernelPlan &plan = bundle->front().plan;
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("lace-runtime-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);

  CacheConfig disabled;
  disabled.enabled = false;
  std::vector<double> cold;
  for (int i = 0; i < 3; ++i) {
    auto runtime = makeRuntime(backend, disabled);
    cold.push_back(loadMicros(*runtime, plan));
  }

  CacheConfig disk;
  disk.directory = dir;
  { // fill the disk cache
    auto runtime = makeRuntime(backend, disk);
    loadMicros(*runtime, plan);
  }
  std::vector<double> diskHits, memoryHits;
  for (int i = 0; i < repeats; ++i) {
    auto runtime = makeRuntime(backend, disk);
    diskHits.push_back(loadMicros(*runtime, plan));
    for (int j = 0; j < 10; ++j)
      memoryHits.push_back(loadMicros(*runtime, plan));
  }
  std::filesystem::remove_all(dir);

  auto fresh = makeRuntime(backend, disabled);
  std::printf("%s, %s %s d%d, layout tables %zu bytes\n",
              fresh->describe().c_str(), plan.pattern.c_str(),
              std::string(jit::dtypeName(plan.spec.dtype)).c_str(),
              plan.spec.headDim, plan.layout.bytes());
  std::printf("| load | median | repeats |\n| --- | --- | --- |\n");
  std::printf("| cold compile (no cache) | %.3f ms | 3 |\n", median(cold) * 1e-3);
  std::printf("| disk hit in a fresh runtime (read, verify, %s, upload) | %.3f "
              "ms | %d |\n",
              backend == Backend::Cuda ? "cuModuleLoadData" : "dlopen",
              median(diskHits) * 1e-3, repeats);
  std::printf("| memory hit (same runtime; kernel object shared) | %.2f µs | "
              "%zu |\n",
              median(memoryHits), memoryHits.size());
  return 0;
}
