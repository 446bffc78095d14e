//===- MaskNode.h - A specialised mask for one head, as a tree ------------===//
//
// The input of the layout library: the mask of one (batch entry, head) with
// every parameter already bound to an integer. The MLIR passes build this
// tree from specialised `lace` IR; tests build it by hand. Its element
// semantics (`live`) match the frontend interpreter bit for bit
// (docs/language.md, "Mask primitives").
//
//   auto m = MaskNode::unite(MaskNode::local(256, 256),
//                            MaskNode::global({0}));
//   BlockLayout layout = classify(*m, {4096, 4096}, {128, 128});
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_MASKNODE_H
#define LACE_LAYOUT_MASKNODE_H

#include "lace/Support/SegmentIds.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace lace::layout {

/// One head of one batch entry: the mask's domain is [0, seqQ) x [0, seqK).
struct Shape {
  std::int64_t seqQ = 1;
  std::int64_t seqK = 1;
};

/// Tile sizes of the kernel (16..128 each; they may differ).
struct Tiles {
  std::int64_t blockM = 128; ///< queries per tile row
  std::int64_t blockN = 128; ///< keys per tile column
};

/// Empty: no in-range element live. Full: every in-range element live.
/// Partial: some but not all.
enum class BlockKind : std::uint8_t { Empty, Partial, Full };

/// Three-valued answer of a predicate's interval evaluator.
enum class Tri : std::uint8_t { False, True, Unknown };

/// A closed integer interval [lo, hi] (lo <= hi).
struct Interval {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
};

struct PredicateProgram;

/// Per-token segment ids (the frontend's type: `k` empty means "as q").
using SegmentIds = lace::SegmentIds;

struct MaskNode {
  enum class Kind : std::uint8_t {
    Full,
    Empty,
    Causal,     ///< k <= q
    Local,      ///< before, after, granularity (dilation: see Dilated)
    Dilated,    ///< before, after, dilation
    Strided,    ///< length (the stride)
    Fixed,      ///< length (the stride), summary
    Global,     ///< tokens, ranges
    Random,     ///< perRow, granularity, seed, head
    Prefix,     ///< length
    Segment,    ///< ids come from the SegmentIds given to live/classify
    Predicate,  ///< element, optional range
    Union,      ///< children[0] | children[1]
    Intersect,  ///< children[0] & children[1]
    Difference, ///< children[0] & ~children[1]
    Complement, ///< ~children[0]
  };

  Kind kind = Kind::Full;
  std::int64_t before = 0;      ///< Local, Dilated: >= 0
  std::int64_t after = 0;       ///< Local, Dilated: >= 0
  std::int64_t granularity = 1; ///< Local, Random: >= 1
  std::int64_t dilation = 1;    ///< Dilated: >= 1
  std::int64_t length = 1;      ///< Strided/Fixed stride (>= 1), Prefix length
  std::int64_t summary = 1;     ///< Fixed: >= 0
  std::int64_t perRow = 0;      ///< Random: >= 0
  std::uint64_t seed = 0;       ///< Random
  std::int64_t head = 0;        ///< Random: the generator's head input
  /// Random: the key length N = ceil(seqK / granularity) derives from.
  std::int64_t seqK = 1;
  std::vector<std::int64_t> tokens; ///< Global: single tokens
  /// Global: half-open token ranges [first, second).
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  std::vector<std::unique_ptr<MaskNode>> children;
  /// Predicate: the exact mask of one element (required).
  std::function<bool(std::int64_t q, std::int64_t k)> element;
  /// Predicate (optional): True/False when every element of the rectangle
  /// q x k has that value, Unknown otherwise (always sound to answer).
  std::function<Tri(Interval q, Interval k)> range;
  /// Predicate (optional): the program `element` and `range` run, when the
  /// node came from one (predicateNode); required to print the tree.
  std::shared_ptr<const PredicateProgram> program;

  /// Is element (q, k) live? `segments` is needed only by Segment nodes
  /// (null there means no element is live). Indices must lie in the shape.
  bool live(std::int64_t q, std::int64_t k,
            const SegmentIds *segments = nullptr) const;

  /// A deep copy (std::function members are copied).
  std::unique_ptr<MaskNode> clone() const;

  // Builders, one per kind; arguments as in the language.
  static std::unique_ptr<MaskNode> full();
  static std::unique_ptr<MaskNode> empty();
  static std::unique_ptr<MaskNode> causal();
  static std::unique_ptr<MaskNode> local(std::int64_t before,
                                         std::int64_t after = 0,
                                         std::int64_t granularity = 1);
  static std::unique_ptr<MaskNode>
  dilated(std::int64_t before, std::int64_t after, std::int64_t dilation);
  static std::unique_ptr<MaskNode> strided(std::int64_t stride);
  static std::unique_ptr<MaskNode> fixed(std::int64_t stride,
                                         std::int64_t summary = 1);
  static std::unique_ptr<MaskNode>
  global(std::vector<std::int64_t> tokens,
         std::vector<std::pair<std::int64_t, std::int64_t>> ranges = {});
  static std::unique_ptr<MaskNode> random(std::int64_t perRow,
                                          std::int64_t granularity,
                                          std::uint64_t seed, std::int64_t head,
                                          std::int64_t seqK);
  static std::unique_ptr<MaskNode> prefix(std::int64_t length);
  static std::unique_ptr<MaskNode> segment();
  static std::unique_ptr<MaskNode>
  predicate(std::function<bool(std::int64_t, std::int64_t)> element,
            std::function<Tri(Interval, Interval)> range = nullptr);
  static std::unique_ptr<MaskNode> unite(std::unique_ptr<MaskNode> a,
                                         std::unique_ptr<MaskNode> b);
  static std::unique_ptr<MaskNode> intersect(std::unique_ptr<MaskNode> a,
                                             std::unique_ptr<MaskNode> b);
  static std::unique_ptr<MaskNode> difference(std::unique_ptr<MaskNode> a,
                                              std::unique_ptr<MaskNode> b);
  static std::unique_ptr<MaskNode> complement(std::unique_ptr<MaskNode> a);
};

} // namespace lace::layout

#endif // LACE_LAYOUT_MASKNODE_H
