#include "base/varint.h"

#include <fmt/format.h>

namespace gregor {

size_t encode_uvarint(uint64_t v, uint8_t* out) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<uint8_t>(v);
  return n;
}

size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::optional<VarintDecode> decode_uvarint(ByteView in) {
  uint64_t value = 0;
  for (size_t i = 0; i < in.size() && i < kVarintMaxBytes; ++i) {
    uint64_t byte = in[i];
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (i == kVarintMaxBytes - 1 && byte > 1) return std::nullopt;
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) return VarintDecode{value, i + 1};
  }
  return std::nullopt;
}

void Writer::uvarint(uint64_t v) {
  uint8_t buf[kVarintMaxBytes];
  size_t n = encode_uvarint(v, buf);
  out_.insert(out_.end(), buf, buf + n);
}

void Writer::varint(int64_t v) {
  uvarint(zigzag_encode(v));
}

uint64_t Reader::uvarint() {
  if (!ok_) return 0;
  auto d = decode_uvarint(in_.subspan(pos_));
  if (!d) {
    ok_ = false;
    return 0;
  }
  pos_ += d->length;
  return d->value;
}

int64_t Reader::varint() {
  return zigzag_decode(uvarint());
}

std::string to_hex(ByteView b) {
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) s += fmt::format("{:02x}", c);
  return s;
}

}  // namespace gregor
