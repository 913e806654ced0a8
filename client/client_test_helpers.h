// Test support (tests only): producing and reading back whole topics with Gregor's producer and
// consumer in a SimBrokerWorld.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "client/admin.h"
#include "client/client_sim_testing.h"
#include "client/consumer.h"
#include "client/producer.h"

namespace gregor::client::testing {

inline ProducerConfig producer_config(SimBrokerWorld& w) {
  ProducerConfig c;
  c.bootstrap_servers = w.bootstrap();
  return c;
}

inline ConsumerConfig consumer_config(SimBrokerWorld& w) {
  ConsumerConfig c;
  c.bootstrap_servers = w.bootstrap();
  c.auto_offset_reset = OffsetReset::earliest;
  c.fetch_max_wait_ms = milliseconds(100);
  return c;
}

inline AdminConfig admin_config(SimBrokerWorld& w) {
  AdminConfig c;
  c.bootstrap_servers = w.bootstrap();
  return c;
}

// Creates a topic and waits for the answer; expects success.
inline void create_topic(SimBrokerWorld& w, const std::string& name, int32_t partitions,
                         std::map<std::string, std::string> configs = {}) {
  Admin admin(w.client_env(), admin_config(w));
  std::optional<Result<std::vector<TopicResult>>> r;
  admin.create_topics({NewTopic{name, partitions, -1, std::move(configs)}}, false,
                      [&](Result<std::vector<TopicResult>> res) { r = std::move(res); });
  ASSERT_TRUE(w.wait(r));
  ASSERT_TRUE(r->ok()) << r->status();
  ASSERT_EQ((*r)->size(), 1u);
  ASSERT_TRUE((*r)->at(0).ok()) << (*r)->at(0).message;
}

// Sends every record and waits for all reports (in send order).
inline std::vector<DeliveryReport> produce_all(SimBrokerWorld& w, Producer& producer,
                                               std::vector<ProducerRecord> records,
                                               Duration timeout = seconds(300)) {
  auto reports = std::make_shared<std::map<size_t, DeliveryReport>>();
  for (size_t i = 0; i < records.size(); ++i) {
    producer.send(std::move(records[i]),
                  [reports, i](const DeliveryReport& r) { reports->emplace(i, r); });
  }
  size_t n = records.size();
  EXPECT_TRUE(w.run_until([&] { return reports->size() == n; }, timeout))
      << reports->size() << " of " << n << " reports";
  std::vector<DeliveryReport> out;
  for (auto& [i, r] : *reports) out.push_back(r);
  return out;
}

// Reads every record of the partitions from the log start to the current end.
inline std::vector<ConsumerRecord> read_all(SimBrokerWorld& w,
                                            const std::vector<TopicPartition>& partitions,
                                            ConsumerConfig config) {
  Consumer consumer(w.client_env(), config);
  std::optional<Result<std::map<TopicPartition, int64_t>>> ends;
  consumer.end_offsets(partitions, [&](auto r) { ends = std::move(r); });
  EXPECT_TRUE(w.wait(ends));
  if (!ends || !ends->ok()) {
    ADD_FAILURE() << "end offsets: " << (ends ? ends->status().to_string() : "none");
    return {};
  }
  consumer.assign(partitions);
  consumer.seek_to_beginning();
  std::vector<ConsumerRecord> out;
  auto done = [&] {
    for (auto& tp : partitions) {
      auto pos = consumer.position(tp);
      if (!pos || *pos < (*ends)->at(tp)) return false;
    }
    return true;
  };
  for (int polls = 0; polls < 600 && !done(); ++polls) {
    std::optional<Result<std::vector<ConsumerRecord>>> batch;
    consumer.poll(seconds(1), [&](auto r) { batch = std::move(r); });
    if (!w.wait(batch)) break;
    if (!batch->ok()) {
      ADD_FAILURE() << "poll: " << batch->status();
      break;
    }
    for (auto& r : **batch) out.push_back(std::move(r));
  }
  EXPECT_TRUE(done()) << "read " << out.size() << " records, not up to the end offsets";
  return out;
}

inline std::vector<ConsumerRecord> read_all(SimBrokerWorld& w,
                                            const std::vector<TopicPartition>& partitions) {
  return read_all(w, partitions, consumer_config(w));
}

}  // namespace gregor::client::testing
