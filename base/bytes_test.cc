// Proves big-endian Writer/Reader round trips, that Reader fails (rather than reading past the
// end) on short input and stays failed, and hex formatting.
#include "base/bytes.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace gregor {
namespace {

TEST(Bytes, BigEndianLayout) {
  Bytes b;
  Writer w(b);
  w.be<uint16_t>(0x0102);
  w.be<int32_t>(-2);
  w.be<uint64_t>(0x0102030405060708ull);
  EXPECT_EQ(to_hex(b), "0102fffffffe0102030405060708");
}

TEST(Bytes, ReaderFailsOnShortInputAndStaysFailed) {
  Bytes b = {0x00, 0x01, 0x02};
  Reader r(b);
  EXPECT_EQ(r.be<uint16_t>(), 1);
  EXPECT_EQ(r.be<uint32_t>(), 0u);  // only one byte left
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u8(), 0);  // later reads stay failed, even ones that would fit
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Bytes, PatchOverwritesEarlierField) {
  Bytes b;
  Writer w(b);
  size_t at = w.size();
  w.be<uint32_t>(0);
  w.str("abc");
  w.patch_be<uint32_t>(at, 3);
  Reader r(b);
  EXPECT_EQ(r.be<uint32_t>(), 3u);
  EXPECT_EQ(as_chars(r.bytes(3)), "abc");
  EXPECT_TRUE(r.at_end());
}

RC_GTEST_PROP(Bytes, IntegersRoundTrip, (int16_t a, uint32_t b, int64_t c, std::string s)) {
  Bytes buf;
  Writer w(buf);
  w.be(a);
  w.be(b);
  w.be(c);
  w.str(s);
  Reader r(buf);
  RC_ASSERT(r.be<int16_t>() == a);
  RC_ASSERT(r.be<uint32_t>() == b);
  RC_ASSERT(r.be<int64_t>() == c);
  RC_ASSERT(as_chars(r.bytes(s.size())) == s);
  RC_ASSERT(r.at_end());
}

}  // namespace
}  // namespace gregor
