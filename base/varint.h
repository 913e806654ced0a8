// Unsigned LEB128 varints and zigzag-encoded signed varints, as Kafka's record format uses them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/bytes.h"

namespace gregor {

// Longest encoding of a 64-bit value: ceil(64 / 7).
inline constexpr size_t kVarintMaxBytes = 10;

inline constexpr uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline constexpr int64_t zigzag_decode(uint64_t u) {
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

// Writes the encoding into out (at least kVarintMaxBytes) and returns its length.
size_t encode_uvarint(uint64_t v, uint8_t* out);
size_t uvarint_size(uint64_t v);

struct VarintDecode {
  uint64_t value;
  size_t length;
};
// Decodes from the front of in. nullopt when the input ends mid-varint or the encoding is longer
// than kVarintMaxBytes or overflows 64 bits.
std::optional<VarintDecode> decode_uvarint(ByteView in);

}  // namespace gregor
