// Proves the controller's decisions on worked examples (every batch is applied to the image with
// MetadataDelta by TestCluster, so each also proves its records replay):
// - registration: the broker epoch is the record's offset, retries write nothing, a second
//   incarnation with a live session is DUPLICATE_BROKER_REGISTRATION, a clean restart is not;
// - heartbeats: unknown and stale brokers, unfencing once caught up, want_fence, controlled
//   shutdown moving leadership before the broker is told to shut down, sessions expiring;
// - elections on fencing and unfencing in replica order, "last replica standing" without ELR,
//   the ELR below min.insync.replicas and elections from it, unclean elections only when enabled,
//   an unclean shutdown leaving the ELR;
// - CreateTopics (placement, defaults, every refusal, configs, validate_only), DeleteTopics,
//   producer-id blocks.
// AlterPartition is in controller_logic_alter_test.cc, the random sequences in
// controller_logic_property_test.cc.
#include "node/controller/controller_logic.h"

#include <gtest/gtest.h>

#include "node/controller/controller_logic_testing.h"

namespace gregor::controller {
namespace {

using metadata::BrokerRegistrationChangeRecord;
using metadata::FenceBrokerRecord;
using metadata::PartitionChangeRecord;
using metadata::PartitionRecord;
using metadata::RegisterBrokerRecord;
using metadata::UnfenceBrokerRecord;
using testing::incarnation;
using testing::TestCluster;
using V = std::vector<int32_t>;

ControllerConfig no_elr() {
  ControllerConfig c;
  c.eligible_leader_replicas = false;
  return c;
}

RegisterBrokerRequest registration(int32_t id, uint64_t generation, int64_t previous = -1) {
  return RegisterBrokerRequest{.broker_id = id,
                               .incarnation_id = incarnation(id, generation),
                               .endpoints = {},
                               .rack = "r1",
                               .previous_broker_epoch = previous};
}

// --- Registration ----------------------------------------------------------------------------

TEST(RegisterBroker, TheEpochIsTheRecordsOffsetAndARetryWritesNothing) {
  TestCluster c;
  auto d = register_broker(c.image, c.tracker, c.config, registration(1, 1), 42, c.now);
  ASSERT_EQ(d.records.size(), 1u);
  const auto& r = std::get<RegisterBrokerRecord>(d.records[0]);
  EXPECT_EQ(r.broker_epoch, 42);
  EXPECT_TRUE(r.fenced);
  EXPECT_EQ(r.rack, "r1");
  EXPECT_EQ(d.answer.broker_epoch, 42);
  c.apply(std::move(d));
  auto retry = register_broker(c.image, c.tracker, c.config, registration(1, 1), 50, c.now);
  EXPECT_TRUE(retry.records.empty());
  EXPECT_TRUE(retry.answer.error.ok());
  EXPECT_EQ(retry.answer.broker_epoch, 42);
}

TEST(RegisterBroker, AnotherIncarnationWithALiveSessionIsADuplicate) {
  TestCluster c;
  c.start_brokers(1);
  c.now += seconds(5);
  auto d = register_broker(c.image, c.tracker, c.config, registration(1, 2), c.next_offset, c.now);
  EXPECT_EQ(d.answer.error.code, kDuplicateBrokerRegistration);
  EXPECT_TRUE(d.records.empty());
  // Once the session expires, the new incarnation may register (a fresh, fenced registration).
  c.now += seconds(10);
  int64_t offset = c.next_offset;
  RegisterBrokerAnswer a = c.register_broker(1, 2);
  EXPECT_TRUE(a.error.ok()) << a.error.message;
  EXPECT_EQ(a.broker_epoch, offset);
  EXPECT_TRUE(c.image.brokers.at(1).fenced);
}

TEST(RegisterBroker, ACleanRestartMayRegisterAtOnceAndItsLeadershipMoves) {
  TestCluster c;
  c.start_brokers(2);
  Uuid t = c.create_topic("t", 1, 2);  // replicas [1, 2], leader 1
  RegisterBrokerAnswer a = c.register_broker(1, 2, /*previous_epoch=*/c.epoch(1));
  ASSERT_TRUE(a.error.ok()) << a.error.message;
  EXPECT_EQ(c.partition(t, 0).leader, 2);
  EXPECT_EQ(c.partition(t, 0).isr, V{2});
  EXPECT_EQ(c.partition(t, 0).leader_epoch, 1);
}

TEST(RegisterBroker, AFencedBrokerMayComeBackAsANewIncarnation) {
  TestCluster c;
  c.start_brokers(1);
  c.heartbeat(1, /*want_fence=*/true);
  EXPECT_TRUE(c.register_broker(1, 2).error.ok());
}

// --- Heartbeats ------------------------------------------------------------------------------

TEST(Heartbeat, UnknownBrokersAndStaleEpochsAreRefused) {
  TestCluster c;
  c.start_brokers(1);
  HeartbeatRequest r{.broker_id = 9, .broker_epoch = 1, .current_metadata_offset = 10};
  auto d = heartbeat(c.image, c.tracker, c.config, r, c.now, 1);
  EXPECT_EQ(d.answer.error.code, kBrokerIdNotRegistered);
  EXPECT_TRUE(d.records.empty());
  r.broker_id = 1;
  r.broker_epoch = c.epoch(1) + 7;
  d = heartbeat(c.image, c.tracker, c.config, r, c.now, c.epoch(1));
  EXPECT_EQ(d.answer.error.code, ErrorCode::stale_broker_epoch);
  EXPECT_TRUE(d.records.empty());
}

TEST(Heartbeat, UnfencesOnceCaughtUpUnlessItWantsToStayFenced) {
  TestCluster c;
  c.register_broker(1);
  int64_t epoch = c.epoch(1);
  HeartbeatAnswer a = c.heartbeat(1, false, false, epoch - 1);  // behind its registration
  EXPECT_FALSE(a.is_caught_up);
  EXPECT_TRUE(a.is_fenced);
  a = c.heartbeat(1, /*want_fence=*/true, false, epoch);
  EXPECT_TRUE(a.is_caught_up);
  EXPECT_TRUE(a.is_fenced);
  EXPECT_TRUE(c.image.brokers.at(1).fenced);
  auto d = heartbeat(c.image, c.tracker, c.config,
                     {.broker_id = 1, .broker_epoch = epoch, .current_metadata_offset = epoch},
                     c.now, epoch);
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(std::get<UnfenceBrokerRecord>(d.records[0]),
            (UnfenceBrokerRecord{.id = 1, .epoch = epoch}));
  EXPECT_FALSE(d.answer.is_fenced);
  c.apply(std::move(d));
  a = c.heartbeat(1, /*want_fence=*/true);
  EXPECT_TRUE(a.is_fenced);
  EXPECT_FALSE(a.should_shut_down);
  EXPECT_TRUE(c.image.brokers.at(1).fenced);
}

TEST(Heartbeat, UnfencingLetsLeaderlessPartitionsElectWithoutElr) {
  TestCluster c(no_elr());
  c.start_brokers(1);
  Uuid t = c.create_topic("t", 1, 1);
  c.heartbeat(1, /*want_fence=*/true);
  EXPECT_EQ(c.partition(t, 0).leader, -1);
  EXPECT_EQ(c.partition(t, 0).isr, V{1});  // the last replica stands
  c.heartbeat(1);
  EXPECT_EQ(c.partition(t, 0).leader, 1);
  EXPECT_EQ(c.partition(t, 0).leader_epoch, 2);
  EXPECT_EQ(c.partition(t, 0).partition_epoch, 2);
}

TEST(ControlledShutdown, MovesLeadershipFirstThenTellsTheBrokerToShutDown) {
  TestCluster c;
  c.start_brokers(3);
  Uuid t = c.create_topic("t", 3, 2);  // p0 [1,2], p1 [2,3], p2 [3,1]
  auto d = heartbeat(c.image, c.tracker, c.config,
                     {.broker_id = 1,
                      .broker_epoch = c.epoch(1),
                      .current_metadata_offset = c.next_offset - 1,
                      .want_shutdown_now = true},
                     c.now, c.epoch(1));
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<BrokerRegistrationChangeRecord>(d.records[0]));
  HeartbeatAnswer a = c.apply(std::move(d));
  EXPECT_FALSE(a.should_shut_down);
  EXPECT_TRUE(a.in_controlled_shutdown);
  EXPECT_FALSE(a.is_fenced);
  EXPECT_EQ(c.partition(t, 0).leader, 2);
  EXPECT_EQ(c.partition(t, 0).isr, V{2});
  EXPECT_EQ(c.partition(t, 2).isr, V{3});
  EXPECT_TRUE(c.image.brokers.at(1).in_controlled_shutdown);
  // It leads nothing now: the next heartbeat fences it and says shut down.
  a = c.heartbeat(1, false, /*want_shutdown=*/true);
  EXPECT_TRUE(a.should_shut_down);
  EXPECT_TRUE(a.is_fenced);
  EXPECT_TRUE(c.image.brokers.at(1).fenced);
  auto again = heartbeat(c.image, c.tracker, c.config,
                         {.broker_id = 1, .broker_epoch = c.epoch(1), .want_shutdown_now = true},
                         c.now, c.epoch(1));
  EXPECT_TRUE(again.records.empty());
  EXPECT_TRUE(again.answer.should_shut_down);
}

TEST(ControlledShutdown, ABrokerLeadingNothingShutsDownAtOnce) {
  TestCluster c;
  c.start_brokers(2);
  c.create_topic("t", 1, 1);  // led by broker 1
  auto d = heartbeat(c.image, c.tracker, c.config,
                     {.broker_id = 2, .broker_epoch = c.epoch(2), .want_shutdown_now = true}, c.now,
                     c.epoch(2));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<FenceBrokerRecord>(d.records[0]));
  EXPECT_TRUE(d.answer.should_shut_down);
}

TEST(ControlledShutdown, ASoleReplicaLeavesItsPartitionLeaderless) {
  TestCluster c(no_elr());
  c.start_brokers(1);
  Uuid t = c.create_topic("t", 1, 1);
  HeartbeatAnswer a = c.heartbeat(1, false, true);
  EXPECT_FALSE(a.should_shut_down);
  EXPECT_EQ(c.partition(t, 0).leader, -1);
  EXPECT_EQ(c.partition(t, 0).isr, V{1});
  EXPECT_TRUE(c.heartbeat(1, false, true).should_shut_down);
}

TEST(Sessions, ExpireAfterTheTimeoutAndFencingMovesLeadership) {
  TestCluster c;
  c.start_brokers(2);
  Uuid t = c.create_topic("t", 1, 2);
  MonoTime start = c.now;
  c.now = start + milliseconds(9000);
  c.heartbeat(2);
  EXPECT_TRUE(c.tracker.session_alive(1, c.now));
  EXPECT_TRUE(fence_expired(c.image, c.tracker, c.config, c.now).records.empty());
  c.now += nanoseconds(1);
  EXPECT_EQ(c.tracker.expired(c.now), V{1});
  std::vector<int32_t> fenced = c.apply(fence_expired(c.image, c.tracker, c.config, c.now));
  EXPECT_EQ(fenced, V{1});
  EXPECT_TRUE(c.image.brokers.at(1).fenced);
  EXPECT_EQ(c.partition(t, 0).leader, 2);
  EXPECT_TRUE(fence_expired(c.image, c.tracker, c.config, c.now).records.empty());
  // A controller becoming active gives every broker a fresh session.
  c.tracker.reset(c.image, c.now);
  EXPECT_TRUE(c.tracker.expired(c.now + milliseconds(9000)).empty());
  EXPECT_EQ(c.tracker.expired(c.now + milliseconds(9001)), (V{1, 2}));
}

// --- Elections -------------------------------------------------------------------------------

TEST(Elections, FencingMovesLeadershipInReplicaOrderAndTheLastReplicaStands) {
  TestCluster c(no_elr());
  c.start_brokers(3);
  Uuid t = c.create_topic("t", 1, 3);  // [1, 2, 3]
  c.heartbeat(1, true);
  EXPECT_EQ(c.partition(t, 0).leader, 2);
  EXPECT_EQ(c.partition(t, 0).isr, (V{2, 3}));
  c.heartbeat(2, true);
  EXPECT_EQ(c.partition(t, 0).leader, 3);
  c.heartbeat(3, true);
  EXPECT_EQ(c.partition(t, 0).leader, -1);
  EXPECT_EQ(c.partition(t, 0).isr, V{3});
  EXPECT_EQ(c.partition(t, 0).leader_epoch, 3);
  c.heartbeat(1);  // not in the ISR: cannot lead
  EXPECT_EQ(c.partition(t, 0).leader, -1);
  c.heartbeat(3);
  EXPECT_EQ(c.partition(t, 0).leader, 3);
  EXPECT_EQ(c.partition(t, 0).leader_epoch, 4);
  EXPECT_TRUE(c.partition(t, 0).elr.empty());
}

TEST(Elections, BelowMinIsrLeavingReplicasJoinTheElrAndLeadFromIt) {
  TestCluster c;  // ELR on
  c.start_brokers(3);
  Uuid t = c.create_topic("t", 1, 3, {{"min.insync.replicas", "2"}});
  c.heartbeat(1, true);
  EXPECT_EQ(c.partition(t, 0).isr, (V{2, 3}));
  EXPECT_TRUE(c.partition(t, 0).elr.empty());  // still at min ISR
  c.heartbeat(2, true);
  EXPECT_EQ(c.partition(t, 0).isr, V{3});
  EXPECT_EQ(c.partition(t, 0).elr, V{2});
  c.heartbeat(3, true);
  EXPECT_TRUE(c.partition(t, 0).isr.empty());  // with ELR an ISR may empty
  EXPECT_EQ(c.partition(t, 0).elr, (V{2, 3}));
  EXPECT_EQ(c.partition(t, 0).leader, -1);
  c.heartbeat(1);  // neither in the ISR nor in the ELR
  EXPECT_EQ(c.partition(t, 0).leader, -1);
  c.heartbeat(2);
  EXPECT_EQ(c.partition(t, 0).leader, 2);
  EXPECT_EQ(c.partition(t, 0).isr, V{2});
  EXPECT_EQ(c.partition(t, 0).elr, V{3});
  EXPECT_EQ(c.partition(t, 0).leader_recovery_state, 0);
}

TEST(Elections, UncleanElectionOnlyWhenEnabled) {
  for (bool unclean : {false, true}) {
    TestCluster c(no_elr());
    c.start_brokers(3);
    std::vector<std::pair<std::string, std::optional<std::string>>> configs;
    if (unclean) configs.emplace_back("unclean.leader.election.enable", "true");
    Uuid t = c.create_topic("t", 1, 3, configs);
    // Shrink the ISR to the leader, then lose the leader.
    AlterPartitionRequest shrink{
        .broker_id = 1,
        .broker_epoch = c.epoch(1),
        .topics = {{.topic_id = t, .partitions = {{.new_isr = {{1, c.epoch(1)}}}}}}};
    c.apply(alter_partition(c.image, c.config, shrink));
    c.heartbeat(1, true);
    const auto& p = c.partition(t, 0);
    if (unclean) {
      EXPECT_EQ(p.leader, 2);
      EXPECT_EQ(p.isr, V{2});
      EXPECT_EQ(p.leader_recovery_state, 1);
    } else {
      EXPECT_EQ(p.leader, -1);
      EXPECT_EQ(p.isr, V{1});
      EXPECT_EQ(p.leader_recovery_state, 0);
    }
  }
}

TEST(Elections, TheClusterWideBrokerConfigEnablesUncleanElection) {
  TestCluster c(no_elr());
  c.start_brokers(2);
  Uuid t = c.create_topic("t", 1, 2);
  c.set_broker_config("unclean.leader.election.enable", "true");
  EXPECT_TRUE(unclean_leader_election(c.image, c.config, "t"));
  c.apply(alter_partition(c.image, c.config,
                          {.broker_id = 1,
                           .broker_epoch = c.epoch(1),
                           .topics = {{.topic_id = t, .partitions = {{.new_isr = {{1, -1}}}}}}}));
  c.heartbeat(1, true);
  EXPECT_EQ(c.partition(t, 0).leader, 2);
}

TEST(Elections, AnUncleanShutdownLeavesTheElrACleanOneDoesNot) {
  for (bool clean : {false, true}) {
    TestCluster c;
    c.start_brokers(3);
    Uuid t = c.create_topic("t", 1, 3, {{"min.insync.replicas", "2"}});
    c.heartbeat(1, true);
    c.heartbeat(2, true);
    ASSERT_EQ(c.partition(t, 0).elr, V{2});
    int64_t previous = clean ? c.epoch(2) : -1;
    ASSERT_TRUE(c.register_broker(2, 2, previous).error.ok());
    EXPECT_EQ(c.partition(t, 0).elr, clean ? V{2} : V{});
    if (!clean) {
      EXPECT_EQ(c.partition(t, 0).last_known_elr, V{2});
    }
  }
}

TEST(Elections, EveryoneGoneUncleanlyTheLastKnownElrComesBackAsLeader) {
  TestCluster c;
  c.start_brokers(3);
  Uuid t = c.create_topic("t", 1, 3, {{"min.insync.replicas", "2"}});
  c.heartbeat(1, true);  // ISR [2,3]
  c.heartbeat(2, true);  // ISR [3], ELR [2]
  c.heartbeat(3, true);  // ISR [], ELR [2,3]
  ASSERT_EQ(c.partition(t, 0).leader, -1);
  ASSERT_EQ(c.partition(t, 0).elr, (V{2, 3}));
  // Both come back from crashes: neither is eligible any more, both are remembered.
  ASSERT_TRUE(c.register_broker(3, 3, -1).error.ok());
  ASSERT_TRUE(c.register_broker(2, 2, -1).error.ok());
  EXPECT_EQ(c.partition(t, 0).elr, V{});
  EXPECT_EQ(c.partition(t, 0).last_known_elr, (V{2, 3}));
  EXPECT_EQ(c.partition(t, 0).leader, -1);  // registered but fenced: not acceptable yet
  c.heartbeat(3, false);                    // unfenced: the first last-known member back leads
  const auto& p = c.partition(t, 0);
  EXPECT_EQ(p.leader, 3);
  EXPECT_EQ(p.isr, V{3});
  EXPECT_EQ(p.last_known_elr, V{});
  EXPECT_EQ(p.leader_recovery_state, 0);
}

// --- Topics ----------------------------------------------------------------------------------

TEST(CreateTopics, PlacesReplicasStripedOverUsableBrokersFromTheStartIndex) {
  TestCluster c;
  c.start_brokers(4);
  c.heartbeat(3, true);  // fenced: not usable
  CreateTopicsRequest req{.topics = {{.name = "t",
                                      .num_partitions = 4,
                                      .replication_factor = 2,
                                      .configs = {{"retention.ms", "1000"}}}}};
  auto d = create_topics(
      c.image, c.config, req,
      [] {
        return Uuid{5, 5};
      },
      [] { return 1u; });
  ASSERT_EQ(d.records.size(), 6u);
  EXPECT_EQ(std::get<metadata::TopicRecord>(d.records[0]).name, "t");
  std::vector<V> replicas;
  for (int i = 1; i <= 4; ++i) {
    const auto& p = std::get<PartitionRecord>(d.records[i]);
    EXPECT_EQ(p.partition_id, i - 1);
    EXPECT_EQ(p.isr, p.replicas);
    EXPECT_EQ(p.leader, p.replicas.front());
    EXPECT_EQ(p.leader_epoch, 0);
    EXPECT_EQ(p.partition_epoch, 0);
    replicas.push_back(p.replicas);
  }
  EXPECT_EQ(replicas, (std::vector<V>{{2, 4}, {4, 1}, {1, 2}, {2, 4}}));
  EXPECT_EQ(std::get<metadata::ConfigRecord>(d.records[5]).value, "1000");
  EXPECT_EQ(d.answer.at(0).topic_id, (Uuid{5, 5}));
  EXPECT_EQ(d.answer.at(0).replication_factor, 2);
  c.apply(std::move(d));
  EXPECT_EQ(c.image.topic("t")->partitions.size(), 4u);
}

TEST(CreateTopics, DefaultsApplyAndValidateOnlyWritesNothing) {
  ControllerConfig config;
  config.default_num_partitions = 3;
  config.default_replication_factor = 2;
  TestCluster c(config);
  c.start_brokers(2);
  CreateTopicsRequest req{.topics = {{.name = "t"}}, .validate_only = true};
  auto d = create_topics(
      c.image, c.config, req,
      [] {
        return Uuid{5, 5};
      },
      [] { return 0u; });
  EXPECT_TRUE(d.records.empty());
  EXPECT_TRUE(d.answer.at(0).error.ok());
  EXPECT_EQ(d.answer.at(0).num_partitions, 3);
  EXPECT_EQ(d.answer.at(0).replication_factor, 2);
  req.validate_only = false;
  d = create_topics(
      c.image, c.config, req,
      [] {
        return Uuid{5, 5};
      },
      [] { return 0u; });
  EXPECT_EQ(d.records.size(), 4u);
}

TEST(CreateTopics, EachBadTopicIsRefusedAlone) {
  TestCluster c;
  c.start_brokers(3);
  c.create_topic("exists", 1, 1);
  c.heartbeat(3, false, true);  // controlled shutdown of a broker that leads nothing: fenced
  using Configs = std::vector<std::pair<std::string, std::optional<std::string>>>;
  CreateTopicsRequest req{
      .topics = {
          {.name = "ok", .num_partitions = 2, .replication_factor = 2},
          {.name = "bad/name"},
          {.name = "exists"},
          {.name = "zero", .num_partitions = 0},
          {.name = "rf0", .replication_factor = 0},
          {.name = "rf3", .replication_factor = 3},
          {.name = "unknown-key", .configs = Configs{{"no.such.key", "1"}}},
          {.name = "bad-value", .configs = Configs{{"retention.ms", "abc"}}},
          {.name = "bad-bool", .configs = Configs{{"unclean.leader.election.enable", "maybe"}}},
          {.name = "dup"},
          {.name = "dup"},
      }};
  auto d = create_topics(
      c.image, c.config, req,
      [] {
        return Uuid{9, 9};
      },
      [] { return 0u; });
  std::vector<ErrorCode> codes;
  for (const CreatedTopic& t : d.answer) codes.push_back(t.error.code);
  EXPECT_EQ(codes,
            (std::vector<ErrorCode>{
                ErrorCode::none, ErrorCode::invalid_topic_exception,
                ErrorCode::topic_already_exists, ErrorCode::invalid_partitions,
                ErrorCode::invalid_replication_factor, ErrorCode::invalid_replication_factor,
                ErrorCode::invalid_config, ErrorCode::invalid_config, ErrorCode::invalid_config,
                ErrorCode::invalid_request, ErrorCode::invalid_request}));
  EXPECT_EQ(d.answer[5].error.message,
            "Unable to replicate the partition 3 time(s): The target replication factor of 3 "
            "cannot be reached because only 2 broker(s) are registered.");
  c.apply(std::move(d));
  EXPECT_NE(c.image.topic("ok"), nullptr);
  EXPECT_EQ(c.image.topics.size(), 2u);
}

TEST(CreateTopics, ConfigsAreWrittenAndReadBack) {
  TestCluster c;
  c.start_brokers(1);
  c.create_topic("t", 1, 1,
                 {{"min.insync.replicas", "2"}, {"unclean.leader.election.enable", "TRUE"}});
  EXPECT_EQ(min_insync_replicas(c.image, c.config, "t"), 2);
  EXPECT_TRUE(unclean_leader_election(c.image, c.config, "t"));
  EXPECT_EQ(min_insync_replicas(c.image, c.config, "other"), 1);
  c.set_broker_config("min.insync.replicas", "3");
  EXPECT_EQ(min_insync_replicas(c.image, c.config, "other"), 3);
  EXPECT_FALSE(unclean_leader_election(c.image, c.config, "other"));
}

TEST(DeleteTopics, ByNameOrIdWithErrorsForUnknownAndRepeatedTopics) {
  TestCluster c;
  c.start_brokers(1);
  Uuid a = c.create_topic("a", 1, 1);
  Uuid b = c.create_topic("b", 1, 1);
  Uuid d_id = c.create_topic("d", 1, 1);
  auto d = delete_topics(c.image, {{.name = "a"},
                                   {.id = b},
                                   {.name = "nope"},
                                   {.id = Uuid{1, 2}},
                                   {.name = "d"},
                                   {.id = d_id}});
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(std::get<metadata::RemoveTopicRecord>(d.records[0]).topic_id, a);
  EXPECT_EQ(d.answer[1].name, "b");
  EXPECT_EQ(d.answer[2].error.code, ErrorCode::unknown_topic_or_partition);
  EXPECT_EQ(d.answer[3].error.code, ErrorCode::unknown_topic_id);
  EXPECT_EQ(d.answer[4].error.code, ErrorCode::invalid_request);
  EXPECT_EQ(d.answer[5].error.code, ErrorCode::invalid_request);
  c.apply(std::move(d));
  EXPECT_EQ(c.image.topics.size(), 1u);
}

TEST(ProducerIds, BlocksFollowEachOtherAndStaleBrokersAreRefused) {
  TestCluster c;
  c.start_brokers(1);
  ProducerIdBlock a = c.apply(allocate_producer_ids(c.image, 1, c.epoch(1), 1000));
  EXPECT_EQ(a.start, 0);
  EXPECT_EQ(a.length, 1000);
  ProducerIdBlock b = c.apply(allocate_producer_ids(c.image, 1, c.epoch(1), 1000));
  EXPECT_EQ(b.start, 1000);
  EXPECT_EQ(c.image.next_producer_id, 2000);
  auto stale = allocate_producer_ids(c.image, 1, c.epoch(1) - 1, 1000);
  EXPECT_EQ(stale.answer.error.code, ErrorCode::stale_broker_epoch);
  EXPECT_TRUE(stale.records.empty());
  EXPECT_EQ(allocate_producer_ids(c.image, 7, 1, 1000).answer.error.code,
            ErrorCode::stale_broker_epoch);
}

}  // namespace
}  // namespace gregor::controller
