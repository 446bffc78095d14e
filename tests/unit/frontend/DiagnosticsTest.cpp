//===- DiagnosticsTest.cpp - Rendering, limits, coverage, robustness ------===//
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

namespace lace::frontend::test {
namespace {

TEST(DiagnosticsTest, RendersCarbonStyle) {
  Compiled c(
      "pattern p(window: int = 4) {\n  mask = local(before = windw);\n}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.errors(),
            "main.lace:2:25: error: unknown name 'windw' [UnknownName]\n"
            "  mask = local(before = windw);\n"
            "                        ^~~~~\n"
            "main.lace:2:25: note: did you mean 'window'?\n"
            "  mask = local(before = windw);\n"
            "                        ^~~~~\n"
            "main.lace:1:11: note: parameter declared here\n"
            "pattern p(window: int = 4) {\n"
            "          ^~~~~~\n");
}

TEST(DiagnosticsTest, WarningsRenderAsWarningsAndFailNothing) {
  Compiled c("pattern p() { mask = q % 0 == 0; }\n");
  ASSERT_TRUE(c.ok()) << c.errors();
  EXPECT_FALSE(c.diags.hasErrors());
  EXPECT_EQ(c.diags.warningCount(), 1u);
  EXPECT_EQ(c.diags.diagnostics().front().severity, Severity::Warning);
  EXPECT_EQ(c.errors(),
            "main.lace:1:22: warning: divisor of '%' is always 0 (x % 0 is x "
            "for every element), expected a non-zero divisor "
            "[ConstantZeroDivisor]\n"
            "pattern p() { mask = q % 0 == 0; }\n"
            "                     ^~~~~\n");
}

TEST(DiagnosticsTest, WarningsAsErrorsFail) {
  MemoryFileProvider files;
  files.add("main.lace", "pattern p() { mask = q % 0 == 0; }\n");
  SourceManager sources(files);
  DiagnosticEngine diags(sources);
  diags.setWarningsAsErrors(true);
  Program program = loadProgram(sources, "main.lace", diags);
  EXPECT_FALSE(program.ok);
  EXPECT_EQ(diags.errorCount(), 1u);
  EXPECT_EQ(diags.warningCount(), 0u);
  EXPECT_EQ(diags.diagnostics().front().severity, Severity::Error);
  EXPECT_EQ(diags.renderAll().rfind("main.lace:1:22: error: divisor of '%'", 0),
            0u)
      << diags.renderAll();
}

class CountingConsumer : public DiagnosticConsumer {
public:
  void handle(const Diagnostic &) override { ++count; }
  int count = 0;
};

TEST(DiagnosticsTest, ConsumerAndErrorLimit) {
  MemoryFileProvider files;
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "pattern p" + std::to_string(i) + "() { mask = nope; }\n";
  files.add("main.lace", text);
  SourceManager sources(files);
  CountingConsumer consumer;
  DiagnosticEngine diags(sources, &consumer);
  Program program = loadProgram(sources, "main.lace", diags);
  EXPECT_FALSE(program.ok);
  EXPECT_EQ(consumer.count, 21);
  EXPECT_EQ(diags.diagnostics().back().kind, DiagnosticKind::TooManyErrors);
}

TEST(DiagnosticsTest, KindNamesMatchTheDefFile) {
  std::ifstream def(std::string(LACE_SOURCE_DIR) +
                    "/compiler/include/lace/Frontend/Diagnostics.def");
  ASSERT_TRUE(def.good());
  std::stringstream ss;
  ss << def.rdbuf();
  std::string text = ss.str();
  std::regex entry(R"(^LACE_(DIAGNOSTIC|WARNING)\((\w+)\))",
                   std::regex::multiline);
  std::vector<std::pair<std::string, Severity>> declared;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), entry);
       it != std::sregex_iterator(); ++it)
    declared.emplace_back((*it)[2], (*it)[1] == "WARNING" ? Severity::Warning
                                                          : Severity::Error);
  auto kinds = allDiagnosticKinds();
  ASSERT_EQ(declared.size(), kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(declared[i].first, diagnosticKindName(kinds[i]));
    EXPECT_EQ(declared[i].second, declaredSeverity(kinds[i]))
        << declared[i].first;
  }
}

/// Every diagnostic kind has a lit test that triggers it.
TEST(DiagnosticsTest, EveryKindHasALitTest) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(LACE_SOURCE_DIR) / "tests/lit/language/diagnostics";
  for (DiagnosticKind kind : allDiagnosticKinds()) {
    fs::path file = dir / (std::string(diagnosticKindName(kind)) + ".lace");
    EXPECT_TRUE(fs::exists(file)) << "missing lit test " << file;
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_NE(ss.str().find("[" + std::string(diagnosticKindName(kind)) + "]"),
              std::string::npos)
        << file << " does not check for its kind";
  }
}

/// Every diagnostic kind has a row in the table of docs/language.md.
TEST(DiagnosticsTest, EveryKindIsDocumented) {
  std::ifstream in(std::string(LACE_SOURCE_DIR) + "/docs/language.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  for (DiagnosticKind kind : allDiagnosticKinds()) {
    std::string row = "\n| " + std::string(diagnosticKindName(kind)) + " |";
    EXPECT_NE(text.find(row), std::string::npos)
        << "docs/language.md has no row for " << diagnosticKindName(kind);
  }
}

TEST(DiagnosticsTest, EditDistance) {
  EXPECT_EQ(editDistance("window", "windw"), 1u);
  EXPECT_EQ(editDistance("", "abc"), 3u);
  std::vector<std::string> names = {"before", "after", "dilation"};
  EXPECT_EQ(closestName("befor", names), "before");
  EXPECT_EQ(closestName("zzzzzz", names), "");
}

TEST(RobustnessTest, RandomInputsNeverCrash) {
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {"pattern",
                                           "p",
                                           "(",
                                           ")",
                                           "{",
                                           "}",
                                           "mask",
                                           "=",
                                           ";",
                                           "let",
                                           "x",
                                           "q",
                                           "k",
                                           "h",
                                           "s",
                                           "local",
                                           "before",
                                           "1",
                                           "0",
                                           "-",
                                           "/",
                                           "%",
                                           "|",
                                           "&",
                                           "~",
                                           "..",
                                           "{",
                                           ",",
                                           "causal",
                                           "global",
                                           "tokens",
                                           "random",
                                           "per_row",
                                           "?",
                                           ":",
                                           "score",
                                           "float",
                                           "tanh",
                                           "p()",
                                           "int",
                                           ": int",
                                           "9999999999",
                                           "import \"main.lace\";",
                                           "\"",
                                           "/*",
                                           "segment",
                                           "in",
                                           "true",
                                           "!"};
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i)
      text += pieces[rng() % pieces.size()] + " ";
    Compiled c(text);
    for (const Pattern *p : c.program.allPatterns()) {
      if (!p->checked)
        continue;
      SegmentIds ids{{0, 0, 1, 1}, {}};
      auto inst = instantiate(*p, {}, Shape{1, 2, 4, 4}, c.diags, &ids);
      if (inst)
        for (int q = 0; q < 4; ++q)
          inst->mask(0, 1, q, 3);
    }
  }
  std::string bytes;
  for (int i = 0; i < 4000; ++i)
    bytes += static_cast<char>(rng() % 256);
  Compiled c(bytes);
  EXPECT_FALSE(c.ok());
}

TEST(LibraryTest, EveryLibraryPatternChecksAndRunsSmall) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(LACE_SOURCE_DIR) / "patterns";
  int count = 0;
  for (const auto &entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".lace")
      continue;
    DiskFileProvider disk;
    SourceManager sources(disk);
    DiagnosticEngine diags(sources);
    Program program = loadProgram(sources, entry.path().string(), diags);
    ASSERT_TRUE(program.ok) << diags.renderAll();
    for (const Pattern *p : program.patternsIn(program.mainFile)) {
      SegmentIds ids{{0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3}, {}};
      auto inst = instantiate(*p, {}, Shape{1, 2, 16, 16}, diags, &ids);
      ASSERT_TRUE(inst) << p->name << diags.renderAll();
      int live = 0;
      for (int q = 0; q < 16; ++q)
        for (int k = 0; k < 16; ++k)
          live += inst->mask(0, 1, q, k);
      EXPECT_GT(live, 0) << p->name;
      ++count;
    }
  }
  EXPECT_GE(count, 14);
}

} // namespace
} // namespace lace::frontend::test
