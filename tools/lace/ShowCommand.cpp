//===- ShowCommand.cpp - `lace show FILE --seq N` -------------------------===//
//
// Prints the element mask of batch 0 as a grid, '#' live and '.' not, one
// row per query and one column per key (for sizes up to 256). Heads with
// identical masks share one grid. Built with MLIR, it then summarises the
// block layout the pipeline computes for that shape (ShowLayout.cpp).
// --werror turns warnings into errors.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Session.h"
#ifdef LACE_WITH_MLIR
#include "ShowLayout.h"
#endif

#include <charconv>
#include <iostream>

namespace lace::tool {

using namespace lace::frontend;

namespace {

constexpr std::int64_t kMaxShowSize = 256;
constexpr std::int64_t kMaxShowHeads = 64;

bool parseInt(const std::string &text, std::int64_t &out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

bool parseIds(const std::string &text, std::vector<std::int64_t> &out) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    std::int64_t v;
    if (!parseInt(item, v))
      return false;
    out.push_back(v);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return true;
}

} // namespace

int runShow(std::span<const std::string> args) {
  PatternOptions options;
  std::string seq, seqK, heads = "1", segments, documents;
  bool warningsAsErrors = false;
#ifdef LACE_WITH_MLIR
  LayoutShowOptions layout;
#endif
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--werror") {
      warningsAsErrors = true;
      continue;
    }
    std::string error;
    if (takeValue(args, i, "--seq", seq) ||
        takeValue(args, i, "--seq-k", seqK) ||
        takeValue(args, i, "--heads", heads) ||
        takeValue(args, i, "--segments", segments) ||
        takeValue(args, i, "--documents", documents))
      continue;
#ifdef LACE_WITH_MLIR
    if (parseLayoutShowOption(args, i, layout, error)) {
      if (!error.empty())
        return usageError(error);
      continue;
    }
#endif
    if (!parsePatternOption(args, i, options, error))
      return usageError("unknown option '" + args[i] +
                        "' for 'show', expected --seq N, --seq-k N, --heads "
                        "H, --segments IDS, --documents N, --pattern NAME, "
                        "--param name=value or --werror");
    if (!error.empty())
      return usageError(error);
  }
  if (options.file.empty() || seq.empty())
    return usageError("'show' expects a file and a size: lace show FILE "
                      "--seq N");
  Shape shape;
  if (!parseInt(seq, shape.seqQ))
    return usageError("--seq expects an integer, found '" + seq + "'");
  shape.seqK = shape.seqQ;
  if (!seqK.empty() && !parseInt(seqK, shape.seqK))
    return usageError("--seq-k expects an integer, found '" + seqK + "'");
  if (!parseInt(heads, shape.heads))
    return usageError("--heads expects an integer, found '" + heads + "'");
  SegmentIds ids;
  if (!segments.empty() && !parseIds(segments, ids.q))
    return usageError("--segments expects comma-separated integers, found '" +
                      segments + "'");
  if (!documents.empty()) {
    std::int64_t count = 0;
    if (!parseInt(documents, count) || count < 1 || count > shape.seqQ)
      return usageError("--documents expects a count in [1, seq], found '" +
                        documents + "'");
    // `count` documents of equal length (the last takes the remainder).
    ids.q.resize(static_cast<std::size_t>(shape.seqQ));
    for (std::int64_t t = 0; t < shape.seqQ; ++t)
      ids.q[static_cast<std::size_t>(t)] =
          std::min(count - 1, t / (shape.seqQ / count));
  }
  bool printGrid = shape.seqQ <= kMaxShowSize && shape.seqK <= kMaxShowSize;
#ifdef LACE_WITH_MLIR
  layout.shape.seqQ = shape.seqQ;
  layout.shape.seqK = shape.seqK;
  layout.shape.heads = shape.heads;
  layout.segments = ids.q;
  // The element grid's instance reports wrong ids with a caret; without a
  // grid the layout classifier needs them checked here.
  if (!printGrid && !ids.q.empty() &&
      static_cast<std::int64_t>(ids.q.size()) != shape.seqQ)
    return usageError("--segments has " + std::to_string(ids.q.size()) +
                      " ids for seq " + std::to_string(shape.seqQ));
#else
  if (!printGrid)
    return usageError("'show' prints at most " + std::to_string(kMaxShowSize) +
                      " x " + std::to_string(kMaxShowSize) +
                      " elements, got seq_q = " + std::to_string(shape.seqQ) +
                      " and seq_k = " + std::to_string(shape.seqK) +
                      "; use a smaller --seq");
#endif
  if (printGrid && shape.heads > kMaxShowHeads)
    return usageError("'show' prints at most " + std::to_string(kMaxShowHeads) +
                      " heads, got " + heads);
  // One session for the grid and the layout, so that each diagnostic is
  // printed once.
  Session session;
  session.diags().setWarningsAsErrors(warningsAsErrors);
  if (!session.load(options.file))
    return 1;
  const Pattern *pattern = session.select(options.pattern);
  if (!pattern)
    return 1;
#ifdef LACE_WITH_MLIR
  if (!printGrid)
    return showLayout(session, *pattern, options, layout);
#endif
  auto instance = instantiate(*pattern, options.params, shape, session.diags(),
                              ids.q.empty() ? nullptr : &ids);
  if (!instance)
    return 1;

  std::vector<std::string> grids;
  for (std::int64_t h = 0; h < shape.heads; ++h) {
    std::string grid;
    for (std::int64_t q = 0; q < shape.seqQ; ++q) {
      for (std::int64_t k = 0; k < shape.seqK; ++k)
        grid += instance->mask(0, h, q, k) ? '#' : '.';
      grid += '\n';
    }
    grids.push_back(std::move(grid));
  }
  std::string header = "pattern " + pattern->name +
                       ", seq_q=" + std::to_string(shape.seqQ) +
                       ", seq_k=" + std::to_string(shape.seqK);
  bool allSame = true;
  for (const std::string &grid : grids)
    allSame = allSame && grid == grids.front();
  if (allSame) {
    std::cout << header
              << (shape.heads == 1
                      ? std::string(", head 0")
                      : ", heads 0-" + std::to_string(shape.heads - 1) +
                            " (identical)")
              << "\n"
              << grids.front();
  } else {
    for (std::size_t h = 0; h < grids.size(); ++h)
      std::cout << header << ", head " << h << "\n" << grids[h];
  }
#ifdef LACE_WITH_MLIR
  std::cout.flush();
  return showLayout(session, *pattern, options, layout);
#else
  return 0;
#endif
}

} // namespace lace::tool
