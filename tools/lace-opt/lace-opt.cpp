//===- lace-opt.cpp - the lace dialect's optimizer driver -----------------===//
#include "lace/Dialect/LaceDialect.h"
#include "lace/Transforms/LacePasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  lace::registerLacePasses();
  lace::registerLacePipeline();

  mlir::DialectRegistry registry;
  registry.insert<lace::LaceDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Lace optimizer driver\n", registry));
}
