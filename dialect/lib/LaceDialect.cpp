//===- LaceDialect.cpp - the lace dialect ---------------------------------===//
#include "lace/Dialect/LaceDialect.h"
#include "lace/Dialect/LaceOps.h"
#include "lace/Dialect/LaceTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace lace;

#include "lace/Dialect/LaceDialect.cpp.inc"
#include "lace/Dialect/LaceEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "lace/Dialect/LaceTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "lace/Dialect/LaceAttrs.cpp.inc"

void LaceDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "lace/Dialect/LaceTypes.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "lace/Dialect/LaceAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "lace/Dialect/LaceOps.cpp.inc"
      >();
}
