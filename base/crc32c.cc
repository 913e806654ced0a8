#include "base/crc32c.h"

#include <isa-l/crc.h>

#include <climits>

namespace gregor {
namespace {

constexpr uint32_t kPoly = 0x82f63b78;  // CRC32C, reflected

// Slicing-by-8 tables for the reference implementation.
struct Tables {
  uint32_t slice[8][256];

  Tables() {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t crc = n;
      for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ kPoly : crc >> 1;
      slice[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; ++n)
      for (int k = 1; k < 8; ++k)
        slice[k][n] = (slice[k - 1][n] >> 8) ^ slice[0][slice[k - 1][n] & 0xff];
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// ISA-L takes an int length: larger buffers go in pieces of this size.
constexpr size_t kIsalChunkBytes = size_t{1} << 30;

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

// ISA-L's crc32_iscsi is CRC32C without the final inversion and with the initial value given by
// the caller: crc32c(crc, data) == ~crc32_iscsi(data, ~crc).
uint32_t crc32c(uint32_t crc, const void* data, size_t len) {
  auto* p = static_cast<unsigned char*>(const_cast<void*>(data));  // ISA-L only reads
  uint32_t c = ~crc;
  while (len > 0) {
    size_t n = len < kIsalChunkBytes ? len : kIsalChunkBytes;
    c = crc32_iscsi(p, static_cast<int>(n), c);
    p += n;
    len -= n;
  }
  return ~c;
}

}  // namespace gregor
