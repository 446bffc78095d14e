//===- fuzz_frontend.cpp - libFuzzer target for the .lace frontend --------===//
//
// Lexes, parses and checks arbitrary input, renders every diagnostic, and
// for each pattern that checks, instantiates it on a small shape and
// evaluates a few elements and scores. Files come from memory only: the
// input is "fuzz.lace" and may import "common.lace" (a small fixed library)
// or itself.
//
//===----------------------------------------------------------------------===//
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace lace::frontend;

namespace {
constexpr const char *kCommon = R"(
pattern causal_window(window: int = 4) { mask = causal & local(before = window - 1); }
pattern leading_globals(count: int = 1) { mask = global(tokens = 0 .. count); }
)";
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  if (size > 64 * 1024)
    return 0;
  MemoryFileProvider files;
  files.add("fuzz.lace",
            std::string(reinterpret_cast<const char *>(data), size));
  files.add("common.lace", kCommon);
  SourceManager sources(files);
  DiagnosticEngine diags(sources);
  Program program = loadProgram(sources, "fuzz.lace", diags);
  std::string rendered = diags.renderAll();
  SegmentIds ids{{0, 0, 1, 1, 1, 2, 2, 3}, {}};
  std::vector<ParamOverride> overrides;
  if (size > 0 && (data[0] & 1))
    overrides.push_back({"window", "3"});
  for (const Pattern *pattern : program.allPatterns()) {
    if (!pattern->checked)
      continue;
    DiagnosticEngine local(sources);
    auto instance =
        instantiate(*pattern, overrides, Shape{2, 3, 8, 8}, local, &ids);
    rendered += local.renderAll();
    if (!instance)
      continue;
    for (int i = 0; i < 48; ++i) {
      std::int64_t b = i % 2, h = i % 3, q = (i * 5) % 8, k = (i * 3) % 8;
      volatile bool live = instance->mask(b, h, q, k);
      volatile float score = instance->score(0.25f * i, b, h, q, k);
      (void)live;
      (void)score;
    }
  }
  return 0;
}
