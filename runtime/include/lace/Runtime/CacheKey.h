//===- CacheKey.h - What identifies a compiled kernel ---------------------===//
//
// A key is the SHA-256 of a canonical serialisation of every input that
// changes the binary. Parts are named; the serialisation sorts them by name
// and length-prefixes names and values, so two different sets of parts can
// never serialise to the same bytes, and the order of add() calls does not
// matter. Option lists are sorted before they are added.
//
//   CacheKey key = CacheKeyBuilder()
//                      .add(cache_part::kIr, ir)
//                      .add(cache_part::kArch, "sm_80")
//                      .addSorted(cache_part::kOptions, options)
//                      .build();
//   key.hex(); // the entry's file name on disk
//
// CacheKey::forKernel() adds the five parts every kernel key has.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_CACHEKEY_H
#define LACE_RUNTIME_CACHEKEY_H

#include "lace/Runtime/Sha256.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lace {

class CacheKey;

/// The part names forKernel() uses; other code should use them too.
namespace cache_part {
inline constexpr std::string_view kIr = "ir";
inline constexpr std::string_view kTemplateVersion = "template";
inline constexpr std::string_view kCompiler = "compiler";
inline constexpr std::string_view kArch = "arch";
inline constexpr std::string_view kOptions = "options";
} // namespace cache_part

/// Collects the named parts of a key; build() hashes them once.
class CacheKeyBuilder {
public:
  /// Bumped when the serialisation itself changes, so old entries miss.
  static constexpr std::string_view kSchema = "lace-cache-key/1";

  /// Adds a named part. A name added twice keeps both values (in call order).
  CacheKeyBuilder &add(std::string_view name, std::string_view value);
  /// Adds a list whose order does not change the binary; it is sorted.
  CacheKeyBuilder &addSorted(std::string_view name,
                             std::vector<std::string> values);

  /// The bytes that are hashed.
  std::string canonical() const;
  CacheKey build() const;

private:
  std::vector<std::pair<std::string, std::string>> parts_;
};

/// An immutable key: the digest is computed once, so a memory-cache lookup
/// costs a hash-map probe and nothing more.
class CacheKey {
public:
  /// The key of a kernel binary: canonical specialised IR, kernel template
  /// version, compiler identity (NVRTC version, or the host compiler for the
  /// emulator), target ("sm_80", "host-x86_64") and options (sorted).
  static CacheKey forKernel(std::string_view canonicalIr,
                            std::string_view templateVersion,
                            std::string_view compilerIdentity,
                            std::string_view arch,
                            std::vector<std::string> options);

  /// A key known only by its digest (e.g. read back from a file name).
  static CacheKey fromDigest(const Sha256Digest &digest) {
    return CacheKey(digest, {});
  }

  const Sha256Digest &digest() const { return digest_; }
  /// 64 lowercase hex digits: the entry's file name on disk.
  std::string hex() const { return toHex(digest_); }
  /// The "arch" part, recorded in the entry's metadata; empty if none.
  const std::string &arch() const { return arch_; }

  friend bool operator==(const CacheKey &a, const CacheKey &b) {
    return a.digest_ == b.digest_;
  }

private:
  friend class CacheKeyBuilder;
  CacheKey(const Sha256Digest &digest, std::string arch)
      : digest_(digest), arch_(std::move(arch)) {}

  Sha256Digest digest_;
  std::string arch_;
};

} // namespace lace

#endif // LACE_RUNTIME_CACHEKEY_H
