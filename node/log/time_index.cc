#include "node/log/time_index.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"

namespace gregor::log {

TimeIndex::TimeIndex(int64_t base_offset) : base_offset_(base_offset) {
  GREGOR_ASSERT(base_offset >= 0, "negative base offset {}", base_offset);
}

TimeIndex::Entry TimeIndex::entry(size_t i) const {
  GREGOR_ASSERT(i < entries_.size(), "entry {} of {}", i, entries_.size());
  return {entries_[i].timestamp, base_offset_ + entries_[i].relative_offset};
}

std::optional<TimeIndex::Entry> TimeIndex::last_entry() const {
  if (entries_.empty()) return std::nullopt;
  return entry(entries_.size() - 1);
}

std::optional<int64_t> TimeIndex::max_timestamp() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().timestamp;
}

bool TimeIndex::can_index(int64_t offset) const {
  return offset >= base_offset_ &&
         static_cast<uint64_t>(offset - base_offset_) <= std::numeric_limits<uint32_t>::max();
}

bool TimeIndex::append(int64_t timestamp, int64_t offset) {
  GREGOR_ASSERT(can_index(offset), "offset {} outside segment {}", offset, base_offset_);
  auto relative = static_cast<uint32_t>(offset - base_offset_);
  if (!entries_.empty()) {
    GREGOR_ASSERT(relative >= entries_.back().relative_offset,
                  "time index append at offset {} after {}: offsets must not decrease", offset,
                  base_offset_ + entries_.back().relative_offset);
    // Keeping only rising timestamps keeps the earliest offset for each timestamp, which is the
    // one lookup() must return, and keeps the index sorted by both fields.
    if (timestamp <= entries_.back().timestamp) return false;
  }
  entries_.push_back({timestamp, relative});
  return true;
}

std::optional<size_t> TimeIndex::floor_slot(int64_t target_timestamp) const {
  auto after = std::upper_bound(entries_.begin(), entries_.end(), target_timestamp,
                                [](int64_t t, const Stored& e) { return t < e.timestamp; });
  if (after == entries_.begin()) return std::nullopt;
  return static_cast<size_t>(after - entries_.begin()) - 1;
}

std::optional<int64_t> TimeIndex::lookup(int64_t target_timestamp) const {
  std::optional<size_t> slot = floor_slot(target_timestamp);
  if (!slot) return std::nullopt;
  return entry(*slot).offset;
}

TimeIndex::Entry TimeIndex::lookup_entry(int64_t target_timestamp) const {
  std::optional<size_t> slot = floor_slot(target_timestamp);
  if (!slot) return {kNoTimestamp, base_offset_};
  return entry(*slot);
}

void TimeIndex::truncate_to(int64_t offset) {
  index_format::truncate_entries(entries_, base_offset_, offset);
}

Bytes TimeIndex::encode() const {
  Bytes out;
  out.reserve(entries_.size() * kEntryBytes + kIndexTrailerBytes);
  Writer w(out);
  for (const Stored& e : entries_) {
    w.be<int64_t>(e.timestamp);
    w.be<uint32_t>(e.relative_offset);
  }
  return index_format::seal(std::move(out), kTimeIndexMagic);
}

Result<TimeIndex> TimeIndex::decode(int64_t base_offset, ByteView bytes,
                                    std::optional<int64_t> end_offset) {
  auto body = index_format::unseal(bytes, kTimeIndexMagic, kEntryBytes, "time index");
  if (!body.ok()) return body.status();
  TimeIndex index(base_offset);
  size_t n = body->size() / kEntryBytes;
  index.entries_.reserve(n);
  Reader r(*body);
  for (size_t i = 0; i < n; ++i) {
    int64_t timestamp = r.be<int64_t>();
    uint32_t relative = r.be<uint32_t>();
    // The CRC matched, so these would be our own bugs or a foreign file; still never assert.
    if (static_cast<int64_t>(relative) > std::numeric_limits<int64_t>::max() - base_offset) {
      return errorf(Errc::corrupt, "time index entry {}: offset overflows", i);
    }
    if (!index.entries_.empty()) {
      const Stored& last = index.entries_.back();
      if (timestamp <= last.timestamp) {
        return errorf(Errc::corrupt, "time index entry {}: timestamp {} not above {}", i, timestamp,
                      last.timestamp);
      }
      if (relative < last.relative_offset) {
        return errorf(Errc::corrupt, "time index entry {}: offset {} below {}", i,
                      base_offset + relative, base_offset + last.relative_offset);
      }
    }
    if (end_offset && base_offset + relative >= *end_offset) {
      return errorf(Errc::corrupt, "time index entry {}: offset {} at or past segment end {}", i,
                    base_offset + relative, *end_offset);
    }
    index.entries_.push_back({timestamp, relative});
  }
  return index;
}

}  // namespace gregor::log
