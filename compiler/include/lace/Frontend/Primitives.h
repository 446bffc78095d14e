//===- Primitives.h - The mask primitives' table (Primitives.def) ---------===//
#ifndef LACE_FRONTEND_PRIMITIVES_H
#define LACE_FRONTEND_PRIMITIVES_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Semantics.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>

namespace lace::frontend {

struct PrimitiveOperand {
  std::string_view name;
  bool required = false;
  std::int64_t defaultValue = 0;
  /// The range a constant value must lie in; a dynamic value is clamped to
  /// it.
  std::int64_t minimum = 0;
  DiagnosticKind belowMinimum = DiagnosticKind::NegativeExtent;
  std::int64_t maximum = 0;

  std::int64_t clamp(std::int64_t v) const {
    return std::clamp(v, minimum, maximum);
  }
};

struct PrimitiveInfo {
  std::string_view name; ///< the spelling (an alias has its own entry)
  ExprKind kind;
  std::span<const PrimitiveOperand> operands;
};

/// Every spelling, in Primitives.def's order.
std::span<const PrimitiveInfo> primitives();
/// The entry spelled `name`, or null.
const PrimitiveInfo *findPrimitive(std::string_view name);
/// The operands of primitive `kind` (empty for a kind that is none).
std::span<const PrimitiveOperand> primitiveOperands(ExprKind kind);

} // namespace lace::frontend

#endif // LACE_FRONTEND_PRIMITIVES_H
