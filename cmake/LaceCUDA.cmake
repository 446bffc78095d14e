# Finds the CUDA toolkit's NVRTC. Without it Lace still builds, with the
# NVRTC-backed features off, and says so here at configure time.

set(LACE_CUDA_ROOT "$ENV{CUDAToolkit_ROOT}")
if(NOT LACE_CUDA_ROOT)
  set(LACE_CUDA_ROOT "/usr/local/cuda")
endif()
find_path(LACE_NVRTC_INCLUDE_DIR nvrtc.h HINTS "${LACE_CUDA_ROOT}/include" NO_DEFAULT_PATH)
if(LACE_NVRTC_INCLUDE_DIR)
  set(LACE_HAVE_NVRTC ON)
  message(STATUS "Lace: CUDA toolkit at ${LACE_CUDA_ROOT}: NVRTC features ON")
else()
  set(LACE_HAVE_NVRTC OFF)
  message(STATUS "Lace: no CUDA toolkit at ${LACE_CUDA_ROOT}: NVRTC features OFF")
endif()
