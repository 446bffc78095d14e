//===- MaskText.h - A mask tree as one line of text, and back -------------===//
//
// A plan carries the mask tree of each head layout whose classification
// waits for run-time data (segment ids), so that the runtime, which has no
// MLIR, classifies exactly what the compiler would have. The text is a
// prefix form, one node per parenthesis:
//
//   (intersect segment (union (local 256 0 1) (global [0 5] [100 200])))
//
// Leaves: full, empty, causal, segment; (local before after granularity),
// (dilated before after dilation), (strided length), (fixed length summary),
// (global [tokens] [lo hi ...]), (random per_row granularity seed head
// seq_k), (prefix length), (predicate result [registers] [code is_bool dst a
// b c ...]). Combinators: union, intersect, difference (2 children),
// complement (1).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_MASKTEXT_H
#define LACE_LAYOUT_MASKTEXT_H

#include "lace/Layout/MaskNode.h"

#include <memory>
#include <string>
#include <string_view>

namespace lace::layout {

/// The text of `mask`; empty when a Predicate node has no program (a
/// hand-built std::function cannot be written down).
std::string printMask(const MaskNode &mask);

struct ParsedMask {
  std::unique_ptr<MaskNode> mask; ///< null on error
  std::string error;              ///< "offset N: what is wrong"
};
/// Reads printMask's text back; every field is checked (a damaged plan is
/// an error, never a crash).
ParsedMask parseMask(std::string_view text);

/// Does `mask` contain a Segment node?
bool hasSegment(const MaskNode &mask);

} // namespace lace::layout

#endif // LACE_LAYOUT_MASKTEXT_H
