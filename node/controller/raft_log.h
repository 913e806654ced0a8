// The in-memory view of the metadata log that the Raft state machine reasons about: the latest
// snapshot id and the entries after it. The durable copy belongs to the host, which mirrors every
// change the state machine reports in Ready; this copy is what Fetch answers are read from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "node/controller/raft_types.h"

namespace gregor::raft {

class RaftLog {
 public:
  RaftLog() = default;
  // From persisted state. Requires entries contiguous from snapshot.id.end_offset.
  explicit RaftLog(const PersistentState& state);

  // The first offset held as an entry (== the snapshot's end offset).
  int64_t start_offset() const { return snapshot_.id.end_offset; }
  // The offset the next appended entry takes.
  int64_t end_offset() const { return start_offset() + static_cast<int64_t>(entries_.size()); }
  // The epoch of the last entry, or of the snapshot when there is no entry after it.
  int32_t last_epoch() const {
    return entries_.empty() ? snapshot_.id.epoch : entries_.back().epoch;
  }
  const Snapshot& snapshot() const { return snapshot_; }
  const Entry& at(int64_t offset) const;
  // The epoch of the entry at offset; start_offset() - 1 answers the snapshot's epoch.
  int32_t epoch_at(int64_t offset) const;

  // KIP-279: the largest epoch e' <= epoch held by the log and the offset where e' ends (the
  // start of the next larger epoch, or end_offset()). nullopt when epoch is older than the
  // snapshot, so the log can no longer tell.
  std::optional<OffsetAndEpoch> end_offset_for_epoch(int32_t epoch) const;

  void append(Entry entry);
  // Drops entries at offsets >= end_offset. Requires end_offset >= start_offset().
  void truncate_to(int64_t end_offset);
  // Replaces the snapshot with a newer one at or below end_offset() and drops the entries it
  // covers (a local snapshot of committed state).
  void compact(Snapshot snapshot);
  // Replaces everything with a snapshot fetched from the leader.
  void install(Snapshot snapshot);
  // Up to entries_max entries from offset on. Requires start_offset() <= offset <= end_offset().
  std::vector<Entry> read(int64_t offset, size_t entries_max) const;

 private:
  Snapshot snapshot_;
  std::deque<Entry> entries_;
};

}  // namespace gregor::raft
