//===- LowerToLace.h - checked .lace patterns to the lace dialect -*- C++ -*-===//
//
// Lowers checked patterns to `lace.pattern` ops at the pattern level. Primitives
// stay structured (`lace.local`, `lace.global`, ...) because the layout passes
// classify tiles from that structure; only boolean expressions over (q, k)
// become `lace.predicate` regions. Every op carries the location of the
// .lace text it came from.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_LOWERING_LOWERTOLACE_H
#define LACE_LOWERING_LOWERTOLACE_H

#include "lace/Frontend/AST.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/SourceManager.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <span>

namespace lace {

/// Registers what the lowered IR uses (lace, arith, math) in `context`.
void loadLoweringDialects(mlir::MLIRContext &context);

/// Lowers `patterns` (checked, from one Program) into a new module. Parameter
/// defaults become the pattern's `param_defaults`, with `overrides` applied
/// to every pattern that has a parameter of that name; a parameter whose value
/// is not known without an override keeps `unit` (no default).
mlir::OwningOpRef<mlir::ModuleOp>
lowerToLace(mlir::MLIRContext &context, const frontend::SourceManager &sources,
            std::span<const frontend::Pattern *const> patterns,
            std::span<const frontend::ParamOverride> overrides = {});

} // namespace lace

#endif // LACE_LOWERING_LOWERTOLACE_H
