//===- LaceDialect.h - the lace dialect -------------------------*- C++ -*-===//
#ifndef LACE_DIALECT_LACEDIALECT_H
#define LACE_DIALECT_LACEDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Dialect.h"

#include "lace/Dialect/LaceDialect.h.inc"

#endif // LACE_DIALECT_LACEDIALECT_H
