// Proves the classic group coordinator's protocol on a simulated clock: the MEMBER_ID_REQUIRED
// handshake, the initial rebalance delay (extended while members arrive), one generation per
// rebalance with the leader alone getting the members, SyncGroup handing out the leader's
// assignments, rebalances on a new member / session expiry / leave / rebalance timeout / missing
// leader sync, the protocol vote, Kafka's error answers (unknown member, illegal generation,
// inconsistent protocol, bad session timeout, sync during a rebalance, loading, size limits),
// static membership (KIP-345: rejoin without a rebalance, fencing, leave by instance id, absent
// static members kept in a generation, stored static members loaded back), and that a seed fixes
// the generated member ids.
#include "node/broker/group_coordinator.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/cluster.h"

namespace gregor::broker {
namespace {

using kafka::ErrorCode;
using Protocols = std::vector<kafka::JoinGroupRequest::JoinGroupRequestProtocol>;
template <typename T>
using Pending = std::shared_ptr<std::optional<T>>;

constexpr int32_t kSessionMs = 10'000;
constexpr int32_t kRebalanceMs = 30'000;
const std::string kGroup = "g";

struct Host final : sim::Service {
  Host(Env& e, GroupCoordinatorConfig config) : env(e), coordinator(e, config) {}
  Env& env;
  GroupCoordinator coordinator;
};

Protocols protocols(std::initializer_list<std::string> names) {
  Protocols out;
  for (const auto& name : names) out.push_back({name, Bytes(name.begin(), name.end())});
  return out;
}

struct JoinArgs {
  std::string member_id;
  Protocols protocols = broker::protocols({"range"});
  int32_t session_ms = kSessionMs;
  int32_t rebalance_ms = kRebalanceMs;
  int16_t version = 5;
  std::string protocol_type = "consumer";
  std::string client_id = "client";
  std::string group = kGroup;
};

// One coordinator in a simulated process; requests come from the test, timers from the world.
class Harness {
 public:
  explicit Harness(uint64_t seed = 1, GroupCoordinatorConfig config = {})
      : cluster_(sim::Cluster::Options{.seed = seed}) {
    node_ = cluster_.add_process(
        "coordinator", [config](Env& env) { return std::make_unique<Host>(env, config); });
  }

  GroupCoordinator& gc() { return cluster_.service_as<Host>(node_)->coordinator; }
  void run_for(Duration d) { cluster_.world().run_for(d); }
  GroupState state() { return gc().group_state(kGroup).value_or(GroupState::dead); }

  Pending<JoinGroupResult> join(const JoinArgs& a) {
    kafka::JoinGroupRequest request;
    request.group_id = a.group;
    request.session_timeout_ms = a.session_ms;
    request.rebalance_timeout_ms = a.rebalance_ms;
    request.member_id = a.member_id;
    request.protocol_type = a.protocol_type;
    request.protocols = a.protocols;
    auto out = std::make_shared<std::optional<JoinGroupResult>>();
    gc().join_group(request, GroupClient{a.version, a.client_id, "/10.0.0.1"},
                    [out](JoinGroupResult r) { *out = std::move(r); });
    return out;
  }
  Pending<JoinGroupResult> join_static(const std::string& instance,
                                       const std::string& member_id = "",
                                       int32_t session_ms = kSessionMs) {
    kafka::JoinGroupRequest request{kGroup,   session_ms, kRebalanceMs,        member_id,
                                    instance, "consumer", protocols({"range"})};
    auto out = std::make_shared<std::optional<JoinGroupResult>>();
    gc().join_group(request, GroupClient{5, "client-" + instance, "/10.0.0.1"},
                    [out](JoinGroupResult r) { *out = std::move(r); });
    return out;
  }
  Pending<JoinGroupResult> join(const std::string& member_id, Protocols p = protocols({"range"})) {
    return join(JoinArgs{.member_id = member_id, .protocols = std::move(p)});
  }

  // The MEMBER_ID_REQUIRED round trip: the id the coordinator hands out.
  std::string new_member(const std::string& client_id = "client") {
    auto first = join(JoinArgs{.client_id = client_id});
    EXPECT_TRUE(first->has_value());
    EXPECT_EQ((*first)->error, ErrorCode::member_id_required);
    return (*first)->member_id;
  }

  Pending<SyncGroupResult> sync(const std::string& member_id, int32_t generation_id,
                                std::vector<std::pair<std::string, std::string>> assignments = {}) {
    kafka::SyncGroupRequest request;
    request.group_id = kGroup;
    request.generation_id = generation_id;
    request.member_id = member_id;
    for (auto& [id, a] : assignments)
      request.assignments.push_back({id, Bytes(a.begin(), a.end())});
    auto out = std::make_shared<std::optional<SyncGroupResult>>();
    gc().sync_group(request, [out](SyncGroupResult r) { *out = std::move(r); });
    return out;
  }

  ErrorCode heartbeat(const std::string& member_id, int32_t generation_id) {
    return gc().heartbeat({kGroup, generation_id, member_id, std::nullopt});
  }

  // Members that join together and sync: a Stable group. Returns the ids in join order.
  std::vector<std::string> stable_group(int n) {
    std::vector<std::string> ids;
    std::vector<Pending<JoinGroupResult>> joins;
    for (int i = 0; i < n; ++i) ids.push_back(new_member());
    for (const auto& id : ids) joins.push_back(join(id));
    run_for(seconds(10));
    for (auto& j : joins) EXPECT_TRUE(j->has_value() && (*j)->error == ErrorCode::none);
    int32_t generation = gc().generation_id(kGroup);
    std::vector<std::pair<std::string, std::string>> assignments;
    for (const auto& id : ids) assignments.push_back({id, "for-" + id});
    for (size_t i = 1; i < ids.size(); ++i) sync(ids[i], generation);
    auto leader = sync(ids[0], generation, assignments);
    EXPECT_TRUE(leader->has_value() && (*leader)->error == ErrorCode::none);
    EXPECT_EQ(state(), GroupState::stable);
    return ids;
  }

 private:
  sim::Cluster cluster_;
  sim::NodeId node_ = 0;
};

std::string text(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

TEST(GroupCoordinator, FirstJoinGetsMemberIdRequiredThenJoins) {
  Harness h;
  std::string id = h.new_member("consumer-1");
  EXPECT_TRUE(id.starts_with("consumer-1-")) << id;
  EXPECT_EQ(h.state(), GroupState::empty);  // a handed-out id alone does not rebalance
  auto joined = h.join(id);
  EXPECT_FALSE(joined->has_value());
  EXPECT_EQ(h.state(), GroupState::preparing_rebalance);
  h.run_for(milliseconds(2999));
  EXPECT_FALSE(joined->has_value());  // group.initial.rebalance.delay.ms
  h.run_for(milliseconds(1));
  ASSERT_TRUE(joined->has_value());
  const JoinGroupResult& r = **joined;
  EXPECT_EQ(r.error, ErrorCode::none);
  EXPECT_EQ(r.generation_id, 1);
  EXPECT_EQ(r.member_id, id);
  EXPECT_EQ(r.leader, id);
  EXPECT_EQ(r.protocol_type, "consumer");
  EXPECT_EQ(r.protocol_name, "range");
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(text(r.members[0].metadata), "range");
  EXPECT_EQ(h.state(), GroupState::completing_rebalance);
}

TEST(GroupCoordinator, OldJoinVersionGetsAMemberIdWithoutTheRoundTrip) {
  Harness h;
  auto joined = h.join(JoinArgs{.version = 3});
  h.run_for(seconds(3));
  ASSERT_TRUE(joined->has_value());
  EXPECT_EQ((*joined)->error, ErrorCode::none);
  EXPECT_TRUE((*joined)->member_id.starts_with("client-"));
  EXPECT_EQ((*joined)->leader, (*joined)->member_id);
}

TEST(GroupCoordinator, MembersJoiningWithinTheInitialDelayShareOneGeneration) {
  Harness h;
  std::string a = h.new_member();
  auto join_a = h.join(a);
  h.run_for(seconds(1));
  std::string b = h.new_member();
  auto join_b = h.join(b);
  // B arrived during the first delay, so the coordinator waits one delay more (to t=6s).
  h.run_for(milliseconds(4999));
  EXPECT_FALSE(join_a->has_value());
  h.run_for(milliseconds(1));
  ASSERT_TRUE(join_a->has_value() && join_b->has_value());
  EXPECT_EQ((*join_a)->generation_id, 1);
  EXPECT_EQ((*join_b)->generation_id, 1);
  EXPECT_EQ((*join_a)->leader, a);
  EXPECT_EQ((*join_b)->leader, a);
  ASSERT_EQ((*join_a)->members.size(), 2u);
  EXPECT_EQ((*join_a)->members[0].member_id, a);
  EXPECT_EQ((*join_a)->members[1].member_id, b);
  EXPECT_TRUE((*join_b)->members.empty());
}

TEST(GroupCoordinator, SyncHandsOutTheLeadersAssignments) {
  Harness h;
  std::string a = h.new_member(), b = h.new_member();
  h.join(a);
  h.join(b);
  h.run_for(seconds(10));
  EXPECT_EQ(h.heartbeat(b, 1), ErrorCode::none);  // heartbeats may precede the sync
  auto sync_b = h.sync(b, 1);
  EXPECT_FALSE(sync_b->has_value());  // waits for the leader
  auto sync_a = h.sync(a, 1, {{a, "p0"}, {b, "p1"}, {"stranger", "x"}});
  ASSERT_TRUE(sync_a->has_value() && sync_b->has_value());
  EXPECT_EQ((*sync_a)->error, ErrorCode::none);
  EXPECT_EQ(text((*sync_a)->assignment), "p0");
  EXPECT_EQ(text((*sync_b)->assignment), "p1");
  EXPECT_EQ((*sync_b)->protocol_name, "range");
  EXPECT_EQ(h.state(), GroupState::stable);
  EXPECT_EQ(h.heartbeat(a, 1), ErrorCode::none);
  auto again = h.sync(b, 1);  // a late or repeated sync in Stable is answered at once
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ(text((*again)->assignment), "p1");

  auto described = h.gc().describe_group(kGroup);
  EXPECT_EQ(described.group_state, "Stable");
  EXPECT_EQ(described.protocol_type, "consumer");
  EXPECT_EQ(described.protocol_data, "range");
  ASSERT_EQ(described.members.size(), 2u);
  EXPECT_EQ(text(described.members[1].member_assignment), "p1");
  EXPECT_EQ(text(described.members[1].member_metadata), "range");
}

TEST(GroupCoordinator, ANewMemberMakesTheOthersRejoinForANewGeneration) {
  Harness h;
  auto ids = h.stable_group(2);
  std::string c = h.new_member();
  auto join_c = h.join(c);
  EXPECT_EQ(h.state(), GroupState::preparing_rebalance);
  EXPECT_EQ(h.heartbeat(ids[0], 1), ErrorCode::rebalance_in_progress);
  EXPECT_EQ(h.heartbeat(ids[1], 1), ErrorCode::rebalance_in_progress);
  auto join_a = h.join(ids[0]);
  EXPECT_FALSE(join_a->has_value());
  auto join_b = h.join(ids[1]);  // the last one in completes the rebalance at once
  ASSERT_TRUE(join_a->has_value() && join_b->has_value() && join_c->has_value());
  EXPECT_EQ((*join_c)->generation_id, 2);
  EXPECT_EQ((*join_a)->leader, ids[0]);
  EXPECT_EQ((*join_a)->members.size(), 3u);
  EXPECT_TRUE((*join_c)->members.empty());
  EXPECT_EQ(h.state(), GroupState::completing_rebalance);
  EXPECT_EQ(h.heartbeat(ids[0], 1), ErrorCode::illegal_generation);
}

TEST(GroupCoordinator, FollowerRejoiningWithSameMetadataKeepsTheGeneration) {
  Harness h;
  auto ids = h.stable_group(2);
  auto again = h.join(ids[1]);
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->generation_id, 1);
  EXPECT_EQ(h.state(), GroupState::stable);
  auto changed = h.join(ids[1], protocols({"range", "roundrobin"}));
  EXPECT_FALSE(changed->has_value());
  EXPECT_EQ(h.state(), GroupState::preparing_rebalance);
}

TEST(GroupCoordinator, SessionTimeoutEvictsASilentMember) {
  Harness h;
  auto ids = h.stable_group(2);
  for (int i = 0; i < 4; ++i) {
    h.run_for(seconds(3));
    EXPECT_EQ(h.heartbeat(ids[0], 1), i < 3 ? ErrorCode::none : ErrorCode::rebalance_in_progress);
  }
  EXPECT_EQ(h.state(), GroupState::preparing_rebalance);
  EXPECT_EQ(h.heartbeat(ids[1], 1), ErrorCode::unknown_member_id);
  auto join_a = h.join(ids[0]);
  ASSERT_TRUE(join_a->has_value());
  EXPECT_EQ((*join_a)->generation_id, 2);
  EXPECT_EQ((*join_a)->members.size(), 1u);
}

TEST(GroupCoordinator, RebalanceTimeoutDropsMembersThatDoNotRejoin) {
  Harness h;
  auto ids = h.stable_group(2);
  std::string c = h.new_member();
  auto join_c = h.join(c);
  auto join_a = h.join(ids[0]);
  for (int i = 0; i < 9; ++i) {  // B stays alive but never rejoins
    h.run_for(seconds(3));
    EXPECT_EQ(h.heartbeat(ids[1], 1), ErrorCode::rebalance_in_progress);
  }
  EXPECT_FALSE(join_a->has_value());
  h.run_for(seconds(3));  // 30s: the rebalance timeout
  ASSERT_TRUE(join_a->has_value() && join_c->has_value());
  EXPECT_EQ((*join_a)->generation_id, 2);
  EXPECT_EQ((*join_a)->members.size(), 2u);
  EXPECT_EQ(h.heartbeat(ids[1], 2), ErrorCode::unknown_member_id);
}

TEST(GroupCoordinator, LeaderThatNeverSyncsIsDroppedAfterTheRebalanceTimeout) {
  Harness h;
  std::string a = h.new_member(), b = h.new_member();
  h.join(a);
  h.join(b);
  h.run_for(seconds(6));
  auto sync_b = h.sync(b, 1);
  for (int i = 0; i < 10; ++i) {  // A heartbeats, so only the missing sync can evict it
    h.run_for(seconds(3));
    if (h.state() == GroupState::completing_rebalance) {
      EXPECT_EQ(h.heartbeat(a, 1), ErrorCode::none);
    }
  }
  ASSERT_TRUE(sync_b->has_value());
  EXPECT_EQ((*sync_b)->error, ErrorCode::rebalance_in_progress);
  EXPECT_EQ(h.heartbeat(a, 1), ErrorCode::unknown_member_id);
  auto join_b = h.join(b);
  ASSERT_TRUE(join_b->has_value());
  EXPECT_EQ((*join_b)->leader, b);
  EXPECT_EQ((*join_b)->generation_id, 2);
}

TEST(GroupCoordinator, LeaveRebalancesAndTheLastLeaveEmptiesTheGroup) {
  Harness h;
  auto ids = h.stable_group(2);
  kafka::LeaveGroupRequest leave_b{kGroup, "", {{ids[1], std::nullopt}, {"nobody", std::nullopt}}};
  auto left = h.gc().leave_group(leave_b, 3);
  EXPECT_EQ(left.error_code, 0);
  ASSERT_EQ(left.members.size(), 2u);
  EXPECT_EQ(left.members[0].error_code, 0);
  EXPECT_EQ(left.members[1].error_code, static_cast<int16_t>(ErrorCode::unknown_member_id));
  EXPECT_EQ(h.state(), GroupState::preparing_rebalance);
  auto join_a = h.join(ids[0]);
  ASSERT_TRUE(join_a->has_value());
  EXPECT_EQ((*join_a)->generation_id, 2);
  h.sync(ids[0], 2, {{ids[0], "all"}});
  EXPECT_EQ(h.state(), GroupState::stable);

  auto last = h.gc().leave_group(kafka::LeaveGroupRequest{kGroup, ids[0], {}}, 1);
  EXPECT_EQ(last.error_code, 0);
  EXPECT_EQ(h.state(), GroupState::empty);
  EXPECT_EQ(h.gc().generation_id(kGroup), 3);
  std::vector<ListedGroup> listed;
  EXPECT_EQ(h.gc().list_groups(listed), ErrorCode::none);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].group_id, kGroup);
  EXPECT_EQ(listed[0].protocol_type, "consumer");
  EXPECT_EQ(group_state_name(listed[0].state), "Empty");
  EXPECT_EQ(h.gc().describe_group(kGroup).group_state, "Empty");
  EXPECT_EQ(h.gc().describe_group("other").group_state, "Dead");
  auto gone = h.gc().leave_group(kafka::LeaveGroupRequest{kGroup, ids[0], {}}, 1);
  EXPECT_EQ(gone.error_code, static_cast<int16_t>(ErrorCode::unknown_member_id));
  EXPECT_TRUE(h.gc().remove_empty_group(kGroup));
  EXPECT_EQ(h.gc().group_count(), 0u);
}

TEST(GroupCoordinator, ProtocolIsElectedByVote) {
  Harness h;
  auto a = h.join(JoinArgs{.protocols = protocols({"range", "roundrobin"}), .version = 3});
  auto b = h.join(JoinArgs{.protocols = protocols({"roundrobin", "range"}), .version = 3});
  auto c = h.join(JoinArgs{.protocols = protocols({"roundrobin", "range"}), .version = 3});
  h.run_for(seconds(10));
  ASSERT_TRUE(a->has_value() && b->has_value() && c->has_value());
  EXPECT_EQ((*a)->protocol_name, "roundrobin");
  ASSERT_EQ((*a)->members.size(), 3u);
  EXPECT_EQ(text((*a)->members[0].metadata), "roundrobin");
}

TEST(GroupCoordinator, UnknownMemberAndIllegalGeneration) {
  Harness h;
  auto no_group = h.join("ghost");
  ASSERT_TRUE(no_group->has_value());
  EXPECT_EQ((*no_group)->error, ErrorCode::unknown_member_id);
  EXPECT_EQ(h.gc().group_count(), 0u);
  auto ids = h.stable_group(1);
  auto ghost = h.join("ghost");
  EXPECT_EQ((*ghost)->error, ErrorCode::unknown_member_id);
  EXPECT_EQ(h.heartbeat("ghost", 1), ErrorCode::unknown_member_id);
  EXPECT_EQ((*h.sync("ghost", 1))->error, ErrorCode::unknown_member_id);
  EXPECT_EQ(h.heartbeat(ids[0], 7), ErrorCode::illegal_generation);
  EXPECT_EQ((*h.sync(ids[0], 7))->error, ErrorCode::illegal_generation);
  EXPECT_EQ(h.heartbeat(ids[0], 1), ErrorCode::none);
}

TEST(GroupCoordinator, InconsistentProtocolAndBadSessionTimeout) {
  Harness h;
  auto no_protocols = h.join(JoinArgs{.protocols = {}});
  EXPECT_EQ((*no_protocols)->error, ErrorCode::inconsistent_group_protocol);
  auto no_type = h.join(JoinArgs{.protocol_type = ""});
  EXPECT_EQ((*no_type)->error, ErrorCode::inconsistent_group_protocol);
  auto ids = h.stable_group(1);
  auto other_type = h.join(JoinArgs{.protocol_type = "connect"});
  EXPECT_EQ((*other_type)->error, ErrorCode::inconsistent_group_protocol);
  auto no_common = h.join(JoinArgs{.protocols = protocols({"sticky"})});
  EXPECT_EQ((*no_common)->error, ErrorCode::inconsistent_group_protocol);
  auto member_no_common = h.join(ids[0], protocols({"sticky"}));
  EXPECT_EQ((*member_no_common)->error, ErrorCode::inconsistent_group_protocol);
  auto too_short = h.join(JoinArgs{.session_ms = 5'999});
  EXPECT_EQ((*too_short)->error, ErrorCode::invalid_session_timeout);
  auto too_long = h.join(JoinArgs{.session_ms = 1'800'001});
  EXPECT_EQ((*too_long)->error, ErrorCode::invalid_session_timeout);
  EXPECT_EQ(h.state(), GroupState::stable);
}

TEST(GroupCoordinator, SyncDuringRebalanceAndRequestsWhileLoading) {
  Harness h;
  auto ids = h.stable_group(2);
  h.join(ids[0]);
  EXPECT_EQ((*h.sync(ids[1], 1))->error, ErrorCode::rebalance_in_progress);

  h.gc().set_loading(true);
  EXPECT_EQ((*h.join(ids[1]))->error, ErrorCode::coordinator_load_in_progress);
  EXPECT_EQ((*h.sync(ids[1], 1))->error, ErrorCode::coordinator_load_in_progress);
  EXPECT_EQ(h.heartbeat(ids[1], 1), ErrorCode::coordinator_load_in_progress);
  auto leave = h.gc().leave_group(kafka::LeaveGroupRequest{kGroup, ids[1], {}}, 0);
  EXPECT_EQ(leave.error_code, static_cast<int16_t>(ErrorCode::coordinator_load_in_progress));
  std::vector<ListedGroup> listed;
  EXPECT_EQ(h.gc().list_groups(listed), ErrorCode::coordinator_load_in_progress);
  EXPECT_EQ(h.gc().describe_group(kGroup).error_code,
            static_cast<int16_t>(ErrorCode::coordinator_load_in_progress));
  h.gc().set_loading(false);
  EXPECT_EQ(h.heartbeat(ids[1], 1), ErrorCode::rebalance_in_progress);
}

TEST(GroupCoordinator, Limits) {
  GroupCoordinatorConfig config;
  config.max_size = 2;
  Harness h(1, config);
  h.new_member();
  h.new_member();
  auto third = h.join(JoinArgs{});
  EXPECT_EQ((*third)->error, ErrorCode::group_max_size_reached);
  auto no_id = h.join(JoinArgs{.group = ""});
  EXPECT_EQ((*no_id)->error, ErrorCode::invalid_group_id);
  kafka::JoinGroupRequest static_join{kGroup,       kSessionMs, kRebalanceMs,        "",
                                      "instance-1", "consumer", protocols({"range"})};
  std::optional<JoinGroupResult> r;
  h.gc().join_group(static_join, GroupClient{5, "c", "h"}, [&](JoinGroupResult x) { r = x; });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error, ErrorCode::group_max_size_reached);  // a new instance counts too
  Protocols huge = {{"range", Bytes(kMemberMetadataBytesMax + 1, 0)}};
  EXPECT_EQ((*h.join(JoinArgs{.protocols = huge}))->error, ErrorCode::invalid_request);
}

// ---- Static membership (KIP-345) ----------------------------------------------------------------

// Two static members, a and b, joined and synced: a Stable generation. Returns their member ids.
std::pair<std::string, std::string> static_pair(Harness& h, int32_t session_ms = kSessionMs) {
  auto a = h.join_static("a", "", session_ms);
  auto b = h.join_static("b", "", session_ms);
  EXPECT_FALSE(a->has_value()) << "static members skip MEMBER_ID_REQUIRED and wait in the join";
  h.run_for(seconds(10));
  EXPECT_TRUE(a->has_value() && b->has_value());
  EXPECT_EQ((*a)->error, ErrorCode::none);
  EXPECT_EQ((*a)->members.size(), 2u);
  EXPECT_EQ((*a)->members[0].group_instance_id, "a");
  std::string ida = (*a)->member_id, idb = (*b)->member_id;
  int32_t gen = (*a)->generation_id;
  h.sync(idb, gen);
  auto synced = h.sync(ida, gen, {{ida, "for-a"}, {idb, "for-b"}});
  EXPECT_EQ((*synced)->error, ErrorCode::none);
  EXPECT_EQ(h.state(), GroupState::stable);
  return {ida, idb};
}

TEST(GroupCoordinator, StaticRejoinKeepsTheGenerationAndFencesTheOldId) {
  Harness h;
  auto [ida, idb] = static_pair(h);
  int32_t gen = h.gc().generation_id(kGroup);
  // b's process restarts: it joins with its instance id and no member id.
  auto again = h.join_static("b");
  ASSERT_TRUE(again->has_value()) << "a Stable group answers a known instance at once";
  EXPECT_EQ((*again)->error, ErrorCode::none);
  EXPECT_EQ((*again)->generation_id, gen);
  EXPECT_EQ((*again)->leader, ida);
  std::string new_b = (*again)->member_id;
  EXPECT_NE(new_b, idb);
  EXPECT_EQ(h.state(), GroupState::stable) << "no rebalance";
  auto synced = h.sync(new_b, gen);
  ASSERT_TRUE(synced->has_value());
  EXPECT_EQ(text((*synced)->assignment), "for-b");
  // The old process (a zombie) is fenced everywhere it shows up.
  EXPECT_EQ(h.gc().heartbeat({kGroup, gen, idb, "b"}), ErrorCode::fenced_instance_id);
  EXPECT_EQ(h.gc().validate_commit(kGroup, idb, gen, "b"), ErrorCode::fenced_instance_id);
  EXPECT_EQ((*h.join_static("b", idb))->error, ErrorCode::fenced_instance_id);
  EXPECT_EQ(h.gc().heartbeat({kGroup, gen, new_b, "b"}), ErrorCode::none);
  // The leader restarting is answered with its old id as leader, so it does not reassign.
  auto leader_again = h.join_static("a");
  ASSERT_TRUE(leader_again->has_value());
  EXPECT_EQ((*leader_again)->leader, ida);
  EXPECT_NE((*leader_again)->member_id, ida);
  EXPECT_TRUE((*leader_again)->members.empty());
  EXPECT_EQ(h.gc().generation_id(kGroup), gen);
}

TEST(GroupCoordinator, AStaticMemberThatMissesARebalanceStaysInTheGenerationUntilItFailsToSync) {
  Harness h;
  auto [ida, idb] = static_pair(h, 60'000);
  int32_t gen = h.gc().generation_id(kGroup);
  // A new dynamic member starts a rebalance; only b rejoins (a's process is down).
  std::string c = h.new_member();
  auto join_c = h.join(JoinArgs{.member_id = c, .session_ms = 60'000});
  auto join_b = h.join_static("b", idb, 60'000);
  h.run_for(milliseconds(kRebalanceMs));
  ASSERT_TRUE(join_b->has_value() && join_c->has_value());
  EXPECT_EQ((*join_b)->generation_id, gen + 1);
  // a is still in the generation: the leader gets its metadata to keep its partitions for it.
  std::vector<std::string> in_generation;
  const auto& leader = (*join_b)->leader == idb ? *join_b : *join_c;
  for (const auto& m : leader->members) in_generation.push_back(m.member_id);
  EXPECT_EQ(in_generation.size(), 3u);
  EXPECT_NE(std::find(in_generation.begin(), in_generation.end(), ida), in_generation.end());
  EXPECT_EQ(h.gc().heartbeat({kGroup, gen + 1, ida, "a"}), ErrorCode::none);
  // The others sync; a, still down, never does: the sync timeout (Kafka's DelayedSync) removes it
  // and the group rebalances without it.
  h.sync((*join_b)->member_id == leader->leader ? c : idb, gen + 1);
  h.sync(leader->leader, gen + 1, {{idb, "b"}, {c, "c"}, {ida, "a"}});
  h.run_for(seconds(31));
  EXPECT_EQ(h.gc().heartbeat({kGroup, gen + 1, ida, "a"}), ErrorCode::unknown_member_id);
  EXPECT_EQ(h.state(), GroupState::preparing_rebalance);
}

TEST(GroupCoordinator, LeaveByInstanceIdRemovesTheStaticMember) {
  Harness h;
  auto [ida, idb] = static_pair(h);
  kafka::LeaveGroupRequest leave;
  leave.group_id = kGroup;
  leave.members = {{"", "b"}, {"", "nobody"}, {"wrong-id", "a"}};
  auto resp = h.gc().leave_group(leave, 3);
  ASSERT_EQ(resp.members.size(), 3u);
  EXPECT_EQ(resp.members[0].error_code, 0);
  EXPECT_EQ(resp.members[1].error_code, static_cast<int16_t>(ErrorCode::unknown_member_id));
  EXPECT_EQ(resp.members[2].error_code, static_cast<int16_t>(ErrorCode::fenced_instance_id));
  EXPECT_EQ(h.state(), GroupState::preparing_rebalance);
  EXPECT_EQ(h.gc().heartbeat({kGroup, 1, idb, "b"}), ErrorCode::unknown_member_id);
}

TEST(GroupCoordinator, StoredStaticMembersComeBackAfterALoad) {
  Harness h;
  GroupValue stored;
  stored.protocol_type = "consumer";
  stored.generation = 4;
  stored.protocol = "range";
  stored.leader = "m-a";
  stored.members.push_back({"m-a", "a", "c", "/h", kRebalanceMs, kSessionMs, {}, to_bytes("x")});
  h.gc().load_group(kGroup, stored);
  EXPECT_EQ(h.state(), GroupState::stable);
  EXPECT_EQ(h.gc().heartbeat({kGroup, 4, "m-a", "a"}), ErrorCode::none);
  auto again = h.join_static("a");
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->generation_id, 4);
  EXPECT_EQ(h.gc().heartbeat({kGroup, 4, "m-a", "a"}), ErrorCode::fenced_instance_id);
}

TEST(GroupCoordinator, PendingMemberIdExpiresAfterTheSessionTimeout) {
  Harness h;
  std::string id = h.new_member();
  h.run_for(milliseconds(kSessionMs));
  EXPECT_EQ(h.gc().group_count(), 0u);
  EXPECT_EQ((*h.join(id))->error, ErrorCode::unknown_member_id);
}

std::vector<std::string> member_ids(uint64_t seed) {
  Harness h(seed);
  return {h.new_member("a"), h.new_member("b"), h.new_member("c")};
}

TEST(GroupCoordinator, SameSeedSameMemberIds) {
  EXPECT_EQ(member_ids(7), member_ids(7));
  EXPECT_NE(member_ids(7), member_ids(8));
  auto ids = member_ids(7);
  EXPECT_NE(ids[0].substr(2), ids[1].substr(2));
}

}  // namespace
}  // namespace gregor::broker
