//===- PatternToCpp.h - a specialised pattern as CUDA C++ functions -*- C++
//-*-===//
//
// The kernel calls `live(b, h, q, k)` on partial tiles and `score(s, b, h, q,
// k)` on every score. This emits both as C++ function bodies from the
// patterns `lace-specialize` left in a module: one branch per distinct head
// layout, each with every parameter and size folded to a literal.
//
// Why not EmitC: MLIR 19's arith-to-emitc conversion has no floor division
// or floor remainder and the lace primitives need a lowering of their own
// anyway; the arith ops a pattern uses are few, so they are printed directly
// with the language's semantics (docs/design.md).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_CODEGEN_PATTERNTOCPP_H
#define LACE_CODEGEN_PATTERNTOCPP_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace lace {

struct PatternFunctions {
  /// Functions the bodies call, for namespace scope before them (CUDA:
  /// `__device__`; the host check defines `__device__` away).
  std::string helpers;
  std::string liveBody;  ///< body of `bool live(int b, int h, int q, int k)`
  std::string scoreBody; ///< body of `float score(float s, int b, int h, int q,
                         ///< int k)`; empty: none
  /// Body of `float score_grad(float s, int b, int h, int q, int k)`, d score
  /// / d s derived from the same IR (for the backward); empty: no score.
  std::string scoreGradBody;
  /// The live body computes in 32-bit integers (every value it forms is
  /// known at plan time to stay below 2^31); else in 64 bits.
  bool narrow = false;
};

/// The functions of the specialised patterns in `module` (all from one
/// source pattern). `lace.segment` reads the kernel's segment id tables
/// through `p` (the live function's LaceFwdParams). Reports unsupported IR
/// on the op and fails.
/// `allowNarrow` false keeps the live body in 64-bit integers even where 32
/// bits are proven enough (tests cover both forms).
mlir::FailureOr<PatternFunctions> emitPatternFunctions(mlir::ModuleOp module,
                                                       bool allowNarrow = true);

} // namespace lace

#endif // LACE_CODEGEN_PATTERNTOCPP_H
