// CRC32C (Castagnoli), the checksum of Kafka's record batch v2 and of Gregor's own files.
// Uses the SSE4.2 crc32 instruction in three interleaved streams when the CPU has it, and a
// slicing-by-8 table otherwise; both give identical results (tested against RFC 3720 vectors).
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

// The two implementations, exposed so tests can check them against each other.
uint32_t crc32c_software(uint32_t crc, const void* data, size_t len);
uint32_t crc32c_hardware(uint32_t crc, const void* data, size_t len);  // requires SSE4.2
bool crc32c_hardware_available();

}  // namespace gregor
