// Proves the producer against a real broker in the simulator: records round-trip through the
// broker for every compression codec, keys land where Kafka's partitioner puts them, acks 0/1/all
// all deliver, idempotent retries across connection resets write every record exactly once and in
// order, records fail (definitely, not indefinitely) after delivery_timeout_ms when the broker is
// unreachable, and the named limits, flush() and close() behave as the header says.
#include <gtest/gtest.h>

#include <set>

#include "client/client_test_helpers.h"

namespace gregor::client {
namespace {

using testing::bytes_of;
using testing::SimBrokerWorld;
using testing::text_of;

std::vector<ProducerRecord> numbered(const std::string& topic, int n, std::optional<int32_t> part,
                                     const std::string& prefix = "v") {
  std::vector<ProducerRecord> out;
  for (int i = 0; i < n; ++i) {
    ProducerRecord r;
    r.topic = topic;
    r.partition = part;
    r.key = bytes_of("k" + std::to_string(i));
    r.value = bytes_of(prefix + std::to_string(i));
    r.headers = {{"h", bytes_of(std::to_string(i))}};
    out.push_back(std::move(r));
  }
  return out;
}

class ProducerCodecTest : public ::testing::TestWithParam<log::Compression> {};

TEST_P(ProducerCodecTest, RoundTripsThroughTheBroker) {
  SimBrokerWorld w;
  testing::create_topic(w, "codec", 1);
  auto config = testing::producer_config(w);
  config.compression_type = GetParam();
  config.batch_size = 2000;  // several batches
  Producer producer(w.client_env(), config);
  auto reports = testing::produce_all(w, producer, numbered("codec", 200, 0));
  for (size_t i = 0; i < reports.size(); ++i) {
    ASSERT_TRUE(reports[i].result.ok()) << reports[i].result.status();
    EXPECT_EQ(reports[i].result->offset, static_cast<int64_t>(i));
    EXPECT_EQ(reports[i].result->partition, 0);
  }
  auto records = testing::read_all(w, {{"codec", 0}});
  ASSERT_EQ(records.size(), 200u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].offset, static_cast<int64_t>(i));
    EXPECT_EQ(text_of(records[i].key), "k" + std::to_string(i));
    EXPECT_EQ(text_of(records[i].value), "v" + std::to_string(i));
    ASSERT_EQ(records[i].headers.size(), 1u);
    EXPECT_EQ(text_of(records[i].headers[0].value), std::to_string(i));
  }
  EXPECT_GT(producer.counters().batches_sent, 1u);
}

INSTANTIATE_TEST_SUITE_P(EveryCodec, ProducerCodecTest,
                         ::testing::Values(log::Compression::none, log::Compression::gzip,
                                           log::Compression::snappy, log::Compression::lz4,
                                           log::Compression::zstd),
                         [](const auto& info) {
                           return std::string(log::compression_name(info.param));
                         });

TEST(Producer, KeysGoWhereKafkasPartitionerPutsThem) {
  SimBrokerWorld w;
  testing::create_topic(w, "keyed", 4);
  Producer producer(w.client_env(), testing::producer_config(w));
  auto reports = testing::produce_all(w, producer, numbered("keyed", 40, std::nullopt));
  for (size_t i = 0; i < reports.size(); ++i) {
    ASSERT_TRUE(reports[i].result.ok()) << reports[i].result.status();
    Bytes key = bytes_of("k" + std::to_string(i));
    EXPECT_EQ(reports[i].result->partition, partition_for_key(key, 4));
  }
}

TEST(Producer, EveryAcksSettingDelivers) {
  for (int16_t acks : {int16_t{0}, int16_t{1}, int16_t{-1}}) {
    SimBrokerWorld w;
    testing::create_topic(w, "acks", 1);
    auto config = testing::producer_config(w);
    config.acks = acks;
    config.enable_idempotence = acks == -1;
    Producer producer(w.client_env(), config);
    auto reports = testing::produce_all(w, producer, numbered("acks", 30, 0));
    for (auto& r : reports) {
      ASSERT_TRUE(r.result.ok()) << "acks=" << acks << ": " << r.result.status();
      EXPECT_EQ(r.result->offset >= 0, acks != 0);
    }
    EXPECT_EQ(testing::read_all(w, {{"acks", 0}}).size(), 30u) << "acks=" << acks;
  }
}

TEST(Producer, IdempotentRetriesAfterConnectionResetsWriteEachRecordOnceInOrder) {
  SimBrokerWorld w;
  testing::create_topic(w, "idem", 2);
  auto config = testing::producer_config(w);
  config.linger_ms = milliseconds(1);
  config.batch_size = 300;  // many small batches, several in flight
  Producer producer(w.client_env(), config);
  auto reports = std::make_shared<std::map<int, DeliveryReport>>();
  const int n = 400;
  for (int i = 0; i < n; ++i) {
    // Spread the sends over time so that resets hit requests in flight.
    w.world().after(milliseconds(i / 4), w.client_node(), [&producer, reports, i] {
      ProducerRecord r;
      r.topic = "idem";
      r.partition = i % 2;
      r.value = bytes_of("v" + std::to_string(i));
      producer.send(std::move(r),
                    [reports, i](const DeliveryReport& d) { reports->emplace(i, d); });
    });
  }
  size_t resets = 0;
  for (int k = 0; k < 20; ++k) {
    w.world().run_for(milliseconds(7));
    resets += w.network().reset_connection(w.client_node(), w.broker_node());
  }
  ASSERT_TRUE(w.run_until([&] { return reports->size() == static_cast<size_t>(n); }, seconds(120)));
  EXPECT_GT(resets, 5u);
  EXPECT_GT(producer.counters().batches_retried, 0u);
  for (auto& [i, d] : *reports) ASSERT_TRUE(d.result.ok()) << i << ": " << d.result.status();
  auto records = testing::read_all(w, {{"idem", 0}, {"idem", 1}});
  ASSERT_EQ(records.size(), static_cast<size_t>(n)) << "duplicates or losses";
  std::map<int32_t, int> last;  // per partition: the last value index seen (order check)
  for (auto& r : records) {
    int i = std::stoi(text_of(r.value).substr(1));
    EXPECT_EQ(r.partition, i % 2);
    EXPECT_EQ(reports->at(i).result->offset, r.offset) << "value v" << i;
    auto it = last.find(r.partition);
    if (it != last.end()) {
      EXPECT_GT(i, it->second) << "out of order in partition " << r.partition;
    }
    last[r.partition] = i;
  }
}

TEST(Producer, FieldByFieldSendReportsTheResult) {
  SimBrokerWorld w;
  Producer producer(w.client_env(), testing::producer_config(w));
  std::optional<Result<RecordMetadata>> got;
  producer.send("plain", 0, std::nullopt, bytes_of("x"), {},
                [&](Result<RecordMetadata> r) { got = std::move(r); });
  ASSERT_TRUE(w.wait(got));
  ASSERT_TRUE(got->ok()) << got->status();
  EXPECT_EQ((*got)->topic, "plain");  // auto-created by the broker
  EXPECT_EQ((*got)->offset, 0);
}

TEST(Producer, RecordsFailDefinitelyAfterTheDeliveryTimeoutWhenTheBrokerIsGone) {
  SimBrokerWorld w;
  w.crash_broker();
  auto config = testing::producer_config(w);
  config.delivery_timeout_ms = seconds(40);
  Producer producer(w.client_env(), config);
  auto reports = testing::produce_all(w, producer, numbered("gone", 3, std::nullopt), seconds(60));
  ASSERT_EQ(reports.size(), 3u);
  for (auto& r : reports) {
    EXPECT_EQ(r.result.code(), Errc::timed_out) << r.result.status();
    EXPECT_FALSE(r.indefinite);  // never sent: certainly not written
  }
  EXPECT_EQ(producer.buffered_records(), 0u);
}

TEST(Producer, LimitsFlushAndClose) {
  SimBrokerWorld w;
  testing::create_topic(w, "lim", 1);
  auto config = testing::producer_config(w);
  config.buffered_records_max = 5;
  config.max_request_size = 1000;
  config.linger_ms = seconds(10);  // only flush() sends
  Producer producer(w.client_env(), config);
  std::vector<DeliveryReport> reports;
  auto record = [](std::string value) {
    ProducerRecord r;
    r.topic = "lim";
    r.value = bytes_of(value);
    return r;
  };
  for (int i = 0; i < 7; ++i) {
    producer.send(record("x"), [&](const DeliveryReport& d) { reports.push_back(d); });
  }
  producer.send(record(std::string(2000, 'y')),
                [&](const DeliveryReport& d) { reports.push_back(d); });
  EXPECT_TRUE(reports.empty());  // never inside send()
  std::optional<bool> flushed;
  producer.flush([&] { flushed = true; });
  ASSERT_TRUE(w.wait(flushed, seconds(5)));  // well before linger.ms
  ASSERT_EQ(reports.size(), 8u);
  int ok = 0, limited = 0, too_large = 0;
  for (auto& r : reports) {
    if (r.result.ok()) ++ok;
    if (r.result.code() == Errc::limit_exceeded && r.error == kafka::ErrorCode::none) ++limited;
    if (r.error == kafka::ErrorCode::message_too_large) ++too_large;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(limited, 2);
  EXPECT_EQ(too_large, 1);
  std::optional<bool> closed;
  producer.close([&] { closed = true; });
  ASSERT_TRUE(w.wait(closed));
  std::optional<Errc> after;
  producer.send(record("late"), [&](const DeliveryReport& d) { after = d.result.code(); });
  ASSERT_TRUE(w.wait(after));
  EXPECT_EQ(*after, Errc::closed);
}

TEST(Producer, RefreshesMetadataWhenATopicIsDeletedAndComesBack) {
  SimBrokerWorld w;
  testing::create_topic(w, "phoenix", 1);
  auto config = testing::producer_config(w);
  Producer producer(w.client_env(), config);
  auto first = testing::produce_all(w, producer, numbered("phoenix", 5, 0));
  for (auto& r : first) ASSERT_TRUE(r.result.ok()) << r.result.status();
  Admin admin(w.client_env(), testing::admin_config(w));
  std::optional<Result<std::vector<TopicResult>>> deleted;
  admin.delete_topics({"phoenix"}, [&](auto r) { deleted = std::move(r); });
  ASSERT_TRUE(w.wait(deleted));
  ASSERT_TRUE(deleted->ok() && (*deleted)->at(0).ok());
  // The producer's next batch gets UNKNOWN_TOPIC_OR_PARTITION, refreshes its metadata (which
  // auto-creates the topic again) and retries into the new topic.
  auto second = testing::produce_all(w, producer, numbered("phoenix", 5, 0, "w"));
  for (auto& r : second) ASSERT_TRUE(r.result.ok()) << r.result.status();
  EXPECT_EQ(second[0].result->offset, 0);  // a fresh log
  auto records = testing::read_all(w, {{"phoenix", 0}});
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(text_of(records[0].value), "w0");
}

}  // namespace
}  // namespace gregor::client
