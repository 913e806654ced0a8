// TimeIndex: the sparse timestamp -> offset index of one log segment, as Kafka's TimeIndex, kept
// in memory. It serves ListOffsets by timestamp and time-based retention. The log writes and
// reads the `.timeindex` file itself; this class only provides the codec.
//
// What an entry means (Kafka's convention, which the log must follow when appending): (T, O)
// says "the largest record timestamp seen in this segment up to offset O is T, and O is the
// offset (of the batch) where that maximum was first reached". The log appends
// (max timestamp so far, offset of max timestamp so far) after each indexed batch; append()
// ignores a timestamp that is not above the last entry's, so timestamps in the index strictly
// increase and offsets never decrease, even when record timestamps go backwards.
//
// File format. The entries region is byte-identical to Kafka's: 12 bytes per entry, big-endian
// (timestamp i64, relative offset u32 = offset - base_offset). DEVIATION from Kafka, as for
// OffsetIndex (offset_index.h): an 8-byte trailer (kTimeIndexMagic, CRC32C) follows the entries,
// so damage is detected as Errc::corrupt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "node/log/offset_index.h"

namespace gregor::log {

class TimeIndex {
 public:
  static constexpr size_t kEntryBytes = 12;
  // Kafka's RecordBatch.NO_TIMESTAMP, returned by lookup_entry() when no entry qualifies.
  static constexpr int64_t kNoTimestamp = -1;

  struct Entry {
    int64_t timestamp;
    int64_t offset;
    bool operator==(const Entry&) const = default;
  };

  // base_offset: the segment's first offset; >= 0 (asserted).
  explicit TimeIndex(int64_t base_offset);

  int64_t base_offset() const { return base_offset_; }
  size_t entries() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Entry i (0 <= i < entries(), asserted), in order.
  Entry entry(size_t i) const;
  std::optional<Entry> last_entry() const;
  // The largest timestamp indexed, if any (the last entry's).
  std::optional<int64_t> max_timestamp() const;

  // True if `offset` can be indexed by this segment (see OffsetIndex::can_index).
  bool can_index(int64_t offset) const;
  // Adds (timestamp, offset) if timestamp is above the last entry's (or the index is empty), as
  // Kafka's maybeAppend; returns whether it did. Programming errors (asserted): !can_index(offset),
  // offset below the last entry's (the log appends in offset order).
  bool append(int64_t timestamp, int64_t offset);

  // Where ListOffsets(target) must start scanning: the offset of the entry with the largest
  // timestamp <= target; nullopt when there is none (every entry's timestamp is above target, or
  // the index is empty): scan from the segment's base offset. This is Kafka's TimeIndex.lookup,
  // which returns that entry or, when there is none, (NO_TIMESTAMP, base_offset).
  //
  // How ListOffsets(target) uses it: the answer is the first record whose timestamp >= target.
  // By the entry convention above, no batch before the one holding the returned offset has a
  // record with timestamp >= target, so the log translates that offset to a position with
  // OffsetIndex::lookup and scans batches forward from there for the first record with
  // timestamp >= target (continuing into later segments if this one has none). The returned
  // offset is a lower bound for the answer, where to start scanning, not the answer itself
  // (the first entry with timestamp >= target would be an upper bound: the wrong place to start).
  std::optional<int64_t> lookup(int64_t target_timestamp) const;
  // Kafka's TimeIndex.lookup, exactly: that entry, or {kNoTimestamp, base_offset}.
  Entry lookup_entry(int64_t target_timestamp) const;

  // Removes every entry with offset >= `offset`, as Kafka's truncateTo.
  void truncate_to(int64_t offset);
  void clear() { entries_.clear(); }

  // The file bytes: entries() * 12 bytes of entries, then the trailer.
  Bytes encode() const;
  // Parses encode()'s output. Errc::corrupt when the trailer is missing or wrong, the entries
  // region is not a multiple of 12 bytes, timestamps are not strictly increasing, offsets
  // decrease, or (when end_offset is given: the segment's next offset) an offset is >=
  // end_offset. Never asserts, whatever the bytes.
  static Result<TimeIndex> decode(int64_t base_offset, ByteView bytes,
                                  std::optional<int64_t> end_offset = std::nullopt);

 private:
  struct Stored {
    int64_t timestamp;
    uint32_t relative_offset;
  };

  // The slot of the entry with the largest timestamp <= target, if any.
  std::optional<size_t> floor_slot(int64_t target_timestamp) const;

  int64_t base_offset_;
  std::vector<Stored> entries_;
};

}  // namespace gregor::log
