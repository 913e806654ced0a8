#include "base/random.h"

namespace gregor {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t fnv1a64(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Random::Random(uint64_t seed) : seed_(seed) {
  uint64_t x = seed;
  for (auto& s : s_) {
    x = mix64(x);
    s = x;
  }
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t Random::next_u64() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Random::uniform(uint64_t lo, uint64_t hi) {
  GREGOR_ASSERT(lo <= hi, "uniform({}, {})", lo, hi);
  uint64_t span = hi - lo;
  if (span == UINT64_MAX) return next_u64();
  // Lemire's nearly-divisionless method would be faster; rejection keeps it exact and simple.
  uint64_t n = span + 1;
  uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  uint64_t x;
  do {
    x = next_u64();
  } while (x >= limit);
  return lo + x % n;
}

int64_t Random::uniform_signed(int64_t lo, int64_t hi) {
  GREGOR_ASSERT(lo <= hi);
  uint64_t off = uniform(0, static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo));
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + off);
}

double Random::unit() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

bool Random::chance(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return unit() < p;
}

Random Random::fork(std::string_view name) const {
  return Random(mix64(seed_ ^ fnv1a64(name)));
}
Random Random::fork(uint64_t index) const {
  return Random(mix64(seed_ ^ mix64(index + 1)));
}

}  // namespace gregor
