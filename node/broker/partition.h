// Partition: one partition replica hosted by this broker: its log, its role and leader epoch, the
// ISR and the high watermark (Kafka's Partition).
//
// As leader it tracks each follower's log end offset (from the offsets its fetches ask for) and
// when it last caught up; the high watermark is the smallest log end offset of the ISR (the
// maximal ISR while an ISR change is in flight, so a shrink never lets it jump ahead of a member
// still counted). acks=all appends complete once the high watermark passes them. It proposes ISR
// changes (isr_change_wanted) that the caller sends to the controller with AlterPartition.
//
// As follower it appends what the leader sends, as it is, truncates where the logs diverge, and
// takes min(leader's high watermark, its own log end) as its high watermark, never moving it
// back (a new leader may start with an older high watermark than its followers hold).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "node/broker/bug_switches.h"
#include "node/broker/metadata_image.h"
#include "node/broker/replication_config.h"
#include "node/broker/topic_config.h"
#include "node/kafka/error_code.h"
#include "node/log/log.h"

namespace gregor::broker {

struct AppendOutcome {
  kafka::ErrorCode error = kafka::ErrorCode::none;
  std::string message;  // detail for the broker log when error != none
  int64_t base_offset = -1;
  int64_t log_append_time = -1;
  int64_t log_start_offset = -1;
};

struct FetchOutcome {
  kafka::ErrorCode error = kafka::ErrorCode::none;
  ReadBuffer records;  // whole batches, all below the bound (high watermark, or log end)
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
};

// The leader's view of one follower (Kafka's ReplicaState).
struct FollowerState {
  int64_t log_end_offset = -1;  // -1: unknown (no fetch since this broker became leader)
  int64_t broker_epoch = -1;    // of the follower's last fetch (KIP-903)
  MonoTime last_caught_up{};
  MonoTime last_fetch{};
  int64_t leader_end_at_last_fetch = -1;
};

// After a refused or failed ISR change, the leader proposes none for this long (a follower the
// controller finds ineligible would otherwise be proposed at each of its fetches).
inline constexpr Duration kIsrChangeRetryBackoff = milliseconds(500);
// Appends tracked above the high watermark for the bytes a high-watermark move makes readable;
// past this the oldest entries merge (the count stays right, the split between moves coarsens).
inline constexpr size_t kAboveHwEntriesMax = 1024;

// What the new-data callback reports: the log end moved (wakes follower fetches) or the high
// watermark did (wakes consumer fetches).
enum class DataEvent { appended, high_watermark };

class Partition {
 public:
  Partition(std::string topic, int32_t index, std::unique_ptr<log::Log> log, TopicConfig config,
            int32_t broker_id);
  ~Partition();

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  log::Log& log() { return *log_; }
  const TopicConfig& config() const { return config_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  int32_t partition_epoch() const { return partition_epoch_; }
  int32_t leader_id() const { return leader_id_; }
  const std::vector<int32_t>& replicas() const { return replicas_; }
  const std::vector<int32_t>& isr() const { return isr_; }
  int64_t high_watermark() const { return log_->high_watermark(); }
  bool is_leader() const { return leader_; }
  const std::map<int32_t, FollowerState>& followers() const { return followers_; }

  // --- Role changes, from the metadata image ---
  // Takes leadership at p.leader_epoch. The current epoch starts at the log end in the epoch
  // cache (so OffsetsForLeaderEpoch answers it before anything is appended); followers' log
  // ends are unknown until they fetch.
  void become_leader(const PartitionImage& p);
  // A follower of p.leader (-1: no leader; nothing to fetch from). Pending acks=all appends are
  // answered NOT_LEADER_OR_FOLLOWER.
  void become_follower(const PartitionImage& p);
  // Same leader and epoch, a newer partition epoch (an ISR change committed by the controller).
  void update_isr(const PartitionImage& p);
  // KIP-966 (KAFKA-15583): as leader, the high watermark advances only while the committed ISR
  // has min(min.insync.replicas, replicas) members. The controller's eligible leader replicas
  // are the members that left an ISR of that size, so they hold everything below the high
  // watermark; a high watermark raised by a smaller ISR would expose records an ELR leader
  // lacks. Off with legacy.eligible.leader.replicas.disable (the ELR election is off too).
  void set_high_watermark_needs_min_isr(bool on) { hw_needs_min_isr_ = on; }

  // --- Leader ---
  // Appends a producer's record set. acks=-1 needs the ISR to have min.insync.replicas members
  // (NOT_ENOUGH_REPLICAS) and completes once the high watermark covers it
  // (NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below it meanwhile; REQUEST_TIMED_OUT
  // after `timeout`).
  void append(Bytes records, int16_t acks, Duration timeout,
              std::function<void(AppendOutcome)> done);
  // A follower's fetch at `fetch_offset` (its log end): records its state, may move the high
  // watermark. NOT_LEADER_OR_FOLLOWER when not leader; UNKNOWN... when `replica` is not assigned.
  kafka::ErrorCode record_follower_fetch(int32_t replica, int64_t broker_epoch,
                                         int64_t fetch_offset);
  // The ISR the leader wants now (shrink: members that have not caught up for lag_time_max;
  // expand, when `fetched` names the follower that just fetched: it, if it is at the high
  // watermark and at the start of this leader epoch), or nullopt. Expansion is judged on a
  // fetch only, as Kafka's: a cut-off follower's last known log end may still reach an idle
  // high watermark, and proposing it back would flap the ISR. One change in flight at a time.
  std::optional<std::vector<int32_t>> isr_change_wanted(const ReplicationConfig& config,
                                                        std::optional<int32_t> fetched);
  // The change is being sent: counted in the maximal ISR until answered.
  void isr_change_sent(std::vector<int32_t> isr);
  // The controller's answer (nullopt: failed, or refused); applied when it is newer.
  void isr_change_answered(std::optional<PartitionImage> result);
  bool isr_change_pending() const { return pending_isr_.has_value(); }

  // --- Reads ---
  // Whole batches from `offset` for a consumer, never past the high watermark. An offset below
  // the log start or past the log end is OFFSET_OUT_OF_RANGE; between the high watermark and the
  // log end it is an empty answer (a consumer that read to an old leader's high watermark).
  void read(int64_t offset, size_t max_bytes, std::function<void(FetchOutcome)> done);
  // Whole batches from `offset` for a follower, up to the log end.
  void read_for_follower(int64_t offset, size_t max_bytes, std::function<void(FetchOutcome)> done);

  // --- Follower ---
  // Appends batches fetched from the leader, then applies its high watermark.
  void append_from_leader(Bytes records, int64_t leader_high_watermark,
                          std::function<void(const Status&)> done);
  // Moves the high watermark to min(leader's, log end) if that is above the current one.
  void apply_leader_high_watermark(int64_t leader_high_watermark);
  // Truncates the log to `offset` (divergence with the leader); the high watermark follows down.
  void truncate_to(int64_t offset, std::function<void(const Status&)> done);

  // Writes a "replica.state" trace line (docs/history-format.md) if role, epoch, log end, high
  // watermark, log start or ISR changed since the last one. Called after each change this class
  // makes; callers that change the log behind its back (retention) call it too.
  void trace_state();

  // The broker's bug switches (simulation only; the replica manager sets them at open).
  void set_bugs(const BugSwitches& bugs) { bugs_ = bugs; }

  // Called (synchronously) after the log end or the high watermark advanced, with the bytes.
  void set_on_new_data(std::function<void(Partition&, size_t bytes, DataEvent)> f) {
    on_new_data_ = std::move(f);
  }

 private:
  struct PendingAck {
    int64_t required_offset;  // the high watermark that covers the batch
    AppendOutcome outcome;
    std::function<void(AppendOutcome)> done;
    TimerId timer = kNoTimer;
  };
  void append_acking_first(Bytes records, std::function<void(AppendOutcome)> done);
  void set_roles(const PartitionImage& p);
  // The maximal ISR: the committed one plus members of an expansion in flight.
  std::vector<int32_t> maximal_isr() const;
  // set_high_watermark_needs_min_isr's rule holds the high watermark now.
  bool high_watermark_held() const;
  // Leader: recomputes the high watermark; completes acks=all appends it now covers.
  void maybe_advance_high_watermark();
  void raise_high_watermark(int64_t hw);
  void complete_acks(bool all, kafka::ErrorCode error);
  void notify(size_t bytes, DataEvent event);
  // Bytes appended above the high watermark, by end offset: a high-watermark event reports the
  // bytes it made readable (a consumer's min_bytes counts them).
  void note_appended(int64_t end_offset, size_t bytes);
  size_t take_readable_bytes(int64_t high_watermark);

  std::string topic_;
  int32_t index_;
  std::unique_ptr<log::Log> log_;
  TopicConfig config_;
  int32_t broker_id_;
  int32_t leader_epoch_ = 0;
  int32_t partition_epoch_ = 0;
  int32_t leader_id_ = -1;
  bool leader_ = false;
  std::vector<int32_t> replicas_;
  std::vector<int32_t> isr_;
  std::optional<std::vector<int32_t>> pending_isr_;  // an AlterPartition in flight
  bool hw_needs_min_isr_ = true;                     // set_high_watermark_needs_min_isr
  MonoTime isr_retry_after_{};                       // kIsrChangeRetryBackoff after a refusal
  std::map<int32_t, FollowerState> followers_;       // leader only
  std::map<uint64_t, PendingAck> pending_acks_;      // by submission order
  uint64_t next_ack_id_ = 0;
  std::deque<std::pair<int64_t, size_t>> above_hw_bytes_;  // bounded: kAboveHwEntriesMax
  std::function<void(Partition&, size_t bytes, DataEvent)> on_new_data_;
  BugSwitches bugs_;
  int64_t predicted_end_offset_ = 0;  // ack_before_append: the end once submissions land
  // The state of the last replica.state line: epoch, log end, high watermark, log start.
  std::array<int64_t, 4> traced_{-1, -1, -1, -1};
  std::vector<int32_t> traced_isr_;
  bool traced_leader_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The Kafka error for a failed log read or seam operation.
kafka::ErrorCode error_for(const Status& status);

}  // namespace gregor::broker
