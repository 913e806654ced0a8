// Replay of metadata records onto a ControllerImage, snapshots, and the broker's view.
//
// Every replay function validates the whole record before it changes anything, so a rejected
// record leaves the delta as it was (the controller can try a record and drop it).
#include "node/controller/metadata_delta.h"

#include <algorithm>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gregor::metadata {

std::string to_string(const Uuid& id) {
  return fmt::format("{:016x}-{:016x}", id.high, id.low);
}

const TopicRegistration* ControllerImage::topic(const Uuid& id) const {
  auto it = topics.find(id);
  return it == topics.end() ? nullptr : &it->second;
}

const TopicRegistration* ControllerImage::topic(const std::string& name) const {
  auto it = topic_ids.find(name);
  return it == topic_ids.end() ? nullptr : topic(it->second);
}

namespace {

// A failed check: the reason, without the record's name (added by the caller).
using Problem = std::optional<std::string>;

bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool distinct(const std::vector<int32_t>& v) {
  return std::set<int32_t>(v.begin(), v.end()).size() == v.size();
}

Problem check_subset(const std::vector<int32_t>& part, const std::vector<int32_t>& replicas,
                     std::string_view what) {
  if (!distinct(part)) return fmt::format("{} {} has duplicates", what, part);
  for (int32_t id : part)
    if (!contains(replicas, id))
      return fmt::format("{} {} names {}, not a replica of {}", what, part, id, replicas);
  return std::nullopt;
}

Problem check_partition(const PartitionRegistration& p) {
  if (p.replicas.empty()) return "no replicas";
  if (!distinct(p.replicas)) return fmt::format("replicas {} have duplicates", p.replicas);
  for (int32_t id : p.replicas)
    if (id < 0) return fmt::format("replicas {} name broker {}", p.replicas, id);
  for (auto [part, what] : {std::pair{&p.isr, "isr"},
                            {&p.elr, "eligible leader replicas"},
                            {&p.last_known_elr, "last known elr"},
                            {&p.removing_replicas, "removing replicas"},
                            {&p.adding_replicas, "adding replicas"}}) {
    if (Problem problem = check_subset(*part, p.replicas, what)) return problem;
  }
  for (int32_t id : p.elr)
    if (contains(p.isr, id)) return fmt::format("{} is in both the isr and the elr", id);
  if (p.leader != kNoLeader && !contains(p.isr, p.leader))
    return fmt::format("leader {} is not in the isr {}", p.leader, p.isr);
  if (p.leader_epoch < 0 || p.partition_epoch < 0)
    return fmt::format("negative epoch (leader epoch {}, partition epoch {})", p.leader_epoch,
                       p.partition_epoch);
  if (p.leader_recovery_state != 0 && p.leader_recovery_state != 1)
    return fmt::format("leader recovery state {}", p.leader_recovery_state);
  return std::nullopt;
}

// The registration of `id` with epoch `epoch` (fence, unfence, change, unregister).
Result<BrokerRegistration*> registered(ControllerImage& image, int32_t id, int64_t epoch) {
  auto it = image.brokers.find(id);
  if (it == image.brokers.end()) return errorf(Errc::invalid_argument, "unknown broker");
  if (it->second.epoch != epoch)
    return errorf(Errc::invalid_argument, "broker epoch {} but the registration has epoch {}",
                  epoch, it->second.epoch);
  return &it->second;
}

Status invalid(std::string reason) {
  return Status(Errc::invalid_argument, std::move(reason));
}

Status replay_one(ControllerImage& image, const RegisterBrokerRecord& r) {
  if (r.broker_id < 0) return invalid("negative broker id");
  if (r.broker_epoch < 0) return invalid(fmt::format("negative broker epoch {}", r.broker_epoch));
  auto it = image.brokers.find(r.broker_id);
  if (it != image.brokers.end() && r.broker_epoch <= it->second.epoch)
    return invalid(
        fmt::format("broker epoch {} does not advance past {}", r.broker_epoch, it->second.epoch));
  std::set<std::string> names;
  for (const BrokerEndpoint& e : r.endpoints)
    if (!names.insert(e.name).second) return invalid(fmt::format("endpoint {} twice", e.name));
  image.brokers[r.broker_id] = BrokerRegistration{
      .id = r.broker_id,
      .incarnation_id = r.incarnation_id,
      .epoch = r.broker_epoch,
      .endpoints = r.endpoints,
      .rack = r.rack,
      .fenced = r.fenced,
      .in_controlled_shutdown = r.in_controlled_shutdown,
  };
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const UnregisterBrokerRecord& r) {
  GREGOR_RETURN_IF_ERROR(registered(image, r.broker_id, r.broker_epoch).status());
  image.brokers.erase(r.broker_id);
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const FenceBrokerRecord& r) {
  Result<BrokerRegistration*> broker = registered(image, r.id, r.epoch);
  if (!broker.ok()) return broker.status();
  (*broker)->fenced = true;
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const UnfenceBrokerRecord& r) {
  Result<BrokerRegistration*> broker = registered(image, r.id, r.epoch);
  if (!broker.ok()) return broker.status();
  (*broker)->fenced = false;
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const BrokerRegistrationChangeRecord& r) {
  Result<BrokerRegistration*> broker = registered(image, r.broker_id, r.broker_epoch);
  if (!broker.ok()) return broker.status();
  if (r.fenced < -1 || r.fenced > 1) return invalid(fmt::format("fenced {}", r.fenced));
  if (r.in_controlled_shutdown < 0 || r.in_controlled_shutdown > 1)
    return invalid(fmt::format("in controlled shutdown {}", r.in_controlled_shutdown));
  if (r.fenced != 0) (*broker)->fenced = r.fenced == 1;
  if (r.in_controlled_shutdown == 1) (*broker)->in_controlled_shutdown = true;
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const TopicRecord& r) {
  if (r.name.empty() || r.name.size() > kTopicNameBytesMax)
    return invalid(fmt::format("topic name of {} bytes", r.name.size()));
  if (r.topic_id == Uuid{}) return invalid("zero topic id");
  if (image.topic_ids.contains(r.name))
    return invalid(fmt::format("topic {} already exists", r.name));
  if (image.topics.contains(r.topic_id))
    return invalid(fmt::format("topic id {} already exists", to_string(r.topic_id)));
  image.topics[r.topic_id] = TopicRegistration{.name = r.name, .id = r.topic_id, .partitions = {}};
  image.topic_ids[r.name] = r.topic_id;
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const PartitionRecord& r) {
  auto topic = image.topics.find(r.topic_id);
  if (topic == image.topics.end()) return invalid("unknown topic id");
  if (r.partition_id < 0 || r.partition_id >= kPartitionsPerTopicMax)
    return invalid(fmt::format("partition id outside 0..{}", kPartitionsPerTopicMax - 1));
  PartitionRegistration p{
      .replicas = r.replicas,
      .isr = r.isr,
      .removing_replicas = r.removing_replicas,
      .adding_replicas = r.adding_replicas,
      .leader = r.leader,
      .leader_recovery_state = r.leader_recovery_state,
      .leader_epoch = r.leader_epoch,
      .partition_epoch = r.partition_epoch,
      .elr = r.eligible_leader_replicas.value_or(std::vector<int32_t>{}),
      .last_known_elr = r.last_known_elr.value_or(std::vector<int32_t>{}),
  };
  if (Problem problem = check_partition(p)) return invalid(*problem);
  auto& partitions = topic->second.partitions;
  auto old = partitions.find(r.partition_id);
  // Partitions of a topic are 0..n-1 (the broker's view indexes them); a new one comes next.
  if (old == partitions.end() && static_cast<size_t>(r.partition_id) != partitions.size())
    return invalid(fmt::format("new partition after {} partitions", partitions.size()));
  if (old != partitions.end()) {
    // A PartitionRecord for an existing partition replaces it, as in Kafka; epochs move forward.
    if (p.partition_epoch <= old->second.partition_epoch ||
        p.leader_epoch < old->second.leader_epoch)
      return invalid(fmt::format("epochs go back: leader epoch {} -> {}, partition epoch {} -> {}",
                                 old->second.leader_epoch, p.leader_epoch,
                                 old->second.partition_epoch, p.partition_epoch));
  }
  partitions[r.partition_id] = std::move(p);
  return Status::Ok();
}

// Kafka's PartitionRegistration.merge: null fields keep their value; a leader other than
// kNoLeaderChange bumps the leader epoch; every change bumps the partition epoch.
Status replay_one(ControllerImage& image, const PartitionChangeRecord& r) {
  auto topic = image.topics.find(r.topic_id);
  if (topic == image.topics.end()) return invalid("unknown topic id");
  auto old = topic->second.partitions.find(r.partition_id);
  if (old == topic->second.partitions.end()) return invalid("unknown partition");
  if (r.leader < kNoLeaderChange) return invalid(fmt::format("leader {}", r.leader));
  if (r.leader_recovery_state < -1 || r.leader_recovery_state > 1)
    return invalid(fmt::format("leader recovery state {}", r.leader_recovery_state));
  PartitionRegistration p = old->second;
  if (r.replicas) p.replicas = *r.replicas;
  if (r.isr) p.isr = *r.isr;
  if (r.removing_replicas) p.removing_replicas = *r.removing_replicas;
  if (r.adding_replicas) p.adding_replicas = *r.adding_replicas;
  if (r.eligible_leader_replicas) p.elr = *r.eligible_leader_replicas;
  if (r.last_known_elr) p.last_known_elr = *r.last_known_elr;
  if (r.leader_recovery_state != -1) p.leader_recovery_state = r.leader_recovery_state;
  if (r.leader != kNoLeaderChange) {
    if (p.leader_epoch == std::numeric_limits<int32_t>::max())
      return invalid("leader epoch overflow");
    p.leader = r.leader;
    p.leader_epoch += 1;
  }
  if (p.partition_epoch == std::numeric_limits<int32_t>::max())
    return invalid("partition epoch overflow");
  p.partition_epoch += 1;
  if (Problem problem = check_partition(p)) return invalid(*problem);
  old->second = std::move(p);
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const RemoveTopicRecord& r) {
  auto topic = image.topics.find(r.topic_id);
  if (topic == image.topics.end()) return invalid("unknown topic id");
  // As Kafka's ConfigurationDelta does: the topic's configs go with it.
  image.configs.erase(ConfigResource{kConfigResourceTopic, topic->second.name});
  image.topic_ids.erase(topic->second.name);
  image.topics.erase(topic);
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const ConfigRecord& r) {
  switch (r.resource_type) {
    case kConfigResourceTopic:
    case kConfigResourceBroker:
    case kConfigResourceBrokerLogger:
    case kConfigResourceClientMetrics:
      break;
    default:
      return invalid(fmt::format("unknown resource type {}", r.resource_type));
  }
  if (r.name.empty()) return invalid("empty config name");
  ConfigResource resource{r.resource_type, r.resource_name};
  if (r.value) {
    image.configs[resource][r.name] = *r.value;
    return Status::Ok();
  }
  auto it = image.configs.find(resource);
  if (it == image.configs.end()) return Status::Ok();
  it->second.erase(r.name);
  if (it->second.empty()) image.configs.erase(it);
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const ProducerIdsRecord& r) {
  // Kafka's ProducerIdControlManager: the next block always starts past the previous one.
  if (r.next_producer_id <= image.next_producer_id)
    return invalid(fmt::format("next producer id {} does not advance past {}", r.next_producer_id,
                               image.next_producer_id));
  image.next_producer_id = r.next_producer_id;
  return Status::Ok();
}

Status replay_one(ControllerImage& image, const FeatureLevelRecord& r) {
  if (r.name.empty()) return invalid("empty feature name");
  if (r.feature_level < 0) return invalid(fmt::format("feature level {}", r.feature_level));
  if (r.feature_level == 0) {
    image.features.erase(r.name);
  } else {
    image.features[r.name] = r.feature_level;
  }
  return Status::Ok();
}

Status replay_one(ControllerImage&, const NoOpRecord&) {
  return Status::Ok();
}

// "PartitionChangeRecord topic <id> partition 3", "FenceBrokerRecord broker 2": what a record is
// about, for its error messages.
std::string describe(const MetadataRecord& record) {
  struct Describe {
    std::string operator()(const RegisterBrokerRecord& r) { return broker(r.broker_id); }
    std::string operator()(const UnregisterBrokerRecord& r) { return broker(r.broker_id); }
    std::string operator()(const FenceBrokerRecord& r) { return broker(r.id); }
    std::string operator()(const UnfenceBrokerRecord& r) { return broker(r.id); }
    std::string operator()(const BrokerRegistrationChangeRecord& r) { return broker(r.broker_id); }
    std::string operator()(const TopicRecord& r) {
      return fmt::format(" topic {} ({})", r.name, to_string(r.topic_id));
    }
    std::string operator()(const PartitionRecord& r) {
      return partition(r.topic_id, r.partition_id);
    }
    std::string operator()(const PartitionChangeRecord& r) {
      return partition(r.topic_id, r.partition_id);
    }
    std::string operator()(const RemoveTopicRecord& r) {
      return fmt::format(" topic {}", to_string(r.topic_id));
    }
    std::string operator()(const ConfigRecord& r) {
      return fmt::format(" resource {}:{} key {}", r.resource_type, r.resource_name, r.name);
    }
    std::string operator()(const ProducerIdsRecord& r) { return broker(r.broker_id); }
    std::string operator()(const FeatureLevelRecord& r) { return " feature " + r.name; }
    std::string operator()(const NoOpRecord&) { return ""; }

    static std::string broker(int32_t id) { return fmt::format(" broker {}", id); }
    static std::string partition(const Uuid& topic, int32_t partition) {
      return fmt::format(" topic {} partition {}", to_string(topic), partition);
    }
  };
  return std::string(record_name(record)) + std::visit(Describe{}, record);
}

}  // namespace

Status MetadataDelta::replay(const MetadataRecord& record) {
  std::optional<std::string> removed_name;
  if (const auto* remove = std::get_if<RemoveTopicRecord>(&record)) {
    if (const TopicRegistration* topic = image_.topic(remove->topic_id)) removed_name = topic->name;
  }
  Status st = std::visit([this](const auto& r) { return replay_one(image_, r); }, record);
  if (!st.ok()) return Status(st.code(), fmt::format("{}: {}", describe(record), st.message()));
  ++replayed_;
  track(record, removed_name);
  return st;
}

void MetadataDelta::track(const MetadataRecord& record,
                          const std::optional<std::string>& removed_name) {
  if (const auto* r = std::get_if<TopicRecord>(&record)) {
    created_topics_.insert(r->topic_id);
    changed_topics_.insert(r->topic_id);
  } else if (const auto* r = std::get_if<PartitionRecord>(&record)) {
    changed_topics_.insert(r->topic_id);
  } else if (const auto* r = std::get_if<PartitionChangeRecord>(&record)) {
    changed_topics_.insert(r->topic_id);
  } else if (const auto* r = std::get_if<RemoveTopicRecord>(&record)) {
    changed_topics_.erase(r->topic_id);
    if (created_topics_.erase(r->topic_id) == 0) removed_topics_[r->topic_id] = *removed_name;
  } else if (const auto* r = std::get_if<RegisterBrokerRecord>(&record)) {
    changed_brokers_.insert(r->broker_id);
  } else if (const auto* r = std::get_if<UnregisterBrokerRecord>(&record)) {
    changed_brokers_.insert(r->broker_id);
  } else if (const auto* r = std::get_if<FenceBrokerRecord>(&record)) {
    changed_brokers_.insert(r->id);
  } else if (const auto* r = std::get_if<UnfenceBrokerRecord>(&record)) {
    changed_brokers_.insert(r->id);
  } else if (const auto* r = std::get_if<BrokerRegistrationChangeRecord>(&record)) {
    changed_brokers_.insert(r->broker_id);
  }
}

Result<ControllerImage> apply_records(const ControllerImage& base,
                                      std::span<const MetadataRecord> records) {
  MetadataDelta delta(base);
  for (size_t i = 0; i < records.size(); ++i) {
    Status st = delta.replay(records[i]);
    if (!st.ok()) return Status(st.code(), fmt::format("record {}: {}", i, st.message()));
  }
  return std::move(delta).apply();
}

namespace {

std::optional<std::vector<int32_t>> null_if_empty(const std::vector<int32_t>& v) {
  if (v.empty()) return std::nullopt;
  return v;
}

void snapshot_topic(const TopicRegistration& topic, std::vector<MetadataRecord>& out) {
  out.push_back(TopicRecord{.name = topic.name, .topic_id = topic.id});
  for (const auto& [index, p] : topic.partitions) {
    PartitionRecord r;
    r.partition_id = index;
    r.topic_id = topic.id;
    r.replicas = p.replicas;
    r.isr = p.isr;
    r.removing_replicas = p.removing_replicas;
    r.adding_replicas = p.adding_replicas;
    r.leader = p.leader;
    r.leader_recovery_state = p.leader_recovery_state;
    r.leader_epoch = p.leader_epoch;
    r.partition_epoch = p.partition_epoch;
    r.eligible_leader_replicas = null_if_empty(p.elr);
    r.last_known_elr = null_if_empty(p.last_known_elr);
    out.push_back(std::move(r));
  }
}

}  // namespace

std::vector<MetadataRecord> snapshot_records(const ControllerImage& image) {
  std::vector<MetadataRecord> out;
  // Kafka requires metadata.version to be the first record of a snapshot.
  constexpr std::string_view kMetadataVersion = "metadata.version";
  if (auto it = image.features.find(std::string(kMetadataVersion)); it != image.features.end())
    out.push_back(FeatureLevelRecord{.name = it->first, .feature_level = it->second});
  for (const auto& [name, level] : image.features)
    if (name != kMetadataVersion)
      out.push_back(FeatureLevelRecord{.name = name, .feature_level = level});
  for (const auto& [id, b] : image.brokers) {
    RegisterBrokerRecord r;
    r.broker_id = id;
    r.incarnation_id = b.incarnation_id;
    r.broker_epoch = b.epoch;
    r.endpoints = b.endpoints;
    r.rack = b.rack;
    r.fenced = b.fenced;
    r.in_controlled_shutdown = b.in_controlled_shutdown;
    out.push_back(std::move(r));
  }
  for (const auto& [id, topic] : image.topics) snapshot_topic(topic, out);
  for (const auto& [resource, entries] : image.configs)
    for (const auto& [key, value] : entries)
      out.push_back(ConfigRecord{.resource_type = resource.type,
                                 .resource_name = resource.name,
                                 .name = key,
                                 .value = value});
  if (image.next_producer_id > 0)
    out.push_back(ProducerIdsRecord{
        .broker_id = -1, .broker_epoch = -1, .next_producer_id = image.next_producer_id});
  return out;
}

Result<Bytes> encode_snapshot(const ControllerImage& image) {
  return encode_records(snapshot_records(image));
}

Result<ControllerImage> decode_snapshot(ByteView bytes) {
  Result<std::vector<MetadataRecord>> records = decode_records(bytes);
  if (!records.ok()) return records.status();
  return apply_records(ControllerImage{}, *records);
}

broker::MetadataImage to_broker_image(const ControllerImage& image,
                                      const BrokerViewOptions& options) {
  broker::MetadataImage out;
  out.cluster_id = options.cluster_id;
  out.controller_id = options.controller_id;
  for (const auto& [id, b] : image.brokers) {
    if (b.fenced) continue;  // Kafka's metadata cache serves only unfenced brokers
    for (const BrokerEndpoint& e : b.endpoints) {
      if (e.name != options.listener_name) continue;
      out.brokers[id] = broker::BrokerImage{.id = id, .host = e.host, .port = e.port};
    }
  }
  for (const auto& [id, topic] : image.topics) {
    broker::TopicImage t;
    t.name = topic.name;
    t.id = topic.id;
    for (const auto& [index, p] : topic.partitions) {
      t.partitions.push_back(broker::PartitionImage{.partition = index,
                                                    .leader = p.leader,
                                                    .leader_epoch = p.leader_epoch,
                                                    .partition_epoch = p.partition_epoch,
                                                    .replicas = p.replicas,
                                                    .isr = p.isr});
    }
    auto configs = image.configs.find(ConfigResource{kConfigResourceTopic, topic.name});
    if (configs != image.configs.end()) t.configs = configs->second;
    out.topics[topic.name] = std::move(t);
  }
  out.next_producer_id = image.next_producer_id;
  return out;
}

}  // namespace gregor::metadata
