//===- MaskFromIR.h - specialised lace IR to a layout MaskNode --*- C++ -*-===//
//
// The layout library works on MaskNode trees; this builds one from the mask
// a specialised `lace.pattern` yields. Predicate regions become an exact
// element evaluator plus an interval evaluator (both interpret the region's
// arith ops, compiled once into a flat instruction list).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TRANSFORMS_MASKFROMIR_H
#define LACE_TRANSFORMS_MASKFROMIR_H

#include "lace/Dialect/LaceOps.h"
#include "lace/Layout/MaskNode.h"

#include "mlir/Support/LogicalResult.h"

#include <memory>

namespace lace {

/// The mask of `pattern` (specialised: every primitive operand constant) for
/// query/key tokens of head `head`, with `seqK` keys. Reports unsupported IR
/// on the offending op and returns null.
std::unique_ptr<layout::MaskNode> maskFromIR(PatternOp pattern, int64_t head,
                                             int64_t seqK);

/// True when the pattern's mask uses `lace.segment` (run-time ids).
bool usesSegments(PatternOp pattern);

} // namespace lace

#endif // LACE_TRANSFORMS_MASKFROMIR_H
