//===- LaceTypes.h - types and attributes of the lace dialect ---*- C++ -*-===//
#ifndef LACE_DIALECT_LACETYPES_H
#define LACE_DIALECT_LACETYPES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Types.h"

#include "lace/Dialect/LaceEnums.h.inc"

#define GET_TYPEDEF_CLASSES
#include "lace/Dialect/LaceTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "lace/Dialect/LaceAttrs.h.inc"

#endif // LACE_DIALECT_LACETYPES_H
