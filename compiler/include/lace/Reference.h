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
#include <memory>
#include <string>
#include <vector>

namespace lace {
namespace frontend {
class Instance;
class SourceManager;
struct Pattern;
} // namespace frontend

struct ReferenceOutputs {
  std::vector<double> o;   ///< [b, seq_q, h, d]
  std::vector<double> lse; ///< [b, h, seq_q], natural log
};

/// dQ [b, seq_q, h, d], dK and dV [b, seq_k, kv_h, d] in float64.
struct ReferenceGradients {
  std::vector<double> dq, dk, dv;
};

/// The inputs widened to float64, the form the reference computes on (a
/// finite-difference check perturbs these).
struct ReferenceProblem {
  ProblemShape shape; ///< resolved
  std::int64_t headDim = 0;
  double scale = 0;
  std::vector<double> q, k, v;

  /// `scale` 0 means 1/sqrt(head_dim), as in Kernel::forward.
  static ReferenceProblem of(const AttentionInputs &inputs, float scale = 0.f);
  /// Element offset of query row (b, i, h) in q, o and dO.
  std::size_t queryOffset(std::int64_t b, std::int64_t i,
                          std::int64_t h) const {
    return static_cast<std::size_t>(((b * shape.seqQ + i) * shape.heads + h) *
                                    headDim);
  }
  /// Element offset of key row (b, j, kv head) in k and v.
  std::size_t keyOffset(std::int64_t b, std::int64_t j, std::int64_t h) const {
    return static_cast<std::size_t>(((b * shape.seqK + j) * shape.kvHeads + h) *
                                    headDim);
  }
  const double *qRow(std::int64_t b, std::int64_t i, std::int64_t h) const {
    return &q[queryOffset(b, i, h)];
  }
  const double *kRow(std::int64_t b, std::int64_t j, std::int64_t h) const {
    return &k[keyOffset(b, j, h)];
  }
  const double *vRow(std::int64_t b, std::int64_t j, std::int64_t h) const {
    return &v[keyOffset(b, j, h)];
  }
};

/// 16-bit elements as float64.
std::vector<double> widenElements(DType dtype,
                                  const std::vector<std::uint16_t> &elements);

/// `scale` 0 means 1/sqrt(head_dim), as in Kernel::forward.
ReferenceOutputs referenceAttention(const frontend::Instance &pattern,
                                    const AttentionInputs &inputs,
                                    float scale = 0.f);
ReferenceOutputs referenceAttention(const frontend::Instance &pattern,
                                    const ReferenceProblem &problem);

/// The analytic gradients of referenceAttention for the upstream gradient
/// `dout` ([b, seq_q, h, d]): with P the probabilities, D = rowsum(dO * O),
/// dS = P * (dO V^T - D) * score'(S) (the interpreter's exact derivative of
/// the score), dQ = scale dS K, dK = scale dS^T Q, dV = P^T dO, summed over
/// the query heads of a GQA group. Rows without a live key contribute 0.
ReferenceGradients referenceAttentionBackward(const frontend::Instance &pattern,
                                              const ReferenceProblem &problem,
                                              const std::vector<double> &dout);

/// The reference for a checked `pattern` (its program alive) with these
/// parameter overrides and the inputs' segment ids; a failed instantiation
/// comes back with its diagnostics rendered through `sources`.
Expected<ReferenceOutputs>
referenceFor(const frontend::Pattern &pattern,
             const frontend::SourceManager &sources,
             const std::vector<std::pair<std::string, std::string>> &params,
             const AttentionInputs &inputs, float scale = 0.f);

/// The reference gradients, as referenceFor.
Expected<ReferenceGradients> referenceBackwardFor(
    const frontend::Pattern &pattern, const frontend::SourceManager &sources,
    const std::vector<std::pair<std::string, std::string>> &params,
    const AttentionInputs &inputs, const std::vector<std::uint16_t> &dout,
    float scale = 0.f);

/// The interpreter's instance of `pattern` at the inputs' shape with their
/// segment ids and these overrides: what referenceFor evaluates.
Expected<std::unique_ptr<frontend::Instance>> referenceInstance(
    const frontend::Pattern &pattern, const frontend::SourceManager &sources,
    const std::vector<std::pair<std::string, std::string>> &params,
    const AttentionInputs &inputs);

/// The reference for a bundled plan: its pattern is loaded from the .lace
/// sources the bundle carries, with the bundle's parameters.
Expected<ReferenceOutputs> referenceForBundle(const BundledPlan &bundled,
                                              const AttentionInputs &inputs,
                                              float scale = 0.f);
Expected<ReferenceGradients> referenceBackwardForBundle(
    const BundledPlan &bundled, const AttentionInputs &inputs,
    const std::vector<std::uint16_t> &dout, float scale = 0.f);

/// How far a kernel's outputs are from the reference.
struct Agreement {
  double outError = 0;        ///< ||o - ref|| / ||ref|| (Frobenius)
  double lseError = 0;        ///< the same over rows with a live key
  std::int64_t nonFinite = 0; ///< NaN/inf in O, NaN in LSE (unwritten too)
  std::int64_t deadRowErrors =
      0; ///< LSE -inf where the reference is not, or back
  /// Empty when every check holds under `tolerance`, else what failed.
  std::string failure;
};

Agreement compareWithReference(const ReferenceOutputs &reference,
                               const AttentionInputs &inputs,
                               const AttentionOutputs &outputs,
                               double tolerance);

/// How far a kernel's gradients are from the reference, per tensor.
struct GradientAgreement {
  double dqError = 0, dkError = 0, dvError = 0; ///< relative (Frobenius)
  std::int64_t nonFinite = 0; ///< NaN/inf (unwritten included)
  /// Empty when every error is under `tolerance` and nothing is NaN.
  std::string failure;
};

GradientAgreement compareGradients(const ReferenceGradients &reference,
                                   const AttentionInputs &inputs,
                                   const AttentionGradients &gradients,
                                   double tolerance);

} // namespace lace

#endif // LACE_REFERENCE_H
