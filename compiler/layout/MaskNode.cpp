//===- MaskNode.cpp - Element semantics and builders of mask trees --------===//
#include "lace/Layout/MaskNode.h"

#include "lace/Support/RandomBlocks.h"
#include "lace_semantics.cuh"

#include <algorithm>
#include <cassert>

namespace lace::layout {

constexpr auto floorDiv = sem::floor_div<long long>;

namespace {
std::unique_ptr<MaskNode> make(MaskNode::Kind kind) {
  auto n = std::make_unique<MaskNode>();
  n->kind = kind;
  return n;
}

std::unique_ptr<MaskNode> binary(MaskNode::Kind kind,
                                 std::unique_ptr<MaskNode> a,
                                 std::unique_ptr<MaskNode> b) {
  auto n = make(kind);
  n->children.push_back(std::move(a));
  n->children.push_back(std::move(b));
  return n;
}

bool inGlobal(const MaskNode &n, std::int64_t t) {
  if (std::find(n.tokens.begin(), n.tokens.end(), t) != n.tokens.end())
    return true;
  for (const auto &[first, last] : n.ranges)
    if (first <= t && t < last)
      return true;
  return false;
}
} // namespace

bool MaskNode::live(std::int64_t q, std::int64_t k,
                    const SegmentIds *segments) const {
  switch (kind) {
  case Kind::Full:
    return true;
  case Kind::Empty:
    return false;
  case Kind::Causal:
    return sem::causal<long long>(q, k);
  case Kind::Local:
    if (granularity <= 1)
      return sem::local<long long>(q, k, before, after);
    return sem::local_blocks<long long>(q, k, before, after, granularity);
  case Kind::Dilated:
    return sem::dilated<long long>(q, k, before, after, dilation);
  case Kind::Strided:
    return sem::strided<long long>(q, k, length);
  case Kind::Fixed:
    return sem::fixed<long long>(q, k, length, summary);
  case Kind::Global:
    return inGlobal(*this, q) || inGlobal(*this, k);
  case Kind::Random: {
    const std::int64_t numBlocks = (seqK + granularity - 1) / granularity;
    const std::vector<std::int64_t> chosen =
        randomBlocks(seed, head, floorDiv(q, granularity), numBlocks, perRow);
    return std::binary_search(chosen.begin(), chosen.end(),
                              floorDiv(k, granularity));
  }
  case Kind::Prefix:
    return sem::prefix<long long>(q, k, length);
  case Kind::Segment: {
    if (!segments)
      return false;
    const auto &ids = segments->k.empty() ? segments->q : segments->k;
    return segments->q[static_cast<std::size_t>(q)] ==
           ids[static_cast<std::size_t>(k)];
  }
  case Kind::Predicate:
    return element(q, k);
  case Kind::Union:
    return children[0]->live(q, k, segments) ||
           children[1]->live(q, k, segments);
  case Kind::Intersect:
    return children[0]->live(q, k, segments) &&
           children[1]->live(q, k, segments);
  case Kind::Difference:
    return children[0]->live(q, k, segments) &&
           !children[1]->live(q, k, segments);
  case Kind::Complement:
    return !children[0]->live(q, k, segments);
  }
  return false;
}

std::unique_ptr<MaskNode> MaskNode::clone() const {
  auto n = std::make_unique<MaskNode>();
  n->kind = kind;
  n->before = before;
  n->after = after;
  n->granularity = granularity;
  n->dilation = dilation;
  n->length = length;
  n->summary = summary;
  n->perRow = perRow;
  n->seed = seed;
  n->head = head;
  n->seqK = seqK;
  n->tokens = tokens;
  n->ranges = ranges;
  n->element = element;
  n->range = range;
  n->program = program;
  for (const auto &c : children)
    n->children.push_back(c->clone());
  return n;
}

std::unique_ptr<MaskNode> MaskNode::full() { return make(Kind::Full); }
std::unique_ptr<MaskNode> MaskNode::empty() { return make(Kind::Empty); }
std::unique_ptr<MaskNode> MaskNode::causal() { return make(Kind::Causal); }

std::unique_ptr<MaskNode> MaskNode::local(std::int64_t before,
                                          std::int64_t after,
                                          std::int64_t granularity) {
  auto n = make(Kind::Local);
  n->before = before;
  n->after = after;
  n->granularity = granularity;
  return n;
}

std::unique_ptr<MaskNode> MaskNode::dilated(std::int64_t before,
                                            std::int64_t after,
                                            std::int64_t dilation) {
  auto n = make(Kind::Dilated);
  n->before = before;
  n->after = after;
  n->dilation = dilation;
  return n;
}

std::unique_ptr<MaskNode> MaskNode::strided(std::int64_t stride) {
  auto n = make(Kind::Strided);
  n->length = stride;
  return n;
}

std::unique_ptr<MaskNode> MaskNode::fixed(std::int64_t stride,
                                          std::int64_t summary) {
  auto n = make(Kind::Fixed);
  n->length = stride;
  n->summary = summary;
  return n;
}

std::unique_ptr<MaskNode>
MaskNode::global(std::vector<std::int64_t> tokens,
                 std::vector<std::pair<std::int64_t, std::int64_t>> ranges) {
  auto n = make(Kind::Global);
  n->tokens = std::move(tokens);
  n->ranges = std::move(ranges);
  return n;
}

std::unique_ptr<MaskNode>
MaskNode::random(std::int64_t perRow, std::int64_t granularity,
                 std::uint64_t seed, std::int64_t head, std::int64_t seqK) {
  auto n = make(Kind::Random);
  n->perRow = perRow;
  n->granularity = granularity;
  n->seed = seed;
  n->head = head;
  n->seqK = seqK;
  return n;
}

std::unique_ptr<MaskNode> MaskNode::prefix(std::int64_t length) {
  auto n = make(Kind::Prefix);
  n->length = length;
  return n;
}

std::unique_ptr<MaskNode> MaskNode::segment() { return make(Kind::Segment); }

std::unique_ptr<MaskNode>
MaskNode::predicate(std::function<bool(std::int64_t, std::int64_t)> element,
                    std::function<Tri(Interval, Interval)> range) {
  assert(element && "a predicate needs an element function");
  auto n = make(Kind::Predicate);
  n->element = std::move(element);
  n->range = std::move(range);
  return n;
}

std::unique_ptr<MaskNode> MaskNode::unite(std::unique_ptr<MaskNode> a,
                                          std::unique_ptr<MaskNode> b) {
  return binary(Kind::Union, std::move(a), std::move(b));
}
std::unique_ptr<MaskNode> MaskNode::intersect(std::unique_ptr<MaskNode> a,
                                              std::unique_ptr<MaskNode> b) {
  return binary(Kind::Intersect, std::move(a), std::move(b));
}
std::unique_ptr<MaskNode> MaskNode::difference(std::unique_ptr<MaskNode> a,
                                               std::unique_ptr<MaskNode> b) {
  return binary(Kind::Difference, std::move(a), std::move(b));
}
std::unique_ptr<MaskNode> MaskNode::complement(std::unique_ptr<MaskNode> a) {
  auto n = make(Kind::Complement);
  n->children.push_back(std::move(a));
  return n;
}

} // namespace lace::layout
