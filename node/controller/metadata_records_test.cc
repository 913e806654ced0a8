// Proves the metadata record codecs and their frame:
// - golden bytes, written by hand from Kafka's schemas and AbstractApiMessageSerde, for a
//   TopicRecord (compact string, uuid, empty tagged section) and a PartitionChangeRecord (tagged
//   fields in tag order, a nullable tagged array);
// - every record round-trips at every version Kafka 3.7 knows (random values restricted to the
//   fields of the version, RapidCheck), through the frame, keeping the version;
// - every strict prefix of a frame and a frame with a byte appended is Errc::corrupt; damaged
//   frames and random bytes never crash (ok or Errc::corrupt); unknown frame versions, record
//   types and versions are Errc::corrupt; encoding at an unknown version is Errc::out_of_range;
// - record sequences (the snapshot container) round-trip, and damage to them is Errc::corrupt.
#include "node/controller/metadata_records.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <sstream>

#include "node/kafka/messages_testing.h"

namespace gregor::metadata {
namespace {

Bytes hex(std::string_view s) {
  Bytes out;
  std::string digits;
  for (char c : s)
    if (c != ' ') digits.push_back(c);
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

constexpr Uuid kTopicId{0x0102030405060708, 0x090a0b0c0d0e0f10};

TEST(MetadataRecordGolden, TopicRecord) {
  TopicRecord r{.name = "foo", .topic_id = kTopicId};
  Bytes expected =
      hex("01 02 00"                                         // frame 1, type 2, version 0
          "04 66 6f 6f"                                      // compact string "foo"
          "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10"  // topic id
          "00");                                             // no tagged fields
  Result<Bytes> bytes = encode_record(r);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, expected);
  Result<DecodedRecord> back = decode_record(expected);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(std::get<TopicRecord>(back->record), r);
  EXPECT_EQ(back->version, 0);
}

TEST(MetadataRecordGolden, PartitionChangeRecordWithTaggedFields) {
  PartitionChangeRecord r;
  r.partition_id = 3;
  r.topic_id = kTopicId;
  r.isr = std::vector<int32_t>{1, 2};
  r.leader = 2;
  Bytes expected =
      hex("01 05 02"                                         // frame 1, type 5, version 2
          "00 00 00 03"                                      // partition id
          "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10"  // topic id
          "02"                                               // two tagged fields
          "00 09 03 00 00 00 01 00 00 00 02"                 // tag 0 isr: 9 bytes, [1, 2]
          "01 04 00 00 00 02");                              // tag 1 leader: 4 bytes, 2
  Result<Bytes> bytes = encode_record(r);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, expected);
  Result<DecodedRecord> back = decode_record(expected);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(std::get<PartitionChangeRecord>(back->record), r);
  // Defaults (leader -2, null arrays) are not written: the same change without a leader.
  r.leader = kNoLeaderChange;
  EXPECT_EQ(encode_record(r)->size(), expected.size() - 6);
}

TEST(MetadataRecordGolden, NoOpRecord) {
  EXPECT_EQ(encode_record(NoOpRecord{}).value(), hex("01 14 00 00"));  // type 20, empty body
  EXPECT_TRUE(std::holds_alternative<NoOpRecord>(decode_record(hex("01 14 00 00"))->record));
}

template <typename T>
class RecordCodec : public ::testing::Test {};

using AllRecords =
    ::testing::Types<RegisterBrokerRecord, UnregisterBrokerRecord, TopicRecord, PartitionRecord,
                     ConfigRecord, PartitionChangeRecord, FenceBrokerRecord, UnfenceBrokerRecord,
                     RemoveTopicRecord, FeatureLevelRecord, ProducerIdsRecord,
                     BrokerRegistrationChangeRecord, NoOpRecord>;

struct RecordName {
  template <typename T>
  static std::string GetName(int) {
    return std::string(T::record_name);
  }
};
TYPED_TEST_SUITE(RecordCodec, AllRecords, RecordName);

// Runs `property(version)` as a RapidCheck property at every known version.
template <typename T, typename P>
void check_every_version(std::string_view what, P property) {
  for (int16_t v = 0; v <= T::max_version; ++v) {
    rc::detail::TestParams params = rc::detail::configuration().testParams;
    params.maxSuccess = 60;
    rc::detail::TestMetadata metadata;
    metadata.id = fmt::format("{} v{} {}", T::record_name, v, what);
    metadata.description = metadata.id;
    auto result = rc::detail::checkTestable([&] { property(v); }, metadata, params);
    if (!result.template is<rc::detail::SuccessResult>()) {
      std::ostringstream os;
      rc::detail::printResultMessage(result, os);
      ADD_FAILURE() << metadata.id << ":\n" << os.str();
    }
  }
}

template <typename T>
T random_record(int16_t version) {
  T r{};
  kafka::testing::randomize(r, kafka::detail::Context{version, true});
  return r;
}

TYPED_TEST(RecordCodec, RoundTripsAtEveryVersion) {
  using T = TypeParam;
  check_every_version<T>("round trip", [](int16_t v) {
    T r = random_record<T>(v);
    Result<Bytes> bytes = encode_record(r, v);
    RC_ASSERT(bytes.ok());
    Result<DecodedRecord> back = decode_record(*bytes);
    RC_ASSERT(back.ok());
    RC_ASSERT(back->version == v);
    RC_ASSERT(std::get<T>(back->record) == r);
  });
}

TYPED_TEST(RecordCodec, TruncatedOrExtendedIsCorrupt) {
  using T = TypeParam;
  check_every_version<T>("truncation", [](int16_t v) {
    Bytes bytes = encode_record(random_record<T>(v), v).value();
    for (size_t n = 0; n < bytes.size(); ++n)
      RC_ASSERT(decode_record(ByteView(bytes).first(n)).code() == Errc::corrupt);
    bytes.push_back(*rc::gen::arbitrary<uint8_t>());
    RC_ASSERT(decode_record(bytes).code() == Errc::corrupt);
  });
}

TYPED_TEST(RecordCodec, DamagedNeverCrashes) {
  using T = TypeParam;
  check_every_version<T>("damage", [](int16_t v) {
    Bytes bytes = encode_record(random_record<T>(v), v).value();
    const auto flips = *rc::gen::container<std::vector<std::pair<size_t, uint8_t>>>(
        rc::gen::pair(rc::gen::inRange<size_t>(0, bytes.size()), rc::gen::arbitrary<uint8_t>()));
    for (auto [at, value] : flips) bytes[at] = value;
    Result<DecodedRecord> r = decode_record(bytes);
    RC_ASSERT(r.ok() || r.code() == Errc::corrupt);
  });
}

TYPED_TEST(RecordCodec, UnknownVersionsAreRefused) {
  using T = TypeParam;
  EXPECT_EQ(encode_record(T{}, T::max_version + 1).code(), Errc::out_of_range);
  EXPECT_EQ(encode_record(T{}, -1).code(), Errc::out_of_range);
  Bytes frame = encode_record(T{}).value();
  frame[2] = static_cast<uint8_t>(T::max_version + 1);  // versions are one varint byte here
  EXPECT_EQ(decode_record(frame).code(), Errc::corrupt);
}

TEST(MetadataRecordFrame, BadHeadersAreCorrupt) {
  Bytes good = encode_record(FenceBrokerRecord{.id = 1, .epoch = 7}).value();
  Bytes frame0 = good;
  frame0[0] = 0;  // Kafka's pre-release frame version
  EXPECT_EQ(decode_record(frame0).code(), Errc::corrupt);
  Bytes unknown_type = good;
  unknown_type[1] = 6;  // Kafka 3.7 has no record type 6
  EXPECT_EQ(decode_record(unknown_type).code(), Errc::corrupt);
  Bytes huge_version = hex("01 07 ff ff 03");  // version 65535
  EXPECT_EQ(decode_record(huge_version).code(), Errc::corrupt);
  EXPECT_EQ(decode_record(Bytes{}).code(), Errc::corrupt);
  EXPECT_EQ(decode_record(hex("01 ff ff ff ff ff ff ff ff ff ff")).code(), Errc::corrupt);
}

RC_GTEST_PROP(MetadataRecordFrame, RandomBytesNeverCrash, (const std::vector<uint8_t>& bytes)) {
  Result<DecodedRecord> r = decode_record(bytes);
  RC_ASSERT(r.ok() || r.code() == Errc::corrupt);
  Result<std::vector<MetadataRecord>> rs = decode_records(bytes);
  RC_ASSERT(rs.ok() || rs.code() == Errc::corrupt);
}

std::vector<MetadataRecord> some_records() {
  PartitionRecord p;
  p.partition_id = 0;
  p.topic_id = kTopicId;
  p.replicas = {1, 2, 3};
  p.isr = {1, 2};
  p.leader = 1;
  p.leader_epoch = 4;
  p.partition_epoch = 9;
  p.eligible_leader_replicas = std::vector<int32_t>{3};
  RegisterBrokerRecord b;
  b.broker_id = 1;
  b.incarnation_id = Uuid{5, 6};
  b.broker_epoch = 10;
  b.endpoints = {BrokerEndpoint{.name = "PLAINTEXT", .host = "h1", .port = 9092}};
  b.rack = "r1";
  return {b, TopicRecord{.name = "t", .topic_id = kTopicId}, p,
          ConfigRecord{.resource_type = kConfigResourceTopic,
                       .resource_name = "t",
                       .name = "retention.ms",
                       .value = std::nullopt},
          ProducerIdsRecord{.broker_id = 1, .broker_epoch = 10, .next_producer_id = 1000}};
}

TEST(MetadataRecordSequence, RoundTripsAndRefusesDamage) {
  std::vector<MetadataRecord> records = some_records();
  Bytes bytes = encode_records(records).value();
  Result<std::vector<MetadataRecord>> back = decode_records(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, records);
  EXPECT_TRUE(decode_records(Bytes{})->empty());
  for (size_t n = 1; n < bytes.size(); ++n) {
    Result<std::vector<MetadataRecord>> r = decode_records(ByteView(bytes).first(n));
    // A cut between two records is a shorter valid sequence; anywhere else it is corrupt.
    EXPECT_TRUE(r.code() == Errc::corrupt || (r.ok() && r->size() < records.size())) << n;
  }
}

TEST(MetadataRecordSequence, EncodingErrorsNameTheRecord) {
  std::vector<MetadataRecord> records = some_records();
  records.push_back(TopicRecord{.name = std::string(40000, 'x'), .topic_id = kTopicId});
  Result<Bytes> bytes = encode_records(records);
  EXPECT_EQ(bytes.code(), Errc::invalid_argument);
  EXPECT_NE(bytes.status().message().find("record 5: TopicRecord v0: name"), std::string::npos)
      << bytes.status();
}

}  // namespace
}  // namespace gregor::metadata
