// CRC32C (Castagnoli), the checksum of Kafka's record batch v2 and of Gregor's own files.
// Computed by ISA-L (libisal: PCLMULQDQ/AVX-512 folding chosen for the CPU at run time, about
// 60 GB/s here, 2.5x the SSE4.2 crc32 loop it replaced); a slicing-by-8 table version is kept as
// the reference the tests compare it with (and both with RFC 3720 vectors).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace gregor {

// Extends a CRC32C: crc32c(crc32c(0, a), b) == crc32c(0, a ++ b). Start with 0.
uint32_t crc32c(uint32_t crc, const void* data, size_t len);
inline uint32_t crc32c(ByteView b) {
  return crc32c(0, b.data(), b.size());
}
inline uint32_t crc32c(uint32_t crc, ByteView b) {
  return crc32c(crc, b.data(), b.size());
}

// The reference implementation (table-driven), for tests and benchmarks.
uint32_t crc32c_software(uint32_t crc, const void* data, size_t len);

}  // namespace gregor
