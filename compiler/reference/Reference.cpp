//===- Reference.cpp - Dense float64 attention on the interpreter ---------===//
#include "lace/Reference.h"

#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace lace {

ReferenceOutputs referenceAttention(const frontend::Instance &pattern,
                                    const AttentionInputs &in, float scale) {
  const ProblemShape &s = in.shape;
  const std::int64_t d = in.headDim;
  const double softmaxScale =
      scale != 0.f ? scale : 1.0 / std::sqrt(static_cast<double>(d));
  ReferenceOutputs out;
  out.o.assign(static_cast<std::size_t>(s.batch * s.seqQ * s.heads * d), 0.0);
  out.lse.assign(static_cast<std::size_t>(s.batch * s.heads * s.seqQ), 0.0);
  auto widen = [&](const std::vector<std::uint16_t> &t) {
    std::vector<double> w(t.size());
    for (std::size_t i = 0; i < t.size(); ++i)
      w[i] = elementToFloat(in.dtype, t[i]);
    return w;
  };
  const std::vector<double> q = widen(in.q), k = widen(in.k), v = widen(in.v);
  std::vector<double> logits(static_cast<std::size_t>(s.seqK));
  std::vector<char> live(static_cast<std::size_t>(s.seqK));
  const std::int64_t group = s.heads / s.kvHeads;
  for (std::int64_t b = 0; b < s.batch; ++b)
    for (std::int64_t h = 0; h < s.heads; ++h) {
      const std::int64_t kvh = h / group;
      for (std::int64_t i = 0; i < s.seqQ; ++i) {
        const double *qi = &q[static_cast<std::size_t>(
            ((b * s.seqQ + i) * s.heads + h) * d)];
        double maxLogit = -std::numeric_limits<double>::infinity();
        for (std::int64_t j = 0; j < s.seqK; ++j) {
          live[j] = pattern.mask(b, h, i, j);
          if (!live[j])
            continue;
          const double *kj = &k[static_cast<std::size_t>(
              ((b * s.seqK + j) * s.kvHeads + kvh) * d)];
          double dot = 0;
          for (std::int64_t x = 0; x < d; ++x)
            dot += qi[x] * kj[x];
          double logit = dot * softmaxScale;
          if (pattern.hasScore())
            logit = pattern.score(static_cast<float>(logit), b, h, i, j);
          logits[j] = logit;
          maxLogit = std::max(maxLogit, logit);
        }
        double *oi = &out.o[static_cast<std::size_t>(
            ((b * s.seqQ + i) * s.heads + h) * d)];
        double &lse = out.lse[static_cast<std::size_t>((b * s.heads + h) * s.seqQ + i)];
        if (maxLogit == -std::numeric_limits<double>::infinity()) {
          lse = -std::numeric_limits<double>::infinity();
          continue;
        }
        double sum = 0;
        for (std::int64_t j = 0; j < s.seqK; ++j) {
          if (!live[j])
            continue;
          const double p = std::exp(logits[j] - maxLogit);
          sum += p;
          const double *vj = &v[static_cast<std::size_t>(
              ((b * s.seqK + j) * s.kvHeads + kvh) * d)];
          for (std::int64_t x = 0; x < d; ++x)
            oi[x] += p * vj[x];
        }
        for (std::int64_t x = 0; x < d; ++x)
          oi[x] /= sum;
        lse = maxLogit + std::log(sum);
      }
    }
  return out;
}

Expected<ReferenceOutputs>
referenceFor(const frontend::Pattern &pattern,
             const frontend::SourceManager &sources,
             const std::vector<std::pair<std::string, std::string>> &params,
             const AttentionInputs &inputs, float scale) {
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
  return referenceAttention(*instance, inputs, scale);
}

Expected<ReferenceOutputs> referenceForBundle(const BundledPlan &bundled,
                                              const AttentionInputs &inputs,
                                              float scale) {
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
  return referenceFor(*pattern, sources, bundled.params, inputs, scale);
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
    const bool wantDead = std::isinf(want), gotDead = std::isinf(got) && got < 0;
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

} // namespace lace
