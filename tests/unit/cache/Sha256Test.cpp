//===- Sha256Test.cpp - SHA-256 against the FIPS 180 test vectors ---------===//
#include "lace/Runtime/Sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace lace {
namespace {

std::string hexOf(std::string_view text) { return toHex(Sha256::hash(text)); }

TEST(Sha256, FipsShortVectors) {
  EXPECT_EQ(hexOf(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hexOf("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hexOf("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, FipsMillionA) {
  EXPECT_EQ(hexOf(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Padding changes shape at 55/56/63/64 bytes; every split of the input into
// two updates must give the one-shot digest.
TEST(Sha256, IncrementalMatchesOneShotAtEverySplit) {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += static_cast<char>('a' + i % 26);
  for (std::size_t length : {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 200}) {
    std::string_view input(text.data(), length);
    Sha256Digest expected = Sha256::hash(input);
    for (std::size_t split = 0; split <= length; ++split) {
      Sha256 hasher;
      hasher.update(input.substr(0, split));
      hasher.update(input.substr(split));
      ASSERT_EQ(hasher.finish(), expected)
          << "length " << length << " split " << split;
    }
  }
}

TEST(Sha256, FinishResets) {
  Sha256 hasher;
  hasher.update("abc");
  hasher.finish();
  hasher.update("abc");
  EXPECT_EQ(toHex(hasher.finish()), hexOf("abc"));
}

TEST(Sha256, HexRoundTrip) {
  Sha256Digest digest = Sha256::hash("abc");
  std::optional<Sha256Digest> parsed = digestFromHex(toHex(digest));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, digest);
  EXPECT_FALSE(digestFromHex("abc"));
  EXPECT_FALSE(digestFromHex(std::string(64, 'g')));
}

} // namespace
} // namespace lace
