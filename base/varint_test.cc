// Proves unsigned and zigzag varints round-trip for every value, match the encodings Kafka and
// protobuf use, and that malformed input (truncated, over-long, overflowing) is rejected by the
// decoder and by Reader without reading out of bounds.
#include "base/varint.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <limits>

namespace gregor {
namespace {

Bytes encode(uint64_t v) {
  Bytes out;
  Writer(out).uvarint(v);
  return out;
}

TEST(Varint, KnownEncodings) {
  EXPECT_EQ(encode(0), Bytes({0x00}));
  EXPECT_EQ(encode(1), Bytes({0x01}));
  EXPECT_EQ(encode(127), Bytes({0x7f}));
  EXPECT_EQ(encode(128), Bytes({0x80, 0x01}));
  EXPECT_EQ(encode(300), Bytes({0xac, 0x02}));
  EXPECT_EQ(encode(UINT64_MAX).size(), kVarintMaxBytes);
  EXPECT_EQ(encode(UINT64_MAX).back(), 0x01);
}

TEST(Varint, ZigzagMapsSmallMagnitudesToSmallCodes) {
  EXPECT_EQ(zigzag_encode(0), 0u);
  EXPECT_EQ(zigzag_encode(-1), 1u);
  EXPECT_EQ(zigzag_encode(1), 2u);
  EXPECT_EQ(zigzag_encode(-2), 3u);
  EXPECT_EQ(zigzag_encode(std::numeric_limits<int64_t>::max()), UINT64_MAX - 1);
  EXPECT_EQ(zigzag_encode(std::numeric_limits<int64_t>::min()), UINT64_MAX);
}

TEST(Varint, RejectsTruncatedInput) {
  Bytes b = {0x80, 0x80};
  EXPECT_FALSE(decode_uvarint(b).has_value());
  Reader r(b);
  EXPECT_EQ(r.uvarint(), 0u);
  EXPECT_FALSE(r.ok());
}

TEST(Varint, RejectsOverlongAndOverflowingInput) {
  Bytes eleven(11, 0x80);
  eleven.back() = 0x00;
  EXPECT_FALSE(decode_uvarint(eleven).has_value());
  // Ten bytes whose last carries more than the 64th bit.
  Bytes overflow(9, 0xff);
  overflow.push_back(0x02);
  EXPECT_FALSE(decode_uvarint(overflow).has_value());
}

TEST(Varint, EmptyInputFails) {
  EXPECT_FALSE(decode_uvarint({}).has_value());
}

RC_GTEST_PROP(Varint, UnsignedRoundTrip, (uint64_t v)) {
  Bytes b = encode(v);
  RC_ASSERT(b.size() == uvarint_size(v));
  auto d = decode_uvarint(b);
  RC_ASSERT(d.has_value());
  RC_ASSERT(d->value == v);
  RC_ASSERT(d->length == b.size());
}

RC_GTEST_PROP(Varint, SignedRoundTripThroughReader, (std::vector<int64_t> values)) {
  Bytes b;
  Writer w(b);
  for (int64_t v : values) w.varint(v);
  Reader r(b);
  for (int64_t v : values) RC_ASSERT(r.varint() == v);
  RC_ASSERT(r.at_end());
}

RC_GTEST_PROP(Varint, DecoderNeverReadsPastInput, (std::vector<uint8_t> junk)) {
  auto d = decode_uvarint(junk);
  if (d) RC_ASSERT(d->length <= junk.size());
}

}  // namespace
}  // namespace gregor
