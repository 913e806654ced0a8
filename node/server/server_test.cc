// Three combined nodes (broker + controller, voters 1..3) in the simulator: the quorum elects an
// active controller, the brokers register and are unfenced, topics are created through the
// controller and appear in every broker's image, clients produce and consume through the
// partitions' leaders, and when the active controller crashes another takes over and topic
// creation keeps working. Also: a dedicated-controller layout, and a broker that stops
// heartbeating is fenced (its partitions lose their leader) and unfenced when it comes back.
#include "node/server/server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "client/admin.h"
#include "client/client_sim_testing.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "node/broker/kraft_metadata.h"
#include "node/rpc/rpc_channel.h"
#include "node/server/server_testing.h"
#include "sim/cluster.h"

namespace gregor::server {
namespace {

using testing::create_topic;
using testing::kBrokerPort;
using testing::Layout;
using testing::QuorumWorld;

TEST(Quorum, ThreeCombinedNodesElectRegisterAndCreateTopics) {
  QuorumWorld w(Layout{});
  ASSERT_TRUE(w.run_until([&] { return w.active_controller() != 0; }, seconds(30)));
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));

  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  EXPECT_EQ(create_topic(w, admin, "events", 6), kafka::ErrorCode::none);
  // The broker that took the request answered once its own image had the topic; the others
  // follow the metadata log a little behind.
  ASSERT_TRUE(w.run_until(
      [&] {
        for (int id = 1; id <= 3; ++id) {
          broker::Broker* b = w.server(id)->broker();
          if (!b->metadata().topic("events") || b->authority().in_progress("events")) return false;
        }
        return true;
      },
      seconds(5)));
  // Every broker's image has the topic, its partitions spread over the three brokers, each
  // partition's log open on its one replica.
  std::set<int32_t> leaders;
  for (int id = 1; id <= 3; ++id) {
    const broker::TopicImage* t = w.server(id)->broker()->metadata().topic("events");
    ASSERT_NE(t, nullptr) << "broker " << id;
    ASSERT_EQ(t->partitions.size(), 6u);
    for (const auto& p : t->partitions) {
      leaders.insert(p.leader);
      bool hosted = w.server(id)->broker()->replicas().partition("events", p.partition) != nullptr;
      EXPECT_EQ(hosted, p.leader == id) << "broker " << id << " partition " << p.partition;
    }
  }
  EXPECT_EQ(leaders, (std::set<int32_t>{1, 2, 3}));
  EXPECT_EQ(create_topic(w, admin, "events", 1), kafka::ErrorCode::topic_already_exists);
}

TEST(Quorum, ProduceAndConsumeAcrossBrokers) {
  QuorumWorld w(Layout{});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  ASSERT_EQ(create_topic(w, admin, "t", 3), kafka::ErrorCode::none);

  client::ProducerConfig pc;
  pc.bootstrap_servers = w.bootstrap();
  pc.enable_idempotence = true;
  pc.acks = -1;
  client::Producer producer(w.client_env(), pc);
  int acked = 0;
  for (int i = 0; i < 30; ++i) {
    producer.send(client::ProducerRecord{"t", i % 3, std::nullopt,
                                         client::testing::bytes_of(fmt::format("v{}", i))},
                  [&](const client::DeliveryReport& r) {
                    EXPECT_TRUE(r.result.ok()) << r.result.status();
                    if (r.result.ok()) ++acked;
                  });
  }
  ASSERT_TRUE(w.run_until([&] { return acked == 30; }, seconds(30)));
  int64_t total = 0;
  for (int id = 1; id <= 3; ++id) {
    for (int p = 0; p < 3; ++p) {
      if (auto* part = w.server(id)->broker()->replicas().partition("t", p))
        total += part->log().log_end_offset();
    }
  }
  EXPECT_EQ(total, 30);
}

TEST(Quorum, ActiveControllerCrashElectsAnotherAndTopicsKeepWorking) {
  QuorumWorld w(Layout{});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  int first = w.active_controller();
  ASSERT_NE(first, 0);
  w.cluster().crash(w.node(first));
  ASSERT_TRUE(w.run_until(
      [&] {
        int now = w.active_controller();
        return now != 0 && now != first;
      },
      seconds(30)));
  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  EXPECT_EQ(create_topic(w, admin, "after-failover", 2), kafka::ErrorCode::none);
  // The crashed node comes back, catches up and sees the topic created without it.
  w.cluster().restart(w.node(first));
  ASSERT_TRUE(w.run_until(
      [&] {
        Server* s = w.server(first);
        return s && s->broker() && s->broker()->metadata().topic("after-failover") != nullptr;
      },
      seconds(30)));
}

TEST(Quorum, SilentBrokerIsFencedThenUnfencedWhenItReturns) {
  QuorumWorld w(Layout{});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  int active = w.active_controller();
  int victim = active == 3 ? 2 : 3;
  // Cut the victim off: its session expires and the controller fences it.
  w.cluster().pause(w.node(victim));
  ASSERT_TRUE(w.run_until(
      [&] {
        Server* s = w.server(active);
        return s->broker()->metadata().brokers.size() == 2;
      },
      seconds(30)));
  w.cluster().resume(w.node(victim));
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
}

TEST(Quorum, LaggingNodeCatchesUpFromASnapshot) {
  QuorumWorld w(Layout{.snapshot_every_entries = 4});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  int active = w.active_controller();
  int lagging = active == 3 ? 2 : 3;
  w.cluster().crash(w.node(lagging));
  client::AdminConfig ac;
  for (int id = 1; id <= 3; ++id)
    if (id != lagging) ac.bootstrap_servers.push_back(fmt::format("n{}:{}", id, kBrokerPort));
  client::Admin admin(w.client_env(), ac);
  // Enough entries that the others snapshot and drop the log the lagging node would need.
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(create_topic(w, admin, fmt::format("t{}", i), 1), kafka::ErrorCode::none);
  }
  Server* leader = w.server(active);
  ASSERT_GT(leader->metadata()->raft().raft().log().start_offset(), 0)
      << "the active controller never snapshotted";
  w.cluster().restart(w.node(lagging));
  ASSERT_TRUE(w.run_until(
      [&] {
        Server* s = w.server(lagging);
        return s && s->metadata() && s->metadata()->image() == leader->metadata()->image();
      },
      seconds(30)));
  for (int i = 0; i < 12; ++i)
    EXPECT_NE(w.server(lagging)->broker()->metadata().topic(fmt::format("t{}", i)), nullptr);
}

TEST(Quorum, ControlledShutdownIsPromptAndFencesTheBroker) {
  QuorumWorld w(Layout{});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  int active = w.active_controller();
  int leaving = active == 1 ? 2 : 1;
  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  ASSERT_EQ(create_topic(w, admin, "led", 6), kafka::ErrorCode::none);
  std::optional<Status> stopped;
  MonoTime begin = w.world().now();
  w.server(leaving)->shutdown([&](const Status& s) { stopped = s; });
  ASSERT_TRUE(w.run_until([&] { return stopped.has_value(); }, seconds(30)));
  EXPECT_TRUE(stopped->ok()) << *stopped;
  // Answered by the controller (should_shut_down), not by the kControlledShutdownMax bound.
  EXPECT_LT(w.world().now() - begin, broker::kControlledShutdownMax);
  const auto& brokers = w.server(active)->metadata()->image().brokers;
  ASSERT_TRUE(brokers.contains(leaving));
  EXPECT_TRUE(brokers.at(leaving).fenced);
  EXPECT_TRUE(brokers.at(leaving).in_controlled_shutdown);
  // Replication factor 1: nobody else can lead its partitions, which are now leaderless; the
  // others' partitions keep their leaders.
  const auto* topic = w.server(active)->metadata()->image().topic("led");
  ASSERT_NE(topic, nullptr);
  int leaderless = 0;
  for (const auto& [index, p] : topic->partitions) {
    EXPECT_NE(p.leader, leaving);
    if (p.replicas == std::vector<int32_t>{leaving}) {
      EXPECT_EQ(p.leader, -1);
      ++leaderless;
    } else {
      EXPECT_EQ(p.leader, p.replicas[0]);
    }
  }
  EXPECT_EQ(leaderless, 2);
}

// Stopping every node one after the other: the last ones have no quorum left to confirm their
// controlled shutdown, and still stop (after kControlledShutdownMax), whether or not they still
// know a leader.
TEST(Quorum, EveryNodeStopsEvenWithoutAQuorum) {
  QuorumWorld w(Layout{});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  for (int id = 1; id <= 3; ++id) {
    std::optional<Status> stopped;
    w.server(id)->shutdown([&](const Status& s) { stopped = s; });
    ASSERT_TRUE(w.run_until([&] { return stopped.has_value(); }, seconds(30)))
        << "node " << id << " never stopped";
    EXPECT_TRUE(stopped->ok()) << *stopped;
    w.cluster().crash(w.node(id), sim::CrashOptions{.lose_unsynced = false});  // the exit
  }
}

// A broker's partitions come back to it after a clean restart (its clean-shutdown file names the
// epoch it stopped with, so it stays an eligible leader: KIP-966), but not after a crash: then
// its unflushed writes may be gone, it leaves the ELR and, with one replica and unclean election
// off, its partitions stay leaderless.
TEST(Quorum, CleanRestartGetsItsPartitionsBackACrashThroughTheLastKnownElr) {
  QuorumWorld w(Layout{});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  int active = w.active_controller();
  int node = active == 1 ? 2 : 1;
  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  ASSERT_EQ(create_topic(w, admin, "back", 6), kafka::ErrorCode::none);
  auto leaders_of_node = [&] {
    int led = 0;
    for (const auto& [i, p] : w.server(active)->metadata()->image().topic("back")->partitions)
      if (p.leader == node) ++led;
    return led;
  };
  ASSERT_EQ(leaders_of_node(), 2);

  std::optional<Status> stopped;
  w.server(node)->shutdown([&](const Status& s) { stopped = s; });
  ASSERT_TRUE(w.run_until([&] { return stopped.has_value(); }, seconds(30)));
  EXPECT_EQ(leaders_of_node(), 0);
  w.cluster().crash(w.node(node), sim::CrashOptions{.lose_unsynced = false});  // the exit
  w.cluster().restart(w.node(node));
  EXPECT_TRUE(w.run_until([&] { return leaders_of_node() == 2; }, seconds(30)))
      << "a clean restart did not get its partitions back";

  int64_t clean_epoch = w.server(active)->metadata()->image().brokers.at(node).epoch;
  w.cluster().crash(w.node(node));
  w.cluster().restart(w.node(node));
  // The new incarnation registers once the old one's session expired, and is unfenced.
  ASSERT_TRUE(w.run_until(
      [&] {
        const auto& b = w.server(active)->metadata()->image().brokers.at(node);
        return b.epoch != clean_epoch && !b.fenced;
      },
      seconds(30)));
  // A crash took it out of the ELR (KIP-966: its unflushed writes may be gone), but it is the
  // last known ELR of its single-replica partitions: once unfenced it leads them again, without
  // an unclean election (the partition is not RECOVERING) and with the last known ELR cleared.
  EXPECT_TRUE(w.run_until([&] { return leaders_of_node() == 2; }, seconds(10)))
      << "after a crash the last known ELR did not get its partitions back";
  for (const auto& [i, p] : w.server(active)->metadata()->image().topic("back")->partitions) {
    if (p.replicas != std::vector<int32_t>{node}) continue;
    EXPECT_EQ(p.leader, node);
    EXPECT_EQ(p.isr, std::vector<int32_t>{node});
    EXPECT_TRUE(p.elr.empty() && p.last_known_elr.empty());
    EXPECT_EQ(p.leader_recovery_state, 0);
  }
}

// AlterPartition on the controller listener, as a partition leader will send it: the broker
// epochs of the request and of each ISR member are checked (KIP-903), and an inactive controller
// answers NOT_CONTROLLER.
TEST(Quorum, AlterPartitionIsValidatedAgainstBrokerAndPartitionEpochs) {
  QuorumWorld w(Layout{});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  ASSERT_EQ(create_topic(w, admin, "ap", 3), kafka::ErrorCode::none);
  int active = w.active_controller();
  const metadata::ControllerImage& image = w.server(active)->metadata()->image();
  const metadata::TopicRegistration* topic = image.topic("ap");
  ASSERT_NE(topic, nullptr);
  const metadata::PartitionRegistration& p0 = topic->partitions.at(0);
  int32_t leader = p0.leader;
  int64_t epoch = image.brokers.at(leader).epoch;

  auto alter = [&](int controller, int64_t broker_epoch, int64_t member_epoch) {
    rpc::RpcChannel ch(w.client_env(), net::Address{fmt::format("n{}", controller), 9093});
    kafka::AlterPartitionRequest req;
    req.broker_id = leader;
    req.broker_epoch = broker_epoch;
    kafka::AlterPartitionRequest::TopicData t;
    t.topic_id = topic->id;
    kafka::AlterPartitionRequest::PartitionData pd;
    pd.partition_index = 0;
    pd.leader_epoch = p0.leader_epoch;
    pd.new_isr_with_epochs.push_back({leader, member_epoch});
    pd.partition_epoch = p0.partition_epoch;
    t.partitions.push_back(pd);
    req.topics.push_back(t);
    std::optional<Result<kafka::AlterPartitionResponse>> got;
    ch.send(req, 3, [&](Result<kafka::AlterPartitionResponse> r) { got = std::move(r); });
    EXPECT_TRUE(w.run_until([&] { return got.has_value(); }, seconds(10)));
    EXPECT_TRUE(got && got->ok());
    return got && got->ok() ? **got : kafka::AlterPartitionResponse{};
  };
  auto ok = alter(active, epoch, epoch);
  EXPECT_EQ(ok.error_code, 0);
  ASSERT_EQ(ok.topics.size(), 1u);
  ASSERT_EQ(ok.topics[0].partitions.size(), 1u);
  EXPECT_EQ(ok.topics[0].partitions[0].error_code, 0);
  EXPECT_EQ(ok.topics[0].partitions[0].leader_id, leader);
  EXPECT_EQ(ok.topics[0].partitions[0].partition_epoch, p0.partition_epoch);  // unchanged ISR

  EXPECT_EQ(alter(active, epoch - 1, epoch).error_code,
            static_cast<int16_t>(kafka::ErrorCode::stale_broker_epoch));
  auto stale_member = alter(active, epoch, epoch - 1);
  ASSERT_EQ(stale_member.topics.size(), 1u);
  EXPECT_EQ(stale_member.topics[0].partitions[0].error_code,
            static_cast<int16_t>(kafka::ErrorCode::ineligible_replica));
  int other = active == 1 ? 2 : 1;
  EXPECT_EQ(alter(other, epoch, epoch).error_code,
            static_cast<int16_t>(kafka::ErrorCode::not_controller));
}

TEST(Quorum, DedicatedControllersServeBrokers) {
  QuorumWorld w(Layout{.brokers = 2, .controllers = 3, .dedicated = true});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(2); }, seconds(30)));
  EXPECT_GT(w.active_controller(), 2);
  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  EXPECT_EQ(create_topic(w, admin, "d", 4), kafka::ErrorCode::none);
  // The broker that took the request answered once its own image had the topic; the other one
  // follows the log a little behind.
  ASSERT_TRUE(w.run_until([&] {
    return w.server(1)->broker()->metadata().topic("d") &&
           w.server(2)->broker()->metadata().topic("d");
  }));
  for (int id = 1; id <= 2; ++id) {
    const broker::TopicImage* t = w.server(id)->broker()->metadata().topic("d");
    ASSERT_NE(t, nullptr);
    for (const auto& p : t->partitions) EXPECT_TRUE(p.leader == 1 || p.leader == 2);
  }
}

}  // namespace
}  // namespace gregor::server
