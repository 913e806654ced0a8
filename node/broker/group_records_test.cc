#include "node/broker/group_records.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

Bytes hex(std::string_view s) {
  Bytes out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(GroupRecords, OffsetKeyIsKafkasBytes) {
  // version 1, "g" (int16 length), "t", partition 3
  EXPECT_EQ(encode_key(OffsetKey{"g", "t", 3}), hex("0001"
                                                    "000167"
                                                    "000174"
                                                    "00000003"));
  auto back =
      decode_group_record_key(hex("0000"
                                  "000167"
                                  "000174"
                                  "00000003"));  // v0 reads too
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(std::get<OffsetKey>(*back), (OffsetKey{"g", "t", 3}));
}

TEST(GroupRecords, GroupKeyIsKafkasBytes) {
  EXPECT_EQ(encode_key(GroupKey{"grp"}), hex("0002"
                                             "0003677270"));
  auto back = decode_group_record_key(encode_key(GroupKey{"grp"}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<GroupKey>(*back).group, "grp");
}

TEST(GroupRecords, OffsetValueV3IsKafkasBytes) {
  OffsetValue v{42, 7, "m", 1000, -1};
  EXPECT_EQ(encode_value(v), hex("0003"
                                 "000000000000002a"
                                 "00000007"
                                 "00016d"
                                 "00000000000003e8"));
  auto back = decode_offset_value(encode_value(v));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, v);
}

TEST(GroupRecords, OffsetValueWithExpiryIsV1AndOlderVersionsRead) {
  OffsetValue v{5, -1, "", 10, 20};
  Bytes bytes = encode_value(v);
  EXPECT_EQ(bytes[1], 1);
  auto back = decode_offset_value(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v);
  // v0 and v2: offset, metadata, commit timestamp; no leader epoch.
  for (const char* version : {"0000", "0002"}) {
    auto old = decode_offset_value(hex(std::string(version) +
                                       "0000000000000009"
                                       "0000" +
                                       "0000000000000001"));
    ASSERT_TRUE(old.ok()) << version << ": " << old.status();
    EXPECT_EQ(old->offset, 9);
    EXPECT_EQ(old->leader_epoch, -1);
    EXPECT_EQ(old->commit_timestamp, 1);
  }
}

TEST(GroupRecords, GroupValueRoundTripsAndReadsV0) {
  GroupValue v;
  v.protocol_type = "consumer";
  v.generation = 3;
  v.protocol = "range";
  v.leader = "m1";
  v.current_state_timestamp = 123;
  v.members.push_back({"m1", std::nullopt, "c1", "/10.0.0.1", 60000, 10000, {1, 2}, {3}});
  v.members.push_back({"m2", std::nullopt, "c2", "/10.0.0.2", 60000, 10000, {}, {}});
  auto back = decode_group_value(encode_value(v));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, v);

  // v0: no state timestamp, no rebalance timeout (it is the session timeout), no instance id.
  Bytes v0 =
      hex("0000"
          "0008636f6e73756d6572"  // "consumer"
          "00000001"              // generation
          "ffff"                  // protocol null
          "ffff"                  // leader null
          "00000001"              // one member
          "00026d31"
          "00026331"
          "0001"
          "68"
          "00002710"
          "00000000"
          "00000000");
  auto old = decode_group_value(v0);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->generation, 1);
  EXPECT_FALSE(old->protocol.has_value());
  ASSERT_EQ(old->members.size(), 1u);
  EXPECT_EQ(old->members[0].rebalance_timeout_ms, 10000);
  EXPECT_EQ(old->members[0].client_host, "h");
}

TEST(GroupRecords, BadBytesAreErrorsNotCrashes) {
  Bytes good =
      encode_value(GroupValue{"consumer", 1, "range", "m", 5, {{"m", {}, "c", "h", 1, 1, {}, {}}}});
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(decode_group_value(ByteView(good.data(), cut)).ok()) << "cut at " << cut;
  }
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(decode_group_value(trailing).ok());
  EXPECT_FALSE(decode_group_value(hex("0004")).ok());       // flexible v4: refused
  EXPECT_FALSE(decode_offset_value(hex("0009")).ok());      // unknown version
  EXPECT_FALSE(decode_group_record_key(hex("0003")).ok());  // unknown key version
  EXPECT_FALSE(decode_group_record_key(hex("00")).ok());    // truncated version
  EXPECT_EQ(decode_group_value(hex("0003"
                                   "0001"
                                   "63"
                                   "00000001"
                                   "ffff"
                                   "ffff"
                                   "0000000000000000"
                                   "7fffffff"))
                .status()
                .code(),
            Errc::corrupt);  // member count over the limit
}

TEST(GroupRecords, PartitionForMatchesJavaStringHashCode) {
  // Values from Java's "...".hashCode().
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("a"), 97);
  EXPECT_EQ(java_string_hash("hello"), 99162322);
  EXPECT_EQ(java_string_hash("my-group"), -1906497762);
  EXPECT_EQ(java_string_hash("gr\xc3\xbcppe"), -1233264812);   // U+00FC
  EXPECT_EQ(java_string_hash("\xf0\x9f\x98\x80x"), 54959989);  // a surrogate pair
  EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);
  EXPECT_EQ(offsets_partition_for("my-group", 50), 12);
  EXPECT_EQ(offsets_partition_for("console-consumer-12345", 50), 6);
  EXPECT_EQ(offsets_partition_for("polygenelubricants", 50), 0);  // Utils.abs(MIN_VALUE) = 0
  EXPECT_EQ(offsets_partition_for("a", 1), 0);
  // Not UTF-8: each bad byte counts as U+FFFD, and nothing crashes.
  EXPECT_EQ(java_string_hash("\xff"), 0xFFFD);
}

}  // namespace
}  // namespace gregor::broker
