//===- RandomBlocks.h - BigBird's random key blocks, as sets --------------===//
//
// Part of the support layer: the interpreter and the layout library take the
// sets from here; the steps (the counter-based draw, Floyd's candidate) are
// lace_semantics.cuh's, which the kernels call too.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_SUPPORT_RANDOMBLOCKS_H
#define LACE_SUPPORT_RANDOMBLOCKS_H

#include <cstdint>
#include <vector>

namespace lace {

/// The key blocks chosen for block row `row` of head `head`: min(perRow,
/// numBlocks) distinct values in [0, numBlocks), by Floyd's algorithm over
/// the draw, returned sorted. Negative counts are treated as 0.
std::vector<std::int64_t> randomBlocks(std::uint64_t seed, std::int64_t head,
                                       std::int64_t row, std::int64_t numBlocks,
                                       std::int64_t perRow);
/// The same into `chosen` (cleared first), for callers that reuse a buffer
/// (the layout classifier calls it for every block row).
void randomBlocksInto(std::uint64_t seed, std::int64_t head, std::int64_t row,
                      std::int64_t numBlocks, std::int64_t perRow,
                      std::vector<std::int64_t> &chosen);

} // namespace lace

#endif // LACE_SUPPORT_RANDOMBLOCKS_H
