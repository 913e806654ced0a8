// The group coordinator's static membership (KIP-345) and persistence: fencing and replacing
// static members, the stored form of a group, loading it back, and OffsetCommit's checks.
#include <algorithm>

#include "base/assert.h"
#include "node/broker/group_coordinator.h"
#include "node/broker/group_coordinator_internal.h"

namespace gregor::broker {

using kafka::ErrorCode;
using namespace group_internal;

// Kafka's validateCurrentMember: an instance id mapped to another member is a fenced duplicate
// (the old process of a restarted instance); otherwise the member must exist.
ErrorCode GroupCoordinator::validate_member(const Group& group, const std::string& member_id,
                                            const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    auto it = group.static_members.find(*instance_id);
    if (it != group.static_members.end() && it->second != member_id) {
      return ErrorCode::fenced_instance_id;
    }
  }
  return group.find(member_id) == nullptr ? ErrorCode::unknown_member_id : ErrorCode::none;
}

// Kafka's updateStaticMemberAndRebalance: a known instance joins with no member id (its process
// restarted). It takes over the old member's place under a new id; the old id is fenced (a
// duplicate still waiting gets FENCED_INSTANCE_ID). A Stable group whose protocol does not change
// carries on without a rebalance once the new id is stored: the member gets the current
// generation, and the old leader id, so that it does not run the assignor as a leader.
void GroupCoordinator::replace_static_member(Group& group, const std::string& old_id,
                                             const std::string& new_id,
                                             const kafka::JoinGroupRequest& request,
                                             JoinGroupCallback& done) {
  Member* member = group.find(old_id);
  GREGOR_ASSERT(member != nullptr, "static member {} maps to no member", old_id);
  if (member->awaiting_join) {
    reply_join(member->awaiting_join, join_error(old_id, ErrorCode::fenced_instance_id));
  }
  if (member->awaiting_sync) {
    reply_sync(member->awaiting_sync, sync_error(ErrorCode::fenced_instance_id));
  }
  std::string previous_leader = group.leader_id;
  auto old_protocols = member->protocols;
  member->member_id = new_id;
  if (group.leader_id == old_id) group.leader_id = new_id;
  std::replace(group.pending_sync.begin(), group.pending_sync.end(), old_id, new_id);
  group.static_members[*request.group_instance_id] = new_id;
  member->protocols = request.protocols;
  member->session_timeout = milliseconds(request.session_timeout_ms);
  member->rebalance_timeout = request.rebalance_timeout_ms < 0
                                  ? member->session_timeout
                                  : milliseconds(request.rebalance_timeout_ms);
  schedule_session(group, *member);
  switch (group.state) {
    case GroupState::stable:
      if (group.protocol_name == select_protocol(group)) break;
      [[fallthrough]];
    case GroupState::preparing_rebalance:
    case GroupState::completing_rebalance:
      member->awaiting_join = std::move(done);
      done = nullptr;
      // In CompletingRebalance the leader may already be assigning to the old id: start over.
      if (group.state == GroupState::completing_rebalance) return prepare_rebalance(group);
      return maybe_prepare_rebalance(group);
    case GroupState::empty:
    case GroupState::dead:
      GREGOR_UNREACHABLE("a static member in an {} group", group_state_name(group.state));
  }
  auto answer = [this, previous_leader, new_id](Group& g) {
    JoinGroupResult r;
    r.generation_id = g.generation_id;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol_name;
    r.leader = previous_leader;
    r.member_id = new_id;
    return r;
  };
  if (!store_) return reply_join(done, answer(group));
  // The new id must be durable first: a coordinator that restarted with the old one would fence
  // the live instance.
  std::string group_id = group.group_id;
  int32_t generation_id = group.generation_id;
  std::string instance_id = *request.group_instance_id;
  auto callback = std::make_shared<JoinGroupCallback>(std::move(done));
  done = nullptr;
  store_(group_id, stored_value(group, nullptr),
         [this, alive = alive_, group_id, generation_id, instance_id, old_id, new_id, old_protocols,
          callback, answer](ErrorCode error) mutable {
           if (!*alive) return;
           FlushGuard guard(*this);
           Group* g = find_group(group_id);
           Member* m = g ? g->find(new_id) : nullptr;
           if (m == nullptr || g->generation_id != generation_id) {
             // The group moved on while the write was out; the client rejoins.
             return reply_join(*callback, join_error(new_id, ErrorCode::rebalance_in_progress));
           }
           if (error == ErrorCode::none) return reply_join(*callback, answer(*g));
           // Not stored: put the old id back, as Kafka does, and tell the client why.
           m->member_id = old_id;
           m->protocols = old_protocols;
           if (g->leader_id == new_id) g->leader_id = old_id;
           std::replace(g->pending_sync.begin(), g->pending_sync.end(), new_id, old_id);
           g->static_members[instance_id] = old_id;
           schedule_session(*g, *m);
           reply_join(*callback, join_error("", error));
         });
}

GroupValue GroupCoordinator::stored_value(const Group& group,
                                          const kafka::SyncGroupRequest* sync) const {
  GroupValue v;
  v.protocol_type = group.protocol_type.value_or("");
  v.generation = group.generation_id;
  v.protocol = group.protocol_name;
  if (!group.leader_id.empty()) v.leader = group.leader_id;
  v.current_state_timestamp = group.state_timestamp_ms;
  for (const auto& m : group.members) {
    StoredMember& out = v.members.emplace_back();
    out.member_id = m.member_id;
    out.group_instance_id = m.instance_id;
    out.client_id = m.client_id;
    out.client_host = m.client_host;
    out.rebalance_timeout_ms = static_cast<int32_t>(to_ms(m.rebalance_timeout));
    out.session_timeout_ms = static_cast<int32_t>(to_ms(m.session_timeout));
    out.subscription = metadata_of(m, group.protocol_name.value_or(""));
    out.assignment = m.assignment;
    if (sync == nullptr) continue;
    out.assignment.clear();
    for (const auto& a : sync->assignments) {
      if (a.member_id == m.member_id) {
        out.assignment = a.assignment;
        break;
      }
    }
  }
  return v;
}

// ---- Persistence: loading a stored group, offset commits -------------------------------------

// Kafka's GroupMetadata.loadGroup and onGroupLoaded: the stored generation comes back Stable with
// its members and their assignments (Empty without members), and each member gets a fresh
// session, so clients that keep heartbeating carry on in the same generation without a
// rebalance, and the ones that are gone time out as usual.
void GroupCoordinator::load_group(const std::string& group_id, const GroupValue& value) {
  FlushGuard guard(*this);
  if (find_group(group_id) != nullptr) unload_group(group_id);
  Group& group = groups_[group_id];
  group.group_id = group_id;
  group.generation_id = value.generation;
  if (!value.protocol_type.empty()) group.protocol_type = value.protocol_type;
  group.protocol_name = value.protocol;
  group.state_timestamp_ms = value.current_state_timestamp;
  for (const StoredMember& stored : value.members) {
    Member& m = group.members.emplace_back();
    m.member_id = stored.member_id;
    m.instance_id = stored.group_instance_id;
    if (m.instance_id) group.static_members[*m.instance_id] = m.member_id;
    m.client_id = stored.client_id;
    m.client_host = stored.client_host;
    m.session_timeout = milliseconds(stored.session_timeout_ms);
    m.rebalance_timeout = milliseconds(stored.rebalance_timeout_ms);
    m.protocols.push_back({value.protocol.value_or(""), stored.subscription});
    m.assignment = stored.assignment;
    m.is_new = false;
  }
  if (group.members.empty()) {
    group.state = GroupState::empty;
    group.protocol_name.reset();
    return;
  }
  group.state = GroupState::stable;
  group.leader_id = value.leader.value_or("");
  if (group.find(group.leader_id) == nullptr) group.leader_id = group.members.front().member_id;
  for (auto& m : group.members) schedule_session(group, m);
}

void GroupCoordinator::unload_group(const std::string& group_id) {
  Group* group = find_group(group_id);
  if (group == nullptr) return;
  for (auto& [id, timer] : group->pending_members) env_.clock.cancel(timer);
  env_.clock.cancel(group->join_timer);
  env_.clock.cancel(group->sync_timer);
  // Waiting requests are answered NOT_COORDINATOR: the group lives elsewhere (or nowhere) now.
  for (auto& m : group->members) {
    env_.clock.cancel(m.session_timer);
    if (m.awaiting_join) reply_join(m.awaiting_join, join_error("", ErrorCode::not_coordinator));
    if (m.awaiting_sync) reply_sync(m.awaiting_sync, sync_error(ErrorCode::not_coordinator));
  }
  groups_.erase(group_id);
}

// Kafka's handleCommitOffsets / doCommitOffsets checks, in its order.
ErrorCode GroupCoordinator::validate_commit(const std::string& group_id,
                                            const std::string& member_id, int32_t generation_id,
                                            const std::optional<std::string>& group_instance_id) {
  FlushGuard guard(*this);
  // The offset APIs accept an empty group id (old clients commit with one), as Kafka does.
  if (group_id.size() > kGroupIdBytesMax) return ErrorCode::invalid_group_id;
  if (loading_) return ErrorCode::coordinator_load_in_progress;
  Group* group = find_group(group_id);
  if (group == nullptr) {
    // A group that only stores offsets here (manual assignment) commits with generation -1;
    // anything else is from a generation this coordinator never had.
    if (generation_id >= 0) return ErrorCode::illegal_generation;
    if (groups_.size() >= kGroupsMax) return ErrorCode::coordinator_not_available;
    Group& created = groups_[group_id];
    created.group_id = group_id;
    created.state_timestamp_ms = to_ms(env_.clock.wall_now());
    return ErrorCode::none;
  }
  if (group->state == GroupState::dead) return ErrorCode::coordinator_not_available;
  if (group_instance_id) {
    auto it = group->static_members.find(*group_instance_id);
    if (it != group->static_members.end() && it->second != member_id) {
      return ErrorCode::fenced_instance_id;
    }
  }
  if (generation_id < 0 && group->state == GroupState::empty) return ErrorCode::none;
  if (group->state == GroupState::completing_rebalance) return ErrorCode::rebalance_in_progress;
  Member* member = group->find(member_id);
  if (member == nullptr) return ErrorCode::unknown_member_id;
  if (generation_id != group->generation_id) return ErrorCode::illegal_generation;
  schedule_session(*group, *member);  // a commit counts as a heartbeat
  return ErrorCode::none;
}

std::optional<GroupInfo> GroupCoordinator::group_info(const std::string& group_id) const {
  const Group* group = find_group(group_id);
  if (group == nullptr) return std::nullopt;
  return GroupInfo{group->state, group->protocol_type, group->state_timestamp_ms};
}

std::vector<std::string> GroupCoordinator::group_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, group] : groups_) out.push_back(id);
  return out;
}

}  // namespace gregor::broker
