// ReplicaFetcher: this broker's follower side for every partition it follows from one leader
// broker (Kafka's ReplicaFetcherThread, as a state machine on the event loop).
//
// Each partition starts "fetching": Fetch v15 from its log end, carrying the replica id and
// broker epoch (KIP-903) and the epoch of its last record (KIP-320), appending what comes as it
// is and applying the leader's high watermark. When the leader answers that the logs diverge
// (a diverging epoch), the follower truncates there first and applies the mark after
// (KAFKA-14704). A partition is "truncating" when it must ask the leader where the logs diverge
// (OffsetsForLeaderEpoch with the follower's latest epoch, KIP-101/KIP-279): after an
// out-of-range answer, to finish a KIP-279 step, and from the start with a legacy switch that
// brings back a protocol older than KIP-320. One request in flight at a time; a fetch waits at
// the leader up to replica.fetch.wait.max.ms for data.
// Errors back off replica.fetch.backoff.ms; a partition whose leader or epoch changes is removed
// and added again by the caller (the metadata image drives it).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "base/env.h"
#include "base/steps.h"
#include "node/broker/replica_manager.h"
#include "node/broker/replication_config.h"
#include "node/kafka/messages.h"
#include "node/rpc/rpc_channel.h"

namespace gregor::broker {

// Why a fetcher truncated, for the trace and the tests.
struct TruncationStep {
  int64_t offset;
  bool complete;  // false: ask again with the follower's epoch at that offset (KIP-279)
};

// The follower's truncation decision from a leader's OffsetsForLeaderEpoch answer, as Kafka's
// AbstractFetcherThread.getOffsetTruncationState: the leader answered (leader_epoch,
// leader_end_offset) for the follower's latest epoch; `local` is the follower's epoch cache,
// `log_end` and `high_watermark` its log's. Incomplete: the follower truncates there and asks
// again with its (then) latest epoch.
TruncationStep truncation_for(int32_t leader_epoch, int64_t leader_end_offset,
                              const log::LeaderEpochCache& local, int64_t log_end,
                              int64_t high_watermark);

class ReplicaFetcher {
 public:
  ReplicaFetcher(Env& env, int32_t node_id, int32_t leader_id, net::Address leader,
                 const ReplicationConfig& config, ReplicaManager& replicas,
                 std::function<int64_t()> broker_epoch);
  ~ReplicaFetcher();

  // Follows `topic`-`index` (whose id is `topic_id`) at `leader_epoch`.
  void add(const std::string& topic, int32_t index, kafka::Uuid topic_id, int32_t leader_epoch);
  void remove(const std::string& topic, int32_t index);
  bool empty() const { return partitions_.empty(); }
  // Whether it follows this very partition (a topic deleted and created again has a new id).
  bool follows(const std::string& topic, int32_t index, kafka::Uuid topic_id,
               int32_t leader_epoch) const;
  const net::Address& leader_address() const { return channel_->address(); }
  // The leader listens elsewhere now: everything followed starts over there.
  void retarget(const net::Address& address);

 private:
  enum class Phase { truncating, fetching };
  struct Followed {
    kafka::Uuid topic_id;
    int32_t leader_epoch = 0;
    Phase phase = Phase::truncating;
    uint64_t generation = 0;  // answers for an older generation are ignored
  };
  using Key = std::pair<std::string, int32_t>;

  // Where a newly followed partition starts: fetching when the leader's Fetch answer reports a
  // divergence (KIP-320), else truncating.
  Phase first_phase() const {
    return config_.truncate_on_fetch() ? Phase::fetching : Phase::truncating;
  }
  Step truncate_on_fetch(const Key& key, uint64_t generation, int64_t asked_offset,
                         int64_t leader_hw, kafka::FetchResponse::EpochEndOffset d);
  void kick();
  void step();
  void send_truncation();
  void send_fetch();
  void backoff();
  void finish_round(bool failed);

  Env& env_;
  int32_t node_id_;
  int32_t leader_id_;
  const ReplicationConfig& config_;
  ReplicaManager& replicas_;
  std::function<int64_t()> broker_epoch_;
  rpc::RpcChannelConfig channel_config_;
  std::unique_ptr<rpc::RpcChannel> channel_;
  std::map<Key, Followed> partitions_;
  uint64_t next_generation_ = 1;
  bool in_flight_ = false;
  bool kick_scheduled_ = false;
  TimerId backoff_timer_ = kNoTimer;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The fetchers of this broker, one per leader broker.
class ReplicaFetchers {
 public:
  ReplicaFetchers(Env& env, int32_t node_id, const ReplicationConfig& config,
                  ReplicaManager& replicas, std::function<int64_t()> broker_epoch)
      : env_(env),
        node_id_(node_id),
        config_(config),
        replicas_(replicas),
        broker_epoch_(std::move(broker_epoch)) {}

  // Follows the partition from `leader` at `leader_epoch` (moving it from any other fetcher), or
  // keeps following if that is already so.
  void follow(const std::string& topic, int32_t index, kafka::Uuid topic_id, int32_t leader,
              const net::Address& address, int32_t leader_epoch);
  // Stops following it (this broker leads it, or no longer hosts it, or it has no leader).
  void unfollow(const std::string& topic, int32_t index);
  void stop_all() { fetchers_.clear(); }

 private:
  Env& env_;
  int32_t node_id_;
  const ReplicationConfig& config_;
  ReplicaManager& replicas_;
  std::function<int64_t()> broker_epoch_;
  std::map<int32_t, std::unique_ptr<ReplicaFetcher>> fetchers_;
};

}  // namespace gregor::broker
