// GroupConsumer: a Kafka consumer that is a member of a consumer group (KafkaConsumer.subscribe),
// built on the manual-assignment Consumer (consumer.h) and its MetadataClient. It speaks the
// classic group protocol with Kafka's eager rebalancing and the embedded "consumer" protocol
// (node/kafka/consumer_protocol.h):
//
//   FindCoordinator(group) -> JoinGroup (protocol_type "consumer"; one protocol per configured
//   assignor, in partition_assignment_strategy order; a first JoinGroup of v4+ gets
//   MEMBER_ID_REQUIRED and is sent again with the id the broker gave) -> the leader decodes every
//   member's subscription, refreshes the metadata of all their topics and runs the assignor the
//   coordinator chose (assignor.h) -> SyncGroup -> OffsetFetch of the partitions assigned ->
//   assign() them, seek() those with a committed offset (the others follow auto_offset_reset) ->
//   Heartbeat every heartbeat_interval_ms.
//
// Rebalances. A Heartbeat, SyncGroup or OffsetCommit answered REBALANCE_IN_PROGRESS makes the
// member join again with its member id; ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID (its session
// lapsed, the group moved on) make it forget its member id and generation first, as Kafka does.
// Before joining, the member waits for its commits in flight (as Java's poll thread, blocked in
// commitSync, would), then (Kafka's onJoinPrepare) commits its positions if enable_auto_commit
// and it still has a valid generation, then revokes every partition (eager): on_partitions_revoked,
// or on_partitions_lost when the generation was lost (nothing is committed then). After SyncGroup
// and the OffsetFetch, on_partitions_assigned gets the new assignment (possibly empty).
//
// Coordinator. Group requests go over a connection of their own to the coordinator, so that a
// JoinGroup the broker holds for the whole rebalance does not stall fetches. NOT_COORDINATOR,
// COORDINATOR_NOT_AVAILABLE, a lost connection or no successful heartbeat for session_timeout_ms
// make the member look the coordinator up again; COORDINATOR_LOAD_IN_PROGRESS is retried after
// retry_backoff_ms. Non-retriable errors of JoinGroup or SyncGroup (INCONSISTENT_GROUP_PROTOCOL,
// INVALID_SESSION_TIMEOUT, GROUP_MAX_SIZE_REACHED, an undecodable assignment...) are fatal: every
// later poll() fails with them.
//
// Commits. commit() sends OffsetCommit with the member's generation and member id (leader epoch
// -1), retrying coordinator errors until default_api_timeout_ms. It fails during a rebalance
// (REBALANCE_IN_PROGRESS) and when the generation is stale, as Kafka's commitSync does. With
// enable_auto_commit, positions are committed every auto_commit_interval_ms, before each
// rebalance and on close.
//
// Poll interval. If poll() has not been called for max_poll_interval_ms (also JoinGroup's
// rebalance timeout) while no poll is waiting, the member leaves the group (LeaveGroup) as Kafka's
// heartbeat thread does; the next poll() joins again.
//
// Callbacks (poll's, commit's, close's, the rebalance hooks) run later from the event loop, never
// inside the call that registered them, and never after close_now() or destruction. One poll() at
// a time. No static membership (group.instance.id), no cooperative rebalancing, no detection of a
// partition count change of a subscribed topic (it takes the next rebalance).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/guarded.h"
#include "client/client_types.h"
#include "client/connection.h"
#include "client/consumer.h"

namespace gregor::client {

// Named limit: topics one consumer may subscribe to (the subscription goes in one JoinGroup).
inline constexpr size_t kSubscribedTopicsMax = 10000;
// Kafka's JOIN_GROUP_TIMEOUT_LAPSE: a JoinGroup may take the whole rebalance timeout at the
// broker; the client waits this much longer before giving up on it.
inline constexpr Duration kJoinGroupTimeoutLapse = milliseconds(5000);

struct GroupConsumerConfig : ConsumerConfig {
  std::string group_id;                                  // group.id (required)
  Duration session_timeout_ms = milliseconds(45000);     // session.timeout.ms (Kafka 3.x)
  Duration heartbeat_interval_ms = milliseconds(3000);   // heartbeat.interval.ms
  Duration max_poll_interval_ms = milliseconds(300000);  // max.poll.interval.ms
  // partition.assignment.strategy, by preference: "range", "roundrobin".
  std::vector<std::string> partition_assignment_strategy = {"range", "roundrobin"};
  bool enable_auto_commit = true;                         // enable.auto.commit
  Duration auto_commit_interval_ms = milliseconds(5000);  // auto.commit.interval.ms
};

Status validate(const GroupConsumerConfig& config);

// Optional rebalance hooks (Kafka's ConsumerRebalanceListener).
struct RebalanceListener {
  std::function<void(const std::vector<TopicPartition>&)> on_partitions_revoked;
  std::function<void(const std::vector<TopicPartition>&)> on_partitions_assigned;
  // When the generation was lost (session expired, fenced): the partitions may already belong to
  // another member, so nothing was committed. Unset: on_partitions_revoked runs instead.
  std::function<void(const std::vector<TopicPartition>&)> on_partitions_lost;
};

struct GroupConsumerCounters {
  uint64_t coordinator_lookups = 0;  // FindCoordinator requests
  uint64_t joins = 0;                // JoinGroup requests
  uint64_t generations = 0;          // SyncGroups that completed: assignments received
  uint64_t heartbeats = 0;           // answered NONE
  uint64_t commits = 0;              // OffsetCommits answered NONE for every partition
  uint64_t commit_failures = 0;      // commits that failed in the end
  uint64_t leaves = 0;               // LeaveGroup requests
};

class GroupConsumer {
 public:
  enum class State : uint8_t {
    unsubscribed,  // before subscribe()
    joining,       // finding the coordinator, JoinGroup, SyncGroup
    stable,        // a member of the current generation (offsets may still be loading)
    left,          // left after max_poll_interval_ms without poll(); the next poll() rejoins
    failed,        // a fatal error; poll() reports it
    closing,       // close() under way
    closed,
  };
  using PollFn = Consumer::PollFn;
  using OffsetsFn = Consumer::OffsetsFn;
  using StatusFn = std::function<void(const Status&)>;

  // The config must pass validate() (asserted).
  GroupConsumer(Env& env, GroupConsumerConfig config);
  ~GroupConsumer();
  GroupConsumer(const GroupConsumer&) = delete;
  GroupConsumer& operator=(const GroupConsumer&) = delete;

  // Subscribes to `topics` (replacing an earlier subscription: a rebalance follows) and joins
  // the group. Errc::invalid_argument for no topics, more than kSubscribedTopicsMax, or after
  // close().
  Status subscribe(std::vector<std::string> topics, RebalanceListener listener = {});
  const std::vector<std::string>& subscription() const { return topics_; }
  // The partitions this member consumes now (empty during a rebalance), sorted.
  const std::vector<TopicPartition>& assignment() const { return assigned_; }

  // Records of the assigned partitions, as Consumer::poll. Fails with the fatal error in state
  // failed, Errc::closed once closing, Errc::invalid_argument before subscribe().
  void poll(Duration timeout, PollFn done);
  std::optional<int64_t> position(const TopicPartition& tp) const;
  // Errc::invalid_argument for a partition not assigned now.
  Status seek(const TopicPartition& tp, int64_t offset);

  // Commits the positions of every assigned partition (that has one) / the given offsets (the
  // next offset to consume, as Kafka commits). done(ok) once the coordinator stored them all.
  void commit(StatusFn done);
  void commit(std::map<TopicPartition, int64_t> offsets, StatusFn done);
  // The group's committed offsets of `partitions` (OffsetFetch); -1 where none.
  void committed(std::vector<TopicPartition> partitions, OffsetsFn done);

  // Leaves in order: a last auto-commit (if enabled and stable), on_partitions_revoked,
  // LeaveGroup, then closes every connection; done gets the first error met (the consumer is
  // closed either way), within request_timeout_ms. A waiting poll's callback never runs.
  void close(StatusFn done);
  // Closes now without leaving (the coordinator notices when the session lapses); no callback
  // runs afterwards.
  void close_now();

  State state() const { return state_; }
  int32_t generation() const { return generation_; }
  const std::string& member_id() const { return member_id_; }
  bool is_leader() const { return !member_id_.empty() && leader_id_ == member_id_; }
  const std::string& protocol() const { return protocol_; }  // the assignor chosen
  const GroupConsumerCounters& counters() const { return counters_; }
  const GroupConsumerConfig& config() const { return config_; }
  Consumer& consumer() { return consumer_; }

 private:
  using CoordinatorFn = std::function<void(Result<KafkaClientConnection*>)>;
  // One commit: its offsets, the generation it speaks for, its deadline for retries.
  struct CommitOp {
    std::map<TopicPartition, int64_t> offsets;
    int32_t generation = -1;
    std::string member_id;
    MonoTime deadline{};
    StatusFn done;
  };

  // --- group_consumer_join.cc: coordinator, join, sync, offsets ---
  void with_coordinator(CoordinatorFn fn);
  void find_coordinator();
  void on_coordinator_found(Result<kafka::FindCoordinatorResponse> resp);
  void retry_find_coordinator(const Status& why);
  void mark_coordinator_unknown(const Status& why);
  // Sends a request to the coordinator, finding it first if needed; done gets the response or
  // why there is none (also when the coordinator connection is dropped while it is in flight).
  template <kafka::Message Req>
  void send_to_coordinator(Req req, std::function<void(Result<ResponseOf<Req>>)> done,
                           Duration timeout);
  void request_rejoin(const std::string& reason, bool lost);
  void prepare_join(bool lost);
  void join_after_commits(uint64_t epoch, bool lost, bool was_member);
  void revoke(bool lost);
  void send_join(uint64_t epoch);
  void retry_join(uint64_t epoch, const Status& why);
  void on_join(uint64_t epoch, Result<kafka::JoinGroupResponse> resp);
  void lead(uint64_t epoch, std::vector<kafka::JoinGroupResponse::JoinGroupResponseMember> members);
  void send_sync(uint64_t epoch, std::vector<kafka::SyncGroupRequest::SyncGroupRequestAssignment>);
  void on_sync(uint64_t epoch, Result<kafka::SyncGroupResponse> resp);
  void apply_assignment(uint64_t epoch, std::vector<TopicPartition> partitions,
                        std::map<TopicPartition, int64_t> committed);
  // OffsetFetch, retrying coordinator errors until `deadline`; with a join epoch (> 0) it gives
  // up silently once that epoch is over.
  void fetch_committed(std::vector<TopicPartition> partitions, uint64_t epoch, MonoTime deadline,
                       OffsetsFn done);
  void reset_member();
  void fail_fatal(const Status& why);

  // --- group_consumer.cc: heartbeats, commits, leaving ---
  void schedule_heartbeat(Duration delay);
  void send_heartbeat();
  void on_heartbeat(uint64_t epoch, Result<kafka::HeartbeatResponse> resp);
  void schedule_auto_commit();
  std::map<TopicPartition, int64_t> positions() const;
  void start_commit(std::shared_ptr<CommitOp> op);  // counts it in flight, then sends
  void send_commit(std::shared_ptr<CommitOp> op);
  // Runs fn once no commit is in flight (at once if none is).
  void after_commits(std::function<void()> fn);
  void on_commit(std::shared_ptr<CommitOp> op, Result<kafka::OffsetCommitResponse> resp);
  void leave_group(StatusFn done);
  void cancel_timers();
  template <typename Fn>
  void later(Fn fn) {
    env_.clock.schedule(Duration::zero(), guarded(alive_, std::move(fn)));
  }

  Env& env_;
  GroupConsumerConfig config_;
  Consumer consumer_;
  ConnectionConfig connection_config_;
  State state_ = State::unsubscribed;
  std::vector<std::string> topics_;  // sorted, unique
  RebalanceListener listener_;
  Status fatal_;

  // Group membership (Kafka's Generation).
  std::string member_id_;
  int32_t generation_ = -1;
  std::string leader_id_;
  std::string protocol_;
  uint64_t join_epoch_ = 0;  // renewed by every join and by close: answers of older ones drop
  std::vector<TopicPartition> assigned_;

  // The coordinator and what waits for it.
  std::unique_ptr<KafkaClientConnection> coordinator_;
  uint64_t coordinator_epoch_ = 0;  // renewed per connection: events of an old one drop
  bool finding_coordinator_ = false;
  TimerId find_timer_ = kNoTimer;
  std::vector<CoordinatorFn> coordinator_waiters_;
  uint64_t next_request_id_ = 0;
  std::map<uint64_t, StatusFn> in_flight_;  // requests on coordinator_, to fail if it is dropped

  // Timers and activity.
  TimerId heartbeat_timer_ = kNoTimer;
  TimerId auto_commit_timer_ = kNoTimer;
  bool heartbeat_in_flight_ = false;
  bool auto_commit_in_flight_ = false;
  size_t commits_in_flight_ = 0;
  std::vector<std::function<void()>> after_commits_;
  MonoTime last_heartbeat_ok_{};
  MonoTime last_poll_{};
  bool poll_waiting_ = false;
  std::shared_ptr<bool> poll_token_ = std::make_shared<bool>(true);  // drops a waiting poll

  GroupConsumerCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

template <kafka::Message Req>
void GroupConsumer::send_to_coordinator(Req req, std::function<void(Result<ResponseOf<Req>>)> done,
                                        Duration timeout) {
  with_coordinator([this, req = std::move(req), done = std::move(done),
                    timeout](Result<KafkaClientConnection*> conn) {
    if (!conn.ok()) return done(conn.status());
    uint64_t id = ++next_request_id_;
    in_flight_[id] = [done](const Status& s) { done(s); };
    (*conn)->send(req,
                  guarded(alive_,
                          [this, id, done](Result<ResponseOf<Req>> resp) {
                            // Already failed by mark_coordinator_unknown: answered once only.
                            if (in_flight_.erase(id) == 0) return;
                            done(std::move(resp));
                          }),
                  timeout);
  });
}

}  // namespace gregor::client
