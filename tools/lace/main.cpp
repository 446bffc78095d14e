//===- main.cpp - The lace command-line tool ------------------------------===//
#include "Commands.h"

#include "lace/Runtime/Nvrtc.h"

#ifdef LACE_WITH_MLIR
#include "llvm/Config/llvm-config.h"
#endif

#include <algorithm>
#include <array>
#include <iostream>
#include <string>
#include <vector>

namespace {

using lace::tool::Command;

constexpr std::array kCommands = {
    Command{
        "check", "FILE [--pattern NAME] [--param name=value]... [--werror]",
        "parse and check a .lace file, print one line per pattern",
        R"(  --pattern NAME      check only this pattern (default: every pattern)
  --param name=value  override a parameter's default (repeatable; with
                      several patterns, needs --pattern)
  --werror            treat warnings (e.g. ConstantZeroDivisor) as errors
Every pattern whose parameters all have values is also instantiated, at
batch 1, 2 heads and seq_q = seq_k = 128 (segment ids all 0), so that check
reports what instantiation would.)",
        "lace check patterns/longformer.lace --param window=256",
        lace::tool::runCheck},
    Command{"show",
            "FILE --seq N [--seq-k N] [--heads H] [--pattern NAME] "
            "[--param name=value]... [--segments 0,0,1,...] [--documents N]",
            "print the element mask as a grid ('#' live, '.' not)",
            R"(  --seq N             query length (required)
  --seq-k N           key length (default: --seq)
  --heads H           heads to draw (default: 1)
  --segments IDS      comma-separated segment ids, one per query token
  --documents N       N documents of equal length instead of --segments
  --pattern NAME      the pattern to show (default: the file's first)
  --param name=value  override a parameter's default (repeatable)
  --werror            treat warnings as errors
With MLIR (full builds), also the block layout of the layout pipeline:
  --block-m M, --block-n N  tile sizes (default: 128 x 128)
  --batch B, --kv-heads H   the problem's other sizes (default: 1, heads)
  --ctas C                  persistent CTAs of the schedule (default: 132)
  --svg FILE                also write the layout as an SVG picture
The grid is printed up to 256 x 256 elements and 64 heads; longer sequences
print the layout only.)",
            "lace show patterns/document.lace --seq 16384 --documents 16",
            lace::tool::runShow},
    Command{"cache", "stats|list|clear [--dir DIR]",
            "show, list (verifying each entry) or empty the kernel cache",
            R"(  stats               entries, bytes and the cache's folder
  list                every entry, each verified (damaged ones are named)
  clear               remove every entry
  --dir DIR           the cache folder (default: $LACE_CACHE_DIR, else
                      $XDG_CACHE_HOME/lace or ~/.cache/lace))",
            "lace cache list --dir /tmp/lace-cache", lace::tool::runCache},
    Command{"devices", "",
            "list the CUDA devices (arch, SMs, memory); exits 1 without a "
            "CUDA driver",
            "  (no options)", "lace devices", lace::tool::runDevices},
    Command{"run",
            "FILE --seq N [--seq-k N] [--heads H] [--kv-heads H] [--batch B] "
            "[--head-dim D] [--dtype f16|bf16] [--block-m M] [--block-n N] "
            "[--warps W] [--stages S] [--ctas C] [--pattern NAME] [--param "
            "name=value]... | --bundle "
            "FILE [--index I]; [--device auto|cuda|emulator] [--seed S] "
            "[--repeat R] [--no-check] [--backward] [--documents N]",
            "run the pattern's kernel on the GPU (or the CPU emulator) on "
            "random inputs, check it against the float64 reference and "
            "print the error and the time; --backward also runs the "
            "backward kernels and checks dQ, dK and dV",
            R"(  --seq N             query length (required with a FILE)
  --seq-k N           key length (default: --seq)
  --heads H           query heads (default: 1)
  --kv-heads H        key/value heads, a divisor of --heads (default: heads)
  --batch B           batch entries (default: 1)
  --head-dim D        a multiple of 16 in [32, 256], up to 128 with
                      --backward (default: 64)
  --dtype f16|bf16    element type (default: f16)
  --block-m M, --block-n N  tile sizes (default: the head dim's)
  --warps W, --stages S     warps per CTA, cp.async stages (default: the
                      head dim's; docs/kernels.md has the table)
  --ctas C            persistent CTAs of the forward's schedule (default: 132)
  --pattern NAME      the pattern (default: the file's first)
  --param name=value  override a parameter's default (repeatable)
  --bundle FILE       run a plan from a kernel bundle instead of a FILE
  --index I           the bundle's plan (default: 0)
  --device KIND       auto, cuda or emulator (default: auto: $LACE_DEVICE,
                      else CUDA when a device is present)
  --seed S            the random inputs' seed (default: 1)
  --repeat R          timed runs; the median is printed (default: 1)
  --no-check          skip the float64 reference
  --backward          also run and check the backward kernels
  --documents N       segment patterns: N equal documents (default: random
                      lengths))",
            "lace run patterns/longformer.lace --seq 2048 --heads 4 --dtype "
            "bf16",
            lace::tool::runRun},
#ifdef LACE_WITH_MLIR
    Command{"compile",
            "FILE --emit=mlir|layout|schedule|layout-mlir|bundle|cuda|ptx|"
            "cubin [-o FILE] [--locations] [--pattern NAME] [--param "
            "name=value]... [--seq N ...] [--head-dim D] [--dtype f16|bf16] "
            "[--arch sm_XY] [--backward] [--verbose]",
            "print the lace dialect IR, the layouts or the schedule (JSON), "
            "the kernel's CUDA source, PTX or cubin, or write a kernel bundle "
            "for the runtime",
            R"(  --emit=KIND         what to produce (default: mlir):
                        mlir         the lace dialect of the file's patterns
                        layout       the block layouts (JSON, needs --seq)
                        schedule     the forward's work list (JSON, --seq)
                        layout-mlir  the IR after the layout pipeline (--seq)
                        bundle       a kernel bundle for `lace run --bundle`
                        cuda         the generated CUDA source NVRTC compiles
                        ptx, cubin   NVRTC's output (needs the CUDA toolkit)
  -o FILE             write there (atomically) instead of stdout; - is stdout
  --locations         mlir: print source locations
  --arch sm_XY        ptx, cubin: the target (default: sm_80)
  --backward          cuda, ptx, cubin: the backward kernels (dq and dkdv)
  --verbose           ptx, cubin: print ptxas's resource report on stderr
  --pattern NAME      the pattern (default: every pattern; one for kernels)
  --param name=value  override a parameter's default (repeatable)
  --seq N, --seq-k N, --heads H, --kv-heads H, --batch B, --block-m M,
  --block-n N, --ctas C     the problem (layout, schedule, bundle, kernels)
  --head-dim D, --dtype f16|bf16  the kernel (default: 64, f16)
  --warps W, --stages S     the kernel's warps per CTA and cp.async stages
                      (default: the head dim's, docs/kernels.md))",
            "lace compile patterns/causal.lace --emit=cuda --seq 4096 -o "
            "causal.cu",
            lace::tool::runCompile},
#endif
};

void printUsage(std::ostream &os) {
  os << "usage: lace COMMAND [ARGS]\n\ncommands:\n";
  for (const Command &command : kCommands)
    os << "  " << command.name << " " << command.usage << "\n      "
       << command.summary << "\n";
  os << "\n'lace help COMMAND' or 'lace COMMAND --help' describes every "
        "option of a command; 'lace --version' prints the versions.\n";
}

void printHelp(const Command &command) {
  std::cout << "usage: lace " << command.name << " " << command.usage << "\n\n"
            << command.summary << "\n\noptions:\n"
            << command.help << "\n\nexample:\n  " << command.example << "\n";
}

const Command *find(const std::string &name) {
  for (const Command &command : kCommands)
    if (command.name == name)
      return &command;
  return nullptr;
}

int unknownCommand(const std::string &name) {
  std::string names;
  for (const Command &command : kCommands)
    names += (names.empty() ? "" : ", ") + std::string(command.name);
  std::cerr << "lace: error: unknown command '" << name
            << "', expected one of: " << names << "\n";
  return 1;
}

void printVersion() {
  std::cout << "lace " << LACE_VERSION << "\n";
#ifdef LACE_WITH_MLIR
  std::cout << "MLIR/LLVM " << LLVM_VERSION_STRING << "\n";
#else
  std::cout << "MLIR: none (a runtime-only build)\n";
#endif
  auto nvrtc = lace::jit::Nvrtc::load();
  if (nvrtc) {
    const auto [major, minor] = (*nvrtc)->version();
    std::cout << "NVRTC " << major << "." << minor << "\n";
  } else {
    std::cout << "NVRTC: not found (" << nvrtc.error().message() << ")\n";
  }
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printUsage(std::cerr);
    return 1;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    printUsage(std::cout);
    return 0;
  }
  if (args[0] == "--version") {
    printVersion();
    return 0;
  }
  if (args[0] == "help") {
    if (args.size() == 1) {
      printUsage(std::cout);
      return 0;
    }
    const Command *command = find(args[1]);
    if (!command)
      return unknownCommand(args[1]);
    printHelp(*command);
    return 0;
  }
  const Command *command = find(args[0]);
  if (!command)
    return unknownCommand(args[0]);
  const std::span<const std::string> rest =
      std::span<const std::string>(args).subspan(1);
  if (std::find_if(rest.begin(), rest.end(), [](const std::string &a) {
        return a == "--help" || a == "-h";
      }) != rest.end()) {
    printHelp(*command);
    return 0;
  }
  return command->run(rest);
}
