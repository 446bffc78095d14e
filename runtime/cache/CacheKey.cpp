//===- CacheKey.cpp - What identifies a compiled kernel -------------------===//
#include "lace/Runtime/CacheKey.h"

#include <algorithm>

namespace lace {

namespace {

/// `<length>:<bytes>`: self-delimiting, so no value can forge a boundary.
void appendField(std::string &out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

} // namespace

CacheKey CacheKey::forKernel(std::string_view canonicalIr,
                             std::string_view templateVersion,
                             std::string_view compilerIdentity,
                             std::string_view arch,
                             std::vector<std::string> options) {
  return CacheKeyBuilder()
      .add(cache_part::kIr, canonicalIr)
      .add(cache_part::kTemplateVersion, templateVersion)
      .add(cache_part::kCompiler, compilerIdentity)
      .add(cache_part::kArch, arch)
      .addSorted(cache_part::kOptions, std::move(options))
      .build();
}

CacheKeyBuilder &CacheKeyBuilder::add(std::string_view name,
                                      std::string_view value) {
  parts_.emplace_back(std::string(name), std::string(value));
  return *this;
}

CacheKeyBuilder &CacheKeyBuilder::addSorted(std::string_view name,
                                            std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  std::string list;
  for (const std::string &value : values)
    appendField(list, value);
  return add(name, list);
}

std::string CacheKeyBuilder::canonical() const {
  std::vector<const std::pair<std::string, std::string> *> sorted;
  sorted.reserve(parts_.size());
  for (const auto &part : parts_)
    sorted.push_back(&part);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](auto *a, auto *b) { return a->first < b->first; });
  std::string out(kSchema);
  out += '\n';
  for (const auto *part : sorted) {
    appendField(out, part->first);
    appendField(out, part->second);
    out += '\n';
  }
  return out;
}

CacheKey CacheKeyBuilder::build() const {
  std::string arch;
  for (const auto &[name, value] : parts_)
    if (name == cache_part::kArch) {
      arch = value;
      break;
    }
  return CacheKey(Sha256::hash(canonical()), std::move(arch));
}

} // namespace lace
