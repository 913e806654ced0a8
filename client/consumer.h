// Consumer: Gregor's Kafka consumer on the Env seam, with manual assignment (Kafka's
// KafkaConsumer.assign; consumer groups come with the group coordinator).
//
// Positions: each assigned partition has a position, the offset of the next record poll() hands
// out. A freshly assigned partition has none until seek() sets it, or until poll() resolves it
// with ListOffsets as auto_offset_reset says (earliest or latest; none makes poll() fail with
// Errc::not_found, Kafka's NoOffsetForPartitionException). seek_to_beginning and seek_to_end are
// resolved the same way, lazily, at the next poll().
//
// Fetching: while a poll() waits, every leader with assigned partitions whose buffer is empty gets
// one Fetch (fetch_min_bytes, fetch_max_wait_ms, fetch_max_bytes, max_partition_fetch_bytes,
// isolation_level) at a time. Answers are decoded batch by batch, any codec, CRCs checked;
// control batches and records below the fetch position (the front of a batch the fetch landed in
// the middle of) are skipped, and the position moves past compacted gaps. OFFSET_OUT_OF_RANGE
// resets the position by auto_offset_reset, or with `none` fails poll() with Errc::out_of_range
// until the partition is seeked. NOT_LEADER_OR_FOLLOWER and its kin refresh the metadata and
// retry after retry_backoff_ms. A corrupt batch fails poll() with Errc::corrupt and stops the
// partition until it is seeked (Kafka's rule: the user decides whether to skip).
//
// Callbacks run later from the event loop, never inside the call that registered them, and never
// after close() or destruction. One poll() at a time.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "client/client_types.h"
#include "client/metadata.h"
#include "node/log/record_batch.h"

namespace gregor::client {

enum class IsolationLevel : int8_t { read_uncommitted = 0, read_committed = 1 };
enum class OffsetReset : uint8_t { earliest, latest, none };

// ListOffsets' special timestamps.
inline constexpr int64_t kLatestTimestamp = -1;
inline constexpr int64_t kEarliestTimestamp = -2;

struct ConsumerConfig : CommonConfig {
  ConsumerConfig() { client_id = "gregor-consumer"; }
  int32_t fetch_min_bytes = 1;
  Duration fetch_max_wait_ms = milliseconds(500);
  int32_t fetch_max_bytes = 52428800;
  int32_t max_partition_fetch_bytes = 1048576;
  IsolationLevel isolation_level = IsolationLevel::read_uncommitted;
  OffsetReset auto_offset_reset = OffsetReset::latest;
  size_t max_poll_records = 500;
  Duration default_api_timeout_ms = milliseconds(60000);  // list_offsets as a whole
};

Status validate(const ConsumerConfig& config);

struct ConsumerRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;
  log::TimestampType timestamp_type = log::TimestampType::create_time;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<log::Header> headers;
};

struct ConsumerCounters {
  uint64_t fetches = 0;
  uint64_t records = 0;  // handed out by poll()
  uint64_t batches = 0;  // decoded
  uint64_t offset_resets = 0;
  uint64_t list_offsets = 0;
};

class Consumer {
 public:
  using PollFn = std::function<void(Result<std::vector<ConsumerRecord>>)>;
  using OffsetsFn = std::function<void(Result<std::map<TopicPartition, int64_t>>)>;

  // The config must pass validate() (asserted).
  Consumer(Env& env, ConsumerConfig config);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Replaces the assignment. Partitions kept keep their position; buffered records of dropped
  // ones are discarded.
  void assign(std::vector<TopicPartition> partitions);
  std::vector<TopicPartition> assignment() const;
  // Errc::invalid_argument for a partition not assigned or a negative offset.
  Status seek(const TopicPartition& tp, int64_t offset);
  // Empty: every assigned partition.
  void seek_to_beginning(const std::vector<TopicPartition>& partitions = {});
  void seek_to_end(const std::vector<TopicPartition>& partitions = {});
  // The next offset poll() returns for tp; nullopt while unknown (or not assigned).
  std::optional<int64_t> position(const TopicPartition& tp) const;
  // The high watermark of the last fetch of tp (consumer lag = it - position).
  std::optional<int64_t> high_watermark(const TopicPartition& tp) const;

  // Records from the assigned partitions: at once if some are buffered, else when a fetch brings
  // some, else an empty vector after `timeout`. Errors as the header says.
  void poll(Duration timeout, PollFn done);

  // ListOffsets for any partitions (assigned or not): the offset of the first record with
  // timestamp >= `timestamp`, or kEarliestTimestamp / kLatestTimestamp (log start / high
  // watermark). Kafka's answer for no such record is -1. Retries retriable errors until
  // default_api_timeout_ms.
  void list_offsets(std::vector<TopicPartition> partitions, int64_t timestamp, OffsetsFn done);
  void beginning_offsets(std::vector<TopicPartition> partitions, OffsetsFn done) {
    list_offsets(std::move(partitions), kEarliestTimestamp, std::move(done));
  }
  void end_offsets(std::vector<TopicPartition> partitions, OffsetsFn done) {
    list_offsets(std::move(partitions), kLatestTimestamp, std::move(done));
  }

  // Ends every connection; a waiting poll's callback never runs.
  void close();
  const ConsumerCounters& counters() const { return counters_; }
  MetadataClient& metadata() { return metadata_; }

 private:
  struct PartitionState {
    std::optional<int64_t> position;        // next offset to hand out
    std::optional<int64_t> fetch_position;  // next offset to fetch (position + buffered)
    std::optional<OffsetReset> pending_reset;
    bool reset_in_flight = false;
    bool fetch_in_flight = false;
    std::optional<Status> error;  // reported by the next poll
    bool stopped = false;         // until seek(): out of range with `none`, or corrupt data
    std::deque<ConsumerRecord> buffered;
    std::optional<int64_t> high_watermark;
    MonoTime backoff_until{};
    uint64_t epoch = 0;  // renewed by seek and by a new assignment: stale answers are dropped
  };
  struct OffsetsLookup;

  // consumer.cc
  void schedule_pump();
  void pump();
  void resolve_positions(MonoTime now);
  void try_complete_poll();
  void finish_poll(Result<std::vector<ConsumerRecord>> result);
  void lookup_offsets(std::shared_ptr<OffsetsLookup> lookup);
  void send_list_offsets(std::shared_ptr<OffsetsLookup> lookup, int32_t node,
                         std::vector<TopicPartition> partitions);
  void set_position(const TopicPartition& tp, int64_t offset);
  void reset_positions(const std::vector<TopicPartition>& partitions, OffsetReset reset);

  // consumer_fetch.cc
  void send_fetches(MonoTime now);
  void on_fetch(int32_t node, std::map<TopicPartition, uint64_t> epochs,
                Result<kafka::FetchResponse> resp);
  void on_partition_data(const TopicPartition& tp, PartitionState& ps,
                         const kafka::FetchResponse::PartitionData& data);
  Status decode_into(const TopicPartition& tp, PartitionState& ps, ByteView records);
  void schedule_wake(MonoTime now);

  Env& env_;
  ConsumerConfig config_;
  MetadataClient metadata_;
  std::map<TopicPartition, PartitionState> partitions_;
  std::map<int32_t, bool> fetch_in_flight_;  // node -> a Fetch is out
  uint64_t epochs_ = 0;                      // the last PartitionState::epoch handed out
  PollFn poll_;
  TimerId poll_timer_ = kNoTimer;
  bool pump_scheduled_ = false;
  TimerId wake_timer_ = kNoTimer;
  ConsumerCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::client
