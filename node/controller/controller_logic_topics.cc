// CreateTopics and DeleteTopics on the controller: validation, placement, the records.
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "node/broker/topic_config.h"
#include "node/controller/controller_logic_internal.h"

namespace gregor::controller {

namespace {

// Bounds the draws of a fresh topic id: a clash of two random 128-bit ids is a broken Random.
constexpr int kTopicIdDrawsMax = 16;

using internal::refuse;

// Kafka's topic name rule (broker::invalid_topic_name lives in gregor_broker, which this library
// does not link; the rule is short enough to state twice).
std::optional<std::string> invalid_topic_name(const std::string& name) {
  if (name.empty()) return "the name is empty";
  if (name == "." || name == "..") return "'.' and '..' are not topic names";
  if (name.size() > metadata::kTopicNameBytesMax)
    return fmt::format("{} characters is over the limit of {}", name.size(),
                       metadata::kTopicNameBytesMax);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "only ASCII letters, digits, '.', '_' and '-' are allowed";
  }
  return std::nullopt;
}

// The topic's configs as they will be stored, or the INVALID_CONFIG error. The keys the broker's
// log understands are checked by broker::apply_topic_configs (over a default BrokerConfig: the
// controller does not know each broker's log defaults); unclean.leader.election.enable, which
// only the controller reads, is checked here (Kafka's boolean: "true" or "false", any case).
Result<std::map<std::string, std::string>> check_configs(const CreatableTopic& t) {
  broker::ConfigOverrides for_the_log;
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : t.configs) {
    if (key != kUncleanLeaderElectionKey) {
      for_the_log.emplace_back(key, value);
      if (value) out[key] = *value;
      continue;
    }
    if (!value) return errorf(Errc::invalid_argument, "topic config '{}': null", key);
    std::string lower = *value;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "true" && lower != "false")
      return errorf(Errc::invalid_argument, "topic config '{}': '{}' is not a boolean", key,
                    *value);
    if (!out.emplace(key, lower).second)
      return errorf(Errc::invalid_argument, "topic config '{}' given twice", key);
  }
  Result<broker::TopicConfig> checked = broker::apply_topic_configs({}, for_the_log);
  if (!checked.ok()) return checked.status();
  return out;
}

// Brokers that can take new replicas: unfenced and not shutting down, by id.
std::vector<int32_t> usable_brokers(const ControllerImage& image) {
  std::vector<int32_t> out;
  for (const auto& [id, b] : image.brokers)
    if (acceptable_leader(image, id)) out.push_back(id);
  return out;
}

struct Plan {
  int32_t num_partitions = 0;
  int32_t replication_factor = 0;
  std::map<std::string, std::string> configs;
};

// Everything that can refuse one topic, in Kafka's order.
ApiError check_topic(const ControllerImage& image, const ControllerConfig& config,
                     const CreatableTopic& t, size_t usable, Plan& plan) {
  if (auto why = invalid_topic_name(t.name))
    return refuse(ErrorCode::invalid_topic_exception,
                  fmt::format("topic name '{}' is illegal: {}", t.name, *why));
  if (image.topic(t.name) != nullptr)
    return refuse(ErrorCode::topic_already_exists,
                  fmt::format("topic '{}' already exists.", t.name));
  plan.num_partitions = t.num_partitions == -1 ? config.default_num_partitions : t.num_partitions;
  if (plan.num_partitions <= 0)
    return refuse(ErrorCode::invalid_partitions,
                  "Number of partitions was set to an invalid non-positive value.");
  if (plan.num_partitions > metadata::kPartitionsPerTopicMax)
    return refuse(ErrorCode::invalid_partitions,
                  fmt::format("{} partitions is over the limit of {}", plan.num_partitions,
                              metadata::kPartitionsPerTopicMax));
  plan.replication_factor =
      t.replication_factor == -1 ? config.default_replication_factor : t.replication_factor;
  if (plan.replication_factor <= 0)
    return refuse(ErrorCode::invalid_replication_factor,
                  "Replication factor must be larger than 0, or -1 to use the default value.");
  if (plan.replication_factor > kReplicationFactorMax)
    return refuse(ErrorCode::invalid_replication_factor,
                  fmt::format("replication factor {} is over the limit of {}",
                              plan.replication_factor, kReplicationFactorMax));
  if (static_cast<size_t>(plan.replication_factor) > usable)
    return refuse(ErrorCode::invalid_replication_factor,
                  fmt::format("Unable to replicate the partition {0} time(s): The target "
                              "replication factor of {0} cannot be reached because only {1} "
                              "broker(s) are registered.",
                              plan.replication_factor, usable));
  Result<std::map<std::string, std::string>> configs = check_configs(t);
  if (!configs.ok()) return refuse(ErrorCode::invalid_config, configs.status().message());
  plan.configs = std::move(*configs);
  return {};
}

Uuid draw_topic_id(const ControllerImage& image, const TopicIdSource& new_topic_id) {
  for (int i = 0; i < kTopicIdDrawsMax; ++i) {
    Uuid id = new_topic_id();
    if (id != Uuid{} && image.topic(id) == nullptr) return id;
  }
  GREGOR_UNREACHABLE("{} topic id draws were all zero or taken", kTopicIdDrawsMax);
}

void add_topic(internal::Batch& batch, const std::string& name, const Uuid& id, const Plan& plan,
               const std::vector<int32_t>& brokers, uint32_t start) {
  batch.add(metadata::TopicRecord{.name = name, .topic_id = id});
  const size_t n = brokers.size();
  for (int32_t p = 0; p < plan.num_partitions; ++p) {
    metadata::PartitionRecord r;
    r.partition_id = p;
    r.topic_id = id;
    for (int32_t k = 0; k < plan.replication_factor; ++k)
      r.replicas.push_back(brokers[(start + static_cast<size_t>(p) + static_cast<size_t>(k)) % n]);
    r.isr = r.replicas;
    r.leader = r.replicas.front();
    r.leader_epoch = 0;
    r.partition_epoch = 0;
    batch.add(std::move(r));
  }
  for (const auto& [key, value] : plan.configs)
    batch.add(metadata::ConfigRecord{.resource_type = metadata::kConfigResourceTopic,
                                     .resource_name = name,
                                     .name = key,
                                     .value = value});
}

}  // namespace

Decision<std::vector<CreatedTopic>> create_topics(const ControllerImage& image,
                                                  const ControllerConfig& config,
                                                  const CreateTopicsRequest& request,
                                                  const TopicIdSource& new_topic_id,
                                                  const PlacementSource& placement_start) {
  Decision<std::vector<CreatedTopic>> out;
  std::map<std::string, int> mentions;
  for (const CreatableTopic& t : request.topics) ++mentions[t.name];
  const std::vector<int32_t> brokers = usable_brokers(image);
  internal::Batch batch(image);
  for (const CreatableTopic& t : request.topics) {
    CreatedTopic& answer = out.answer.emplace_back(CreatedTopic{.name = t.name});
    if (mentions[t.name] > 1) {
      answer.error = refuse(ErrorCode::invalid_request,
                            fmt::format("topic '{}' is named more than once", t.name));
      continue;
    }
    Plan plan;
    answer.error = check_topic(batch.image(), config, t, brokers.size(), plan);
    if (!answer.error.ok()) continue;
    answer.num_partitions = plan.num_partitions;
    answer.replication_factor = plan.replication_factor;
    answer.configs = plan.configs;
    if (request.validate_only) continue;
    answer.topic_id = draw_topic_id(batch.image(), new_topic_id);
    add_topic(batch, t.name, answer.topic_id, plan, brokers, placement_start());
  }
  out.records = std::move(batch).take();
  return out;
}

Decision<std::vector<DeletedTopic>> delete_topics(const ControllerImage& image,
                                                  const std::vector<TopicRef>& topics) {
  Decision<std::vector<DeletedTopic>> out;
  // Resolve every reference first, so that a topic named twice (by name and by id too) is seen.
  std::vector<const metadata::TopicRegistration*> resolved;
  std::map<Uuid, int, metadata::UuidLess> mentions;
  for (const TopicRef& ref : topics) {
    const metadata::TopicRegistration* t =
        ref.id == Uuid{} ? image.topic(ref.name) : image.topic(ref.id);
    resolved.push_back(t);
    if (t != nullptr) ++mentions[t->id];
  }
  internal::Batch batch(image);
  for (size_t i = 0; i < topics.size(); ++i) {
    const TopicRef& ref = topics[i];
    const metadata::TopicRegistration* t = resolved[i];
    DeletedTopic& answer = out.answer.emplace_back(DeletedTopic{.name = ref.name, .id = ref.id});
    if (t == nullptr) {
      answer.error = ref.id == Uuid{}
                         ? refuse(ErrorCode::unknown_topic_or_partition,
                                  fmt::format("unknown topic '{}'", ref.name))
                         : refuse(ErrorCode::unknown_topic_id,
                                  fmt::format("unknown topic id {}", metadata::to_string(ref.id)));
      continue;
    }
    answer.name = t->name;
    answer.id = t->id;
    if (mentions[t->id] > 1) {
      answer.error = refuse(ErrorCode::invalid_request,
                            fmt::format("topic '{}' is named more than once", t->name));
      continue;
    }
    batch.add(metadata::RemoveTopicRecord{.topic_id = t->id});
  }
  out.records = std::move(batch).take();
  return out;
}

}  // namespace gregor::controller
