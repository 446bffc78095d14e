// A host application using Lace's C++ API: compile the installed sliding
// window pattern for a shape, load its kernel (GPU, or the CPU emulator),
// run it on random inputs and check it against the float64 reference.
#include <lace/Compiler.h>
#include <lace/Reference.h>
#include <lace/Runtime/Runtime.h>

#include <cstdio>

int main() {
  auto compiler =
      lace::Compiler::fromFile(LACE_PATTERNS_DIR "/sliding_window.lace");
  if (!compiler) {
    std::fprintf(stderr, "%s\n", compiler.error().str().c_str());
    return 1;
  }
  (*compiler)->setParam("window", "48");

  const lace::ProblemShape shape{/*batch=*/2, /*heads=*/4, /*kvHeads=*/2,
                                 /*seqQ=*/192, /*seqK=*/0};
  lace::PlanOptions options;
  options.dtype = lace::DType::BF16;
  options.headDim = 64;
  auto plan = (*compiler)->plan(shape, options);
  if (!plan) {
    std::fprintf(stderr, "%s\n", plan.error().str().c_str());
    return 1;
  }

  auto runtime = lace::Runtime::create();
  if (!runtime) {
    std::fprintf(stderr, "%s\n", runtime.error().str().c_str());
    return 1;
  }
  auto kernel = (*runtime)->load(*plan);
  if (!kernel) {
    std::fprintf(stderr, "%s\n", kernel.error().str().c_str());
    return 1;
  }

  lace::AttentionInputs inputs =
      lace::randomInputs(plan->shape, options.dtype, options.headDim, 42);
  auto run = (*runtime)->runOnHost(**kernel, inputs);
  auto reference = (*compiler)->reference(inputs);
  if (!run || !reference) {
    std::fprintf(stderr, "%s\n",
                 (!run ? run.error() : reference.error()).str().c_str());
    return 1;
  }
  lace::Agreement agreement =
      lace::compareWithReference(*reference, inputs, run->outputs, 1e-2);
  std::printf("%s on %s: %.1f%% of dense computed, output error %.2e: %s\n",
              plan->pattern.c_str(), (*runtime)->describe().c_str(),
              100 * plan->computedFlops() / plan->denseFlops(),
              agreement.outError,
              agreement.failure.empty() ? "ok" : agreement.failure.c_str());
  return agreement.failure.empty() ? 0 : 1;
}
