//===- CacheConfig.cpp - Cache settings from the environment --------------===//
#include "lace/Runtime/KernelCache.h"

#include <cstdlib>
#include <pwd.h>
#include <unistd.h>

namespace lace {

namespace {

std::string_view environment(const char *name) {
  const char *value = std::getenv(name);
  return value ? std::string_view(value) : std::string_view();
}

/// "1048576", "512K", "64M", "1G" (binary multiples).
std::optional<std::uint64_t> parseSize(std::string_view text) {
  std::uint64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (value > (UINT64_MAX - 9) / 10)
      return std::nullopt;
    value = value * 10 + std::uint64_t(text[i] - '0');
  }
  if (i == 0)
    return std::nullopt;
  std::string_view suffix = text.substr(i);
  int shift = suffix.empty()                   ? 0
              : suffix == "K" || suffix == "k" ? 10
              : suffix == "M" || suffix == "m" ? 20
              : suffix == "G" || suffix == "g" ? 30
                                               : -1;
  if (shift < 0 || value > (UINT64_MAX >> shift))
    return std::nullopt;
  return value << shift;
}

} // namespace

Expected<std::filesystem::path> CacheConfig::defaultDirectory() {
  if (std::string_view dir = environment("LACE_CACHE_DIR"); !dir.empty())
    return std::filesystem::path(dir);
  // The XDG spec says relative values are invalid and must be ignored.
  if (std::string_view xdg = environment("XDG_CACHE_HOME");
      !xdg.empty() && xdg.front() == '/')
    return std::filesystem::path(xdg) / "lace";
  std::string_view home = environment("HOME");
  if (home.empty())
    if (const passwd *user = ::getpwuid(::getuid()); user && user->pw_dir)
      home = user->pw_dir;
  if (home.empty())
    return Error("cannot choose a cache directory: set LACE_CACHE_DIR, "
                 "XDG_CACHE_HOME or HOME");
  return std::filesystem::path(home) / ".cache" / "lace";
}

Expected<CacheConfig> CacheConfig::fromEnvironment() {
  CacheConfig config;
  std::string_view disable = environment("LACE_CACHE_DISABLE");
  config.enabled = disable.empty() || disable == "0";
  if (std::string_view cap = environment("LACE_CACHE_MAX_BYTES");
      !cap.empty()) {
    std::optional<std::uint64_t> bytes = parseSize(cap);
    if (!bytes)
      return Error("LACE_CACHE_MAX_BYTES='" + std::string(cap) +
                   "' is not a size, expected bytes or a number with a K, M "
                   "or G suffix");
    config.maxDiskBytes = *bytes;
  }
  Expected<std::filesystem::path> directory = defaultDirectory();
  if (!directory) {
    if (config.enabled)
      return std::move(directory).error();
    return config;
  }
  config.directory = std::move(*directory);
  return config;
}

} // namespace lace
