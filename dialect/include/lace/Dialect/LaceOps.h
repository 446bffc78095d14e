//===- LaceOps.h - operations of the lace dialect ---------------*- C++ -*-===//
#ifndef LACE_DIALECT_LACEOPS_H
#define LACE_DIALECT_LACEOPS_H

#include "lace/Dialect/LaceDialect.h"
#include "lace/Dialect/LaceTypes.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "lace/Dialect/LaceOps.h.inc"

#endif // LACE_DIALECT_LACEOPS_H
