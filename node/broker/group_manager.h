// GroupManager: the broker's side of consumer groups (Kafka's GroupCoordinator front end plus its
// GroupMetadataManager). It owns the GroupCoordinator state machine, routes each group to its
// partition of __consumer_offsets, keeps committed offsets, and makes both durable in that topic.
//
// - __consumer_offsets is created on the first FindCoordinator, as Kafka does (the request is
//   answered COORDINATOR_NOT_AVAILABLE meanwhile; clients retry): offsets.topic.num.partitions
//   partitions, cleanup.policy=compact, so the latest record of each key survives.
// - A group lives on partition offsets_partition_for(group_id) (Kafka's hash); this broker is its
//   coordinator while it leads that partition. Requests for a group elsewhere get NOT_COORDINATOR,
//   and while the partition loads COORDINATOR_LOAD_IN_PROGRESS.
// - Loading (broker start): each hosted offsets partition is read from its log start to its high
//   watermark; the last record of each key wins, tombstones delete. Then the groups come back in
//   the coordinator (members and all, see GroupCoordinator::load_group) with their offsets.
// - A commit is acknowledged only once its records are appended (acks=all); offsets become
//   visible to OffsetFetch at the same moment. A group's generation is stored before the leader's
//   SyncGroup is answered.
// - Expiry (KIP-211) every offsets.retention.check.interval.ms: a group with a protocol type loses
//   its offsets once it has been Empty for offsets.retention.minutes; a group without one (it only
//   stores offsets) loses each offset that long after its commit. Expired offsets are written as
//   tombstones; an Empty group left without offsets is deleted (a group tombstone too).
//
// - Coordinators move with leadership (Kafka's onElection / onResignation): every
//   kCoordinationCheckInterval, and before routing a request, each offsets partition is compared
//   with the epoch its groups were loaded at. Leading at a new epoch: (re)load from the log (to
//   its log end: what this leader holds is what the partition will hold). No longer leading:
//   its groups and offsets are forgotten here (their waiting requests get NOT_COORDINATOR).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/env.h"
#include "node/broker/broker_config.h"
#include "node/broker/group_coordinator.h"
#include "node/broker/group_records.h"
#include "node/broker/metadata_authority.h"
#include "node/broker/replica_manager.h"
#include "node/kafka/messages_group.h"

namespace gregor::broker {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";
// Kafka's offsets.topic.segment.bytes default: offsets partitions roll at 100 MiB.
inline constexpr int64_t kOffsetsSegmentBytes = 100 << 20;
// Named limits: committed offsets per group (more: the commit is refused), bytes read per step
// while loading a partition.
inline constexpr size_t kOffsetsPerGroupMax = 1'000'000;
inline constexpr size_t kLoadReadBytes = 1 << 20;
inline constexpr Duration kCoordinationCheckInterval = milliseconds(250);
// Kafka's offsets.commit.timeout.ms default: a group write not replicated (acks=all) by then
// fails with REQUEST_TIMED_OUT.
inline constexpr Duration kOffsetsCommitTimeout = seconds(5);

struct GroupManagerCounters {
  uint64_t offsets_committed = 0;
  uint64_t offsets_expired = 0;
  uint64_t groups_loaded = 0;
  uint64_t offsets_loaded = 0;
  uint64_t records_skipped = 0;  // undecodable records met while loading (logged, skipped)
};

class GroupManager {
 public:
  GroupManager(Env& env, const BrokerConfig& config, MetadataAuthority& controller,
               ReplicaManager& replicas);
  ~GroupManager();
  GroupManager(const GroupManager&) = delete;
  GroupManager& operator=(const GroupManager&) = delete;

  // Loads every hosted offsets partition in the background (answering
  // COORDINATOR_LOAD_IN_PROGRESS for its groups meanwhile) and starts the expiry timer.
  void start();
  // Stops the timer; answers nothing more (the broker is shutting down).
  void stop();

  // FindCoordinator for a group: this broker's id, host and port, or an error.
  void find_coordinator(const std::string& group_id,
                        std::function<void(kafka::ErrorCode, const BrokerImage*)> done);

  void join_group(const kafka::JoinGroupRequest& request, const GroupClient& client,
                  JoinGroupCallback done);
  void sync_group(const kafka::SyncGroupRequest& request, SyncGroupCallback done);
  kafka::ErrorCode heartbeat(const kafka::HeartbeatRequest& request);
  kafka::LeaveGroupResponse leave_group(const kafka::LeaveGroupRequest& request,
                                        int16_t api_version);
  kafka::DescribeGroupsResponse::DescribedGroup describe_group(const std::string& group_id);
  kafka::ListGroupsResponse list_groups(const std::vector<std::string>& states_filter);
  void commit_offsets(const kafka::OffsetCommitRequest& request, int16_t api_version,
                      std::function<void(kafka::OffsetCommitResponse)> done);
  kafka::OffsetFetchResponse fetch_offsets(const kafka::OffsetFetchRequest& request,
                                           int16_t api_version);

  // NONE when this broker coordinates the group now; else the error to answer.
  kafka::ErrorCode route(const std::string& group_id);
  // Loads or unloads offsets partitions whose leadership here changed (see the header comment).
  void sync_coordination();

  GroupCoordinator& coordinator() { return coordinator_; }
  const GroupManagerCounters& counters() const { return counters_; }
  // Runs one expiry pass now (tests; the timer runs it every offsets.retention.check.interval.ms).
  void expire_offsets();

 private:
  using OffsetMap = std::map<std::pair<std::string, int32_t>, OffsetValue>;
  struct Load;

  int32_t partition_for(const std::string& group_id) const;
  Partition* offsets_partition(int32_t index) const;
  void create_offsets_topic();
  void load_partition(int32_t index);
  void read_more(std::shared_ptr<Load> load);
  void apply(Load& load, const log::Record& record);
  void finish_load(std::shared_ptr<Load> load);
  void store_group(const std::string& group_id, GroupValue value,
                   std::function<void(kafka::ErrorCode)> done);
  // Appends records (key, value or tombstone) to the group's partition; done(error) with the
  // error Kafka's GroupMetadataManager maps the append's to.
  using KeyValue = std::pair<Bytes, std::optional<Bytes>>;
  void append(const std::string& group_id, std::vector<KeyValue> records, bool for_offsets,
              std::function<void(kafka::ErrorCode)> done);
  void schedule_expiry();
  void schedule_coordination_check();
  // Forgets the groups and offsets of offsets partition `index`.
  void unload_partition(int32_t index);

  Env& env_;
  const BrokerConfig& config_;
  MetadataAuthority& controller_;
  ReplicaManager& replicas_;
  GroupCoordinator coordinator_;
  std::map<std::string, OffsetMap> offsets_;      // by group id
  std::set<int32_t> loading_;                     // offsets partitions being loaded
  std::set<int32_t> loaded_;                      // offsets partitions whose groups are served here
  std::map<int32_t, int32_t> coordinated_epoch_;  // leader epoch each loading/loaded one is at
  bool creating_topic_ = false;
  bool stopped_ = false;
  TimerId expiry_timer_ = kNoTimer;
  TimerId coordination_timer_ = kNoTimer;
  GroupManagerCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The error an OffsetCommit or a group store answers for a failed append (Kafka's mapping).
kafka::ErrorCode coordinator_append_error(kafka::ErrorCode append_error, bool for_offsets);

}  // namespace gregor::broker
