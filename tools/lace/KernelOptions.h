//===- KernelOptions.h - dtype and head dim options; plans from options ---===//
//
// `lace run` and `lace compile --emit=bundle` take the kernel's element
// type and head dim the same way, and plan a pattern from a file with the
// shape options of LayoutOptions.h.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TOOLS_LACE_KERNELOPTIONS_H
#define LACE_TOOLS_LACE_KERNELOPTIONS_H

#include "LayoutOptions.h"
#include "Session.h"

#include "lace/Runtime/KernelPlan.h"

#include <memory>
#include <span>
#include <string>

namespace lace {
class Compiler;
}

namespace lace::tool {

struct KernelOptions {
  int headDim = 64;
  DType dtype = DType::F16;
  int warps = 0;  ///< --warps; 0: the head dim's default (defaultTiles)
  int stages = 0; ///< --stages; 0: the default
};

/// Consumes --head-dim, --dtype, --warps or --stages at args[i]; false if
/// args[i] is none of them. Malformed values set `error`.
bool parseKernelOption(std::span<const std::string> args, std::size_t &i,
                       KernelOptions &options, std::string &error);

/// Loads options.file, selects the pattern, applies the parameters and
/// plans. Errors are printed ("lace: error: ..."); null on failure.
std::unique_ptr<Compiler> planFromOptions(const PatternOptions &pattern,
                                          const LayoutOptions &shape,
                                          const KernelOptions &kernel,
                                          KernelPlan &plan);

} // namespace lace::tool

#endif // LACE_TOOLS_LACE_KERNELOPTIONS_H
