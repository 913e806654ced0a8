// Seeded, splittable pseudo-random numbers (xoshiro256**). A value type: the seed is the only
// thing that differs between worlds (the simulator derives it from the run's seed, production
// from the OS). fork(name) derives an independent stream from the *seed* and the name, not from
// the draws made so far, so adding a draw to one subsystem never reshuffles another.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/assert.h"

namespace gregor {

class Random {
 public:
  explicit Random(uint64_t seed);

  uint64_t seed() const { return seed_; }
  uint64_t next_u64();
  // Uniform in [lo, hi] (inclusive). Requires lo <= hi.
  uint64_t uniform(uint64_t lo, uint64_t hi);
  int64_t uniform_signed(int64_t lo, int64_t hi);
  // Uniform in [0, 1).
  double unit();
  // True with probability p (p <= 0: never; p >= 1: always).
  bool chance(double p);
  // An independent stream named `name`, derived from this stream's seed.
  Random fork(std::string_view name) const;
  Random fork(uint64_t index) const;

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

// 64-bit mixing (splitmix64 finaliser) and a stable string hash (FNV-1a), for deriving seeds.
uint64_t mix64(uint64_t x);
uint64_t fnv1a64(std::string_view s, uint64_t h = 0xcbf29ce484222325ull);

}  // namespace gregor
