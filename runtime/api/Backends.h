//===- Backends.h - The runtime's backends, made by Runtime::create -------===//
#ifndef LACE_RUNTIME_API_BACKENDS_H
#define LACE_RUNTIME_API_BACKENDS_H

#include "lace/Runtime/Runtime.h"

namespace lace::api {

Expected<std::unique_ptr<Runtime>>
createEmulatorRuntime(const RuntimeOptions &options,
                      std::unique_ptr<KernelCache> cache);

Expected<std::unique_ptr<Runtime>>
createCudaRuntime(const RuntimeOptions &options,
                  std::unique_ptr<KernelCache> cache);

} // namespace lace::api

#endif // LACE_RUNTIME_API_BACKENDS_H
