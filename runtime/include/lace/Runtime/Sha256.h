//===- Sha256.h - SHA-256 (FIPS 180-4) ------------------------------------===//
//
// A small, dependency-free SHA-256 for cache keys and entry checksums. Not
// constant-time and not meant for secrets; tested against the FIPS vectors.
//
//===----------------------------------------------------------------------===//
#ifndef LACE_RUNTIME_SHA256_H
#define LACE_RUNTIME_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lace {

using Sha256Digest = std::array<std::uint8_t, 32>;

/// Incremental hashing: update() any number of times, then finish() once.
class Sha256 {
public:
  Sha256();

  void update(const void *data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }

  /// Pads, returns the digest and resets to the empty state.
  Sha256Digest finish();

  static Sha256Digest hash(const void *data, std::size_t size);
  static Sha256Digest hash(std::string_view text) {
    return hash(text.data(), text.size());
  }

private:
  void compress(const std::uint8_t *block);
  void reset();

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_;
  std::size_t buffered_ = 0;
  std::uint64_t totalBytes_ = 0;
};

/// 64 lowercase hex digits.
std::string toHex(const Sha256Digest &digest);

/// The inverse of toHex; accepts upper- or lowercase, nothing else.
std::optional<Sha256Digest> digestFromHex(std::string_view hex);

} // namespace lace

#endif // LACE_RUNTIME_SHA256_H
