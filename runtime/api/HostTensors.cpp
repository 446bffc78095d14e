//===- HostTensors.cpp - Attention inputs and outputs in host memory ------===//
#include "lace/Runtime/HostTensors.h"

#include "lace_float16.cuh"

#include <algorithm>
#include <limits>
#include <random>

namespace lace {

float elementToFloat(DType dtype, std::uint16_t bits) {
  return dtype == DType::F16 ? f16::halfToFloat(bits)
                             : f16::bfloat16ToFloat(bits);
}

std::uint16_t floatToElement(DType dtype, float value) {
  return dtype == DType::F16 ? f16::floatToHalf(value)
                             : f16::floatToBfloat16(value);
}

namespace {
/// n uniform values in [-range, range) rounded to `dtype`; integers scaled,
/// since std::uniform_real_distribution is not the same on every standard
/// library.
std::vector<std::uint16_t> uniformElements(std::mt19937_64 &rng, DType dtype,
                                           std::int64_t n, double range) {
  std::vector<std::uint16_t> t(static_cast<std::size_t>(n));
  for (std::uint16_t &x : t)
    x = floatToElement(
        dtype, static_cast<float>(static_cast<double>(rng() >> 11) *
                                      (2.0 * range / 9007199254740992.0) -
                                  range));
  return t;
}
} // namespace

AttentionInputs randomInputs(const ProblemShape &requested, DType dtype,
                             int headDim, std::uint64_t seed, bool segments) {
  AttentionInputs in;
  in.dtype = dtype;
  in.shape = requested.resolved();
  in.headDim = headDim;
  const ProblemShape &s = in.shape;
  std::mt19937_64 rng(seed);
  in.q = uniformElements(rng, dtype, s.batch * s.seqQ * s.heads * headDim, 2.0);
  in.k =
      uniformElements(rng, dtype, s.batch * s.seqK * s.kvHeads * headDim, 2.0);
  in.v =
      uniformElements(rng, dtype, s.batch * s.seqK * s.kvHeads * headDim, 2.0);
  if (segments) {
    auto documents = [&](std::vector<std::int32_t> &ids, std::int64_t n) {
      const std::uint64_t longest =
          static_cast<std::uint64_t>(std::max<std::int64_t>(1, n / 3));
      std::int32_t id = 0;
      while (static_cast<std::int64_t>(ids.size()) < n) {
        std::uint64_t length = 1 + rng() % longest;
        for (; length > 0 && static_cast<std::int64_t>(ids.size()) < n;
             --length)
          ids.push_back(id);
        ++id;
      }
    };
    documents(in.segmentQ, s.seqQ);
    if (s.seqK != s.seqQ)
      documents(in.segmentK, s.seqK);
  }
  return in;
}

std::vector<std::uint16_t> randomOutputGradient(const AttentionInputs &in,
                                                std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x6a09e667f3bcc908ULL);
  const ProblemShape &s = in.shape;
  return uniformElements(rng, in.dtype, s.batch * s.seqQ * s.heads * in.headDim,
                         1.0);
}

AttentionGradients AttentionGradients::poisoned(const AttentionInputs &in) {
  const ProblemShape &s = in.shape;
  AttentionGradients g;
  const std::size_t queries =
      static_cast<std::size_t>(s.batch * s.seqQ * s.heads * in.headDim);
  const std::size_t keys =
      static_cast<std::size_t>(s.batch * s.seqK * s.kvHeads * in.headDim);
  g.dq.assign(queries, 0xffff); // NaN in fp16 and bf16
  g.dk.assign(keys, 0xffff);
  g.dv.assign(keys, 0xffff);
  return g;
}

double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

AttentionOutputs AttentionOutputs::poisoned(const AttentionInputs &in) {
  const ProblemShape &s = in.shape;
  AttentionOutputs out;
  out.o.assign(
      static_cast<std::size_t>(s.batch * s.seqQ * s.heads * in.headDim),
      0xffff); // NaN in fp16 and bf16
  out.lse.assign(static_cast<std::size_t>(s.batch * s.heads * s.seqQ),
                 std::numeric_limits<float>::quiet_NaN());
  return out;
}

} // namespace lace
