# lace_add_unittest(NAME SOURCES file... [LIBS lib...] [SOURCE_DIR]
#                   [DEFINITIONS def...] [DISCOVER arg...])
#
# A GoogleTest executable of Lace's: linked with gtest_main, Lace's warnings,
# LACE_SOURCE_DIR defined as the source tree's root with SOURCE_DIR (for
# tests that read patterns/, Diagnostics.def or the lit tests), and its
# tests registered with gtest_discover_tests (DISCOVER's arguments passed
# on, e.g. `DISCOVER PROPERTIES TIMEOUT 600`).
find_package(GTest REQUIRED)
include(GoogleTest)

function(lace_add_unittest name)
  cmake_parse_arguments(arg "SOURCE_DIR" "" "SOURCES;LIBS;DEFINITIONS;DISCOVER"
                        ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} GTest::gtest_main)
  lace_set_warnings(${name})
  if(arg_SOURCE_DIR)
    target_compile_definitions(${name} PRIVATE
      LACE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  endif()
  if(arg_DEFINITIONS)
    target_compile_definitions(${name} PRIVATE ${arg_DEFINITIONS})
  endif()
  gtest_discover_tests(${name} ${arg_DISCOVER})
endfunction()
