//===- DevicesCommand.cpp - `lace devices` --------------------------------===//
//
// Lists the CUDA devices the driver reports, one line each:
//   0: NVIDIA H200  sm_90  132 SMs  139.8 GiB  227 KiB shared/block (opt-in)
// Without a CUDA driver prints why (the library tried, what is needed) and
// exits 1.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"

#include "lace/Runtime/Driver.h"

#include <cstdio>
#include <iostream>

namespace lace::tool {

int runDevices(std::span<const std::string> args) {
  if (!args.empty()) {
    std::cerr << "lace: error: unexpected argument '" << args[0]
              << "', expected 'lace devices'\n";
    return 1;
  }
  auto driver = cuda::Driver::load();
  if (!driver) {
    std::cerr << "lace: error: " << driver.error().str() << "\n";
    return 1;
  }
  auto count = cuda::Device::count(**driver);
  if (!count) {
    std::cerr << "lace: error: " << count.error().str() << "\n";
    return 1;
  }
  const int version = (*driver)->version();
  std::cout << "driver: " << (*driver)->libraryPath() << " (CUDA "
            << version / 1000 << "." << (version % 1000) / 10 << ")\n";
  if (*count == 0) {
    std::cout << "no CUDA devices\n";
    return 0;
  }
  int status = 0;
  for (int i = 0; i < *count; ++i) {
    auto device = cuda::Device::open(**driver, i);
    if (!device) {
      std::cerr << "lace: error: " << device.error().str() << "\n";
      status = 1;
      continue;
    }
    char memory[32];
    std::snprintf(memory, sizeof memory, "%.1f GiB",
                  static_cast<double>(device->totalMemory()) /
                      (1024.0 * 1024.0 * 1024.0));
    std::cout << i << ": " << device->name() << "  " << device->arch() << "  "
              << device->smCount() << " SMs  " << memory << "  "
              << device->maxSharedOptin() / 1024
              << " KiB shared/block (opt-in)\n";
  }
  return status;
}

} // namespace lace::tool
