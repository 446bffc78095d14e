//===- SemaTables.h - The names Sema resolves: functions, builtins --------===//
//
// Internal to the frontend. The math functions and the builtin names, beside
// the primitives' table (Primitives.def), and what a pattern may not name a
// parameter or a let.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_FRONTEND_SEMATABLES_H
#define LACE_FRONTEND_SEMATABLES_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Primitives.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace lace::frontend {

/// The entry of a name table (primitives, functions, builtins) called
/// `name`, or null.
template <typename Info>
const Info *findByName(const std::vector<Info> &table, std::string_view name) {
  for (const Info &info : table)
    if (info.name == name)
      return &info;
  return nullptr;
}

struct MathInfo {
  std::string_view name;
  MathFunction fn;
  std::size_t arity;
};

inline const std::vector<MathInfo> &mathTable() {
  static const std::vector<MathInfo> table = {
      {"min", MathFunction::Min, 2},
      {"max", MathFunction::Max, 2},
      {"abs", MathFunction::Abs, 1},
      {"float", MathFunction::ToFloat, 1},
      {"int", MathFunction::ToInt, 1},
      {"tanh", MathFunction::Tanh, 1},
      {"exp", MathFunction::Exp, 1},
      {"log", MathFunction::Log, 1},
      {"sqrt", MathFunction::Sqrt, 1},
      {"alibi_slope", MathFunction::AlibiSlope, 2},
  };
  return table;
}

inline const MathInfo *findMath(std::string_view name) {
  return findByName(mathTable(), name);
}

struct BuiltinInfo {
  std::string_view name;
  Builtin builtin;
  std::uint8_t deps;
};

inline const std::vector<BuiltinInfo> &builtinTable() {
  static const std::vector<BuiltinInfo> table = {
      {"b", Builtin::B, DepB},
      {"h", Builtin::H, DepH},
      {"q", Builtin::Q, DepQ},
      {"k", Builtin::K, DepK},
      {"s", Builtin::S, DepS},
      {"batch", Builtin::Batch, DepShape},
      {"heads", Builtin::Heads, DepShape},
      {"seq_q", Builtin::SeqQ, DepShape},
      {"seq_k", Builtin::SeqK, DepShape},
  };
  return table;
}

inline const BuiltinInfo *findBuiltin(std::string_view name) {
  return findByName(builtinTable(), name);
}

inline bool isReservedName(std::string_view name) {
  return findBuiltin(name) || findPrimitive(name) || findMath(name) ||
         name == "bool";
}

} // namespace lace::frontend

#endif // LACE_FRONTEND_SEMATABLES_H
