#include "node/controller/raft_log.h"

#include <algorithm>

#include "base/assert.h"

namespace gregor::raft {

RaftLog::RaftLog(const PersistentState& state) : snapshot_(state.snapshot) {
  for (const Entry& e : state.entries) append(e);
}

const Entry& RaftLog::at(int64_t offset) const {
  GREGOR_ASSERT(offset >= start_offset() && offset < end_offset(), "offset {} outside [{}, {})",
                offset, start_offset(), end_offset());
  return entries_[static_cast<size_t>(offset - start_offset())];
}

int32_t RaftLog::epoch_at(int64_t offset) const {
  if (offset == start_offset() - 1) return snapshot_.id.epoch;
  return at(offset).epoch;
}

std::optional<OffsetAndEpoch> RaftLog::end_offset_for_epoch(int32_t epoch) const {
  if (epoch < snapshot_.id.epoch) return std::nullopt;
  // Epochs never decrease along the log, so the first entry of a larger epoch is a binary search.
  auto next = std::upper_bound(entries_.begin(), entries_.end(), epoch,
                               [](int32_t e, const Entry& entry) { return e < entry.epoch; });
  int64_t end = start_offset() + (next - entries_.begin());
  int32_t found = next == entries_.begin() ? snapshot_.id.epoch : std::prev(next)->epoch;
  return OffsetAndEpoch{end, found};
}

void RaftLog::append(Entry entry) {
  GREGOR_ASSERT(entry.offset == end_offset(), "append at {} but log ends at {}", entry.offset,
                end_offset());
  GREGOR_ASSERT(entry.epoch >= last_epoch(), "epoch {} after {}", entry.epoch, last_epoch());
  entries_.push_back(std::move(entry));
}

void RaftLog::truncate_to(int64_t end_offset) {
  GREGOR_ASSERT(end_offset >= start_offset(), "truncate to {} below log start {}", end_offset,
                start_offset());
  while (this->end_offset() > end_offset) entries_.pop_back();
}

void RaftLog::compact(Snapshot snapshot) {
  GREGOR_ASSERT(snapshot.id.end_offset > start_offset() && snapshot.id.end_offset <= end_offset(),
                "snapshot at {} outside ({}, {}]", snapshot.id.end_offset, start_offset(),
                end_offset());
  GREGOR_ASSERT(snapshot.id.epoch == epoch_at(snapshot.id.end_offset - 1), "snapshot epoch");
  while (start_offset() < snapshot.id.end_offset) {
    entries_.pop_front();
    snapshot_.id.end_offset++;
  }
  snapshot_ = std::move(snapshot);
}

void RaftLog::install(Snapshot snapshot) {
  entries_.clear();
  snapshot_ = std::move(snapshot);
}

std::vector<Entry> RaftLog::read(int64_t offset, size_t entries_max) const {
  GREGOR_ASSERT(offset >= start_offset() && offset <= end_offset(), "read at {}", offset);
  std::vector<Entry> out;
  for (int64_t o = offset; o < end_offset() && out.size() < entries_max; ++o) out.push_back(at(o));
  return out;
}

}  // namespace gregor::raft
