// Producer: Gregor's Kafka producer on the Env seam, shaped like Kafka's Java KafkaProducer.
//
// send() appends a record to a batch of its partition (chosen by the partitioner when the record
// names none, once the topic's metadata is known). A batch is sent when it is full (batch_size),
// when it has waited linger_ms, or at flush()/close(). Each Produce request carries at most one
// batch per partition, and at most max_in_flight_requests_per_connection requests are in flight
// to a broker. Retriable errors (is_retriable, connection loss, request timeouts) send the batch
// again after retry_backoff_ms, up to `retries` times and never past delivery_timeout_ms from
// send(); anything else fails the batch's records.
//
// Idempotence (enable_idempotence): the producer gets a producer id (InitProducerId) and numbers
// each partition's batches; the broker drops a retried batch it already has and answers with the
// original offsets, so a record is written at most once however often it is sent. Order within a
// partition is kept across retries: a retried batch goes back in sequence order and waits until
// nothing of its partition is in flight. OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID are
// retried while an earlier batch of the partition is itself being retried (the broker refused the
// batch only because its predecessor is missing). Otherwise the partition's numbering is broken
// (the broker lost the producer's state, say, with a deleted and recreated topic): the partition
// takes a new producer id and numbers its unacknowledged batches afresh from 0, except batches an
// earlier attempt may have written (renumbering those could write them twice), which fail as
// indefinite. A batch that fails for good breaks the numbering the same way. (Kafka bumps the
// epoch instead; Gregor's broker serves InitProducerId v0-1, which cannot.)
//
// Delivery reports: every record's callback runs exactly once, later, from the event loop (never
// inside send()), in send order within a partition. A failure says whether the record may still
// be in the log (`indefinite`: it was sent and no answer settled it, the "unknown" of a history)
// or certainly is not. Records are never reported after the producer is destroyed.
//
// Limits: buffer_memory bytes and buffered_records_max records may wait (sent or not) at once;
// past either, send() fails the record with Errc::limit_exceeded (Kafka blocks for max.block.ms
// instead; a callback-style client cannot block). A record larger than max_request_size fails
// with MESSAGE_TOO_LARGE.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "client/client_types.h"
#include "client/metadata.h"
#include "client/partitioner.h"
#include "node/log/compression.h"
#include "node/log/record_batch.h"

namespace gregor::client {

// Kafka's idempotence limit: the broker remembers 5 batches per producer and partition.
inline constexpr int32_t kIdempotentInFlightMax = 5;

struct ProducerConfig : CommonConfig {
  ProducerConfig() { client_id = "gregor-producer"; }
  int16_t acks = -1;  // acks: -1 (all), 0 or 1
  Duration linger_ms = milliseconds(5);
  size_t batch_size = 16384;  // batch.size: bytes of records per batch (uncompressed estimate)
  int32_t max_in_flight_requests_per_connection = 5;
  bool enable_idempotence = true;  // needs acks=-1, retries > 0, in flight <= 5
  int32_t retries = INT32_MAX;
  Duration delivery_timeout_ms = milliseconds(120000);
  log::Compression compression_type = log::Compression::none;
  PartitionerKind partitioner = PartitionerKind::default_sticky;
  size_t buffer_memory = 32 << 20;        // buffer.memory
  size_t buffered_records_max = 1 << 20;  // Gregor's: records waiting at once
  size_t max_request_size = 1 << 20;      // max.request.size
};

// Checks the settings and their combinations (idempotence rules, positive sizes, bootstrap list).
Status validate(const ProducerConfig& config);

struct ProducerRecord {
  std::string topic;
  std::optional<int32_t> partition;  // nullopt: the partitioner chooses
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<log::Header> headers;
  std::optional<int64_t> timestamp_ms;  // nullopt: the wall clock at send()
};

struct RecordMetadata {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;  // -1 with acks=0 (nothing comes back)
  int64_t timestamp_ms = -1;
};

struct DeliveryReport {
  Result<RecordMetadata> result;  // the record's place in the log, or why it is not there
  bool indefinite = false;        // on failure: the record may still have been written
  kafka::ErrorCode error = kafka::ErrorCode::none;  // the broker's error, when it gave one
  int32_t attempts = 0;                             // sends of the record's batch
};
using DeliveryCallback = std::function<void(const DeliveryReport&)>;

struct ProducerCounters {
  uint64_t records_sent = 0;  // send() calls
  uint64_t records_acked = 0;
  uint64_t records_failed = 0;
  uint64_t batches_sent = 0;  // including retries
  uint64_t batches_retried = 0;
  uint64_t requests = 0;
  uint64_t producer_ids = 0;  // InitProducerId answers taken
};

class Producer {
 public:
  // The config must pass validate() (asserted).
  Producer(Env& env, ProducerConfig config);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  void send(ProducerRecord record, DeliveryCallback callback);
  // The same, field by field, for callers that only want the outcome's Result.
  void send(std::string topic, std::optional<int32_t> partition, std::optional<Bytes> key,
            std::optional<Bytes> value, std::vector<log::Header> headers,
            std::function<void(Result<RecordMetadata>)> callback);
  // done runs once every record sent before the call has its report; batches go out without
  // waiting for linger_ms meanwhile.
  void flush(std::function<void()> done);
  // Refuses further sends (Errc::closed), flushes, then closes the connections.
  void close(std::function<void()> done);

  const ProducerCounters& counters() const { return counters_; }
  size_t buffered_records() const { return buffered_records_; }
  size_t buffered_bytes() const { return buffered_bytes_; }
  int64_t producer_id() const { return producer_id_; }
  MetadataClient& metadata() { return metadata_; }

 private:
  struct Pending {
    uint64_t id = 0;  // send order
    ProducerRecord record;
    DeliveryCallback callback;
    size_t bytes = 0;
    MonoTime deadline{};
  };
  struct Batch {
    uint64_t id = 0;
    TopicPartition tp;
    std::vector<Pending> records;
    size_t bytes = 0;
    MonoTime created{};
    MonoTime deadline{};
    bool sealed = false;  // built: bytes and sequence fixed for every retry
    Bytes built;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    uint64_t pid_generation = 0;
    int32_t attempts = 0;
    bool maybe_written = false;
  };
  using BatchPtr = std::shared_ptr<Batch>;
  struct PartitionState {
    std::deque<BatchPtr> queue;       // waiting; sealed retries first, in sequence order
    std::vector<BatchPtr> in_flight;  // sent, in send order
    MonoTime backoff_until{};
    // Idempotence: the producer id this partition numbers its batches under, and the next number.
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    uint64_t pid_generation = 0;
    int32_t next_sequence = 0;
    bool needs_new_pid = false;  // a numbered batch failed for good
  };

  // producer.cc: records, batches, reports.
  void enqueue(Pending p, int32_t partition);
  void resolve_waiting();
  void expire(MonoTime now);
  void complete_batch(const BatchPtr& b, const Result<int64_t>& base_offset, kafka::ErrorCode error,
                      bool indefinite);
  void report(Pending& p, DeliveryReport report);
  void check_flushes();
  void schedule_pump();
  size_t record_bytes(const ProducerRecord& r) const;

  // producer_sender.cc: draining batches into requests, answers, retries, producer ids.
  void pump();
  bool batch_ready(const PartitionState& ps, const Batch& b, MonoTime now) const;
  bool drain_node(int32_t node, const std::shared_ptr<KafkaClientConnection>& conn, MonoTime now);
  Status seal(PartitionState& ps, Batch& b);
  void on_response(int32_t node, std::vector<BatchPtr> batches,
                   Result<kafka::ProduceResponse> resp);
  // A failed attempt: retry, renumber under a new producer id, or fail (fatal: never retry).
  void on_batch_error(const BatchPtr& b, kafka::ErrorCode error, const Status& why,
                      bool maybe_written, bool fatal = false);
  bool earlier_batch_pending(const PartitionState& ps, const Batch& b) const;
  void requeue(PartitionState& ps, const BatchPtr& b);
  // The partition's numbering broke at `failed` (a numbered batch failed for good or must be
  // renumbered): the partition waits for a new producer id. Its other waiting numbered batches
  // are unsealed to be numbered afresh, except those an earlier attempt may have written: those
  // are removed from the queue and returned, to be failed (indefinite).
  std::vector<BatchPtr> poison(PartitionState& ps, const Batch& failed);
  void fail_abandoned(const std::vector<BatchPtr>& lost, const Status& why);
  static void unseal(Batch& b);
  void maybe_init_producer_id();
  void schedule_wake(MonoTime now);
  void remove_in_flight(PartitionState& ps, const Batch& b);

  Env& env_;
  ProducerConfig config_;
  MetadataClient metadata_;
  Partitioner partitioner_;
  std::map<TopicPartition, PartitionState> partitions_;
  std::map<std::string, std::deque<Pending>> waiting_;  // topic -> records awaiting metadata
  std::map<int32_t, int32_t> requests_in_flight_;       // node -> Produce requests
  std::set<uint64_t> incomplete_;                       // ids of records without a report
  std::vector<std::pair<uint64_t, std::function<void()>>> flushes_;  // (last id, done)
  uint64_t next_record_id_ = 1;
  uint64_t next_batch_id_ = 1;
  size_t buffered_bytes_ = 0;
  size_t buffered_records_ = 0;
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  uint64_t pid_generation_ = 0;  // bumped with every producer id taken
  bool init_pid_in_flight_ = false;
  MonoTime init_pid_after_{};
  bool closed_ = false;
  bool pump_scheduled_ = false;
  TimerId wake_timer_ = kNoTimer;
  MonoTime wake_at_{};
  ProducerCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::client
