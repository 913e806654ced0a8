// Kafka record batch v2 (magic 2): the unit a producer sends, the log stores and a fetch returns,
// byte for byte. Layout (big-endian; offsets from the batch start):
//
//    0 baseOffset int64         21 attributes int16        53 baseSequence int32
//    8 batchLength int32        23 lastOffsetDelta int32   57 recordCount int32
//   12 partitionLeaderEpoch     27 baseTimestamp int64     61 records (compressed as one stream
//   16 magic int8 (= 2)         35 maxTimestamp int64         when attributes bits 0..2 != 0)
//   17 crc uint32 (CRC32C of    43 producerId int64
//      bytes [21, end))         51 producerEpoch int16
//
// batchLength counts the bytes after itself. attributes: bits 0..2 codec, bit 3 timestamp type
// (1 = LogAppendTime), bit 4 transactional, bit 5 control, bit 6 delete-horizon (compaction).
// Each record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
// keyLength varint (-1 = null) + key, valueLength varint (-1 = null) + value, header count varint,
// then per header keyLength varint + key, valueLength varint (-1 = null) + value. All varints
// are zigzag. baseOffset and partitionLeaderEpoch lie outside the CRC so the leader can assign
// them without rechecksumming.
//
// Every function here is safe on untrusted bytes: bad input yields a Status, never an assertion
// (the span-mutating helpers assert only on spans too short to hold a header, which callers rule
// out by validating first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "node/kafka/error_code.h"
#include "node/log/compression.h"

namespace gregor::log {

// Offsets of fields inside a v2 batch (from the batch start).
inline constexpr size_t kBatchLogOverhead = 12;  // baseOffset(8) + batchLength(4)
inline constexpr size_t kBatchHeaderBytes = 61;  // through recordCount; records follow
inline constexpr size_t kBatchCrcOffset = 17;    // crc covers [21, end)
inline constexpr size_t kBatchAttributesOffset = 21;
inline constexpr size_t kBatchBytesMax = 64 << 20;  // named limit on one batch (batchLength)
// Smallest legal batchLength: a header with no records.
inline constexpr size_t kBatchLengthMin = kBatchHeaderBytes - kBatchLogOverhead;

enum class TimestampType : uint8_t { create_time = 0, log_append_time = 1 };

// Attribute bits (bits 0..2 hold the codec).
inline constexpr int16_t kAttrCompressionMask = 0x07;
inline constexpr int16_t kAttrLogAppendTime = 0x08;
inline constexpr int16_t kAttrTransactional = 0x10;
inline constexpr int16_t kAttrControl = 0x20;
inline constexpr int16_t kAttrDeleteHorizon = 0x40;

struct BatchHeader {
  int64_t base_offset;
  int32_t batch_length;
  int32_t partition_leader_epoch;
  int8_t magic;
  uint32_t crc;
  int16_t attributes;
  int32_t last_offset_delta;
  int64_t base_timestamp;
  int64_t max_timestamp;
  int64_t producer_id;
  int16_t producer_epoch;
  int32_t base_sequence;
  int32_t record_count;

  int64_t last_offset() const;  // base_offset + last_offset_delta
  size_t size_bytes() const;    // kBatchLogOverhead + batch_length
  Compression compression() const;
  TimestampType timestamp_type() const;
  bool is_transactional() const;
  bool is_control() const;
  bool has_producer_id() const { return producer_id >= 0; }
  // base_sequence + last_offset_delta, wrapping past INT32_MAX to 0 as Kafka's sequences do, or
  // -1 when base_sequence is -1 (no idempotent producer).
  int32_t last_sequence() const;
};

// Reads the header of the batch at the front of `bytes` (needs kBatchHeaderBytes). Errc::corrupt
// when short, batchLength < kBatchLengthMin or > kBatchBytesMax, or magic != 2. Does not look at
// the CRC or at whether the whole batch is present.
Result<BatchHeader> parse_batch_header(ByteView bytes);

// Size in bytes of the batch at the front of `bytes` from its length field, or nullopt if fewer
// than kBatchLogOverhead bytes are available (for scanning streams and files). The size is not
// validated: a negative length field yields kBatchLogOverhead; check batch_size_plausible().
std::optional<size_t> peek_batch_size(ByteView bytes);

// Whether a size from peek_batch_size can belong to a v2 batch (length field within limits).
inline bool batch_size_plausible(size_t size_bytes) {
  return size_bytes >= kBatchHeaderBytes && size_bytes <= kBatchLogOverhead + kBatchBytesMax;
}

// shallow and strict check a producer's batch; stored checks a batch as the log holds it, where
// compaction leaves gaps and empty batches (see decode_records).
enum class Validation : uint8_t { shallow, strict, stored };

// Validates exactly one batch occupying all of `batch`, as a leader does for a producer's batch.
// shallow: lengths, magic, CRC32C, a known codec, record_count > 0 and record_count ==
// last_offset_delta + 1. strict also decompresses (bounded by kBatchBytesMax) and walks every
// record: offset deltas 0..n-1, varint lengths that fit, record count matches, no trailing bytes.
// Errors: Errc::corrupt (=> CORRUPT_MESSAGE) for framing, CRC and undecodable compressed data;
// Errc::invalid_argument (=> INVALID_RECORD) for semantic problems (deltas, counts, record
// structure inside a batch whose CRC holds, unknown codec id: a broker wanting to answer
// UNSUPPORTED_COMPRESSION_TYPE checks is_known_compression(header.compression()) first);
// Errc::limit_exceeded (=> MESSAGE_TOO_LARGE) when records decompress past kBatchBytesMax.
// Producer-origin rules that depend on the caller (control batches from clients, a producer id
// with a negative base sequence, timestamp bounds) are left to the broker.
// stored: framing, CRC32C and a known codec as shallow, but 0 <= record_count <=
// last_offset_delta + 1 (compacted batches may have gaps or no records); no record walk. For
// reads and recovery of the log's own segments.
Status validate_batch(ByteView batch, Validation level);

// ok -> none, corrupt -> corrupt_message, invalid_argument -> invalid_record, limit_exceeded ->
// message_too_large (a batch over a size limit; record_list_too_large is for a whole request's
// record set, which the broker checks itself), anything else -> unknown_server_error.
kafka::ErrorCode to_kafka_error(const Status& s);

// Rewrites fields outside the CRC (no CRC change): base offset and partition leader epoch.
// Asserts batch.size() >= kBatchHeaderBytes.
void assign_offsets(std::span<uint8_t> batch, int64_t base_offset, int32_t leader_epoch);

// LogAppendTime: sets the timestamp-type attribute bit and max_timestamp = timestamp_ms (Kafka's
// rule: readers then report max_timestamp as every record's timestamp), then recomputes the CRC.
// Asserts batch.size() >= kBatchHeaderBytes.
void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms);

// Recomputes and stores the CRC of a batch whose CRC-covered bytes were edited.
// Asserts batch.size() >= kBatchHeaderBytes.
void update_crc(std::span<uint8_t> batch);

struct Header {
  std::string key;
  std::optional<Bytes> value;
  bool operator==(const Header&) const = default;
};

struct Record {
  int64_t offset;
  int64_t timestamp;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<Header> headers;
  bool operator==(const Record&) const = default;
};

// Decodes every record (decompressing as needed), with absolute offsets and timestamps (under
// LogAppendTime every record reports max_timestamp, as Kafka's readers do). Checks framing and
// the CRC like validate_batch, then that record_count records parse exactly with offset deltas
// strictly increasing within [0, last_offset_delta]; unlike validate_batch it accepts batches
// with gaps or no records, as compaction leaves them. out_bytes_max bounds the decompressed size
// (decompression bombs) -> Errc::limit_exceeded. Other errors as validate_batch.
Result<std::vector<Record>> decode_records(ByteView batch, size_t out_bytes_max = kBatchBytesMax);

// Builds batches (for tests, Gregor's client, compaction).
class BatchBuilder {
 public:
  struct Options {
    Compression compression = Compression::none;
    int64_t base_offset = 0;
    int32_t leader_epoch = -1;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    bool transactional = false;
    bool control = false;
    TimestampType timestamp_type = TimestampType::create_time;
    // Compaction keeps a batch's last offset (and so its last sequence) even when the records
    // carrying it are gone; nullopt means the last added record's delta (0 with no records).
    std::optional<int32_t> last_offset_delta = std::nullopt;
  };

  explicit BatchBuilder(Options options);

  // offset_delta defaults to the next one (count so far); compaction passes the kept record's
  // delta. Deltas must strictly increase (asserted: a caller bug). The first record's timestamp
  // becomes the base timestamp; max_timestamp is the largest record timestamp (with no records
  // both are -1). Under log_append_time the caller passes the append time as each timestamp or
  // calls set_log_append_time on the result.
  void add(int64_t timestamp, std::optional<ByteView> key, std::optional<ByteView> value,
           std::vector<Header> headers = {}, std::optional<int32_t> offset_delta = std::nullopt);
  size_t record_count() const { return record_count_; }
  // Uncompressed size of the records added so far (for callers filling a batch up to a limit).
  size_t records_bytes() const { return records_.size(); }

  // Fails if compression fails, or with Errc::limit_exceeded if the batch would pass
  // kBatchBytesMax. The builder may be built again (same result) or added to further.
  Result<Bytes> build() const;

 private:
  Options options_;
  Bytes records_;  // encoded records, uncompressed
  size_t record_count_ = 0;
  int64_t base_timestamp_ = -1;
  int64_t max_timestamp_ = -1;
  int32_t last_delta_ = -1;
};

// Iterates the whole batches in a byte range (a fetch response, a segment slice); stops at the
// first incomplete one. Does not validate CRCs or magic (callers that need to, call
// validate_batch), but stops with a corrupt status() at a length field no v2 batch can have,
// since nothing after it can be framed.
class BatchIterator {
 public:
  explicit BatchIterator(ByteView bytes) : bytes_(bytes) {}
  std::optional<ByteView> next();
  // Bytes of the whole batches returned so far.
  size_t consumed() const { return consumed_; }
  // After next() returned nullopt: ok at the end or before an incomplete batch; Errc::corrupt
  // when the next length field is implausible (see batch_size_plausible).
  const Status& status() const { return status_; }

 private:
  ByteView bytes_;
  size_t consumed_ = 0;
  Status status_;
};

}  // namespace gregor::log
