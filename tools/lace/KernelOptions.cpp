//===- KernelOptions.cpp - dtype and head dim options; plans from options -===//
#include "KernelOptions.h"

#include "lace/Compiler.h"

#include <charconv>
#include <iostream>

namespace lace::tool {

bool parseKernelOption(std::span<const std::string> args, std::size_t &i,
                       KernelOptions &options, std::string &error) {
  std::string value;
  for (auto [flag, field] : {std::pair{"--head-dim", &options.headDim},
                             {"--warps", &options.warps},
                             {"--stages", &options.stages}}) {
    if (!takeValue(args, i, flag, value))
      continue;
    int number = 0;
    auto [end, status] =
        std::from_chars(value.data(), value.data() + value.size(), number);
    if (status != std::errc() || end != value.data() + value.size() ||
        number <= 0)
      error = "expected a positive integer for " + std::string(flag) +
              ", got '" + value + "'";
    *field = number;
    return true;
  }
  if (takeValue(args, i, "--dtype", value)) {
    if (value == "f16" || value == "fp16")
      options.dtype = DType::F16;
    else if (value == "bf16")
      options.dtype = DType::BF16;
    else
      error = "expected f16 or bf16 for --dtype, got '" + value + "'";
    return true;
  }
  return false;
}

std::unique_ptr<Compiler> planFromOptions(const PatternOptions &pattern,
                                          const LayoutOptions &shape,
                                          const KernelOptions &kernel,
                                          KernelPlan &plan) {
  auto compiler = Compiler::fromFile(pattern.file);
  if (!compiler) {
    std::cerr << "lace: error: " << compiler.error().str() << "\n";
    return nullptr;
  }
  if (!pattern.pattern.empty())
    if (auto error = (*compiler)->select(pattern.pattern)) {
      std::cerr << "lace: error: " << error->str() << "\n";
      return nullptr;
    }
  for (const frontend::ParamOverride &param : pattern.params)
    (*compiler)->setParam(param.name, param.value);
  PlanOptions options;
  options.dtype = kernel.dtype;
  options.headDim = kernel.headDim;
  options.tiles.blockM = static_cast<int>(shape.blockM);
  options.tiles.blockN = static_cast<int>(shape.blockN);
  options.tiles.warps = kernel.warps;
  options.tiles.stages = kernel.stages;
  // The forward's persistent grid: --ctas, 132 (an H100/H200) by default.
  options.numCtas = static_cast<int>(shape.numCtas);
  Expected<KernelPlan> planned = (*compiler)->plan(
      {shape.batch, shape.heads, shape.kvHeads, shape.seqQ, shape.seqK},
      options);
  if (!planned) {
    std::cerr << "lace: error: " << planned.error().str() << "\n";
    return nullptr;
  }
  plan = std::move(*planned);
  return std::move(*compiler);
}

} // namespace lace::tool
