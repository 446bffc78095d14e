//===- Reference.h - Dense float64 attention on the interpreter -----------===//
//
// The yardstick every kernel is checked against (tests, `lace run`, the GPU
// check): attention computed densely in float64 from the same 16-bit
// inputs, masked and scored by the interpreter (the executable definition
// of a pattern). A row without a live key gives O = 0 and LSE = -inf.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_REFERENCE_H
#define LACE_REFERENCE_H

#include "lace/Runtime/HostTensors.h"
#include "lace/Runtime/KernelBundle.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lace {
namespace frontend {
class Instance;
class SourceManager;
struct Pattern;
}

struct ReferenceOutputs {
  std::vector<double> o;   ///< [b, seq_q, h, d]
  std::vector<double> lse; ///< [b, h, seq_q], natural log
};

/// `scale` 0 means 1/sqrt(head_dim), as in Kernel::forward.
ReferenceOutputs referenceAttention(const frontend::Instance &pattern,
                                    const AttentionInputs &inputs,
                                    float scale = 0.f);

/// The reference for a checked `pattern` (its program alive) with these
/// parameter overrides and the inputs' segment ids; a failed instantiation
/// comes back with its diagnostics rendered through `sources`.
Expected<ReferenceOutputs>
referenceFor(const frontend::Pattern &pattern,
             const frontend::SourceManager &sources,
             const std::vector<std::pair<std::string, std::string>> &params,
             const AttentionInputs &inputs, float scale = 0.f);

/// The reference for a bundled plan: its pattern is loaded from the .lace
/// sources the bundle carries, with the bundle's parameters.
Expected<ReferenceOutputs> referenceForBundle(const BundledPlan &bundled,
                                              const AttentionInputs &inputs,
                                              float scale = 0.f);

/// How far a kernel's outputs are from the reference.
struct Agreement {
  double outError = 0; ///< ||o - ref|| / ||ref|| (Frobenius)
  double lseError = 0; ///< the same over rows with a live key
  std::int64_t nonFinite = 0;     ///< NaN/inf in O, NaN in LSE (unwritten too)
  std::int64_t deadRowErrors = 0; ///< LSE -inf where the reference is not, or back
  /// Empty when every check holds under `tolerance`, else what failed.
  std::string failure;
};

Agreement compareWithReference(const ReferenceOutputs &reference,
                               const AttentionInputs &inputs,
                               const AttentionOutputs &outputs,
                               double tolerance);

} // namespace lace

#endif // LACE_REFERENCE_H
