// The entry <-> record batch codec shared by RaftStorage (disk) and raft_wire (Fetch); see the
// header for the layout. Everything decoded is checked here, so neither caller trusts bytes.
#include "node/controller/raft_entry_codec.h"

#include <algorithm>
#include <iterator>
#include <optional>

#include "base/assert.h"
#include "node/log/record_batch.h"

namespace gregor::raft {

namespace {

// Kafka's control record key: version int16 (0), type int16 (2 = LEADER_CHANGE).
constexpr uint8_t kLeaderChangeKey[] = {0, 0, 0, 2};

}  // namespace

Bytes encode_entry_batch(const Entry& entry, int64_t timestamp_ms) {
  log::BatchBuilder::Options o;
  o.base_offset = entry.offset;
  o.leader_epoch = entry.epoch;
  o.control = entry.kind == EntryKind::kLeaderChange;
  log::BatchBuilder builder(o);
  std::optional<ByteView> key;
  if (o.control) key = ByteView(kLeaderChangeKey);
  builder.add(timestamp_ms, key, ByteView(entry.payload));
  auto batch = builder.build();
  GREGOR_ASSERT(batch.ok(), "entry at {} does not fit a batch: {}", entry.offset, batch.status());
  return std::move(batch).value();
}

Result<Entry> decode_entry_batch(ByteView batch) {
  auto h = log::parse_batch_header(batch);
  if (!h.ok()) return h.status();
  if (h->size_bytes() != batch.size()) {
    return errorf(Errc::corrupt, "batch at {}: {} bytes framed in {}", h->base_offset,
                  h->size_bytes(), batch.size());
  }
  if (h->record_count != 1 || h->last_offset_delta != 0) {
    return errorf(Errc::corrupt, "batch at {}: {} records, not one entry", h->base_offset,
                  h->record_count);
  }
  auto records = log::decode_records(batch);
  if (!records.ok()) return records.status();
  if (records->size() != 1 || !(*records)[0].value) {
    return errorf(Errc::corrupt, "batch at {}: not one record with a value", h->base_offset);
  }
  log::Record& rec = (*records)[0];
  Entry e{h->base_offset, h->partition_leader_epoch, EntryKind::kData, std::move(*rec.value)};
  if (h->is_control()) {
    if (!rec.key || !std::equal(rec.key->begin(), rec.key->end(), std::begin(kLeaderChangeKey),
                                std::end(kLeaderChangeKey))) {
      return errorf(Errc::corrupt, "batch at {}: a control record other than LeaderChange",
                    h->base_offset);
    }
    e.kind = EntryKind::kLeaderChange;
  } else if (rec.key) {
    return errorf(Errc::corrupt, "batch at {}: a data entry with a key", h->base_offset);
  }
  if (e.epoch < 0) return errorf(Errc::corrupt, "batch at {}: no leader epoch", h->base_offset);
  return e;
}

Bytes encode_entry_batches(const std::vector<Entry>& entries, int64_t timestamp_ms) {
  Bytes out;
  for (const Entry& e : entries) {
    Bytes batch = encode_entry_batch(e, timestamp_ms);
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

Result<std::vector<Entry>> decode_entry_batches(ByteView bytes, int64_t first_offset) {
  std::vector<Entry> out;
  log::BatchIterator it(bytes);
  while (std::optional<ByteView> batch = it.next()) {
    auto e = decode_entry_batch(*batch);
    if (!e.ok()) return e.status();
    int64_t expected = out.empty() ? first_offset : out.back().offset + 1;
    if (e->offset != expected || (!out.empty() && e->epoch < out.back().epoch)) {
      return errorf(Errc::invalid_argument,
                    "entry {}@{} where offset {} was due (offsets contiguous, epochs "
                    "non-decreasing)",
                    e->offset, e->epoch, expected);
    }
    out.push_back(std::move(e).value());
  }
  if (!it.status().ok()) return it.status();
  if (it.consumed() != bytes.size()) {
    return errorf(Errc::corrupt, "{} bytes after the last whole batch",
                  bytes.size() - it.consumed());
  }
  return out;
}

}  // namespace gregor::raft
