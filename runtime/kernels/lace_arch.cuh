//===- lace_arch.cuh - The warp-level primitives the kernels use ----------===//
//
// Every tensor-core, shared-memory and warp-shuffle operation of the Lace
// kernels goes through this file and nothing else, so that the CPU emulator
// can supply a host implementation of exactly these functions (it defines
// LACE_ARCH_HOST and provides the primitives above the "shared" line itself,
// lace_emu_device.cuh). The functions below that line are built on CUDA
// builtins the emulator also provides and serve both. Fragment layouts
// below follow the PTX ISA ("Matrix Fragments for mma.m16n8k16",
// "ldmatrix"). Notation: lane = threadIdx.x % 32, g = lane / 4 (the group),
// t = lane % 4 (the thread in the group); a .b32 register holds two 16-bit
// elements, the lower-numbered column in the low half.
//
//===----------------------------------------------------------------------===//
#pragma once

#ifndef LACE_ARCH_HOST

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace lace {
namespace arch {

/// The 32-bit shared-state-space address of a generic pointer into shared
/// memory. ldmatrix and cp.async take such addresses: the kernel converts its
/// shared buffer once and does all tile arithmetic in 32 bits (64-bit
/// generic pointers cost NVRTC about 70 registers more at head dim 128).
__device__ __forceinline__ unsigned smem_addr(const void *ptr) {
  return static_cast<unsigned>(__cvta_generic_to_shared(ptr));
}

/// The CTA's dynamic shared memory (the launch's sharedMemBytes).
__device__ __forceinline__ unsigned char *dynamic_smem() {
  extern __shared__ __align__(128) unsigned char lace_dynamic_smem[];
  return lace_dynamic_smem;
}

// ---- Asynchronous copies (sm_80+) ------------------------------------------

/// Copies 16 bytes global -> shared without going through registers
/// (cp.async.cg: cached in L2 only, which suits K/V streamed once per CTA).
/// When `valid` is false nothing is read and the 16 bytes are zero-filled
/// (src-size 0), which is how out-of-range rows become zeros.
/// Both addresses must be 16-byte aligned.
__device__ __forceinline__ void cp_async_16(unsigned smem, const void *gmem,
                                            bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem),
               "l"(gmem), "r"(src_bytes)
               : "memory");
}

/// Closes the current group of cp.async operations of this thread.
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

/// Waits until at most N of this thread's committed groups are pending.
/// Other threads' copies are visible only after a following barrier.
template <int N> __device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// ---- ldmatrix
// ----------------------------------------------------------------

/// Loads four 8x8 matrices of 16-bit elements. Lanes 8i..8i+7 give the
/// addresses of the 8 rows (16 contiguous bytes each) of matrix i. Result
/// r[i] is matrix i in the mma "row" fragment: lane holds row g, columns
/// 2t and 2t+1.
__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4],
                                            unsigned smem_row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, "
               "[%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_row));
}

/// As ldmatrix_x4 with .trans: r[i] holds matrix i transposed, i.e. lane
/// holds the elements at rows 2t and 2t+1 of column g of the stored matrix.
/// This turns a row-major [key][d] V tile into the mma B ("col") fragment.
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4],
                                                  unsigned smem_row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, "
               "%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_row));
}

// ---- Tensor-core mma
// ---------------------------------------------------------

/// D = A * B + D for a 16x8x16 tile, 16-bit inputs, fp32 accumulate.
///   A (16x16, row): a[0] = (g, 2t..2t+1), a[1] = (g+8, 2t..2t+1),
///                   a[2] = (g, 2t+8..2t+9), a[3] = (g+8, 2t+8..2t+9)
///   B (16x8, col):  b[0] = (k 2t..2t+1, n g), b[1] = (k 2t+8..2t+9, n g)
///   C/D (16x8 f32): d[0], d[1] = (g, 2t), (g, 2t+1);
///                   d[2], d[3] = (g+8, 2t), (g+8, 2t+1)
/// The element type selects .f16 or .bf16.
template <class T>
__device__ __forceinline__ void
mma_m16n8k16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1);

template <>
__device__ __forceinline__ void mma_m16n8k16<half>(float (&d)[4],
                                                   const unsigned (&a)[4],
                                                   unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <>
__device__ __forceinline__ void
mma_m16n8k16<__nv_bfloat16>(float (&d)[4], const unsigned (&a)[4], unsigned b0,
                            unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// ---- Conversions
// ---------------------------------------------------------------

/// Two floats rounded to nearest into one .b32 register of two 16-bit
/// elements (`lo` in the low half), the layout the mma A fragment expects.
template <class T>
__device__ __forceinline__ unsigned pack2(float lo, float hi);

template <>
__device__ __forceinline__ unsigned pack2<half>(float lo, float hi) {
  const __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const unsigned *>(&v);
}

template <>
__device__ __forceinline__ unsigned pack2<__nv_bfloat16>(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const unsigned *>(&v);
}

/// The two 16-bit elements of a .b32 register as floats (`lo` from the low
/// half): the inverse of pack2, exact.
template <class T>
__device__ __forceinline__ void unpack2(unsigned bits, float &lo, float &hi);

template <>
__device__ __forceinline__ void unpack2<half>(unsigned bits, float &lo,
                                              float &hi) {
  const float2 f = __half22float2(*reinterpret_cast<const __half2 *>(&bits));
  lo = f.x;
  hi = f.y;
}

template <>
__device__ __forceinline__ void unpack2<__nv_bfloat16>(unsigned bits, float &lo,
                                                       float &hi) {
  const float2 f =
      __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162 *>(&bits));
  lo = f.x;
  hi = f.y;
}

/// threadIdx.x read anew (asm volatile), so that the compiler cannot merge
/// it, and what is computed from it, with earlier reads: the epilogue's
/// addresses would otherwise be kept in registers through the k-tile loop.
__device__ __forceinline__ int fresh_thread_index() {
  unsigned tid;
  asm volatile("mov.u32 %0, %%tid.x;\n" : "=r"(tid));
  return static_cast<int>(tid);
}

/// 2^x with the hardware approximation (ex2.approx.ftz.f32: about 2 ulp,
/// exp2(-inf) = +0), the fast path of the online softmax.
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

} // namespace arch
} // namespace lace

#endif // LACE_ARCH_HOST

// ---- Shared by the device and the emulator ----------------------------------

namespace lace {
namespace arch {

// ---- Warp reductions and math
// ------------------------------------------------

/// Max over the 4 lanes of a quad (lanes 4g..4g+3), which together hold one
/// row of an mma C fragment. Every lane of the warp must call it.
__device__ __forceinline__ float quad_max(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
  return x;
}

/// Sum over the 4 lanes of a quad. Every lane of the warp must call it.
__device__ __forceinline__ float quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  x += __shfl_xor_sync(0xffffffffu, x, 2);
  return x;
}

/// Copies 16 bytes as one vector access (LDS.128 / STG.128 and the like on
/// the device); both addresses 16-byte aligned.
struct alignas(16) Bytes16 {
  unsigned word[4];
};
__device__ __forceinline__ void copy_16(void *dst, const void *src) {
  *static_cast<Bytes16 *>(dst) = *static_cast<const Bytes16 *>(src);
}

/// Records a malformed layout table: ORs `code` into *status (if given).
__device__ __forceinline__ void report_error(int *status, int code) {
  if (status != nullptr)
    atomicOr(status, code);
}

} // namespace arch
} // namespace lace
