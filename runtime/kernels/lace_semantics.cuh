//===- lace_semantics.cuh - What the language's primitives mean, once -----===//
//
// The element semantics of the mask primitives and the language's integer
// division, as plain functions of (q, k) and the primitives' operands, for
// both sides: the host's interpreter (the definition) and the layout
// library include this file, and the generated kernel code calls it (the
// file is embedded with the other kernel headers). No dependencies: it
// compiles as CUDA C++ (NVRTC), as host C++ and in the emulator.
//
// I is the integer type of a body: `long long` (int64_t), or `int` where the
// plan proved every value fits (codegen's 32-bit bodies). Operands are the
// clamped values lowering produces (extents >= 0, factors >= 1), and q, k
// lie in [0, 2^31), so `q - k` cannot overflow.
//
// The tests keep the forms the kernel was tuned with: `&` where both sides
// are cheap (no branch per element), `&&`/`||` before a remainder, which
// evaluated on every element cost registers (docs/kernels.md).
//
//===----------------------------------------------------------------------===//
#ifndef LACE_SEMANTICS_CUH
#define LACE_SEMANTICS_CUH

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define LACE_SEMANTIC __host__ __device__ __forceinline__
#else
#define LACE_SEMANTIC inline
#endif

namespace lace {
namespace sem {

/// Floor division (Python's): -7 / 2 = -4; x / 0 = 0; x / -1 = -x with
/// two's complement wrap-around (the minimum stays itself).
template <class I> LACE_SEMANTIC I floor_div(I a, I d) {
  if (d == 0)
    return 0;
  if (d == -1)
    return static_cast<I>(0ull - static_cast<unsigned long long>(a));
  const I r = a / d;
  return (a % d != 0 && ((a < 0) != (d < 0))) ? r - 1 : r;
}

/// Floor remainder: the sign of d; x % 0 = x, x % -1 = 0.
template <class I> LACE_SEMANTIC I floor_mod(I a, I d) {
  if (d == 0)
    return a;
  if (d == -1)
    return 0;
  const I r = a % d;
  return (r != 0 && ((r < 0) != (d < 0))) ? r + d : r;
}

/// causal: k <= q.
template <class I> LACE_SEMANTIC bool causal(I q, I k) { return k <= q; }

/// local(before, after): -after <= q - k <= before.
template <class I> LACE_SEMANTIC bool local(I q, I k, I before, I after) {
  const I d = q - k;
  return (d >= -after) & (d <= before);
}

/// local(before, after, granularity = g): the same on whole g-blocks, the
/// offset counted in tokens (block distance times g).
template <class I>
LACE_SEMANTIC bool local_blocks(I q, I k, I before, I after, I g) {
  const I offset = (floor_div(q, g) - floor_div(k, g)) * g;
  return (offset >= -after) & (offset <= before);
}

/// dilated(before, after, dilation = m): every m-th key, before / after
/// counted in steps of m.
template <class I>
LACE_SEMANTIC bool dilated(I q, I k, I before, I after, I m) {
  const I d = q - k;
  const I steps = floor_div(d, m);
  return floor_mod(d, m) == 0 && ((steps >= -after) & (steps <= before));
}

/// strided(stride = l): causal, the last l keys, then every l-th one.
template <class I> LACE_SEMANTIC bool strided(I q, I k, I l) {
  const I d = q - k;
  return (k <= q) & (d < l || floor_mod(d, l) == 0);
}

/// fixed(stride = l, summary = c): causal within the query's l-block, plus
/// the last c keys of every block.
template <class I> LACE_SEMANTIC bool fixed(I q, I k, I l, I c) {
  return (k <= q) &
         (floor_div(k, l) == floor_div(q, l) || floor_mod(k, l) >= l - c);
}

/// prefix(length): every key of the prefix, causal after it.
template <class I> LACE_SEMANTIC bool prefix(I q, I k, I length) {
  return (k < length) | (k <= q);
}

/// SplitMix64's finalizer: BigBird's counter-based generator mixes with it.
LACE_SEMANTIC unsigned long long mix(unsigned long long x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// The generator's state for query block `row` of head `head`:
/// draw(j) = mix(random_base(seed, head, row) ^ j).
LACE_SEMANTIC unsigned long long random_base(unsigned long long seed,
                                             unsigned long long head,
                                             unsigned long long row) {
  return mix(mix(mix(seed + 0x9e3779b97f4a7c15ULL) ^ head) ^ row);
}

/// Step j of Floyd's algorithm (j from n - take to n - 1): the candidate
/// block, taken unless it was picked before (then j is).
LACE_SEMANTIC long long random_candidate(unsigned long long base, long long j) {
  return static_cast<long long>(mix(base ^ static_cast<unsigned long long>(j)) %
                                static_cast<unsigned long long>(j + 1));
}

} // namespace sem
} // namespace lace

#endif // LACE_SEMANTICS_CUH
