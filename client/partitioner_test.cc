// Proves the pure pieces of the client: Kafka's murmur2 and default partitioning (so Gregor and
// the Java client put a key in the same partition), the sticky and round-robin partitioners,
// bootstrap list parsing, Kafka error classification, and config validation.
#include <gtest/gtest.h>

#include <set>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/partitioner.h"
#include "client/producer.h"

namespace gregor::client {
namespace {

ByteView view(std::string_view s) {
  return as_bytes(s);
}

TEST(Murmur2, MatchesKafkasTestVectors) {
  // From Kafka's UtilsTest.testMurmur2.
  EXPECT_EQ(murmur2(view("21")), -973932308);
  EXPECT_EQ(murmur2(view("foobar")), -790332482);
  EXPECT_EQ(murmur2(view("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(murmur2(view("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(murmur2(view("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")), -58897971);
  EXPECT_EQ(murmur2(view("abc")), 479470107);
}

TEST(Murmur2, PartitionForKeyIsPositiveModulo) {
  for (int i = 0; i < 200; ++i) {
    std::string key = "key-" + std::to_string(i);
    int32_t p = partition_for_key(view(key), 7);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 7);
    EXPECT_EQ(p, (murmur2(view(key)) & 0x7fffffff) % 7);
  }
}

TEST(Partitioner, KeysAreStableAndNullKeysStickUntilTheBatchCloses) {
  Random random(42);
  Partitioner partitioner(PartitionerKind::default_sticky, random);
  Bytes key = {'k'};
  EXPECT_EQ(partitioner.partition("t", key, 5), partition_for_key(key, 5));
  int32_t sticky = partitioner.partition("t", std::nullopt, 5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(partitioner.partition("t", std::nullopt, 5), sticky);
  std::set<int32_t> seen;
  for (int i = 0; i < 50; ++i) {
    int32_t p = partitioner.partition("t", std::nullopt, 5);
    seen.insert(p);
    partitioner.on_batch_closed("t", p);
  }
  EXPECT_GT(seen.size(), 1u);  // moves on after each closed batch
}

TEST(Partitioner, RoundRobinCyclesThroughEveryPartition) {
  Random random(1);
  Partitioner partitioner(PartitionerKind::round_robin, random);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(partitioner.partition("t", Bytes{'x'}, 3), i % 3);
  }
}

TEST(Bootstrap, ParsesListsAndRejectsJunk) {
  auto a = parse_bootstrap_servers({"h1:9092,h2:9093", " [::1]:9094 "});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[1], (net::Address{"h2", 9093}));
  EXPECT_EQ((*a)[2], (net::Address{"::1", 9094}));
  EXPECT_EQ(parse_bootstrap_servers({}).code(), Errc::invalid_argument);
  EXPECT_EQ(parse_bootstrap_servers({"nohost"}).code(), Errc::invalid_argument);
  EXPECT_EQ(parse_bootstrap_servers({"h:0"}).code(), Errc::invalid_argument);
}

TEST(Errors, ClassifiesLikeKafka) {
  using kafka::ErrorCode;
  EXPECT_TRUE(is_retriable(ErrorCode::not_leader_or_follower));
  EXPECT_TRUE(is_retriable(ErrorCode::unknown_topic_or_partition));
  EXPECT_TRUE(is_retriable(ErrorCode::not_enough_replicas));
  EXPECT_FALSE(is_retriable(ErrorCode::message_too_large));
  EXPECT_FALSE(is_retriable(ErrorCode::out_of_order_sequence_number));
  EXPECT_TRUE(needs_metadata_refresh(ErrorCode::leader_not_available));
  EXPECT_FALSE(needs_metadata_refresh(ErrorCode::invalid_record));
  Status s = kafka_status(ErrorCode::topic_already_exists, "create t");
  EXPECT_EQ(s.code(), Errc::already_exists);
  EXPECT_EQ(s.message(), "TOPIC_ALREADY_EXISTS: create t");
}

TEST(Config, ProducerIdempotenceRules) {
  ProducerConfig c;
  c.bootstrap_servers = {"b:9092"};
  EXPECT_TRUE(validate(c).ok()) << validate(c);
  c.acks = 1;
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);
  c.enable_idempotence = false;
  EXPECT_TRUE(validate(c).ok());
  c.enable_idempotence = true;
  c.acks = -1;
  c.max_in_flight_requests_per_connection = 6;
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);
  c.max_in_flight_requests_per_connection = 5;
  c.delivery_timeout_ms = seconds(1);
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);
  c.delivery_timeout_ms = seconds(120);
  c.acks = 2;
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);
  c.acks = -1;
  c.bootstrap_servers = {};
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);
}

TEST(Config, ConsumerAndAdmin) {
  ConsumerConfig c;
  c.bootstrap_servers = {"b:9092"};
  EXPECT_TRUE(validate(c).ok());
  c.max_partition_fetch_bytes = 0;
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);
  AdminConfig a;
  EXPECT_EQ(validate(a).code(), Errc::invalid_argument);  // no bootstrap servers
  a.bootstrap_servers = {"b:9092"};
  EXPECT_TRUE(validate(a).ok());
}

}  // namespace
}  // namespace gregor::client
