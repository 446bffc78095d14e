//===- EmulatorTest.cpp - The CPU emulator's CUDA semantics ---------------===//
//
// Small kernels written as CUDA code (compiled here against the emulator's
// device header, the way generated kernels are) check indices, shared
// memory and barriers, shuffles and votes, the documented fragment layouts
// of mma.m16n8k16 and ldmatrix, cp.async's completion rules, atomics across
// worker threads, and that misuse is an error naming the block and thread.
//
//===----------------------------------------------------------------------===//
#include "lace/Runtime/Emulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

// Last: the device header defines CUDA's keywords as macros.
#include "lace_emu_device.cuh"

#include "lace_arch.cuh"

namespace {

namespace emu = lace::emu;

/// Binds the in-process kernels below to the emulator once.
struct Bind {
  Bind() { lace_emu_bind(&emu::hookTable()); }
} bindOnce;

template <class Params>
std::optional<lace::Error> run(void (*kernel)(const Params &), emu::Dim3 grid,
                               emu::Dim3 block, const Params &params,
                               unsigned sharedBytes = 0, unsigned workers = 1,
                               unsigned long long shuffleSeed = 0) {
  static void (*current)(const Params &);
  current = kernel;
  emu::LaunchConfig config;
  config.grid = grid;
  config.block = block;
  config.sharedBytes = sharedBytes;
  config.workers = workers;
  config.shuffleSeed = shuffleSeed;
  return emu::launch(
      [](const void *p) { current(*static_cast<const Params *>(p)); }, config,
      &params);
}

// ---- Indices, shared memory, barriers ---------------------------------------

struct IndexParams {
  unsigned *out;
};

__global__ void writeIndices(const IndexParams &p) {
  const unsigned block =
      blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread =
      threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned perBlock = blockDim.x * blockDim.y * blockDim.z;
  p.out[block * perBlock + thread] = block * 1000 + thread;
}

TEST(Emulator, EveryThreadOfEveryBlockRunsOnceWithItsIndices) {
  std::vector<unsigned> out(3 * 2 * 2 * 4 * 3 * 2, ~0u);
  ASSERT_FALSE(
      run(writeIndices, {3, 2, 2}, {4, 3, 2}, IndexParams{out.data()}, 0, 2));
  for (unsigned i = 0; i < out.size(); ++i)
    EXPECT_EQ(out[i], (i / 24) * 1000 + i % 24);
}

struct ReverseParams {
  const int *in;
  int *out;
};

/// Reverses 256 values through static shared memory: every thread reads
/// what another thread wrote before the barrier.
__global__ void reverseThroughShared(const ReverseParams &p) {
  __shared__ int buffer[256];
  const int t = static_cast<int>(threadIdx.x);
  const int base = static_cast<int>(blockIdx.x) * 256;
  buffer[t] = p.in[base + t];
  __syncthreads();
  p.out[base + t] = buffer[255 - t];
}

TEST(Emulator, BarrierOrdersSharedMemoryAcrossWarps) {
  std::vector<int> in(4 * 256), out(4 * 256, -1);
  for (int i = 0; i < 4 * 256; ++i)
    in[i] = i * 7 + 3;
  ASSERT_FALSE(run(reverseThroughShared, {4, 1, 1}, {256, 1, 1},
                   ReverseParams{in.data(), out.data()}, 0, 2));
  for (int b = 0; b < 4; ++b)
    for (int t = 0; t < 256; ++t)
      ASSERT_EQ(out[b * 256 + t], in[b * 256 + 255 - t]);
}

TEST(Emulator, ShuffledOrderKeepsCorrectKernelsCorrect) {
  std::vector<int> in(2 * 256), out(2 * 256, -1);
  for (int i = 0; i < 2 * 256; ++i)
    in[i] = i * 5 - 100;
  ASSERT_FALSE(run(reverseThroughShared, {2, 1, 1}, {256, 1, 1},
                   ReverseParams{in.data(), out.data()}, 0, 1, 99));
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 256; ++t)
      ASSERT_EQ(out[b * 256 + t], in[b * 256 + 255 - t]);
}

struct ExitParams {
  unsigned *out;
};

/// Lanes 0 and 1 exchange a value before the last barrier and the others
/// go straight to it, so thread 0 (resumed by lane 1 after the scheduler
/// passed it) arrives last, first in a new scheduling pass, and reshuffles
/// the order under that pass.
__global__ void pairThenWrite(const ExitParams &p) {
  unsigned x = threadIdx.x;
  if (threadIdx.x < 2)
    x += __shfl_xor_sync(0x3u, x, 1);
  __syncthreads();
  p.out[threadIdx.x] = x + 1;
}

TEST(Emulator, EveryThreadFinishesWhenTheLastBarrierReshuffles) {
  // A block ended when the threads one pass visited were done, even if the
  // reshuffle at the last barrier had left another one unvisited (its
  // writes were lost): found by the backward kernels.
  for (unsigned long long seed = 1; seed <= 64; ++seed) {
    std::vector<unsigned> out(96, 0);
    ASSERT_FALSE(run(pairThenWrite, {1, 1, 1}, {96, 1, 1},
                     ExitParams{out.data()}, 0, 1, seed));
    for (unsigned t = 0; t < 96; ++t)
      ASSERT_EQ(out[t], (t < 2 ? 1 : t) + 1)
          << "thread " << t << " seed " << seed;
  }
}

struct RaceParams {
  unsigned *out;
};

/// Thread 0 publishes a value that the others read without a barrier in
/// between: correct only for threads that happen to run after thread 0.
__global__ void missingBarrier(const RaceParams &p) {
  auto *published = reinterpret_cast<unsigned *>(lace::arch::dynamic_smem());
  __syncthreads();
  if (threadIdx.x == 0)
    *published = 42;
  p.out[threadIdx.x] = *published;
}

TEST(Emulator, ShuffledOrderExposesAMissingBarrier) {
  std::vector<unsigned> inOrder(128), shuffled(128);
  ASSERT_FALSE(run(missingBarrier, {1, 1, 1}, {128, 1, 1},
                   RaceParams{inOrder.data()}, 16));
  // In thread order only the last thread to reach the barrier (it carries
  // on first) reads too early.
  EXPECT_EQ(std::count(inOrder.begin(), inOrder.end(), 42u), 127);
  ASSERT_FALSE(run(missingBarrier, {1, 1, 1}, {128, 1, 1},
                   RaceParams{shuffled.data()}, 16, 1, 12345));
  EXPECT_LT(std::count(shuffled.begin(), shuffled.end(), 42u), 100)
      << "shuffled, many threads read before thread 0 writes";
}

struct CountParams {
  int *counter;
  float *sum;
};

__global__ void countEverywhere(const CountParams &p) {
  atomicAdd(p.counter, 1);
  atomicAdd(p.sum, 0.5f);
}

TEST(Emulator, AtomicsAreAtomicAcrossWorkers) {
  int counter = 0;
  float sum = 0.f;
  ASSERT_FALSE(run(countEverywhere, {64, 1, 1}, {128, 1, 1},
                   CountParams{&counter, &sum}, 0, 2));
  EXPECT_EQ(counter, 64 * 128);
  EXPECT_EQ(sum, 64 * 128 * 0.5f);
}

// ---- Shuffles and votes --------------------------------------------------

struct WarpParams {
  float *max;
  float *sum;
  unsigned *ballot;
  int *all;
};

__global__ void warpReductions(const WarpParams &p) {
  const int t = static_cast<int>(threadIdx.x);
  const float x = static_cast<float>((t * 37) % 64) - 20.f;
  p.max[t] = lace::arch::quad_max(x);
  p.sum[t] = lace::arch::quad_sum(x);
  p.ballot[t] = __ballot_sync(0xffffffffu, t % 3 == 0);
  p.all[t] = __all_sync(0x0000ffffu << (t / 16 % 2 * 16), t % 32 < 16);
}

TEST(Emulator, QuadReductionsShufflesAndVotes) {
  std::vector<float> max(64), sum(64);
  std::vector<unsigned> ballot(64);
  std::vector<int> all(64);
  ASSERT_FALSE(
      run(warpReductions, {1, 1, 1}, {64, 1, 1},
          WarpParams{max.data(), sum.data(), ballot.data(), all.data()}));
  for (int t = 0; t < 64; ++t) {
    float wantMax = -1e9f, wantSum = 0.f;
    for (int i = t / 4 * 4; i < t / 4 * 4 + 4; ++i) {
      const float x = static_cast<float>((i * 37) % 64) - 20.f;
      wantMax = std::max(wantMax, x);
      wantSum += x;
    }
    EXPECT_EQ(max[t], wantMax) << t;
    EXPECT_EQ(sum[t], wantSum) << t;
    unsigned wantBallot = 0;
    for (int lane = 0; lane < 32; ++lane)
      if ((t / 32 * 32 + lane) % 3 == 0)
        wantBallot |= 1u << lane;
    EXPECT_EQ(ballot[t], wantBallot) << t;
    EXPECT_EQ(all[t], t % 32 < 16 ? 1 : 0) << t;
  }
}

// ---- mma.m16n8k16 and ldmatrix fragment layouts -----------------------------

template <class T> unsigned short toBits(float x);
template <> unsigned short toBits<half>(float x) {
  return lace::f16::floatToHalf(x);
}
template <> unsigned short toBits<__nv_bfloat16>(float x) {
  return lace::f16::floatToBfloat16(x);
}

struct MmaParams {
  const unsigned short *a; ///< 16 x 16 row-major
  const unsigned short *b; ///< 16 x 8 row-major (k, n)
  const float *c;          ///< 16 x 8
  float *d;                ///< 16 x 8
};

/// Loads the fragments straight from the documented layout (PTX ISA,
/// "Matrix Fragments for mma.m16n8k16") and stores D the same way.
template <class T> __global__ void mmaFromLayout(const MmaParams &p) {
  const unsigned lane = threadIdx.x, g = lane / 4, t = lane % 4;
  auto pair = [](const unsigned short *m, unsigned i, unsigned j) {
    return m[i] | static_cast<unsigned>(m[j]) << 16;
  };
  const unsigned a[4] = {
      pair(p.a, g * 16 + 2 * t, g * 16 + 2 * t + 1),
      pair(p.a, (g + 8) * 16 + 2 * t, (g + 8) * 16 + 2 * t + 1),
      pair(p.a, g * 16 + 2 * t + 8, g * 16 + 2 * t + 9),
      pair(p.a, (g + 8) * 16 + 2 * t + 8, (g + 8) * 16 + 2 * t + 9)};
  const unsigned b0 = pair(p.b, (2 * t) * 8 + g, (2 * t + 1) * 8 + g);
  const unsigned b1 = pair(p.b, (2 * t + 8) * 8 + g, (2 * t + 9) * 8 + g);
  float d[4] = {p.c[g * 8 + 2 * t], p.c[g * 8 + 2 * t + 1],
                p.c[(g + 8) * 8 + 2 * t], p.c[(g + 8) * 8 + 2 * t + 1]};
  lace::arch::mma_m16n8k16<T>(d, a, b0, b1);
  p.d[g * 8 + 2 * t] = d[0];
  p.d[g * 8 + 2 * t + 1] = d[1];
  p.d[(g + 8) * 8 + 2 * t] = d[2];
  p.d[(g + 8) * 8 + 2 * t + 1] = d[3];
}

template <class T> void checkMma() {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> small(-8, 8);
  // Values k/4 with |k| <= 8 are exact in both formats, and so is every
  // partial sum: the result must match exactly.
  std::vector<unsigned short> a(256), b(128);
  std::vector<float> af(256), bf(128), c(128), d(128, NAN);
  for (int i = 0; i < 256; ++i)
    a[i] = toBits<T>(af[i] = small(rng) / 4.f);
  for (int i = 0; i < 128; ++i) {
    b[i] = toBits<T>(bf[i] = small(rng) / 4.f);
    c[i] = static_cast<float>(small(rng));
  }
  ASSERT_FALSE(run(mmaFromLayout<T>, {1, 1, 1}, {32, 1, 1},
                   MmaParams{a.data(), b.data(), c.data(), d.data()}));
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      double want = c[m * 8 + n];
      for (int k = 0; k < 16; ++k)
        want += double(af[m * 16 + k]) * bf[k * 8 + n];
      EXPECT_EQ(d[m * 8 + n], want) << "row " << m << " col " << n;
    }
}

TEST(Emulator, MmaF16FollowsTheDocumentedFragmentLayout) { checkMma<half>(); }
TEST(Emulator, MmaBF16FollowsTheDocumentedFragmentLayout) {
  checkMma<__nv_bfloat16>();
}

struct LdmatrixParams {
  unsigned *plain; ///< [32 lanes][4]
  unsigned *trans; ///< [32 lanes][4]
};

/// Shared memory holds a 32 x 8 matrix of 16-bit values v(r, c) = r * 8 + c
/// (four 8 x 8 matrices stacked); lane l addresses row l.
__global__ void ldmatrixRows(const LdmatrixParams &p) {
  unsigned char *smem = lace::arch::dynamic_smem();
  const unsigned lane = threadIdx.x;
  auto *values = reinterpret_cast<unsigned short *>(smem);
  for (unsigned c = 0; c < 8; ++c)
    values[lane * 8 + c] = static_cast<unsigned short>(lane * 8 + c);
  __syncthreads();
  unsigned r[4], rt[4];
  const unsigned row = lace::arch::smem_addr(smem + lane * 16);
  lace::arch::ldmatrix_x4(r, row);
  lace::arch::ldmatrix_x4_trans(rt, row);
  for (int i = 0; i < 4; ++i) {
    p.plain[lane * 4 + i] = r[i];
    p.trans[lane * 4 + i] = rt[i];
  }
}

TEST(Emulator, LdmatrixFollowsTheDocumentedFragmentLayout) {
  std::vector<unsigned> plain(128), trans(128);
  ASSERT_FALSE(run(ldmatrixRows, {1, 1, 1}, {32, 1, 1},
                   LdmatrixParams{plain.data(), trans.data()}, 512));
  auto v = [](unsigned matrix, unsigned r, unsigned c) {
    return (matrix * 8 + r) * 8 + c;
  };
  for (unsigned lane = 0; lane < 32; ++lane) {
    const unsigned g = lane / 4, t = lane % 4;
    for (unsigned i = 0; i < 4; ++i) {
      EXPECT_EQ(plain[lane * 4 + i], v(i, g, 2 * t) | v(i, g, 2 * t + 1) << 16);
      EXPECT_EQ(trans[lane * 4 + i], v(i, 2 * t, g) | v(i, 2 * t + 1, g) << 16);
    }
  }
}

// ---- cp.async ------------------------------------------------------------

struct CopyParams {
  const unsigned *src; ///< 64 x 4 words
  unsigned *before;    ///< what each thread sees before waiting
  unsigned *after;     ///< after cp.async.wait_group 0 and a barrier
  unsigned *partial;   ///< group 0 complete, group 1 pending
};

__global__ void asyncCopies(const CopyParams &p) {
  unsigned char *smem = lace::arch::dynamic_smem();
  const unsigned t = threadIdx.x;
  const unsigned base = lace::arch::smem_addr(smem);
  auto *words = reinterpret_cast<unsigned *>(smem);
  // Group 0: row t (thread t); rows >= 48 are zero-filled.
  lace::arch::cp_async_16(base + t * 16, p.src + t * 4, t < 48);
  lace::arch::cp_async_commit();
  // Group 1: the same row into the second half.
  lace::arch::cp_async_16(base + 1024 + t * 16, p.src + t * 4, true);
  lace::arch::cp_async_commit();
  p.before[t] = words[t * 4];
  lace::arch::cp_async_wait<1>();
  p.partial[t * 2] = words[t * 4];
  p.partial[t * 2 + 1] = words[256 + t * 4];
  lace::arch::cp_async_wait<0>();
  __syncthreads();
  p.after[t] = words[256 + ((t + 1) % 64) * 4];
}

TEST(Emulator, AsyncCopiesLandAtTheirWait) {
  std::vector<unsigned> src(256), before(64), after(64), partial(128);
  for (unsigned i = 0; i < 256; ++i)
    src[i] = i * 3 + 1;
  ASSERT_FALSE(
      run(asyncCopies, {1, 1, 1}, {64, 1, 1},
          CopyParams{src.data(), before.data(), after.data(), partial.data()},
          2048));
  for (unsigned t = 0; t < 64; ++t) {
    EXPECT_EQ(before[t], 0xffffffffu) << "read before the wait: the poison";
    EXPECT_EQ(partial[t * 2], t < 48 ? src[t * 4] : 0u);
    EXPECT_EQ(partial[t * 2 + 1], 0xffffffffu) << "group 1 still pending";
    EXPECT_EQ(after[t], src[((t + 1) % 64) * 4]);
  }
}

// ---- Misuse is an error, not a hang --------------------------------------

struct Empty {};

__global__ void barrierInDivergentCode(const Empty &) {
  if (threadIdx.x < 40)
    __syncthreads();
}

TEST(Emulator, BarrierNotReachedByEveryThreadIsAnError) {
  std::optional<lace::Error> error =
      run(barrierInDivergentCode, {2, 1, 1}, {64, 1, 1}, Empty{});
  ASSERT_TRUE(error);
  EXPECT_NE(error->message().find("__syncthreads not reached by every thread"),
            std::string::npos)
      << error->message();
  EXPECT_NE(error->message().find("40 thread(s) wait at it (first: block (0, "
                                  "0, 0) thread (0, 0, 0))"),
            std::string::npos)
      << error->message();
  EXPECT_NE(error->message().find("24 thread(s) exited"), std::string::npos)
      << error->message();
}

__global__ void mismatchedCollectives(const Empty &) {
  if (threadIdx.x % 2 == 0)
    (void)__shfl_xor_sync(0xffffffffu, 1.f, 1);
  else
    (void)__ballot_sync(0xffffffffu, 1);
}

TEST(Emulator, LanesAtDifferentCollectivesAreAnError) {
  std::optional<lace::Error> error =
      run(mismatchedCollectives, {1, 1, 1}, {32, 1, 1}, Empty{});
  ASSERT_TRUE(error);
  EXPECT_NE(error->message().find("block (0, 0, 0) thread (1, 0, 0): "
                                  "mismatched warp collective"),
            std::string::npos)
      << error->message();
}

__global__ void mismatchedMasks(const Empty &) {
  const unsigned mask = threadIdx.x == 5 ? 0x0000ffffu : 0xffffffffu;
  (void)__shfl_xor_sync(mask, 1.f, 1);
}

TEST(Emulator, MismatchedMasksAreAnError) {
  std::optional<lace::Error> error =
      run(mismatchedMasks, {1, 1, 1}, {32, 1, 1}, Empty{});
  ASSERT_TRUE(error);
  EXPECT_NE(error->message().find("mask 0xffff"), std::string::npos)
      << error->message();
  EXPECT_NE(error->message().find("mask 0xffffffff"), std::string::npos)
      << error->message();
}

__global__ void collectiveAfterLaneExit(const Empty &) {
  if (threadIdx.x == 31)
    return;
  (void)__shfl_xor_sync(0xffffffffu, 1.f, 1);
}

TEST(Emulator, CollectiveWithAnExitedLaneIsAnError) {
  std::optional<lace::Error> error =
      run(collectiveAfterLaneExit, {1, 1, 1}, {32, 1, 1}, Empty{});
  ASSERT_TRUE(error);
  EXPECT_NE(error->message().find("warp collective never completed"),
            std::string::npos)
      << error->message();
}

__global__ void copyOutsideShared(const Empty &) {
  static const unsigned data[4] alignas(16) = {1, 2, 3, 4};
  lace::arch::cp_async_16(4096, data, true);
}

TEST(Emulator, SharedMemoryOutOfBoundsIsAnError) {
  std::optional<lace::Error> error =
      run(copyOutsideShared, {1, 1, 1}, {32, 1, 1}, Empty{}, 1024);
  ASSERT_TRUE(error);
  EXPECT_NE(error->message().find("cp.async destination 4096 outside the "
                                  "1024 bytes of shared memory"),
            std::string::npos)
      << error->message();
}

TEST(Emulator, RejectsLaunchesNoDeviceAllows) {
  std::optional<lace::Error> error =
      run(writeIndices, {1, 1, 1}, {2048, 1, 1}, IndexParams{nullptr});
  ASSERT_TRUE(error);
  EXPECT_NE(error->message().find("2048 threads per block"), std::string::npos);
  error = run(writeIndices, {1, 1, 1}, {32, 1, 1}, IndexParams{nullptr},
              300 * 1024);
  ASSERT_TRUE(error);
  EXPECT_NE(error->message().find("dynamic shared memory"), std::string::npos);
}

} // namespace
