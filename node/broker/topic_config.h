// Topic configs: the per-topic overrides of CreateTopics (and later AlterConfigs), named as
// Kafka's topic-level keys (retention.ms, cleanup.policy, ...), applied on top of the broker's
// log.* defaults. Values arrive as strings and are parsed strictly: a decimal integer with nothing
// after it, in Kafka's range for the key where Kafka has one; an unknown key, a null value, a key
// given twice or a value LogConfig cannot hold is an error. Every error is Errc::invalid_argument
// with a message naming the key; the Kafka layer answers it with INVALID_CONFIG.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "node/broker/broker_config.h"
#include "node/log/log_config.h"

namespace gregor::broker {

struct TopicConfig {
  log::LogConfig log;               // the partition log's settings for every partition of the topic
  int32_t min_insync_replicas = 1;  // min.insync.replicas
  std::map<std::string, std::string> overrides;  // the topic's own keys, values as given
};

// One row of DescribeConfigs.
struct ConfigEntry {
  std::string name;
  std::string value;
  bool is_default = true;  // false when the topic overrides the key
  bool read_only = false;
};

using ConfigOverrides = std::vector<std::pair<std::string, std::optional<std::string>>>;

// The broker's defaults with `overrides` applied, checked with log::validate_config.
Result<TopicConfig> apply_topic_configs(const BrokerConfig& defaults,
                                        const ConfigOverrides& overrides);

// Every topic key with its effective value in Kafka's spelling, sorted by name.
std::vector<ConfigEntry> describe_topic_config(const TopicConfig& config);

// Every key apply_topic_configs accepts, sorted.
std::vector<std::string_view> topic_config_keys();

}  // namespace gregor::broker
