// Per-partition producer state for idempotent producers (Kafka's ProducerStateManager): for each
// producer id, its epoch and the sequence ranges and offsets of its last few appended batches, so
// the log can fence zombie producers, reject sequence gaps, and answer a retried batch with the
// offsets it got the first time instead of writing it twice.
//
// A pure in-memory structure plus a snapshot codec. It does no I/O: the log writes the bytes of
// encode_snapshot() through the Disk seam under snapshot_file_name(map_end_offset()), and on open
// decodes the newest snapshot and replays the log from its map_end_offset().
//
// Deliberate differences from Kafka 3.x:
//  - A producer with no state here that sends a first sequence other than 0 gets
//    UNKNOWN_PRODUCER_ID (Kafka up to 2.4); Kafka 3.x accepts any sequence in that case.
//  - truncate_before() forgets producers whose last batch is below the new log start (Kafka up to
//    2.x); Kafka 3.x keeps them until producer.id.expiration.ms.
//  - No transactions yet: no coordinator epoch, ongoing transactions or control batches.
//  - A snapshot holds every retained batch of every producer (Kafka keeps only the last one).
// There is no limit on producers per partition (Kafka has none either): each costs one map node
// and at most kProducerBatchesRetained batches.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "node/kafka/error_code.h"

namespace gregor::log {

// Kafka keeps the last 5 batches per producer (ProducerStateEntry.NUM_BATCHES_TO_RETAIN), which
// is why clients cap max.in.flight.requests.per.connection at 5 with idempotence on.
inline constexpr int kProducerBatchesRetained = 5;
// The producer id of batches from producers without idempotence (RecordBatch.NO_PRODUCER_ID).
// Every negative id is treated the same way, as Kafka's hasProducerId() does.
inline constexpr int64_t kNoProducerId = -1;
// The version written by encode_snapshot(); decode_snapshot() accepts only this one.
inline constexpr int16_t kProducerSnapshotVersion = 1;

// One appended batch of a producer: its sequence range (from the batch header; last_sequence may
// be below first_sequence when the range wraps past INT32_MAX to 0) and the offsets the log gave
// it. timestamp is the batch's max timestamp.
struct ProducerBatch {
  int32_t first_sequence = 0;
  int32_t last_sequence = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  int64_t timestamp = 0;
  bool operator==(const ProducerBatch&) const = default;
};

// What the partition knows about one producer. Invariants: batches holds 1 to
// kProducerBatchesRetained batches, oldest first, in increasing offset order, all appended with
// `epoch` (a new epoch forgets the older ones); last_timestamp is the newest batch's timestamp.
struct ProducerEntry {
  int64_t producer_id = 0;
  int16_t epoch = 0;
  std::deque<ProducerBatch> batches;
  int64_t last_timestamp = 0;
  bool operator==(const ProducerEntry&) const = default;
};

// What check() says about an incoming batch that passes the rules (before the log assigns
// offsets): append it, or it is a retry of a batch already in the log.
struct ProducerCheck {
  enum class Kind : uint8_t { append, duplicate };
  Kind kind = Kind::append;
  std::optional<ProducerBatch> original;  // for duplicate: the offsets it got the first time
};

// The Kafka error of a Status returned by ProducerStateManager::check():
//   Errc::invalid_argument -> INVALID_PRODUCER_EPOCH        (epoch older than the known one)
//   Errc::out_of_range     -> OUT_OF_ORDER_SEQUENCE_NUMBER  (gap, or new epoch not at 0)
//   Errc::not_found        -> UNKNOWN_PRODUCER_ID           (no state, sequence not 0)
// An ok Status maps to NONE; any other code (a Status not from check()) to UNKNOWN_SERVER_ERROR.
kafka::ErrorCode producer_error_code(const Status& status);

class ProducerStateManager {
 public:
  ProducerStateManager() = default;
  // An empty state that covers the log up to (excluding) map_end_offset.
  explicit ProducerStateManager(int64_t map_end_offset) : map_end_offset_(map_end_offset) {}

  // Kafka's validation of a batch from (producer_id, epoch) with header sequences
  // [first_seq, last_seq], in this order:
  //  - producer_id < 0 (no idempotence): append.
  //  - unknown producer: first_seq 0 -> append; otherwise UNKNOWN_PRODUCER_ID.
  //  - epoch older than the known one: INVALID_PRODUCER_EPOCH (a fenced zombie).
  //  - newer epoch: first_seq must be 0 (append), else OUT_OF_ORDER_SEQUENCE_NUMBER.
  //  - same epoch: exactly the sequence range of one of the retained batches -> duplicate, with
  //    that batch (the oldest such, as Kafka); otherwise first_seq must follow the newest retained
  //    last_sequence (INT32_MAX is followed by 0), else OUT_OF_ORDER_SEQUENCE_NUMBER.
  // A rejection is a Status with the Errc listed at producer_error_code(), whose message starts
  // with the Kafka error name and names the producer, epochs and sequences. Pure: no state moves.
  Result<ProducerCheck> check(int64_t producer_id, int16_t epoch, int32_t first_seq,
                              int32_t last_seq) const;

  // Records a batch the log appended (offsets assigned), whether a client sent it or it is being
  // replayed from the log or a leader; no validation (that is check()'s job, and replicas accept
  // what the leader wrote). A different epoch than the known one forgets the older batches; only
  // the newest kProducerBatchesRetained are kept. Advances map_end_offset() past the batch. With
  // producer_id < 0 only map_end_offset() moves, so the log may call it for every batch.
  // Asserts (programming errors): 0 <= first_offset <= last_offset, and the batch lies above the
  // producer's newest one (log offsets only grow).
  void update(int64_t producer_id, int16_t epoch, const ProducerBatch& batch);

  // Log truncation (the suffix from `offset` is gone): forgets batches with last_offset >= offset
  // and producers left with none, and lowers map_end_offset() to `offset` if above. Exact for what
  // it removes, but it cannot bring back batches that newer ones evicted (the 5-batch window, or
  // an epoch bump); for Kafka's exact state reload a snapshot at or below `offset` and replay.
  void truncate_from(int64_t offset);
  // The log start advanced to `offset` (retention, DeleteRecords): forgets producers whose newest
  // batch ends below it, and raises map_end_offset() to `offset` if below.
  void truncate_before(int64_t offset);
  // Forgets every producer and starts over at `offset` (Kafka's truncateFullyAndStartAt).
  void reset(int64_t offset);

  // The producer's state, or nullptr. Valid until the next mutation.
  const ProducerEntry* find(int64_t producer_id) const;
  const std::map<int64_t, ProducerEntry>& producers() const { return producers_; }
  size_t producer_count() const { return producers_.size(); }

  // The offset after the last one this state covers (exclusive, like log_end_offset and like
  // Kafka's mapEndOffset): after a restart the log replays its batches from here. update()
  // raises it to the batch's last_offset + 1; the constructor, set_map_end_offset(), truncate_*()
  // and reset() set it as they say; a snapshot keeps it. Starts at 0.
  int64_t map_end_offset() const { return map_end_offset_; }
  void set_map_end_offset(int64_t offset) { map_end_offset_ = offset; }

  // Snapshot, big-endian: version int16, CRC32C uint32 over every other byte of the snapshot,
  // map_end_offset int64, producer count int32, then per producer in id order: producer_id int64,
  // epoch int16, batch count uint8, and per batch (oldest first) first_sequence int32,
  // last_sequence int32, first_offset int64, last_offset int64, timestamp int64. (last_timestamp
  // is the newest batch's.) The same state always encodes to the same bytes.
  Bytes encode_snapshot() const;
  // Errc::corrupt on any damage (bad CRC, short or long input, unknown version, or content that
  // breaks the invariants above); never asserts, whatever the bytes.
  static Result<ProducerStateManager> decode_snapshot(ByteView bytes);

  // Snapshot file names, as Kafka names them: the 20-digit zero-padded offset (normally
  // map_end_offset()) + ".snapshot". The offset must be >= 0 (asserted). parse returns nullopt for
  // any other name (wrong digit count, other suffix, offset above INT64_MAX).
  static std::string snapshot_file_name(int64_t offset);
  static std::optional<int64_t> parse_snapshot_file_name(std::string_view name);

  bool operator==(const ProducerStateManager&) const = default;

 private:
  std::map<int64_t, ProducerEntry> producers_;  // ordered: snapshots and traces are deterministic
  int64_t map_end_offset_ = 0;
};

}  // namespace gregor::log
