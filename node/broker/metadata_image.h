// The cluster metadata a broker serves and acts on: brokers, topics, their partitions (replicas,
// leader, leader epoch, ISR) and topic config overrides, plus the producer-id allocator's state.
//
// Shaped as KRaft's MetadataImage: today one broker is its own controller and keeps the image in
// a local file (metadata_store.h); the controller issue replaces that with a Raft metadata log
// whose records the broker applies to the same image. Everything that reads metadata (Metadata
// responses, the replica manager deciding which partitions to host) reads this struct.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/kafka/protocol.h"

namespace gregor::broker {

struct PartitionImage {
  int32_t partition = 0;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  bool operator==(const PartitionImage&) const = default;
};

struct TopicImage {
  std::string name;
  kafka::Uuid id;
  std::vector<PartitionImage> partitions;
  std::map<std::string, std::string> configs;  // topic-level overrides only
  bool operator==(const TopicImage&) const = default;
};

struct BrokerImage {
  int32_t id = 0;
  std::string host;
  int32_t port = 0;
  bool operator==(const BrokerImage&) const = default;
};

struct MetadataImage {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::map<int32_t, BrokerImage> brokers;
  std::map<std::string, TopicImage> topics;  // by name; ordered, so responses are deterministic
  // The end of the producer-id block reserved so far: every id handed out is below it, so after
  // a restart allocation starts here and no id repeats.
  int64_t next_producer_id = 0;
  bool operator==(const MetadataImage&) const = default;

  const TopicImage* topic(const std::string& name) const {
    auto it = topics.find(name);
    return it == topics.end() ? nullptr : &it->second;
  }
};

// Kafka's topic name rules: 1..249 characters of [a-zA-Z0-9._-], not "." or "..".
// Returns the reason a name is illegal, or nullopt.
std::optional<std::string> invalid_topic_name(const std::string& name);

// "<topic>-<partition>": the partition's directory under the log dir, as Kafka names it.
std::string partition_dir_name(const std::string& topic, int32_t partition);

}  // namespace gregor::broker
