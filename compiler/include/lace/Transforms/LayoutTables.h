//===- LayoutTables.h - lace.layout tables <-> BlockLayout ------*- C++ -*-===//
//
// The layout passes, the CLI and the runtime all read layouts back from the
// `lace.layout` op, so the IR is the one source of truth between passes.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_TRANSFORMS_LAYOUTTABLES_H
#define LACE_TRANSFORMS_LAYOUTTABLES_H

#include "lace/Dialect/LaceOps.h"
#include "lace/Layout/BlockLayout.h"

#include "mlir/IR/Builders.h"

#include <vector>

namespace lace {

/// A 1-d i32 table: a printed dense attribute up to `resourceThreshold`
/// entries, a dense resource (stored once, printed as a blob) above.
mlir::ElementsAttr makeTable(mlir::Builder &builder, llvm::StringRef name,
                             llvm::ArrayRef<int32_t> values,
                             int64_t resourceThreshold);

/// The entries of a table made by makeTable.
std::vector<int32_t> readTable(mlir::Attribute table);

/// The string attribute on a segment pattern's `lace.layout` holding its
/// mask tree (lace/Layout/MaskText.h), which the runtime classifies against
/// each call's ids; its tables are the superset.
inline constexpr llvm::StringLiteral kRunTimeMaskAttr = "lace.run_time_mask";

/// Tables of `layout` in run form: `<key>row_offsets` and `<key>runs`, as
/// resources named `<owner>.<key>...` when large.
llvm::SmallVector<mlir::NamedAttribute>
runTables(mlir::Builder &builder, llvm::StringRef owner, llvm::StringRef key,
          const layout::BlockLayout &layout, int64_t resourceThreshold);

/// The layout an op describes, in either form.
layout::BlockLayout decodeLayout(LayoutOp op);

/// The transposed structure, when materialised.
std::optional<layout::BlockLayout> decodeTransposed(LayoutOp op);

} // namespace lace

#endif // LACE_TRANSFORMS_LAYOUTTABLES_H
