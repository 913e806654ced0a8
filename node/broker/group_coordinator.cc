// The classic group coordinator, after Kafka's GroupCoordinator.scala and GroupMetadata.scala
// (3.x, before KIP-848). Where Kafka parks a request in a purgatory (DelayedJoin,
// InitialDelayedJoin, DelayedSync, DelayedHeartbeat), this file keeps a callback on the member and
// one clock timer; the checks and their order follow Kafka's so clients see the same errors.
#include "node/broker/group_coordinator.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "node/broker/broker_config.h"
#include "node/broker/group_coordinator_internal.h"

namespace gregor::broker {

using kafka::ErrorCode;
using namespace group_internal;

GroupCoordinatorConfig GroupCoordinatorConfig::from(const BrokerConfig& config) {
  GroupCoordinatorConfig out;
  out.min_session_timeout = config.group_min_session_timeout_ms;
  out.max_session_timeout = config.group_max_session_timeout_ms;
  out.initial_rebalance_delay = config.group_initial_rebalance_delay_ms;
  return out;
}

std::string_view group_state_name(GroupState state) {
  switch (state) {
    case GroupState::empty:
      return "Empty";
    case GroupState::preparing_rebalance:
      return "PreparingRebalance";
    case GroupState::completing_rebalance:
      return "CompletingRebalance";
    case GroupState::stable:
      return "Stable";
    case GroupState::dead:
      return "Dead";
  }
  GREGOR_UNREACHABLE("bad group state {}", static_cast<int>(state));
}

GroupCoordinator::Member* GroupCoordinator::Group::find(std::string_view member_id) {
  for (auto& m : members) {
    if (m.member_id == member_id) return &m;
  }
  return nullptr;
}

const GroupCoordinator::Member* GroupCoordinator::Group::find(std::string_view member_id) const {
  return const_cast<Group*>(this)->find(member_id);
}

Duration GroupCoordinator::Group::rebalance_timeout() const {
  Duration out{};
  for (const auto& m : members) out = std::max(out, m.rebalance_timeout);
  return out;
}

GroupCoordinator::GroupCoordinator(Env& env, GroupCoordinatorConfig config)
    : env_(env), config_(config) {
  GREGOR_ASSERT(config_.min_session_timeout <= config_.max_session_timeout,
                "group.min.session.timeout.ms above group.max.session.timeout.ms");
  GREGOR_ASSERT(config_.max_size > 0, "group.max.size must be positive");
  config_.max_size = std::min(config_.max_size, kMembersPerGroupMax);
}

GroupCoordinator::~GroupCoordinator() {
  *alive_ = false;
  for (auto& [id, group] : groups_) {
    env_.clock.cancel(group.join_timer);
    env_.clock.cancel(group.sync_timer);
    for (auto& [member_id, timer] : group.pending_members) env_.clock.cancel(timer);
    for (auto& m : group.members) env_.clock.cancel(m.session_timer);
  }
}

void GroupCoordinator::flush() {
  while (!replies_.empty()) {
    auto batch = std::move(replies_);
    replies_.clear();
    for (auto& reply : batch) reply();
  }
}

void GroupCoordinator::reply_join(JoinGroupCallback& done, JoinGroupResult result) {
  GREGOR_ASSERT(done != nullptr, "join answered twice");
  replies_.push_back(
      [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
  done = nullptr;
}

void GroupCoordinator::reply_sync(SyncGroupCallback& done, SyncGroupResult result) {
  GREGOR_ASSERT(done != nullptr, "sync answered twice");
  replies_.push_back(
      [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
  done = nullptr;
}

GroupCoordinator::Group* GroupCoordinator::find_group(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

const GroupCoordinator::Group* GroupCoordinator::find_group(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

std::string GroupCoordinator::new_member_id(const std::string& client_id) {
  // Kafka: clientId + "-" + UUID.randomUUID(). Drawn from the process's own stream, so a seed
  // gives the same ids.
  uint64_t hi = env_.random.next_u64();
  uint64_t lo = env_.random.next_u64();
  hi = (hi & ~0xf000ull) | 0x4000ull;              // version 4
  lo = (lo & ~(0xc0ull << 56)) | (0x80ull << 56);  // variant 10
  return fmt::format("{}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", client_id, hi >> 32,
                     (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & 0xffffffffffffull);
}

// ---- JoinGroup ------------------------------------------------------------------------------

ErrorCode GroupCoordinator::check_join(const kafka::JoinGroupRequest& request) const {
  if (!valid_group_id(request.group_id)) return ErrorCode::invalid_group_id;
  if (loading_) return ErrorCode::coordinator_load_in_progress;
  if (request.group_instance_id && request.group_instance_id->empty()) {
    return ErrorCode::invalid_request;  // Kafka: an instance id must not be empty
  }
  auto session = milliseconds(request.session_timeout_ms);
  if (session < config_.min_session_timeout || session > config_.max_session_timeout) {
    return ErrorCode::invalid_session_timeout;
  }
  if (request.protocols.size() > kProtocolsPerMemberMax) return ErrorCode::invalid_request;
  size_t metadata_bytes = 0;
  for (const auto& p : request.protocols) metadata_bytes += p.name.size() + p.metadata.size();
  if (metadata_bytes > kMemberMetadataBytesMax) return ErrorCode::invalid_request;
  return ErrorCode::none;
}

// Kafka's GroupMetadata.supportsProtocols: a first member needs a type and a protocol; later ones
// the group's type and a protocol every current member supports.
bool GroupCoordinator::supports_protocols(const Group& group,
                                          const kafka::JoinGroupRequest& request) const {
  if (request.protocol_type.empty() || request.protocols.empty()) return false;
  if (group.members.empty()) return true;
  if (group.protocol_type != request.protocol_type) return false;
  return std::any_of(request.protocols.begin(), request.protocols.end(), [&](const auto& p) {
    return std::all_of(group.members.begin(), group.members.end(),
                       [&](const Member& m) { return supports(m, p.name); });
  });
}

bool GroupCoordinator::supports(const Member& member, std::string_view protocol) {
  return std::any_of(member.protocols.begin(), member.protocols.end(),
                     [&](const auto& p) { return p.name == protocol; });
}

void GroupCoordinator::join_group(const kafka::JoinGroupRequest& request, const GroupClient& client,
                                  JoinGroupCallback done) {
  FlushGuard guard(*this);
  if (auto error = check_join(request); error != ErrorCode::none) {
    return reply_join(done, join_error(request.member_id, error));
  }
  bool unknown = request.member_id.empty();
  bool created = false;
  if (find_group(request.group_id) == nullptr) {
    if (!unknown)
      return reply_join(done, join_error(request.member_id, ErrorCode::unknown_member_id));
    // Retriable: Empty groups can be removed, freeing room.
    if (groups_.size() >= kGroupsMax) {
      return reply_join(done, join_error("", ErrorCode::coordinator_not_available));
    }
    groups_[request.group_id].group_id = request.group_id;
    created = true;
  }
  Group& group = *find_group(request.group_id);
  if (unknown) {
    join_unknown_member(group, request, client, done);
  } else {
    join_known_member(group, request, client, done);
  }
  // A join that failed on a group it created leaves nothing behind.
  if (created && group.members.empty() && group.pending_members.empty()) {
    groups_.erase(request.group_id);
  }
}

void GroupCoordinator::join_unknown_member(Group& group, const kafka::JoinGroupRequest& request,
                                           const GroupClient& client, JoinGroupCallback& done) {
  if (!supports_protocols(group, request)) {
    return reply_join(done, join_error("", ErrorCode::inconsistent_group_protocol));
  }
  // KIP-345: a static member needs no MEMBER_ID_REQUIRED round trip; its instance id is what
  // identifies it, and a rejoin with the same instance takes over the old member's place (so a
  // full group still takes it back).
  if (request.group_instance_id) {
    auto known = group.static_members.find(*request.group_instance_id);
    if (known != group.static_members.end()) {
      std::string old_id = known->second;
      return replace_static_member(group, old_id, new_member_id(client.client_id), request, done);
    }
  }
  if (group.members.size() + group.pending_members.size() >=
      static_cast<size_t>(config_.max_size)) {
    return reply_join(done, join_error("", ErrorCode::group_max_size_reached));
  }
  std::string member_id = new_member_id(client.client_id);
  if (request.group_instance_id) {
    return add_member_and_rebalance(group, member_id, request, client, done);
  }
  if (client.api_version < 4) {
    return add_member_and_rebalance(group, member_id, request, client, done);
  }
  // KIP-394: hand out the id first, so a client that times out and retries does not leave a
  // defunct member in the group. The id is good for one session timeout.
  std::string group_id = group.group_id;
  group.pending_members[member_id] = env_.clock.schedule(
      milliseconds(request.session_timeout_ms),
      [this, group_id, member_id] { on_pending_session_timer(group_id, member_id); });
  reply_join(done, join_error(member_id, ErrorCode::member_id_required));
}

void GroupCoordinator::join_known_member(Group& group, const kafka::JoinGroupRequest& request,
                                         const GroupClient& client, JoinGroupCallback& done) {
  const std::string& member_id = request.member_id;
  if (!supports_protocols(group, request)) {
    return reply_join(done, join_error(member_id, ErrorCode::inconsistent_group_protocol));
  }
  if (auto it = group.pending_members.find(member_id); it != group.pending_members.end()) {
    env_.clock.cancel(it->second);
    group.pending_members.erase(it);
    return add_member_and_rebalance(group, member_id, request, client, done);
  }
  if (ErrorCode e = validate_member(group, member_id, request.group_instance_id);
      e != ErrorCode::none) {
    return reply_join(done, join_error(member_id, e));
  }
  Member* member = group.find(member_id);
  if (request.group_instance_id && !group.static_members.contains(*request.group_instance_id)) {
    // Kafka's groupInstanceIdNotFound: the client resets its member id and joins afresh.
    return reply_join(done, join_error(member_id, ErrorCode::unknown_member_id));
  }
  bool same = member->protocols == request.protocols;
  switch (group.state) {
    case GroupState::preparing_rebalance:
      return update_member_and_rebalance(group, *member, request, done);
    case GroupState::completing_rebalance:
      // A resend of the join whose answer was lost: answer it again, no new rebalance.
      if (same) break;
      return update_member_and_rebalance(group, *member, request, done);
    case GroupState::stable:
      // The leader rejoins to make the group rebalance (e.g. its topic subscription changed).
      if (same && member_id != group.leader_id) break;
      return update_member_and_rebalance(group, *member, request, done);
    case GroupState::empty:
    case GroupState::dead:
      return reply_join(done, join_error(member_id, ErrorCode::unknown_member_id));
  }
  schedule_session(group, *member);
  reply_join(done, current_generation_result(group, *member));
}

void GroupCoordinator::add_member_and_rebalance(Group& group, const std::string& member_id,
                                                const kafka::JoinGroupRequest& request,
                                                const GroupClient& client,
                                                JoinGroupCallback& done) {
  Member member;
  member.member_id = member_id;
  member.client_id = client.client_id;
  member.client_host = client.client_host;
  member.protocols = request.protocols;
  member.instance_id = request.group_instance_id;
  if (member.instance_id) group.static_members[*member.instance_id] = member_id;
  member.session_timeout = milliseconds(request.session_timeout_ms);
  // JoinGroup v0 has no rebalance timeout: Kafka uses the session timeout.
  member.rebalance_timeout = request.rebalance_timeout_ms < 0
                                 ? member.session_timeout
                                 : milliseconds(request.rebalance_timeout_ms);
  member.awaiting_join = std::move(done);
  done = nullptr;
  if (group.state == GroupState::preparing_rebalance && group.generation_id == 0) {
    group.new_member_added = true;
  }
  if (group.members.empty()) group.protocol_type = request.protocol_type;
  if (group.leader_id.empty()) group.leader_id = member_id;
  group.members.push_back(std::move(member));
  schedule_session(group, group.members.back());
  maybe_prepare_rebalance(group);
}

void GroupCoordinator::update_member_and_rebalance(Group& group, Member& member,
                                                   const kafka::JoinGroupRequest& request,
                                                   JoinGroupCallback& done) {
  // A second join from the same member supersedes the first; answer the first so that every
  // request gets exactly one response (Kafka drops it and lets the client time out).
  if (member.awaiting_join) {
    reply_join(member.awaiting_join,
               join_error(member.member_id, ErrorCode::rebalance_in_progress));
  }
  member.protocols = request.protocols;
  member.session_timeout = milliseconds(request.session_timeout_ms);
  member.rebalance_timeout = request.rebalance_timeout_ms < 0
                                 ? member.session_timeout
                                 : milliseconds(request.rebalance_timeout_ms);
  member.awaiting_join = std::move(done);
  done = nullptr;
  schedule_session(group, member);
  maybe_prepare_rebalance(group);
}

// Joins in PreparingRebalance may complete it; from any other live state they start one.
void GroupCoordinator::maybe_prepare_rebalance(Group& group) {
  if (group.state == GroupState::preparing_rebalance) return try_complete_join(group);
  if (group.state == GroupState::dead) return;
  prepare_rebalance(group);
}

void GroupCoordinator::prepare_rebalance(Group& group) {
  if (group.state == GroupState::completing_rebalance) {
    propagate_sync_error(group, ErrorCode::rebalance_in_progress);
  }
  env_.clock.cancel(group.sync_timer);
  group.sync_timer = kNoTimer;
  group.pending_sync.clear();
  bool initial = group.state == GroupState::empty;
  set_state(group, GroupState::preparing_rebalance);
  if (initial) {
    // Kafka's InitialDelayedJoin: let a starting group's members arrive before the first
    // generation, instead of one rebalance per member.
    Duration delay = config_.initial_rebalance_delay;
    Duration remaining = std::max(group.rebalance_timeout() - delay, Duration{});
    return schedule_join_timer(group, delay, remaining, true);
  }
  schedule_join_timer(group, group.rebalance_timeout(), Duration{}, false);
  try_complete_join(group);
}

void GroupCoordinator::schedule_join_timer(Group& group, Duration delay, Duration remaining,
                                           bool initial) {
  env_.clock.cancel(group.join_timer);
  std::string group_id = group.group_id;
  group.join_timer_initial = initial;
  group.join_timer = env_.clock.schedule(
      delay, [this, group_id, remaining, initial] { on_join_timer(group_id, remaining, initial); });
}

void GroupCoordinator::on_join_timer(const std::string& group_id, Duration remaining,
                                     bool initial) {
  FlushGuard guard(*this);
  Group* group = find_group(group_id);
  if (group == nullptr) return;
  group->join_timer = kNoTimer;
  if (group->state != GroupState::preparing_rebalance) return;
  if (initial && group->new_member_added && remaining > Duration{}) {
    // Members are still arriving: wait another delay, within the rebalance timeout.
    group->new_member_added = false;
    Duration delay = std::min(config_.initial_rebalance_delay, remaining);
    return schedule_join_timer(*group, delay, remaining - delay, true);
  }
  complete_join(*group);
}

// Kafka's DelayedJoin.tryComplete: every member rejoined and no handed-out id is outstanding.
// The initial delay never completes early.
void GroupCoordinator::try_complete_join(Group& group) {
  if (group.state != GroupState::preparing_rebalance || group.join_timer_initial) return;
  if (!group.pending_members.empty()) return;
  for (const auto& m : group.members) {
    if (!m.awaiting_join) return;
  }
  complete_join(group);
}

std::string GroupCoordinator::select_protocol(const Group& group) {
  // Candidates: protocols every member supports, in the first member's order (the tie-break).
  std::vector<std::string> candidates;
  for (const auto& p : group.members.front().protocols) {
    bool all = std::all_of(group.members.begin(), group.members.end(),
                           [&](const Member& m) { return supports(m, p.name); });
    if (all) candidates.push_back(p.name);
  }
  GREGOR_ASSERT(!candidates.empty(), "group {} members share no protocol", group.group_id);
  std::vector<int> votes(candidates.size(), 0);
  for (const auto& m : group.members) {
    for (const auto& p : m.protocols) {
      auto it = std::find(candidates.begin(), candidates.end(), p.name);
      if (it == candidates.end()) continue;
      ++votes[it - candidates.begin()];
      break;
    }
  }
  return candidates[std::max_element(votes.begin(), votes.end()) - votes.begin()];
}

// Kafka's onCompleteJoin: drop members that did not rejoin, start the next generation, answer
// every join (the leader with the members), and give the members a rebalance timeout to sync.
void GroupCoordinator::complete_join(Group& group) {
  env_.clock.cancel(group.join_timer);
  group.join_timer = kNoTimer;
  group.join_timer_initial = false;
  group.new_member_added = false;
  // Dynamic members that did not rejoin are gone; static ones stay in the generation (KIP-345:
  // a restarting instance keeps its partitions) until their session lapses.
  std::vector<std::string> gone;
  for (const auto& m : group.members) {
    if (!m.awaiting_join && !m.instance_id) gone.push_back(m.member_id);
  }
  for (const auto& id : gone) drop_member(group, id, ErrorCode::unknown_member_id);
  if (!group.members.empty()) {
    // Kafka's maybeElectNewJoinedLeader: a static leader that did not rejoin cannot assign, so a
    // member that did becomes leader. If none did, wait another rebalance timeout: the sessions
    // of the absent ones lapse meanwhile.
    const Member* leader = group.find(group.leader_id);
    if (leader == nullptr || !leader->awaiting_join) {
      auto joined = std::find_if(group.members.begin(), group.members.end(),
                                 [](const Member& m) { return m.awaiting_join != nullptr; });
      if (joined == group.members.end()) {
        return schedule_join_timer(group, group.rebalance_timeout(), Duration{}, false);
      }
      group.leader_id = joined->member_id;
    }
  }
  ++group.generation_id;
  if (group.members.empty()) {
    group.protocol_name.reset();
    set_state(group, GroupState::empty);
    // Kafka stores the empty generation, so a restart does not bring the old members back; the
    // answer changes nothing (the group is Empty either way), so nothing waits on it.
    if (store_) store_(group.group_id, stored_value(group, nullptr), [](ErrorCode) {});
    return;
  }
  group.protocol_name = select_protocol(group);
  set_state(group, GroupState::completing_rebalance);
  for (auto& m : group.members) {
    m.is_new = false;
    if (m.awaiting_join) reply_join(m.awaiting_join, current_generation_result(group, m));
    schedule_session(group, m);
    group.pending_sync.push_back(m.member_id);
  }
  std::string group_id = group.group_id;
  int32_t generation_id = group.generation_id;
  group.sync_timer = env_.clock.schedule(
      group.rebalance_timeout(),
      [this, group_id, generation_id] { on_sync_timer(group_id, generation_id); });
}

JoinGroupResult GroupCoordinator::current_generation_result(const Group& group,
                                                            const Member& member) const {
  JoinGroupResult r;
  r.generation_id = group.generation_id;
  r.protocol_type = group.protocol_type;
  r.protocol_name = group.protocol_name;
  r.leader = group.leader_id;
  r.member_id = member.member_id;
  if (member.member_id != group.leader_id) return r;
  for (const auto& m : group.members) {
    auto& out = r.members.emplace_back();
    out.member_id = m.member_id;
    out.group_instance_id = m.instance_id;
    out.metadata = metadata_of(m, group.protocol_name.value_or(""));
  }
  return r;
}

Bytes GroupCoordinator::metadata_of(const Member& member, std::string_view protocol) {
  for (const auto& p : member.protocols) {
    if (p.name == protocol) return p.metadata;
  }
  return {};
}

// ---- SyncGroup ------------------------------------------------------------------------------

void GroupCoordinator::sync_group(const kafka::SyncGroupRequest& request, SyncGroupCallback done) {
  FlushGuard guard(*this);
  ErrorCode error = ErrorCode::none;
  Group* group = find_group(request.group_id);
  Member* member = group ? group->find(request.member_id) : nullptr;
  if (!valid_group_id(request.group_id)) {
    error = ErrorCode::invalid_group_id;
  } else if (loading_) {
    error = ErrorCode::coordinator_load_in_progress;
  } else if (group == nullptr) {
    error = ErrorCode::unknown_member_id;
  } else if (ErrorCode e = validate_member(*group, request.member_id, request.group_instance_id);
             e != ErrorCode::none) {
    error = e;
  } else if (request.generation_id != group->generation_id) {
    error = ErrorCode::illegal_generation;
  } else if (group->state == GroupState::preparing_rebalance) {
    error = ErrorCode::rebalance_in_progress;
  } else if (group->state != GroupState::completing_rebalance &&
             group->state != GroupState::stable) {
    error = ErrorCode::unknown_member_id;
  }
  if (error != ErrorCode::none) return reply_sync(done, sync_error(error));
  if (request.member_id == group->leader_id && group->state == GroupState::completing_rebalance) {
    size_t bytes = 0;
    for (const auto& a : request.assignments) bytes += a.member_id.size() + a.assignment.size();
    if (bytes > kGroupAssignmentBytesMax) {
      return reply_sync(done, sync_error(ErrorCode::invalid_request));
    }
  }
  std::erase(group->pending_sync, request.member_id);
  if (group->pending_sync.empty()) {
    env_.clock.cancel(group->sync_timer);
    group->sync_timer = kNoTimer;
  }
  schedule_session(*group, *member);
  if (group->state == GroupState::stable) {
    // The group moved on without this member's sync (the leader's came first): answer at once.
    SyncGroupResult r{ErrorCode::none, group->protocol_type, group->protocol_name,
                      member->assignment};
    return reply_sync(done, std::move(r));
  }
  if (member->awaiting_sync) {
    reply_sync(member->awaiting_sync, sync_error(ErrorCode::rebalance_in_progress));
  }
  member->awaiting_sync = std::move(done);
  if (request.member_id != group->leader_id) return;
  if (!store_) return set_and_propagate_assignment(*group, request);
  // Kafka's storeGroup: the generation and its assignments are durable before any member learns
  // its assignment, so a coordinator that restarts serves the same generation. Another member
  // may join while the write is out; the answer then belongs to a generation that is gone.
  std::string group_id = group->group_id;
  int32_t generation_id = group->generation_id;
  store_(group_id, stored_value(*group, &request),
         [this, alive = alive_, group_id, generation_id, request](ErrorCode error) {
           if (!*alive) return;
           FlushGuard guard(*this);
           Group* group = find_group(group_id);
           if (group == nullptr || group->generation_id != generation_id ||
               group->state != GroupState::completing_rebalance) {
             return;
           }
           if (error != ErrorCode::none) {
             propagate_sync_error(*group, error);
             return prepare_rebalance(*group);
           }
           set_and_propagate_assignment(*group, request);
         });
}

void GroupCoordinator::set_state(Group& group, GroupState state) {
  group.state = state;
  group.state_timestamp_ms = to_ms(env_.clock.wall_now());
}

// The leader's assignments become every member's (a member it left out gets an empty one, an
// id that is not a member is ignored, as Kafka), every waiting sync is answered, and the group
// is Stable.
void GroupCoordinator::set_and_propagate_assignment(Group& group,
                                                    const kafka::SyncGroupRequest& request) {
  for (auto& m : group.members) {
    m.assignment.clear();
    for (const auto& a : request.assignments) {
      if (a.member_id == m.member_id) {
        m.assignment = a.assignment;
        break;
      }
    }
  }
  set_state(group, GroupState::stable);
  for (auto& m : group.members) {
    if (!m.awaiting_sync) continue;
    reply_sync(m.awaiting_sync, SyncGroupResult{ErrorCode::none, group.protocol_type,
                                                group.protocol_name, m.assignment});
    // The wait kept the session alive; the next heartbeat is due from now (as Kafka).
    schedule_session(group, m);
  }
}

void GroupCoordinator::propagate_sync_error(Group& group, ErrorCode error) {
  for (auto& m : group.members) {
    m.assignment.clear();
    if (!m.awaiting_sync) continue;
    reply_sync(m.awaiting_sync, sync_error(error));
    schedule_session(group, m);
  }
}

// Kafka's DelayedSync (KAFKA-13419 era): members that got a generation but never synced within
// the rebalance timeout are gone; without this a leader that dies after its join would leave its
// followers waiting for assignments forever.
void GroupCoordinator::on_sync_timer(const std::string& group_id, int32_t generation_id) {
  FlushGuard guard(*this);
  Group* group = find_group(group_id);
  if (group == nullptr || group->generation_id != generation_id) return;
  group->sync_timer = kNoTimer;
  if (group->state != GroupState::completing_rebalance && group->state != GroupState::stable) {
    return;
  }
  if (group->pending_sync.empty()) return;
  auto gone = std::move(group->pending_sync);
  group->pending_sync.clear();
  for (const auto& id : gone) drop_member(*group, id, ErrorCode::unknown_member_id);
  prepare_rebalance(*group);
}

// ---- Heartbeat, LeaveGroup, sessions ---------------------------------------------------------

ErrorCode GroupCoordinator::heartbeat(const kafka::HeartbeatRequest& request) {
  FlushGuard guard(*this);
  if (!valid_group_id(request.group_id)) return ErrorCode::invalid_group_id;
  if (loading_) return ErrorCode::coordinator_load_in_progress;
  Group* group = find_group(request.group_id);
  if (group == nullptr) return ErrorCode::unknown_member_id;
  if (ErrorCode e = validate_member(*group, request.member_id, request.group_instance_id);
      e != ErrorCode::none) {
    return e;
  }
  Member* member = group->find(request.member_id);
  if (request.generation_id != group->generation_id) return ErrorCode::illegal_generation;
  schedule_session(*group, *member);
  switch (group->state) {
    case GroupState::preparing_rebalance:
      return ErrorCode::rebalance_in_progress;
    case GroupState::completing_rebalance:  // heartbeats may start before the sync
    case GroupState::stable:
      return ErrorCode::none;
    case GroupState::empty:
    case GroupState::dead:
      return ErrorCode::unknown_member_id;
  }
  GREGOR_UNREACHABLE("bad group state");
}

kafka::LeaveGroupResponse GroupCoordinator::leave_group(const kafka::LeaveGroupRequest& request,
                                                        int16_t api_version) {
  FlushGuard guard(*this);
  kafka::LeaveGroupResponse response;
  if (!valid_group_id(request.group_id)) {
    response.error_code = static_cast<int16_t>(ErrorCode::invalid_group_id);
    return response;
  }
  if (loading_) {
    response.error_code = static_cast<int16_t>(ErrorCode::coordinator_load_in_progress);
    return response;
  }
  std::vector<kafka::LeaveGroupRequest::MemberIdentity> leaving = request.members;
  if (api_version < 3) leaving = {{request.member_id, std::nullopt}};
  for (const auto& who : leaving) {
    ErrorCode error = ErrorCode::none;
    Group* group = find_group(request.group_id);
    if (group == nullptr) {
      error = ErrorCode::unknown_member_id;
    } else if (who.member_id.empty() && who.group_instance_id) {
      // KIP-345 administrative removal: by instance id alone.
      auto it = group->static_members.find(*who.group_instance_id);
      if (it == group->static_members.end()) {
        error = ErrorCode::unknown_member_id;
      } else {
        remove_member_and_update_group(*group, std::string(it->second));
      }
    } else if (group->pending_members.contains(who.member_id)) {
      env_.clock.cancel(group->pending_members[who.member_id]);
      group->pending_members.erase(who.member_id);
      try_complete_join(*group);
    } else if (ErrorCode e = validate_member(*group, who.member_id, who.group_instance_id);
               e != ErrorCode::none) {
      error = e;
    } else {
      remove_member_and_update_group(*group, who.member_id);
    }
    if (api_version < 3) {
      response.error_code = static_cast<int16_t>(error);
    } else {
      response.members.push_back(
          {who.member_id, who.group_instance_id, static_cast<int16_t>(error)});
    }
  }
  return response;
}

// While a member waits in JoinGroup or SyncGroup it cannot heartbeat, so the wait counts as
// liveness (Kafka's hasSatisfiedHeartbeat) -- except for a new member's first join, bounded by
// kNewMemberJoinTimeout since it has no member id to heartbeat with.
void GroupCoordinator::schedule_session(Group& group, Member& member) {
  env_.clock.cancel(member.session_timer);
  Duration delay = member.is_new ? kNewMemberJoinTimeout : member.session_timeout;
  std::string group_id = group.group_id;
  std::string member_id = member.member_id;
  member.session_timer = env_.clock.schedule(
      delay, [this, group_id, member_id] { on_session_timer(group_id, member_id); });
}

void GroupCoordinator::on_session_timer(const std::string& group_id, const std::string& member_id) {
  FlushGuard guard(*this);
  Group* group = find_group(group_id);
  Member* member = group ? group->find(member_id) : nullptr;
  if (member == nullptr) return;
  member->session_timer = kNoTimer;
  if (!member->is_new && (member->awaiting_join || member->awaiting_sync)) {
    return schedule_session(*group, *member);
  }
  remove_member_and_update_group(*group, member_id);
}

void GroupCoordinator::on_pending_session_timer(const std::string& group_id,
                                                const std::string& member_id) {
  FlushGuard guard(*this);
  Group* group = find_group(group_id);
  if (group == nullptr || group->pending_members.erase(member_id) == 0) return;
  try_complete_join(*group);
  if (group->state == GroupState::empty && group->members.empty() &&
      group->pending_members.empty() && group->generation_id == 0) {
    groups_.erase(group_id);  // a MEMBER_ID_REQUIRED that never came back leaves nothing
  }
}

// Removes a member without touching the group's state: its waiting requests are answered with
// `error` (so a client still alive rejoins), its timer goes, and a new leader is picked.
void GroupCoordinator::drop_member(Group& group, const std::string& member_id, ErrorCode error) {
  Member* member = group.find(member_id);
  if (member == nullptr) return;
  if (member->awaiting_join) reply_join(member->awaiting_join, join_error("", error));
  if (member->awaiting_sync) reply_sync(member->awaiting_sync, sync_error(error));
  env_.clock.cancel(member->session_timer);
  if (member->instance_id) {
    auto it = group.static_members.find(*member->instance_id);
    if (it != group.static_members.end() && it->second == member_id) group.static_members.erase(it);
  }
  std::erase(group.pending_sync, member_id);
  std::erase_if(group.members, [&](const Member& m) { return m.member_id == member_id; });
  if (group.leader_id == member_id) {
    group.leader_id = group.members.empty() ? "" : group.members.front().member_id;
  }
}

void GroupCoordinator::remove_member_and_update_group(Group& group, const std::string& member_id) {
  drop_member(group, member_id, ErrorCode::unknown_member_id);
  switch (group.state) {
    case GroupState::stable:
    case GroupState::completing_rebalance:
      return prepare_rebalance(group);
    case GroupState::preparing_rebalance:
      return try_complete_join(group);
    case GroupState::empty:
    case GroupState::dead:
      return;
  }
}

// ---- DescribeGroups, ListGroups ---------------------------------------------------------------

kafka::DescribeGroupsResponse::DescribedGroup GroupCoordinator::describe_group(
    const std::string& group_id) const {
  kafka::DescribeGroupsResponse::DescribedGroup out;
  out.group_id = group_id;
  if (loading_) {
    out.error_code = static_cast<int16_t>(ErrorCode::coordinator_load_in_progress);
    return out;
  }
  const Group* group = find_group(group_id);
  if (group == nullptr) {
    out.group_state = group_state_name(GroupState::dead);
    return out;
  }
  bool stable = group->state == GroupState::stable;
  out.group_state = group_state_name(group->state);
  out.protocol_type = group->protocol_type.value_or("");
  if (stable) out.protocol_data = group->protocol_name.value_or("");
  for (const auto& m : group->members) {
    auto& d = out.members.emplace_back();
    d.member_id = m.member_id;
    d.client_id = m.client_id;
    d.client_host = m.client_host;
    if (stable) {
      d.member_metadata = metadata_of(m, out.protocol_data);
      d.member_assignment = m.assignment;
    }
  }
  return out;
}

ErrorCode GroupCoordinator::list_groups(std::vector<ListedGroup>& out) const {
  out.clear();
  if (loading_) return ErrorCode::coordinator_load_in_progress;
  for (const auto& [id, group] : groups_) {
    out.push_back({id, group.protocol_type.value_or(""), group.state});
  }
  return ErrorCode::none;
}

bool GroupCoordinator::remove_empty_group(const std::string& group_id) {
  Group* group = find_group(group_id);
  if (group == nullptr || group->state != GroupState::empty) return false;
  for (auto& [id, timer] : group->pending_members) env_.clock.cancel(timer);
  env_.clock.cancel(group->join_timer);
  env_.clock.cancel(group->sync_timer);
  groups_.erase(group_id);
  return true;
}

std::optional<GroupState> GroupCoordinator::group_state(const std::string& group_id) const {
  const Group* group = find_group(group_id);
  if (group == nullptr) return std::nullopt;
  return group->state;
}

int32_t GroupCoordinator::generation_id(const std::string& group_id) const {
  const Group* group = find_group(group_id);
  return group == nullptr ? -1 : group->generation_id;
}

}  // namespace gregor::broker
