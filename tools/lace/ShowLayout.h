//===- ShowLayout.h - the block-layout half of `lace show` ----------------===//
#ifndef LACE_TOOLS_LACE_SHOWLAYOUT_H
#define LACE_TOOLS_LACE_SHOWLAYOUT_H

#include "LayoutOptions.h"
#include "Session.h"

#include <span>
#include <string>
#include <vector>

namespace lace::tool {

struct LayoutShowOptions {
  LayoutOptions shape; ///< seq/heads are filled from show's own options
  std::string svgPath; ///< empty: no SVG
  /// Packed documents (--segments or --documents): the exact layout of a
  /// segment pattern is classified against these ids.
  std::vector<std::int64_t> segments;
};

/// Consumes --block-m, --block-n, --batch, --kv-heads, --ctas or --svg FILE
/// at args[i].
bool parseLayoutShowOption(std::span<const std::string> args, std::size_t &i,
                           LayoutShowOptions &options, std::string &error);

/// Runs the layout pipeline for the pattern and prints, per distinct head
/// layout, the tiles by kind, density, computed FLOPs against dense, work
/// per row, the field of view and an ASCII picture; then the schedule's
/// imbalance; writes the SVG picture when asked. `selected` is a pattern of
/// `session`'s program. Returns the exit status.
int showLayout(Session &session, const frontend::Pattern &selected,
               const PatternOptions &pattern, const LayoutShowOptions &options);

} // namespace lace::tool

#endif // LACE_TOOLS_LACE_SHOWLAYOUT_H
