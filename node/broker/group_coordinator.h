// The classic consumer-group coordinator (Kafka's GroupCoordinator and GroupMetadata, the
// JoinGroup/SyncGroup/Heartbeat/LeaveGroup protocol) as a state machine: requests in, answers out
// through callbacks or return values. It does no I/O; the Env gives it only its clock (session,
// rebalance and initial-delay timers) and its random stream (member ids), so the same requests at
// the same virtual times give the same answers.
//
// A group moves Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and back to
// PreparingRebalance whenever its membership or a member's protocols change. In
// PreparingRebalance every known member must rejoin (JoinGroup) before the rebalance timeout;
// those that do not are removed. Completion bumps the generation, elects the protocol and answers
// every pending JoinGroup (the leader gets the members and their metadata). The leader's
// SyncGroup carries the assignments, which answer every member's SyncGroup; then Stable.
// A member whose session (session_timeout_ms without a JoinGroup, SyncGroup or Heartbeat) lapses
// is removed, as is one that leaves, and the group rebalances.
//
// Contract for callers (the broker's handlers):
// - Every JoinGroup and SyncGroup callback runs exactly once: either before the call returns
//   (the answer was known at once) or later from a timer or from another request's call. Callbacks
//   run after the coordinator's state is consistent, so they may call back into it.
// - heartbeat, leave_group, describe_group and list_groups answer at once (return values).
// - Group-level routing (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR) is the broker's job; while
//   `set_loading(true)` every request is answered COORDINATOR_LOAD_IN_PROGRESS.
// - Static membership (KIP-345, group_instance_id): a static member joins without the
//   MEMBER_ID_REQUIRED round trip; a rejoin of a known instance replaces the old member id (which
//   is then fenced with FENCED_INSTANCE_ID) and, in a Stable group, keeps the generation; static
//   members stay in a generation they did not rejoin until their session lapses; LeaveGroup v3
//   may remove a member by instance id alone.
// - Persistence is the caller's (GroupManager, in __consumer_offsets): with set_store(), the
//   leader's SyncGroup is answered only once the generation and its assignments are stored (an
//   error fails the syncs and starts a new rebalance, as Kafka), and a generation that ends Empty
//   is stored too. load_group() brings a stored group back; an Empty group stays listed until
//   remove_empty_group() (the offset expiry does that once its offsets are gone).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/env.h"
#include "node/broker/group_records.h"
#include "node/kafka/error_code.h"
#include "node/kafka/messages_group.h"

namespace gregor::broker {

struct BrokerConfig;

// Named limits. Each is checked where the thing is added; exceeding one is an error answer.
inline constexpr size_t kGroupsMax = 10'000;           // new group: COORDINATOR_NOT_AVAILABLE
inline constexpr int32_t kMembersPerGroupMax = 1'000;  // members + pending: GROUP_MAX_SIZE_REACHED
inline constexpr size_t kGroupIdBytesMax = 255;        // longer: INVALID_GROUP_ID
inline constexpr size_t kProtocolsPerMemberMax = 16;   // more: INVALID_REQUEST
inline constexpr size_t kMemberMetadataBytesMax = 64 * 1024;  // per member: INVALID_REQUEST
inline constexpr size_t kGroupAssignmentBytesMax = 16 << 20;  // a leader's sync: INVALID_REQUEST
// Kafka's GroupCoordinator.NewMemberJoinTimeoutMs: a new member waiting in JoinGroup is dropped
// after this, since it has no member id to heartbeat with.
inline constexpr Duration kNewMemberJoinTimeout = minutes(5);

struct GroupCoordinatorConfig {
  Duration min_session_timeout = milliseconds(6000);      // group.min.session.timeout.ms
  Duration max_session_timeout = milliseconds(1800000);   // group.max.session.timeout.ms
  Duration initial_rebalance_delay = milliseconds(3000);  // group.initial.rebalance.delay.ms
  int32_t max_size = kMembersPerGroupMax;                 // group.max.size, capped by the limit

  static GroupCoordinatorConfig from(const BrokerConfig& config);
};

enum class GroupState { empty, preparing_rebalance, completing_rebalance, stable, dead };
// Kafka's spelling: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
std::string_view group_state_name(GroupState state);

// What the request header says about the caller.
struct GroupClient {
  int16_t api_version = 0;  // of this request (JoinGroup v4+ gets MEMBER_ID_REQUIRED)
  std::string client_id;
  std::string client_host;
};

// JoinGroupResponse's fields (protocol_type is v7+ on the wire; the broker drops it below).
struct JoinGroupResult {
  kafka::ErrorCode error = kafka::ErrorCode::none;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<kafka::JoinGroupResponse::JoinGroupResponseMember> members;  // leader only
};

struct SyncGroupResult {
  kafka::ErrorCode error = kafka::ErrorCode::none;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  Bytes assignment;
};

// What offset expiry needs to know of a group.
struct GroupInfo {
  GroupState state = GroupState::empty;
  std::optional<std::string> protocol_type;  // nullopt: only stores offsets (no membership)
  int64_t state_timestamp_ms = -1;           // wall clock of the last state change
};

// Stores a group's metadata durably; done(NONE) once it is, or the error for the members.
using StoreGroupFn = std::function<void(const std::string& group_id, GroupValue value,
                                        std::function<void(kafka::ErrorCode)> done)>;

using JoinGroupCallback = std::function<void(JoinGroupResult)>;
using SyncGroupCallback = std::function<void(SyncGroupResult)>;

// A group as ListGroups shows it.
struct ListedGroup {
  std::string group_id;
  std::string protocol_type;
  GroupState state = GroupState::empty;
};

class GroupCoordinator {
 public:
  GroupCoordinator(Env& env, GroupCoordinatorConfig config);
  ~GroupCoordinator();  // cancels every timer; pending callbacks are dropped, never run
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // While set, every request is answered COORDINATOR_LOAD_IN_PROGRESS (the broker sets it while it
  // loads the group partition it just became coordinator of).
  void set_loading(bool loading) { loading_ = loading; }
  bool loading() const { return loading_; }

  void join_group(const kafka::JoinGroupRequest& request, const GroupClient& client,
                  JoinGroupCallback done);
  void sync_group(const kafka::SyncGroupRequest& request, SyncGroupCallback done);
  kafka::ErrorCode heartbeat(const kafka::HeartbeatRequest& request);
  // v0-2 name one member in request.member_id (its error is the top-level error); v3+ a list,
  // each with its own error (top-level NONE unless the whole request failed).
  kafka::LeaveGroupResponse leave_group(const kafka::LeaveGroupRequest& request,
                                        int16_t api_version);

  // DescribeGroups for one group: an unknown group is "Dead" with no members (as Kafka). Members'
  // metadata and assignments are shown only when Stable.
  kafka::DescribeGroupsResponse::DescribedGroup describe_group(const std::string& group_id) const;
  // ListGroups: every group, by group id. Error COORDINATOR_LOAD_IN_PROGRESS while loading.
  kafka::ErrorCode list_groups(std::vector<ListedGroup>& out) const;

  void set_store(StoreGroupFn store) { store_ = std::move(store); }
  // Replaces any group of that id by the stored one (see the .cc for the states it comes back in).
  void load_group(const std::string& group_id, const GroupValue& value);
  // Forgets a group; its waiting joins and syncs are answered NOT_COORDINATOR.
  void unload_group(const std::string& group_id);
  // OffsetCommit's checks (Kafka's doCommitOffsets): NONE when the commit may be stored. A
  // generation -1 commit to an unknown group creates it Empty (a group that only keeps offsets).
  kafka::ErrorCode validate_commit(const std::string& group_id, const std::string& member_id,
                                   int32_t generation_id,
                                   const std::optional<std::string>& group_instance_id);
  std::optional<GroupInfo> group_info(const std::string& group_id) const;
  std::vector<std::string> group_ids() const;

  // Drops an Empty group (Kafka does so once it has no committed offsets). False otherwise.
  bool remove_empty_group(const std::string& group_id);

  // For tests and checkers.
  std::optional<GroupState> group_state(const std::string& group_id) const;
  int32_t generation_id(const std::string& group_id) const;  // -1: no such group
  size_t group_count() const { return groups_.size(); }

 private:
  struct Member {
    std::string member_id;
    std::string client_id;
    std::string client_host;
    std::optional<std::string> instance_id;  // static members (KIP-345)
    std::vector<kafka::JoinGroupRequest::JoinGroupRequestProtocol> protocols;  // by preference
    Duration session_timeout{};
    Duration rebalance_timeout{};
    Bytes assignment;                 // of the current generation, once the leader synced
    JoinGroupCallback awaiting_join;  // set while a JoinGroup waits for the rebalance
    SyncGroupCallback awaiting_sync;  // set while a SyncGroup waits for the leader's
    bool is_new = true;               // has not yet been answered a JoinGroup with a generation
    TimerId session_timer = kNoTimer;
  };
  struct Group {
    std::string group_id;
    GroupState state = GroupState::empty;
    int64_t state_timestamp_ms = -1;  // wall clock of the last set_state (KIP-211 expiry)
    int32_t generation_id = 0;
    std::optional<std::string> protocol_type;           // of the first member; kept while Empty
    std::optional<std::string> protocol_name;           // elected at each generation
    std::string leader_id;                              // "" when there are no members
    std::vector<Member> members;                        // in join order
    std::map<std::string, std::string> static_members;  // instance id -> member id
    // Member ids handed out with MEMBER_ID_REQUIRED and not yet used, each with its expiry.
    std::map<std::string, TimerId> pending_members;
    // Members of this generation that have not sent SyncGroup yet (Kafka's pendingSyncMembers).
    std::vector<std::string> pending_sync;
    bool new_member_added = false;  // a member joined during the initial delay (InitialDelayedJoin)
    TimerId join_timer = kNoTimer;
    bool join_timer_initial = false;
    TimerId sync_timer = kNoTimer;

    Member* find(std::string_view member_id);
    const Member* find(std::string_view member_id) const;
    Duration rebalance_timeout() const;  // the largest of the members'
  };
  class FlushGuard;

  Group* find_group(const std::string& group_id);
  const Group* find_group(const std::string& group_id) const;
  kafka::ErrorCode check_join(const kafka::JoinGroupRequest& request) const;
  bool supports_protocols(const Group& group, const kafka::JoinGroupRequest& request) const;
  static bool supports(const Member& member, std::string_view protocol);
  static std::string select_protocol(const Group& group);
  static Bytes metadata_of(const Member& member, std::string_view protocol);
  // The join_* and *_rebalance helpers take the callback by reference and consume it.
  void join_unknown_member(Group& group, const kafka::JoinGroupRequest& request,
                           const GroupClient& client, JoinGroupCallback& done);
  void join_known_member(Group& group, const kafka::JoinGroupRequest& request,
                         const GroupClient& client, JoinGroupCallback& done);
  void add_member_and_rebalance(Group& group, const std::string& member_id,
                                const kafka::JoinGroupRequest& request, const GroupClient& client,
                                JoinGroupCallback& done);
  void update_member_and_rebalance(Group& group, Member& member,
                                   const kafka::JoinGroupRequest& request, JoinGroupCallback& done);
  void replace_static_member(Group& group, const std::string& old_id, const std::string& new_id,
                             const kafka::JoinGroupRequest& request, JoinGroupCallback& done);
  kafka::ErrorCode validate_member(const Group& group, const std::string& member_id,
                                   const std::optional<std::string>& instance_id) const;
  void maybe_prepare_rebalance(Group& group);
  void prepare_rebalance(Group& group);
  void schedule_join_timer(Group& group, Duration delay, Duration remaining, bool initial);
  void on_join_timer(const std::string& group_id, Duration remaining, bool initial);
  void try_complete_join(Group& group);
  void complete_join(Group& group);
  JoinGroupResult current_generation_result(const Group& group, const Member& member) const;
  void set_and_propagate_assignment(Group& group, const kafka::SyncGroupRequest& request);
  void propagate_sync_error(Group& group, kafka::ErrorCode error);
  void on_sync_timer(const std::string& group_id, int32_t generation_id);
  void drop_member(Group& group, const std::string& member_id, kafka::ErrorCode error);
  void remove_member_and_update_group(Group& group, const std::string& member_id);
  void schedule_session(Group& group, Member& member);
  void on_session_timer(const std::string& group_id, const std::string& member_id);
  void on_pending_session_timer(const std::string& group_id, const std::string& member_id);
  std::string new_member_id(const std::string& client_id);
  // Queue an answer (run by flush) and clear the callback.
  void reply_join(JoinGroupCallback& done, JoinGroupResult result);
  void reply_sync(SyncGroupCallback& done, SyncGroupResult result);
  void flush();
  void set_state(Group& group, GroupState state);
  // The stored form of the group; with `sync`, the assignments are the leader's in it.
  GroupValue stored_value(const Group& group, const kafka::SyncGroupRequest* sync) const;

  Env& env_;
  GroupCoordinatorConfig config_;
  bool loading_ = false;
  std::map<std::string, Group> groups_;
  // Answers decided during a call, run at its end (see flush) so callbacks see a consistent state.
  std::vector<std::function<void()>> replies_;
  int flush_depth_ = 0;
  StoreGroupFn store_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::broker
