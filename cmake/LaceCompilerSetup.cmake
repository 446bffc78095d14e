# Compiler settings shared by every Lace target: ccache, warnings, sanitizers.

find_program(LACE_CCACHE ccache)
if(LACE_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${LACE_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${LACE_CCACHE})
endif()

# Warnings are applied per target through lace_set_warnings() so that they
# cover Lace's own code and never the tablegen output of other projects.
function(lace_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(LACE_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(LACE_ENABLE_SANITIZERS)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  # GCC 12's -Wmaybe-uninitialized misfires on LLVM's JSON.h once ASan
  # instruments it (the union is written before it is unpoisoned).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()
