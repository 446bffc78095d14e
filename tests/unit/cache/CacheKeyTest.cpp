//===- CacheKeyTest.cpp - Every part of a key changes it ------------------===//
#include "lace/Runtime/CacheKey.h"

#include <gtest/gtest.h>

namespace lace {
namespace {

struct KernelInputs {
  std::string ir = "lace.pattern @causal { ... }";
  std::string templateVersion = "fwd-7";
  std::string compiler = "nvrtc 12.4";
  std::string arch = "sm_80";
  std::vector<std::string> options = {"-O3", "--use_fast_math"};

  CacheKey key() const {
    return CacheKey::forKernel(ir, templateVersion, compiler, arch, options);
  }
};

TEST(CacheKey, SameInputsSameKey) {
  EXPECT_EQ(KernelInputs().key(), KernelInputs().key());
  EXPECT_EQ(KernelInputs().key().hex().size(), 64u);
  EXPECT_EQ(KernelInputs().key().arch(), "sm_80");
}

TEST(CacheKey, EveryPartChangesTheKey) {
  const CacheKey base = KernelInputs().key();
  KernelInputs changed;
  changed.ir += " ";
  EXPECT_NE(changed.key(), base) << "ir";
  changed = {};
  changed.templateVersion = "fwd-8";
  EXPECT_NE(changed.key(), base) << "template version";
  changed = {};
  changed.compiler = "nvrtc 12.5";
  EXPECT_NE(changed.key(), base) << "compiler";
  changed = {};
  changed.arch = "sm_90";
  EXPECT_NE(changed.key(), base) << "arch";
  changed = {};
  changed.options.push_back("-lineinfo");
  EXPECT_NE(changed.key(), base) << "options";
}

TEST(CacheKey, OptionOrderDoesNotMatter) {
  KernelInputs reordered;
  reordered.options = {"--use_fast_math", "-O3"};
  EXPECT_EQ(reordered.key(), KernelInputs().key());
}

TEST(CacheKey, PartOrderDoesNotMatter) {
  CacheKey a = CacheKeyBuilder().add("x", "1").add("y", "2").build();
  CacheKey b = CacheKeyBuilder().add("y", "2").add("x", "1").build();
  EXPECT_EQ(a, b);
}

// Length prefixes keep boundaries: moving bytes between parts, names or list
// items must change the key.
TEST(CacheKey, BoundariesCannotBeForged) {
  EXPECT_NE(CacheKeyBuilder().add("a", "bc").build(),
            CacheKeyBuilder().add("ab", "c").build());
  EXPECT_NE(CacheKeyBuilder().add("p", "x").add("q", "y").build(),
            CacheKeyBuilder().add("p", "x\n1:q1:y").build());
  EXPECT_NE(CacheKeyBuilder().addSorted("o", {"-a", "-b"}).build(),
            CacheKeyBuilder().addSorted("o", {"-a-b"}).build());
  EXPECT_NE(CacheKeyBuilder().add("o", "").build(), CacheKeyBuilder().build());
}

TEST(CacheKey, CanonicalFormIsStable) {
  // The serialisation is part of the on-disk contract: a change must bump
  // CacheKeyBuilder::kSchema.
  EXPECT_EQ(CacheKeyBuilder().add("ir", "x").add("arch", "sm_80").canonical(),
            "lace-cache-key/1\n4:arch5:sm_80\n2:ir1:x\n");
}

} // namespace
} // namespace lace
