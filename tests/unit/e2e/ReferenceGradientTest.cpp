//===- ReferenceGradientTest.cpp - The analytic gradients vs differences --===//
//
// The backward kernels are judged by Reference.h's analytic float64
// gradients; this checks those once against central finite differences of
// the float64 forward on tiny problems: L = sum(O * dO), every element of
// Q, K and V perturbed by +-h. Patterns with a score modifier (softcap,
// ALiBi), a window, rows without a live key and GQA.
//
//===----------------------------------------------------------------------===//
#include "lace/Frontend/Diagnostics.h"
#include "lace/Frontend/Interpreter.h"
#include "lace/Frontend/Program.h"
#include "lace/Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

namespace fe = lace::frontend;

constexpr const char *kPatterns = R"lace(
pattern softcapped() {
  mask = causal;
  score = 2.0 * tanh(s / 2.0);
}
pattern alibi() {
  mask = causal & local(before = 4);
  score = s - alibi_slope(h, heads) * float(q - k);
}
pattern dead_rows() {
  mask = causal & (q % 3 != 1);
}
pattern plain_window() {
  mask = local(before = 2, after = 1);
}
)lace";

double loss(const lace::ReferenceOutputs &out,
            const std::vector<double> &dout) {
  double l = 0;
  for (std::size_t i = 0; i < out.o.size(); ++i)
    l += out.o[i] * dout[i];
  return l;
}

class ReferenceGradient : public ::testing::TestWithParam<const char *> {};

TEST_P(ReferenceGradient, MatchesCentralFiniteDifferences) {
  fe::MemoryFileProvider memory;
  memory.add("g.lace", kPatterns);
  fe::SourceManager sources(memory);
  fe::DiagnosticEngine diags(sources);
  fe::Program program = fe::loadProgram(sources, "g.lace", diags);
  ASSERT_TRUE(program.ok) << diags.renderAll();
  const fe::Pattern *pattern = program.find(GetParam());
  ASSERT_TRUE(pattern);
  // GQA (2 heads over 1 kv head), then two batches with seq_q != seq_k.
  for (const lace::ProblemShape shape :
       {lace::ProblemShape{1, 2, 1, 7, 7}, lace::ProblemShape{2, 2, 2, 6, 7}}) {
    SCOPED_TRACE("batch " + std::to_string(shape.batch) + " seq " +
                 std::to_string(shape.seqQ) + "x" + std::to_string(shape.seqK));
    std::unique_ptr<fe::Instance> instance = fe::instantiate(
        *pattern, {}, {shape.batch, shape.heads, shape.seqQ, shape.seqK},
        diags);
    ASSERT_TRUE(instance) << diags.renderAll();
    lace::AttentionInputs in =
        lace::randomInputs(shape, lace::DType::F16, 8, 11);
    lace::ReferenceProblem problem = lace::ReferenceProblem::of(in);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<double> dout(problem.q.size());
    for (double &x : dout)
      x = uniform(rng);
    const lace::ReferenceGradients analytic =
        lace::referenceAttentionBackward(*instance, problem, dout);

    // The score modifier is evaluated in float (as the language defines it):
    // a coarser step there keeps its rounding out of the difference.
    const double h = instance->hasScore() ? 1e-3 : 1e-5;
    const double tolerance = instance->hasScore() ? 2e-3 : 1e-7;
    double largest = 0, worst = 0;
    for (auto [tensor, gradient] : {std::pair{&problem.q, &analytic.dq},
                                    std::pair{&problem.k, &analytic.dk},
                                    std::pair{&problem.v, &analytic.dv}})
      for (std::size_t i = 0; i < tensor->size(); ++i) {
        const double saved = (*tensor)[i];
        (*tensor)[i] = saved + h;
        const double up =
            loss(lace::referenceAttention(*instance, problem), dout);
        (*tensor)[i] = saved - h;
        const double down =
            loss(lace::referenceAttention(*instance, problem), dout);
        (*tensor)[i] = saved;
        const double numeric = (up - down) / (2 * h);
        largest = std::max(largest, std::fabs((*gradient)[i]));
        worst = std::max(worst, std::fabs(numeric - (*gradient)[i]));
      }
    EXPECT_GT(largest, 0.05) << "the gradients should not all vanish";
    EXPECT_LT(worst, tolerance * std::max(1.0, largest))
        << GetParam() << ": largest gradient " << largest;
    std::printf("%-12s largest gradient %.3f, worst |finite difference - "
                "analytic| %.2e\n",
                GetParam(), largest, worst);
  }
}

INSTANTIATE_TEST_SUITE_P(Patterns, ReferenceGradient,
                         ::testing::Values("softcapped", "alibi", "dead_rows",
                                           "plain_window"));

} // namespace
