// Proves, over random operation sequences (RapidCheck), that the controller's decisions keep a
// cluster sane. A random config (ELR on/off, unclean election on/off, KIP-903 fencing on/off, min
// ISR 1-3) and 3-5 brokers go through random registrations (retries, new incarnations, clean and
// unclean restarts), heartbeats (caught up or not, want_fence, want_shutdown_now, stale epochs),
// time passing with session expiry, topic creation and deletion, AlterPartition requests (right
// or wrong epochs, random ISRs, stale member epochs) and producer-id blocks. After every
// decision:
// - its records replay on the image (MetadataDelta validates every record), and a refused
//   request writes nothing;
// - no leader is fenced, in controlled shutdown or outside the ISR;
// - leader epochs and partition epochs never decrease, and a leader change bumps the leader epoch;
// - without unclean election a new leader comes from the previous ISR or ELR (or, both empty,
//   the last known ELR) and no partition is RECOVERING; without ELR no ELR exists and no ISR is
//   empty;
// - an AlterPartition answer reports the partition as the image now holds it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "node/controller/controller_logic.h"
#include "node/kafka/messages_testing.h"

namespace gregor::controller {
namespace {

using kafka::testing::uniform;
using metadata::PartitionRegistration;

struct Key {
  Uuid topic;
  int32_t partition = 0;
  bool operator<(const Key& o) const {
    if (o.topic != topic) return metadata::UuidLess{}(topic, o.topic);
    return partition < o.partition;
  }
};

class World {
 public:
  explicit World(ControllerConfig config, int brokers)
      : config_(config), tracker_(config.session_timeout), brokers_(brokers) {}

  // Every broker registers and heartbeats once (most unfence), so that topics can be placed.
  void boot() {
    for (int32_t id = 1; id <= brokers_; ++id) register_one(id);
    for (int32_t id = 1; id <= brokers_; ++id) heartbeat_one(id);
  }

  void step() {
    switch (uniform(0, 10)) {
      case 0:
        register_one(pick_broker());
        break;
      case 1:
      case 2:
      case 3:
        heartbeat_one(pick_broker());
        break;
      case 4:
        now_ += milliseconds(uniform(0, 6000));
        check(fence_expired(image_, tracker_, config_, now_), false);
        break;
      case 5:
        create_one();
        break;
      case 6:
      case 7:
        alter_one();
        break;
      case 8:
        if (!image_.topics.empty() && uniform(0, 4) == 0) {
          auto it = std::next(image_.topics.begin(), uniform<size_t>(0, image_.topics.size()));
          check(delete_topics(image_, {{.id = it->first}}), false);
        }
        break;
      default:
        producer_ids();
        break;
    }
  }

  const ControllerImage& image() const { return image_; }
  int changes = 0;
  int unclean_elections = 0;
  int last_known_elections = 0;
  int alters_accepted = 0;
  int elr_members = 0;
  int shutdowns = 0;

 private:
  int32_t pick_broker() const { return uniform(1, brokers_ + 1); }

  void register_one(int32_t id) {
    auto it = image_.brokers.find(id);
    uint64_t generation = it == image_.brokers.end() ? 1 : it->second.incarnation_id.low;
    if (uniform(0, 3) != 0) generation += 1;  // else a retry
    int64_t previous = it != image_.brokers.end() && uniform(0, 2) == 0 ? it->second.epoch : -1;
    RegisterBrokerRequest r{.broker_id = id,
                            .incarnation_id = Uuid{static_cast<uint64_t>(id), generation},
                            .endpoints = {},
                            .rack = std::nullopt,
                            .previous_broker_epoch = previous};
    auto d = register_broker(image_, tracker_, config_, r, offset_, now_);
    bool refused = !d.answer.error.ok();
    check(std::move(d), refused);
  }

  void heartbeat_one(int32_t id) {
    auto it = image_.brokers.find(id);
    int64_t epoch = it == image_.brokers.end() ? 1 : it->second.epoch;
    if (uniform(0, 10) == 0) epoch += 1;  // stale
    HeartbeatRequest r{.broker_id = id,
                       .broker_epoch = epoch,
                       .current_metadata_offset = uniform(0, 4) == 0 ? epoch - 1 : offset_ - 1,
                       .want_fence = uniform(0, 8) == 0,
                       .want_shutdown_now = uniform(0, 25) == 0};
    now_ += milliseconds(uniform(0, 2000));
    auto d = heartbeat(image_, tracker_, config_, r, now_, epoch);
    bool refused = !d.answer.error.ok();
    if (d.answer.should_shut_down) ++shutdowns;
    check(std::move(d), refused);
  }

  void create_one() {
    CreatableTopic t{.name = fmt::format("t{}", uniform(0, 8)),
                     .num_partitions = uniform(1, 4),
                     .replication_factor = uniform(1, 5)};
    if (uniform(0, 3) == 0)
      t.configs.emplace_back("min.insync.replicas", fmt::format("{}", uniform(1, 4)));
    CreateTopicsRequest req{.topics = {t}};
    auto d = create_topics(
        image_, config_, req,
        [this] {
          return Uuid{1, next_topic_++};
        },
        [] { return static_cast<uint32_t>(uniform(0, 100)); });
    check(std::move(d), false);
  }

  void alter_one() {
    if (image_.topics.empty()) return;
    auto topic = std::next(image_.topics.begin(), uniform<size_t>(0, image_.topics.size()));
    int32_t index = uniform<int32_t>(0, static_cast<int32_t>(topic->second.partitions.size()));
    const PartitionRegistration& p = topic->second.partitions.at(index);
    int32_t requester = uniform(0, 4) == 0 || p.leader < 0 ? pick_broker() : p.leader;
    auto b = image_.brokers.find(requester);
    AlterPartitionItem item{.partition = index,
                            .leader_epoch = p.leader_epoch - (uniform(0, 10) == 0 ? 1 : 0),
                            .new_isr = {},
                            .leader_recovery_state = 0,
                            .partition_epoch = p.partition_epoch + (uniform(0, 10) == 0 ? 1 : 0)};
    for (int32_t r : p.replicas) {
      if (r != requester && uniform(0, 2) == 0) continue;
      auto m = image_.brokers.find(r);
      int64_t epoch = m == image_.brokers.end() ? -1 : m->second.epoch;
      if (uniform(0, 8) == 0) epoch -= 1;  // a previous incarnation's epoch
      item.new_isr.push_back({r, epoch});
    }
    AlterPartitionRequest req{.broker_id = requester,
                              .broker_epoch = b == image_.brokers.end() ? -1 : b->second.epoch,
                              .topics = {{topic->first, {item}}}};
    auto d = alter_partition(image_, config_, req);
    bool refused = !d.answer.error.ok() || !d.answer.topics.at(0).partitions.at(0).error.ok();
    AlterPartitionAnswer answer = d.answer;
    Uuid topic_id = topic->first;
    check(std::move(d), refused);
    if (refused) return;
    ++alters_accepted;
    const AlteredPartition& a = answer.topics.at(0).partitions.at(0);
    const PartitionRegistration& now = image_.topic(topic_id)->partitions.at(index);
    RC_ASSERT(a.leader == now.leader);
    RC_ASSERT(a.isr == now.isr);
    RC_ASSERT(a.leader_epoch == now.leader_epoch);
    RC_ASSERT(a.partition_epoch == now.partition_epoch);
  }

  void producer_ids() {
    int32_t id = pick_broker();
    auto it = image_.brokers.find(id);
    int64_t epoch = it == image_.brokers.end() ? 0 : it->second.epoch;
    auto d = allocate_producer_ids(image_, id, epoch, config_.producer_id_block_size);
    bool refused = !d.answer.error.ok();
    if (!refused) RC_ASSERT(d.answer.start == image_.next_producer_id);
    check(std::move(d), refused);
  }

  // Applies a decision's records and checks every invariant against the image before.
  template <typename T>
  void check(Decision<T> d, bool refused) {
    if (refused) RC_ASSERT(d.records.empty());
    Result<ControllerImage> next = metadata::apply_records(image_, d.records);
    RC_ASSERT(next.ok());
    for (const MetadataRecord& r : d.records)
      if (std::holds_alternative<metadata::PartitionChangeRecord>(r)) ++changes;
    check_transition(image_, *next);
    offset_ += static_cast<int64_t>(d.records.size());
    image_ = std::move(*next);
  }

  void check_transition(const ControllerImage& before, const ControllerImage& after) {
    for (const auto& [id, topic] : after.topics) {
      const metadata::TopicRegistration* old = before.topic(id);
      for (const auto& [index, p] : topic.partitions) {
        if (p.leader != metadata::kNoLeader) {
          RC_ASSERT(acceptable_leader(after, p.leader));
          RC_ASSERT(std::find(p.isr.begin(), p.isr.end(), p.leader) != p.isr.end());
        }
        elr_members += static_cast<int>(p.elr.size());
        if (!config_.eligible_leader_replicas) {
          RC_ASSERT(p.elr.empty());
          RC_ASSERT(!p.isr.empty());
        }
        bool unclean = unclean_leader_election(after, config_, topic.name);
        if (!unclean) RC_ASSERT(p.leader_recovery_state == 0);
        if (old == nullptr || !old->partitions.contains(index)) continue;
        const PartitionRegistration& q = old->partitions.at(index);
        RC_ASSERT(p.leader_epoch >= q.leader_epoch);
        RC_ASSERT(p.partition_epoch >= q.partition_epoch);
        if (p.leader != q.leader) {
          RC_ASSERT(p.leader_epoch > q.leader_epoch);
          if (p.leader == metadata::kNoLeader) continue;
          auto in = [&](const std::vector<int32_t>& v) {
            return std::find(v.begin(), v.end(), p.leader) != v.end();
          };
          bool clean = in(q.isr) || in(q.elr);
          // KIP-966 recovery: once the ISR and the ELR are empty (perhaps only within this
          // decision), a member of the last known ELR leads again, alone in the ISR.
          bool last_known = !clean && in(q.last_known_elr);
          if (last_known) {
            RC_ASSERT(config_.eligible_leader_replicas);
            RC_ASSERT(p.isr == std::vector<int32_t>{p.leader});
            ++last_known_elections;
          }
          if (!clean && !last_known) {
            RC_ASSERT(unclean);
            RC_ASSERT(p.leader_recovery_state == 1);
            ++unclean_elections;
          }
        }
      }
    }
  }

  ControllerConfig config_;
  BrokerHeartbeatTracker tracker_;
  int brokers_;
  ControllerImage image_;
  MonoTime now_{seconds(1)};
  int64_t offset_ = 1;
  uint64_t next_topic_ = 1;
};

RC_GTEST_PROP(ControllerLogic, RandomOperationSequencesKeepTheClusterSane, ()) {
  ControllerConfig config;
  config.eligible_leader_replicas = uniform(0, 2) == 0;
  config.unclean_leader_election = uniform(0, 3) == 0;
  config.broker_epoch_fencing = uniform(0, 2) == 0;
  config.default_min_insync_replicas = uniform(1, 4);
  World world(config, uniform(3, 6));
  world.boot();
  const int steps = uniform(20, 200);
  for (int i = 0; i < steps; ++i) world.step();
  RC_CLASSIFY(world.changes >= 5, "5+ partition changes");
  RC_CLASSIFY(world.unclean_elections > 0, "unclean elections");
  RC_CLASSIFY(world.last_known_elections > 0, "last known ELR elections");
  RC_CLASSIFY(!world.image().topics.empty(), "topics left");
  RC_CLASSIFY(world.alters_accepted > 0, "AlterPartition accepted");
  RC_CLASSIFY(world.elr_members > 0, "ELR used");
  RC_CLASSIFY(world.shutdowns > 0, "controlled shutdowns");
}

}  // namespace
}  // namespace gregor::controller
