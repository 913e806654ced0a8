// Partition's replication logic as leader and follower, on a simulated disk: the high watermark
// over the ISR, acks=all and min.insync.replicas, ISR shrink and expand proposals (with the
// KAFKA-7128 epoch-start check and its legacy switch), follower fetches past the leader's end,
// the KIP-966 high-watermark hold below min.insync.replicas, and the follower's truncation
// decision (KIP-101 / KIP-279).
#include "node/broker/partition.h"

#include <gtest/gtest.h>

#include "node/broker/replica_fetcher.h"
#include "node/log/log_test_util.h"

namespace gregor::broker {
namespace {

using kafka::ErrorCode;
using log::testing::LogHarness;
using log::testing::make_batch;

PartitionImage image(int32_t leader, int32_t epoch, std::vector<int32_t> isr,
                     int32_t partition_epoch = 0) {
  PartitionImage p;
  p.partition = 0;
  p.leader = leader;
  p.leader_epoch = epoch;
  p.partition_epoch = partition_epoch;
  p.replicas = {1, 2, 3};
  p.isr = std::move(isr);
  return p;
}

class PartitionTest : public ::testing::Test {
 protected:
  explicit PartitionTest(int32_t min_isr = 2) : harness_(log::LogConfig{}) {
    EXPECT_TRUE(harness_.open().ok());
    TopicConfig config;
    config.min_insync_replicas = min_isr;
    partition_ = std::make_unique<Partition>("t", 0, harness_.release(), config, /*broker_id=*/1);
  }
  ~PartitionTest() override { partition_.reset(); }

  // Appends one record as leader; returns the outcome once answered (nullopt: still pending).
  std::optional<AppendOutcome>* append(int16_t acks, Duration timeout = seconds(30)) {
    outcomes_.push_back(std::make_unique<std::optional<AppendOutcome>>());
    auto* slot = outcomes_.back().get();
    int64_t before = partition_->log().log_end_offset();
    partition_->append(make_batch(static_cast<int>(outcomes_.size()), 1), acks, timeout,
                       [slot](AppendOutcome o) { *slot = o; });
    harness_.run_until(
        [&] { return slot->has_value() || partition_->log().log_end_offset() > before; });
    return slot;
  }
  // Lets the leader epoch's assignment (queued behind the log's operations) land.
  void settle(int32_t epoch) {
    harness_.run_until([&] { return partition_->log().epochs().start_offset(epoch).has_value(); });
  }
  void advance(Duration d) {
    MonoTime until = harness_.world().now() + d;
    harness_.world().run_until([] { return false; }, until);
  }

  LogHarness harness_;
  std::unique_ptr<Partition> partition_;
  std::vector<std::unique_ptr<std::optional<AppendOutcome>>> outcomes_;
};

TEST_F(PartitionTest, HighWatermarkIsTheSmallestLogEndOfTheIsr) {
  partition_->become_leader(image(1, 5, {1, 2, 3}));
  append(1);
  append(1);
  ASSERT_EQ(partition_->log().log_end_offset(), 2);
  EXPECT_EQ(partition_->high_watermark(), 0);  // followers' log ends unknown
  EXPECT_EQ(partition_->record_follower_fetch(2, 10, 2), ErrorCode::none);
  EXPECT_EQ(partition_->high_watermark(), 0);  // 3 still unknown
  EXPECT_EQ(partition_->record_follower_fetch(3, 11, 1), ErrorCode::none);
  EXPECT_EQ(partition_->high_watermark(), 1);
  EXPECT_EQ(partition_->record_follower_fetch(3, 11, 2), ErrorCode::none);
  EXPECT_EQ(partition_->high_watermark(), 2);
}

TEST_F(PartitionTest, AcksAllWaitsForTheIsrAndChecksMinInsyncReplicas) {
  partition_->become_leader(image(1, 5, {1, 2, 3}));
  auto* a = append(-1);
  EXPECT_FALSE(a->has_value());  // not replicated yet
  partition_->record_follower_fetch(2, 10, 1);
  EXPECT_FALSE(a->has_value());
  partition_->record_follower_fetch(3, 11, 1);
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->error, ErrorCode::none);
  EXPECT_EQ((*a)->base_offset, 0);

  // An ISR below min.insync.replicas refuses acks=all before appending...
  partition_->update_isr(image(1, 5, {1}, 1));
  auto* refused = append(-1);
  ASSERT_TRUE(refused->has_value());
  EXPECT_EQ((*refused)->error, ErrorCode::not_enough_replicas);
  EXPECT_EQ(partition_->log().log_end_offset(), 1);
  // ...while acks=1 is answered once the leader has it.
  auto* one = append(1);
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->error, ErrorCode::none);
}

TEST_F(PartitionTest, AnIsrThatShrankMeanwhileIsNotEnoughReplicasAfterAppend) {
  partition_->become_leader(image(1, 5, {1, 2}));
  auto* a = append(-1);
  ASSERT_FALSE(a->has_value());
  // The ISR shrinks to the leader alone (committed by the controller), which covers the batch.
  partition_->update_isr(image(1, 5, {1}, 1));
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->error, ErrorCode::not_enough_replicas_after_append);
}

// KIP-966 (KAFKA-15583): an ISR smaller than min.insync.replicas holds the high watermark, so a
// consumer never reads a record that only the leader has (an ELR member, elected next, lacks
// it); standard.toml seed 136 read such records, saw them truncated and restarted from offset 0.
TEST_F(PartitionTest, AnIsrBelowMinInsyncReplicasHoldsTheHighWatermark) {
  partition_->become_leader(image(1, 5, {1, 2}));
  append(1);
  partition_->record_follower_fetch(2, 10, 1);
  ASSERT_EQ(partition_->high_watermark(), 1);
  partition_->update_isr(image(1, 5, {1}, 1));
  append(1);
  append(1);
  EXPECT_EQ(partition_->log().log_end_offset(), 3);
  EXPECT_EQ(partition_->high_watermark(), 1);  // the leader alone: held
  // The follower catches up and rejoins: the ISR has 2 members again, and the mark moves.
  partition_->record_follower_fetch(2, 10, 3);
  EXPECT_EQ(partition_->high_watermark(), 1);
  partition_->update_isr(image(1, 5, {1, 2}, 2));
  EXPECT_EQ(partition_->high_watermark(), 3);
}

TEST_F(PartitionTest, WithoutElrTheLeaderAloneMovesTheHighWatermark) {
  partition_->set_high_watermark_needs_min_isr(false);  // legacy.eligible.leader.replicas.disable
  partition_->become_leader(image(1, 5, {1}));
  append(1);
  append(1);
  EXPECT_EQ(partition_->high_watermark(), 2);
}

TEST_F(PartitionTest, AcksAllTimesOutAndLosingLeadershipAnswersPendingAppends) {
  partition_->become_leader(image(1, 5, {1, 2, 3}));
  auto* slow = append(-1, milliseconds(100));
  auto* other = append(-1, seconds(30));
  advance(milliseconds(200));
  ASSERT_TRUE(slow->has_value());
  EXPECT_EQ((*slow)->error, ErrorCode::request_timed_out);
  EXPECT_FALSE(other->has_value());
  partition_->become_follower(image(2, 6, {2, 3}));
  ASSERT_TRUE(other->has_value());
  EXPECT_EQ((*other)->error, ErrorCode::not_leader_or_follower);
}

TEST_F(PartitionTest, AFollowerPastTheLeadersEndIsRefusedAndNotCounted) {
  partition_->become_leader(image(1, 5, {1, 2}));
  append(1);
  EXPECT_EQ(partition_->record_follower_fetch(2, 10, 7), ErrorCode::offset_out_of_range);
  EXPECT_EQ(partition_->high_watermark(), 0);
  EXPECT_EQ(partition_->record_follower_fetch(4, 10, 0), ErrorCode::not_leader_or_follower);
}

TEST_F(PartitionTest, IsrShrinksAfterTheLagTimeAndOneChangeIsInFlightAtATime) {
  ReplicationConfig config;
  config.lag_time_max = seconds(2);
  partition_->become_leader(image(1, 5, {1, 2, 3}));
  append(1);
  partition_->record_follower_fetch(2, 10, 1);
  partition_->record_follower_fetch(3, 11, 1);
  EXPECT_FALSE(partition_->isr_change_wanted(config, std::nullopt));
  append(1);
  advance(seconds(1));
  partition_->record_follower_fetch(2, 10, 2);  // 2 keeps up, 3 does not fetch again
  advance(milliseconds(1500));
  auto wanted = partition_->isr_change_wanted(config, std::nullopt);
  ASSERT_TRUE(wanted);
  EXPECT_EQ(*wanted, (std::vector<int32_t>{1, 2}));
  partition_->isr_change_sent(*wanted);
  EXPECT_FALSE(partition_->isr_change_wanted(config, std::nullopt));  // in flight
  // Still counted (maximal ISR) until the controller answers: the high watermark waits for 3.
  EXPECT_EQ(partition_->high_watermark(), 1);
  partition_->isr_change_answered(image(1, 5, {1, 2}, 1));
  EXPECT_EQ(partition_->isr(), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(partition_->partition_epoch(), 1);
  EXPECT_EQ(partition_->high_watermark(), 2);
}

TEST_F(PartitionTest, ARefusedChangeBacksOff) {
  ReplicationConfig config;
  config.lag_time_max = seconds(1);
  partition_->become_leader(image(1, 5, {1, 2, 3}));
  advance(seconds(2));
  auto wanted = partition_->isr_change_wanted(config, std::nullopt);
  ASSERT_TRUE(wanted);
  partition_->isr_change_sent(*wanted);
  partition_->isr_change_answered(std::nullopt);
  EXPECT_FALSE(partition_->isr_change_wanted(config, std::nullopt));
  advance(kIsrChangeRetryBackoff);
  EXPECT_TRUE(partition_->isr_change_wanted(config, std::nullopt));
}

// KAFKA-7128: a follower rejoins the ISR only once it reached both the high watermark and the
// start of the leader's current epoch.
TEST_F(PartitionTest, ExpansionWaitsForTheHighWatermarkAndTheEpochStart) {
  partition_->become_leader(image(1, 3, {1, 2, 3}));
  append(1);
  append(1);
  partition_->record_follower_fetch(2, 10, 2);
  partition_->record_follower_fetch(3, 11, 2);
  ASSERT_EQ(partition_->high_watermark(), 2);
  // A new epoch starts at offset 2 with the ISR {1, 2}; the high watermark stays 2.
  partition_->become_leader(image(1, 4, {1, 2}, 1));
  settle(4);
  ASSERT_EQ(partition_->log().epochs().start_offset(4), 2);
  append(1);  // offset 2, epoch 4
  partition_->record_follower_fetch(2, 10, 3);
  ASSERT_EQ(partition_->high_watermark(), 3);
  // Follower 3 fetches at 2: below the high watermark (3), nothing to propose.
  partition_->record_follower_fetch(3, 11, 2);
  ReplicationConfig fixed;
  EXPECT_FALSE(partition_->isr_change_wanted(fixed, 3));
  partition_->record_follower_fetch(3, 11, 3);
  EXPECT_FALSE(partition_->isr_change_wanted(fixed, std::nullopt));  // judged on fetches only
  EXPECT_FALSE(partition_->isr_change_wanted(fixed, 2));             // not the one at the hw
  auto wanted = partition_->isr_change_wanted(fixed, 3);
  ASSERT_TRUE(wanted);
  EXPECT_EQ(*wanted, (std::vector<int32_t>{1, 2, 3}));
}

TEST_F(PartitionTest, TheEpochStartCheckHoldsBackAFollowerAtAnOldHighWatermark) {
  partition_->become_leader(image(1, 3, {1, 2}));
  append(1);
  append(1);                                    // leo 2 in epoch 3
  partition_->record_follower_fetch(2, 10, 1);  // 2 holds offset 0 only: hw 1
  ASSERT_EQ(partition_->high_watermark(), 1);
  // Epoch 4 starts at the log end (2), above the high watermark (1).
  partition_->become_leader(image(1, 4, {1, 2}, 1));
  settle(4);
  ASSERT_EQ(partition_->log().epochs().start_offset(4), 2);
  // Follower 3 is at the high watermark but below the epoch's start: the record at offset 1 it
  // lacks (or holds diverged) was written before this epoch.
  partition_->record_follower_fetch(3, 11, 1);
  ReplicationConfig fixed, legacy;
  legacy.isr_expand_without_epoch_start = true;
  EXPECT_FALSE(partition_->isr_change_wanted(fixed, 3));
  auto wanted = partition_->isr_change_wanted(legacy, 3);  // KAFKA-7128: in it goes
  ASSERT_TRUE(wanted);
  EXPECT_EQ(*wanted, (std::vector<int32_t>{1, 2, 3}));
}

TEST_F(PartitionTest, AFollowerAppliesTheLeadersHighWatermarkButNeverMovesItBack) {
  partition_->become_follower(image(2, 5, {1, 2, 3}));
  // Batches as the leader wrote them: build them with a second log acting as leader.
  LogHarness leader(log::LogConfig{}, 2, "leader-0");
  ASSERT_TRUE(leader.open().ok());
  leader.append(make_batch(1, 2), 5);
  leader.append(make_batch(2, 1), 5);
  Bytes records = leader.read_all(0);
  std::optional<Status> done;
  partition_->append_from_leader(records, 2, [&](const Status& s) { done = s; });
  harness_.run_until([&] { return done.has_value(); });
  ASSERT_TRUE(done && done->ok());
  EXPECT_EQ(partition_->log().log_end_offset(), 3);
  EXPECT_EQ(partition_->high_watermark(), 2);
  partition_->apply_leader_high_watermark(1);  // a new leader that starts lower
  EXPECT_EQ(partition_->high_watermark(), 2);
  partition_->apply_leader_high_watermark(9);  // never past its own log end
  EXPECT_EQ(partition_->high_watermark(), 3);
}

// --- The follower's truncation decision (KIP-101, KIP-279) -------------------------------------

log::LeaderEpochCache cache(std::vector<log::EpochEntry> entries) {
  log::LeaderEpochCache c;
  for (auto e : entries) c.assign(e.epoch, e.start_offset);
  return c;
}

TEST(TruncationFor, KafkasCases) {
  // Follower: epoch 1 from 0, epoch 2 from 10, epoch 3 from 20; log end 25, high watermark 12.
  auto local = cache({{1, 0}, {2, 10}, {3, 20}});
  // The leader holds epoch 3 up to 22: cut there.
  EXPECT_EQ(truncation_for(3, 22, local, 25, 12).offset, 22);
  EXPECT_TRUE(truncation_for(3, 22, local, 25, 12).complete);
  // The leader's answer is past the follower's end: nothing to cut.
  EXPECT_EQ(truncation_for(3, 40, local, 25, 12).offset, 25);
  // KIP-279: the leader's largest epoch <= 3 is 2, ending at 18 there; the follower's epoch 2
  // ends at 20: cut at min(18, 20).
  EXPECT_EQ(truncation_for(2, 18, local, 25, 12).offset, 18);
  EXPECT_TRUE(truncation_for(2, 18, local, 25, 12).complete);
  // The leader answers an epoch the follower never had (it has 1, 2, 3; the leader says 0 is
  // the largest it holds <= asked... the follower's largest below it): ask again from there.
  auto gap = cache({{1, 0}, {4, 10}});
  TruncationStep step = truncation_for(2, 15, gap, 14, 5);
  EXPECT_FALSE(step.complete);
  EXPECT_EQ(step.offset, 10);  // the end of the follower's epoch 1
  // A leader with no epoch information: the high watermark (KIP-101's fallback).
  EXPECT_EQ(truncation_for(log::kUndefinedEpoch, log::kUndefinedEpochOffset, local, 25, 12).offset,
            12);
  // A pre-KIP-279 answer (an end offset, no epoch): taken as it is, bounded by the log end.
  EXPECT_EQ(truncation_for(log::kUndefinedEpoch, 21, local, 25, 12).offset, 21);
  EXPECT_TRUE(truncation_for(log::kUndefinedEpoch, 21, local, 25, 12).complete);
}

}  // namespace
}  // namespace gregor::broker
