//===- Runtime.cpp - Choosing a backend -----------------------------------===//
#include "Backends.h"

#include "lace/Runtime/Driver.h"

#include <cstdlib>

namespace lace {

Expected<std::unique_ptr<Runtime>> Runtime::create(RuntimeOptions options) {
  std::optional<Backend> backend = options.backend;
  bool automatic = !backend.has_value();
  if (!backend) {
    const char *env = std::getenv("LACE_DEVICE");
    const std::string choice = env ? env : "";
    if (choice == "cuda") {
      backend = Backend::Cuda;
      automatic = false;
    } else if (choice == "emulator") {
      backend = Backend::Emulator;
      automatic = false;
    } else if (!choice.empty() && choice != "auto") {
      return Error("LACE_DEVICE is '" + choice +
                   "': expected cuda, emulator or auto");
    }
  }
  if (!backend) {
    Expected<int> devices = cuda::Device::count();
    backend = devices && *devices > 0 ? Backend::Cuda : Backend::Emulator;
  }

  CacheConfig config;
  if (options.cache) {
    config = *options.cache;
  } else {
    Expected<CacheConfig> fromEnv = CacheConfig::fromEnvironment();
    if (!fromEnv)
      return std::move(fromEnv).error().withContext("kernel cache");
    config = std::move(*fromEnv);
  }
  auto cache = std::make_unique<KernelCache>(std::move(config));

  if (*backend == Backend::Emulator)
    return api::createEmulatorRuntime(options, std::move(cache));
  Expected<std::unique_ptr<Runtime>> cuda =
      api::createCudaRuntime(options, std::move(cache));
  if (!cuda && automatic)
    return std::move(cuda).error().withContext("no usable CUDA device");
  return cuda;
}

} // namespace lace
