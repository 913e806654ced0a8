// Proves the group consumer (group_consumer.h) against a real broker in the simulator:
// - two members split a topic's partitions (range and roundrobin, as the assignors say), the
//   rebalance hooks run revoked-then-assigned, and when one closes (LeaveGroup) the other gets
//   every partition at once, without waiting for a session to lapse;
// - a manual commit is where a new member of the group resumes; committed() reads it back;
// - auto-commit commits the positions on close, and periodically;
// - a member paused past its session timeout loses its partitions to the other member, then on
//   resuming learns it was fenced (UNKNOWN_MEMBER_ID), reports them lost, and joins again;
// - a member that stops polling for max_poll_interval_ms leaves, and rejoins at its next poll;
// - config validation and refusals (poll before subscribe, commit during a rebalance).
#include "client/group_consumer.h"

#include <gtest/gtest.h>

#include <set>

#include "client/client_test_helpers.h"

namespace gregor::client {
namespace {

using testing::bytes_of;
using testing::SimBrokerWorld;

GroupConsumerConfig group_config(SimBrokerWorld& w, const std::string& group) {
  GroupConsumerConfig c;
  c.bootstrap_servers = w.bootstrap();
  c.group_id = group;
  c.auto_offset_reset = OffsetReset::earliest;
  c.fetch_max_wait_ms = milliseconds(100);
  c.session_timeout_ms = seconds(10);
  c.heartbeat_interval_ms = seconds(1);
  c.max_poll_interval_ms = seconds(30);
  c.enable_auto_commit = false;
  return c;
}

// A client process of its own (so one can be paused), and its Env.
struct Client {
  sim::NodeId node;
  Env* env;
};
Client add_client(SimBrokerWorld& w, const std::string& name) {
  sim::NodeId id = w.cluster().add_process(
      name, [](Env& env) { return std::make_unique<testing::ClientHost>(env); });
  return {id, &w.cluster().service_as<testing::ClientHost>(id)->env};
}

void produce(SimBrokerWorld& w, const std::string& topic, int32_t partitions, int per_partition) {
  Producer producer(w.client_env(), testing::producer_config(w));
  std::vector<ProducerRecord> records;
  for (int32_t p = 0; p < partitions; ++p) {
    for (int i = 0; i < per_partition; ++i) {
      ProducerRecord r;
      r.topic = topic;
      r.partition = p;
      r.value = bytes_of(fmt::format("p{}-{}", p, i));
      records.push_back(std::move(r));
    }
  }
  for (auto& d : testing::produce_all(w, producer, std::move(records)))
    ASSERT_TRUE(d.result.ok()) << d.result.status();
}

// Polls in a loop (the way an application does) until pred() holds or `timeout` passes; every
// record polled is appended to `out`.
bool poll_until(SimBrokerWorld& w, std::vector<GroupConsumer*> consumers,
                const std::function<bool()>& pred, Duration timeout = seconds(120),
                std::vector<ConsumerRecord>* out = nullptr) {
  MonoTime end = w.world().now() + timeout;
  std::map<GroupConsumer*, bool> waiting;
  while (!pred() && w.world().now() < end) {
    for (GroupConsumer* c : consumers) {
      if (waiting[c] || c->state() == GroupConsumer::State::closed ||
          c->state() == GroupConsumer::State::closing)
        continue;
      waiting[c] = true;
      c->poll(milliseconds(200), [&waiting, c, out](Result<std::vector<ConsumerRecord>> r) {
        waiting[c] = false;
        ASSERT_TRUE(r.ok()) << r.status();
        if (out)
          for (auto& rec : *r) out->push_back(std::move(rec));
      });
    }
    w.run_until([&] { return pred(); }, milliseconds(100));
  }
  // Let waiting polls finish so their callbacks do not outlive the locals they use.
  w.run_until(
      [&] {
        for (auto& [c, busy] : waiting)
          if (busy && c->state() != GroupConsumer::State::closed) return false;
        return true;
      },
      seconds(5));
  return pred();
}

bool stable(GroupConsumer& c) {
  return c.state() == GroupConsumer::State::stable;
}

TEST(GroupConsumer, ValidatesItsConfig) {
  GroupConsumerConfig c;
  c.bootstrap_servers = {"broker:9092"};
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);  // no group.id
  c.group_id = "g";
  EXPECT_TRUE(validate(c).ok());
  c.heartbeat_interval_ms = c.session_timeout_ms;
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);
  c.heartbeat_interval_ms = seconds(3);
  c.partition_assignment_strategy = {"range", "cooperative-sticky"};
  EXPECT_NE(validate(c).message().find("cooperative-sticky"), std::string::npos);
  c.partition_assignment_strategy = {};
  EXPECT_EQ(validate(c).code(), Errc::invalid_argument);
}

TEST(GroupConsumer, RefusesPollBeforeSubscribeAndEmptySubscriptions) {
  SimBrokerWorld w;
  GroupConsumer c(w.client_env(), group_config(w, "g"));
  std::optional<Result<std::vector<ConsumerRecord>>> r;
  c.poll(milliseconds(10), [&](auto res) { r = std::move(res); });
  EXPECT_FALSE(r.has_value());  // never inside the call
  ASSERT_TRUE(w.wait(r));
  EXPECT_EQ(r->code(), Errc::invalid_argument);
  EXPECT_EQ(c.subscribe({}).code(), Errc::invalid_argument);
  EXPECT_EQ(c.subscribe({""}).code(), Errc::invalid_argument);
}

TEST(GroupConsumer, TwoMembersSplitAndTheOneLeftGetsEverything) {
  SimBrokerWorld w;
  testing::create_topic(w, "split", 4);
  produce(w, "split", 4, 5);
  Client ca = add_client(w, "ca"), cb = add_client(w, "cb");
  GroupConsumer a(*ca.env, group_config(w, "g1"));
  GroupConsumer b(*cb.env, group_config(w, "g1"));
  std::vector<std::string> events_a;
  RebalanceListener listener_a;
  listener_a.on_partitions_revoked = [&](const auto& tps) {
    events_a.push_back(fmt::format("revoked {}", tps.size()));
  };
  listener_a.on_partitions_assigned = [&](const auto& tps) {
    events_a.push_back(fmt::format("assigned {}", tps.size()));
  };
  ASSERT_TRUE(a.subscribe({"split"}, listener_a).ok());
  ASSERT_TRUE(poll_until(w, {&a}, [&] { return stable(a) && a.assignment().size() == 4; }));
  EXPECT_EQ(a.protocol(), "range");
  EXPECT_TRUE(a.is_leader());
  int32_t first_generation = a.generation();

  ASSERT_TRUE(b.subscribe({"split"}).ok());
  std::vector<ConsumerRecord> records;
  ASSERT_TRUE(poll_until(
      w, {&a, &b},
      [&] {
        return stable(a) && stable(b) && a.assignment().size() == 2 && b.assignment().size() == 2 &&
               a.generation() == b.generation();
      },
      seconds(120), &records));
  EXPECT_GT(a.generation(), first_generation);
  // Range over members sorted by id: whoever sorts first has partitions 0 and 1.
  std::set<TopicPartition> all;
  for (auto& tp : a.assignment()) all.insert(tp);
  for (auto& tp : b.assignment()) all.insert(tp);
  EXPECT_EQ(all.size(), 4u);
  auto& first = a.member_id() < b.member_id() ? a : b;
  EXPECT_EQ(first.assignment(), (std::vector<TopicPartition>{{"split", 0}, {"split", 1}}));
  // a: assigned 4, then revoked 4 and assigned 2 at the second generation.
  ASSERT_GE(events_a.size(), 3u);
  EXPECT_EQ(events_a[0], "assigned 4");
  EXPECT_EQ(events_a[1], "revoked 4");
  EXPECT_EQ(events_a[2], "assigned 2");

  // a leaves: b gets all four long before a session (10 s) could lapse.
  std::optional<Status> closed;
  MonoTime left_at = w.world().now();
  a.close([&](const Status& s) { closed = s; });
  ASSERT_TRUE(w.wait(closed));
  EXPECT_TRUE(closed->ok()) << *closed;
  EXPECT_EQ(a.counters().leaves, 1u);
  ASSERT_TRUE(poll_until(w, {&b}, [&] { return stable(b) && b.assignment().size() == 4; }));
  EXPECT_LT(w.world().now() - left_at, seconds(8));
  EXPECT_TRUE(b.is_leader());
}

TEST(GroupConsumer, RoundRobinAcrossTwoTopics) {
  SimBrokerWorld w;
  testing::create_topic(w, "ra", 3);
  testing::create_topic(w, "rb", 3);
  Client ca = add_client(w, "ca"), cb = add_client(w, "cb");
  auto config = group_config(w, "rr");
  config.partition_assignment_strategy = {"roundrobin", "range"};
  GroupConsumer a(*ca.env, config), b(*cb.env, config);
  ASSERT_TRUE(a.subscribe({"ra", "rb"}).ok());
  ASSERT_TRUE(b.subscribe({"rb", "ra"}).ok());
  ASSERT_TRUE(poll_until(w, {&a, &b}, [&] {
    return stable(a) && stable(b) && a.generation() == b.generation() &&
           a.assignment().size() + b.assignment().size() == 6 && !a.assignment().empty() &&
           !b.assignment().empty();
  }));
  EXPECT_EQ(a.protocol(), "roundrobin");
  auto& first = a.member_id() < b.member_id() ? a : b;
  EXPECT_EQ(first.assignment(), (std::vector<TopicPartition>{{"ra", 0}, {"ra", 2}, {"rb", 1}}));
}

TEST(GroupConsumer, ANewMemberResumesAfterTheCommittedOffset) {
  SimBrokerWorld w;
  testing::create_topic(w, "resume", 1);
  produce(w, "resume", 1, 20);
  TopicPartition tp{"resume", 0};
  {
    auto config = group_config(w, "g2");
    config.max_poll_records = 4;
    GroupConsumer a(w.client_env(), config);
    ASSERT_TRUE(a.subscribe({"resume"}).ok());
    std::vector<ConsumerRecord> records;
    ASSERT_TRUE(poll_until(
        w, {&a}, [&] { return records.size() >= 8; }, seconds(120), &records));
    std::optional<Status> committed;
    a.commit({{tp, 7}}, [&](const Status& s) { committed = s; });
    ASSERT_TRUE(w.wait(committed));
    ASSERT_TRUE(committed->ok()) << *committed;
    EXPECT_EQ(a.counters().commits, 1u);
    std::optional<Result<std::map<TopicPartition, int64_t>>> back;
    a.committed({tp, {"resume", 5}}, [&](auto r) { back = std::move(r); });
    ASSERT_TRUE(w.wait(back));
    ASSERT_TRUE(back->ok()) << back->status();
    EXPECT_EQ((*back)->at(tp), 7);
    EXPECT_EQ((*back)->at({"resume", 5}), -1);  // nothing committed there
    std::optional<Status> closed;
    a.close([&](const Status& s) { closed = s; });
    ASSERT_TRUE(w.wait(closed));
  }
  GroupConsumer b(w.client_env(), group_config(w, "g2"));
  ASSERT_TRUE(b.subscribe({"resume"}).ok());
  std::vector<ConsumerRecord> records;
  ASSERT_TRUE(poll_until(
      w, {&b}, [&] { return !records.empty(); }, seconds(120), &records));
  EXPECT_EQ(records.front().offset, 7);
  EXPECT_EQ(testing::text_of(records.front().value), "p0-7");
}

TEST(GroupConsumer, AutoCommitCommitsPeriodicallyAndOnClose) {
  SimBrokerWorld w;
  testing::create_topic(w, "auto", 2);
  produce(w, "auto", 2, 10);
  auto config = group_config(w, "g3");
  config.enable_auto_commit = true;
  config.auto_commit_interval_ms = seconds(1);
  GroupConsumer a(w.client_env(), config);
  ASSERT_TRUE(a.subscribe({"auto"}).ok());
  std::vector<ConsumerRecord> records;
  ASSERT_TRUE(poll_until(
      w, {&a}, [&] { return records.size() == 20; }, seconds(120), &records));
  ASSERT_TRUE(poll_until(w, {&a}, [&] { return a.counters().commits >= 2; }));
  std::optional<Result<std::map<TopicPartition, int64_t>>> committed;
  a.committed({{"auto", 0}, {"auto", 1}}, [&](auto r) { committed = std::move(r); });
  ASSERT_TRUE(w.wait(committed));
  ASSERT_TRUE(committed->ok());
  EXPECT_EQ((*committed)->at({"auto", 0}), 10);
  EXPECT_EQ((*committed)->at({"auto", 1}), 10);

  produce(w, "auto", 2, 3);  // 13 each now; a reads them and closes before the next tick
  ASSERT_TRUE(poll_until(
      w, {&a}, [&] { return records.size() == 26; }, seconds(60), &records));
  std::optional<Status> closed;
  a.close([&](const Status& s) { closed = s; });
  ASSERT_TRUE(w.wait(closed));
  EXPECT_TRUE(closed->ok()) << *closed;

  GroupConsumer b(w.client_env(), group_config(w, "g3"));
  committed.reset();
  b.committed({{"auto", 0}, {"auto", 1}}, [&](auto r) { committed = std::move(r); });
  ASSERT_TRUE(w.wait(committed));
  ASSERT_TRUE(committed->ok()) << committed->status();
  EXPECT_EQ((*committed)->at({"auto", 0}), 13);
  EXPECT_EQ((*committed)->at({"auto", 1}), 13);
}

TEST(GroupConsumer, APausedMemberLosesItsPartitionsAndRejoins) {
  SimBrokerWorld w;
  testing::create_topic(w, "pause", 2);
  Client ca = add_client(w, "ca"), cb = add_client(w, "cb");
  GroupConsumer a(*ca.env, group_config(w, "g4"));
  GroupConsumer b(*cb.env, group_config(w, "g4"));
  std::vector<std::string> events_a;
  RebalanceListener listener;
  listener.on_partitions_lost = [&](const auto& tps) {
    events_a.push_back(fmt::format("lost {}", tps.size()));
  };
  listener.on_partitions_assigned = [&](const auto& tps) {
    events_a.push_back(fmt::format("assigned {}", tps.size()));
  };
  ASSERT_TRUE(a.subscribe({"pause"}, listener).ok());
  ASSERT_TRUE(b.subscribe({"pause"}).ok());
  auto split = [&] {
    return stable(a) && stable(b) && a.generation() == b.generation() &&
           a.assignment().size() == 1 && b.assignment().size() == 1;
  };
  ASSERT_TRUE(poll_until(w, {&a, &b}, split));
  std::string old_member = a.member_id();

  w.cluster().pause(ca.node);
  // Only b polls (a is stopped): the coordinator expires a after 10 s and gives b both.
  ASSERT_TRUE(poll_until(
      w, {&b}, [&] { return stable(b) && b.assignment().size() == 2; }, seconds(60)));
  w.cluster().resume(ca.node);
  events_a.clear();
  ASSERT_TRUE(poll_until(w, {&a, &b}, split, seconds(120)));
  EXPECT_NE(a.member_id(), old_member);  // fenced: it joined again as a new member
  ASSERT_FALSE(events_a.empty());
  EXPECT_EQ(events_a.front(), "lost 1");
}

TEST(GroupConsumer, AMemberThatStopsPollingLeavesAndRejoinsOnItsNextPoll) {
  SimBrokerWorld w;
  testing::create_topic(w, "slow", 2);
  Client ca = add_client(w, "ca"), cb = add_client(w, "cb");
  auto config = group_config(w, "g5");
  config.max_poll_interval_ms = seconds(15);
  GroupConsumer a(*ca.env, config), b(*cb.env, config);
  ASSERT_TRUE(a.subscribe({"slow"}).ok());
  ASSERT_TRUE(b.subscribe({"slow"}).ok());
  auto split = [&] {
    return stable(a) && stable(b) && a.generation() == b.generation() &&
           a.assignment().size() == 1 && b.assignment().size() == 1;
  };
  ASSERT_TRUE(poll_until(w, {&a, &b}, split));
  // a's process runs (heartbeats go on) but the application stops polling it.
  ASSERT_TRUE(poll_until(
      w, {&b},
      [&] {
        return a.state() == GroupConsumer::State::left && stable(b) && b.assignment().size() == 2;
      },
      seconds(60)));
  EXPECT_TRUE(a.assignment().empty());
  std::optional<Status> refused;
  a.commit([&](const Status& s) { refused = s; });
  ASSERT_TRUE(w.wait(refused));
  EXPECT_FALSE(refused->ok());
  ASSERT_TRUE(poll_until(w, {&a, &b}, split));
}

TEST(GroupConsumer, CommitDuringARebalanceFails) {
  SimBrokerWorld w;
  testing::create_topic(w, "reb", 1);
  GroupConsumer a(w.client_env(), group_config(w, "g6"));
  ASSERT_TRUE(a.subscribe({"reb"}).ok());
  EXPECT_EQ(a.state(), GroupConsumer::State::joining);
  std::optional<Status> s;
  a.commit({{{"reb", 0}, 1}}, [&](const Status& st) { s = st; });
  ASSERT_TRUE(w.wait(s));
  EXPECT_NE(s->message().find("REBALANCE_IN_PROGRESS"), std::string::npos) << *s;
}

// Under BUGGIFY (requests that time out early, responses lost with their connection, broker
// faults) and random seeds, two members still converge on a split, and the one left after the
// other closes owns everything: the rediscovery and rejoin paths, exercised.
TEST(GroupConsumer, ConvergesUnderBuggifyAcrossSeeds) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    SimBrokerWorld::Options options;
    options.seed = seed;
    options.network.refuse_probability = 0.05;
    options.network.fragment_probability = 0.2;
    SimBrokerWorld w(options);
    testing::create_topic(w, "bug", 3);
    w.cluster().fault_points().set_buggify(true);
    Client ca = add_client(w, "ca"), cb = add_client(w, "cb");
    auto config = group_config(w, "gb");
    config.enable_auto_commit = true;
    config.auto_commit_interval_ms = seconds(1);
    GroupConsumer a(*ca.env, config), b(*cb.env, config);
    ASSERT_TRUE(a.subscribe({"bug"}).ok());
    ASSERT_TRUE(b.subscribe({"bug"}).ok());
    ASSERT_TRUE(poll_until(
        w, {&a, &b},
        [&] {
          return stable(a) && stable(b) && a.generation() == b.generation() &&
                 a.assignment().size() + b.assignment().size() == 3 && !a.assignment().empty() &&
                 !b.assignment().empty();
        },
        seconds(600)))
        << "a " << static_cast<int>(a.state()) << " gen " << a.generation() << " b "
        << static_cast<int>(b.state()) << " gen " << b.generation();
    std::optional<Status> closed;
    a.close([&](const Status& s) { closed = s; });
    ASSERT_TRUE(w.wait(closed));
    ASSERT_TRUE(poll_until(
        w, {&b}, [&] { return stable(b) && b.assignment().size() == 3; }, seconds(600)));
  }
}

}  // namespace
}  // namespace gregor::client
