//===- PrimitiveMinimum.h - Primitives.def's minimums, at compile time ----===//
//
// Header-only and free of the frontend's types, so that the dialect's
// verifiers read the same minimums the language checks and clamps to.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_PRIMITIVEMINIMUM_H
#define LACE_FRONTEND_PRIMITIVEMINIMUM_H

#include <cstdint>
#include <string_view>

namespace lace::frontend {

/// The smallest valid value of operand `operand` of primitive `kind` (its
/// ExprKind's name, "Local"); a name that is not in the table does not
/// compile where the call is a constant expression.
consteval std::int64_t primitiveMinimum(std::string_view kind,
                                        std::string_view operand) {
#define LACE_PRIMITIVE(Kind, Spelling)
#define LACE_OPERAND(Kind, Name, Required, Default, Minimum, BelowMinimum,     \
                     Maximum)                                                  \
  if (kind == #Kind && operand == Name)                                        \
    return Minimum;
#include "lace/Frontend/Primitives.def"
  throw "no such primitive operand in Primitives.def";
}

} // namespace lace::frontend

#endif // LACE_FRONTEND_PRIMITIVEMINIMUM_H
