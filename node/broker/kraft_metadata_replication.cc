// KRaftMetadata's part in partition replication: each hosted partition leads or follows as the
// image says, followers fetch through ReplicaFetchers, and leaders send their ISR changes to the
// active controller (AlterPartition v3, with every member's broker epoch: KIP-903).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/guarded.h"
#include "node/broker/kraft_metadata.h"

namespace gregor::broker {

namespace k = kafka;
using kafka::ErrorCode;

namespace {
constexpr int16_t kAlterPartitionVersion = 3;
// The ISR check runs at least this often (and at replica.lag.time.max.ms / 2 when that is
// shorter), so an expansion refused by the controller is retried soon.
constexpr Duration kIsrCheckIntervalMax = milliseconds(500);
}  // namespace

void KRaftMetadata::take_leadership(const std::string& name) {
  const TopicImage* topic = image_.topic(name);
  if (topic == nullptr) return;
  for (const PartitionImage& p : topic->partitions) {
    Partition* part = replicas_.partition(name, p.partition);
    if (!part) continue;
    part->set_high_watermark_needs_min_isr(!config_.legacy_disable_eligible_leader_replicas);
    // Only an incarnation the controller has unfenced leads: right after a restart the image
    // may still name this broker leader on the strength of its previous incarnation, whose
    // unflushed writes may be gone.
    bool leads = p.leader == config_.node_id && !fenced_;
    if (leads) {
      fetchers_.unfollow(name, p.partition);
      if (!part->is_leader() || part->leader_epoch() != p.leader_epoch) {
        part->become_leader(p);
      } else {
        part->update_isr(p);
      }
      continue;
    }
    if (part->is_leader() || part->leader_epoch() != p.leader_epoch ||
        part->partition_epoch() != p.partition_epoch || part->leader_id() != p.leader ||
        part->isr() != p.isr || part->replicas() != p.replicas) {
      part->become_follower(p);
    }
    auto leader = image_.brokers.find(p.leader);
    if (p.leader < 0 || p.leader == config_.node_id || leader == image_.brokers.end()) {
      fetchers_.unfollow(name, p.partition);
      continue;
    }
    net::Address address{leader->second.host, static_cast<uint16_t>(leader->second.port)};
    fetchers_.follow(name, p.partition, topic->id, p.leader, address, p.leader_epoch);
  }
}

void KRaftMetadata::schedule_isr_check() {
  Duration every = std::min(config_.replication.lag_time_max / 2, kIsrCheckIntervalMax);
  isr_timer_ = env_.clock.schedule(every, guarded(alive_, [this] {
                                     isr_timer_ = kNoTimer;
                                     for (const auto& [key, part] : replicas_.partitions()) {
                                       if (part->is_leader()) maybe_change_isr(*part, std::nullopt);
                                     }
                                     schedule_isr_check();
                                   }));
}

void KRaftMetadata::on_follower_fetch(Partition& partition, int32_t replica) {
  maybe_change_isr(partition, replica);
}

void KRaftMetadata::maybe_change_isr(Partition& partition, std::optional<int32_t> fetched) {
  if (shutting_down_ || broker_epoch_ < 0) return;
  auto isr = partition.isr_change_wanted(config_.replication, fetched);
  if (!isr) return;
  send_alter_partition(partition, std::move(*isr));
}

void KRaftMetadata::send_alter_partition(Partition& partition, std::vector<int32_t> isr) {
  const TopicImage* topic = image_.topic(partition.topic());
  rpc::RpcChannel* ch = controller_channel();
  if (!ch || !topic) return;  // tried again at the next check
  k::AlterPartitionRequest req;
  req.broker_id = config_.node_id;
  req.broker_epoch = broker_epoch_;
  auto& t = req.topics.emplace_back();
  t.topic_id = topic->id;
  auto& p = t.partitions.emplace_back();
  p.partition_index = partition.index();
  p.leader_epoch = partition.leader_epoch();
  p.partition_epoch = partition.partition_epoch();
  for (int32_t r : isr) {
    int64_t epoch = broker_epoch_;
    if (r != config_.node_id) {
      auto f = partition.followers().find(r);
      epoch = f == partition.followers().end() ? -1 : f->second.broker_epoch;
    }
    p.new_isr_with_epochs.push_back({r, epoch});
  }
  std::string members;
  for (int32_t r : isr) members += (members.empty() ? "" : ",") + std::to_string(r);
  env_.tracer.event("replica.isr_change", TraceFields()
                                              .add("topic", partition.topic())
                                              .add("partition", partition.index())
                                              .add("epoch", partition.leader_epoch())
                                              .add("partition_epoch", partition.partition_epoch())
                                              .add_raw("isr", "[" + members + "]"));
  partition.isr_change_sent(isr);
  std::string name = partition.topic();
  int32_t index = partition.index();
  ch->send(req, kAlterPartitionVersion,
           guarded(alive_, [this, name, index](Result<k::AlterPartitionResponse> r) {
             Partition* part = replicas_.partition(name, index);
             if (!part) return;
             if (!r.ok() || r->error_code != 0 || r->topics.size() != 1 ||
                 r->topics[0].partitions.size() != 1) {
               if (!r.ok() || static_cast<ErrorCode>(r->error_code) == ErrorCode::not_controller) {
                 forget_controller();
               }
               return part->isr_change_answered(std::nullopt);
             }
             const auto& answer = r->topics[0].partitions[0];
             if (answer.error_code != 0) {
               spdlog::debug("broker {}: AlterPartition {}-{}: {}", config_.node_id, name, index,
                             k::error_name(static_cast<ErrorCode>(answer.error_code)));
               return part->isr_change_answered(std::nullopt);
             }
             PartitionImage now;
             now.partition = index;
             now.leader = answer.leader_id;
             now.leader_epoch = answer.leader_epoch;
             now.partition_epoch = answer.partition_epoch;
             now.replicas = part->replicas();
             now.isr = answer.isr;
             part->isr_change_answered(now);
           }));
}

}  // namespace gregor::broker
