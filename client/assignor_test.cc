// Proves the assignors (assignor.h): the exact outputs of cases from Kafka's RangeAssignorTest and
// RoundRobinAssignorTest, and RapidCheck properties over random groups: every partition of a
// subscribed topic with metadata has exactly one owner, that owner subscribes to the topic, no
// other partition is assigned, every member is in the result, and counts are balanced within each
// assignor's guarantee (range: per topic among its subscribers; roundrobin: overall when all
// members subscribe to the same topics).
#include "client/assignor.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>

namespace gregor::client {
namespace {

using TPs = std::vector<TopicPartition>;

TEST(Assignor, RangeTwoConsumersOneTopicThreePartitions) {
  auto a = range_assign({{"t", 3}}, {{"c1", {"t"}}, {"c2", {"t"}}});
  EXPECT_EQ(a["c1"], (TPs{{"t", 0}, {"t", 1}}));
  EXPECT_EQ(a["c2"], (TPs{{"t", 2}}));
}

TEST(Assignor, RangeMultipleConsumersMixedTopics) {
  auto a =
      range_assign({{"t1", 3}, {"t2", 2}}, {{"c1", {"t1"}}, {"c2", {"t1", "t2"}}, {"c3", {"t1"}}});
  EXPECT_EQ(a["c1"], (TPs{{"t1", 0}}));
  EXPECT_EQ(a["c2"], (TPs{{"t1", 1}, {"t2", 0}, {"t2", 1}}));
  EXPECT_EQ(a["c3"], (TPs{{"t1", 2}}));
}

TEST(Assignor, RangeMoreConsumersThanPartitionsAndUnknownTopics) {
  auto a = range_assign({{"t", 1}}, {{"a", {"t", "gone"}}, {"b", {"t"}}, {"c", {}}});
  EXPECT_EQ(a["a"], (TPs{{"t", 0}}));
  EXPECT_TRUE(a["b"].empty());
  EXPECT_TRUE(a["c"].empty());
  EXPECT_EQ(a.size(), 3u);
}

TEST(Assignor, RoundRobinMultipleConsumersMixedTopics) {
  auto a = round_robin_assign({{"t1", 3}, {"t2", 2}},
                              {{"c1", {"t1"}}, {"c2", {"t1", "t2"}}, {"c3", {"t1"}}});
  EXPECT_EQ(a["c1"], (TPs{{"t1", 0}}));
  EXPECT_EQ(a["c2"], (TPs{{"t1", 1}, {"t2", 0}, {"t2", 1}}));
  EXPECT_EQ(a["c3"], (TPs{{"t1", 2}}));
}

TEST(Assignor, RoundRobinTwoConsumersTwoTopicsSixPartitions) {
  auto a = round_robin_assign({{"t1", 3}, {"t2", 3}}, {{"c1", {"t1", "t2"}}, {"c2", {"t1", "t2"}}});
  EXPECT_EQ(a["c1"], (TPs{{"t1", 0}, {"t1", 2}, {"t2", 1}}));
  EXPECT_EQ(a["c2"], (TPs{{"t1", 1}, {"t2", 0}, {"t2", 2}}));
}

TEST(Assignor, ByName) {
  EXPECT_TRUE(is_known_assignor("range"));
  EXPECT_TRUE(is_known_assignor("roundrobin"));
  EXPECT_FALSE(is_known_assignor("cooperative-sticky"));
  EXPECT_FALSE(assign_with("sticky", {{"t", 1}}, {{"m", {"t"}}}).has_value());
  EXPECT_EQ(assign_with("range", {{"t", 1}}, {{"m", {"t"}}})->at("m"), (TPs{{"t", 0}}));
  EXPECT_TRUE(range_assign({{"t", 4}}, {}).empty());
  EXPECT_TRUE(round_robin_assign({{"t", 4}}, {}).empty());
}

struct Group {
  std::map<std::string, int32_t> partitions_per_topic;
  GroupSubscriptions subscriptions;
};

// A random group: up to 6 topics of 0..12 partitions (some without metadata), up to 8 members
// each subscribing to a random subset of the topics (or, if `same`, all to the same subset).
Group gen_group(bool same) {
  Group g;
  const int topics = *rc::gen::inRange(1, 7);
  std::vector<std::string> names;
  for (int t = 0; t < topics; ++t) {
    names.push_back("topic" + std::to_string(t));
    if (*rc::gen::inRange(0, 10) > 0)  // one in ten has no metadata
      g.partitions_per_topic[names.back()] = *rc::gen::inRange(0, 13);
  }
  auto subset = [&] {
    std::vector<std::string> out;
    for (const auto& n : names)
      if (*rc::gen::arbitrary<bool>()) out.push_back(n);
    return out;
  };
  const auto shared = subset();
  const int members = *rc::gen::inRange(0, 9);
  for (int m = 0; m < members; ++m) {
    // Ids whose string order differs from their numeric order, as real member ids' do.
    std::string id =
        "consumer-" + std::to_string(*rc::gen::inRange(0, 1000)) + "-" + std::to_string(m);
    g.subscriptions[id] = same ? shared : subset();
  }
  return g;
}

// Every subscribed partition with metadata exactly once, to a subscriber; nothing else.
void check_ownership(const Group& g, const GroupAssignment& a) {
  RC_ASSERT(a.size() == g.subscriptions.size());
  std::map<TopicPartition, int> owners;
  for (const auto& [member, tps] : a) {
    RC_ASSERT(g.subscriptions.contains(member));
    const auto& topics = g.subscriptions.at(member);
    for (const auto& tp : tps) {
      RC_ASSERT(std::find(topics.begin(), topics.end(), tp.topic) != topics.end());
      ++owners[tp];
    }
    RC_ASSERT(std::is_sorted(tps.begin(), tps.end()));
  }
  size_t expected = 0;
  std::set<std::string> subscribed;
  for (const auto& [member, topics] : g.subscriptions)
    subscribed.insert(topics.begin(), topics.end());
  for (const auto& topic : subscribed) {
    auto it = g.partitions_per_topic.find(topic);
    if (it == g.partitions_per_topic.end()) continue;
    for (int32_t p = 0; p < it->second; ++p) {
      RC_ASSERT((owners[TopicPartition{topic, p}] == 1));
      ++expected;
    }
  }
  RC_ASSERT(owners.size() == expected);
}

RC_GTEST_PROP(Assignor, RangeOwnsEachPartitionOnceAndBalancesPerTopic, ()) {
  Group g = gen_group(false);
  GroupAssignment a = range_assign(g.partitions_per_topic, g.subscriptions);
  check_ownership(g, a);
  for (const auto& [topic, partitions] : g.partitions_per_topic) {
    int lo = INT32_MAX, hi = 0;
    for (const auto& [member, topics] : g.subscriptions) {
      if (std::find(topics.begin(), topics.end(), topic) == topics.end()) continue;
      int n = static_cast<int>(std::count_if(a.at(member).begin(), a.at(member).end(),
                                             [&](const auto& tp) { return tp.topic == topic; }));
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    if (lo != INT32_MAX) RC_ASSERT(hi - lo <= 1);
  }
}

RC_GTEST_PROP(Assignor, RoundRobinOwnsEachPartitionOnce, ()) {
  Group g = gen_group(false);
  check_ownership(g, round_robin_assign(g.partitions_per_topic, g.subscriptions));
}

RC_GTEST_PROP(Assignor, RoundRobinBalancesIdenticalSubscriptions, ()) {
  Group g = gen_group(true);
  GroupAssignment a = round_robin_assign(g.partitions_per_topic, g.subscriptions);
  check_ownership(g, a);
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [member, tps] : a) {
    lo = std::min(lo, tps.size());
    hi = std::max(hi, tps.size());
  }
  if (!a.empty()) RC_ASSERT(hi - lo <= 1);
}

}  // namespace
}  // namespace gregor::client
