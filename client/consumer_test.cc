// Proves the consumer against a real broker in the simulator: seek (into the middle of a batch,
// skipping the records before the position), seek_to_beginning/end, ListOffsets by earliest,
// latest and timestamp, auto_offset_reset (earliest, latest, none -> typed error until a seek),
// poll timeouts, records arriving while a poll waits, reassignment, and consumption across a
// broker restart.
#include <gtest/gtest.h>

#include "client/client_test_helpers.h"

namespace gregor::client {
namespace {

using testing::bytes_of;
using testing::SimBrokerWorld;
using testing::text_of;

// Produces `n` records "v0".."v<n-1>" to partition 0 of `topic`, in batches of 10, with
// timestamps 1000, 1010, 1020...
void fill(SimBrokerWorld& w, const std::string& topic, int n) {
  testing::create_topic(w, topic, 1);
  auto config = testing::producer_config(w);
  config.linger_ms = milliseconds(100);
  Producer producer(w.client_env(), config);
  std::vector<ProducerRecord> records;
  for (int i = 0; i < n; ++i) {
    ProducerRecord r;
    r.topic = topic;
    r.partition = 0;
    r.value = bytes_of("v" + std::to_string(i));
    r.timestamp_ms = 1000 + 10 * i;
    records.push_back(std::move(r));
    if (records.size() == 10 || i == n - 1) {
      for (auto& d : testing::produce_all(w, producer, std::move(records))) {
        ASSERT_TRUE(d.result.ok()) << d.result.status();
      }
      records.clear();
    }
  }
}

Result<std::vector<ConsumerRecord>> poll(SimBrokerWorld& w, Consumer& c, Duration timeout) {
  std::optional<Result<std::vector<ConsumerRecord>>> out;
  c.poll(timeout, [&](auto r) { out = std::move(r); });
  if (!w.wait(out, timeout + seconds(60))) return error(Errc::timed_out, "no poll answer");
  return std::move(*out);
}

TEST(Consumer, SeekIntoABatchSkipsTheRecordsBeforeThePosition) {
  SimBrokerWorld w;
  fill(w, "s", 30);
  Consumer consumer(w.client_env(), testing::consumer_config(w));
  consumer.assign({{"s", 0}});
  ASSERT_TRUE(consumer.seek({"s", 0}, 13).ok());
  auto records = poll(w, consumer, seconds(5));
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_FALSE(records->empty());
  EXPECT_EQ(records->front().offset, 13);  // the batch holds 10..19; 10..12 are skipped
  EXPECT_EQ(text_of(records->front().value), "v13");
  EXPECT_EQ(records->front().timestamp, 1130);
  EXPECT_EQ(consumer.position({"s", 0}), records->back().offset + 1);
  EXPECT_EQ(consumer.seek({"other", 0}, 1).code(), Errc::invalid_argument);
  EXPECT_EQ(consumer.seek({"s", 0}, -1).code(), Errc::invalid_argument);
}

TEST(Consumer, SeekToBeginningAndEnd) {
  SimBrokerWorld w;
  fill(w, "b", 25);
  Consumer consumer(w.client_env(), testing::consumer_config(w));
  consumer.assign({{"b", 0}});
  consumer.seek_to_end();
  auto none = poll(w, consumer, milliseconds(500));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(consumer.position({"b", 0}), 25);
  consumer.seek_to_beginning();
  auto all = poll(w, consumer, seconds(5));
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_FALSE(all->empty());
  EXPECT_EQ(all->front().offset, 0);
}

TEST(Consumer, ListOffsetsByEarliestLatestAndTimestamp) {
  SimBrokerWorld w;
  fill(w, "lo", 20);
  Consumer consumer(w.client_env(), testing::consumer_config(w));
  auto lookup = [&](int64_t ts) {
    std::optional<Result<std::map<TopicPartition, int64_t>>> out;
    consumer.list_offsets({{"lo", 0}}, ts, [&](auto r) { out = std::move(r); });
    EXPECT_TRUE(w.wait(out));
    EXPECT_TRUE(out->ok()) << out->status();
    return out->ok() ? (*out)->at({"lo", 0}) : -100;
  };
  EXPECT_EQ(lookup(kEarliestTimestamp), 0);
  EXPECT_EQ(lookup(kLatestTimestamp), 20);
  EXPECT_EQ(lookup(1000), 0);
  EXPECT_EQ(lookup(1055), 6);    // first record with timestamp >= 1055 is v6 (1060)
  EXPECT_EQ(lookup(99999), -1);  // none: Kafka answers -1
  std::optional<Result<std::map<TopicPartition, int64_t>>> unknown;
  consumer.list_offsets({{"lo", 7}}, kLatestTimestamp, [&](auto r) { unknown = std::move(r); });
  ASSERT_TRUE(w.wait(unknown, seconds(120)));
  EXPECT_FALSE(unknown->ok());  // no leader for partition 7, ever: times out
  EXPECT_EQ(consumer.counters().list_offsets, 6u);
}

TEST(Consumer, AutoOffsetResetEarliestLatestAndNone) {
  SimBrokerWorld w;
  fill(w, "r", 10);
  auto config = testing::consumer_config(w);
  config.auto_offset_reset = OffsetReset::latest;
  Consumer latest(w.client_env(), config);
  latest.assign({{"r", 0}});
  auto empty = poll(w, latest, milliseconds(300));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(latest.position({"r", 0}), 10);

  config.auto_offset_reset = OffsetReset::earliest;
  Consumer earliest(w.client_env(), config);
  earliest.assign({{"r", 0}});
  ASSERT_TRUE(earliest.seek({"r", 0}, 500).ok());  // past the end: out of range -> earliest
  auto reset = poll(w, earliest, seconds(5));
  ASSERT_TRUE(reset.ok()) << reset.status();
  ASSERT_FALSE(reset->empty());
  EXPECT_EQ(reset->front().offset, 0);
  EXPECT_GE(earliest.counters().offset_resets, 1u);

  config.auto_offset_reset = OffsetReset::none;
  Consumer strict(w.client_env(), config);
  strict.assign({{"r", 0}});
  auto no_position = poll(w, strict, seconds(1));
  EXPECT_EQ(no_position.code(), Errc::not_found) << no_position.status();
  ASSERT_TRUE(strict.seek({"r", 0}, 500).ok());
  auto out_of_range = poll(w, strict, seconds(5));
  EXPECT_EQ(out_of_range.code(), Errc::out_of_range) << out_of_range.status();
  ASSERT_TRUE(strict.seek({"r", 0}, 8).ok());
  auto after_seek = poll(w, strict, seconds(5));
  ASSERT_TRUE(after_seek.ok()) << after_seek.status();
  ASSERT_EQ(after_seek->size(), 2u);
  EXPECT_EQ(text_of(after_seek->back().value), "v9");
}

TEST(Consumer, AWaitingPollGetsRecordsProducedMeanwhile) {
  SimBrokerWorld w;
  testing::create_topic(w, "live", 1);
  auto config = testing::consumer_config(w);
  config.fetch_max_wait_ms = seconds(2);
  Consumer consumer(w.client_env(), config);
  consumer.assign({{"live", 0}});
  std::optional<Result<std::vector<ConsumerRecord>>> got;
  consumer.poll(seconds(30), [&](auto r) { got = std::move(r); });
  w.world().run_for(seconds(1));
  EXPECT_FALSE(got.has_value());
  Producer producer(w.client_env(), testing::producer_config(w));
  ProducerRecord r;
  r.topic = "live";
  r.value = bytes_of("hello");
  producer.send(std::move(r), [](const DeliveryReport&) {});
  MonoTime sent = w.world().now();
  ASSERT_TRUE(w.wait(got));
  ASSERT_TRUE(got->ok()) << got->status();
  ASSERT_EQ((*got)->size(), 1u);
  EXPECT_EQ(text_of((*got)->front().value), "hello");
  EXPECT_LT(w.world().now() - sent, seconds(1));  // a long poll, answered when data came
  // A second poll while one waits is refused.
  std::optional<Errc> second;
  consumer.poll(seconds(1), [](auto) {});
  consumer.poll(seconds(1), [&](auto r) { second = r.code(); });
  ASSERT_TRUE(w.wait(second));
  EXPECT_EQ(*second, Errc::invalid_argument);
}

TEST(Consumer, ReassigningKeepsPositionsEvenWhileAResetIsUnderWay) {
  SimBrokerWorld w;
  fill(w, "ra", 10);
  Consumer consumer(w.client_env(), testing::consumer_config(w));  // earliest
  consumer.assign({{"ra", 0}});
  std::optional<Result<std::vector<ConsumerRecord>>> first;
  consumer.poll(seconds(5), [&](auto r) { first = std::move(r); });
  // The position lookup (ListOffsets) is in flight: change the assignment under it.
  w.world().run_for(microseconds(1));
  consumer.assign({{"ra", 0}, {"ra", 1}});
  ASSERT_TRUE(w.wait(first));
  ASSERT_TRUE(first->ok()) << first->status();
  ASSERT_FALSE((*first)->empty());
  EXPECT_EQ((*first)->front().offset, 0);
  int64_t position = *consumer.position({"ra", 0});
  consumer.assign({{"ra", 0}});
  EXPECT_EQ(consumer.position({"ra", 0}), position);
  EXPECT_EQ(consumer.assignment(), (std::vector<TopicPartition>{{"ra", 0}}));
}

TEST(Consumer, KeepsConsumingAcrossABrokerRestart) {
  SimBrokerWorld w;
  fill(w, "re", 10);
  Consumer consumer(w.client_env(), testing::consumer_config(w));
  consumer.assign({{"re", 0}});
  consumer.seek_to_beginning();
  auto first = poll(w, consumer, seconds(5));
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->empty());
  w.crash_broker({.lose_unsynced = false});
  w.world().run_for(seconds(2));
  ASSERT_TRUE(w.restart_broker());
  std::vector<ConsumerRecord> rest;
  int64_t seen = first->back().offset;
  for (int polls = 0; polls < 50 && seen < 9; ++polls) {
    auto more = poll(w, consumer, seconds(5));
    ASSERT_TRUE(more.ok()) << more.status();
    for (auto& r : *more) {
      EXPECT_EQ(r.offset, seen + 1);
      seen = r.offset;
    }
  }
  EXPECT_EQ(seen, 9);
}

}  // namespace
}  // namespace gregor::client
