//===- LayoutPicture.cpp - block layouts as SVG and ASCII pictures --------===//
#include "lace/Layout/LayoutPicture.h"

#include <algorithm>
#include <sstream>

namespace lace::layout {

namespace {

const char *colour(BlockKind kind) {
  switch (kind) {
  case BlockKind::Full:
    return "#1f4e9c";
  case BlockKind::Partial:
    return "#f2a541";
  case BlockKind::Empty:
    return "#f4f4f4";
  }
  return "#000000";
}

std::string escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

} // namespace

std::string renderSvg(const std::vector<LayoutPanel> &panels) {
  constexpr int kPanelSize = 512, kMargin = 60, kGap = 40, kLegend = 40;
  int width = kMargin + int(panels.size()) * (kPanelSize + kGap);
  int height = kMargin + kPanelSize + kLegend + 20;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
      << "\" height=\"" << height << "\" font-family=\"sans-serif\" "
      << "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      << "fill=\"white\"/>\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    const BlockLayout &blocks = *panels[p].layout;
    int x0 = kMargin + int(p) * (kPanelSize + kGap), y0 = kMargin;
    double cell =
        double(kPanelSize) /
        double(std::max<int64_t>({blocks.numRows, blocks.numCols, 1}));
    svg << "<text x=\"" << x0 << "\" y=\"" << y0 - 30 << "\" font-size=\"14\">"
        << escape(panels[p].title) << "</text>\n";
    svg << "<rect x=\"" << x0 << "\" y=\"" << y0 << "\" width=\""
        << cell * double(blocks.numCols) << "\" height=\""
        << cell * double(blocks.numRows) << "\" fill=\""
        << colour(BlockKind::Empty) << "\" stroke=\"#999\"/>\n";
    for (int64_t row = 0; row < blocks.numRows; ++row)
      for (int32_t i = blocks.rowOffsets[row]; i < blocks.rowOffsets[row + 1];
           ++i) {
        const layout::Run &run = blocks.runs[i];
        svg << "<rect x=\"" << x0 + cell * run.begin << "\" y=\""
            << y0 + cell * double(row) << "\" width=\""
            << cell * (run.end - run.begin) << "\" height=\"" << cell
            << "\" fill=\"" << colour(run.kind) << "\"/>\n";
      }
    // Axes: k-tiles along the top, q-tiles down the left.
    svg << "<text x=\"" << x0 << "\" y=\"" << y0 - 8 << "\">k-tile 0</text>\n"
        << "<text x=\"" << x0 + cell * double(blocks.numCols) << "\" y=\""
        << y0 - 8 << "\" text-anchor=\"end\">" << blocks.numCols - 1
        << "</text>\n"
        << "<text x=\"" << x0 - 6 << "\" y=\"" << y0 + 10
        << "\" text-anchor=\"end\">q-tile 0</text>\n"
        << "<text x=\"" << x0 - 6 << "\" y=\""
        << y0 + cell * double(blocks.numRows) << "\" text-anchor=\"end\">"
        << blocks.numRows - 1 << "</text>\n";
  }
  int legendY = kMargin + kPanelSize + 25, legendX = kMargin;
  for (auto [kind, name] : {std::pair{BlockKind::Full, "full"},
                            std::pair{BlockKind::Partial, "partial"},
                            std::pair{BlockKind::Empty, "empty"}}) {
    svg << "<rect x=\"" << legendX << "\" y=\"" << legendY - 11
        << "\" width=\"14\" height=\"14\" fill=\"" << colour(kind)
        << "\" stroke=\"#999\"/><text x=\"" << legendX + 20 << "\" y=\""
        << legendY << "\">" << name << "</text>\n";
    legendX += 90;
  }
  svg << "</svg>\n";
  return svg.str();
}

std::string renderAscii(const BlockLayout &blocks, int maxWidth) {
  int64_t scale = std::max<int64_t>(
      1, (std::max(blocks.numCols, blocks.numRows) + maxWidth - 1) / maxWidth);
  auto symbol = [](BlockKind kind) {
    return kind == BlockKind::Full      ? '#'
           : kind == BlockKind::Partial ? '+'
                                        : '.';
  };
  std::string out;
  for (int64_t row = 0; row < blocks.numRows; row += scale) {
    for (int64_t col = 0; col < blocks.numCols; col += scale) {
      BlockKind densest = BlockKind::Empty;
      for (int64_t r = row; r < std::min(row + scale, blocks.numRows); ++r)
        for (int64_t c = col; c < std::min(col + scale, blocks.numCols); ++c)
          densest = std::max(densest, blocks.kind(r, c));
      out += symbol(densest);
    }
    out += '\n';
  }
  return out;
}

} // namespace lace::layout
