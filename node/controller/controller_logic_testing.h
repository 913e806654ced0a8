// Test support for the controller's decisions: a cluster image that the decisions' records are
// applied to (each batch must replay), with the host's bookkeeping (log offsets, sessions, time).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "node/controller/controller_logic.h"

namespace gregor::controller::testing {

inline Uuid incarnation(int32_t broker_id, uint64_t generation = 1) {
  return Uuid{static_cast<uint64_t>(broker_id) + 1000, generation};
}

class TestCluster {
 public:
  explicit TestCluster(ControllerConfig config = {})
      : config(config), tracker(config.session_timeout) {}

  ControllerConfig config;
  ControllerImage image;
  BrokerHeartbeatTracker tracker;
  MonoTime now{seconds(1000)};
  int64_t next_offset = 1;  // the offset the next proposed record gets
  uint64_t next_topic_id = 1;

  // Replays the decision's records on the image (they must fit) and moves the log offset on.
  // Returns the answer.
  template <typename T>
  T apply(Decision<T> d) {
    Result<ControllerImage> next = metadata::apply_records(image, d.records);
    EXPECT_TRUE(next.ok()) << next.status();
    if (next.ok()) image = std::move(*next);
    next_offset += static_cast<int64_t>(d.records.size());
    return std::move(d.answer);
  }

  RegisterBrokerAnswer register_broker(int32_t id, uint64_t generation = 1,
                                       int64_t previous_epoch = -1) {
    RegisterBrokerRequest r{.broker_id = id,
                            .incarnation_id = incarnation(id, generation),
                            .endpoints = {{.name = "PLAINTEXT", .host = "h", .port = 9092}},
                            .rack = std::nullopt,
                            .previous_broker_epoch = previous_epoch};
    return apply(controller::register_broker(image, tracker, config, r, next_offset, now));
  }

  int64_t epoch(int32_t id) const { return image.brokers.at(id).epoch; }

  HeartbeatAnswer heartbeat(int32_t id, bool want_fence = false, bool want_shutdown = false,
                            std::optional<int64_t> metadata_offset = std::nullopt) {
    HeartbeatRequest r{.broker_id = id,
                       .broker_epoch = epoch(id),
                       .current_metadata_offset = metadata_offset.value_or(next_offset - 1),
                       .want_fence = want_fence,
                       .want_shutdown_now = want_shutdown};
    return apply(controller::heartbeat(image, tracker, config, r, now, epoch(id)));
  }

  // Registers and unfences brokers 1..n.
  void start_brokers(int n) {
    for (int32_t id = 1; id <= n; ++id) register_broker(id);
    for (int32_t id = 1; id <= n; ++id) heartbeat(id);
  }

  // Creates a topic with placement start 0 (partition p: brokers p, p+1, ... of the usable ones).
  Uuid create_topic(const std::string& name, int32_t partitions, int32_t rf,
                    std::vector<std::pair<std::string, std::optional<std::string>>> configs = {}) {
    CreateTopicsRequest req{.topics = {{.name = name,
                                        .num_partitions = partitions,
                                        .replication_factor = rf,
                                        .configs = std::move(configs)}}};
    auto answers = apply(controller::create_topics(
        image, config, req,
        [this] {
          return Uuid{7, next_topic_id++};
        },
        [] { return 0u; }));
    EXPECT_TRUE(answers.at(0).error.ok()) << answers.at(0).error.message;
    return answers.at(0).topic_id;
  }

  const metadata::PartitionRegistration& partition(const Uuid& topic, int32_t index) const {
    return image.topic(topic)->partitions.at(index);
  }

  void set_broker_config(const std::string& key, const std::string& value) {
    image.configs[metadata::ConfigResource{metadata::kConfigResourceBroker, ""}][key] = value;
  }
};

}  // namespace gregor::controller::testing
