//===- FieldOfView.h - How many layers until every block sees every block -===//
//
// On the block graph of a square layout (edge r -> c for every non-empty
// tile, Partial included: an upper bound on what tokens can reach), layer L
// lets query block i see key block c iff a path of exactly L edges leads
// from i to c (the output of layer l is the query of layer l + 1, and
// seqQ == seqK identifies query block j with key block j).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_FIELDOFVIEW_H
#define LACE_LAYOUT_FIELDOFVIEW_H

#include "lace/Layout/BlockLayout.h"

#include <cstdint>

namespace lace::layout {

struct FieldOfView {
  /// False for a layout that is not square (numRows != numCols).
  bool valid = true;
  /// False: some query block never reaches some key block ("never").
  bool reachable = false;
  /// The least L with every pair reached, when reachable.
  std::int64_t layers = 0;
};

/// When every diagonal tile is non-empty, paths can wait in place, so L is
/// the largest shortest-path distance (one BFS per block over bitsets,
/// O(n (n + edges)) with n = numRows). Otherwise the exact-L reach sets are
/// iterated (O(edges * n / 64) per layer) up to `maxLayers` layers (default
/// 2n) or until they repeat; past that the answer is "never".
FieldOfView fieldOfView(const BlockLayout &layout, std::int64_t maxLayers = 0);

} // namespace lace::layout

#endif // LACE_LAYOUT_FIELDOFVIEW_H
