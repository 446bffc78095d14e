//===- ClassifyTest.cpp - classify() against the interpreter --------------===//
//
// Every case compiles a .lace pattern in memory, instantiates it with the
// frontend (the oracle), builds the mirroring MaskNode tree by hand, and
// compares every tile's kind from classify() with the kind obtained by
// evaluating every element through Instance::mask. Parameters, shapes, tile
// sizes and heads are drawn from seeded generators; the seed is in the trace.
//
//===----------------------------------------------------------------------===//
#include "lace/Layout/Classify.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <random>
#include <string>

namespace lace::layout {
namespace {

namespace fe = lace::frontend;

/// A pattern compiled from one in-memory file.
struct Compiled {
  fe::MemoryFileProvider files;
  fe::SourceManager sources{files};
  fe::DiagnosticEngine diags{sources};
  fe::Program program;

  explicit Compiled(const std::string &text) {
    files.add("main.lace", text);
    program = fe::loadProgram(sources, "main.lace", diags);
  }
  std::unique_ptr<fe::Instance>
  instantiate(const std::string &name, fe::Shape shape,
              const fe::SegmentIds *seg = nullptr) {
    const fe::Pattern *p = program.find(name);
    if (!p)
      return nullptr;
    return fe::instantiate(*p, {}, shape, diags, seg);
  }
};

using Rng = std::mt19937_64;
std::int64_t pick(Rng &rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}
std::int64_t pickTile(Rng &rng) {
  static const std::int64_t sizes[] = {16, 24, 32, 48, 64, 128};
  return sizes[pick(rng, 0, 5)];
}

/// Compares classify() with the interpreter on every tile of head h, and
/// MaskNode::live with Instance::mask on every element. Returns the stats.
LayoutStats expectExact(const fe::Instance &inst, std::int64_t h,
                        const MaskNode &node, Tiles tiles,
                        const SegmentIds *seg = nullptr) {
  const Shape shape{inst.shape().seqQ, inst.shape().seqK};
  const BlockLayout got = classify(node, shape, tiles, seg);
  const std::int64_t rows = numTiles(shape.seqQ, tiles.blockM);
  const std::int64_t cols = numTiles(shape.seqK, tiles.blockN);
  EXPECT_EQ(got.numRows, rows);
  EXPECT_EQ(got.numCols, cols);
  EXPECT_EQ(got.rowOffsets.size(), static_cast<std::size_t>(rows + 1));
  // Runs are sorted, disjoint, in range and maximal.
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int32_t i = got.rowOffsets[r]; i < got.rowOffsets[r + 1]; ++i) {
      const Run &run = got.runs[i];
      EXPECT_LT(run.begin, run.end);
      EXPECT_LE(run.end, cols);
      EXPECT_NE(run.kind, BlockKind::Empty);
      if (i > got.rowOffsets[r]) {
        const Run &prev = got.runs[i - 1];
        EXPECT_LE(prev.end, run.begin);
        EXPECT_FALSE(prev.end == run.begin && prev.kind == run.kind)
            << "runs not maximal in row " << r;
      }
    }
  int failures = 0;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      bool live = false, dead = false;
      for (std::int64_t q = r * tiles.blockM;
           q < std::min(shape.seqQ, (r + 1) * tiles.blockM); ++q)
        for (std::int64_t k = c * tiles.blockN;
             k < std::min(shape.seqK, (c + 1) * tiles.blockN); ++k) {
          const bool m = inst.mask(0, h, q, k);
          (m ? live : dead) = true;
          if (m != node.live(q, k, seg) && failures++ < 5)
            ADD_FAILURE() << "MaskNode::live differs at q=" << q << " k=" << k;
        }
      const BlockKind want = !live  ? BlockKind::Empty
                             : dead ? BlockKind::Partial
                                    : BlockKind::Full;
      if (got.kind(r, c) != want && failures++ < 5)
        ADD_FAILURE() << "tile (" << r << ", " << c << "): got "
                      << int(got.kind(r, c)) << ", want " << int(want);
    }
  return got.stats;
}

/// One random case: shape, tiles, heads.
struct Case {
  std::int64_t seqQ, seqK, heads;
  Tiles tiles;
};
Case drawCase(Rng &rng, bool square = false) {
  Case c;
  c.seqQ = pick(rng, 1, 260);
  c.seqK = square ? c.seqQ : pick(rng, 1, 260);
  c.heads = pick(rng, 1, 3);
  c.tiles = {pickTile(rng), pickTile(rng)};
  return c;
}

/// Runs `cases` random cases of one pattern. `source` gets the drawn
/// parameters; `build` the same parameters and the head.
struct Params {
  std::vector<std::int64_t> v;
  std::int64_t operator[](std::size_t i) const { return v[i]; }
};
void property(const std::string &name, int cases,
              const std::function<Params(Rng &, const Case &)> &draw,
              const std::function<std::string(const Params &)> &source,
              const std::function<std::unique_ptr<MaskNode>(
                  const Params &, std::int64_t head, const Case &)> &build,
              bool square = false, std::int64_t *fallback = nullptr) {
  for (int i = 0; i < cases; ++i) {
    const std::uint64_t seed = std::hash<std::string>{}(name) + i;
    SCOPED_TRACE("pattern " + name + ", seed " + std::to_string(seed));
    Rng rng(seed);
    const Case cs = drawCase(rng, square);
    const Params p = draw(rng, cs);
    const std::string text = source(p);
    SCOPED_TRACE(text + " seq " + std::to_string(cs.seqQ) + "x" +
                 std::to_string(cs.seqK) + " tiles " +
                 std::to_string(cs.tiles.blockM) + "x" +
                 std::to_string(cs.tiles.blockN));
    Compiled c(text);
    ASSERT_TRUE(c.program.ok) << c.diags.renderAll();
    auto inst = c.instantiate("p", {1, cs.heads, cs.seqQ, cs.seqK});
    ASSERT_TRUE(inst) << c.diags.renderAll();
    for (std::int64_t h = 0; h < cs.heads; ++h) {
      SCOPED_TRACE("head " + std::to_string(h));
      auto node = build(p, h, cs);
      LayoutStats st = expectExact(*inst, h, *node, cs.tiles);
      if (fallback)
        *fallback += st.fallbackBlocks;
      if (::testing::Test::HasFailure())
        return;
    }
  }
}

std::string S(std::int64_t v) { return std::to_string(v); }
std::string pat(const std::string &mask) {
  return "pattern p() { mask = " + mask + "; }";
}

/// Random cases per pattern; LACE_LAYOUT_TEST_CASES raises it for soak runs.
const int kCases = [] {
  const char *env = std::getenv("LACE_LAYOUT_TEST_CASES");
  return env ? std::max(1, std::atoi(env)) : 25;
}();

TEST(ClassifyExact, Causal) {
  std::int64_t fb = 0;
  property(
      "causal", kCases, [](Rng &, const Case &) { return Params{}; },
      [](const Params &) { return pat("causal"); },
      [](const Params &, std::int64_t, const Case &) {
        return MaskNode::causal();
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, BidirectionalWindow) {
  std::int64_t fb = 0;
  property(
      "local", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 200), pick(r, 0, 200)}};
      },
      [](const Params &p) {
        return pat("local(before = " + S(p[0]) + ", after = " + S(p[1]) + ")");
      },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::local(p[0], p[1]);
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, GranularWindow) {
  std::int64_t fb = 0;
  property(
      "granular", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 150), pick(r, 0, 150), pick(r, 1, 70)}};
      },
      [](const Params &p) {
        return pat("local(before = " + S(p[0]) + ", after = " + S(p[1]) +
                   ", granularity = " + S(p[2]) + ")");
      },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::local(p[0], p[1], p[2]);
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, DilatedPerHead) {
  std::int64_t fb = 0;
  property(
      "dilated", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 40), pick(r, 0, 40), pick(r, 1, 4)}};
      },
      [](const Params &p) {
        return pat("local(before = " + S(p[0]) + ", after = " + S(p[1]) +
                   ", dilation = 1 + h * " + S(p[2]) + ")");
      },
      [](const Params &p, std::int64_t h, const Case &) {
        return MaskNode::dilated(p[0], p[1], 1 + h * p[2]);
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, WideDilation) {
  std::int64_t fb = 0;
  property(
      "wide-dilated", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 4), pick(r, 0, 4), pick(r, 2, 300)}};
      },
      [](const Params &p) {
        return pat("dilated(before = " + S(p[0]) + ", after = " + S(p[1]) +
                   ", dilation = " + S(p[2]) + ")");
      },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::dilated(p[0], p[1], p[2]);
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, Strided) {
  std::int64_t fb = 0;
  property(
      "strided", kCases,
      [](Rng &r, const Case &) { return Params{{pick(r, 1, 150)}}; },
      [](const Params &p) { return pat("strided(stride = " + S(p[0]) + ")"); },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::strided(p[0]);
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, Fixed) {
  std::int64_t fb = 0;
  property(
      "fixed", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 1, 100), pick(r, 0, 40)}};
      },
      [](const Params &p) {
        return pat("fixed(stride = " + S(p[0]) + ", summary = " + S(p[1]) +
                   ")");
      },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::fixed(p[0], p[1]);
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, Global) {
  std::int64_t fb = 0;
  property(
      "global", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 260), pick(r, 0, 260), pick(r, 0, 60),
                       pick(r, 0, 260)}};
      },
      [](const Params &p) {
        return pat("global(tokens = {" + S(p[0]) + ", " + S(p[1]) + " .. " +
                   S(p[1] + p[2]) + ", " + S(p[3]) + "})");
      },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::global({p[0], p[3]}, {{p[1], p[1] + p[2]}});
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, Random) {
  std::int64_t fb = 0;
  property(
      "random", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 5), pick(r, 1, 70), pick(r, 0, 1000)}};
      },
      [](const Params &p) {
        return pat("random(per_row = " + S(p[0]) +
                   ", granularity = " + S(p[1]) + ", seed = " + S(p[2]) + ")");
      },
      [](const Params &p, std::int64_t h, const Case &c) {
        return MaskNode::random(p[0], p[1], static_cast<std::uint64_t>(p[2]), h,
                                c.seqK);
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, Prefix) {
  std::int64_t fb = 0;
  property(
      "prefix", kCases,
      [](Rng &r, const Case &) { return Params{{pick(r, 0, 280)}}; },
      [](const Params &p) { return pat("prefix(length = " + S(p[0]) + ")"); },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::prefix(p[0]);
      },
      false, &fb);
  EXPECT_EQ(fb, 0);
}

TEST(ClassifyExact, CausalWindow) {
  property(
      "causal-window", kCases,
      [](Rng &r, const Case &) { return Params{{pick(r, 0, 200)}}; },
      [](const Params &p) {
        return pat("causal & local(before = " + S(p[0]) + ")");
      },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::intersect(MaskNode::causal(), MaskNode::local(p[0]));
      });
}

TEST(ClassifyExact, GlobalWindow) {
  property(
      "global-window", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 100), pick(r, 0, 40)}};
      },
      [](const Params &p) {
        return pat("local(before = " + S(p[0]) + ", after = " + S(p[0]) +
                   ") | global(tokens = 0 .. " + S(p[1]) + ")");
      },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::unite(MaskNode::local(p[0], p[0]),
                               MaskNode::global({}, {{0, p[1]}}));
      },
      true);
}

TEST(ClassifyExact, Longformer) {
  property(
      "longformer", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 128), pick(r, 0, 3), pick(r, 1, 3)}};
      },
      [](const Params &p) {
        return "pattern p() { let half = " + S(p[0]) +
               " / 2; mask = local(before = half, after = half, dilation = 1 "
               "+ h % " +
               S(p[2]) + ") | global(tokens = 0 .. " + S(p[1]) + "); }";
      },
      [](const Params &p, std::int64_t h, const Case &) {
        return MaskNode::unite(
            MaskNode::dilated(p[0] / 2, p[0] / 2, 1 + h % p[2]),
            MaskNode::global({}, {{0, p[1]}}));
      },
      true);
}

TEST(ClassifyExact, BigBird) {
  std::int64_t fb = 0;
  property(
      "bigbird", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 1, 40), pick(r, 0, 2), pick(r, 0, 2),
                       pick(r, 0, 3), pick(r, 0, 99)}};
      },
      [](const Params &p) {
        const std::string b = S(p[0]);
        return pat("local(before = " + S(p[1]) + " * " + b +
                   ", after = " + S(p[1]) + " * " + b + ", granularity = " + b +
                   ") | global(tokens = 0 .. " + S(p[2]) + " * " + b +
                   ") | random(per_row = " + S(p[3]) + ", granularity = " + b +
                   ", seed = " + S(p[4]) + ")");
      },
      [](const Params &p, std::int64_t h, const Case &c) {
        return MaskNode::unite(
            MaskNode::unite(MaskNode::local(p[1] * p[0], p[1] * p[0], p[0]),
                            MaskNode::global({}, {{0, p[2] * p[0]}})),
            MaskNode::random(p[3], p[0], static_cast<std::uint64_t>(p[4]), h,
                             c.seqK));
      },
      true, &fb);
  RecordProperty("bigbird_fallback_blocks", static_cast<int>(fb));
}

TEST(ClassifyExact, ComplementAndDifference) {
  property(
      "complement", kCases,
      [](Rng &r, const Case &) {
        return Params{{pick(r, 0, 80), pick(r, 1, 50)}};
      },
      [](const Params &p) {
        return pat("~causal | (full - local(before = " + S(p[0]) +
                   ", after = " + S(p[0]) + ")) & strided(stride = " + S(p[1]) +
                   ")");
      },
      [](const Params &p, std::int64_t, const Case &) {
        return MaskNode::unite(
            MaskNode::complement(MaskNode::causal()),
            MaskNode::intersect(
                MaskNode::difference(MaskNode::full(),
                                     MaskNode::local(p[0], p[0])),
                MaskNode::strided(p[1])));
      });
}

TEST(ClassifyExact, CausalAndPredicate) {
  for (int i = 0; i < 10; ++i) {
    const std::uint64_t seed = 1000 + i;
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng rng(seed);
    const Case cs = drawCase(rng);
    const std::int64_t m = pick(rng, 1, 7), lim = pick(rng, 0, 100);
    const std::string cond = "(q - k) % " + S(m) + " == 0 || q < " + S(lim);
    Compiled c("pattern p() { mask = causal & (" + cond +
               "); }\npattern pred() { mask = " + cond + "; }");
    ASSERT_TRUE(c.program.ok) << c.diags.renderAll();
    fe::Shape shape{1, cs.heads, cs.seqQ, cs.seqK};
    auto inst = c.instantiate("p", shape);
    auto pred = c.instantiate("pred", shape);
    ASSERT_TRUE(inst && pred);
    for (std::int64_t h = 0; h < cs.heads; ++h) {
      const fe::Instance *pi = pred.get();
      // With and without an interval evaluator for the `q < lim` part.
      auto element = [pi, h](std::int64_t q, std::int64_t k) {
        return pi->mask(0, h, q, k);
      };
      auto range = [lim](Interval q, Interval) {
        return q.hi < lim ? Tri::True : Tri::Unknown;
      };
      auto plain =
          MaskNode::intersect(MaskNode::causal(), MaskNode::predicate(element));
      auto ranged = MaskNode::intersect(MaskNode::causal(),
                                        MaskNode::predicate(element, range));
      expectExact(*inst, h, *plain, cs.tiles);
      expectExact(*inst, h, *ranged, cs.tiles);
    }
  }
}

std::vector<std::int64_t> randomIds(Rng &rng, std::int64_t n, bool sorted) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
  std::int64_t cur = pick(rng, 0, 3);
  for (auto &id : ids) {
    if (sorted) {
      if (pick(rng, 0, 40) == 0)
        cur += pick(rng, 1, 2);
      id = cur;
    } else {
      id = pick(rng, 0, 3);
    }
  }
  return ids;
}

TEST(ClassifyExact, Segments) {
  for (int i = 0; i < 24; ++i) {
    const std::uint64_t seed = 2000 + i;
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng rng(seed);
    const Case cs = drawCase(rng);
    const bool sorted = i % 4 != 3, causal = i % 2;
    fe::SegmentIds seg{randomIds(rng, cs.seqQ, sorted),
                       randomIds(rng, cs.seqK, sorted)};
    Compiled c(pat(causal ? "document & causal" : "segment"));
    ASSERT_TRUE(c.program.ok);
    auto inst = c.instantiate("p", {1, 1, cs.seqQ, cs.seqK}, &seg);
    ASSERT_TRUE(inst) << c.diags.renderAll();
    auto node =
        causal ? MaskNode::intersect(MaskNode::segment(), MaskNode::causal())
               : MaskNode::segment();
    expectExact(*inst, 0, *node, cs.tiles, &seg);
  }
}

TEST(ClassifyStats, PrimitivesNeedNoFallback) {
  const Shape shape{1000, 900};
  const Tiles tiles{64, 32};
  std::vector<std::unique_ptr<MaskNode>> prims;
  prims.push_back(MaskNode::causal());
  prims.push_back(MaskNode::local(100, 37));
  prims.push_back(MaskNode::local(100, 37, 50));
  prims.push_back(MaskNode::dilated(30, 10, 3));
  prims.push_back(MaskNode::dilated(3, 1, 200));
  prims.push_back(MaskNode::strided(31));
  prims.push_back(MaskNode::fixed(40, 5));
  prims.push_back(MaskNode::global({5, 500}, {{100, 300}}));
  prims.push_back(MaskNode::random(3, 64, 7, 1, shape.seqK));
  prims.push_back(MaskNode::prefix(333));
  for (const auto &p : prims) {
    const BlockLayout l = classify(*p, shape, tiles);
    EXPECT_EQ(l.stats.fallbackBlocks, 0) << int(p->kind);
    EXPECT_EQ(l, classifyByElements(*p, shape, tiles)) << int(p->kind);
  }
}

TEST(ClassifyStats, CombinationsNeedLittleFallback) {
  const Shape shape{4096, 4096};
  const Tiles tiles{128, 128};
  auto bigbird =
      MaskNode::unite(MaskNode::unite(MaskNode::local(64, 64, 64),
                                      MaskNode::global({}, {{0, 128}})),
                      MaskNode::random(3, 64, 0, 0, shape.seqK));
  const BlockLayout l = classify(*bigbird, shape, tiles);
  EXPECT_EQ(l, classifyByElements(*bigbird, shape, tiles));
  // Fallback only where a random tile meets a partial window tile.
  EXPECT_LE(l.stats.fallbackBlocks, 3 * l.numRows);
  EXPECT_LT(l.stats.fallbackElements, 4096);

  auto window = MaskNode::intersect(MaskNode::causal(), MaskNode::local(1023));
  const BlockLayout w = classify(*window, shape, tiles);
  EXPECT_EQ(w, classifyByElements(*window, shape, tiles));
  // Both operands depend on q - k only: combined exactly, no fallback.
  EXPECT_EQ(w.stats.fallbackBlocks, 0);
}

} // namespace
} // namespace lace::layout
