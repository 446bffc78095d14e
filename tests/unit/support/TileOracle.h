//===- TileOracle.h - A tile's kind from the interpreter, for tests -------===//
//
// The kind a tile must have, settled element by element on the frontend's
// interpreter: Empty when no element is live, Full when every in-range
// element is, Partial otherwise. The layout tests hold the compiler's and
// the runtime's classifications against it. Header-only.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TESTS_SUPPORT_TILEORACLE_H
#define LACE_TESTS_SUPPORT_TILEORACLE_H

#include "lace/Frontend/Interpreter.h"
#include "lace/Layout/MaskNode.h"

#include <algorithm>
#include <cstdint>

namespace lace::testing {

/// The kind of tile (row, col) of head `head` (batch 0), from the
/// interpreter.
inline layout::BlockKind oracleKind(const frontend::Instance &instance,
                                    std::int64_t head, std::int64_t row,
                                    std::int64_t col, std::int64_t blockM,
                                    std::int64_t blockN) {
  const frontend::Shape &shape = instance.shape();
  const std::int64_t qEnd = std::min(shape.seqQ, (row + 1) * blockM);
  const std::int64_t kEnd = std::min(shape.seqK, (col + 1) * blockN);
  bool anyLive = false, anyDead = false;
  for (std::int64_t q = row * blockM; q < qEnd; ++q)
    for (std::int64_t k = col * blockN; k < kEnd; ++k)
      (instance.mask(0, head, q, k) ? anyLive : anyDead) = true;
  return !anyLive  ? layout::BlockKind::Empty
         : anyDead ? layout::BlockKind::Partial
                   : layout::BlockKind::Full;
}

} // namespace lace::testing

#endif // LACE_TESTS_SUPPORT_TILEORACLE_H
