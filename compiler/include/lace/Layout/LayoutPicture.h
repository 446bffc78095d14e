//===- LayoutPicture.h - block layouts as SVG and ASCII pictures ----------===//
#ifndef LACE_LAYOUT_LAYOUTPICTURE_H
#define LACE_LAYOUT_LAYOUTPICTURE_H

#include "lace/Layout/BlockLayout.h"

#include <string>
#include <vector>

namespace lace::layout {

struct LayoutPanel {
  std::string title; ///< e.g. "heads 0-7"
  const BlockLayout *layout;
};

/// One panel per distinct head layout, side by side: full, partial and empty
/// tiles in distinct colours, axes labelled with k-tile and q-tile indices,
/// a legend. Grids larger than 256 tiles a side are drawn at one pixel per
/// tile.
std::string renderSvg(const std::vector<LayoutPanel> &panels);

/// '#' full, '+' partial, '.' empty; at most `maxWidth` characters a row
/// (larger grids are downsampled, a character showing the densest kind of
/// the tiles it covers).
std::string renderAscii(const BlockLayout &layout, int maxWidth = 96);

} // namespace lace::layout

#endif // LACE_LAYOUT_LAYOUTPICTURE_H
