//===- Compiler.h - From a .lace pattern to a KernelPlan ------------------===//
//
//   auto compiler = lace::Compiler::fromFile("patterns/longformer.lace");
//   (*compiler)->setParam("window", "256");
//   auto plan = (*compiler)->plan({.batch = 2, .heads = 16, .seqQ = 8192},
//                                 {.dtype = lace::DType::BF16, .headDim =
//                                 128});
//
// plan() runs the whole compiler: lowering, specialisation, block
// classification and layout (lace-pipeline), and kernel code generation.
// Errors are values: a bad file or parameter comes back with the rendered
// file:line:col diagnostics and their carets.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_COMPILER_H
#define LACE_COMPILER_H

#include "lace/Reference.h"
#include "lace/Runtime/Error.h"
#include "lace/Runtime/KernelPlan.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace lace {

struct PlanOptions {
  DType dtype = DType::F16;
  int headDim = 64;
  /// Zero fields take jit::defaultTiles(headDim).
  jit::TileConfig tiles;
  /// Persistent CTAs of the forward's schedule: the target's SMs times the
  /// CTAs that fit on one (132: an H100/H200 SXM at one CTA per SM).
  int numCtas = 132;
  /// Rows costing more than this times the mean CTA load are split into
  /// pieces merged by the combine step (0: never split).
  double splitFactor = 1.0;
};

class Compiler {
public:
  /// Loads and checks a .lace file (and its imports).
  static Expected<std::unique_ptr<Compiler>> fromFile(const std::string &path);
  /// The same for text held in memory; `name` is the file name diagnostics
  /// show (imports are resolved on disk relative to the working directory).
  static Expected<std::unique_ptr<Compiler>> fromSource(const std::string &name,
                                                        std::string text);
  ~Compiler();

  /// The patterns the main file defines, in source order.
  std::vector<std::string> patterns() const;
  /// Chooses the pattern to plan (default: the file's first).
  std::optional<Error> select(const std::string &pattern);
  const std::string &selected() const { return selected_; }
  /// Sets a parameter of the selected pattern (checked by plan()).
  void setParam(const std::string &name, const std::string &value);

  Expected<KernelPlan> plan(const ProblemShape &shape,
                            const PlanOptions &options = {}) const;

  /// The plan with what a bundle needs to stand alone: the .lace sources
  /// and the parameters (KernelBundle.h).
  BundledPlan bundle(KernelPlan plan) const;

  /// Dense float64 attention on `inputs` for the selected pattern with the
  /// same parameters, masked and scored by the interpreter (Reference.h).
  Expected<ReferenceOutputs> reference(const AttentionInputs &inputs,
                                       float scale = 0.f) const;
  /// The selected pattern's mask element by element through the
  /// interpreter, as FlexAttention's create_mask gives it: [batch, heads,
  /// seq_q, seq_k] bytes, 1 where the key is live. Patterns with `segment`
  /// take the ids per query token and per key token (empty: the query ids).
  Expected<std::vector<std::uint8_t>>
  mask(const ProblemShape &shape, std::span<const std::int32_t> qIds = {},
       std::span<const std::int32_t> kIds = {}) const;
  /// Its float64 gradients for the upstream gradient `dout` (Reference.h).
  Expected<ReferenceGradients>
  referenceBackward(const AttentionInputs &inputs,
                    const std::vector<std::uint16_t> &dout,
                    float scale = 0.f) const;

private:
  struct State;
  explicit Compiler(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::string selected_;
  std::vector<std::pair<std::string, std::string>> params_;
};

} // namespace lace

#endif // LACE_COMPILER_H
