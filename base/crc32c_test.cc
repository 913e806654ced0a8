// Proves CRC32C matches published test vectors (RFC 3720 appendix B.4 and the "123456789" check
// value), that ISA-L and the table reference agree on every length and alignment, and that
// CRCs extend: crc(a ++ b) == crc(crc(a), b).
#include "base/crc32c.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <numeric>

#include "base/random.h"

namespace gregor {
namespace {

TEST(Crc32c, CheckValue) {
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xe3069283u);
}

TEST(Crc32c, Rfc3720Vectors) {
  Bytes zeros(32, 0x00), ones(32, 0xff), up(32), down(32);
  std::iota(up.begin(), up.end(), 0);
  for (int i = 0; i < 32; ++i) down[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(crc32c(zeros), 0x8a9136aau);
  EXPECT_EQ(crc32c(ones), 0x62a8ab43u);
  EXPECT_EQ(crc32c(up), 0x46dd794eu);
  EXPECT_EQ(crc32c(down), 0x113fdb5cu);
  // iSCSI SCSI Read (10) command PDU.
  const Bytes pdu = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                     0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
                     0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
                     0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(crc32c(pdu), 0xd9963a56u);
}

TEST(Crc32c, EmptyIsIdentity) {
  EXPECT_EQ(crc32c(0, nullptr, 0), 0u);
  EXPECT_EQ(crc32c(0x12345678u, nullptr, 0), 0x12345678u);
}

// ISA-L folds in 64- to 256-byte blocks with separate paths for short tails: lengths around
// those sizes and long ones, at every alignment.
TEST(Crc32c, IsalMatchesReferenceOnLongBuffers) {
  Bytes buf(3 * 8192 * 2 + 3 * 256 * 3 + 17);
  Random rng(7);
  for (auto& b : buf) b = static_cast<uint8_t>(rng.next_u64());
  for (size_t align = 0; align < 8; ++align) {
    for (size_t len : {0ul, 1ul, 7ul, 8ul, 15ul, 16ul, 63ul, 64ul, 65ul, 255ul, 256ul, 257ul, 767ul,
                       768ul, 769ul, 24575ul, 24576ul, 24577ul, buf.size() - align}) {
      ASSERT_EQ(crc32c(0, buf.data() + align, len), crc32c_software(0, buf.data() + align, len))
          << "align " << align << " len " << len;
    }
  }
}

RC_GTEST_PROP(Crc32c, ExtendsAcrossSplits, (const std::vector<uint8_t>& data, size_t cut)) {
  size_t at = data.empty() ? 0 : cut % (data.size() + 1);
  uint32_t whole = crc32c(data);
  uint32_t first = crc32c(0, data.data(), at);
  RC_ASSERT(crc32c(first, data.data() + at, data.size() - at) == whole);
  RC_ASSERT(crc32c_software(0, data.data(), data.size()) == whole);
}

RC_GTEST_PROP(Crc32c, DetectsEverySingleBitFlip, (const std::vector<uint8_t>& data)) {
  RC_PRE(!data.empty());
  Bytes copy = data;
  size_t bit = *rc::gen::inRange<size_t>(0, data.size() * 8);
  copy[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  RC_ASSERT(crc32c(copy) != crc32c(data));
}

}  // namespace
}  // namespace gregor
