//===- Primitives.cpp - The mask primitives' table (Primitives.def) -------===//
#include "lace/Frontend/Primitives.h"

#include <climits>
#include <vector>

namespace lace::frontend {

namespace {

struct Tables {
  std::vector<PrimitiveInfo> spellings;
  std::vector<std::vector<PrimitiveOperand>> operands; ///< by ExprKind

  Tables() {
    operands.resize(256); // every ExprKind (a uint8_t)
    using D = DiagnosticKind;
#define LACE_PRIMITIVE(Kind, Spelling)
#define LACE_OPERAND(Kind, Name, Required, Default, Minimum, BelowMinimum,     \
                     Maximum)                                                  \
  operands[static_cast<std::size_t>(ExprKind::Kind)].push_back(                \
      {Name, Required, Default, Minimum, D::BelowMinimum, Maximum});
#include "lace/Frontend/Primitives.def"
#define LACE_PRIMITIVE(Kind, Spelling)                                         \
  spellings.push_back({Spelling, ExprKind::Kind,                               \
                       operands[static_cast<std::size_t>(ExprKind::Kind)]});
#define LACE_ALIAS(Kind, Spelling) LACE_PRIMITIVE(Kind, Spelling)
#include "lace/Frontend/Primitives.def"
  }
};

const Tables &tables() {
  static const Tables instance;
  return instance;
}

} // namespace

std::span<const PrimitiveInfo> primitives() { return tables().spellings; }

const PrimitiveInfo *findPrimitive(std::string_view name) {
  for (const PrimitiveInfo &info : primitives())
    if (info.name == name)
      return &info;
  return nullptr;
}

std::span<const PrimitiveOperand> primitiveOperands(ExprKind kind) {
  const auto &operands = tables().operands;
  const auto index = static_cast<std::size_t>(kind);
  if (index >= operands.size())
    return {};
  return operands[index];
}

} // namespace lace::frontend
