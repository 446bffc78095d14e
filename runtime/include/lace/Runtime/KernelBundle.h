//===- KernelBundle.h - Plans saved for machines without the compiler -----===//
//
// A kernel bundle is one or more KernelPlans in a versioned, line-oriented
// text file (docs/runtime.md gives the format): the kernel's spec and
// generated CUDA source, the layout tables, the canonical IR, and the .lace
// sources and parameters the plan came from (so that a runtime-only build
// can still check results against the interpreter). `lace compile
// --emit=bundle` writes them; Runtime::load takes the plans they hold.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_KERNELBUNDLE_H
#define LACE_RUNTIME_KERNELBUNDLE_H

#include "lace/Runtime/Error.h"
#include "lace/Runtime/KernelPlan.h"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lace {

/// The format version; a reader accepts exactly this one.
/// 2: transposed layout, score derivative; 3: the forward's work list and
/// the run-time masks of segment patterns.
inline constexpr int kBundleVersion = 4;

struct BundleSource {
  std::string path; ///< as the compiler loaded it (the main file first)
  std::string text;
};

struct BundledPlan {
  KernelPlan plan;
  /// The pattern's .lace files: the main file first, then its imports.
  std::vector<BundleSource> sources;
  /// Parameter overrides, in order.
  std::vector<std::pair<std::string, std::string>> params;
  /// Free-form facts for people and benchmarks (e.g. "layout_ms").
  std::map<std::string, std::string> metadata;
};

/// The text of a bundle holding `plans`.
std::string writeBundle(const std::vector<BundledPlan> &plans);

/// Parses a bundle; errors name `name` and the line.
Expected<std::vector<BundledPlan>> readBundle(std::string_view text,
                                              const std::string &name);

Expected<std::vector<BundledPlan>>
loadBundleFile(const std::filesystem::path &path);

/// Writes atomically (temporary file, then rename).
std::optional<Error> saveBundleFile(const std::filesystem::path &path,
                                    const std::vector<BundledPlan> &plans);

} // namespace lace

#endif // LACE_RUNTIME_KERNELBUNDLE_H
