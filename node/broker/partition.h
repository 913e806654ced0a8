// Partition: one partition replica hosted by this broker: its log, its role and leader epoch, and
// the high watermark. Today every partition has one replica (this broker, leader of it, alone in
// its ISR), so the high watermark follows the log end as soon as an append completes; the
// replication issue adds followers, ISR tracking and fetch-driven high-watermark advances here.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "node/broker/bug_switches.h"
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
  ReadBuffer records;  // whole batches, all below the high watermark
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
};

class Partition {
 public:
  Partition(std::string topic, int32_t index, std::unique_ptr<log::Log> log, TopicConfig config,
            int32_t broker_id);

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  log::Log& log() { return *log_; }
  const TopicConfig& config() const { return config_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  const std::vector<int32_t>& isr() const { return isr_; }
  int64_t high_watermark() const { return log_->high_watermark(); }

  // Takes leadership at `epoch` (from the metadata image).
  void become_leader(int32_t epoch, std::vector<int32_t> isr);
  // Gives it up (the image names another leader, or none): produce and fetch are answered
  // NOT_LEADER_OR_FOLLOWER until this broker leads again. Replication from the new leader is
  // partition replication's business (not yet: replication factor 1).
  void stop_leading(int32_t epoch);
  bool is_leader() const { return leader_; }

  // Appends a producer's record set as leader. `acks` is -1, 0 or 1 (checked by the caller).
  // acks=-1 needs the ISR to have min.insync.replicas members. on_new_data runs after the high
  // watermark moved.
  void append(Bytes records, int16_t acks, std::function<void(AppendOutcome)> done);

  // Reads whole batches for a consumer from `offset`, never past the high watermark. An offset
  // outside [log start, high watermark] is OFFSET_OUT_OF_RANGE (Kafka's consumer rule).
  void read(int64_t offset, size_t max_bytes, std::function<void(FetchOutcome)> done);

  // Writes a "replica.state" trace line (docs/history-format.md) if role, epoch, log end, high
  // watermark, log start or ISR changed since the last one. Called after each change this class
  // makes; callers that change the log behind its back (retention) call it too.
  void trace_state();

  // The broker's bug switches (simulation only; the replica manager sets them at open).
  void set_bugs(const BugSwitches& bugs) { bugs_ = bugs; }

  // Called (synchronously) after every advance of the high watermark, with the bytes that became
  // readable.
  void set_on_new_data(std::function<void(Partition&, size_t bytes)> f) {
    on_new_data_ = std::move(f);
  }

 private:
  void append_acking_first(Bytes records, std::function<void(AppendOutcome)> done);

  std::string topic_;
  int32_t index_;
  std::unique_ptr<log::Log> log_;
  TopicConfig config_;
  int32_t broker_id_;
  int32_t leader_epoch_ = 0;
  bool leader_ = false;
  std::vector<int32_t> isr_;
  std::function<void(Partition&, size_t bytes)> on_new_data_;
  BugSwitches bugs_;
  int64_t predicted_end_offset_ = 0;  // ack_before_append: the end once submissions land
  // The state of the last replica.state line: epoch, log end, high watermark, log start.
  std::array<int64_t, 4> traced_{-1, -1, -1, -1};
  std::vector<int32_t> traced_isr_;
  bool traced_leader_ = false;
};

// The Kafka error for a failed log read or seam operation.
kafka::ErrorCode error_for(const Status& status);

}  // namespace gregor::broker
