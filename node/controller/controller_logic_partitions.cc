// Partition changes: Kafka 3.7's PartitionChangeBuilder (elections, ISR and ELR), the changes a
// broker event causes (fence, controlled shutdown, unfence), and AlterPartition.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "node/controller/controller_logic_internal.h"

namespace gregor::controller {

using metadata::kNoLeader;
using metadata::kNoLeaderChange;
using metadata::PartitionChangeRecord;
using metadata::PartitionRegistration;
using metadata::TopicRegistration;

namespace {

constexpr int8_t kRecovered = 0;
constexpr int8_t kRecovering = 1;  // the leader came from an unclean election

// The value of `key` for `topic`: the topic's config, else the cluster-wide broker config.
const std::string* config_value(const ControllerImage& image, const std::string& topic,
                                std::string_view key) {
  for (auto resource : {metadata::ConfigResource{metadata::kConfigResourceTopic, topic},
                        metadata::ConfigResource{metadata::kConfigResourceBroker, ""}}) {
    auto configs = image.configs.find(resource);
    if (configs == image.configs.end()) continue;
    auto value = configs->second.find(std::string(key));
    if (value != configs->second.end()) return &value->second;
  }
  return nullptr;
}

}  // namespace

int32_t min_insync_replicas(const ControllerImage& image, const ControllerConfig& config,
                            const std::string& topic) {
  if (const std::string* value = config_value(image, topic, kMinInsyncReplicasKey)) {
    int32_t n = 0;
    auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
    // Topic configs are checked when written; a broker config written by another tool that does
    // not parse falls back to the default rather than stopping the controller.
    if (ec == std::errc() && end == value->data() + value->size() && n >= 1) return n;
  }
  return config.default_min_insync_replicas;
}

bool unclean_leader_election(const ControllerImage& image, const ControllerConfig& config,
                             const std::string& topic) {
  if (const std::string* value = config_value(image, topic, kUncleanLeaderElectionKey)) {
    // Kafka's booleans ignore case; CreateTopics stores them lowercased, other writers may not.
    std::string lower = *value;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "true") return true;
    if (lower == "false") return false;
  }
  return config.unclean_leader_election;
}

bool acceptable_leader(const ControllerImage& image, int32_t broker_id) {
  auto it = image.brokers.find(broker_id);
  return it != image.brokers.end() && !it->second.fenced && !it->second.in_controlled_shutdown;
}

namespace internal {

bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

void Batch::add(MetadataRecord record) {
  Status st = delta_.replay(record);
  GREGOR_ASSERT(st.ok(), "a controller decision's record does not replay: {}", st.message());
  records_.push_back(std::move(record));
}

namespace {

// The members of `v` not in `out`, in `v`'s order.
std::vector<int32_t> without(const std::vector<int32_t>& v, const std::vector<int32_t>& out) {
  std::vector<int32_t> r;
  for (int32_t x : v)
    if (!contains(out, x)) r.push_back(x);
  return r;
}

// The members of `replicas` in `a` or `b`, in replica order: sets kept in a deterministic order.
std::vector<int32_t> in_replica_order(const std::vector<int32_t>& replicas,
                                      const std::vector<int32_t>& a,
                                      const std::vector<int32_t>& b) {
  std::vector<int32_t> r;
  for (int32_t x : replicas)
    if (contains(a, x) || contains(b, x)) r.push_back(x);
  return r;
}

struct Targets {
  std::vector<int32_t> isr;
  std::vector<int32_t> elr;
  std::vector<int32_t> last_known_elr;
};

// Kafka's maybePopulateTargetElr: below min ISR, the ISR members leaving it join the ELR (and
// every ELR candidate is remembered in the last known ELR unless it is in the ISR or the ELR);
// at or above it, both are cleared.
void populate_elr(const PartitionRegistration& p, int32_t min_isr,
                  const std::vector<int32_t>& unclean_shutdown, Targets& t) {
  if (static_cast<int32_t>(t.isr.size()) >= min_isr) {
    t.elr.clear();
    t.last_known_elr.clear();
    return;
  }
  std::vector<int32_t> candidates = in_replica_order(p.replicas, t.elr, p.isr);
  t.elr = without(without(candidates, t.isr), unclean_shutdown);
  std::vector<int32_t> known = in_replica_order(p.replicas, candidates, t.last_known_elr);
  t.last_known_elr = without(without(known, t.isr), t.elr);
}

struct Election {
  int32_t leader = kNoLeader;
  bool unclean = false;
  bool last_known_elr = false;  // elected from the last known ELR (see elect)
};

// Kafka's electAnyLeader (ONLINE or UNCLEAN election).
Election elect(const ControllerImage& image, const PartitionRegistration& p, const Targets& t,
               bool unclean_allowed) {
  auto valid = [&](int32_t r) {
    return (contains(t.isr, r) || (t.isr.empty() && contains(t.elr, r))) &&
           acceptable_leader(image, r);
  };
  if (p.leader != kNoLeader && valid(p.leader)) return {p.leader, false};
  for (int32_t r : p.replicas)
    if (valid(r)) return {r, false};
  if (unclean_allowed) {
    for (int32_t r : p.replicas)
      if (acceptable_leader(image, r)) return {r, true};
  }
  // KIP-966's recovery when both the ISR and the ELR are empty: every member left uncleanly
  // (a crash or power loss, not a controlled shutdown), so none is eligible, but the last known
  // ELR still names the replicas that were eligible when they went. Each of them holds every
  // record acknowledged with acks=all (they were in the ISR while the ISR had min.insync.replicas
  // members, and below that acks=all is refused), as far as their disk kept it: with a flush
  // policy that fsyncs (log.flush.interval.messages = 1) nothing acknowledged is lost, without one
  // the unflushed tail may be, as with Kafka's own "balanced" recovery of the last known leader.
  // Kafka compares the candidates' logs first (GetReplicaLogInfo); Gregor takes the first back,
  // in replica order, which loses only records never acknowledged with acks=all.
  if (t.isr.empty() && t.elr.empty() && !t.last_known_elr.empty()) {
    for (int32_t r : p.replicas)
      if (contains(t.last_known_elr, r) && acceptable_leader(image, r)) return {r, false, true};
  }
  return {kNoLeader, false};
}

}  // namespace

std::optional<PartitionChangeRecord> build_partition_change(const ControllerImage& image,
                                                            const ControllerConfig& config,
                                                            const TopicRegistration& topic,
                                                            int32_t partition_id,
                                                            const PartitionTarget& target) {
  const PartitionRegistration& p = topic.partitions.at(partition_id);
  for (int32_t r : target.isr)
    GREGOR_ASSERT(contains(p.replicas, r), "target isr {} outside replicas {}", target.isr,
                  p.replicas);
  const bool elr_enabled = config.eligible_leader_replicas;
  Targets t{.isr = target.isr, .elr = p.elr, .last_known_elr = p.last_known_elr};
  if (elr_enabled)
    populate_elr(p, min_insync_replicas(image, config, topic.name), target.unclean_shutdown, t);

  PartitionChangeRecord record;
  record.topic_id = topic.id;
  record.partition_id = partition_id;
  Election e = elect(image, p, t, unclean_leader_election(image, config, topic.name));
  if (e.leader != p.leader) {
    if (contains(t.elr, e.leader)) {  // elected from the ELR: it is the ISR now
      t.isr = {e.leader};
      t.elr = without(t.elr, {e.leader});
    }
    if (e.last_known_elr) {  // the last known ELR's member is the ISR now; the others rejoin it
      t.isr = {e.leader};
      t.last_known_elr.clear();
    }
    record.leader = e.leader;
    if (e.unclean) {
      // The unclean leader's log is the truth from now on: it is the ISR alone (data loss).
      record.isr = std::vector<int32_t>{e.leader};
      if (p.leader_recovery_state != kRecovering) record.leader_recovery_state = kRecovering;
    }
  }
  // Kafka's maybeUpdateRecordElr: an unclean election or ELR off clears the ELR fields.
  if (record.isr || !elr_enabled) {
    t.elr.clear();
    t.last_known_elr.clear();
  }
  if (t.elr != p.elr) record.eligible_leader_replicas = t.elr;
  if (t.last_known_elr != p.last_known_elr) record.last_known_elr = t.last_known_elr;
  // Without ELR an ISR never empties: its last member stays (last replica standing).
  if (!record.isr && (!t.isr.empty() || elr_enabled) && t.isr != p.isr) record.isr = t.isr;
  if (target.leader_recovery_state != -1 && target.leader_recovery_state != p.leader_recovery_state)
    record.leader_recovery_state = target.leader_recovery_state;

  bool noop = !record.isr && record.leader == kNoLeaderChange && !record.eligible_leader_replicas &&
              !record.last_known_elr && record.leader_recovery_state == -1;
  if (noop) return std::nullopt;
  return record;
}

bool change_partition(Batch& batch, const ControllerConfig& config, const Uuid& topic_id,
                      int32_t partition_id, const PartitionTarget& target) {
  const TopicRegistration* topic = batch.image().topic(topic_id);
  GREGOR_ASSERT(topic != nullptr, "unknown topic {}", metadata::to_string(topic_id));
  std::optional<PartitionChangeRecord> record =
      build_partition_change(batch.image(), config, *topic, partition_id, target);
  if (!record) return false;
  batch.add(std::move(*record));
  return true;
}

namespace {

struct PartitionId {
  Uuid topic;
  int32_t partition = 0;
};

// The partitions `pick` selects, gathered before any changes (each change alters the image).
template <typename Pick>
std::vector<PartitionId> partitions_where(const ControllerImage& image, Pick pick) {
  std::vector<PartitionId> out;
  for (const auto& [id, topic] : image.topics)
    for (const auto& [index, p] : topic.partitions)
      if (pick(p)) out.push_back({id, index});
  return out;
}

}  // namespace

void remove_from_isrs(Batch& batch, const ControllerConfig& config, int32_t broker_id,
                      bool unclean_shutdown) {
  GREGOR_ASSERT(!acceptable_leader(batch.image(), broker_id), "broker {} may still lead",
                broker_id);
  bool leave_elr = unclean_shutdown && config.eligible_leader_replicas;
  auto affected = partitions_where(batch.image(), [&](const PartitionRegistration& p) {
    return contains(p.isr, broker_id) || (leave_elr && contains(p.elr, broker_id));
  });
  for (const PartitionId& id : affected) {
    const PartitionRegistration& p = batch.image().topic(id.topic)->partitions.at(id.partition);
    PartitionTarget target{.isr = without(p.isr, {broker_id})};
    if (leave_elr) target.unclean_shutdown = {broker_id};
    change_partition(batch, config, id.topic, id.partition, target);
  }
}

void elect_leaderless(Batch& batch, const ControllerConfig& config) {
  auto leaderless = partitions_where(
      batch.image(), [](const PartitionRegistration& p) { return p.leader == kNoLeader; });
  for (const PartitionId& id : leaderless) {
    const PartitionRegistration& p = batch.image().topic(id.topic)->partitions.at(id.partition);
    change_partition(batch, config, id.topic, id.partition, PartitionTarget{.isr = p.isr});
  }
}

void fence_broker(Batch& batch, const ControllerConfig& config, int32_t broker_id) {
  const metadata::BrokerRegistration& b = batch.image().brokers.at(broker_id);
  GREGOR_ASSERT(!b.fenced, "broker {} is already fenced", broker_id);
  batch.add(metadata::FenceBrokerRecord{.id = broker_id, .epoch = b.epoch});
  remove_from_isrs(batch, config, broker_id, /*unclean_shutdown=*/false);
}

}  // namespace internal

// --- AlterPartition ------------------------------------------------------------------------

namespace {

using internal::contains;

using internal::refuse;

// The checks of Kafka's validateAlterPartitionData and ineligibleReplicasForIsr, in its order
// (with the error codes of the header).
ApiError validate(const ControllerImage& image, const ControllerConfig& config, int32_t requester,
                  const PartitionRegistration& p, const AlterPartitionItem& item) {
  if (item.leader_epoch != p.leader_epoch)
    return refuse(
        ErrorCode::fenced_leader_epoch,
        fmt::format("leader epoch {}, the partition's is {}", item.leader_epoch, p.leader_epoch));
  if (requester != p.leader)
    return refuse(
        ErrorCode::not_leader_or_follower,
        fmt::format("broker {} does not lead the partition (leader {})", requester, p.leader));
  if (item.partition_epoch != p.partition_epoch)
    return refuse(kInvalidUpdateVersion, fmt::format("partition epoch {}, the partition's is {}",
                                                     item.partition_epoch, p.partition_epoch));
  std::set<int32_t> seen;
  for (const IsrMember& m : item.new_isr)
    if (!seen.insert(m.broker_id).second)
      return refuse(ErrorCode::invalid_request, fmt::format("broker {} twice", m.broker_id));
  if (!seen.contains(p.leader))
    return refuse(ErrorCode::invalid_request,
                  fmt::format("the new ISR does not hold the leader {}", p.leader));
  if (item.leader_recovery_state != kRecovered && item.leader_recovery_state != kRecovering)
    return refuse(ErrorCode::invalid_request,
                  fmt::format("leader recovery state {}", item.leader_recovery_state));
  if (item.leader_recovery_state == kRecovering && item.new_isr.size() > 1)
    return refuse(ErrorCode::invalid_request, "a recovering leader's ISR holds only itself");
  if (p.leader_recovery_state == kRecovered && item.leader_recovery_state == kRecovering)
    return refuse(ErrorCode::invalid_request, "leader recovery state cannot go back to RECOVERING");
  for (const IsrMember& m : item.new_isr) {
    auto b = image.brokers.find(m.broker_id);
    std::string why;
    if (!contains(p.replicas, m.broker_id)) {
      why = "not a replica";
    } else if (b == image.brokers.end()) {
      why = "not registered";
    } else if (b->second.in_controlled_shutdown) {
      why = "shutting down";
    } else if (b->second.fenced) {
      why = "fenced";
    } else if (config.broker_epoch_fencing && m.broker_epoch != -1 &&
               m.broker_epoch != b->second.epoch) {
      why = fmt::format("broker epoch {}, registered with {}", m.broker_epoch, b->second.epoch);
    }
    if (!why.empty())
      return refuse(kIneligibleReplica, fmt::format("replica {}: {}", m.broker_id, why));
  }
  return {};
}

AlteredPartition state_of(int32_t index, const PartitionRegistration& p) {
  return AlteredPartition{.partition = index,
                          .error = {},
                          .leader = p.leader,
                          .leader_epoch = p.leader_epoch,
                          .isr = p.isr,
                          .leader_recovery_state = p.leader_recovery_state,
                          .partition_epoch = p.partition_epoch};
}

}  // namespace

Decision<AlterPartitionAnswer> alter_partition(const ControllerImage& image,
                                               const ControllerConfig& config,
                                               const AlterPartitionRequest& request) {
  Decision<AlterPartitionAnswer> out;
  auto requester = image.brokers.find(request.broker_id);
  if (requester == image.brokers.end() || requester->second.epoch != request.broker_epoch) {
    out.answer.error =
        refuse(ErrorCode::stale_broker_epoch,
               requester == image.brokers.end()
                   ? fmt::format("no broker registration found for broker {}", request.broker_id)
                   : fmt::format("expected broker epoch {}, but got broker epoch {}",
                                 requester->second.epoch, request.broker_epoch));
    return out;
  }
  internal::Batch batch(image);
  for (const AlterPartitionTopic& t : request.topics) {
    AlteredTopic& answer = out.answer.topics.emplace_back(AlteredTopic{.topic_id = t.topic_id});
    const TopicRegistration* topic = batch.image().topic(t.topic_id);
    for (const AlterPartitionItem& item : t.partitions) {
      AlteredPartition& result = answer.partitions.emplace_back();
      result.partition = item.partition;
      if (topic == nullptr) {
        result.error = refuse(ErrorCode::unknown_topic_id,
                              fmt::format("unknown topic id {}", metadata::to_string(t.topic_id)));
        continue;
      }
      auto p = topic->partitions.find(item.partition);
      if (p == topic->partitions.end()) {
        result.error = refuse(ErrorCode::unknown_topic_or_partition,
                              fmt::format("{} has no partition {}", topic->name, item.partition));
        continue;
      }
      result.error = validate(batch.image(), config, request.broker_id, p->second, item);
      if (!result.error.ok()) continue;
      internal::PartitionTarget target{.leader_recovery_state = item.leader_recovery_state};
      for (const IsrMember& m : item.new_isr) target.isr.push_back(m.broker_id);
      internal::change_partition(batch, config, t.topic_id, item.partition, target);
      result =
          state_of(item.partition, batch.image().topic(t.topic_id)->partitions.at(item.partition));
    }
  }
  out.records = std::move(batch).take();
  return out;
}

}  // namespace gregor::controller
