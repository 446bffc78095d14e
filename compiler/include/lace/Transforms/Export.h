//===- Export.h - layouts and schedules as JSON ----------------*- C++ -*-===//
//
// `lace compile --emit=layout|schedule` and kernel bundles write what the
// pipeline left in the IR as JSON; docs/layout-json.md is the schema.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TRANSFORMS_EXPORT_H
#define LACE_TRANSFORMS_EXPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace lace {

/// The version of the JSON documents below; bumped on any change of shape.
inline constexpr int kLayoutJsonVersion = 2;

/// {"format": "lace.layout", "version", "problem", "layouts": [...]}.
void writeLayoutJson(mlir::ModuleOp module, llvm::raw_ostream &os);

/// {"format": "lace.schedule", "version", "problem", "schedule": {...}}.
void writeScheduleJson(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace lace

#endif // LACE_TRANSFORMS_EXPORT_H
