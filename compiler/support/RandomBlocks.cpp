//===- RandomBlocks.cpp - BigBird's random key blocks, as sets ------------===//
#include "lace/Support/RandomBlocks.h"

#include "lace_semantics.cuh"

#include <algorithm>

namespace lace {

std::vector<std::int64_t> randomBlocks(std::uint64_t seed, std::int64_t head,
                                       std::int64_t row, std::int64_t numBlocks,
                                       std::int64_t perRow) {
  std::vector<std::int64_t> chosen;
  randomBlocksInto(seed, head, row, numBlocks, perRow, chosen);
  return chosen;
}

void randomBlocksInto(std::uint64_t seed, std::int64_t head, std::int64_t row,
                      std::int64_t numBlocks, std::int64_t perRow,
                      std::vector<std::int64_t> &chosen) {
  chosen.clear();
  if (numBlocks <= 0 || perRow <= 0)
    return;
  std::int64_t n = std::min(perRow, numBlocks);
  chosen.reserve(static_cast<std::size_t>(n));
  // randomDraw's first three mixes depend on the row only: hoisted.
  const std::uint64_t base = sem::random_base(
      seed, static_cast<std::uint64_t>(head), static_cast<std::uint64_t>(row));
  for (std::int64_t j = numBlocks - n; j < numBlocks; ++j) {
    const std::int64_t value = sem::random_candidate(base, j);
    auto it = std::lower_bound(chosen.begin(), chosen.end(), value);
    if (it != chosen.end() && *it == value) {
      // j is larger than every element so far: append keeps the order.
      chosen.push_back(j);
    } else {
      chosen.insert(it, value);
    }
  }
}

} // namespace lace
