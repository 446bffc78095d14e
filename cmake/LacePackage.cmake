# The installable part of Lace: shared libraries made from the objects of the
# static libraries, headers, the tools and a CMake package, so that a host
# application writes
#
#   find_package(Lace REQUIRED)
#   target_link_libraries(app PRIVATE Lace::lace)      # compiler + runtime
#   target_link_libraries(app PRIVATE Lace::runtime)   # runtime only
#
# Lace::lace links MLIR and LLVM privately (their shared libraries are found
# through the installed RUNPATH); neither target exposes them.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The runtime carries the frontend and the reference (checking against the
# interpreter needs no MLIR) and the layout library (packed documents'
# layouts are classified at run time); the compiler parts add the rest.
set(LACE_RUNTIME_PARTS LaceRuntime LaceEmulator LaceJit LaceCache LaceDriver
    LaceReference LaceFrontend LaceLayout LaceSupport)
set(LACE_COMPILER_PARTS LaceCompiler LaceCodegen LaceTransforms LaceLowering
    LaceDialect)

function(lace_shared_library target output exportName)
  add_library(${target} SHARED)
  foreach(part ${ARGN})
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:${part}>)
  endforeach()
  find_package(Threads REQUIRED)
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
  target_include_directories(${target} INTERFACE
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/lace/kernels>)
  target_compile_features(${target} INTERFACE cxx_std_20)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${output}
    EXPORT_NAME ${exportName}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
    INSTALL_RPATH_USE_LINK_PATH ON)
endfunction()

lace_shared_library(lace_runtime_shared lace_runtime runtime ${LACE_RUNTIME_PARTS})
set(LACE_INSTALL_TARGETS lace_runtime_shared)
set(LACE_INSTALL_TOOLS lace)
if(TARGET LaceCompiler)
  lace_shared_library(lace_shared lace lace ${LACE_COMPILER_PARTS}
    ${LACE_RUNTIME_PARTS})
  target_link_libraries(lace_shared PRIVATE ${LACE_MLIR_LIBS})
  list(APPEND LACE_INSTALL_TARGETS lace_shared)
  list(APPEND LACE_INSTALL_TOOLS lace-opt)
endif()

install(TARGETS ${LACE_INSTALL_TARGETS} EXPORT LaceTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS ${LACE_INSTALL_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set_target_properties(${LACE_INSTALL_TOOLS} PROPERTIES
  INSTALL_RPATH_USE_LINK_PATH ON)

# Headers: the runtime's and the C API, the compiler's host API, and the
# kernel headers the runtime headers include (lace_emu_abi.cuh...).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/lace/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lace FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/compiler/include/lace/Compiler.h
              ${PROJECT_SOURCE_DIR}/compiler/include/lace/Reference.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lace)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/kernels/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lace/kernels
  FILES_MATCHING PATTERN "*.cuh")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/patterns/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/lace/patterns
  FILES_MATCHING PATTERN "*.lace")

install(EXPORT LaceTargets NAMESPACE Lace::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Lace)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/LaceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/LaceConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Lace
  PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/LaceConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/LaceConfig.cmake
              ${PROJECT_BINARY_DIR}/LaceConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Lace)
