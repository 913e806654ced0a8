#include "base/crc32c.h"

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace gregor {
namespace {

constexpr uint32_t kPoly = 0x82f63b78;  // CRC32C, reflected

// Block sizes for the three-way interleaved hardware loop. The crc32 instruction has a latency
// of 3 cycles and a throughput of 1 per cycle, so three independent streams keep the unit busy;
// the partial CRCs are then combined by "shifting" one over the length of the next.
constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;

// Multiplies a 32x32 GF(2) matrix by a vector.
uint32_t gf2_times(const uint32_t* mat, uint32_t vec) {
  uint32_t sum = 0;
  for (; vec; vec >>= 1, ++mat)
    if (vec & 1) sum ^= *mat;
  return sum;
}

void gf2_square(uint32_t* square, const uint32_t* mat) {
  for (int n = 0; n < 32; ++n) square[n] = gf2_times(mat, mat[n]);
}

// Builds the operator that appends len zero bytes to a CRC (len a power of two).
void zeros_operator(uint32_t* even, size_t len) {
  uint32_t odd[32];
  odd[0] = kPoly;  // operator for one zero bit
  for (int n = 1; n < 32; ++n) odd[n] = 1u << (n - 1);
  gf2_square(even, odd);  // two bits
  gf2_square(odd, even);  // four bits
  do {
    gf2_square(even, odd);
    len >>= 1;
    if (len == 0) return;
    gf2_square(odd, even);
    len >>= 1;
  } while (len);
  std::memcpy(even, odd, sizeof(odd));
}

struct Tables {
  uint32_t slice[8][256];
  uint32_t shift_long[4][256];
  uint32_t shift_short[4][256];

  Tables() {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t crc = n;
      for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ kPoly : crc >> 1;
      slice[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; ++n)
      for (int k = 1; k < 8; ++k)
        slice[k][n] = (slice[k - 1][n] >> 8) ^ slice[0][slice[k - 1][n] & 0xff];
    fill_shift(shift_long, kLongBlock);
    fill_shift(shift_short, kShortBlock);
  }

  static void fill_shift(uint32_t table[4][256], size_t len) {
    uint32_t op[32];
    zeros_operator(op, len);
    for (uint32_t n = 0; n < 256; ++n)
      for (int k = 0; k < 4; ++k) table[k][n] = gf2_times(op, n << (8 * k));
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

inline uint32_t shift(const uint32_t table[4][256], uint32_t crc) {
  return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^
         table[3][crc >> 24];
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) inline uint64_t crc_u64(uint64_t crc, const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return _mm_crc32_u64(crc, v);
}

// Runs three interleaved streams over blocks of `block` bytes while at least 3 blocks remain.
__attribute__((target("sse4.2"))) inline uint64_t three_way(uint64_t crc0, const uint8_t*& next,
                                                            size_t& len, size_t block,
                                                            const uint32_t table[4][256]) {
  while (len >= 3 * block) {
    uint64_t crc1 = 0, crc2 = 0;
    const uint8_t* end = next + block;
    do {
      crc0 = crc_u64(crc0, next);
      crc1 = crc_u64(crc1, next + block);
      crc2 = crc_u64(crc2, next + 2 * block);
      next += 8;
    } while (next < end);
    crc0 = shift(table, static_cast<uint32_t>(crc0)) ^ crc1;
    crc0 = shift(table, static_cast<uint32_t>(crc0)) ^ crc2;
    next += 2 * block;
    len -= 3 * block;
  }
  return crc0;
}
#endif

}  // namespace

uint32_t crc32c_software(uint32_t crc, const void* data, size_t len) {
  const auto& t = tables();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (len >= 8) {
    uint32_t lo = c ^ (static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                       static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24);
    c = t.slice[7][lo & 0xff] ^ t.slice[6][(lo >> 8) & 0xff] ^ t.slice[5][(lo >> 16) & 0xff] ^
        t.slice[4][lo >> 24] ^ t.slice[3][p[4]] ^ t.slice[2][p[5]] ^ t.slice[1][p[6]] ^
        t.slice[0][p[7]];
    p += 8;
    len -= 8;
  }
  while (len--) c = (c >> 8) ^ t.slice[0][(c ^ *p++) & 0xff];
  return ~c;
}

#if defined(__x86_64__)
bool crc32c_hardware_available() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hardware(uint32_t crc, const void* data,
                                                           size_t len) {
  const auto& t = tables();
  const auto* next = static_cast<const uint8_t*>(data);
  uint64_t crc0 = ~crc;
  while (len && (reinterpret_cast<uintptr_t>(next) & 7) != 0) {
    crc0 = _mm_crc32_u8(static_cast<uint32_t>(crc0), *next++);
    --len;
  }
  crc0 = three_way(crc0, next, len, kLongBlock, t.shift_long);
  crc0 = three_way(crc0, next, len, kShortBlock, t.shift_short);
  for (; len >= 8; len -= 8, next += 8) crc0 = crc_u64(crc0, next);
  while (len--) crc0 = _mm_crc32_u8(static_cast<uint32_t>(crc0), *next++);
  return ~static_cast<uint32_t>(crc0);
}
#else
bool crc32c_hardware_available() {
  return false;
}
uint32_t crc32c_hardware(uint32_t crc, const void* data, size_t len) {
  return crc32c_software(crc, data, len);
}
#endif

uint32_t crc32c(uint32_t crc, const void* data, size_t len) {
  return crc32c_hardware_available() ? crc32c_hardware(crc, data, len)
                                     : crc32c_software(crc, data, len);
}

}  // namespace gregor
