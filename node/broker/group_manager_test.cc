// The group APIs end to end over the wire against a simulated broker: FindCoordinator creating
// __consumer_offsets, a group's life (join, sync, heartbeat, commit, fetch, describe, list,
// leave), restart and crash recovery from __consumer_offsets, KIP-211 expiry, and bad input.
#include <gtest/gtest.h>

#include "node/broker/broker_test_util.h"
#include "node/broker/group_manager.h"

namespace gregor::broker {
namespace {

using kafka::ErrorCode;
using testing::BrokerHarness;
namespace k = kafka;

constexpr const char* kConfig =
    "\"offsets.topic.num.partitions\" = 3\n"
    "\"group.initial.rebalance.delay.ms\" = 0\n"
    "\"num.partitions\" = 2\n";

// A group driven by hand over the harness's one connection.
class GroupDriver {
 public:
  explicit GroupDriver(BrokerHarness& h, std::string group = "g") : h_(h), group_(group) {}

  // FindCoordinator until the offsets topic exists and answers.
  k::FindCoordinatorResponse find() {
    k::FindCoordinatorRequest req;
    req.key = group_;
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto resp = h_.call(2, req);
      EXPECT_TRUE(resp.ok()) << resp.status();
      if (!resp.ok()) return {};
      if (resp->error_code == code(ErrorCode::none)) return *resp;
      EXPECT_EQ(resp->error_code, code(ErrorCode::coordinator_not_available));
      h_.run_for(milliseconds(100));
    }
    ADD_FAILURE() << "no coordinator";
    return {};
  }

  k::JoinGroupRequest join_request(std::string member_id, std::string protocol_type = "consumer") {
    k::JoinGroupRequest req;
    req.group_id = group_;
    req.session_timeout_ms = 10000;
    req.rebalance_timeout_ms = 10000;
    req.member_id = std::move(member_id);
    req.protocol_type = std::move(protocol_type);
    req.protocols = {k::JoinGroupRequest::JoinGroupRequestProtocol{"range", to_bytes("sub")}};
    return req;
  }

  // Join v5: MEMBER_ID_REQUIRED, then the join proper; returns the final answer.
  k::JoinGroupResponse join() {
    auto first = h_.call(5, join_request(""));
    EXPECT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->error_code, code(ErrorCode::member_id_required));
    auto second = h_.call(5, join_request(first->member_id));
    EXPECT_TRUE(second.ok()) << second.status();
    return *second;
  }

  k::SyncGroupResponse sync(const std::string& member, int32_t generation, Bytes assignment) {
    k::SyncGroupRequest req;
    req.group_id = group_;
    req.generation_id = generation;
    req.member_id = member;
    req.assignments = {{member, std::move(assignment)}};
    auto resp = h_.call(3, req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? *resp : k::SyncGroupResponse{};
  }

  int16_t heartbeat(const std::string& member, int32_t generation) {
    k::HeartbeatRequest req{group_, generation, member, std::nullopt};
    auto resp = h_.call(3, req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? resp->error_code : -1;
  }

  // Commits offset `offset` for t-0 and t-1; returns each partition's error.
  std::vector<int16_t> commit(const std::string& member, int32_t generation, int64_t offset,
                              std::string topic = "t", int16_t version = 7) {
    k::OffsetCommitRequest req;
    req.group_id = group_;
    req.generation_id_or_member_epoch = generation;
    req.member_id = member;
    req.topics = {{topic, {{0, offset, 4, -1, "meta"}, {1, offset + 1, 4, -1, ""}}}};
    auto resp = h_.call(version, req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    std::vector<int16_t> out;
    if (!resp.ok()) return out;
    for (auto& t : resp->topics) {
      for (auto& p : t.partitions) out.push_back(p.error_code);
    }
    return out;
  }

  // OffsetFetch v5 of t-0 and t-1: (offset, epoch, metadata) each, or the top-level error.
  k::OffsetFetchResponse fetch(std::string topic = "t") {
    k::OffsetFetchRequest req;
    req.group_id = group_;
    req.topics = std::vector<k::OffsetFetchRequest::OffsetFetchRequestTopic>{{topic, {0, 1}}};
    auto resp = h_.call(5, req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? *resp : k::OffsetFetchResponse{};
  }

  k::DescribeGroupsResponse::DescribedGroup describe() {
    k::DescribeGroupsRequest req{{group_}};
    auto resp = h_.call(2, req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok() || resp->groups.size() != 1) return {};
    return resp->groups[0];
  }

  // A one-member group: found, joined and synced. Returns (member id, generation).
  std::pair<std::string, int32_t> form(Bytes assignment = to_bytes("t:0,1")) {
    find();
    auto joined = join();
    EXPECT_EQ(joined.error_code, code(ErrorCode::none));
    EXPECT_EQ(joined.leader, joined.member_id);
    auto synced = sync(joined.member_id, joined.generation_id, assignment);
    EXPECT_EQ(synced.error_code, code(ErrorCode::none));
    EXPECT_EQ(synced.assignment, assignment);
    return {joined.member_id, joined.generation_id};
  }

  const std::string& group() const { return group_; }

 private:
  BrokerHarness& h_;
  std::string group_;
};

void create_topic(BrokerHarness& h, const std::string& name) {
  k::CreateTopicsRequest req;
  req.topics.push_back({name, 2, 1, {}, {}});
  auto resp = h.call(4, req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->topics[0].error_code, code(ErrorCode::none));
}

TEST(GroupManager, ApiVersionsAdvertisesTheGroupApis) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  auto resp = h.call(3, k::ApiVersionsRequest{});
  ASSERT_TRUE(resp.ok()) << resp.status();
  std::map<int16_t, std::pair<int16_t, int16_t>> ranges;
  for (auto& a : resp->api_keys) ranges[a.api_key] = {a.min_version, a.max_version};
  using P = std::pair<int16_t, int16_t>;
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::FindCoordinator)], P(0, 2));
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::JoinGroup)], P(0, 5));
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::SyncGroup)], P(0, 3));
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::Heartbeat)], P(0, 3));
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::LeaveGroup)], P(0, 3));
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::OffsetCommit)], P(0, 7));
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::OffsetFetch)], P(1, 5));
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::DescribeGroups)], P(0, 2));
  EXPECT_EQ(ranges[static_cast<int16_t>(k::ApiKey::ListGroups)], P(0, 2));
}

TEST(GroupManager, FirstFindCoordinatorCreatesTheInternalOffsetsTopic) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  k::FindCoordinatorRequest req;
  req.key = "g";
  auto first = h.call(0, req);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->error_code, code(ErrorCode::coordinator_not_available));
  h.run_for(milliseconds(100));
  auto second = h.call(1, req);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->error_code, code(ErrorCode::none));
  EXPECT_EQ(second->node_id, h.config().node_id);
  EXPECT_EQ(second->host, "b0");
  EXPECT_EQ(second->port, 9092);

  k::MetadataRequest meta;
  meta.topics = std::vector<k::MetadataRequest::MetadataRequestTopic>{{"__consumer_offsets"}};
  auto m = h.call(1, meta);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->topics.size(), 1u);
  EXPECT_TRUE(m->topics[0].is_internal);
  EXPECT_EQ(m->topics[0].partitions.size(), 3u);
  EXPECT_EQ(h.broker().metadata().topic("__consumer_offsets")->configs.at("cleanup.policy"),
            "compact");

  // Clients may not write to it or delete it.
  k::ProduceRequest produce;
  produce.acks = -1;
  produce.timeout_ms = 1000;
  produce.topic_data = {{"__consumer_offsets", {{0, testing::batch(1, 1)}}}};
  auto p = h.call(7, produce);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->responses[0].partition_responses[0].error_code,
            code(ErrorCode::invalid_topic_exception));
  k::DeleteTopicsRequest del;
  del.topic_names = {"__consumer_offsets"};
  auto d = h.call(1, del);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->responses[0].error_code, code(ErrorCode::invalid_topic_exception));
  EXPECT_NE(h.broker().metadata().topic("__consumer_offsets"), nullptr);

  // Transaction coordinators are not served.
  req.key_type = 1;
  auto txn = h.call(2, req);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(txn->error_code, code(ErrorCode::invalid_request));
}

TEST(GroupManager, AGroupsLifeOverTheWire) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  create_topic(h, "t");
  GroupDriver g(h);
  auto [member, generation] = g.form();
  EXPECT_EQ(generation, 1);
  EXPECT_EQ(g.heartbeat(member, generation), code(ErrorCode::none));
  EXPECT_EQ(g.commit(member, generation, 10), (std::vector<int16_t>{0, 0}));
  auto fetched = g.fetch();
  ASSERT_EQ(fetched.error_code, 0);
  ASSERT_EQ(fetched.topics.size(), 1u);
  ASSERT_EQ(fetched.topics[0].partitions.size(), 2u);
  EXPECT_EQ(fetched.topics[0].partitions[0].committed_offset, 10);
  EXPECT_EQ(fetched.topics[0].partitions[0].committed_leader_epoch, 4);
  EXPECT_EQ(fetched.topics[0].partitions[0].metadata, "meta");
  EXPECT_EQ(fetched.topics[0].partitions[1].committed_offset, 11);

  auto described = g.describe();
  EXPECT_EQ(described.error_code, 0);
  EXPECT_EQ(described.group_state, "Stable");
  EXPECT_EQ(described.protocol_type, "consumer");
  EXPECT_EQ(described.protocol_data, "range");
  ASSERT_EQ(described.members.size(), 1u);
  EXPECT_EQ(described.members[0].member_id, member);
  EXPECT_EQ(described.members[0].client_id, "test-client");
  EXPECT_EQ(described.members[0].client_host, "/client");
  EXPECT_EQ(described.members[0].member_assignment, to_bytes("t:0,1"));

  auto listed = h.call(2, k::ListGroupsRequest{});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->groups.size(), 1u);
  EXPECT_EQ(listed->groups[0].group_id, "g");
  EXPECT_EQ(listed->groups[0].protocol_type, "consumer");

  // Leave: the group is Empty, its offsets stay.
  k::LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.members = {k::LeaveGroupRequest::MemberIdentity{member, std::nullopt}};
  auto left = h.call(3, leave);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->members.size(), 1u);
  EXPECT_EQ(left->members[0].error_code, 0);
  EXPECT_EQ(g.describe().group_state, "Empty");
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, 10);
  // The whole group's offsets (null topics, v2+).
  k::OffsetFetchRequest all;
  all.group_id = "g";
  all.topics.reset();
  auto everything = h.call(3, all);
  ASSERT_TRUE(everything.ok());
  ASSERT_EQ(everything->topics.size(), 1u);
  EXPECT_EQ(everything->topics[0].partitions.size(), 2u);
}

// The scenario: the coordinator's broker goes down in the middle of a group's life. The
// committed offsets come back from __consumer_offsets, and so does the generation: the member's
// heartbeat carries on without a rebalance (Kafka's loadGroup).
void restart_keeps_group(bool crash) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  create_topic(h, "t");
  GroupDriver g(h);
  auto [member, generation] = g.form();
  ASSERT_EQ(g.commit(member, generation, 10), (std::vector<int16_t>{0, 0}));
  ASSERT_EQ(g.commit(member, generation, 20), (std::vector<int16_t>{0, 0}));
  if (crash) {
    h.crash(false);  // the process dies; the page cache survives (no power loss)
  } else {
    ASSERT_TRUE(h.shutdown().ok());
  }
  ASSERT_TRUE(h.start().ok());
  h.run([&] { return h.broker().groups().counters().groups_loaded > 0; }, seconds(5));
  EXPECT_EQ(h.broker().groups().counters().groups_loaded, 1u);
  auto fetched = g.fetch();
  ASSERT_EQ(fetched.error_code, 0);
  EXPECT_EQ(fetched.topics[0].partitions[0].committed_offset, 20);
  EXPECT_EQ(fetched.topics[0].partitions[0].metadata, "meta");
  EXPECT_EQ(fetched.topics[0].partitions[1].committed_offset, 21);
  auto described = g.describe();
  EXPECT_EQ(described.group_state, "Stable");
  ASSERT_EQ(described.members.size(), 1u);
  EXPECT_EQ(described.members[0].member_assignment, to_bytes("t:0,1"));
  EXPECT_EQ(g.heartbeat(member, generation), code(ErrorCode::none));
  EXPECT_EQ(g.commit(member, generation, 30), (std::vector<int16_t>{0, 0}));

  // A member that never comes back times out and the group re-forms with whoever joins.
  h.run_for(seconds(11));
  EXPECT_EQ(g.describe().group_state, "Empty");
  EXPECT_EQ(g.heartbeat(member, generation), code(ErrorCode::unknown_member_id));
  auto rejoined = g.join();
  EXPECT_EQ(rejoined.error_code, 0);
  EXPECT_EQ(rejoined.generation_id, generation + 2);  // the empty generation, then this one
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, 30);
}

TEST(GroupManager, CleanRestartRestoresOffsetsAndTheGeneration) {
  restart_keeps_group(false);
}

TEST(GroupManager, CrashRestartRestoresOffsetsAndTheGeneration) {
  restart_keeps_group(true);
}

// KIP-345 over the wire: a static member's restart keeps the generation, and the replacement id
// is what __consumer_offsets keeps, so after a coordinator restart the old id stays fenced.
TEST(GroupManager, StaticMemberReplacementIsStoredBeforeItIsAnswered) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  create_topic(h, "t");
  GroupDriver g(h);
  g.find();
  auto request = g.join_request("");
  request.group_instance_id = "instance-1";
  auto joined = h.call(5, request);
  ASSERT_TRUE(joined.ok());
  ASSERT_EQ(joined->error_code, 0) << "no MEMBER_ID_REQUIRED for a static member";
  ASSERT_EQ(joined->members.size(), 1u);
  EXPECT_EQ(joined->members[0].group_instance_id, "instance-1");
  std::string first = joined->member_id;
  int32_t generation = joined->generation_id;
  ASSERT_EQ(g.sync(first, generation, to_bytes("a")).error_code, 0);

  auto again = h.call(5, request);  // the instance restarted: same instance, no member id
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->error_code, 0);
  EXPECT_EQ(again->generation_id, generation);
  EXPECT_EQ(again->leader, first) << "the old leader id: the new member must not reassign";
  std::string second = again->member_id;
  EXPECT_NE(second, first);
  ASSERT_TRUE(h.shutdown().ok());
  ASSERT_TRUE(h.start().ok());
  h.run([&] { return h.broker().groups().counters().groups_loaded > 0; }, seconds(5));
  k::HeartbeatRequest beat{"g", generation, second, "instance-1"};
  auto ok = h.call(3, beat);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->error_code, 0);
  beat.member_id = first;
  auto fenced = h.call(3, beat);
  ASSERT_TRUE(fenced.ok());
  EXPECT_EQ(fenced->error_code, code(ErrorCode::fenced_instance_id));
  EXPECT_EQ(g.sync(second, generation, {}).assignment, to_bytes("a"));
}

// While a restarted coordinator reads its offsets partition back, the group's requests are
// answered COORDINATOR_LOAD_IN_PROGRESS (clients retry), never with a half-loaded state.
TEST(GroupManager, RequestsWhileThePartitionLoadsAreLoadInProgress) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  create_topic(h, "t");
  GroupDriver g(h);
  auto [member, generation] = g.form();
  ASSERT_EQ(g.commit(member, generation, 10), (std::vector<int16_t>{0, 0}));
  ASSERT_TRUE(h.shutdown().ok());
  ASSERT_TRUE(h.start().ok());
  // The load's first read is out now; the disk stalls it for a second.
  h.disk().stall(h.world().now() + seconds(1));
  EXPECT_EQ(g.heartbeat(member, generation), code(ErrorCode::coordinator_load_in_progress));
  EXPECT_EQ(g.fetch().error_code, code(ErrorCode::coordinator_load_in_progress));
  EXPECT_EQ(g.commit(member, generation, 11),
            (std::vector<int16_t>(2, code(ErrorCode::coordinator_load_in_progress))));
  EXPECT_EQ(g.describe().error_code, code(ErrorCode::coordinator_load_in_progress));
  auto listed = h.call(2, k::ListGroupsRequest{});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->error_code, code(ErrorCode::coordinator_load_in_progress));
  EXPECT_EQ(h.broker().groups().counters().groups_loaded, 0u);
  h.run([&] { return h.broker().groups().counters().groups_loaded > 0; }, seconds(5));
  EXPECT_EQ(g.heartbeat(member, generation), code(ErrorCode::none));
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, 10);
}

TEST(GroupManager, StandaloneCommitsNeedNoMembership) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  create_topic(h, "t");
  GroupDriver g(h, "manual");
  g.find();
  // Generation -1 and no member: a group that only keeps offsets (assign() consumers).
  EXPECT_EQ(g.commit("", -1, 5), (std::vector<int16_t>{0, 0}));
  // OffsetCommit v0 has neither field at all.
  EXPECT_EQ(g.commit("", -1, 6, "t", 0), (std::vector<int16_t>{0, 0}));
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, 6);
  // A group that never committed: -1 with no error.
  GroupDriver other(h, "never");
  auto none = other.fetch();
  EXPECT_EQ(none.error_code, 0);
  EXPECT_EQ(none.topics[0].partitions[0].committed_offset, -1);
  ASSERT_TRUE(h.shutdown().ok());
  ASSERT_TRUE(h.start().ok());
  h.run([&] { return h.broker().groups().counters().offsets_loaded > 0; }, seconds(5));
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, 6);
  EXPECT_EQ(g.describe().group_state, "Empty");
}

// The bad input: each gets the right error and the coordinator keeps working.
TEST(GroupManager, BadInputGetsTheRightErrorAndTheGroupCarriesOn) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  create_topic(h, "t");
  GroupDriver g(h);
  auto [member, generation] = g.form();

  // A join with another protocol type than the group's.
  auto other_type = h.call(5, g.join_request("", "connect"));
  ASSERT_TRUE(other_type.ok());
  EXPECT_EQ(other_type->error_code, code(ErrorCode::inconsistent_group_protocol));
  // A join with no protocol type or no protocols at all.
  auto empty_type = h.call(5, g.join_request("", ""));
  ASSERT_TRUE(empty_type.ok());
  EXPECT_EQ(empty_type->error_code, code(ErrorCode::inconsistent_group_protocol));
  // A commit from a stale generation, and from a member the group does not know.
  EXPECT_EQ(g.commit(member, generation - 1, 1),
            (std::vector<int16_t>(2, code(ErrorCode::illegal_generation))));
  EXPECT_EQ(g.commit(member, generation + 5, 1),
            (std::vector<int16_t>(2, code(ErrorCode::illegal_generation))));
  EXPECT_EQ(g.commit("nobody", generation, 1),
            (std::vector<int16_t>(2, code(ErrorCode::unknown_member_id))));
  // Heartbeats for unknown members, for a stale generation, and for an unknown group.
  EXPECT_EQ(g.heartbeat("nobody", generation), code(ErrorCode::unknown_member_id));
  EXPECT_EQ(g.heartbeat(member, generation + 1), code(ErrorCode::illegal_generation));
  GroupDriver ghost(h, "ghost");
  EXPECT_EQ(ghost.heartbeat("x", 1), code(ErrorCode::unknown_member_id));
  // A commit with generation >= 0 for a group the coordinator never had.
  EXPECT_EQ(ghost.commit("x", 3, 1),
            (std::vector<int16_t>(2, code(ErrorCode::illegal_generation))));
  // Commits for unknown topics or partitions, and oversized metadata, are refused per partition.
  EXPECT_EQ(g.commit(member, generation, 1, "no-such-topic"),
            (std::vector<int16_t>(2, code(ErrorCode::unknown_topic_or_partition))));
  k::OffsetCommitRequest big;
  big.group_id = "g";
  big.generation_id_or_member_epoch = generation;
  big.member_id = member;
  big.topics = {{"t", {{0, 1, -1, -1, std::string(5000, 'x')}, {7, 1, -1, -1, ""}}}};
  auto refused = h.call(7, big);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->topics[0].partitions[0].error_code,
            code(ErrorCode::offset_metadata_too_large));
  EXPECT_EQ(refused->topics[0].partitions[1].error_code,
            code(ErrorCode::unknown_topic_or_partition));
  // Empty or oversized group ids.
  GroupDriver unnamed(h, "");
  EXPECT_EQ(unnamed.heartbeat("x", 1), code(ErrorCode::invalid_group_id));
  GroupDriver huge(h, std::string(300, 'g'));
  EXPECT_EQ(huge.heartbeat("x", 1), code(ErrorCode::invalid_group_id));
  EXPECT_EQ(huge.describe().error_code, code(ErrorCode::invalid_group_id));
  // A SyncGroup naming a generation that is not the group's.
  EXPECT_EQ(g.sync(member, generation + 1, {}).error_code, code(ErrorCode::illegal_generation));

  // None of it disturbed the group.
  EXPECT_EQ(g.heartbeat(member, generation), code(ErrorCode::none));
  EXPECT_EQ(g.commit(member, generation, 42), (std::vector<int16_t>{0, 0}));
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, 42);
  EXPECT_EQ(g.describe().group_state, "Stable");
  EXPECT_EQ(h.broker().counters().bad_requests, 0u);
}

// KIP-211: a consumer group keeps its offsets while it has members, however old the commits;
// the retention clock starts when it becomes Empty. Expired offsets are tombstoned, so they stay
// gone after a restart; the Empty group without offsets is removed.
TEST(GroupManager, OffsetsExpireOnlyAfterTheGroupHasBeenEmptyForTheRetention) {
  BrokerHarness h(std::string(kConfig) +
                  "\"offsets.retention.minutes\" = 1\n"
                  "\"offsets.retention.check.interval.ms\" = 1000\n");
  ASSERT_TRUE(h.start().ok());
  create_topic(h, "t");
  GroupDriver g(h);
  auto [member, generation] = g.form();
  ASSERT_EQ(g.commit(member, generation, 10), (std::vector<int16_t>{0, 0}));
  // Two minutes with the member alive: the offsets stay.
  for (int i = 0; i < 24; ++i) {
    h.run_for(seconds(5));
    ASSERT_EQ(g.heartbeat(member, generation), code(ErrorCode::none));
  }
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, 10);
  k::LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.member_id = member;
  ASSERT_TRUE(h.call(0, leave).ok());
  h.run_for(seconds(50));
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, 10) << "expired too early";
  h.run_for(seconds(12));
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, -1);
  EXPECT_EQ(g.describe().group_state, "Dead");  // removed: unknown groups describe as Dead
  EXPECT_EQ(h.broker().groups().counters().offsets_expired, 2u);

  // Standalone commits expire by their commit time.
  GroupDriver manual(h, "manual");
  ASSERT_EQ(manual.commit("", -1, 3), (std::vector<int16_t>{0, 0}));
  h.run_for(seconds(30));
  EXPECT_EQ(manual.fetch().topics[0].partitions[0].committed_offset, 3);
  h.run_for(seconds(32));
  EXPECT_EQ(manual.fetch().topics[0].partitions[0].committed_offset, -1);

  ASSERT_TRUE(h.shutdown().ok());
  ASSERT_TRUE(h.start().ok());
  h.run_for(seconds(1));
  EXPECT_EQ(g.fetch().topics[0].partitions[0].committed_offset, -1) << "tombstones lost";
  EXPECT_EQ(manual.fetch().topics[0].partitions[0].committed_offset, -1);
  EXPECT_EQ(g.describe().group_state, "Dead");
}

TEST(GroupManager, RequestsForAGroupBeforeTheTopicExistsAreNotCoordinator) {
  BrokerHarness h(kConfig);
  ASSERT_TRUE(h.start().ok());
  GroupDriver g(h);
  EXPECT_EQ(g.heartbeat("m", 1), code(ErrorCode::not_coordinator));
  auto fetched = g.fetch();
  EXPECT_EQ(fetched.error_code, code(ErrorCode::not_coordinator));
  auto listed = h.call(0, k::ListGroupsRequest{});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->error_code, 0);
  EXPECT_TRUE(listed->groups.empty());
}

}  // namespace
}  // namespace gregor::broker
