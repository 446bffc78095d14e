//===- PredicateProgram.h - A predicate as a flat program over int64 ------===//
//
// A `lace.predicate` region compiled once (lace/Transforms/MaskFromIR.h) into
// straight-line instructions over int64 registers: evaluated exactly per
// element and over intervals per rectangle (docs/pipeline.md says why this
// and not IntegerRangeAnalysis). Plain data, so that a mask tree holding one
// can be written into a plan and read back by the runtime (MaskText.h).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LAYOUT_PREDICATEPROGRAM_H
#define LACE_LAYOUT_PREDICATEPROGRAM_H

#include "lace/Layout/MaskNode.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace lace::layout {

/// dst = code(a, b, c) over int64 registers (i1 values are 0 or 1).
struct Instruction {
  enum class Code : std::uint8_t {
    Add,
    Sub,
    Mul,
    FloorDiv,
    DivTrunc,
    RemTrunc,
    Min,
    Max,
    Abs,
    And,
    Or,
    Xor,
    Select,
    CmpEq,
    CmpNe,
    CmpLt,
    CmpLe,
    CmpGt,
    CmpGe,
    CmpULt,
    CmpULe,
    CmpUGt,
    CmpUGe,
  };
  static constexpr unsigned kNumCodes = unsigned(Code::CmpUGe) + 1;
  Code code = Code::Add;
  bool isBool = false; ///< the result is an i1
  unsigned dst = 0, a = 0, b = 0, c = 0;
};

/// Registers 0 and 1 are q and k; constants (and the head index) follow and
/// every instruction writes a register of its own.
struct PredicateProgram {
  std::vector<std::int64_t>
      initial; ///< the register file before the first step
  std::vector<Instruction> code;
  unsigned result = 0;

  /// Every register index in range and no instruction overwriting q, k or
  /// an earlier result; empty when valid (read back from text, it is
  /// checked before it runs).
  std::string validate() const;
  bool element(std::int64_t q, std::int64_t k) const;
  /// True/False when every element of q x k has that value, else Unknown.
  Tri range(Interval q, Interval k) const;
};

/// A Predicate node running `program` (which it keeps, so that the tree can
/// be printed).
std::unique_ptr<MaskNode>
predicateNode(std::shared_ptr<const PredicateProgram> program);

} // namespace lace::layout

#endif // LACE_LAYOUT_PREDICATEPROGRAM_H
