// Proves the PRNG is a pure function of its seed, that forked streams are independent of draws
// made on the parent (the property that keeps workloads stable when fault draws are added), and
// that uniform() stays inside its bounds.
#include "base/random.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace gregor {
namespace {

TEST(Random, SameSeedSameSequence) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
}

TEST(Random, ForkIgnoresParentDraws) {
  Random a(9), b(9);
  for (int i = 0; i < 10; ++i) b.next_u64();
  Random fa = a.fork("workload"), fb = b.fork("workload");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(fa.next_u64(), fb.next_u64());
  EXPECT_NE(a.fork("workload").next_u64(), a.fork("faults").next_u64());
  EXPECT_NE(a.fork(1).next_u64(), a.fork(2).next_u64());
}

TEST(Random, ChanceExtremes) {
  Random r(1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(r.chance(0.0));
    EXPECT_TRUE(r.chance(1.0));
  }
}

RC_GTEST_PROP(Random, UniformWithinBounds, (uint64_t seed, uint64_t lo, uint64_t span)) {
  Random r(seed);
  uint64_t hi = lo + std::min(span, UINT64_MAX - lo);
  for (int i = 0; i < 20; ++i) {
    uint64_t v = r.uniform(lo, hi);
    RC_ASSERT(v >= lo);
    RC_ASSERT(v <= hi);
  }
  int64_t s = r.uniform_signed(-5, 5);
  RC_ASSERT(s >= -5);
  RC_ASSERT(s <= 5);
  double u = r.unit();
  RC_ASSERT(u >= 0.0);
  RC_ASSERT(u < 1.0);
}

}  // namespace
}  // namespace gregor
