# Finds LLVM/MLIR 19 (Debian's llvm-19-dev, libmlir-19-dev, mlir-19-tools)
# and works around the traps of Debian's packaging.

set(LACE_LLVM_ROOT "/usr/lib/llvm-19" CACHE PATH "Root of the LLVM/MLIR 19 installation")
find_package(MLIR REQUIRED CONFIG HINTS "${LACE_LLVM_ROOT}/lib/cmake/mlir")
message(STATUS "Lace: MLIR ${LLVM_PACKAGE_VERSION} from ${MLIR_DIR}")

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")

# Debian's AddMLIR/TableGen use DEPFILE in a way that, under the new CMP0116
# behaviour, makes every build rerun tablegen. OLD keeps rebuilds incremental.
cmake_policy(SET CMP0116 OLD)
include(TableGen)
include(AddLLVM)
include(AddMLIR)

# mlir-tblgen ships in mlir-19-tools; MLIRConfig does not always point at it.
find_program(LACE_MLIR_TBLGEN mlir-tblgen HINTS "${LACE_LLVM_ROOT}/bin" NO_DEFAULT_PATH REQUIRED)
set(MLIR_TABLEGEN_EXE ${LACE_MLIR_TBLGEN} CACHE FILEPATH "" FORCE)

set(LLVM_EXTERNAL_LIT "${LACE_LLVM_ROOT}/build/utils/lit/lit.py" CACHE FILEPATH "lit driver")
find_program(LACE_FILECHECK FileCheck HINTS "${LACE_LLVM_ROOT}/bin" NO_DEFAULT_PATH REQUIRED)
get_filename_component(LACE_LLVM_TOOLS_DIR ${LACE_FILECHECK} DIRECTORY)

include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
add_definitions(${LLVM_DEFINITIONS})
link_directories(${LLVM_BUILD_LIBRARY_DIR})

# Link against the shared libMLIR/libLLVM: a link of lace-opt then takes seconds
# on two cores instead of a minute against the static archives.
set(LACE_MLIR_LIBS MLIR LLVM)
