//===- CacheTestSupport.h - Scratch directories and fake compilers --------===//
#ifndef LACE_TESTS_UNIT_CACHE_CACHETESTSUPPORT_H
#define LACE_TESTS_UNIT_CACHE_CACHETESTSUPPORT_H

#include "lace/Runtime/KernelCache.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace lace::test {

/// A fresh directory under the temp dir, removed with its contents.
class ScratchDirectory {
public:
  ScratchDirectory() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "lace-cache-test-XXXXXX")
            .string();
    if (!::mkdtemp(pattern.data()))
      ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path &path() const { return path_; }

private:
  std::filesystem::path path_;
};

/// Collects the cache's warnings instead of printing them.
struct WarningLog {
  std::mutex mutex;
  std::vector<std::string> messages;

  std::function<void(const std::string &)> sink() {
    return [this](const std::string &message) {
      std::lock_guard lock(mutex);
      messages.push_back(message);
    };
  }
  bool contains(std::string_view text) {
    std::lock_guard lock(mutex);
    for (const std::string &message : messages)
      if (message.find(text) != std::string::npos)
        return true;
    return false;
  }
};

inline Payload payloadOf(std::string_view text, std::string kind = "cubin") {
  return Payload{std::vector<char>(text.begin(), text.end()), std::move(kind),
                 "test"};
}

inline std::string textOf(const CacheEntry &entry) {
  return std::string(entry.bytes.begin(), entry.bytes.end());
}

inline std::string readFile(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void writeFile(const std::filesystem::path &path,
                      std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// Sets an environment variable for one scope, restoring the old value.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name))
      old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

private:
  const char *name_;
  std::optional<std::string> old_;
};

} // namespace lace::test

#endif // LACE_TESTS_UNIT_CACHE_CACHETESTSUPPORT_H
