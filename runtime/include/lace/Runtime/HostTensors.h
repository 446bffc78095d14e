//===- HostTensors.h - Attention inputs and outputs in host memory --------===//
//
// For tools, tests and checks that start from host data: seeded random
// inputs, outputs poisoned with NaN, and Runtime::runOnHost, which runs a
// kernel on them whatever the backend (device copies for CUDA).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_HOSTTENSORS_H
#define LACE_RUNTIME_HOSTTENSORS_H

#include "lace/Runtime/KernelPlan.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace lace {

/// fp16 / bf16 conversions (round to nearest even) for a kernel's dtype.
float elementToFloat(DType dtype, std::uint16_t bits);
std::uint16_t floatToElement(DType dtype, float value);

/// Contiguous 16-bit q [b, seq_q, h, d], k and v [b, seq_k, kv_h, d].
struct AttentionInputs {
  DType dtype = DType::F16;
  ProblemShape shape; ///< resolved
  int headDim = 0;
  std::vector<std::uint16_t> q, k, v;
  /// Segment ids per query and key token (patterns with `segment`); empty
  /// otherwise, segmentK empty when it equals segmentQ.
  std::vector<std::int32_t> segmentQ, segmentK;
};

/// Uniform values in [-2, 2) rounded to the element type, from `seed` (the
/// same seed gives the same tensors on every machine). With `segments`,
/// also packed documents: non-decreasing ids, documents of 1 to seq/3
/// tokens, the keys' split drawn separately when seq_k != seq_q.
AttentionInputs randomInputs(const ProblemShape &shape, DType dtype,
                             int headDim, std::uint64_t seed,
                             bool segments = false);

/// O [b, seq_q, h, d] and LSE [b, h, seq_q], created poisoned (NaN) so that
/// anything a kernel leaves unwritten shows.
struct AttentionOutputs {
  std::vector<std::uint16_t> o;
  std::vector<float> lse;
  static AttentionOutputs poisoned(const AttentionInputs &inputs);
};

/// dQ [b, seq_q, h, d], dK and dV [b, seq_k, kv_h, d], created poisoned.
struct AttentionGradients {
  std::vector<std::uint16_t> dq, dk, dv;
  static AttentionGradients poisoned(const AttentionInputs &inputs);
};

/// Uniform values in [-1, 1) for dL/dO of `inputs`' shape, from `seed`.
std::vector<std::uint16_t> randomOutputGradient(const AttentionInputs &inputs,
                                                std::uint64_t seed);

/// What Runtime::backwardOnHost returns: the forward's outputs, the
/// gradients of the last run and the wall time of each backward.
/// For a pattern with segments: the exact layout built from the inputs' ids
/// (Kernel::documents) that the runs used.
struct DocumentStats {
  double buildSeconds = 0;
  std::int64_t computedTiles = 0; ///< over every head and batch entry
  std::int64_t supersetTiles = 0; ///< the plan's layout without the ids
  double computedFlops = 0;       ///< KernelPlan::computedFlops of it
  /// Its schedule: max / mean CTA load after and before splitting rows.
  double imbalance = 1, imbalanceBeforeSplit = 1;
  std::int64_t splitRows = 0;
};

struct HostBackward {
  AttentionOutputs outputs;
  AttentionGradients gradients;
  std::vector<double> seconds;
  std::optional<DocumentStats> documents;
};

/// What Runtime::runOnHost returns: the outputs of the last run and the
/// wall time of each (launch to completion, copies excluded).
struct HostRun {
  AttentionOutputs outputs;
  std::vector<double> seconds;
  std::optional<DocumentStats> documents;
};

/// The median of timings (the mean of the middle two for an even count;
/// 0 for none).
double median(std::vector<double> values);

} // namespace lace

#endif // LACE_RUNTIME_HOSTTENSORS_H
