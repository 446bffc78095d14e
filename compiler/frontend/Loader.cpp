//===- Loader.cpp - Loading files and imports -----------------------------===//
#include "lace/Frontend/Program.h"

#include <algorithm>

namespace lace::frontend {

const Pattern *Program::find(std::string_view name) const {
  for (const ParsedFile &file : files)
    for (const auto &pattern : file.patterns)
      if (pattern->name == name)
        return pattern.get();
  return nullptr;
}

std::vector<const Pattern *> Program::patternsIn(FileId file) const {
  std::vector<const Pattern *> result;
  for (const ParsedFile &parsed : files)
    if (parsed.file == file)
      for (const auto &pattern : parsed.patterns)
        result.push_back(pattern.get());
  return result;
}

std::vector<const Pattern *> Program::allPatterns() const {
  std::vector<const Pattern *> result;
  for (const ParsedFile &parsed : files)
    for (const auto &pattern : parsed.patterns)
      result.push_back(pattern.get());
  return result;
}

namespace {

class Loader {
public:
  Loader(SourceManager &sources, DiagnosticEngine &diags, Program &program)
      : sources_(sources), diags_(diags), program_(program) {}

  void loadMain(const std::string &path) {
    std::optional<FileId> id = sources_.load(path);
    if (!id) {
      diags_.emit(DiagnosticKind::ImportNotFound, SourceRange{},
                  "cannot read file '" + path +
                      "', expected a readable .lace file");
      return;
    }
    program_.mainFile = *id;
    load(*id);
  }

private:
  void load(FileId id) {
    inProgress_.push_back(id);
    ParsedFile parsed = parseFile(sources_, id, diags_);
    for (const Import &import : parsed.imports) {
      if (diags_.stopped())
        break;
      std::string target =
          SourceManager::resolveImport(sources_.path(id), import.path);
      std::optional<FileId> existing = sources_.find(target);
      if (existing) {
        auto cycleStart =
            std::find(inProgress_.begin(), inProgress_.end(), *existing);
        if (cycleStart != inProgress_.end()) {
          std::string chain;
          for (auto it = cycleStart; it != inProgress_.end(); ++it)
            chain += std::string(sources_.path(*it)) + " -> ";
          chain += sources_.path(*existing);
          diags_.emit(DiagnosticKind::ImportCycle, import.range,
                      "import cycle: " + chain +
                          ", expected imports to form no cycle");
        }
        continue; // each file is loaded once
      }
      std::optional<FileId> loaded = sources_.load(target);
      if (!loaded) {
        diags_.emit(DiagnosticKind::ImportNotFound, import.range,
                    "cannot find imported file '" + import.path +
                        "' (looked for '" + target + "')");
        continue;
      }
      load(*loaded);
    }
    inProgress_.pop_back();
    program_.files.push_back(std::move(parsed));
  }

  SourceManager &sources_;
  DiagnosticEngine &diags_;
  Program &program_;
  std::vector<FileId> inProgress_;
};

} // namespace

Program loadProgram(SourceManager &sources, const std::string &path,
                    DiagnosticEngine &diags) {
  Program program;
  unsigned errorsBefore = diags.errorCount();
  Loader(sources, diags, program).loadMain(path);
  if (program.mainFile != kNoFile)
    checkProgram(program, diags);
  program.ok =
      program.mainFile != kNoFile && diags.errorCount() == errorsBefore;
  return program;
}

} // namespace lace::frontend
