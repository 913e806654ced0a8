#include "node/broker/topic_config.h"

#include <fmt/format.h>

namespace gregor::broker {

namespace {

std::string num(int64_t v) {
  return fmt::format("{}", v);
}

// A topic key: integer keys have a range (Kafka's bounds; LogConfig's own limits are checked by
// log::validate_config afterwards) and set_int; the others parse their text with set_text.
struct TopicKey {
  std::string_view name;
  int64_t min = 0;
  int64_t max = 0;
  void (*set_int)(TopicConfig&, int64_t) = nullptr;
  Status (*set_text)(TopicConfig&, std::string_view) = nullptr;
  std::string (*show)(const TopicConfig&) = nullptr;
};

constexpr TopicKey kTopicKeys[] = {
    {"cleanup.policy", 0, 0, nullptr,
     [](TopicConfig& c, std::string_view v) -> Status {
       auto policy = parse_cleanup_policy(v);
       if (!policy.ok()) return policy.status();
       c.log.cleanup_delete = policy->cleanup_delete;
       c.log.cleanup_compact = policy->cleanup_compact;
       return Status::Ok();
     },
     [](const TopicConfig& c) {
       return cleanup_policy_string(c.log.cleanup_delete, c.log.cleanup_compact);
     }},
    {"delete.retention.ms", 0, kConfigInt64Max,
     [](TopicConfig& c, int64_t v) { c.log.delete_retention_ms = v; }, nullptr,
     [](const TopicConfig& c) { return num(c.log.delete_retention_ms); }},
    {"flush.messages", 1, kConfigInt64Max,
     [](TopicConfig& c, int64_t v) {
       // Kafka's Long.MAX_VALUE (never) is UINT64_MAX in LogConfig.
       c.log.flush_messages = v == kConfigInt64Max ? UINT64_MAX : static_cast<uint64_t>(v);
     },
     nullptr,
     [](const TopicConfig& c) {
       uint64_t v = c.log.flush_messages;
       return v == UINT64_MAX ? num(kConfigInt64Max) : fmt::format("{}", v);
     }},
    {"flush.ms", 0, kConfigInt64Max,
     [](TopicConfig& c, int64_t v) { c.log.flush_ms = ms_to_duration(v); }, nullptr,
     [](const TopicConfig& c) { return num(duration_to_ms(c.log.flush_ms)); }},
    {"index.interval.bytes", 0, kConfigInt32Max,
     [](TopicConfig& c, int64_t v) { c.log.index_interval_bytes = static_cast<uint32_t>(v); },
     nullptr, [](const TopicConfig& c) { return num(c.log.index_interval_bytes); }},
    {"max.message.bytes", 0, kConfigInt32Max,
     [](TopicConfig& c, int64_t v) { c.log.max_message_bytes = static_cast<uint32_t>(v); }, nullptr,
     [](const TopicConfig& c) { return num(c.log.max_message_bytes); }},
    {"message.timestamp.type", 0, 0, nullptr,
     [](TopicConfig& c, std::string_view v) -> Status {
       auto type = parse_timestamp_type(v);
       if (!type.ok()) return type.status();
       c.log.message_timestamp_type = *type;
       return Status::Ok();
     },
     [](const TopicConfig& c) {
       return std::string(timestamp_type_string(c.log.message_timestamp_type));
     }},
    {"min.insync.replicas", 1, kConfigInt32Max,
     [](TopicConfig& c, int64_t v) { c.min_insync_replicas = static_cast<int32_t>(v); }, nullptr,
     [](const TopicConfig& c) { return num(c.min_insync_replicas); }},
    {"retention.bytes", -1, kConfigInt64Max,
     [](TopicConfig& c, int64_t v) { c.log.retention_bytes = v; }, nullptr,
     [](const TopicConfig& c) { return num(c.log.retention_bytes); }},
    {"retention.ms", -1, kConfigInt64Max, [](TopicConfig& c, int64_t v) { c.log.retention_ms = v; },
     nullptr, [](const TopicConfig& c) { return num(c.log.retention_ms); }},
    {"segment.bytes", 14, kConfigInt32Max,
     [](TopicConfig& c, int64_t v) { c.log.segment_bytes = static_cast<uint64_t>(v); }, nullptr,
     [](const TopicConfig& c) { return num(static_cast<int64_t>(c.log.segment_bytes)); }},
    {"segment.ms", 1, kConfigInt64Max,
     [](TopicConfig& c, int64_t v) { c.log.segment_ms = ms_to_duration(v); }, nullptr,
     [](const TopicConfig& c) { return num(duration_to_ms(c.log.segment_ms)); }},
};

const TopicKey* find_key(std::string_view name) {
  for (const TopicKey& key : kTopicKeys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

Status apply_one(TopicConfig& c, const TopicKey& key, std::string_view value) {
  if (key.set_text != nullptr) return key.set_text(c, value);
  auto v = parse_config_int(value, key.min, key.max);
  if (!v.ok()) return v.status();
  key.set_int(c, *v);
  return Status::Ok();
}

}  // namespace

Result<TopicConfig> apply_topic_configs(const BrokerConfig& defaults,
                                        const ConfigOverrides& overrides) {
  TopicConfig c{defaults.default_log_config(), defaults.min_insync_replicas, {}};
  for (const auto& [name, value] : overrides) {
    const TopicKey* key = find_key(name);
    if (key == nullptr) return errorf(Errc::invalid_argument, "unknown topic config '{}'", name);
    if (!value) {
      return errorf(Errc::invalid_argument, "topic config '{}': a null value is not allowed", name);
    }
    if (c.overrides.count(name) != 0) {
      return errorf(Errc::invalid_argument, "topic config '{}' given twice", name);
    }
    Status s = apply_one(c, *key, *value);
    if (!s.ok()) return errorf(Errc::invalid_argument, "topic config '{}': {}", name, s.message());
    c.overrides.emplace(name, *value);
  }
  Status valid = log::validate_config(c.log);
  if (!valid.ok()) return errorf(Errc::invalid_argument, "topic config: {}", valid.message());
  return c;
}

std::vector<ConfigEntry> describe_topic_config(const TopicConfig& config) {
  std::vector<ConfigEntry> entries;
  for (const TopicKey& key : kTopicKeys) {
    bool overridden = config.overrides.count(std::string(key.name)) != 0;
    entries.push_back(ConfigEntry{std::string(key.name), key.show(config), !overridden});
  }
  return entries;
}

std::vector<std::string_view> topic_config_keys() {
  std::vector<std::string_view> keys;
  for (const TopicKey& key : kTopicKeys) keys.push_back(key.name);
  return keys;
}

}  // namespace gregor::broker
