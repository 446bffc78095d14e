//===- Reference.cpp - Dense float64 attention on the interpreter ---------===//
#include "lace/Reference.h"

#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace lace {

std::vector<double> widenElements(DType dtype,
                                  const std::vector<std::uint16_t> &t) {
  std::vector<double> w(t.size());
  for (std::size_t i = 0; i < t.size(); ++i)
    w[i] = elementToFloat(dtype, t[i]);
  return w;
}

namespace {

/// One query row's softmax: which keys are live, the raw scaled scores
/// (before the score modifier) and the probabilities P (0 off the mask).
struct RowSoftmax {
  std::vector<char> live;
  std::vector<double> raw, prob;
  double lse = 0; ///< -inf for a row without a live key

  void compute(const frontend::Instance &pattern, const ReferenceProblem &pr,
               std::int64_t b, std::int64_t h, std::int64_t i) {
    const ProblemShape &s = pr.shape;
    const std::int64_t d = pr.headDim, kvh = h / (s.heads / s.kvHeads);
    live.assign(static_cast<std::size_t>(s.seqK), 0);
    raw.assign(static_cast<std::size_t>(s.seqK), 0.0);
    prob.assign(static_cast<std::size_t>(s.seqK), 0.0);
    std::vector<double> logits(static_cast<std::size_t>(s.seqK));
    const double *qi = pr.qRow(b, i, h);
    double maxLogit = -std::numeric_limits<double>::infinity();
    for (std::int64_t j = 0; j < s.seqK; ++j) {
      live[j] = pattern.mask(b, h, i, j);
      if (!live[j])
        continue;
      const double *kj = pr.kRow(b, j, kvh);
      double dot = 0;
      for (std::int64_t x = 0; x < d; ++x)
        dot += qi[x] * kj[x];
      raw[j] = dot * pr.scale;
      logits[j] = pattern.hasScore()
                      ? pattern.score(static_cast<float>(raw[j]), b, h, i, j)
                      : raw[j];
      maxLogit = std::max(maxLogit, logits[j]);
    }
    if (maxLogit == -std::numeric_limits<double>::infinity()) {
      lse = maxLogit;
      return;
    }
    double sum = 0;
    for (std::int64_t j = 0; j < s.seqK; ++j)
      if (live[j]) {
        prob[j] = std::exp(logits[j] - maxLogit);
        sum += prob[j];
      }
    for (double &p : prob)
      p /= sum;
    lse = maxLogit + std::log(sum);
  }
};

} // namespace

ReferenceProblem ReferenceProblem::of(const AttentionInputs &in, float scale) {
  ReferenceProblem pr;
  pr.shape = in.shape;
  pr.headDim = in.headDim;
  pr.scale =
      scale != 0.f ? scale : 1.0 / std::sqrt(static_cast<double>(in.headDim));
  pr.q = widenElements(in.dtype, in.q);
  pr.k = widenElements(in.dtype, in.k);
  pr.v = widenElements(in.dtype, in.v);
  return pr;
}

ReferenceOutputs referenceAttention(const frontend::Instance &pattern,
                                    const ReferenceProblem &pr) {
  const ProblemShape &s = pr.shape;
  const std::int64_t d = pr.headDim;
  ReferenceOutputs out;
  out.o.assign(static_cast<std::size_t>(s.batch * s.seqQ * s.heads * d), 0.0);
  out.lse.assign(static_cast<std::size_t>(s.batch * s.heads * s.seqQ), 0.0);
  RowSoftmax row;
  for (std::int64_t b = 0; b < s.batch; ++b)
    for (std::int64_t h = 0; h < s.heads; ++h) {
      const std::int64_t kvh = h / (s.heads / s.kvHeads);
      for (std::int64_t i = 0; i < s.seqQ; ++i) {
        row.compute(pattern, pr, b, h, i);
        out.lse[static_cast<std::size_t>((b * s.heads + h) * s.seqQ + i)] =
            row.lse;
        double *oi = &out.o[pr.queryOffset(b, i, h)];
        for (std::int64_t j = 0; j < s.seqK; ++j)
          if (row.prob[j] != 0) {
            const double *vj = pr.vRow(b, j, kvh);
            for (std::int64_t x = 0; x < d; ++x)
              oi[x] += row.prob[j] * vj[x];
          }
      }
    }
  return out;
}

ReferenceOutputs referenceAttention(const frontend::Instance &pattern,
                                    const AttentionInputs &in, float scale) {
  return referenceAttention(pattern, ReferenceProblem::of(in, scale));
}

ReferenceGradients referenceAttentionBackward(const frontend::Instance &pattern,
                                              const ReferenceProblem &pr,
                                              const std::vector<double> &dout) {
  const ProblemShape &s = pr.shape;
  const std::int64_t d = pr.headDim;
  ReferenceGradients g;
  g.dq.assign(pr.q.size(), 0.0);
  g.dk.assign(pr.k.size(), 0.0);
  g.dv.assign(pr.v.size(), 0.0);
  RowSoftmax row;
  std::vector<double> oi(static_cast<std::size_t>(d));
  for (std::int64_t b = 0; b < s.batch; ++b)
    for (std::int64_t h = 0; h < s.heads; ++h) {
      const std::int64_t kvh = h / (s.heads / s.kvHeads);
      for (std::int64_t i = 0; i < s.seqQ; ++i) {
        row.compute(pattern, pr, b, h, i);
        if (std::isinf(row.lse))
          continue; // no live key: O = 0 does not depend on anything
        const std::size_t at = pr.queryOffset(b, i, h);
        const double *doi = &dout[at];
        const double *qi = &pr.q[at];
        // D = dO . O, with O recomputed in float64.
        std::fill(oi.begin(), oi.end(), 0.0);
        for (std::int64_t j = 0; j < s.seqK; ++j)
          if (row.prob[j] != 0)
            for (std::int64_t x = 0; x < d; ++x)
              oi[x] += row.prob[j] * pr.vRow(b, j, kvh)[x];
        double delta = 0;
        for (std::int64_t x = 0; x < d; ++x)
          delta += doi[x] * oi[x];
        for (std::int64_t j = 0; j < s.seqK; ++j) {
          if (!row.live[j])
            continue;
          const double p = row.prob[j];
          const double *vj = pr.vRow(b, j, kvh);
          const double *kj = pr.kRow(b, j, kvh);
          const std::size_t kAt = pr.keyOffset(b, j, kvh);
          double dp = 0;
          for (std::int64_t x = 0; x < d; ++x) {
            dp += doi[x] * vj[x];
            g.dv[kAt + x] += p * doi[x];
          }
          const double slope = pattern.scoreDerivative(
              static_cast<float>(row.raw[j]), b, h, i, j);
          const double ds = p * (dp - delta) * slope * pr.scale;
          for (std::int64_t x = 0; x < d; ++x) {
            g.dq[at + x] += ds * kj[x];
            g.dk[kAt + x] += ds * qi[x];
          }
        }
      }
    }
  return g;
}

Expected<std::unique_ptr<frontend::Instance>> referenceInstance(
    const frontend::Pattern &pattern, const frontend::SourceManager &sources,
    const std::vector<std::pair<std::string, std::string>> &params,
    const AttentionInputs &inputs) {
  std::vector<frontend::ParamOverride> overrides;
  for (const auto &[name, value] : params)
    overrides.push_back({name, value});
  frontend::SegmentIds segments;
  segments.q.assign(inputs.segmentQ.begin(), inputs.segmentQ.end());
  segments.k.assign(inputs.segmentK.begin(), inputs.segmentK.end());
  const ProblemShape &s = inputs.shape;
  frontend::DiagnosticEngine diags(sources);
  std::unique_ptr<frontend::Instance> instance = frontend::instantiate(
      pattern, overrides, {s.batch, s.heads, s.seqQ, s.seqK}, diags,
      segments.q.empty() ? nullptr : &segments);
  if (!instance)
    return Error("instantiating " + pattern.name + " failed",
                 diags.renderAll());
  return instance;
}

Expected<ReferenceOutputs>
referenceFor(const frontend::Pattern &pattern,
             const frontend::SourceManager &sources,
             const std::vector<std::pair<std::string, std::string>> &params,
             const AttentionInputs &inputs, float scale) {
  auto instance = referenceInstance(pattern, sources, params, inputs);
  if (!instance)
    return std::move(instance).error();
  return referenceAttention(**instance, inputs, scale);
}

Expected<ReferenceGradients> referenceBackwardFor(
    const frontend::Pattern &pattern, const frontend::SourceManager &sources,
    const std::vector<std::pair<std::string, std::string>> &params,
    const AttentionInputs &inputs, const std::vector<std::uint16_t> &dout,
    float scale) {
  auto instance = referenceInstance(pattern, sources, params, inputs);
  if (!instance)
    return std::move(instance).error();
  return referenceAttentionBackward(**instance,
                                    ReferenceProblem::of(inputs, scale),
                                    widenElements(inputs.dtype, dout));
}

namespace {
/// Loads the bundle's .lace sources and runs `use` on its pattern and
/// parameters.
template <class Result, class Use>
Expected<Result> withBundledPattern(const BundledPlan &bundled, Use use) {
  if (bundled.sources.empty())
    return Error("the bundle of " + bundled.plan.pattern +
                 " carries no .lace sources: no reference");
  frontend::MemoryFileProvider memory;
  for (const BundleSource &source : bundled.sources)
    memory.add(source.path, source.text);
  frontend::SourceManager sources(memory);
  frontend::DiagnosticEngine diags(sources);
  frontend::Program program =
      frontend::loadProgram(sources, bundled.sources.front().path, diags);
  const frontend::Pattern *pattern = program.find(bundled.plan.pattern);
  if (!program.ok || !pattern)
    return Error("cannot load the bundled pattern " + bundled.plan.pattern,
                 diags.renderAll());
  return use(*pattern, sources);
}
} // namespace

Expected<ReferenceOutputs> referenceForBundle(const BundledPlan &bundled,
                                              const AttentionInputs &inputs,
                                              float scale) {
  return withBundledPattern<ReferenceOutputs>(
      bundled, [&](const frontend::Pattern &pattern,
                   const frontend::SourceManager &sources) {
        return referenceFor(pattern, sources, bundled.params, inputs, scale);
      });
}

Expected<ReferenceGradients> referenceBackwardForBundle(
    const BundledPlan &bundled, const AttentionInputs &inputs,
    const std::vector<std::uint16_t> &dout, float scale) {
  return withBundledPattern<ReferenceGradients>(
      bundled, [&](const frontend::Pattern &pattern,
                   const frontend::SourceManager &sources) {
        return referenceBackwardFor(pattern, sources, bundled.params, inputs,
                                    dout, scale);
      });
}

Agreement compareWithReference(const ReferenceOutputs &ref,
                               const AttentionInputs &in,
                               const AttentionOutputs &outputs,
                               double tolerance) {
  const std::vector<std::uint16_t> &o = outputs.o;
  const std::vector<float> &lse = outputs.lse;
  Agreement a;
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < ref.o.size(); ++i) {
    const double got = elementToFloat(in.dtype, o[i]);
    if (!std::isfinite(got)) {
      a.nonFinite++;
      continue;
    }
    diff += (got - ref.o[i]) * (got - ref.o[i]);
    norm += ref.o[i] * ref.o[i];
  }
  a.outError = norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
  double lseDiff = 0, lseNorm = 0;
  for (std::size_t i = 0; i < ref.lse.size(); ++i) {
    const double want = ref.lse[i], got = lse[i];
    if (std::isnan(got)) {
      a.nonFinite++;
      continue;
    }
    const bool wantDead = std::isinf(want),
               gotDead = std::isinf(got) && got < 0;
    if (wantDead != gotDead) {
      a.deadRowErrors++;
      continue;
    }
    if (!wantDead) {
      lseDiff += (got - want) * (got - want);
      lseNorm += want * want;
    }
  }
  a.lseError = lseNorm > 0 ? std::sqrt(lseDiff / lseNorm) : std::sqrt(lseDiff);
  std::ostringstream why;
  if (a.nonFinite)
    why << a.nonFinite << " NaN/inf or unwritten outputs; ";
  if (a.deadRowErrors)
    why << a.deadRowErrors
        << " rows disagree on having no live key (LSE -inf); ";
  if (!(a.outError < tolerance))
    why << "output error " << a.outError << " >= " << tolerance << "; ";
  if (!(a.lseError < tolerance))
    why << "LSE error " << a.lseError << " >= " << tolerance << "; ";
  a.failure = why.str();
  if (!a.failure.empty())
    a.failure.resize(a.failure.size() - 2);
  return a;
}

namespace {
/// ||got - want|| / ||want||, counting non-finite values of `got`.
double relativeError(DType dtype, const std::vector<std::uint16_t> &got,
                     const std::vector<double> &want, std::int64_t &nonFinite) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double x = elementToFloat(dtype, got[i]);
    if (!std::isfinite(x)) {
      nonFinite++;
      continue;
    }
    diff += (x - want[i]) * (x - want[i]);
    norm += want[i] * want[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}
} // namespace

GradientAgreement compareGradients(const ReferenceGradients &reference,
                                   const AttentionInputs &in,
                                   const AttentionGradients &gradients,
                                   double tolerance) {
  GradientAgreement a;
  a.dqError = relativeError(in.dtype, gradients.dq, reference.dq, a.nonFinite);
  a.dkError = relativeError(in.dtype, gradients.dk, reference.dk, a.nonFinite);
  a.dvError = relativeError(in.dtype, gradients.dv, reference.dv, a.nonFinite);
  std::ostringstream why;
  if (a.nonFinite)
    why << a.nonFinite << " NaN/inf or unwritten gradients; ";
  for (auto [name, error] :
       {std::pair{"dq", a.dqError}, std::pair{"dk", a.dkError},
        std::pair{"dv", a.dvError}})
    if (!(error < tolerance))
      why << name << " error " << error << " >= " << tolerance << "; ";
  a.failure = why.str();
  if (!a.failure.empty())
    a.failure.resize(a.failure.size() - 2);
  return a;
}

} // namespace lace
