// Proves the admin client against a real broker in the simulator: create topics (partitions,
// configs, validate_only, duplicates and bad configs as per-topic errors), list and describe them
// (partitions, leaders, ISR), describe topic and broker configs, and delete them; and every call
// completes, one way or the other, when responses keep getting lost.
#include <gtest/gtest.h>

#include "client/client_test_helpers.h"

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

// Regression: a request's failure handler that asked for a connection again while the failed one
// was still closing joined that link's waiters, which were then dropped with the link: the call
// never completed (found by the client_lose_response fault point in scenario default, seed 3).
TEST(Admin, EveryCallCompletesWhileResponsesAreLost) {
  SimBrokerWorld w;
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
  }
  EXPECT_GT(points.fires(FaultSite::client_lose_response), 0u);
}

}  // namespace
}  // namespace gregor::client
