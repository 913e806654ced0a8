// Proves the embedded consumer protocol codec (consumer_protocol.h):
// - golden bytes written by hand from Kafka's ConsumerProtocolSubscription/Assignment schemas for
//   subscription v0, v1 and v3 and assignment v0 and v1, decoded back, every strict prefix refused;
// - a version newer than the newest known is read as the newest known, its extra bytes ignored
//   (Kafka's rule), while trailing bytes after a known version are refused;
// - negative versions, null and negative lengths, counts past the input or over
//   kConsumerProtocolArrayMax are Errc::corrupt with the field named;
// - RapidCheck: random values round-trip at every version; arbitrary and bit-flipped bytes never
//   crash the decoders (ASan+UBSan build).
#include "node/kafka/consumer_protocol.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace gregor::kafka {
namespace {

Bytes hex(std::string_view h) {
  Bytes out;
  std::string digits;
  for (char c : h)
    if (c != ' ' && c != '|') digits += c;
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

template <typename Decode>
void expect_every_prefix_corrupt(ByteView bytes, Decode decode) {
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto got = decode(bytes.first(n));
    ASSERT_FALSE(got.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(got.code(), Errc::corrupt);
  }
}

TEST(ConsumerProtocol, SubscriptionV0Golden) {
  ConsumerSubscription s;
  s.version = 0;
  s.topics = {"ab", "c"};
  s.user_data = std::nullopt;
  // version | 2 topics: "ab", "c" | user_data null
  Bytes want = hex("0000 | 00000002 0002 6162 0001 63 | ffffffff");
  EXPECT_EQ(to_hex(encode_subscription(s)), to_hex(want));
  auto got = decode_subscription(want);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, s);
  expect_every_prefix_corrupt(want, decode_subscription);
}

TEST(ConsumerProtocol, SubscriptionV1Golden) {
  ConsumerSubscription s;
  s.version = 1;
  s.topics = {"t"};
  s.user_data = Bytes{0xaa};
  s.owned_partitions = {{"t", {0, 2}}};
  // version | topics ["t"] | user_data [aa] | owned [("t", [0, 2])]
  Bytes want =
      hex("0001 | 00000001 0001 74 | 00000001 aa | 00000001 0001 74 00000002 00000000 "
          "00000002");
  EXPECT_EQ(to_hex(encode_subscription(s)), to_hex(want));
  auto got = decode_subscription(want);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, s);
  expect_every_prefix_corrupt(want, decode_subscription);
}

TEST(ConsumerProtocol, SubscriptionV3Golden) {
  ConsumerSubscription s;
  s.version = 3;
  s.topics = {"t"};
  s.generation_id = 7;
  s.rack_id = "r1";
  // version | topics ["t"] | user_data null | owned [] | generation 7 | rack "r1"
  Bytes want = hex("0003 | 00000001 0001 74 | ffffffff | 00000000 | 00000007 | 0002 7231");
  EXPECT_EQ(to_hex(encode_subscription(s)), to_hex(want));
  auto got = decode_subscription(want);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, s);
  expect_every_prefix_corrupt(want, decode_subscription);
}

TEST(ConsumerProtocol, AssignmentGoldens) {
  ConsumerAssignment a;
  a.version = 0;
  a.partitions = {{"x", {1}}, {"yz", {}}};
  Bytes v0 = hex("0000 | 00000002 0001 78 00000001 00000001 0002 797a 00000000 | ffffffff");
  EXPECT_EQ(to_hex(encode_assignment(a)), to_hex(v0));
  auto got = decode_assignment(v0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, a);
  expect_every_prefix_corrupt(v0, decode_assignment);

  a.version = 1;
  a.user_data = Bytes{};
  Bytes v1 = hex("0001 | 00000002 0001 78 00000001 00000001 0002 797a 00000000 | 00000000");
  EXPECT_EQ(to_hex(encode_assignment(a)), to_hex(v1));
  got = decode_assignment(v1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, a);
}

TEST(ConsumerProtocol, NewerVersionsReadAsTheNewestKnown) {
  // A v9 subscription: the v3 fields, then fields this codec does not know.
  Bytes sub = hex("0009 | 00000001 0001 74 | ffffffff | 00000000 | 00000005 | ffff | 1234 5678");
  auto s = decode_subscription(sub);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, 9);
  EXPECT_EQ(s->topics, std::vector<std::string>{"t"});
  EXPECT_EQ(s->generation_id, 5);
  EXPECT_FALSE(s->rack_id.has_value());

  Bytes asg = hex("0004 | 00000001 0001 74 00000001 00000003 | ffffffff | cafe");
  auto a = decode_assignment(asg);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->version, 4);
  ASSERT_EQ(a->partitions.size(), 1u);
  EXPECT_EQ(a->partitions[0].partitions, std::vector<int32_t>{3});
}

TEST(ConsumerProtocol, RefusesGarbage) {
  auto expect_corrupt = [](auto got, std::string_view needle) {
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.code(), Errc::corrupt);
    EXPECT_NE(got.status().message().find(needle), std::string::npos) << got.status();
  };
  // Trailing bytes after a known version.
  expect_corrupt(decode_assignment(hex("0000 00000000 ffffffff 00")), "after the last field");
  expect_corrupt(decode_subscription(hex("0000 00000000 ffffffff 00")), "after the last field");
  // Negative version.
  expect_corrupt(decode_assignment(hex("ffff 00000000 ffffffff")), "version");
  // Null topics array, null topic name, negative byte length.
  expect_corrupt(decode_subscription(hex("0000 ffffffff ffffffff")), "topics");
  expect_corrupt(decode_subscription(hex("0000 00000001 ffff ffffffff")), "topics[0]");
  expect_corrupt(decode_subscription(hex("0000 00000000 fffffff0")), "user_data");
  // Counts past the input.
  expect_corrupt(decode_assignment(hex("0000 7fffffff")), "assigned_partitions");
  expect_corrupt(decode_assignment(hex("0000 00000001 0001 74 00000003 00000001 ffffffff")),
                 "assigned_partitions[0].partitions");
  // A count over the named limit, even with the bytes there.
  Bytes big = hex("0000 00000001 0001 74");
  Writer w(big);
  w.be<int32_t>(static_cast<int32_t>(kConsumerProtocolArrayMax + 1));
  big.resize(big.size() + 4 * (kConsumerProtocolArrayMax + 1));
  w.be<int32_t>(-1);
  expect_corrupt(decode_assignment(big), "limit");
  // Empty input (what a member the leader assigned nothing receives): corrupt, callers check.
  expect_corrupt(decode_assignment(ByteView{}), "version");
}

// Inside a property: null or an arbitrary value, half the time each.
template <typename T>
std::optional<T> maybe_arbitrary() {
  if (*rc::gen::arbitrary<bool>()) return std::nullopt;
  return *rc::gen::arbitrary<T>();
}

rc::Gen<std::vector<ConsumerTopicPartitions>> gen_topic_partitions() {
  return rc::gen::container<std::vector<ConsumerTopicPartitions>>(
      rc::gen::build<ConsumerTopicPartitions>(
          rc::gen::set(&ConsumerTopicPartitions::topic, rc::gen::arbitrary<std::string>()),
          rc::gen::set(&ConsumerTopicPartitions::partitions,
                       rc::gen::arbitrary<std::vector<int32_t>>())));
}

RC_GTEST_PROP(ConsumerProtocol, SubscriptionRoundTripsAtEveryVersion, ()) {
  ConsumerSubscription s;
  s.version = *rc::gen::inRange<int16_t>(0, kConsumerSubscriptionVersionMax + 1);
  s.topics = *rc::gen::arbitrary<std::vector<std::string>>();
  s.user_data = maybe_arbitrary<Bytes>();
  if (s.version >= 1) s.owned_partitions = *gen_topic_partitions();
  if (s.version >= 2) s.generation_id = *rc::gen::arbitrary<int32_t>();
  if (s.version >= 3) s.rack_id = maybe_arbitrary<std::string>();
  Bytes bytes = encode_subscription(s);
  auto got = decode_subscription(bytes);
  RC_ASSERT(got.ok());
  RC_ASSERT(*got == s);
}

RC_GTEST_PROP(ConsumerProtocol, AssignmentRoundTripsAtEveryVersion, ()) {
  ConsumerAssignment a;
  a.version = *rc::gen::inRange<int16_t>(0, kConsumerAssignmentVersionMax + 1);
  a.partitions = *gen_topic_partitions();
  a.user_data = maybe_arbitrary<Bytes>();
  Bytes bytes = encode_assignment(a);
  auto got = decode_assignment(bytes);
  RC_ASSERT(got.ok());
  RC_ASSERT(*got == a);
}

RC_GTEST_PROP(ConsumerProtocol, ArbitraryBytesNeverCrash, (const Bytes& bytes)) {
  (void)decode_subscription(bytes);
  (void)decode_assignment(bytes);
}

RC_GTEST_PROP(ConsumerProtocol, FlippedBytesNeverCrash, ()) {
  ConsumerSubscription s;
  s.version = 3;
  s.topics = {"orders", "payments"};
  s.owned_partitions = {{"orders", {0, 1, 2}}};
  Bytes bytes = encode_subscription(s);
  const auto flips = *rc::gen::container<std::vector<std::pair<size_t, uint8_t>>>(
      rc::gen::pair(rc::gen::inRange<size_t>(0, bytes.size()), rc::gen::arbitrary<uint8_t>()));
  for (const auto& [at, value] : flips) bytes[at] = value;
  (void)decode_subscription(bytes);
  (void)decode_assignment(bytes);
}

}  // namespace
}  // namespace gregor::kafka
