//===- lace_emu_device.cuh - The CUDA surface of the kernels, on the CPU --===//
//
// Compiled in front of a generated kernel source by the host C++ compiler:
// it defines the CUDA keywords and builtins the kernels use (thread and
// block indices, shared memory, __syncthreads, warp shuffles and votes,
// atomics, half and __nv_bfloat16) and the host version of every lace::arch
// primitive (mma.sync, ldmatrix, cp.async), each warp-collective one as a
// rendezvous of the warp's lanes through the emulator (lace_emu_abi.cuh).
// The kernel source itself is the one NVRTC compiles, unchanged.
//
//===----------------------------------------------------------------------===//
#pragma once

#define LACE_ARCH_HOST 1

#include "lace_emu_abi.cuh"
#include "lace_float16.cuh"

#include <math.h>
#include <string.h>

// ---- Keywords
// ------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// (Include system headers before this file: theirs spell
// __attribute__((__noinline__)).)
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __restrict__ __restrict
// A block's threads run on one OS thread, one block at a time per thread:
// a thread_local static is exactly one block's __shared__ variable. Unlike
// dynamic shared memory (arch::dynamic_smem), it is neither poisoned per
// block nor bounds-checked: the Lace kernels use dynamic shared memory only.
#define __shared__ static thread_local

namespace lace {
namespace emu {
/// Set by lace_emu_bind before any kernel code runs.
inline const Hooks *bound = nullptr;
inline ThreadState &self() { return *bound->self(); }
} // namespace emu
} // namespace lace

/// The emulator's entry: hands the kernel object its hook table. Returns the
/// ABI version the object was compiled with.
extern "C" __attribute__((visibility("default"))) int
lace_emu_bind(const lace::emu::Hooks *table) {
  if (table->abi_version == lace::emu::kAbiVersion)
    lace::emu::bound = table;
  return lace::emu::kAbiVersion;
}

#define threadIdx (::lace::emu::self().thread_idx)
#define blockIdx (::lace::emu::self().block_idx)
#define blockDim (::lace::emu::self().block_dim)
#define gridDim (::lace::emu::self().grid_dim)

inline void __syncthreads() { lace::emu::bound->sync_threads(); }

// ---- Numbers
// -------------------------------------------------------------------
struct half {
  unsigned short bits;
};
struct __nv_bfloat16 {
  unsigned short bits;
};
using __half = half;

inline float __uint_as_float(unsigned x) { return lace::f16::bitsFloat(x); }
inline unsigned __float_as_uint(float f) { return lace::f16::floatBits(f); }
inline float __int_as_float(int x) {
  return lace::f16::bitsFloat(static_cast<unsigned>(x));
}
inline int __float_as_int(float f) {
  return static_cast<int>(lace::f16::floatBits(f));
}
inline float __log2f(float x) { return log2f(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : x > 1.f ? 1.f : x; }

// ---- Atomics (blocks run on several OS threads)
// ------------------------------
inline int atomicOr(int *address, int value) {
  return __atomic_fetch_or(address, value, __ATOMIC_RELAXED);
}
inline int atomicAdd(int *address, int value) {
  return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
}
inline float atomicAdd(float *address, float value) {
  unsigned *bits = reinterpret_cast<unsigned *>(address);
  unsigned old = __atomic_load_n(bits, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(
      bits, &old, __float_as_uint(__uint_as_float(old) + value), true,
      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return __uint_as_float(old);
}

// ---- Warp shuffles and votes
// -------------------------------------------------
namespace lace {
namespace emu {

inline void combineShuffle(WarpExchange &x, unsigned mask,
                           const ThreadState &) {
  for (unsigned lane = 0; lane < 32; ++lane) {
    if (!(mask >> lane & 1u))
      continue;
    const unsigned source = x.in[lane][1];
    x.out[lane][0] =
        source < 32 && (mask >> source & 1u) ? x.in[source][0] : x.in[lane][0];
  }
}

inline void combineVote(WarpExchange &x, unsigned mask, const ThreadState &) {
  unsigned ballot = 0;
  for (unsigned lane = 0; lane < 32; ++lane)
    if ((mask >> lane & 1u) && x.in[lane][0] != 0)
      ballot |= 1u << lane;
  // Only the participants' rows: another group of the same warp may still
  // have to read its own results.
  for (unsigned lane = 0; lane < 32; ++lane)
    if (mask >> lane & 1u)
      x.out[lane][0] = ballot;
}

/// The 32-bit value of the lane `source` (within the same width-32 warp).
inline unsigned shuffle(unsigned mask, unsigned value, unsigned source) {
  ThreadState &me = self();
  me.exchange->in[me.lane][0] = value;
  me.exchange->in[me.lane][1] = source;
  bound->warp_collective(mask, kOpShuffle, combineShuffle);
  return me.exchange->out[me.lane][0];
}

inline unsigned ballot(unsigned mask, bool predicate) {
  ThreadState &me = self();
  me.exchange->in[me.lane][0] = predicate ? 1u : 0u;
  bound->warp_collective(mask, kOpVote, combineVote);
  return me.exchange->out[me.lane][0] & mask;
}

template <class T> inline unsigned toBits(T value) {
  static_assert(sizeof(T) == 4, "the emulator shuffles 32-bit values");
  unsigned bits;
  memcpy(&bits, &value, 4);
  return bits;
}
template <class T> inline T fromBits(unsigned bits) {
  T value;
  memcpy(&value, &bits, 4);
  return value;
}

} // namespace emu
} // namespace lace

template <class T>
inline T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int = 32) {
  const unsigned lane = lace::emu::self().lane;
  return lace::emu::fromBits<T>(lace::emu::shuffle(
      mask, lace::emu::toBits(value), lane ^ static_cast<unsigned>(lane_mask)));
}
template <class T>
inline T __shfl_sync(unsigned mask, T value, int source, int = 32) {
  return lace::emu::fromBits<T>(lace::emu::shuffle(
      mask, lace::emu::toBits(value), static_cast<unsigned>(source) % 32u));
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T value, unsigned delta, int = 32) {
  const unsigned lane = lace::emu::self().lane;
  return lace::emu::fromBits<T>(
      lace::emu::shuffle(mask, lace::emu::toBits(value), lane + delta));
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  return lace::emu::ballot(mask, predicate != 0);
}
inline int __all_sync(unsigned mask, int predicate) {
  return lace::emu::ballot(mask, predicate != 0) == mask;
}
inline int __any_sync(unsigned mask, int predicate) {
  return lace::emu::ballot(mask, predicate != 0) != 0;
}

// ---- The arch layer (lace_arch.cuh's host half)
// ------------------------------
namespace lace {
namespace arch {

inline unsigned smem_addr(const void *ptr) {
  emu::ThreadState &me = emu::self();
  const unsigned char *p = static_cast<const unsigned char *>(ptr);
  if (p < me.smem || p > me.smem + me.smem_bytes)
    emu::bound->fail("smem_addr of a pointer outside shared memory");
  return static_cast<unsigned>(p - me.smem);
}

inline unsigned char *dynamic_smem() { return emu::self().smem; }

inline int fresh_thread_index() {
  return static_cast<int>(emu::self().thread_idx.x);
}

inline void cp_async_16(unsigned smem, const void *gmem, bool valid) {
  emu::bound->cp_async(smem, gmem, valid ? 16 : 0);
}
inline void cp_async_commit() { emu::bound->cp_async_commit(); }
template <int N> inline void cp_async_wait() { emu::bound->cp_async_wait(N); }

} // namespace arch

namespace emu {

/// The 16 bytes of shared memory a lane's ldmatrix row address names.
inline const unsigned char *matrixRow(const ThreadState &self,
                                      unsigned offset) {
  if (offset % 16 != 0 || offset + 16 > self.smem_bytes)
    bound->fail("ldmatrix row address outside shared memory or not 16-byte "
                "aligned");
  return self.smem + offset;
}

/// ldmatrix.x4 (PTX ISA "ldmatrix"): lanes 8i..8i+7 address the rows of
/// matrix i; lane (g = lane / 4, t = lane % 4) receives in r[i] row g,
/// columns 2t and 2t + 1 of matrix i, or with .trans rows 2t and 2t + 1 of
/// column g.
template <bool kTrans>
inline void combineLdmatrix(WarpExchange &x, unsigned mask,
                            const ThreadState &self) {
  if (mask != 0xffffffffu)
    bound->fail("ldmatrix.sync.aligned needs the whole warp");
  for (unsigned lane = 0; lane < 32; ++lane) {
    const unsigned g = lane / 4, t = lane % 4;
    for (unsigned i = 0; i < 4; ++i) {
      unsigned value;
      if (!kTrans) {
        memcpy(&value, matrixRow(self, x.in[8 * i + g][0]) + 4 * t, 4);
      } else {
        unsigned short lo, hi;
        memcpy(&lo, matrixRow(self, x.in[8 * i + 2 * t][0]) + 2 * g, 2);
        memcpy(&hi, matrixRow(self, x.in[8 * i + 2 * t + 1][0]) + 2 * g, 2);
        value = lo | static_cast<unsigned>(hi) << 16;
      }
      x.out[lane][i] = value;
    }
  }
}

template <class T> constexpr int kMmaOp = kOpMmaBF16;
template <> constexpr int kMmaOp<half> = kOpMmaF16;

template <class T> inline float toFloat(unsigned short bits);
template <> inline float toFloat<half>(unsigned short bits) {
  return f16::halfToFloat(bits);
}
template <> inline float toFloat<__nv_bfloat16>(unsigned short bits) {
  return f16::bfloat16ToFloat(bits);
}

/// mma.sync.aligned.m16n8k16.row.col.f32 (PTX ISA "Matrix Fragments for
/// mma.m16n8k16"): in[lane] = a[0..3], b0, b1, c[0..3] (fp32 bits); out =
/// d[0..3]. Products are exact in fp32; they are summed over k in order and
/// then added to c.
template <class T>
inline void combineMma(WarpExchange &x, unsigned mask, const ThreadState &) {
  if (mask != 0xffffffffu)
    bound->fail("mma.sync.aligned needs the whole warp");
  float a[16][16], b[16][8];
  for (unsigned lane = 0; lane < 32; ++lane) {
    const unsigned g = lane / 4, t = lane % 4;
    const unsigned *in = x.in[lane];
    const unsigned rows[4] = {g, g + 8, g, g + 8};
    const unsigned cols[4] = {2 * t, 2 * t, 2 * t + 8, 2 * t + 8};
    for (int r = 0; r < 4; ++r) {
      a[rows[r]][cols[r]] = toFloat<T>(static_cast<unsigned short>(in[r]));
      a[rows[r]][cols[r] + 1] =
          toFloat<T>(static_cast<unsigned short>(in[r] >> 16));
    }
    b[2 * t][g] = toFloat<T>(static_cast<unsigned short>(in[4]));
    b[2 * t + 1][g] = toFloat<T>(static_cast<unsigned short>(in[4] >> 16));
    b[2 * t + 8][g] = toFloat<T>(static_cast<unsigned short>(in[5]));
    b[2 * t + 9][g] = toFloat<T>(static_cast<unsigned short>(in[5] >> 16));
  }
  for (unsigned lane = 0; lane < 32; ++lane) {
    const unsigned g = lane / 4, t = lane % 4;
    for (unsigned e = 0; e < 4; ++e) {
      const unsigned row = g + (e / 2) * 8, col = 2 * t + e % 2;
      float sum = 0.f;
      for (unsigned k = 0; k < 16; ++k)
        sum += a[row][k] * b[k][col];
      x.out[lane][e] = f16::floatBits(f16::bitsFloat(x.in[lane][6 + e]) + sum);
    }
  }
}

} // namespace emu

namespace arch {

inline void ldmatrix_x4(unsigned (&r)[4], unsigned smem_row) {
  emu::ThreadState &me = emu::self();
  me.exchange->in[me.lane][0] = smem_row;
  emu::bound->warp_collective(0xffffffffu, emu::kOpLdmatrix,
                              emu::combineLdmatrix<false>);
  for (int i = 0; i < 4; ++i)
    r[i] = me.exchange->out[me.lane][i];
}

inline void ldmatrix_x4_trans(unsigned (&r)[4], unsigned smem_row) {
  emu::ThreadState &me = emu::self();
  me.exchange->in[me.lane][0] = smem_row;
  emu::bound->warp_collective(0xffffffffu, emu::kOpLdmatrixTrans,
                              emu::combineLdmatrix<true>);
  for (int i = 0; i < 4; ++i)
    r[i] = me.exchange->out[me.lane][i];
}

template <class T>
inline void mma_m16n8k16(float (&d)[4], const unsigned (&a)[4], unsigned b0,
                         unsigned b1) {
  emu::ThreadState &me = emu::self();
  unsigned *in = me.exchange->in[me.lane];
  for (int i = 0; i < 4; ++i)
    in[i] = a[i];
  in[4] = b0;
  in[5] = b1;
  for (int e = 0; e < 4; ++e)
    in[6 + e] = f16::floatBits(d[e]);
  emu::bound->warp_collective(0xffffffffu, emu::kMmaOp<T>, emu::combineMma<T>);
  for (int e = 0; e < 4; ++e)
    d[e] = f16::bitsFloat(me.exchange->out[me.lane][e]);
}

template <class T> inline unsigned pack2(float lo, float hi);
template <> inline unsigned pack2<half>(float lo, float hi) {
  return f16::floatToHalf(lo) | static_cast<unsigned>(f16::floatToHalf(hi))
                                    << 16;
}
template <> inline unsigned pack2<__nv_bfloat16>(float lo, float hi) {
  return f16::floatToBfloat16(lo) |
         static_cast<unsigned>(f16::floatToBfloat16(hi)) << 16;
}

template <class T> inline void unpack2(unsigned bits, float &lo, float &hi) {
  lo = emu::toFloat<T>(static_cast<unsigned short>(bits & 0xffffu));
  hi = emu::toFloat<T>(static_cast<unsigned short>(bits >> 16));
}

/// ex2.approx.ftz: subnormal inputs and results flush to zero.
inline float fast_exp2(float x) {
  const float y = exp2f(x);
  return y < 1.17549435e-38f ? 0.f : y;
}

} // namespace arch
} // namespace lace
