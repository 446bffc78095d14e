//===- main.cpp - The lace command-line tool ------------------------------===//
#include "Commands.h"

#include <array>
#include <iostream>
#include <string>
#include <vector>

namespace {

using lace::tool::Command;

constexpr std::array kCommands = {
    Command{"check", "FILE [--pattern NAME] [--param name=value]...",
            "parse and check a .lace file, print one line per pattern",
            lace::tool::runCheck},
    Command{"show",
            "FILE --seq N [--seq-k N] [--heads H] [--pattern NAME] "
            "[--param name=value]... [--segments 0,0,1,...] [--documents N]",
            "print the element mask as a grid ('#' live, '.' not)",
            lace::tool::runShow},
    Command{"cache", "stats|list|clear [--dir DIR]",
            "show, list (verifying each entry) or empty the kernel cache",
            lace::tool::runCache},
    Command{"devices", "",
            "list the CUDA devices (arch, SMs, memory); exits 1 without a "
            "CUDA driver",
            lace::tool::runDevices},
    Command{"run",
            "FILE --seq N [--seq-k N] [--heads H] [--kv-heads H] [--batch B] "
            "[--head-dim D] [--dtype f16|bf16] [--block-m M] [--block-n N] "
            "[--ctas C] [--pattern NAME] [--param name=value]... | --bundle "
            "FILE [--index I]; [--device auto|cuda|emulator] [--seed S] "
            "[--repeat R] [--no-check] [--backward] [--documents N]",
            "run the pattern's kernel on the GPU (or the CPU emulator) on "
            "random inputs, check it against the float64 reference and "
            "print the error and the time; --backward also runs the "
            "backward kernels and checks dQ, dK and dV",
            lace::tool::runRun},
#ifdef LACE_WITH_MLIR
    Command{"compile",
            "FILE --emit=mlir|layout|schedule|layout-mlir|bundle [-o FILE] "
            "[--locations] [--pattern NAME] [--param name=value]... [--seq N "
            "...] [--head-dim D] [--dtype f16|bf16]",
            "print the lace dialect IR, the layouts or the schedule (JSON), "
            "or write a kernel bundle for the runtime",
            lace::tool::runCompile},
#endif
};

void printUsage(std::ostream &os) {
  os << "usage: lace COMMAND [ARGS]\n\ncommands:\n";
  for (const Command &command : kCommands)
    os << "  " << command.name << " " << command.usage << "\n      "
       << command.summary << "\n";
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printUsage(std::cerr);
    return 1;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    printUsage(std::cout);
    return 0;
  }
  for (const Command &command : kCommands)
    if (command.name == args[0])
      return command.run(std::span<const std::string>(args).subspan(1));
  std::string names;
  for (const Command &command : kCommands)
    names += (names.empty() ? "" : ", ") + std::string(command.name);
  std::cerr << "lace: error: unknown command '" << args[0]
            << "', expected one of: " << names << "\n";
  return 1;
}
