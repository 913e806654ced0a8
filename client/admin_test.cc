// Proves the admin client against a real broker in the simulator: create topics (partitions,
// configs, validate_only, duplicates and bad configs as per-topic errors), list and describe them
// (partitions, leaders, ISR), describe topic and broker configs, and delete them; list and
// describe consumer groups (state, protocol, members and their decoded assignments; an unknown
// group is Dead) and list a group's committed offsets; group calls fail, rather than hang, when
// the broker is down; and every call completes, one way or the other, when responses keep getting
// lost.
#include <gtest/gtest.h>

#include "client/client_test_helpers.h"
#include "client/connection.h"
#include "node/kafka/consumer_protocol.h"

namespace gregor::client {
namespace {

using kafka::ErrorCode;
using testing::SimBrokerWorld;

template <typename T>
T wait_ok(SimBrokerWorld& w, std::optional<Result<T>>& slot) {
  EXPECT_TRUE(w.wait(slot));
  EXPECT_TRUE(slot && slot->ok()) << (slot ? slot->status().to_string() : "");
  return slot && slot->ok() ? std::move(*slot).value() : T{};
}

const TopicMetadata* find(const ClusterMetadata& m, const std::string& name) {
  for (auto& t : m.topics) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

TEST(Admin, CreateListDescribeDelete) {
  SimBrokerWorld w;
  Admin admin(w.client_env(), testing::admin_config(w));
  std::optional<Result<std::vector<TopicResult>>> created;
  admin.create_topics({{"alpha", 3, -1, {{"retention.ms", "3600000"}}}, {"beta", 1, 1, {}}}, false,
                      [&](auto r) { created = std::move(r); });
  auto results = wait_ok(w, created);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok()) << results[0].message;
  EXPECT_TRUE(results[1].ok()) << results[1].message;

  std::optional<Result<ClusterMetadata>> listed;
  admin.list_topics([&](auto r) { listed = std::move(r); });
  ClusterMetadata all = wait_ok(w, listed);
  ASSERT_EQ(all.brokers.size(), 1u);
  EXPECT_EQ(all.brokers[0].host, "broker");
  EXPECT_EQ(all.controller_id, 0);
  const TopicMetadata* alpha = find(all, "alpha");
  ASSERT_NE(alpha, nullptr);
  ASSERT_EQ(alpha->partitions.size(), 3u);
  for (auto& p : alpha->partitions) {
    EXPECT_EQ(p.leader, 0);
    EXPECT_EQ(p.isr, std::vector<int32_t>{0});
  }
  EXPECT_NE(find(all, "beta"), nullptr);

  std::optional<Result<ClusterMetadata>> described;
  admin.describe_topics({"alpha", "nope"}, [&](auto r) { described = std::move(r); });
  ClusterMetadata some = wait_ok(w, described);
  ASSERT_EQ(some.topics.size(), 2u);
  EXPECT_EQ(some.topics[0].error, ErrorCode::none);
  EXPECT_EQ(some.topics[1].error, ErrorCode::unknown_topic_or_partition);

  std::optional<Result<std::vector<TopicResult>>> deleted;
  admin.delete_topics({"alpha", "nope"}, [&](auto r) { deleted = std::move(r); });
  auto gone = wait_ok(w, deleted);
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_TRUE(gone[0].ok()) << gone[0].message;
  EXPECT_EQ(gone[1].error, ErrorCode::unknown_topic_or_partition);
  std::optional<Result<ClusterMetadata>> after;
  admin.list_topics([&](auto r) { after = std::move(r); });
  ClusterMetadata left = wait_ok(w, after);
  EXPECT_EQ(find(left, "alpha"), nullptr);
  EXPECT_NE(find(left, "beta"), nullptr);
}

TEST(Admin, CreateErrorsArePerTopic) {
  SimBrokerWorld w;
  Admin admin(w.client_env(), testing::admin_config(w));
  std::optional<Result<std::vector<TopicResult>>> first;
  admin.create_topics({{"dup", 1, -1, {}}}, false, [&](auto r) { first = std::move(r); });
  ASSERT_TRUE(wait_ok(w, first).at(0).ok());
  std::optional<Result<std::vector<TopicResult>>> second;
  admin.create_topics(
      {{"dup", 1, -1, {}}, {"badconfig", 1, -1, {{"retention.ms", "soon"}}}, {"dry", 2, -1, {}}},
      true, [&](auto r) { second = std::move(r); });
  auto results = wait_ok(w, second);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].error, ErrorCode::topic_already_exists);
  EXPECT_EQ(results[1].error, ErrorCode::invalid_config);
  EXPECT_FALSE(results[1].message.empty());
  EXPECT_TRUE(results[2].ok()) << results[2].message;
  std::optional<Result<ClusterMetadata>> described;
  admin.describe_topics({"dry"}, [&](auto r) { described = std::move(r); });
  // validate_only: nothing was created.
  EXPECT_EQ(wait_ok(w, described).topics.at(0).error, ErrorCode::unknown_topic_or_partition);
}

TEST(Admin, DescribeConfigsOfTopicsAndTheBroker) {
  SimBrokerWorld w;
  testing::create_topic(w, "conf", 1, {{"cleanup.policy", "compact"}});
  Admin admin(w.client_env(), testing::admin_config(w));
  std::optional<Result<std::vector<ConfigResult>>> topic;
  admin.describe_configs({{ConfigResourceType::topic, "conf"}}, {},
                         [&](auto r) { topic = std::move(r); });
  auto results = wait_ok(w, topic);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].error, ErrorCode::none);
  int found = 0;
  for (auto& e : results[0].entries) {
    if (e.name == "cleanup.policy") {
      ++found;
      EXPECT_EQ(e.value, "compact");
      EXPECT_FALSE(e.is_default);  // the topic's own override
    }
    if (e.name == "retention.ms") {
      ++found;
      EXPECT_TRUE(e.is_default);
    }
  }
  EXPECT_EQ(found, 2);

  std::optional<Result<std::vector<ConfigResult>>> broker;
  admin.describe_configs({{ConfigResourceType::broker, "0"}, {ConfigResourceType::topic, "nope"}},
                         {"num.partitions"}, [&](auto r) { broker = std::move(r); });
  auto both = wait_ok(w, broker);
  ASSERT_EQ(both.size(), 2u);
  ASSERT_EQ(both[0].entries.size(), 1u);
  EXPECT_EQ(both[0].entries[0].name, "num.partitions");
  EXPECT_EQ(both[0].entries[0].value, "1");
  EXPECT_EQ(both[1].error, ErrorCode::unknown_topic_or_partition);
}

// --- Consumer groups ---------------------------------------------------------------------------

namespace k = kafka;

// A consumer-group member speaking the protocol by hand on its own connection: joins (v4+: once
// for MEMBER_ID_REQUIRED, again with the id), leads, assigns itself `partitions`, commits.
class RawMember {
 public:
  RawMember(SimBrokerWorld& w, std::string group, std::string client_id)
      : w_(w), group_(std::move(group)) {
    ConnectionConfig config;
    config.client_id = std::move(client_id);
    conn_ = std::make_shared<KafkaClientConnection>(w.client_env(), net::Address{"broker", 9092},
                                                    config);
    std::optional<Status> ready;
    conn_->connect([&](const Status& s) { ready = s; });
    EXPECT_TRUE(w.wait(ready));
    EXPECT_TRUE(ready && ready->ok());
  }

  // Joins as the only member and syncs the assignment; returns false (and fails the test) if not.
  bool join_and_sync(const std::string& topic, std::vector<int32_t> partitions) {
    // FindCoordinator first, as clients do: the broker creates __consumer_offsets on demand and
    // answers COORDINATOR_NOT_AVAILABLE until it is ready.
    for (int attempt = 0;; ++attempt) {
      auto found = call(k::FindCoordinatorRequest{.key = group_, .key_type = 0});
      if (!found) return false;
      if (found->error_code == 0) break;
      if (attempt == 100) {
        ADD_FAILURE() << "FindCoordinator: " << found->error_code;
        return false;
      }
      w_.run_until([] { return false; }, milliseconds(100));
    }
    k::JoinGroupRequest join;
    join.group_id = group_;
    join.session_timeout_ms = 30000;
    join.rebalance_timeout_ms = 30000;
    join.protocol_type = "consumer";
    join.protocols.push_back(
        {"range", k::encode_subscription(k::ConsumerSubscription{.topics = {topic}})});
    for (int attempt = 0; attempt < 2; ++attempt) {
      join.member_id = member_id_;
      auto resp = call(join);
      if (!resp) return false;
      if (resp->error_code == static_cast<int16_t>(ErrorCode::member_id_required)) {
        member_id_ = resp->member_id;
        continue;
      }
      EXPECT_EQ(resp->error_code, 0);
      if (resp->error_code != 0) return false;
      member_id_ = resp->member_id;
      generation_ = resp->generation_id;
      EXPECT_EQ(resp->leader, member_id_);
      break;
    }
    k::SyncGroupRequest sync;
    sync.group_id = group_;
    sync.generation_id = generation_;
    sync.member_id = member_id_;
    k::ConsumerAssignment assignment;
    assignment.partitions.push_back({topic, std::move(partitions)});
    sync.assignments.push_back({member_id_, k::encode_assignment(assignment)});
    auto synced = call(sync);
    EXPECT_TRUE(synced && synced->error_code == 0);
    return synced && synced->error_code == 0;
  }

  void commit(const std::string& topic, std::map<int32_t, int64_t> offsets) {
    k::OffsetCommitRequest req;
    req.group_id = group_;
    req.generation_id_or_member_epoch = generation_;
    req.member_id = member_id_;
    k::OffsetCommitRequest::OffsetCommitRequestTopic t;
    t.name = topic;
    for (auto [p, o] : offsets)
      t.partitions.push_back({.partition_index = p, .committed_offset = o});
    req.topics.push_back(std::move(t));
    auto resp = call(req);
    ASSERT_TRUE(resp);
    for (auto& rt : resp->topics) {
      for (auto& rp : rt.partitions)
        EXPECT_EQ(rp.error_code, 0) << rt.name << "-" << rp.partition_index;
    }
  }

  const std::string& member_id() const { return member_id_; }

 private:
  template <typename Req>
  std::optional<ResponseOf<Req>> call(const Req& req) {
    std::optional<Result<ResponseOf<Req>>> out;
    conn_->send(req, [&](Result<ResponseOf<Req>> r) { out = std::move(r); });
    if (!w_.wait(out, seconds(60))) return std::nullopt;
    EXPECT_TRUE(out->ok()) << out->status();
    if (!out->ok()) return std::nullopt;
    return std::move(*out).value();
  }

  SimBrokerWorld& w_;
  std::string group_;
  std::shared_ptr<KafkaClientConnection> conn_;
  std::string member_id_;
  int32_t generation_ = -1;
};

TEST(Admin, ListAndDescribeGroupsAndTheirOffsets) {
  SimBrokerWorld w;
  testing::create_topic(w, "orders", 3);
  RawMember member(w, "billing", "billing-client");
  ASSERT_TRUE(member.join_and_sync("orders", {0, 1, 2}));
  member.commit("orders", {{0, 5}, {2, 7}});

  Admin admin(w.client_env(), testing::admin_config(w));
  std::optional<Result<std::vector<ListedGroup>>> listed;
  admin.list_groups([&](auto r) { listed = std::move(r); });
  auto groups = wait_ok(w, listed);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].group_id, "billing");
  EXPECT_EQ(groups[0].protocol_type, "consumer");
  EXPECT_EQ(groups[0].coordinator, 0);

  std::optional<Result<std::vector<GroupDescription>>> described;
  admin.describe_groups({"nope", "billing", "nope"}, [&](auto r) { described = std::move(r); });
  auto descriptions = wait_ok(w, described);
  ASSERT_EQ(descriptions.size(), 3u);  // in the order asked, duplicates too
  EXPECT_EQ(descriptions[0].group_id, "nope");
  EXPECT_TRUE(descriptions[0].ok()) << descriptions[0].message;
  EXPECT_EQ(descriptions[0].state, "Dead");
  EXPECT_TRUE(descriptions[0].members.empty());
  EXPECT_EQ(descriptions[2].group_id, "nope");
  const GroupDescription& billing = descriptions[1];
  EXPECT_TRUE(billing.ok()) << billing.message;
  EXPECT_EQ(billing.group_id, "billing");
  EXPECT_EQ(billing.coordinator, 0);
  EXPECT_EQ(billing.state, "Stable");
  EXPECT_EQ(billing.protocol_type, "consumer");
  EXPECT_EQ(billing.protocol, "range");
  ASSERT_EQ(billing.members.size(), 1u);
  const GroupMember& m = billing.members[0];
  EXPECT_EQ(m.member_id, member.member_id());
  EXPECT_EQ(m.client_id, "billing-client");
  EXPECT_FALSE(m.client_host.empty());
  auto assignment = k::decode_assignment(m.assignment);
  ASSERT_TRUE(assignment.ok()) << assignment.status();
  ASSERT_EQ(assignment->partitions.size(), 1u);
  EXPECT_EQ(assignment->partitions[0].topic, "orders");
  EXPECT_EQ(assignment->partitions[0].partitions, (std::vector<int32_t>{0, 1, 2}));
  auto subscription = k::decode_subscription(m.metadata);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  EXPECT_EQ(subscription->topics, std::vector<std::string>{"orders"});

  std::optional<Result<GroupOffsets>> offsets;
  admin.list_group_offsets("billing", [&](auto r) { offsets = std::move(r); });
  GroupOffsets committed = wait_ok(w, offsets);
  EXPECT_TRUE(committed.ok()) << committed.message;
  EXPECT_EQ(committed.coordinator, 0);
  ASSERT_EQ(committed.offsets.size(), 2u);
  EXPECT_EQ(committed.offsets.at({"orders", 0}).offset, 5);
  EXPECT_EQ(committed.offsets.at({"orders", 2}).offset, 7);
  EXPECT_EQ(committed.offsets.at({"orders", 2}).error, ErrorCode::none);

  std::optional<Result<GroupOffsets>> none;
  admin.list_group_offsets("nope", [&](auto r) { none = std::move(r); });
  GroupOffsets unknown = wait_ok(w, none);
  EXPECT_TRUE(unknown.ok()) << unknown.message;
  EXPECT_TRUE(unknown.offsets.empty());

  std::optional<Result<std::vector<GroupDescription>>> nothing;
  admin.describe_groups({}, [&](auto r) { nothing = std::move(r); });
  EXPECT_TRUE(wait_ok(w, nothing).empty());
}

TEST(Admin, GroupCallsFailWhenNoBrokerAnswers) {
  SimBrokerWorld w;
  w.crash_broker();
  AdminConfig config = testing::admin_config(w);
  config.request_timeout_ms = seconds(2);
  config.connection_setup_timeout_ms = seconds(2);
  Admin admin(w.client_env(), config);
  std::optional<Result<std::vector<ListedGroup>>> listed;
  admin.list_groups([&](auto r) { listed = std::move(r); });
  std::optional<Result<std::vector<GroupDescription>>> described;
  admin.describe_groups({"g"}, [&](auto r) { described = std::move(r); });
  std::optional<Result<GroupOffsets>> offsets;
  admin.list_group_offsets("g", [&](auto r) { offsets = std::move(r); });
  ASSERT_TRUE(w.wait(listed));
  ASSERT_TRUE(w.wait(described));
  ASSERT_TRUE(w.wait(offsets));
  EXPECT_FALSE(listed->ok());
  EXPECT_FALSE(described->ok());
  EXPECT_FALSE(offsets->ok());
}

// Regression: a request's failure handler that asked for a connection again while the failed one
// was still closing joined that link's waiters, which were then dropped with the link: the call
// never completed (found by the client_lose_response fault point in scenario default, seed 3).
// Seeds 2..30 found a second way to lose an answer (a send() refused by a connection that closed
// just after it was handed over; see connection_test), so several seeds run.
class AdminLossy : public ::testing::TestWithParam<uint64_t> {};

TEST_P(AdminLossy, EveryCallCompletesWhileResponsesAreLost) {
  SimBrokerWorld w(SimBrokerWorld::Options{.seed = GetParam()});
  FaultPoints& points = w.cluster().fault_points();
  points.force(FaultSite::client_lose_response, true);
  points.set_buggify(true);
  for (int i = 0; i < 30; ++i) {
    // A fresh client each time: the lost answer is often its very first metadata refresh.
    Admin admin(w.client_env(), testing::admin_config(w));
    std::optional<Result<std::vector<TopicResult>>> r;
    admin.create_topics({{fmt::format("lossy-{}", i), 1, -1, {}}}, false,
                        [&](auto res) { r = std::move(res); });
    ASSERT_TRUE(w.wait(r, seconds(30))) << "call " << i << " never completed";
    // The group calls gather several answers (FindCoordinator, then the coordinator's).
    std::optional<Result<std::vector<GroupDescription>>> described;
    admin.describe_groups({"a", "b"}, [&](auto res) { described = std::move(res); });
    std::optional<Result<std::vector<ListedGroup>>> listed;
    admin.list_groups([&](auto res) { listed = std::move(res); });
    std::optional<Result<GroupOffsets>> offsets;
    admin.list_group_offsets("a", [&](auto res) { offsets = std::move(res); });
    ASSERT_TRUE(w.wait(described, seconds(300))) << "describe_groups " << i << " never completed";
    ASSERT_TRUE(w.wait(listed, seconds(300))) << "list_groups " << i << " never completed";
    ASSERT_TRUE(w.wait(offsets, seconds(300))) << "list_group_offsets " << i << " never completed";
  }
  EXPECT_GT(points.fires(FaultSite::client_lose_response), 0u);
}

INSTANTIATE_TEST_SUITE_P(Admin, AdminLossy, ::testing::Range<uint64_t>(1, 9));

}  // namespace
}  // namespace gregor::client
