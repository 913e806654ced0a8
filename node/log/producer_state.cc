#include "node/log/producer_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "base/assert.h"
#include "base/crc32c.h"

namespace gregor::log {
namespace {

// Snapshot layout: [version int16][crc uint32][body]. The CRC covers the version too, so a flipped
// version bit reads as damage rather than as a snapshot from some other release.
constexpr size_t kVersionBytes = 2;
constexpr size_t kHeaderBytes = kVersionBytes + 4;
constexpr std::string_view kSnapshotSuffix = ".snapshot";
constexpr size_t kSnapshotOffsetDigits = 20;

uint32_t snapshot_crc(ByteView snapshot) {
  uint32_t crc = crc32c(0, snapshot.first(kVersionBytes));
  return crc32c(crc, snapshot.subspan(kHeaderBytes));
}

// Kafka's inSequence(): sequences are non-negative int32s, and INT32_MAX wraps to 0.
int32_t next_sequence(int32_t sequence) {
  return sequence == std::numeric_limits<int32_t>::max() ? 0 : sequence + 1;
}

// One place that pairs each Kafka error with the Errc producer_error_code() maps back.
Status reject(kafka::ErrorCode code, std::string detail) {
  Errc errc = Errc::invalid_argument;
  switch (code) {
    case kafka::ErrorCode::invalid_producer_epoch:
      errc = Errc::invalid_argument;
      break;
    case kafka::ErrorCode::out_of_order_sequence_number:
      errc = Errc::out_of_range;
      break;
    case kafka::ErrorCode::unknown_producer_id:
      errc = Errc::not_found;
      break;
    default:
      GREGOR_UNREACHABLE("no producer-state rejection for {}", kafka::error_name(code));
  }
  return Status(errc, fmt::format("{}: {}", kafka::error_name(code), detail));
}

ProducerCheck append() {
  return ProducerCheck{ProducerCheck::Kind::append, std::nullopt};
}

Status corrupt(std::string detail) {
  return Status(Errc::corrupt, "producer snapshot: " + std::move(detail));
}

void encode_entry(Writer& w, const ProducerEntry& entry) {
  w.be<int64_t>(entry.producer_id);
  w.be<int16_t>(entry.epoch);
  w.u8(static_cast<uint8_t>(entry.batches.size()));
  for (const ProducerBatch& b : entry.batches) {
    w.be<int32_t>(b.first_sequence);
    w.be<int32_t>(b.last_sequence);
    w.be<int64_t>(b.first_offset);
    w.be<int64_t>(b.last_offset);
    w.be<int64_t>(b.timestamp);
  }
}

// Checks the invariants of ProducerEntry as well as the framing: the CRC only proves the bytes are
// the ones written, and a state that breaks them would trip update()'s assertions later.
Result<ProducerEntry> decode_entry(Reader& r) {
  ProducerEntry entry;
  entry.producer_id = r.be<int64_t>();
  entry.epoch = r.be<int16_t>();
  int batch_count = r.u8();
  if (!r.ok()) return corrupt("truncated producer entry");
  if (entry.producer_id < 0) return corrupt(fmt::format("producer id {}", entry.producer_id));
  if (batch_count < 1 || batch_count > kProducerBatchesRetained) {
    return corrupt(fmt::format("producer {} has {} batches", entry.producer_id, batch_count));
  }
  for (int i = 0; i < batch_count; ++i) {
    ProducerBatch b;
    b.first_sequence = r.be<int32_t>();
    b.last_sequence = r.be<int32_t>();
    b.first_offset = r.be<int64_t>();
    b.last_offset = r.be<int64_t>();
    b.timestamp = r.be<int64_t>();
    if (!r.ok()) return corrupt("truncated producer batch");
    bool above_previous =
        entry.batches.empty() || b.first_offset > entry.batches.back().last_offset;
    if (b.first_offset < 0 || b.first_offset > b.last_offset || !above_previous) {
      return corrupt(fmt::format("producer {} batch at offsets {}..{} out of order",
                                 entry.producer_id, b.first_offset, b.last_offset));
    }
    entry.batches.push_back(b);
  }
  entry.last_timestamp = entry.batches.back().timestamp;
  return entry;
}

}  // namespace

kafka::ErrorCode producer_error_code(const Status& status) {
  switch (status.code()) {
    case Errc::ok:
      return kafka::ErrorCode::none;
    case Errc::invalid_argument:
      return kafka::ErrorCode::invalid_producer_epoch;
    case Errc::out_of_range:
      return kafka::ErrorCode::out_of_order_sequence_number;
    case Errc::not_found:
      return kafka::ErrorCode::unknown_producer_id;
    default:
      return kafka::ErrorCode::unknown_server_error;
  }
}

Result<ProducerCheck> ProducerStateManager::check(int64_t producer_id, int16_t epoch,
                                                  int32_t first_seq, int32_t last_seq) const {
  if (producer_id < 0) return append();
  auto it = producers_.find(producer_id);
  if (it == producers_.end()) {
    if (first_seq == 0) return append();
    // Its state is gone (retention, truncation) or never existed: the client must reset.
    return reject(kafka::ErrorCode::unknown_producer_id,
                  fmt::format("producer {} epoch {} has no state in this partition; sequences "
                              "{}..{} do not start at 0",
                              producer_id, epoch, first_seq, last_seq));
  }
  const ProducerEntry& entry = it->second;
  if (epoch < entry.epoch) {
    return reject(kafka::ErrorCode::invalid_producer_epoch,
                  fmt::format("producer {} epoch {} is older than its current epoch {} "
                              "(sequences {}..{})",
                              producer_id, epoch, entry.epoch, first_seq, last_seq));
  }
  if (epoch > entry.epoch) {
    // A bumped epoch restarts the sequence; the old epoch's batches no longer count.
    if (first_seq == 0) return append();
    return reject(kafka::ErrorCode::out_of_order_sequence_number,
                  fmt::format("producer {} new epoch {} (current {}) must start at sequence 0, "
                              "got sequences {}..{}",
                              producer_id, epoch, entry.epoch, first_seq, last_seq));
  }
  // Oldest first, as Kafka's findDuplicateBatch() takes the first match.
  for (const ProducerBatch& b : entry.batches) {
    if (b.first_sequence == first_seq && b.last_sequence == last_seq) {
      return ProducerCheck{ProducerCheck::Kind::duplicate, b};
    }
  }
  int32_t last_retained = entry.batches.back().last_sequence;
  if (first_seq == next_sequence(last_retained)) return append();
  return reject(
      kafka::ErrorCode::out_of_order_sequence_number,
      fmt::format("producer {} epoch {} sent sequences {}..{}, expected first sequence {} "
                  "after {}",
                  producer_id, epoch, first_seq, last_seq, next_sequence(last_retained),
                  last_retained));
}

void ProducerStateManager::update(int64_t producer_id, int16_t epoch, const ProducerBatch& batch) {
  GREGOR_ASSERT(0 <= batch.first_offset && batch.first_offset <= batch.last_offset,
                "producer {} batch with offsets {}..{}", producer_id, batch.first_offset,
                batch.last_offset);
  map_end_offset_ = std::max(map_end_offset_, batch.last_offset + 1);
  if (producer_id < 0) return;
  auto [it, inserted] = producers_.try_emplace(producer_id);
  ProducerEntry& entry = it->second;
  if (inserted) {
    entry.producer_id = producer_id;
    entry.epoch = epoch;
  } else {
    GREGOR_ASSERT(batch.first_offset > entry.batches.back().last_offset,
                  "producer {} batch at offset {} is not above its last batch ending at {}",
                  producer_id, batch.first_offset, entry.batches.back().last_offset);
    // Like Kafka, any other epoch (even an older one replicated from a leader) replaces the state.
    if (entry.epoch != epoch) {
      entry.batches.clear();
      entry.epoch = epoch;
    }
  }
  if (entry.batches.size() == kProducerBatchesRetained) entry.batches.pop_front();
  entry.batches.push_back(batch);
  entry.last_timestamp = batch.timestamp;
}

void ProducerStateManager::truncate_from(int64_t offset) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    std::deque<ProducerBatch>& batches = it->second.batches;
    while (!batches.empty() && batches.back().last_offset >= offset) batches.pop_back();
    if (batches.empty()) {
      it = producers_.erase(it);
    } else {
      it->second.last_timestamp = batches.back().timestamp;
      ++it;
    }
  }
  map_end_offset_ = std::min(map_end_offset_, offset);
}

void ProducerStateManager::truncate_before(int64_t offset) {
  std::erase_if(producers_,
                [offset](const auto& kv) { return kv.second.batches.back().last_offset < offset; });
  map_end_offset_ = std::max(map_end_offset_, offset);
}

void ProducerStateManager::reset(int64_t offset) {
  producers_.clear();
  map_end_offset_ = offset;
}

const ProducerEntry* ProducerStateManager::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

Bytes ProducerStateManager::encode_snapshot() const {
  GREGOR_ASSERT(producers_.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
                "{} producers do not fit a snapshot", producers_.size());
  Bytes out;
  Writer w(out);
  w.be<int16_t>(kProducerSnapshotVersion);
  w.be<uint32_t>(0);  // the CRC, patched below
  w.be<int64_t>(map_end_offset_);
  w.be<int32_t>(static_cast<int32_t>(producers_.size()));
  for (const auto& [id, entry] : producers_) encode_entry(w, entry);
  w.patch_be<uint32_t>(kVersionBytes, snapshot_crc(out));
  return out;
}

Result<ProducerStateManager> ProducerStateManager::decode_snapshot(ByteView bytes) {
  if (bytes.size() < kHeaderBytes) return corrupt(fmt::format("only {} bytes", bytes.size()));
  int16_t version = load_be<int16_t>(bytes.data());
  if (version != kProducerSnapshotVersion) return corrupt(fmt::format("version {}", version));
  uint32_t stored = load_be<uint32_t>(bytes.data() + kVersionBytes);
  uint32_t computed = snapshot_crc(bytes);
  if (stored != computed) {
    return corrupt(fmt::format("CRC {:08x} does not match content CRC {:08x}", stored, computed));
  }
  Reader r(bytes.subspan(kHeaderBytes));
  ProducerStateManager state(r.be<int64_t>());
  int32_t count = r.be<int32_t>();
  if (!r.ok()) return corrupt("truncated header");
  if (state.map_end_offset_ < 0 || count < 0) {
    return corrupt(fmt::format("map end offset {}, {} producers", state.map_end_offset_, count));
  }
  // The count is not trusted for allocation: a short input ends the loop at the first entry.
  for (int32_t i = 0; i < count; ++i) {
    Result<ProducerEntry> entry = decode_entry(r);
    if (!entry.ok()) return entry.status();
    int64_t id = entry->producer_id;
    if (!state.producers_.empty() && id <= state.producers_.rbegin()->first) {
      return corrupt(fmt::format("producer {} out of order", id));
    }
    state.producers_.emplace_hint(state.producers_.end(), id, std::move(entry).value());
  }
  if (!r.at_end()) return corrupt(fmt::format("{} bytes after the last producer", r.remaining()));
  return state;
}

std::string ProducerStateManager::snapshot_file_name(int64_t offset) {
  GREGOR_ASSERT(offset >= 0, "snapshot file name for offset {}", offset);
  return fmt::format("{:020d}{}", offset, kSnapshotSuffix);
}

std::optional<int64_t> ProducerStateManager::parse_snapshot_file_name(std::string_view name) {
  if (name.size() != kSnapshotOffsetDigits + kSnapshotSuffix.size() ||
      !name.ends_with(kSnapshotSuffix)) {
    return std::nullopt;
  }
  int64_t offset = 0;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (char c : name.substr(0, kSnapshotOffsetDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    int digit = c - '0';
    if (offset > (kMax - digit) / 10) return std::nullopt;  // 20 digits can exceed INT64_MAX
    offset = offset * 10 + digit;
  }
  return offset;
}

}  // namespace gregor::log
