//===- LayoutBench.cpp - Layout and schedule build times ------------------===//
//
// For each pattern and sequence length (block 128, 16 heads, batch 1):
// build the layout of every distinct head layout with classify(), dedupe the
// heads, and build a 132-CTA schedule. Prints the median of N repeats (N
// adaptive, at least 5). Next to it, at 4K and 32K, the naive baseline:
// every tile classified by evaluating every element, as FlexAttention's
// create_block_mask does, for one head layout.
//
// Then packed documents (FlashAttention varlen style): segment & causal
// over 16 documents, equal or of random lengths (fixed seed), at 32K, 128K
// and 1M tokens, classified from per-token ids as the runtime does. The
// element-wise baseline is measured at 32K only (one repeat); at 128K and
// 1M it is its per-element cost at 32K times seq^2, labelled extrapolated.
//
//   lace-layout-bench [--quick] [--documents]
//     --quick:     4K and 32K only (packed documents: 32K only)
//     --documents: only the packed-documents table
//
//===----------------------------------------------------------------------===//
#include "lace/Layout/Classify.h"
#include "lace/Layout/Schedule.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace lace::layout;

namespace {

constexpr std::int64_t kBlock = 128;
constexpr std::int64_t kHeads = 16;
constexpr int kCtas = 132;

double nowMs() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(
             Clock::now().time_since_epoch())
      .count();
}

/// Median wall time of `fn` in ms: at least 5 runs, more while the total
/// stays under about 0.3 s (at most 51).
double medianMs(const std::function<void()> &fn, int *reps = nullptr) {
  std::vector<double> times;
  const double start = nowMs();
  while (times.size() < 5 || (nowMs() - start < 300 && times.size() < 51)) {
    const double t0 = nowMs();
    fn();
    times.push_back(nowMs() - t0);
  }
  std::sort(times.begin(), times.end());
  if (reps)
    *reps = static_cast<int>(times.size());
  return times[times.size() / 2];
}

struct Pattern {
  const char *name;
  /// The mask of head h at length seq.
  std::function<std::unique_ptr<MaskNode>(std::int64_t seq, std::int64_t h)>
      build;
  /// Heads with distinct masks (the rest repeat them).
  std::int64_t distinctHeads;
};

std::int64_t stridedStride(std::int64_t seq) {
  const double root = std::sqrt(static_cast<double>(seq));
  return std::max<std::int64_t>(
      kBlock, static_cast<std::int64_t>(std::llround(root / kBlock)) * kBlock);
}

std::vector<Pattern> patterns() {
  return {
      {"causal", [](std::int64_t, std::int64_t) { return MaskNode::causal(); },
       1},
      {"sliding-4K",
       [](std::int64_t, std::int64_t) {
         return MaskNode::intersect(MaskNode::causal(), MaskNode::local(4095));
       },
       1},
      {"longformer",
       [](std::int64_t, std::int64_t) {
         return MaskNode::unite(MaskNode::local(256, 256),
                                MaskNode::global({}, {{0, 1}}));
       },
       1},
      {"bigbird",
       [](std::int64_t seq, std::int64_t h) {
         // block 64, window 1 block each side (3 blocks), 2 global blocks,
         // 3 random blocks per row, seed 0; the generator varies per head.
         return MaskNode::unite(
             MaskNode::unite(MaskNode::local(64, 64, 64),
                             MaskNode::global({}, {{0, 128}})),
             MaskNode::random(3, 64, 0, h, seq));
       },
       kHeads},
      {"strided",
       [](std::int64_t seq, std::int64_t) {
         return MaskNode::strided(stridedStride(seq));
       },
       1},
  };
}

std::string human(std::int64_t seq) {
  return seq >= (1 << 20) ? std::to_string(seq >> 20) + "M"
                          : std::to_string(seq >> 10) + "K";
}

constexpr std::int64_t kDocuments = 16;

/// Lengths of kDocuments documents filling seq tokens: equal, or cut at
/// kDocuments - 1 distinct random points (fixed seed).
std::vector<std::int64_t> documentLengths(std::int64_t seq, bool random) {
  std::vector<std::int64_t> ends;
  if (random) {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> cut(1, seq - 1);
    while (static_cast<std::int64_t>(ends.size()) < kDocuments - 1) {
      const std::int64_t c = cut(rng);
      if (std::find(ends.begin(), ends.end(), c) == ends.end())
        ends.push_back(c);
    }
    std::sort(ends.begin(), ends.end());
  } else {
    for (std::int64_t d = 1; d < kDocuments; ++d)
      ends.push_back(d * seq / kDocuments);
  }
  ends.push_back(seq);
  std::vector<std::int64_t> lengths;
  std::int64_t at = 0;
  for (const std::int64_t e : ends) {
    lengths.push_back(e - at);
    at = e;
  }
  return lengths;
}

/// Per-token ids (document index) as the runtime expands cu_seqlens.
void expandIds(const std::vector<std::int64_t> &lengths, SegmentIds &ids) {
  ids.q.clear();
  for (std::size_t d = 0; d < lengths.size(); ++d)
    ids.q.insert(ids.q.end(), static_cast<std::size_t>(lengths[d]),
                 static_cast<std::int64_t>(d));
}

/// The packed-documents table; false on a mismatch with the baseline.
bool documentsTable(const std::vector<std::int64_t> &lengths) {
  const Tiles tiles{kBlock, kBlock};
  const auto mask =
      MaskNode::intersect(MaskNode::segment(), MaskNode::causal());
  std::printf("\npacked documents: segment & causal, %lld documents, block "
              "%lld, seq_q == seq_k; times are medians (repeats in "
              "brackets)\n",
              static_cast<long long>(kDocuments),
              static_cast<long long>(kBlock));
  std::printf("%-8s %5s %9s %12s %10s %10s %10s %10s %22s %9s\n", "docs", "seq",
              "ids ms", "layout ms", "non-empty", "full", "vs causal", "vs all",
              "naive ms", "speedup");
  for (const bool random : {false, true}) {
    double naiveNsPerElement = 0;
    for (std::int64_t seq : lengths) {
      const std::vector<std::int64_t> docs = documentLengths(seq, random);
      const Shape shape{seq, seq};
      SegmentIds ids;
      const double idsMs = medianMs([&] { expandIds(docs, ids); });
      BlockLayout layout;
      int reps = 0;
      const double layoutMs = medianMs(
          [&] { layout = classify(*mask, shape, tiles, &ids); }, &reps);
      const std::int64_t n = numTiles(seq, kBlock);
      const std::int64_t causalTiles = n * (n + 1) / 2, allTiles = n * n;
      double naiveMs = 0;
      char naive[64];
      if (seq <= 32768) {
        const double t0 = nowMs();
        const BlockLayout ref = classifyByElements(*mask, shape, tiles, &ids);
        naiveMs = nowMs() - t0;
        if (!(ref == layout)) {
          std::fprintf(stderr, "MISMATCH: packed documents at %lld\n",
                       static_cast<long long>(seq));
          return false;
        }
        naiveNsPerElement = 1e6 * naiveMs / static_cast<double>(seq * seq);
        std::snprintf(naive, sizeof naive, "%.1f", naiveMs);
      } else {
        naiveMs = naiveNsPerElement * 1e-6 * static_cast<double>(seq) *
                  static_cast<double>(seq);
        std::snprintf(naive, sizeof naive, "%.0f (extrapolated)", naiveMs);
      }
      char lay[32];
      std::snprintf(lay, sizeof lay, "%.4f[%d]", layoutMs, reps);
      const auto nonEmpty = static_cast<double>(layout.numNonEmpty());
      std::printf("%-8s %5s %9.4f %12s %10lld %10lld %9.2f%% %9.3f%% %22s "
                  "%8.0fx\n",
                  random ? "random" : "equal", human(seq).c_str(), idsMs, lay,
                  static_cast<long long>(layout.numNonEmpty()),
                  static_cast<long long>(layout.numBlocks(BlockKind::Full)),
                  100 * nonEmpty / static_cast<double>(causalTiles),
                  100 * nonEmpty / static_cast<double>(allTiles), naive,
                  naiveMs / layoutMs);
      std::fflush(stdout);
    }
  }
  std::printf("ids: expanding document lengths into per-token ids (the "
              "caller's SegmentIds); layout: classify() from those ids, "
              "building the id runs included; vs causal / vs all: non-empty "
              "tiles over the causal layout's and over every tile (all "
              "Partial, ids unknown); naive: classifyByElements\n");
  return true;
}

} // namespace

/// The schedule's balance, max / mean CTA load over 132 CTAs, with whole
/// rows and after splitting long rows (the persistent kernel runs the
/// latter): one head and batch 1 at 16K, the case a grid of rows balances
/// worst, and 16 heads.
void scheduleTable() {
  std::printf("\nschedule balance: %d CTAs, block %lld, seq 16K, batch 1\n",
              kCtas, static_cast<long long>(kBlock));
  std::printf("%-16s %5s %10s %10s %10s %8s %8s\n", "pattern", "heads", "items",
              "whole", "split", "rows cut", "pieces");
  constexpr std::int64_t kSeq = 16384;
  const Tiles tiles{kBlock, kBlock};
  SegmentIds ids;
  expandIds(documentLengths(kSeq, false), ids);
  struct Case {
    const char *name;
    std::function<std::unique_ptr<MaskNode>(std::int64_t head)> mask;
    const SegmentIds *segments;
  };
  const std::vector<Pattern> library = patterns();
  auto named = [&](const char *name) {
    return *std::find_if(library.begin(), library.end(), [&](const Pattern &p) {
      return std::strcmp(p.name, name) == 0;
    });
  };
  const Pattern causal = named("causal"), bigbird = named("bigbird");
  const Case cases[] = {
      {"causal", [&](std::int64_t h) { return causal.build(kSeq, h); },
       nullptr},
      {"bigbird", [&](std::int64_t h) { return bigbird.build(kSeq, h); },
       nullptr},
      {"documents x16",
       [](std::int64_t) {
         return MaskNode::intersect(MaskNode::segment(), MaskNode::causal());
       },
       &ids},
  };
  for (const Case &c : cases)
    for (const std::int64_t heads : {std::int64_t{1}, kHeads}) {
      std::vector<BlockLayout> layouts;
      std::vector<int> headToLayout;
      for (std::int64_t h = 0; h < heads; ++h) {
        headToLayout.push_back(static_cast<int>(layouts.size()));
        layouts.push_back(
            classify(*c.mask(h), {kSeq, kSeq}, tiles, c.segments));
      }
      const Schedule schedule =
          buildSchedule(layouts, headToLayout, 1, kCtas, {});
      std::printf("%-16s %5lld %10zu %10.2f %10.2f %8lld %8d\n", c.name,
                  static_cast<long long>(heads), schedule.items.size(),
                  schedule.imbalanceBefore, schedule.imbalanceAfter,
                  static_cast<long long>(schedule.rowsSplit),
                  schedule.numSlots);
    }
  std::printf("whole / split: max / mean CTA load (Full tile 1, Partial "
              "1.25) with whole rows and after cutting rows longer than the "
              "mean; pieces: partial results the combine step merges\n");
}

int main(int argc, char **argv) {
  bool quick = false, documentsOnly = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--documents") == 0) {
      documentsOnly = true;
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--documents]\n", argv[0]);
      return 2;
    }
  }
  std::vector<std::int64_t> documentSeqs{32768, 131072, 1 << 20};
  if (quick)
    documentSeqs.resize(1);
  if (documentsOnly)
    return documentsTable(documentSeqs) ? 0 : 1;
  std::vector<std::int64_t> lengths{4096, 32768, 131072, 1 << 20};
  if (quick)
    lengths.resize(2);
  const Tiles tiles{kBlock, kBlock};

  std::printf("block %lld, %lld heads, batch 1, %d CTAs; times are medians "
              "(repeats in brackets)\n",
              static_cast<long long>(kBlock), static_cast<long long>(kHeads),
              kCtas);
  std::printf("%-11s %5s %4s %11s %10s %10s %8s %10s %9s %9s %11s %11s %8s\n",
              "pattern", "seq", "lay", "layout ms", "per-lay ms", "sched ms",
              "ns/blk", "non-empty", "bytes", "fallback", "imbal b/a",
              "naive ms", "speedup");
  for (const Pattern &p : patterns()) {
    for (std::int64_t seq : lengths) {
      const Shape shape{seq, seq};
      std::vector<std::unique_ptr<MaskNode>> masks;
      for (std::int64_t h = 0; h < p.distinctHeads; ++h)
        masks.push_back(p.build(seq, h));
      std::vector<BlockLayout> layouts;
      int reps = 0;
      const double layoutMs = medianMs(
          [&] {
            layouts.clear();
            for (const auto &m : masks)
              layouts.push_back(classify(*m, shape, tiles));
          },
          &reps);
      // Heads beyond the distinct ones repeat them.
      std::vector<BlockLayout> perHead;
      for (std::int64_t h = 0; h < kHeads; ++h)
        perHead.push_back(
            layouts[static_cast<std::size_t>(h % p.distinctHeads)]);
      const DedupedLayouts d = dedupeHeads(perHead);
      Schedule sched;
      const double schedMs = medianMs(
          [&] { sched = buildSchedule(d.unique, d.headToLayout, 1, kCtas); });
      std::int64_t nonEmpty = 0, fallback = 0;
      std::size_t bytes = 0;
      for (const BlockLayout &l : d.unique) {
        nonEmpty += l.numNonEmpty();
        fallback += l.stats.fallbackBlocks;
        bytes += l.bytes();
      }
      const double perLayout = layoutMs / static_cast<double>(d.unique.size());
      std::string naive = "-", speedup = "-";
      if (seq <= 32768 && (p.distinctHeads == 1 || seq <= 4096)) {
        // One head layout, every element evaluated (one repeat at 32K).
        const double t0 = nowMs();
        const BlockLayout ref = classifyByElements(*masks[0], shape, tiles);
        const double ms = nowMs() - t0;
        if (!(ref == layouts[0])) {
          std::fprintf(stderr, "MISMATCH: %s at %lld\n", p.name,
                       static_cast<long long>(seq));
          return 1;
        }
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1f", ms);
        naive = buf;
        std::snprintf(buf, sizeof buf, "%.0fx", ms / perLayout);
        speedup = buf;
      }
      char lay[32], imb[32];
      std::snprintf(lay, sizeof lay, "%.3f[%d]", layoutMs, reps);
      std::snprintf(imb, sizeof imb, "%.2f/%.2f", sched.imbalanceBefore,
                    sched.imbalanceAfter);
      std::printf(
          "%-11s %5s %4zu %11s %10.3f %10.3f %8.1f %10lld %9zu %9lld %11s "
          "%11s %8s\n",
          p.name, human(seq).c_str(), d.unique.size(), lay, perLayout, schedMs,
          1e6 * layoutMs /
              static_cast<double>(std::max<std::int64_t>(nonEmpty, 1)),
          static_cast<long long>(nonEmpty), bytes,
          static_cast<long long>(fallback), imb, naive.c_str(),
          speedup.c_str());
      std::fflush(stdout);
    }
  }
  std::printf("lay: distinct head layouts built (of %lld heads); non-empty, "
              "bytes, fallback: summed over them; naive: one head layout, "
              "element by element; speedup: naive / per-lay\n",
              static_cast<long long>(kHeads));
  scheduleTable();
  return documentsTable(documentSeqs) ? 0 : 1;
}
