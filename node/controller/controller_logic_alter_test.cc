// Proves AlterPartition on the controller (Kafka's ReplicationControlManager.alterPartition with
// KIP-903), every batch applied to the image by TestCluster (so its records replay): ISR shrink
// and expansion answered with the new state, an unchanged ISR writing nothing, every refusal
// (stale or unknown requester, unknown topic or partition, leader epoch, not the leader,
// partition epoch, duplicates, leader missing, leader recovery state, ineligible members:
// not a replica, unregistered, fenced, shutting down, stale broker epoch), the legacy switch
// without broker-epoch fencing, the ELR following the ISR, and a RECOVERING leader recovering.
#include <gtest/gtest.h>

#include "node/controller/controller_logic.h"
#include "node/controller/controller_logic_testing.h"

namespace gregor::controller {
namespace {

using metadata::PartitionRecord;
using testing::TestCluster;
using V = std::vector<int32_t>;

ControllerConfig no_elr() {
  ControllerConfig c;
  c.eligible_leader_replicas = false;
  return c;
}

struct AlterFixture {
  explicit AlterFixture(ControllerConfig config = {}) : c(config) {
    c.start_brokers(4);
    c.heartbeat(4, true);           // broker 4: registered, fenced, no replicas
    t = c.create_topic("t", 1, 3);  // [1, 2, 3] (4 is fenced)
  }
  // Broker 1 asks for `isr` (members with their current epochs) at the partition's epochs.
  AlterPartitionRequest ask(const V& isr) const {
    const auto& p = c.partition(t, 0);
    AlterPartitionItem item{.partition = 0,
                            .leader_epoch = p.leader_epoch,
                            .new_isr = {},
                            .leader_recovery_state = 0,
                            .partition_epoch = p.partition_epoch};
    for (int32_t id : isr) item.new_isr.push_back({id, c.image.brokers.at(id).epoch});
    return {.broker_id = 1, .broker_epoch = c.epoch(1), .topics = {{t, {item}}}};
  }
  AlteredPartition run(const AlterPartitionRequest& r) {
    AlterPartitionAnswer a = c.apply(alter_partition(c.image, c.config, r));
    EXPECT_TRUE(a.error.ok());
    return a.topics.at(0).partitions.at(0);
  }
  TestCluster c;
  Uuid t;
};

TEST(AlterPartition, ShrinksAndExpandsTheIsrAndAnswersTheNewState) {
  AlterFixture f;
  AlteredPartition a = f.run(f.ask({1, 2}));
  EXPECT_TRUE(a.error.ok()) << a.error.message;
  EXPECT_EQ(a.isr, (V{1, 2}));
  EXPECT_EQ(a.leader, 1);
  EXPECT_EQ(a.leader_epoch, 0);
  EXPECT_EQ(a.partition_epoch, 1);
  EXPECT_EQ(f.c.partition(f.t, 0).isr, (V{1, 2}));
  a = f.run(f.ask({1, 2, 3}));
  EXPECT_EQ(a.partition_epoch, 2);
  EXPECT_EQ(a.isr, (V{1, 2, 3}));
}

TEST(AlterPartition, AnUnchangedIsrWritesNothing) {
  AlterFixture f;
  auto d = alter_partition(f.c.image, f.c.config, f.ask({1, 2, 3}));
  EXPECT_TRUE(d.records.empty());
  EXPECT_TRUE(d.answer.topics[0].partitions[0].error.ok());
  EXPECT_EQ(d.answer.topics[0].partitions[0].partition_epoch, 0);
}

ErrorCode refusal(AlterFixture& f, const AlterPartitionRequest& r) {
  auto d = alter_partition(f.c.image, f.c.config, r);
  EXPECT_TRUE(d.records.empty());
  if (!d.answer.error.ok()) return d.answer.error.code;
  return d.answer.topics.at(0).partitions.at(0).error.code;
}

TEST(AlterPartition, RefusesEachBadRequest) {
  AlterFixture f;
  AlterPartitionRequest r = f.ask({1, 2});
  r.broker_epoch += 1;
  EXPECT_EQ(refusal(f, r), ErrorCode::stale_broker_epoch);
  r = f.ask({1, 2});
  r.broker_id = 9;
  EXPECT_EQ(refusal(f, r), ErrorCode::stale_broker_epoch);
  r = f.ask({1, 2});
  r.topics[0].topic_id = Uuid{3, 3};
  EXPECT_EQ(refusal(f, r), ErrorCode::unknown_topic_id);
  r = f.ask({1, 2});
  r.topics[0].partitions[0].partition = 5;
  EXPECT_EQ(refusal(f, r), ErrorCode::unknown_topic_or_partition);
  r = f.ask({1, 2});
  r.topics[0].partitions[0].leader_epoch = 3;
  EXPECT_EQ(refusal(f, r), ErrorCode::fenced_leader_epoch);
  r = f.ask({1, 2});
  r.broker_id = 2;
  r.broker_epoch = f.c.epoch(2);
  EXPECT_EQ(refusal(f, r), ErrorCode::not_leader_or_follower);
  r = f.ask({1, 2});
  r.topics[0].partitions[0].partition_epoch = 4;
  EXPECT_EQ(refusal(f, r), kInvalidUpdateVersion);
  EXPECT_EQ(refusal(f, f.ask({1, 2, 2})), ErrorCode::invalid_request);
  EXPECT_EQ(refusal(f, f.ask({2, 3})), ErrorCode::invalid_request);  // leader missing
  r = f.ask({1, 2});
  r.topics[0].partitions[0].leader_recovery_state = 1;  // back to RECOVERING
  EXPECT_EQ(refusal(f, r), ErrorCode::invalid_request);
  EXPECT_EQ(refusal(f, f.ask({1, 4})), kIneligibleReplica);  // not a replica
  r = f.ask({1, 2});
  r.topics[0].partitions[0].new_isr[1].broker_epoch += 1;  // KIP-903
  EXPECT_EQ(refusal(f, r), kIneligibleReplica);
  f.c.heartbeat(3, true);
  EXPECT_EQ(refusal(f, f.ask({1, 2, 3})), kIneligibleReplica);  // fenced
  // In controlled shutdown (set by hand: broker 2 leads nothing, so it would be fenced at once).
  f.c.image.brokers.at(2).in_controlled_shutdown = true;
  auto d = alter_partition(f.c.image, f.c.config, f.ask({1, 2}));
  EXPECT_EQ(d.answer.topics[0].partitions[0].error.code, kIneligibleReplica);
  EXPECT_NE(d.answer.topics[0].partitions[0].error.message.find("shutting down"),
            std::string::npos);
}

TEST(AlterPartition, AnUnregisteredReplicaIsIneligible) {
  AlterFixture f;
  // A partition naming broker 9, which never registered (written by hand: placement would not).
  metadata::TopicRecord topic{.name = "hand", .topic_id = Uuid{8, 8}};
  PartitionRecord p;
  p.topic_id = topic.topic_id;
  p.partition_id = 0;
  p.replicas = {1, 9};
  p.isr = {1};
  p.leader = 1;
  p.leader_epoch = 0;
  p.partition_epoch = 0;
  f.c.image = metadata::apply_records(f.c.image, std::vector<MetadataRecord>{topic, p}).value();
  AlterPartitionRequest r{
      .broker_id = 1,
      .broker_epoch = f.c.epoch(1),
      .topics = {{.topic_id = topic.topic_id, .partitions = {{.new_isr = {{1, -1}, {9, -1}}}}}}};
  auto d = alter_partition(f.c.image, f.c.config, r);
  EXPECT_EQ(d.answer.topics[0].partitions[0].error.code, kIneligibleReplica);
  EXPECT_NE(d.answer.topics[0].partitions[0].error.message.find("not registered"),
            std::string::npos);
}

TEST(AlterPartition, WithoutBrokerEpochFencingAStaleIncarnationRejoins) {
  for (bool fencing : {true, false}) {
    ControllerConfig config;
    config.broker_epoch_fencing = fencing;
    AlterFixture f(config);
    f.run(f.ask({1, 2}));
    // Broker 3 restarts as a new incarnation; the leader still asks with its old epoch.
    int64_t old_epoch = f.c.epoch(3);
    f.c.now += seconds(10);
    f.c.heartbeat(1);
    f.c.heartbeat(2);
    ASSERT_TRUE(f.c.register_broker(3, 2).error.ok());
    f.c.heartbeat(3);
    AlterPartitionRequest r = f.ask({1, 2, 3});
    r.topics[0].partitions[0].new_isr[2].broker_epoch = old_epoch;
    AlteredPartition a = f.run(r);
    if (fencing) {
      EXPECT_EQ(a.error.code, kIneligibleReplica);
    } else {
      EXPECT_TRUE(a.error.ok());
      EXPECT_EQ(f.c.partition(f.t, 0).isr, (V{1, 2, 3}));
    }
  }
}

TEST(AlterPartition, TheElrFollowsTheIsrAroundMinIsr) {
  AlterFixture f;
  f.c.set_broker_config("min.insync.replicas", "2");
  f.run(f.ask({1}));
  EXPECT_EQ(f.c.partition(f.t, 0).elr, (V{2, 3}));
  f.run(f.ask({1, 2}));
  EXPECT_TRUE(f.c.partition(f.t, 0).elr.empty());
}

TEST(AlterPartition, ARecoveringLeaderMayOnlyRecoverAlone) {
  ControllerConfig config = no_elr();
  config.unclean_leader_election = true;
  TestCluster c(config);
  c.start_brokers(2);
  Uuid t = c.create_topic("t", 1, 2);
  c.apply(alter_partition(c.image, c.config,
                          {.broker_id = 1,
                           .broker_epoch = c.epoch(1),
                           .topics = {{.topic_id = t, .partitions = {{.new_isr = {{1, -1}}}}}}}));
  c.heartbeat(1, true);                                         // unclean: 2 leads, RECOVERING
  const metadata::PartitionRegistration p = c.partition(t, 0);  // a copy: the image changes
  ASSERT_EQ(p.leader, 2);
  ASSERT_EQ(p.leader_recovery_state, 1);
  c.heartbeat(1);
  AlterPartitionItem item{.partition = 0,
                          .leader_epoch = p.leader_epoch,
                          .new_isr = {{2, c.epoch(2)}, {1, c.epoch(1)}},
                          .leader_recovery_state = 1,
                          .partition_epoch = p.partition_epoch};
  AlterPartitionRequest r{.broker_id = 2, .broker_epoch = c.epoch(2), .topics = {{t, {item}}}};
  EXPECT_EQ(alter_partition(c.image, c.config, r).answer.topics[0].partitions[0].error.code,
            ErrorCode::invalid_request);
  r.topics[0].partitions[0].new_isr.pop_back();
  r.topics[0].partitions[0].leader_recovery_state = 0;  // recovered
  AlterPartitionAnswer a = c.apply(alter_partition(c.image, c.config, r));
  EXPECT_TRUE(a.topics[0].partitions[0].error.ok());
  EXPECT_EQ(c.partition(t, 0).leader_recovery_state, 0);
}

}  // namespace
}  // namespace gregor::controller
