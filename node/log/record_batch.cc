#include "node/log/record_batch.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"
#include "base/crc32c.h"

namespace gregor::log {
namespace {

constexpr int8_t kMagicV2 = 2;
// Field offsets not named in the header.
constexpr size_t kLengthOffset = 8;
constexpr size_t kLeaderEpochOffset = 12;
constexpr size_t kMaxTimestampOffset = 35;
// Smallest encoded record: a one-byte length and six one-byte fields (attributes, timestamp
// delta, offset delta, key length, value length, header count). Bounds reservations from counts.
constexpr size_t kRecordBytesMin = 7;
constexpr size_t kHeaderBytesMin = 2;

// Kafka's Java code adds with two's-complement wrapping; signed overflow is UB in C++.
int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

uint32_t batch_crc(ByteView batch) {
  return crc32c(batch.subspan(kBatchAttributesOffset));
}

Status invalid(std::string message) {
  return error(Errc::invalid_argument, std::move(message));
}

// Checks everything validate_batch's shallow level and decode_records share: the header, that the
// batch fills `batch` exactly, the CRC, and a known codec.
Result<BatchHeader> check_frame(ByteView batch) {
  Result<BatchHeader> header = parse_batch_header(batch);
  if (!header.ok()) return header;
  if (header->size_bytes() != batch.size())
    return errorf(Errc::corrupt, "batch length field says {} bytes but the batch has {}",
                  header->size_bytes(), batch.size());
  uint32_t crc = batch_crc(batch);
  if (crc != header->crc)
    return errorf(Errc::corrupt, "batch CRC mismatch: stored {:08x}, computed {:08x}", header->crc,
                  crc);
  if (!is_known_compression(header->compression()))
    return errorf(Errc::invalid_argument, "unknown compression codec id {}",
                  static_cast<int>(header->compression()));
  return header;
}

// The records region of a checked batch, decompressed when needed. `storage` owns decompressed
// bytes; the returned view points into it or into `batch`.
Result<ByteView> records_region(ByteView batch, const BatchHeader& header, size_t out_bytes_max,
                                Bytes& storage) {
  ByteView region = batch.subspan(kBatchHeaderBytes);
  // An empty batch (compaction, or a builder with no records) carries no compressed stream.
  if (header.compression() == Compression::none || (region.empty() && header.record_count == 0)) {
    if (region.size() > out_bytes_max)
      return errorf(Errc::limit_exceeded, "records take more than {} bytes", out_bytes_max);
    return region;
  }
  Result<Bytes> plain = decompress(header.compression(), region, out_bytes_max);
  if (!plain.ok()) return plain.status();
  storage = std::move(plain).value();
  return ByteView(storage);
}

// A varint that must fit an int32 (Kafka's "varint", as opposed to "varlong").
int32_t read_varint32(Reader& r) {
  int64_t v = r.varint();
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    r.fail();
    return 0;
  }
  return static_cast<int32_t>(v);
}

// A length-prefixed byte string where -1 means null; other negative lengths are malformed.
std::optional<ByteView> read_nullable(Reader& r) {
  int32_t n = read_varint32(r);
  if (n < -1) r.fail();
  if (n < 0 || !r.ok()) return std::nullopt;
  return r.bytes(static_cast<size_t>(n));
}

struct RecordView {
  int64_t timestamp_delta;
  int32_t offset_delta;
  std::optional<ByteView> key;
  std::optional<ByteView> value;
};

// Parses one record body (everything after its length varint), which must be consumed exactly.
// Headers are appended to `headers` when it is not null, and only checked otherwise.
Status parse_record(ByteView body, RecordView& out, std::vector<Header>* headers) {
  Reader r(body);
  r.u8();  // record attributes: unused by every version so far
  out.timestamp_delta = r.varint();
  out.offset_delta = read_varint32(r);
  out.key = read_nullable(r);
  out.value = read_nullable(r);
  int32_t header_count = read_varint32(r);
  if (!r.ok() || header_count < 0 ||
      static_cast<size_t>(header_count) > r.remaining() / kHeaderBytesMin)
    return invalid("record has a malformed field or header count");
  if (headers) headers->reserve(headers->size() + header_count);
  for (int32_t i = 0; i < header_count; ++i) {
    int32_t key_length = read_varint32(r);
    if (key_length < 0) r.fail();
    ByteView key = r.bytes(r.ok() ? static_cast<size_t>(key_length) : 0);
    std::optional<ByteView> value = read_nullable(r);
    if (!r.ok()) return invalid("record header is malformed");
    if (!headers) continue;
    std::optional<Bytes> value_copy;
    if (value) value_copy.emplace(value->begin(), value->end());
    headers->push_back(Header{std::string(as_chars(key)), std::move(value_copy)});
  }
  if (!r.at_end()) return invalid("record length does not match its fields");
  return Status::Ok();
}

// Walks header.record_count records in `region`. Offset deltas must strictly increase within
// [0, last_offset_delta], or be exactly 0..n-1 when `contiguous`; the region must end right
// after the last record. visit(view, headers) sees each record.
template <typename Visit>
Status walk_records(ByteView region, const BatchHeader& header, bool contiguous,
                    std::vector<Header>* headers, Visit&& visit) {
  if (header.record_count < 0) return invalid("negative record count");
  if (static_cast<size_t>(header.record_count) > region.size() / kRecordBytesMin)
    return invalid("record count exceeds what the batch can hold");
  Reader r(region);
  int64_t previous_delta = -1;
  for (int32_t i = 0; i < header.record_count; ++i) {
    int32_t length = read_varint32(r);
    if (!r.ok() || length < 0 || static_cast<size_t>(length) > r.remaining())
      return invalid("record length does not fit the batch");
    RecordView view;
    if (headers) headers->clear();
    GREGOR_RETURN_IF_ERROR(parse_record(r.bytes(static_cast<size_t>(length)), view, headers));
    if (contiguous
            ? view.offset_delta != i
            : (view.offset_delta <= previous_delta || view.offset_delta > header.last_offset_delta))
      return errorf(Errc::invalid_argument, "record {} has offset delta {} (previous {}, last {})",
                    i, view.offset_delta, previous_delta, header.last_offset_delta);
    previous_delta = view.offset_delta;
    visit(view);
  }
  if (!r.at_end()) return invalid("bytes remain after the declared record count");
  return Status::Ok();
}

void encode_nullable(Writer& w, std::optional<ByteView> bytes) {
  if (!bytes) {
    w.varint(-1);
    return;
  }
  w.varint(static_cast<int64_t>(bytes->size()));
  w.bytes(*bytes);
}

}  // namespace

int64_t BatchHeader::last_offset() const {
  return wrapping_add(base_offset, last_offset_delta);
}
size_t BatchHeader::size_bytes() const {
  return kBatchLogOverhead + static_cast<size_t>(std::max<int32_t>(batch_length, 0));
}
Compression BatchHeader::compression() const {
  return static_cast<Compression>(attributes & kAttrCompressionMask);
}
TimestampType BatchHeader::timestamp_type() const {
  return (attributes & kAttrLogAppendTime) ? TimestampType::log_append_time
                                           : TimestampType::create_time;
}
bool BatchHeader::is_transactional() const {
  return (attributes & kAttrTransactional) != 0;
}
bool BatchHeader::is_control() const {
  return (attributes & kAttrControl) != 0;
}
int32_t BatchHeader::last_sequence() const {
  if (base_sequence == -1) return -1;
  // Sequences wrap from INT32_MAX to 0 (Kafka's DefaultRecordBatch.incrementSequence).
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  if (last_offset_delta >= 0 && base_sequence > kMax - last_offset_delta)
    return last_offset_delta - (kMax - base_sequence) - 1;
  return static_cast<int32_t>(wrapping_add(base_sequence, last_offset_delta));
}

Result<BatchHeader> parse_batch_header(ByteView bytes) {
  if (bytes.size() < kBatchHeaderBytes)
    return errorf(Errc::corrupt, "batch header needs {} bytes, have {}", kBatchHeaderBytes,
                  bytes.size());
  Reader r(bytes);
  BatchHeader h;
  h.base_offset = r.be<int64_t>();
  h.batch_length = r.be<int32_t>();
  h.partition_leader_epoch = r.be<int32_t>();
  h.magic = r.be<int8_t>();
  h.crc = r.be<uint32_t>();
  h.attributes = r.be<int16_t>();
  h.last_offset_delta = r.be<int32_t>();
  h.base_timestamp = r.be<int64_t>();
  h.max_timestamp = r.be<int64_t>();
  h.producer_id = r.be<int64_t>();
  h.producer_epoch = r.be<int16_t>();
  h.base_sequence = r.be<int32_t>();
  h.record_count = r.be<int32_t>();
  GREGOR_ASSERT(r.ok() && r.position() == kBatchHeaderBytes);
  if (h.batch_length < static_cast<int32_t>(kBatchLengthMin) ||
      h.batch_length > static_cast<int32_t>(kBatchBytesMax))
    return errorf(Errc::corrupt, "batch length {} outside [{}, {}]", h.batch_length,
                  kBatchLengthMin, kBatchBytesMax);
  if (h.magic != kMagicV2) return errorf(Errc::corrupt, "batch magic {} is not 2", h.magic);
  return h;
}

std::optional<size_t> peek_batch_size(ByteView bytes) {
  if (bytes.size() < kBatchLogOverhead) return std::nullopt;
  int32_t length = load_be<int32_t>(bytes.data() + kLengthOffset);
  return kBatchLogOverhead + static_cast<size_t>(std::max<int32_t>(length, 0));
}

Status validate_batch(ByteView batch, Validation level) {
  Result<BatchHeader> header = check_frame(batch);
  if (!header.ok()) return header.status();
  const BatchHeader& h = *header;
  if (level == Validation::stored) {
    if (h.last_offset_delta < 0 || h.record_count < 0 ||
        static_cast<int64_t>(h.record_count) > static_cast<int64_t>(h.last_offset_delta) + 1)
      return errorf(Errc::invalid_argument, "stored batch has {} records and last offset delta {}",
                    h.record_count, h.last_offset_delta);
    return Status::Ok();
  }
  if (h.last_offset_delta < 0 || h.record_count <= 0)
    return errorf(Errc::invalid_argument, "batch has {} records and last offset delta {}",
                  h.record_count, h.last_offset_delta);
  if (static_cast<int64_t>(h.record_count) != static_cast<int64_t>(h.last_offset_delta) + 1)
    return errorf(Errc::invalid_argument,
                  "batch record count {} does not match its offset range of {}", h.record_count,
                  static_cast<int64_t>(h.last_offset_delta) + 1);
  if (level == Validation::shallow) return Status::Ok();
  Bytes storage;
  Result<ByteView> region = records_region(batch, h, kBatchBytesMax, storage);
  if (!region.ok()) return region.status();
  return walk_records(*region, h, /*contiguous=*/true, nullptr, [](const RecordView&) {});
}

kafka::ErrorCode to_kafka_error(const Status& s) {
  switch (s.code()) {
    case Errc::ok:
      return kafka::ErrorCode::none;
    case Errc::corrupt:
      return kafka::ErrorCode::corrupt_message;
    case Errc::invalid_argument:
      return kafka::ErrorCode::invalid_record;
    case Errc::limit_exceeded:
      return kafka::ErrorCode::message_too_large;
    default:
      return kafka::ErrorCode::unknown_server_error;
  }
}

void assign_offsets(std::span<uint8_t> batch, int64_t base_offset, int32_t leader_epoch) {
  GREGOR_ASSERT(batch.size() >= kBatchHeaderBytes, "batch of {} bytes", batch.size());
  store_be<int64_t>(batch.data(), base_offset);
  store_be<int32_t>(batch.data() + kLeaderEpochOffset, leader_epoch);
}

void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms) {
  GREGOR_ASSERT(batch.size() >= kBatchHeaderBytes, "batch of {} bytes", batch.size());
  int16_t attributes = load_be<int16_t>(batch.data() + kBatchAttributesOffset);
  store_be<int16_t>(batch.data() + kBatchAttributesOffset,
                    static_cast<int16_t>(attributes | kAttrLogAppendTime));
  store_be<int64_t>(batch.data() + kMaxTimestampOffset, timestamp_ms);
  update_crc(batch);
}

void update_crc(std::span<uint8_t> batch) {
  GREGOR_ASSERT(batch.size() >= kBatchHeaderBytes, "batch of {} bytes", batch.size());
  store_be<uint32_t>(batch.data() + kBatchCrcOffset, batch_crc(batch));
}

Result<std::vector<Record>> decode_records(ByteView batch, size_t out_bytes_max) {
  Result<BatchHeader> header = check_frame(batch);
  if (!header.ok()) return header.status();
  const BatchHeader& h = *header;
  Bytes storage;
  Result<ByteView> region = records_region(batch, h, out_bytes_max, storage);
  if (!region.ok()) return region.status();
  std::vector<Record> records;
  records.reserve(
      std::min<size_t>(std::max<int32_t>(h.record_count, 0), region->size() / kRecordBytesMin));
  std::vector<Header> headers;
  bool log_append_time = h.timestamp_type() == TimestampType::log_append_time;
  auto visit = [&](const RecordView& v) {
    Record& rec = records.emplace_back();
    rec.offset = wrapping_add(h.base_offset, v.offset_delta);
    // Under LogAppendTime the broker's time, stored once as max_timestamp, wins (as in Kafka).
    rec.timestamp =
        log_append_time ? h.max_timestamp : wrapping_add(h.base_timestamp, v.timestamp_delta);
    if (v.key) rec.key.emplace(v.key->begin(), v.key->end());
    if (v.value) rec.value.emplace(v.value->begin(), v.value->end());
    rec.headers = std::move(headers);
    headers = {};
  };
  GREGOR_RETURN_IF_ERROR(walk_records(*region, h, /*contiguous=*/false, &headers, visit));
  return records;
}

BatchBuilder::BatchBuilder(Options options) : options_(std::move(options)) {}

void BatchBuilder::add(int64_t timestamp, std::optional<ByteView> key,
                       std::optional<ByteView> value, std::vector<Header> headers,
                       std::optional<int32_t> offset_delta) {
  int32_t delta = offset_delta.value_or(static_cast<int32_t>(record_count_));
  GREGOR_ASSERT(delta > last_delta_, "offset delta {} after {}", delta, last_delta_);
  if (record_count_ == 0) base_timestamp_ = max_timestamp_ = timestamp;
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  Bytes body;
  Writer w(body);
  w.u8(0);  // record attributes
  w.varint(wrapping_sub(timestamp, base_timestamp_));
  w.varint(delta);
  encode_nullable(w, key);
  encode_nullable(w, value);
  w.varint(static_cast<int64_t>(headers.size()));
  for (const Header& header : headers) {
    w.varint(static_cast<int64_t>(header.key.size()));
    w.str(header.key);
    encode_nullable(w, header.value ? std::optional<ByteView>(*header.value) : std::nullopt);
  }
  Writer records(records_);
  records.varint(static_cast<int64_t>(body.size()));
  records.bytes(body);
  ++record_count_;
  last_delta_ = delta;
}

Result<Bytes> BatchBuilder::build() const {
  int16_t attributes = static_cast<int16_t>(options_.compression);
  if (options_.timestamp_type == TimestampType::log_append_time) attributes |= kAttrLogAppendTime;
  if (options_.transactional) attributes |= kAttrTransactional;
  if (options_.control) attributes |= kAttrControl;
  Bytes out;
  Writer w(out);
  w.be<int64_t>(options_.base_offset);
  w.be<int32_t>(0);  // batchLength, patched below
  w.be<int32_t>(options_.leader_epoch);
  w.be<int8_t>(kMagicV2);
  w.be<uint32_t>(0);  // crc, patched below
  w.be<int16_t>(attributes);
  w.be<int32_t>(options_.last_offset_delta.value_or(std::max<int32_t>(last_delta_, 0)));
  w.be<int64_t>(base_timestamp_);
  w.be<int64_t>(max_timestamp_);
  w.be<int64_t>(options_.producer_id);
  w.be<int16_t>(options_.producer_epoch);
  w.be<int32_t>(options_.base_sequence);
  w.be<int32_t>(static_cast<int32_t>(record_count_));
  if (options_.compression == Compression::none) {
    w.bytes(records_);
  } else if (record_count_ > 0) {
    Result<Bytes> compressed = compress(options_.compression, records_);
    if (!compressed.ok()) return compressed.status();
    w.bytes(*compressed);
  }
  if (out.size() - kBatchLogOverhead > kBatchBytesMax)
    return errorf(Errc::limit_exceeded, "batch of {} bytes exceeds the {} byte limit", out.size(),
                  kBatchBytesMax);
  w.patch_be<int32_t>(kLengthOffset, static_cast<int32_t>(out.size() - kBatchLogOverhead));
  update_crc(out);
  return out;
}

std::optional<ByteView> BatchIterator::next() {
  ByteView rest = bytes_.subspan(consumed_);
  std::optional<size_t> size = peek_batch_size(rest);
  if (!size) return std::nullopt;
  if (!batch_size_plausible(*size)) {
    int32_t length = load_be<int32_t>(rest.data() + kLengthOffset);
    status_ = errorf(Errc::corrupt, "batch at byte {} has impossible length {}", consumed_, length);
    return std::nullopt;
  }
  if (rest.size() < *size) return std::nullopt;
  consumed_ += *size;
  return rest.first(*size);
}

}  // namespace gregor::log
